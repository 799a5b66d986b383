/**
 * On-disk trajectory datasets: `.npy` shards, `missions.jsonl`, per-shard done
 * markers and a `manifest.json`, with checksums verified on every load.
 *
 * Layout of `data/<dataset>/`:
 *
 * ```
 * manifest.json                      resolved data config, env ids, counts, versions, every shard's checksums
 * <split>/shard-00000/               split = train | val | test; shards of up to `shard_episodes` episodes
 *   images.npy      uint8   [F, 7, 7, 3]  egocentric view (object, colour, state), F = frames in the shard
 *   directions.npy  uint8   [F]           agent direction 0..3
 *   actions.npy     uint8   [F]           action taken after seeing the frame; 7 (ACTION_NONE) on an episode's last frame
 *   rewards.npy     float64 [F]           reward received for that action; 0 on the last frame
 *   terminated.npy  bool    [F]           `terminated` returned by that step; false on the last frame
 *   truncated.npy   bool    [F]           `truncated` returned by that step (or the data.max_steps cap); false on the last frame
 *   episode_offsets.npy int64 [E + 1]     frames of episode e are [offsets[e], offsets[e+1]) (shard-local)
 *   env_index.npy   int32   [E]           index into manifest `env_ids`
 *   seeds.npy       int64   [E]           env seed of the episode (`env.reset({seed})`)
 *   episode_index.npy int64 [E]           position of the episode in its split's plan (seed order)
 *   lengths.npy     int32   [E]           steps N (the episode has N + 1 frames)
 *   returns.npy     float64 [E]           sum of rewards
 *   success.npy     bool    [E]           terminated with a positive reward
 *   missions.jsonl                        one JSON object per episode: {"episode", "env_id", "seed", "mission"}
 *   done.json                             written last: this shard's record (checksums), marks it complete
 * ```
 *
 * Every file is written atomically (temp file + rename); a shard counts as
 * complete only when its `done.json` exists and every checksum in it matches,
 * so an interrupted collection resumes shard by shard and never keeps a
 * half-written shard. Python: `np.load(".../images.npy")` reads every array.
 *
 * @module
 */

import {
  decodeNpy,
  encodeNpy,
  npyArray,
  type NpyDtype,
  npyItemSize,
  parseNpyHeader,
  shapeSize,
} from "./npy.ts";
import { isTempFileName, writeFileAtomic } from "../util/fs.ts";
import { parseJsonl } from "../util/jsonl.ts";
import { sha256Hex } from "../util/hash.ts";
import { type SplitName, SPLITS } from "./split.ts";
import { checkEpisodes, concatEpisodes, type Episodes, selectEpisodes } from "./episodes.ts";
import {
  type FileRecord,
  type Manifest,
  readManifest,
  type ShardRecord,
  type SkippedEpisode,
} from "./manifest.ts";

/**
 * A loaded split: {@link Episodes} plus what they mean. Assignable to the
 * tokenizer's `EpisodeData` (lib/data/tokenize.ts).
 */
export interface DatasetSplit extends Episodes {
  /** Dataset name (directory name). */
  dataset: string;
  /** The split loaded. */
  split: SplitName;
  /** Env id of each `envIndex` value. */
  envIds: string[];
  /** Number of episodes E. */
  numEpisodes: number;
  /** Number of frames F. */
  numFrames: number;
}

/** Stored `.npy` files: file name, field of {@link Episodes}, dtype, per-frame or per-episode. */
const NPY_FIELDS: {
  file: string;
  field: keyof Omit<Episodes, "missions">;
  dtype: NpyDtype;
  per: "frame" | "episode" | "offsets";
}[] = [
  { file: "images.npy", field: "images", dtype: "uint8", per: "frame" },
  { file: "directions.npy", field: "directions", dtype: "uint8", per: "frame" },
  { file: "actions.npy", field: "actions", dtype: "uint8", per: "frame" },
  { file: "rewards.npy", field: "rewards", dtype: "float64", per: "frame" },
  { file: "terminated.npy", field: "terminated", dtype: "bool", per: "frame" },
  { file: "truncated.npy", field: "truncated", dtype: "bool", per: "frame" },
  { file: "episode_offsets.npy", field: "episodeOffsets", dtype: "int64", per: "offsets" },
  { file: "env_index.npy", field: "envIndex", dtype: "int32", per: "episode" },
  { file: "seeds.npy", field: "seeds", dtype: "int64", per: "episode" },
  { file: "episode_index.npy", field: "episodeIndex", dtype: "int64", per: "episode" },
  { file: "lengths.npy", field: "lengths", dtype: "int32", per: "episode" },
  { file: "returns.npy", field: "returns", dtype: "float64", per: "episode" },
  { file: "success.npy", field: "success", dtype: "bool", per: "episode" },
];
const MISSIONS_FILE = "missions.jsonl";
const DONE_FILE = "done.json";
/** File names of a shard, in write order (done.json comes after all of these). */
export const SHARD_FILES: string[] = [...NPY_FIELDS.map((f) => f.file), MISSIONS_FILE];

/** Relative directory of a shard: `train/shard-00003`. */
export function shardPath(split: SplitName, index: number): string {
  return `${split}/shard-${String(index).padStart(5, "0")}`;
}

/** Convert an {@link Episodes} field to the typed array of its stored dtype. */
function toStored(dtype: NpyDtype, a: ArrayLike<number>) {
  switch (dtype) {
    case "int64": {
      const out = new BigInt64Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]);
      return out;
    }
    case "int32":
      return a instanceof Int32Array ? a : Int32Array.from(a);
    case "float64":
      return a instanceof Float64Array ? a : Float64Array.from(a);
    default:
      return a instanceof Uint8Array ? a : Uint8Array.from(a);
  }
}

/** Shape of a stored file given frames F and episodes E. */
function storedShape(file: (typeof NPY_FIELDS)[number], F: number, E: number): number[] {
  if (file.per === "frame") return file.field === "images" ? [F, 7, 7, 3] : [F];
  return file.per === "offsets" ? [E + 1] : [E];
}

/** Remove leftover temporary files (`*.tmp-*`) of interrupted writes in a directory. */
async function removeTempFiles(dir: string): Promise<void> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && isTempFileName(e.name)) {
        await Deno.remove(`${dir}/${e.name}`).catch(() => {});
      }
    }
  } catch { /* no dir */ }
}

/**
 * Write one shard: every array atomically, then `done.json` (the completion
 * marker) last. Returns the shard record (also stored in `done.json`).
 */
export async function writeShard(
  datasetDir: string,
  meta: {
    split: SplitName;
    index: number;
    configHash: string;
    planRange: [number, number];
    skipped: SkippedEpisode[];
    envIds: string[];
    botRestarts?: number;
  },
  ep: Episodes,
): Promise<ShardRecord> {
  const rel = shardPath(meta.split, meta.index);
  const problems = checkEpisodes(ep, rel, meta.envIds.length);
  if (problems.length > 0) {
    throw new Error(`refusing to write an inconsistent shard:\n  ${problems.join("\n  ")}`);
  }
  const dir = `${datasetDir}/${rel}`;
  await Deno.mkdir(dir, { recursive: true });
  await removeTempFiles(dir);
  await Deno.remove(`${dir}/${DONE_FILE}`).catch(() => {});
  const E = ep.envIndex.length;
  const F = ep.episodeOffsets[E];
  const files: Record<string, FileRecord> = {};
  for (const f of NPY_FIELDS) {
    const shape = storedShape(f, F, E);
    const arr = npyArray(f.dtype, shape, toStored(f.dtype, ep[f.field]) as never);
    const bytes = encodeNpy(arr);
    await writeFileAtomic(`${dir}/${f.file}`, bytes);
    files[f.file] = { sha256: sha256Hex(bytes), bytes: bytes.length, dtype: f.dtype, shape };
  }
  let text = "";
  for (let e = 0; e < E; e++) {
    text += JSON.stringify({
      episode: ep.episodeIndex[e],
      env_id: meta.envIds[ep.envIndex[e]],
      seed: ep.seeds[e],
      mission: ep.missions[e],
    }) + "\n";
  }
  const mbytes = new TextEncoder().encode(text);
  await writeFileAtomic(`${dir}/${MISSIONS_FILE}`, mbytes);
  files[MISSIONS_FILE] = { sha256: sha256Hex(mbytes), bytes: mbytes.length, lines: E };
  const record: ShardRecord = {
    split: meta.split,
    index: meta.index,
    path: rel,
    config_hash: meta.configHash,
    plan_range: meta.planRange,
    episodes: E,
    frames: F,
    skipped: meta.skipped,
    bot_restarts: meta.botRestarts ?? 0,
    files,
  };
  await writeFileAtomic(
    `${dir}/${DONE_FILE}`,
    new TextEncoder().encode(JSON.stringify(record, null, 1) + "\n"),
  );
  return record;
}

/** Read a file, naming it (and the dataset) in the error when it is missing or unreadable. */
async function readFileNamed(path: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${what}: file is missing`);
    throw new Error(`${what}: cannot read: ${(e as Error).message}`);
  }
}

/**
 * Check one stored file against its record: present, size, sha256, and for
 * `.npy` a valid header with the recorded dtype and shape. Returns the bytes
 * when fine, or a problem string.
 */
async function checkFile(
  datasetDir: string,
  shard: ShardRecord,
  name: string,
): Promise<{ bytes?: Uint8Array; problem?: string }> {
  const rec = shard.files[name];
  const label = `${shard.path}/${name}`;
  if (!rec) return { problem: `${label}: not listed in the shard record` };
  let bytes: Uint8Array;
  try {
    bytes = await readFileNamed(`${datasetDir}/${label}`, label);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  if (bytes.length !== rec.bytes) {
    return {
      problem: `${label}: ${
        bytes.length < rec.bytes ? "truncated" : "wrong size"
      }: ${bytes.length} bytes, expected ${rec.bytes}`,
    };
  }
  const sum = sha256Hex(bytes);
  if (sum !== rec.sha256) {
    return {
      problem: `${label}: checksum mismatch (corrupted): sha256 ${sum.slice(0, 12)}…, expected ${
        rec.sha256.slice(0, 12)
      }…`,
    };
  }
  if (rec.dtype) {
    try {
      const h = parseNpyHeader(bytes, label);
      if (h.dtype !== rec.dtype || h.shape.join(",") !== rec.shape!.join(",")) {
        return {
          problem:
            `${label}: header says ${h.dtype} [${h.shape}], manifest says ${rec.dtype} [${rec.shape}]`,
        };
      }
      const need = h.dataOffset + shapeSize(h.shape) * npyItemSize(h.dtype);
      if (need !== bytes.length) {
        return {
          problem: `${label}: data size ${bytes.length - h.dataOffset} does not match shape`,
        };
      }
    } catch (e) {
      return { problem: (e as Error).message };
    }
  }
  return { bytes };
}

/**
 * Verify a shard's files against its record. Returns the problems found, each
 * naming the file (empty = the shard is intact).
 */
export async function verifyShard(datasetDir: string, shard: ShardRecord): Promise<string[]> {
  const problems: string[] = [];
  for (const name of SHARD_FILES) {
    const r = await checkFile(datasetDir, shard, name);
    if (r.problem) problems.push(r.problem);
  }
  return problems;
}

/**
 * The record of a shard if it is complete: its `done.json` exists, belongs to
 * the dataset with `configHash`, and every file matches its checksum.
 * Otherwise null (the shard must be (re)collected).
 */
export async function completeShard(
  datasetDir: string,
  split: SplitName,
  index: number,
  hash: string,
): Promise<ShardRecord | null> {
  const rel = shardPath(split, index);
  let rec: ShardRecord;
  try {
    rec = JSON.parse(await Deno.readTextFile(`${datasetDir}/${rel}/${DONE_FILE}`));
  } catch {
    return null;
  }
  if (rec.config_hash !== hash || rec.path !== rel) return null;
  return (await verifyShard(datasetDir, rec)).length === 0 ? rec : null;
}

/** Options of {@link loadDataset}. */
export interface LoadOptions {
  /** Verify sha256 of every file (default true). */
  verify?: boolean;
  /** Keep only episodes of these env ids (default: all). */
  envs?: string[];
}

/** Decode a checked `.npy` file into the in-memory field type. */
function fromStored(bytes: Uint8Array, label: string) {
  const a = decodeNpy(bytes, label);
  if (a.dtype === "int64") {
    const src = a.data as BigInt64Array;
    const out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (v < 0n || v > 0x7fffffffn) {
        throw new Error(`${label}: value ${v} at ${i} outside 0..2^31-1`);
      }
      out[i] = Number(v);
    }
    return out;
  }
  return a.data;
}

/** Why a dataset whose manifest is not `complete` cannot be read, and what to do. */
function incomplete(status: string): string {
  return `collection is not complete (status ${status}); rerun the same deno task collect to resume`;
}

/**
 * One file of a shard: checked against its record (size, sha256, npy header) when `verify`, else
 * read as it is; the error names the file and what to do.
 */
async function readShardFile(
  datasetDir: string,
  shard: ShardRecord,
  name: string,
  verify: boolean,
): Promise<Uint8Array> {
  const label = `${datasetDir}/${shard.path}/${name}`;
  if (!verify) return await readFileNamed(label, label);
  const r = await checkFile(datasetDir, shard, name);
  if (r.problem) {
    throw new Error(
      `dataset ${datasetDir}: ${r.problem}; run deno task data verify, then recollect`,
    );
  }
  return r.bytes!;
}

/**
 * Decodes one shard into episodes, checking every field's dtype and shape and the episodes'
 * consistency; throws naming the file. The one shard reader of {@link loadDataset} and
 * {@link verifyDataset}.
 */
async function loadShard(
  datasetDir: string,
  shard: ShardRecord,
  numEnvs: number,
  verify: boolean,
): Promise<Episodes> {
  const fields: Partial<Record<string, unknown>> = {};
  for (const f of NPY_FIELDS) {
    const label = `${datasetDir}/${shard.path}/${f.file}`;
    const bytes = await readShardFile(datasetDir, shard, f.file, verify);
    const h = parseNpyHeader(bytes, label);
    const want = storedShape(f, shard.frames, shard.episodes);
    if (h.dtype !== f.dtype || h.shape.join(",") !== want.join(",")) {
      throw new Error(`${label}: ${h.dtype} [${h.shape}], expected ${f.dtype} [${want}]`);
    }
    fields[f.field] = fromStored(bytes, label);
  }
  const mbytes = await readShardFile(datasetDir, shard, MISSIONS_FILE, verify);
  fields.missions = parseJsonl<{ mission: string }>(
    new TextDecoder().decode(mbytes),
    `${datasetDir}/${shard.path}/${MISSIONS_FILE}`,
  ).map((r) => r.mission);
  const ep = fields as unknown as Episodes;
  const problems = checkEpisodes(ep, `${datasetDir}/${shard.path}`, numEnvs);
  if (problems.length > 0) throw new Error(`inconsistent shard:\n  ${problems.join("\n  ")}`);
  return ep;
}

/**
 * Load one split of a dataset into memory, checking every shard's checksums,
 * shapes and consistency. A missing, truncated or corrupted shard file is an
 * error naming that file and what to do; never returns garbage.
 *
 * @param datasetDir e.g. `data/gotoredball`
 * @param split train | val | test
 */
export async function loadDataset(
  datasetDir: string,
  split: SplitName,
  opts: LoadOptions = {},
): Promise<DatasetSplit> {
  if (!SPLITS.includes(split)) {
    throw new Error(`unknown split ${JSON.stringify(split)}; use ${SPLITS.join(", ")}`);
  }
  const m = await readManifest(datasetDir);
  if (m.status !== "complete") {
    throw new Error(`${datasetDir}: ${incomplete(m.status)}`);
  }
  const sum = m.splits[split];
  if (!sum || sum.shards.length === 0) {
    throw new Error(`${datasetDir}: manifest has no ${split} split`);
  }
  const verify = opts.verify ?? true;
  const parts: Episodes[] = [];
  for (const shard of sum.shards) {
    parts.push(await loadShard(datasetDir, shard, m.env_ids.length, verify));
  }
  let all = concatEpisodes(parts);
  if (opts.envs) {
    const keep = opts.envs.map((id) => {
      const i = m.env_ids.indexOf(id);
      if (i < 0) {
        throw new Error(
          `env id ${id} is not in dataset ${datasetDir} (env ids: ${m.env_ids.join(", ")})`,
        );
      }
      return i;
    });
    all = selectEpisodes(all, (e) => keep.includes(all.envIndex[e]));
  }
  return {
    ...all,
    dataset: m.dataset,
    split,
    envIds: m.env_ids,
    numEpisodes: all.envIndex.length,
    numFrames: all.episodeOffsets[all.envIndex.length],
  };
}

/** Result of {@link verifyDataset}. */
export interface VerifyReport {
  /** Dataset directory. */
  dir: string;
  /** True when the manifest is complete and every shard is intact. */
  ok: boolean;
  /** Shards checked. */
  shardsChecked: number;
  /** Files checked. */
  filesChecked: number;
  /** Every problem found, each naming its file. */
  problems: string[];
  /** Bad shard paths (e.g. `train/shard-00000`). */
  badShards: string[];
}

/**
 * Check a whole dataset: manifest present and complete, every shard file
 * present with the recorded size, sha256, dtype and shape, and consistent
 * contents. Never throws for a damaged dataset; the report lists every problem.
 */
export async function verifyDataset(datasetDir: string): Promise<VerifyReport> {
  const report: VerifyReport = {
    dir: datasetDir,
    ok: false,
    shardsChecked: 0,
    filesChecked: 0,
    problems: [],
    badShards: [],
  };
  let m: Manifest;
  try {
    m = await readManifest(datasetDir);
  } catch (e) {
    report.problems.push((e as Error).message);
    return report;
  }
  if (m.status !== "complete") {
    report.problems.push(`manifest.json: ${incomplete(m.status)}`);
  }
  for (const split of SPLITS) {
    const s = m.splits[split];
    if (!s) {
      report.problems.push(`manifest.json: no ${split} split`);
      continue;
    }
    for (const shard of s.shards) {
      report.shardsChecked++;
      report.filesChecked += SHARD_FILES.length;
      let probs = await verifyShard(datasetDir, shard);
      if (probs.length === 0) {
        try {
          await loadShard(datasetDir, shard, m.env_ids.length, false); // checksums just verified
        } catch (e) {
          probs = [(e as Error).message];
        }
      }
      if (probs.length > 0) {
        report.badShards.push(shard.path);
        report.problems.push(...probs);
      }
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}
