"""Read back a W&B offline run: the history rows and the summary of its `.wandb` file.

usage: python3 tools/wandb/read_offline.py OFFLINE_RUN_DIR

Prints {"history": [{key: value, ...}], "summary": {...}, "config": {...}} as JSON. Used by
tests/export_wandb_test.ts to check that an export holds every scalar of metrics.jsonl.

wandb 0.30 reads `.wandb` files only in its Go service (wandb-core); its Python package no longer
has a scanner. So this file walks the documented framing itself (a LevelDB-style log: a 7-byte
header ":W&B", 0xBEE1, version 0; 32 KiB blocks of records, each `uint32 crc32, uint16 length,
uint8 type` with FULL/FIRST/MIDDLE/LAST chunks) and decodes every record with wandb's own
protobuf schema (`wandb.proto.wandb_internal_pb2.Record`), which needs an importable wandb.
"""

import glob
import json
import os
import struct
import sys
import zlib

from wandb.proto import wandb_internal_pb2

BLOCK = 32768
HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
TYPE_CRC = {t: zlib.crc32(bytes([t])) & 0xFFFFFFFF for t in (FULL, FIRST, MIDDLE, LAST)}


def records(path):
    """Yield the payload of every record of a .wandb file (chunks joined, checksums checked)."""
    with open(path, "rb") as f:
        data = f.read()
    ident, magic, version = struct.unpack_from("<4sHB", data, 0)
    if ident != b":W&B" or magic != 0xBEE1 or version != 0:
        raise ValueError(f"{path}: not a W&B log file (header {ident!r} {magic:#x} v{version})")
    pos, parts = HEADER, []
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:  # the block's zero trailer
            pos += left
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 0 and length == 0:  # zero padding to the block end
            pos += left
            continue
        chunk = data[pos + HEADER : pos + HEADER + length]
        if len(chunk) < length:
            break  # a torn last record
        if zlib.crc32(chunk, TYPE_CRC[kind]) & 0xFFFFFFFF != crc:
            raise ValueError(f"{path}: bad checksum at byte {pos}")
        pos += HEADER + length
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            parts = [chunk]
        elif kind == MIDDLE:
            parts.append(chunk)
        elif kind == LAST:
            parts.append(chunk)
            yield b"".join(parts)
            parts = []


def item_key(item):
    return item.key if item.key else "/".join(item.nested_key)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    files = glob.glob(os.path.join(argv[1], "*.wandb"))
    if len(files) != 1:
        print(f"{argv[1]}: expected one .wandb file, found {len(files)}", file=sys.stderr)
        return 1
    history, summary, config = [], {}, {}
    for payload in records(files[0]):
        rec = wandb_internal_pb2.Record()
        rec.ParseFromString(payload)
        which = rec.WhichOneof("record_type")
        if which == "history":
            history.append({item_key(i): json.loads(i.value_json) for i in rec.history.item})
        elif which == "summary":
            for i in rec.summary.update:
                summary[item_key(i)] = json.loads(i.value_json)
        elif which == "config":
            for i in rec.config.update:
                config[item_key(i)] = json.loads(i.value_json)
    print(json.dumps({"history": history, "summary": summary, "config": config}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
