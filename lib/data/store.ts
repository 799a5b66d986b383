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

import { ACTION_NONE, ACTION_VOCAB, DIR_VOCAB } from "./types.ts";
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
import { SPLIT_RULE, type SplitName, SPLITS } from "./split.ts";

/** Format name written in every manifest. */
export const DATASET_FORMAT = "minigrid-trajectories";
/**
 * Dataset version, recorded in every manifest (and part of the dataset identity hash). Bump it
 * when the file layout changes or when a config selects other episodes, and say why in
 * {@link DATASET_VERSION_CHANGES}; a dataset of an older version is refused with that reason.
 */
export const DATASET_VERSION = 2;

/** What each dataset version changed (shown when an older dataset is refused). */
export const DATASET_VERSION_CHANGES: Readonly<Record<number, string>> = {
  2: `split rule ${SPLIT_RULE}: each env id's split seeds derive from (data.seed, split, env id) ` +
    "alone; version 1 handed a split's seeds out in data.envs order, so its episodes are not the " +
    "ones this config selects",
};
/** Values per frame image (7 x 7 x 3). */
export const IMAGE_SIZE = 147;

/**
 * Episodes as flat typed arrays: one shard, or a whole split after
 * {@link loadDataset}. Frame arrays have F entries, episode arrays E.
 */
export interface Episodes {
  /** [F, 7, 7, 3] uint8 (object, colour, state of each cell; cell index `vx * 7 + vy`). */
  images: Uint8Array;
  /** [F] agent direction. */
  directions: Uint8Array;
  /** [F] action after the frame; {@link ACTION_NONE} on each episode's last frame. */
  actions: Uint8Array;
  /** [F] reward received for the frame's action (0 on the last frame). */
  rewards: Float64Array;
  /** [F] 0/1: the frame's step terminated the episode. */
  terminated: Uint8Array;
  /** [F] 0/1: the frame's step truncated the episode. */
  truncated: Uint8Array;
  /** [E + 1] frame offsets: episode e is frames [episodeOffsets[e], episodeOffsets[e+1]). */
  episodeOffsets: Int32Array;
  /** [E] index into the dataset's `envIds`. */
  envIndex: Int32Array;
  /** [E] env seed of each episode. */
  seeds: Int32Array;
  /** [E] position of each episode in its split's plan. */
  episodeIndex: Int32Array;
  /** [E] steps per episode (frames - 1). */
  lengths: Int32Array;
  /** [E] sum of rewards. */
  returns: Float64Array;
  /** [E] 0/1: terminated with a positive reward. */
  success: Uint8Array;
  /** [E] mission string of each episode. */
  missions: string[];
}

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

/** Checksum, size and array metadata of one stored file. */
export interface FileRecord {
  /** Hex sha256 of the file bytes. */
  sha256: string;
  /** File size in bytes. */
  bytes: number;
  /** `.npy` dtype (absent for missions.jsonl). */
  dtype?: NpyDtype;
  /** `.npy` shape (absent for missions.jsonl). */
  shape?: number[];
  /** missions.jsonl line count. */
  lines?: number;
}

/** An episode that could not be collected (e.g. the bot raised) and was left out. */
export interface SkippedEpisode {
  /** Position in the split's plan. */
  episode: number;
  /** Env id. */
  env_id: string;
  /** Env seed. */
  seed: number;
  /** Why. */
  error: string;
}

/** One complete shard, as stored in its `done.json` and in the manifest. */
export interface ShardRecord {
  /** Split. */
  split: SplitName;
  /** Shard number within the split. */
  index: number;
  /** Directory relative to the dataset root, e.g. `train/shard-00000`. */
  path: string;
  /** Data config hash of the dataset it belongs to. */
  config_hash: string;
  /** Plan positions [first, end) this shard covers (before skipping). */
  plan_range: [number, number];
  /** Episodes stored. */
  episodes: number;
  /** Frames stored. */
  frames: number;
  /** Episodes left out (bot errors). */
  skipped: SkippedEpisode[];
  /** noisy_bot: times a bot was recreated after raising on an off-plan action. */
  bot_restarts?: number;
  /** Every file of the shard. */
  files: Record<string, FileRecord>;
}

/** Per-split totals in the manifest. */
export interface SplitSummary {
  /** Episodes stored. */
  episodes: number;
  /** Frames stored. */
  frames: number;
  /** Steps (frames minus episodes). */
  steps: number;
  /** Episodes per env id. */
  episodes_per_env: Record<string, number>;
  /** Successful episodes. */
  successes: number;
  /** Episodes left out, see {@link SkippedEpisode}. */
  skipped: SkippedEpisode[];
  /** noisy_bot: bots recreated after raising on an off-plan action. */
  bot_restarts: number;
  /** The shards in order. */
  shards: ShardRecord[];
}

/** `manifest.json`. */
export interface Manifest {
  /** {@link DATASET_FORMAT}. */
  format: string;
  /** {@link DATASET_VERSION}. */
  version: number;
  /** Dataset name. */
  dataset: string;
  /** `collecting` until every shard is written, then `complete`. */
  status: "collecting" | "complete";
  /** Full sha256 of the canonical data identity (`jsonHash` of lib/util/hash.ts). */
  config_hash: string;
  /** The resolved data config section. */
  data_config: Record<string, unknown>;
  /** Env ids, index = `env_index` value. */
  env_ids: string[];
  /** Env ids for training (data.envs). */
  train_envs: string[];
  /** Env ids for zero-shot testing (data.test_envs, or data.envs when empty). */
  test_envs: string[];
  /** Max episodes per shard. */
  shard_episodes: number;
  /** Per split totals and shards (filled as shards complete). */
  splits: Partial<Record<SplitName, SplitSummary>>;
  /** Versions of what wrote the dataset. */
  versions: { deno: string; v8: string; typescript: string; workspace: string };
  /** ISO time the collection started. */
  created: string;
  /** ISO time the collection finished. */
  completed?: string;
  /** Seconds spent collecting (last run). */
  collect_seconds?: number;
  /** Description of every array (for readers of the raw files). */
  arrays: Record<string, string>;
}

/** One-line description of each stored file, copied into the manifest. */
export const ARRAY_DOCS: Record<string, string> = {
  "images.npy":
    "uint8 [F,7,7,3] egocentric view: object, colour, state per cell; index [vx, vy, c]",
  "directions.npy": "uint8 [F] agent direction 0..3 (0 = +x)",
  "actions.npy": "uint8 [F] action taken after the frame; 7 = none on an episode's last frame",
  "rewards.npy": "float64 [F] reward received for the frame's action; 0 on the last frame",
  "terminated.npy": "bool [F] the frame's step terminated the episode",
  "truncated.npy": "bool [F] the frame's step truncated the episode",
  "episode_offsets.npy": "int64 [E+1] shard-local frame offsets; episode e = frames [o[e], o[e+1])",
  "env_index.npy": "int32 [E] index into manifest env_ids",
  "seeds.npy": "int64 [E] env seed (env.reset(seed=...))",
  "episode_index.npy": "int64 [E] position of the episode in its split's plan",
  "lengths.npy": "int32 [E] steps (frames - 1)",
  "returns.npy": "float64 [E] sum of rewards",
  "success.npy": "bool [E] terminated with positive reward",
  "missions.jsonl": 'one JSON object per episode: {"episode","env_id","seed","mission"}',
};

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

/**
 * Check that episodes are internally consistent (lengths, offsets, value
 * ranges). Returns problem descriptions (empty when fine). `where` prefixes them.
 */
export function checkEpisodes(ep: Episodes, where: string, numEnvs?: number): string[] {
  const p: string[] = [];
  const E = ep.envIndex.length;
  const off = ep.episodeOffsets;
  if (off.length !== E + 1) {
    p.push(`${where}: episode_offsets has ${off.length} entries, expected E+1 = ${E + 1}`);
  }
  const F = off.length > 0 ? off[off.length - 1] : 0;
  if (off.length > 0 && off[0] !== 0) {
    p.push(`${where}: episode_offsets[0] = ${off[0]}, expected 0`);
  }
  for (let e = 0; e + 1 < off.length; e++) {
    if (off[e + 1] - off[e] < 1) {
      p.push(`${where}: episode ${e} has ${off[e + 1] - off[e]} frames (offsets not increasing)`);
      break;
    }
  }
  const frameLens: [string, number][] = [
    ["images", ep.images.length / IMAGE_SIZE],
    ["directions", ep.directions.length],
    ["actions", ep.actions.length],
    ["rewards", ep.rewards.length],
    ["terminated", ep.terminated.length],
    ["truncated", ep.truncated.length],
  ];
  for (const [n, len] of frameLens) {
    if (len !== F) p.push(`${where}: ${n} has ${len} frames, episode_offsets say ${F}`);
  }
  const epLens: [string, number][] = [
    ["seeds", ep.seeds.length],
    ["episode_index", ep.episodeIndex.length],
    ["lengths", ep.lengths.length],
    ["returns", ep.returns.length],
    ["success", ep.success.length],
    ["missions", ep.missions.length],
  ];
  for (const [n, len] of epLens) {
    if (len !== E) p.push(`${where}: ${n} has ${len} entries, env_index has ${E}`);
  }
  if (p.length > 0) return p;
  for (let e = 0; e < E; e++) {
    const last = off[e + 1] - 1;
    if (ep.lengths[e] !== off[e + 1] - off[e] - 1) {
      p.push(
        `${where}: lengths[${e}] = ${ep.lengths[e]} but the episode has ${
          off[e + 1] - off[e]
        } frames`,
      );
      break;
    }
    if (ep.actions[last] !== ACTION_NONE) {
      p.push(
        `${where}: episode ${e}'s last frame has action ${
          ep.actions[last]
        }, expected ${ACTION_NONE}`,
      );
      break;
    }
    if (numEnvs !== undefined && (ep.envIndex[e] < 0 || ep.envIndex[e] >= numEnvs)) {
      p.push(`${where}: env_index[${e}] = ${ep.envIndex[e]} outside 0..${numEnvs - 1}`);
      break;
    }
  }
  for (let i = 0; i < F; i++) {
    if (ep.directions[i] >= DIR_VOCAB || ep.actions[i] >= ACTION_VOCAB) {
      p.push(
        `${where}: frame ${i} has direction ${ep.directions[i]} / action ${
          ep.actions[i]
        } out of range`,
      );
      break;
    }
  }
  return p;
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

/** Read and parse `manifest.json`; clear errors when missing or malformed. */
export async function readManifest(datasetDir: string): Promise<Manifest> {
  const path = `${datasetDir}/manifest.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `${path}: no manifest: ${datasetDir} is not a dataset (collect it with: deno task collect --config <yaml>)`,
      );
    }
    throw new Error(`${path}: cannot read: ${(e as Error).message}`);
  }
  let m: Manifest;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${path}: corrupted manifest (invalid JSON: ${
        (e as Error).message
      }); recollect with --overwrite`,
    );
  }
  if (m.format !== DATASET_FORMAT) {
    throw new Error(`${path}: not a ${DATASET_FORMAT} manifest (format ${m.format})`);
  }
  if (m.version !== DATASET_VERSION) {
    const why: string[] = [];
    for (let v = m.version + 1; v <= DATASET_VERSION; v++) {
      if (DATASET_VERSION_CHANGES[v]) why.push(`version ${v}: ${DATASET_VERSION_CHANGES[v]}`);
    }
    throw new Error(
      `${path}: dataset version ${m.version}, this code reads version ${DATASET_VERSION}` +
        (why.length ? ` (${why.join("; ")})` : "") +
        `. Recollect it: deno task collect --config <its yaml> --overwrite (or delete ${datasetDir})`,
    );
  }
  return m;
}

/** Write `manifest.json` atomically. */
export async function writeManifest(datasetDir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(
    `${datasetDir}/manifest.json`,
    new TextEncoder().encode(JSON.stringify(m, null, 1) + "\n"),
  );
}

/** Totals of a split from its shard records. */
export function summarizeSplit(
  shards: ShardRecord[],
  envIds: string[],
  successes: number,
  perEnv: number[],
): SplitSummary {
  const episodes = shards.reduce((a, s) => a + s.episodes, 0);
  const frames = shards.reduce((a, s) => a + s.frames, 0);
  const episodes_per_env: Record<string, number> = {};
  envIds.forEach((id, i) => episodes_per_env[id] = perEnv[i] ?? 0);
  return {
    episodes,
    frames,
    steps: frames - episodes,
    episodes_per_env,
    successes,
    skipped: shards.flatMap((s) => s.skipped),
    bot_restarts: shards.reduce((a, s) => a + (s.bot_restarts ?? 0), 0),
    shards,
  };
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
    throw new Error(
      `${datasetDir}: collection is not complete (status ${m.status}); rerun the same deno task collect to resume`,
    );
  }
  const sum = m.splits[split];
  if (!sum || sum.shards.length === 0) {
    throw new Error(`${datasetDir}: manifest has no ${split} split`);
  }
  const verify = opts.verify ?? true;
  const parts: Episodes[] = [];
  for (const shard of sum.shards) {
    const fields: Partial<Record<string, unknown>> = {};
    for (const f of NPY_FIELDS) {
      const label = `${datasetDir}/${shard.path}/${f.file}`;
      let bytes: Uint8Array;
      if (verify) {
        const r = await checkFile(datasetDir, shard, f.file);
        if (r.problem) {
          throw new Error(
            `dataset ${datasetDir}: ${r.problem}; run deno task data verify, then recollect`,
          );
        }
        bytes = r.bytes!;
      } else {
        bytes = await readFileNamed(label, label);
      }
      const h = parseNpyHeader(bytes, label);
      const want = storedShape(f, shard.frames, shard.episodes);
      if (h.dtype !== f.dtype || h.shape.join(",") !== want.join(",")) {
        throw new Error(`${label}: ${h.dtype} [${h.shape}], expected ${f.dtype} [${want}]`);
      }
      fields[f.field] = fromStored(bytes, label);
    }
    const mlabel = `${shard.path}/${MISSIONS_FILE}`;
    let mbytes: Uint8Array;
    if (verify) {
      const r = await checkFile(datasetDir, shard, MISSIONS_FILE);
      if (r.problem) {
        throw new Error(
          `dataset ${datasetDir}: ${r.problem}; run deno task data verify, then recollect`,
        );
      }
      mbytes = r.bytes!;
    } else mbytes = await readFileNamed(`${datasetDir}/${mlabel}`, mlabel);
    fields.missions = parseJsonl<{ mission: string }>(
      new TextDecoder().decode(mbytes),
      `${datasetDir}/${mlabel}`,
    ).map((r) => r.mission);
    const ep = fields as unknown as Episodes;
    const problems = checkEpisodes(ep, `${datasetDir}/${shard.path}`, m.env_ids.length);
    if (problems.length > 0) throw new Error(`inconsistent shard:\n  ${problems.join("\n  ")}`);
    parts.push(ep);
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

/** Concatenate episode blocks (offsets rebased). */
export function concatEpisodes(parts: Episodes[]): Episodes {
  const E = parts.reduce((a, p) => a + p.envIndex.length, 0);
  const F = parts.reduce((a, p) => a + p.episodeOffsets[p.envIndex.length], 0);
  const out: Episodes = {
    images: new Uint8Array(F * IMAGE_SIZE),
    directions: new Uint8Array(F),
    actions: new Uint8Array(F),
    rewards: new Float64Array(F),
    terminated: new Uint8Array(F),
    truncated: new Uint8Array(F),
    episodeOffsets: new Int32Array(E + 1),
    envIndex: new Int32Array(E),
    seeds: new Int32Array(E),
    episodeIndex: new Int32Array(E),
    lengths: new Int32Array(E),
    returns: new Float64Array(E),
    success: new Uint8Array(E),
    missions: [],
  };
  let f0 = 0, e0 = 0;
  for (const p of parts) {
    const pe = p.envIndex.length, pf = p.episodeOffsets[pe];
    out.images.set(p.images, f0 * IMAGE_SIZE);
    out.directions.set(p.directions, f0);
    out.actions.set(p.actions, f0);
    out.rewards.set(p.rewards, f0);
    out.terminated.set(p.terminated, f0);
    out.truncated.set(p.truncated, f0);
    for (let e = 0; e < pe; e++) out.episodeOffsets[e0 + e + 1] = f0 + p.episodeOffsets[e + 1];
    out.envIndex.set(p.envIndex, e0);
    out.seeds.set(p.seeds, e0);
    out.episodeIndex.set(p.episodeIndex, e0);
    out.lengths.set(p.lengths, e0);
    out.returns.set(p.returns, e0);
    out.success.set(p.success, e0);
    for (const s of p.missions) out.missions.push(s);
    f0 += pf;
    e0 += pe;
  }
  return out;
}

/** The episodes `e` for which `keep(e)` is true, as a new block. */
export function selectEpisodes(ep: Episodes, keep: (e: number) => boolean): Episodes {
  const parts: Episodes[] = [];
  const E = ep.envIndex.length;
  for (let e = 0; e < E; e++) {
    if (!keep(e)) continue;
    const a = ep.episodeOffsets[e], b = ep.episodeOffsets[e + 1];
    parts.push({
      images: ep.images.subarray(a * IMAGE_SIZE, b * IMAGE_SIZE),
      directions: ep.directions.subarray(a, b),
      actions: ep.actions.subarray(a, b),
      rewards: ep.rewards.subarray(a, b),
      terminated: ep.terminated.subarray(a, b),
      truncated: ep.truncated.subarray(a, b),
      episodeOffsets: Int32Array.from([0, b - a]),
      envIndex: ep.envIndex.subarray(e, e + 1),
      seeds: ep.seeds.subarray(e, e + 1),
      episodeIndex: ep.episodeIndex.subarray(e, e + 1),
      lengths: ep.lengths.subarray(e, e + 1),
      returns: ep.returns.subarray(e, e + 1),
      success: ep.success.subarray(e, e + 1),
      missions: [ep.missions[e]],
    });
  }
  return concatEpisodes(parts);
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
    report.problems.push(
      `manifest.json: collection not complete (status ${m.status}); rerun deno task collect to resume`,
    );
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
          await loadShardUnchecked(datasetDir, shard, m.env_ids.length);
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

/** Decode a shard (already checksum-verified) and check its consistency; throws on problems. */
async function loadShardUnchecked(
  datasetDir: string,
  shard: ShardRecord,
  numEnvs: number,
): Promise<void> {
  const fields: Record<string, unknown> = {};
  for (const f of NPY_FIELDS) {
    const label = `${shard.path}/${f.file}`;
    fields[f.field] = fromStored(await Deno.readFile(`${datasetDir}/${label}`), label);
  }
  const text = await Deno.readTextFile(`${datasetDir}/${shard.path}/${MISSIONS_FILE}`);
  fields.missions = text.split("\n").filter((l) => l.length > 0);
  const probs = checkEpisodes(fields as unknown as Episodes, shard.path, numEnvs);
  if (probs.length > 0) throw new Error(probs.join("; "));
}
