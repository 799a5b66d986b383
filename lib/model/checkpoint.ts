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
 *   model config and any caller metadata.
 * The directory is written under a temporary name and renamed into place, so a
 * crash never leaves a half-written checkpoint behind.
 *
 * @module
 */

import type { HostParams } from "./params.ts";

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

/** Write a checkpoint directory atomically at `dir` (replacing an existing one). */
export async function saveCheckpoint(dir: string, ck: Checkpoint): Promise<void> {
  const tmp = `${dir}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  await Deno.writeFile(
    `${tmp}/model.safetensors`,
    encodeSafetensors(toTensors(ck.params), { format: "pt", step: String(ck.state.step) }),
  );
  if (ck.m && ck.v) {
    await Deno.writeFile(
      `${tmp}/optim.safetensors`,
      encodeSafetensors({ ...toTensors(ck.m, "m."), ...toTensors(ck.v, "v.") }),
    );
  }
  await Deno.writeTextFile(`${tmp}/state.json`, JSON.stringify(ck.state, null, 2) + "\n");
  // Replace atomically: move an old directory aside first (rename over a non-empty dir fails).
  const old = `${dir}.old-${Deno.pid}`;
  let moved = false;
  try {
    await Deno.rename(dir, old);
    moved = true;
  } catch { /* no previous checkpoint of this name */ }
  await Deno.rename(tmp, dir);
  if (moved) await Deno.remove(old, { recursive: true });
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

/** Read a checkpoint directory written by {@link saveCheckpoint}. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const modelPath = `${dir}/model.safetensors`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(modelPath);
  } catch (e) {
    throw new Error(`checkpoint ${dir}: cannot read ${modelPath} (${(e as Error).message})`);
  }
  const params = toHost(decodeSafetensors(bytes, modelPath).tensors, "");
  const state = JSON.parse(await Deno.readTextFile(`${dir}/state.json`)) as CheckpointState;
  let m: HostParams | undefined, v: HostParams | undefined;
  try {
    const ob = await Deno.readFile(`${dir}/optim.safetensors`);
    const t = decodeSafetensors(ob, `${dir}/optim.safetensors`).tensors;
    m = toHost(t, "m.");
    v = toHost(t, "v.");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
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
