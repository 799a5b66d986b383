/**
 * The dataset manifest (`manifest.json`) and shard records (`done.json`):
 * format and version, per-file checksums, per-split totals; reading it with
 * clear errors for a missing, corrupted or outdated dataset, writing it
 * atomically.
 *
 * @module
 */

import { writeFileAtomic } from "../util/fs.ts";
import { SPLIT_RULE, type SplitName } from "./split.ts";
import type { NpyDtype } from "./npy.ts";

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
