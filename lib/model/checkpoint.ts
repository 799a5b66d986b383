/**
 * Checkpoints: safetensors files (readable by Python's `safetensors`: an 8-byte
 * little-endian header length, a JSON header, then raw little-endian tensor
 * data) plus a JSON sidecar, written atomically.
 *
 * A checkpoint is a directory `<runDir>/checkpoints/step_0000200/` with
 * - `model.safetensors`: the weights, named as in the parameter tree
 *   (`tok`, `pos`, `blocks.0.wqkv`, ..., `head`), float32;
 * - `optim.safetensors`: Adam moments `m.<name>` and `v.<name>`;
 * - `state.json`: step, data position, RNG seeds, best validation loss,
 *   model config and any caller metadata;
 * - `checksums.json`: the sha256 of each of those files (and of its own list), checked by
 *   {@link loadCheckpoint}: a damaged file is an error naming it, and a resume falls back to the
 *   previous checkpoint (lib/train/loop.ts).
 * The directory is written under a temporary name (`<dir>.tmp-<pid>`, every file synced) and
 * renamed into place, so a crash never leaves a half-written checkpoint behind; a failed write
 * (full disk, permissions) removes the temporary directory and names the file. Leftovers of a
 * crashed writer are tidied by {@link cleanCheckpointLeftovers}.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import type { HostParams } from "./params.ts";
import { canonicalJson, sha256Hex } from "../util/hash.ts";
import { pidAlive } from "../util/lock.ts";
import { faultPoint } from "../util/fault.ts";
import { writeSynced } from "../util/fs.ts";

/** A tensor to store: shape and float32 / int32 data. */
export interface Tensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Encode tensors (and optional string metadata) as safetensors bytes. Names are sorted. */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new Error(
        `safetensors: tensor '${name}' has shape [${t.shape}] but ${t.data.length} values`,
      );
    }
    const dtype = t.data instanceof Float32Array ? "F32" : "I32";
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned.
  while ((8 + json.length) % 8 !== 0) json += " ";
  const hbytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hbytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!littleEndian) throw new Error("safetensors: big-endian hosts are not supported");
  for (const name of names) {
    const t = tensors[name];
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** Decode safetensors bytes (F32 and I32 tensors). `where` names the source in errors. */
export function decodeSafetensors(
  bytes: Uint8Array,
  where = "safetensors data",
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${where}: too short to be a safetensors file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (8 + hlen > bytes.length) throw new Error(`${where}: header length ${hlen} exceeds file size`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  const base = 8 + hlen;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = entry as Record<string, string>;
      continue;
    }
    const info = entry as Entry;
    const [a, b] = info.data_offsets;
    const raw = bytes.slice(base + a, base + b);
    let data: Float32Array | Int32Array;
    if (info.dtype === "F32") data = new Float32Array(raw.buffer);
    else if (info.dtype === "I32") data = new Int32Array(raw.buffer);
    else {throw new Error(
        `${where}: tensor '${name}' has unsupported dtype ${info.dtype} (F32/I32 only)`,
      );}
    tensors[name] = { shape: info.shape, data };
  }
  return { tensors, metadata };
}

/** Sidecar state of a checkpoint. */
export interface CheckpointState {
  /** Optimizer steps completed. */
  step: number;
  /** Data position: micro-batches consumed from the training stream. */
  dataPosition: number;
  /** Epoch of the next batch (as reported by the batch stream). */
  epoch: number;
  /** Seeds every random stream derives from (init, masks, shuffles). */
  rng: { seed: number; note: string };
  /** Best validation loss so far and its step (null before the first validation). */
  best: { loss: number; step: number } | null;
  /** Resolved model config. */
  modelConfig: unknown;
  /**
   * Architecture fingerprint of the weights (lib/model/params.ts `archFingerprint`); absent in
   * checkpoints written before it existed.
   */
  arch?: string;
  /** Anything else (config hash, wall time, ...). */
  extra?: Record<string, unknown>;
}

/** Everything a checkpoint holds. */
export interface Checkpoint {
  params: HostParams;
  /** Adam first and second moments (same names as params); absent for weights-only files. */
  m?: HostParams;
  v?: HostParams;
  state: CheckpointState;
}

function toTensors(p: HostParams, prefix = ""): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(p)) out[prefix + k] = t;
  return out;
}

/** Zero-padded checkpoint directory name of a step. */
export function checkpointName(step: number): string {
  return `step_${String(step).padStart(7, "0")}`;
}

/** File of a checkpoint directory that records the sha256 of the others. */
export const CHECKSUMS_FILE = "checksums.json";

/** The content of `checksums.json`: file name -> hex sha256, and the sha256 of that list. */
export interface Checksums {
  files: Record<string, string>;
  /** sha256 of the canonical JSON of `files`: a damaged checksums.json is told from a damaged file. */
  self: string;
}

/**
 * Write a checkpoint directory atomically at `dir` (replacing an existing one). On any error the
 * temporary directory is removed, a replaced checkpoint is put back, and the error names the file.
 */
export async function saveCheckpoint(dir: string, ck: Checkpoint): Promise<void> {
  const tmp = `${dir}.tmp-${Deno.pid}`;
  const files: [string, Uint8Array][] = [
    [
      "model.safetensors",
      encodeSafetensors(toTensors(ck.params), { format: "pt", step: String(ck.state.step) }),
    ],
  ];
  if (ck.m && ck.v) {
    files.push([
      "optim.safetensors",
      encodeSafetensors({ ...toTensors(ck.m, "m."), ...toTensors(ck.v, "v.") }),
    ]);
  }
  files.push(["state.json", new TextEncoder().encode(JSON.stringify(ck.state, null, 2) + "\n")]);
  const sums: Record<string, string> = {};
  for (const [name, bytes] of files) sums[name] = sha256Hex(bytes);
  const checksums: Checksums = { files: sums, self: sha256Hex(canonicalJson(sums)) };
  files.push([CHECKSUMS_FILE, new TextEncoder().encode(JSON.stringify(checksums, null, 2) + "\n")]);
  let current = tmp;
  try {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.mkdir(tmp, { recursive: true });
    for (const [name, bytes] of files) {
      current = `${tmp}/${name}`;
      await writeSynced(current, bytes, { createNew: true });
      if (name === "model.safetensors") faultPoint("checkpoint-write");
    }
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new Error(`checkpoint ${dir}: writing ${current} failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
  // Replace atomically: move an old directory aside first (rename over a non-empty dir fails).
  const old = `${dir}.old-${Deno.pid}`;
  let moved = false;
  try {
    await Deno.rename(dir, old);
    moved = true;
    faultPoint("checkpoint-replace");
  } catch { /* no previous checkpoint of this name */ }
  try {
    await Deno.rename(tmp, dir);
  } catch (e) {
    if (moved) await Deno.rename(old, dir).catch(() => {});
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new Error(
      `checkpoint ${dir}: renaming ${tmp} into place failed: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  if (moved) await Deno.remove(old, { recursive: true });
}

/**
 * Tidies a run directory after a crashed writer: temporary checkpoint directories
 * (`checkpoints/<name>.tmp-<pid>`) and atomic-write temporaries of the run's files
 * (`<runDir>/<file>.tmp-<pid>-<random>`, lib/util/fs.ts) are removed, and a checkpoint moved aside
 * for replacement (`checkpoints/<name>.old-<pid>`) is put back when its replacement never arrived
 * (removed otherwise). Only leftovers of processes of this host that are gone are touched; call it
 * holding the run's lock. Returns what it did, one line per entry.
 */
export async function cleanCheckpointLeftovers(runDir: string): Promise<string[]> {
  const root = `${runDir}/checkpoints`;
  const done: string[] = [];
  try {
    for await (const e of Deno.readDir(runDir)) {
      const m = /\.tmp-(\d+)-[0-9a-f]+$/.exec(e.name);
      if (!e.isFile || !m || (Number(m[1]) !== Deno.pid && pidAlive(Number(m[1])))) continue;
      await Deno.remove(`${runDir}/${e.name}`);
      done.push(`removed ${runDir}/${e.name} (left by a crashed writer)`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(root));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return done;
    throw e;
  }
  const names = new Set(entries.map((e) => e.name));
  for (const e of entries) {
    const m = /^(.+)\.(tmp|old)-(\d+)$/.exec(e.name);
    if (!m || (Number(m[3]) !== Deno.pid && pidAlive(Number(m[3])))) continue;
    const path = `${root}/${e.name}`;
    if (m[2] === "old" && !names.has(m[1])) {
      await Deno.rename(path, `${root}/${m[1]}`);
      names.add(m[1]);
      done.push(`restored ${root}/${m[1]} from ${e.name} (its replacement was never written)`);
    } else {
      await Deno.remove(path, { recursive: true });
      done.push(`removed ${path} (left by a crashed writer)`);
    }
  }
  return done;
}
function toHost(tensors: Record<string, Tensor>, prefix: string): HostParams {
  const out: HostParams = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (!k.startsWith(prefix)) continue;
    if (!(t.data instanceof Float32Array)) throw new Error(`tensor '${k}' is not float32`);
    out[k.slice(prefix.length)] = { shape: t.shape, data: t.data };
  }
  return out;
}

/** A checkpoint that cannot be used: a damaged or missing file, or non-finite weights. */
export class CheckpointError extends Error {
  constructor(
    /** The checkpoint directory. */
    readonly dir: string,
    /** The file at fault (a path). */
    readonly file: string,
    /** What is wrong with it. */
    readonly reason: string,
    /** What to do (appended to the message). */
    hint: string,
  ) {
    super(`checkpoint ${dir}: ${file} ${reason}; ${hint}`);
    this.name = "CheckpointError";
  }
}

/**
 * The command that retrains the run of a checkpoint directory, for error messages: an ablation
 * run (`config.json` and `env.json` beside `checkpoints/`) gives `deno task ablate` with the
 * arguments recorded in env.json; a `deno task train` run (`config.yaml`) gives
 * `deno task train --config <run>/config.yaml --resume --run-dir <run>`.
 */
export function retrainCommand(checkpointDir: string): string {
  const runDir = dirname(dirname(checkpointDir));
  try {
    const env = JSON.parse(Deno.readTextFileSync(`${runDir}/env.json`));
    Deno.statSync(`${runDir}/config.json`);
    const argv: string[] = (env.resumed?.at(-1)?.argv ?? env.argv ?? []).filter((a: string) =>
      a !== "--force"
    );
    if (argv.length) return `deno task ablate ${argv.map(shellWord).join(" ")}`;
  } catch { /* not an ablation run */ }
  try {
    Deno.statSync(`${runDir}/config.yaml`);
    let dataDir: string | undefined;
    try {
      const argv: string[] = JSON.parse(Deno.readTextFileSync(`${runDir}/env.json`)).argv ?? [];
      const i = argv.indexOf("--data-dir");
      dataDir = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith("--data-dir="))?.slice(11);
    } catch { /* no record: the default data root */ }
    return `deno task train --config ${shellWord(`${runDir}/config.yaml`)} --resume --run-dir ${
      shellWord(runDir)
    }${dataDir ? ` --data-dir ${shellWord(dataDir)}` : ""}`;
  } catch {
    return `the command that trained ${runDir}, with --resume`;
  }
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

function retrainHint(
  dir: string,
  cause = "the file is damaged (a disk error, or a writer other than this workspace)",
): string {
  const name = basename(dir);
  const resumeNote = name === "best"
    ? "the best checkpoint is rewritten at the run's next improvement"
    : "a resume falls back to the previous checkpoint";
  return `${cause}; ${resumeNote}: retrain with \`${retrainCommand(dir)}\``;
}

/** The first non-finite value of a parameter tree, or null when every value is finite. */
export function firstNonFinite(
  p: HostParams,
): { name: string; index: number; value: number } | null {
  for (const name of Object.keys(p).sort()) {
    const d = p[name].data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) return { name, index: i, value: d[i] };
    }
  }
  return null;
}

/**
 * Checks a checkpoint's files against its `checksums.json` without decoding them. Returns the
 * problems (file path and what is wrong), none for an intact checkpoint; a checkpoint written
 * before checksums existed (no checksums.json) reports `unverified: true` and no problems.
 */
export async function verifyCheckpoint(
  dir: string,
): Promise<{ problems: { file: string; reason: string }[]; unverified: boolean }> {
  const problems: { file: string; reason: string }[] = [];
  const sums = await readChecksums(dir);
  if (sums === null) return { problems, unverified: true };
  if ("problem" in sums) return { problems: [sums.problem], unverified: false };
  for (const [name, want] of Object.entries(sums.files)) {
    const file = `${dir}/${name}`;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      problems.push({ file, reason: `cannot be read (${(e as Error).message})` });
      continue;
    }
    const got = sha256Hex(bytes);
    if (got !== want) problems.push({ file, reason: mismatch(got, want) });
  }
  return { problems, unverified: false };
}

function mismatch(got: string, want: string): string {
  return `fails its checksum (sha256 ${got.slice(0, 12)}..., ${CHECKSUMS_FILE} records ${
    want.slice(0, 12)
  }...)`;
}

async function readChecksums(
  dir: string,
): Promise<Checksums | { problem: { file: string; reason: string } } | null> {
  const file = `${dir}/${CHECKSUMS_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    return { problem: { file, reason: `cannot be read (${(e as Error).message})` } };
  }
  try {
    const c = JSON.parse(text) as Checksums;
    if (
      c && typeof c.files === "object" && c.files !== null &&
      sha256Hex(canonicalJson(c.files)) === c.self
    ) return c;
  } catch { /* damaged */ }
  return { problem: { file, reason: "is damaged (its own checksum does not match)" } };
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Check the files against checksums.json and the weights for NaN/Inf (default true). */
  verify?: boolean;
  /** Told when the checkpoint has no checksums.json (written before checksums existed). */
  onUnverified?: (dir: string) => void;
}

/**
 * Read a checkpoint directory written by {@link saveCheckpoint}, checking every file against
 * its recorded sha256 and the weights for non-finite values. A damaged, missing or non-finite
 * file is a {@link CheckpointError} naming the file and the command that retrains the run.
 */
export async function loadCheckpoint(
  dir: string,
  opts: LoadCheckpointOptions = {},
): Promise<Checkpoint> {
  const verify = opts.verify ?? true;
  const sums = verify ? await readChecksums(dir) : null;
  if (sums && "problem" in sums) {
    throw new CheckpointError(dir, sums.problem.file, sums.problem.reason, retrainHint(dir));
  }
  if (verify && sums === null) opts.onUnverified?.(dir);
  const read = async (name: string, optional = false): Promise<Uint8Array | null> => {
    const file = `${dir}/${name}`;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      if (optional && e instanceof Deno.errors.NotFound && !sums?.files[name]) return null;
      throw new CheckpointError(
        dir,
        file,
        `cannot be read (${(e as Error).message})`,
        retrainHint(dir),
      );
    }
    const want = sums?.files[name];
    if (sums && want === undefined) {
      throw new CheckpointError(dir, file, `is not listed in ${CHECKSUMS_FILE}`, retrainHint(dir));
    }
    if (want !== undefined) {
      const got = sha256Hex(bytes);
      if (got !== want) throw new CheckpointError(dir, file, mismatch(got, want), retrainHint(dir));
    }
    return bytes;
  };
  const modelPath = `${dir}/model.safetensors`;
  const params = toHost(
    decodeSafetensors((await read("model.safetensors"))!, modelPath).tensors,
    "",
  );
  const state = JSON.parse(
    new TextDecoder().decode((await read("state.json"))!),
  ) as CheckpointState;
  let m: HostParams | undefined, v: HostParams | undefined;
  const ob = await read("optim.safetensors", true);
  if (ob) {
    const t = decodeSafetensors(ob, `${dir}/optim.safetensors`).tensors;
    m = toHost(t, "m.");
    v = toHost(t, "v.");
  }
  if (verify) {
    for (
      const [file, tree] of [["model.safetensors", params], ["optim.safetensors", m], [
        "optim.safetensors",
        v,
      ]] as const
    ) {
      const bad = tree ? firstNonFinite(tree) : null;
      if (bad) {
        throw new CheckpointError(
          dir,
          `${dir}/${file}`,
          `holds a non-finite value (${bad.value}) in tensor '${
            file === "optim.safetensors" ? (tree === m ? "m." : "v.") : ""
          }${bad.name}' at index ${bad.index}`,
          retrainHint(dir, "training had diverged when it was written"),
        );
      }
    }
  }
  return { params, m, v, state };
}

/** Checkpoint directories `step_*` under `<runDir>/checkpoints`, oldest first. */
export async function listCheckpoints(runDir: string): Promise<{ step: number; dir: string }[]> {
  const root = `${runDir}/checkpoints`;
  const out: { step: number; dir: string }[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      const m = /^step_(\d+)$/.exec(e.name);
      if (e.isDirectory && m) out.push({ step: Number(m[1]), dir: `${root}/${e.name}` });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}

/** Delete all but the newest `keep` step checkpoints (the `best` directory is never touched). */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const all = await listCheckpoints(runDir);
  for (const c of all.slice(0, Math.max(0, all.length - Math.max(1, keep)))) {
    await Deno.remove(c.dir, { recursive: true });
  }
}
