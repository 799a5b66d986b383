/**
 * Trajectory collection: roll out a policy (see rollout.ts) on one or many
 * env ids, for the seed-disjoint splits of {@link splitPlan}, over a pool of
 * Web Workers (collect_pool.ts), into a sharded dataset (see store.ts).
 *
 * ```ts
 * import { collectDataset } from "./lib/data/collect.ts";
 * const manifest = await collectDataset(cfg.data, { overwrite: false });
 * ```
 *
 * Bot failures: an episode whose bot raises is left out; it is listed with
 * its seed and error under `skipped` in its shard record and the manifest,
 * and a warning is printed. A split left with zero episodes is an error.
 *
 * @module
 */

import { closestIds, isRegistered } from "../env/registry.ts";
import { decodeNpy } from "./npy.ts";
import { formatDuration } from "../util/format.ts";
import { gitVersion } from "../util/git.ts";
import { jsonHash } from "../util/hash.ts";
import { Progress, textBar } from "../util/progress.ts";
import { datasetEnvIds, type SplitName, splitPlan, SPLITS } from "./split.ts";
import { completeShard, shardPath, writeShard } from "./store.ts";
import {
  ARRAY_DOCS,
  DATASET_FORMAT,
  DATASET_VERSION,
  type Manifest,
  readManifest,
  type ShardRecord,
  summarizeSplit,
  writeManifest,
} from "./manifest.ts";
import {
  assembleEpisodes,
  type BotFactory,
  type EpisodeRecord,
  loadBotFactory,
  POLICIES,
  type Policy,
  type RolloutSpec,
} from "./rollout.ts";
import type { DataConfig as DataSection } from "../config/schema.ts";
import { runTasks, type WorkerTask } from "./collect_pool.ts";

/**
 * The `data` section as collection takes it: the schema's type (lib/config/schema.ts) with the
 * keys that have defaults optional and `policy` any string (checked by {@link resolveDataConfig},
 * for callers that build it by hand).
 */
export type DataConfig =
  & Pick<DataSection, "dataset" | "envs" | "episodes" | "seed">
  & Partial<Pick<DataSection, "test_envs" | "epsilon" | "max_steps">>
  & { policy: Policy | string };

/** Episodes per shard unless told otherwise. */
export const DEFAULT_SHARD_EPISODES = 256;
/** Episodes per worker task. */
const CHUNK_EPISODES = 16;

/** The default dataset root: `<repo>/data`. */
export const DEFAULT_DATA_DIR: string = decodeURIComponent(
  new URL("../../data", import.meta.url).pathname,
);

/** Directory of a dataset: `<dataDir>/<dataset>` (dataDir defaults to `<repo>/data`). */
export function datasetDir(dataset: string, dataDir: string = DEFAULT_DATA_DIR): string {
  return `${dataDir}/${dataset}`;
}

// ---------------------------------------------------------------- config

/**
 * Check a data config and fill defaults. Throws naming the key for an unknown
 * policy, an unknown env id (with the closest ids), a bot policy on a non-BabyAI
 * env, bad counts, a bad epsilon or dataset name.
 */
export function resolveDataConfig(input: DataConfig | { data: DataConfig }): DataConfig {
  const raw =
    ("data" in input && typeof input.data === "object" ? input.data : input) as DataConfig;
  const cfg: DataConfig = {
    dataset: raw.dataset,
    envs: [...(raw.envs ?? [])],
    test_envs: [...(raw.test_envs ?? [])],
    policy: raw.policy ?? "bot",
    epsilon: raw.epsilon ?? 0.1,
    episodes: { ...raw.episodes },
    seed: raw.seed ?? 0,
    max_steps: raw.max_steps ?? null,
  };
  if (typeof cfg.dataset !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(cfg.dataset)) {
    throw new Error(
      `data.dataset: ${JSON.stringify(cfg.dataset)} is not a valid dataset name ` +
        `(letters, digits, '.', '_', '-'; it becomes the directory data/<dataset>)`,
    );
  }
  if (!POLICIES.includes(cfg.policy as Policy)) {
    throw new Error(
      `data.policy: unknown policy ${JSON.stringify(cfg.policy)}; use one of ${
        POLICIES.join(", ")
      }`,
    );
  }
  if (typeof cfg.epsilon !== "number" || !(cfg.epsilon >= 0 && cfg.epsilon <= 1)) {
    throw new Error(`data.epsilon: must be a number in [0, 1], got ${JSON.stringify(cfg.epsilon)}`);
  }
  if (!Number.isSafeInteger(cfg.seed) || cfg.seed < 0 || cfg.seed >= 2 ** 31) {
    throw new Error(`data.seed: must be an integer in [0, 2^31), got ${JSON.stringify(cfg.seed)}`);
  }
  if (cfg.max_steps !== null && (!Number.isInteger(cfg.max_steps) || cfg.max_steps! < 1)) {
    throw new Error(
      `data.max_steps: must be null or a positive integer, got ${JSON.stringify(cfg.max_steps)}`,
    );
  }
  if (!Array.isArray(cfg.envs) || cfg.envs.length === 0) {
    throw new Error("data.envs: list at least one env id, e.g. [BabyAI-GoToRedBall-v0]");
  }
  for (const split of SPLITS) {
    const n = cfg.episodes[split];
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`data.episodes.${split}: must be an integer >= 0, got ${JSON.stringify(n)}`);
    }
    if (n === 0) {
      throw new Error(
        `data.episodes.${split} is 0: every split needs at least one episode per env id`,
      );
    }
  }
  for (const [key, ids] of [["data.envs", cfg.envs], ["data.test_envs", cfg.test_envs!]] as const) {
    for (const id of ids) {
      if (typeof id !== "string" || !isRegistered(id)) {
        throw new Error(
          `${key}: unknown env id ${JSON.stringify(id)}. Did you mean: ${
            closestIds(String(id)).join(", ")
          }?`,
        );
      }
      if (cfg.policy !== "random" && !id.startsWith("BabyAI-")) {
        throw new Error(
          `${key}: policy ${cfg.policy} needs a BabyAI level (the expert bot solves BabyAI missions), ` +
            `but ${id} is not one; use data.policy: random for MiniGrid envs`,
        );
      }
    }
  }
  return cfg;
}

/** The part of the data config that decides the dataset's bytes (its identity). */
export function datasetIdentity(cfg: DataConfig, shardEpisodes: number): Record<string, unknown> {
  return {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    envs: cfg.envs,
    test_envs: cfg.test_envs ?? [],
    policy: cfg.policy,
    epsilon: cfg.policy === "noisy_bot" ? cfg.epsilon : null,
    episodes: cfg.episodes,
    seed: cfg.seed,
    max_steps: cfg.max_steps ?? null,
    shard_episodes: shardEpisodes,
  };
}

// ---------------------------------------------------------------- progress

/** Progress of a collection, for bars and notebooks. */
export interface CollectProgress {
  /** Episodes rolled out in this run (resumed shards not counted). */
  done: number;
  /** Episodes this run has to roll out. */
  total: number;
  /** Episodes per second so far. */
  episodesPerSec: number;
  /** Estimated seconds left. */
  etaSec: number;
  /** Shards written so far (including resumed ones). */
  shardsDone: number;
  /** Shards in the dataset. */
  shardsTotal: number;
  /** Seconds since the start. */
  elapsedSec: number;
  /** True on the last call: every episode rolled out and every shard written. */
  finished: boolean;
}

/** A progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise. */
export function stderrProgressBar(label: string): (p: CollectProgress) => void {
  const out = new Progress(true);
  let lastDraw = 0;
  return (p) => {
    const now = performance.now();
    const final = p.finished;
    if (!final && now - lastDraw < (out.tty ? 100 : 5000)) return;
    lastDraw = now;
    const frac = p.total > 0 ? p.done / p.total : 1;
    const line = `${label} ${textBar(frac, 30)} ${p.done}/${p.total} ep  ` +
      `${p.episodesPerSec.toFixed(1)} ep/s  ETA ${
        formatDuration(p.etaSec)
      }  shards ${p.shardsDone}/${p.shardsTotal}`;
    out.update(line, true);
    if (final) out.done();
  };
}

// ---------------------------------------------------------------- collect

/** Options of {@link collectDataset}. */
export interface CollectOptions {
  /** Dataset root (default `<repo>/data`); the dataset goes to `<dataDir>/<data.dataset>`. */
  dataDir?: string;
  /** Replace an existing dataset directory collected with a different config. */
  overwrite?: boolean;
  /** Progress callback (notebooks); called often, keep it cheap. */
  onProgress?: (p: CollectProgress) => void;
  /** Draw a progress bar on stderr (default: true when stderr is a terminal and no onProgress is given). */
  progressBar?: boolean;
  /** Worker count (default `navigator.hardwareConcurrency`); 0 = roll out in this thread. */
  workers?: number;
  /** Episodes per shard (default 256). Part of the dataset identity. */
  shardEpisodes?: number;
  /** Print warnings (skipped episodes) to stderr (default true). */
  warn?: boolean;
  /** Stop after writing this many shards in this run (tests of resuming). */
  stopAfterShards?: number;
  /**
   * A custom bot for the bot policies, used only with `workers: 0` (workers
   * always load lib/env/babyai/bot.ts). For tests and experiments.
   */
  botFactory?: BotFactory;
}

/** What {@link collectDataset} returns. */
export interface CollectResult {
  /** Dataset directory. */
  dir: string;
  /** The final (or, with stopAfterShards, the in-progress) manifest. */
  manifest: Manifest;
  /** Shards found complete and reused. */
  resumedShards: number;
  /** Shards written in this run. */
  writtenShards: number;
  /** Episodes rolled out in this run. */
  episodesCollected: number;
  /** Seconds this run took. */
  seconds: number;
}

/**
 * Collect (or resume, or reuse) the dataset of a data config into
 * `<dataDir>/<data.dataset>/`. A directory collected with another data
 * config is refused unless `overwrite`. Complete shards of an interrupted
 * collection are kept and only the missing ones are rolled out.
 */
export async function collectDataset(
  input: DataConfig | { data: DataConfig },
  opts: CollectOptions = {},
): Promise<CollectResult> {
  const t0 = performance.now();
  const cfg = resolveDataConfig(input);
  const shardEpisodes = opts.shardEpisodes ?? DEFAULT_SHARD_EPISODES;
  if (!Number.isInteger(shardEpisodes) || shardEpisodes < 1) {
    throw new Error(`shardEpisodes must be a positive integer, got ${shardEpisodes}`);
  }
  const dir = `${opts.dataDir ?? DEFAULT_DATA_DIR}/${cfg.dataset}`;
  const hash = jsonHash(datasetIdentity(cfg, shardEpisodes));
  const envIds = datasetEnvIds(cfg);
  const warn = opts.warn ?? true;
  if (cfg.policy !== "random" && !opts.botFactory) await loadBotFactory(); // fail fast when the bot is unavailable

  const existing = await openDatasetDir(dir, cfg, hash, opts.overwrite ?? false);
  const manifest = newManifest(cfg, hash, envIds, shardEpisodes, existing);
  const { records, jobs } = await planShards(cfg, dir, hash, shardEpisodes);
  const shardsTotal = SPLITS.reduce((a, s) => a + records[s].length, 0);
  if (jobs.length === 0 && existing?.status === "complete") {
    // Already collected with this config and every shard verified: reuse as is.
    return {
      dir,
      manifest: existing,
      resumedShards: shardsTotal,
      writtenShards: 0,
      episodesCollected: 0,
      seconds: (performance.now() - t0) / 1000,
    };
  }
  await writeManifest(dir, manifest);
  const resumed = shardsTotal - jobs.length;

  // Tasks: chunks of shards; stopAfterShards limits the jobs run.
  const runJobs = opts.stopAfterShards !== undefined ? jobs.slice(0, opts.stopAfterShards) : jobs;
  const tasks: WorkerTask[] = [];
  const taskOwner: { job: ShardJob; chunk: number }[] = [];
  for (const job of runJobs) {
    for (let c = 0; c * CHUNK_EPISODES < job.specs.length; c++) {
      taskOwner.push({ job, chunk: c });
      tasks.push({
        id: tasks.length,
        specs: job.specs.slice(c * CHUNK_EPISODES, (c + 1) * CHUNK_EPISODES),
      });
    }
  }
  const runTotal = runJobs.reduce((a, j) => a + j.specs.length, 0);
  const bar = opts.progressBar ?? (opts.onProgress === undefined && Deno.stderr.isTerminal());
  const drawBar = bar ? stderrProgressBar(`collect ${cfg.dataset}`) : null;
  let done = 0, shardsDone = resumed, written = 0;
  const tStart = performance.now();
  const report = () => {
    const el = (performance.now() - tStart) / 1000;
    const rate = el > 0 ? done / el : 0;
    const p: CollectProgress = {
      done,
      total: runTotal,
      episodesPerSec: rate,
      etaSec: rate > 0 ? (runTotal - done) / rate : Infinity,
      shardsDone,
      shardsTotal,
      elapsedSec: el,
      finished: done === runTotal && written === runJobs.length,
    };
    opts.onProgress?.(p);
    drawBar?.(p);
  };
  report();
  const workers = opts.workers ?? navigator.hardwareConcurrency ?? 1;
  if (opts.botFactory && workers > 0) {
    throw new Error("collectDataset: a custom botFactory only works in-thread; pass workers: 0");
  }
  await runTasks(tasks, workers, () => {
    done++;
    report();
  }, async (id, recs) => {
    const { job, chunk } = taskOwner[id];
    job.records[chunk] = recs;
    job.chunksLeft--;
    if (job.chunksLeft > 0) return;
    records[job.split][job.index] = await writeJobShard(dir, job, hash, envIds, warn);
    shardsDone++;
    written++;
    report();
  }, opts.botFactory);

  const seconds = (performance.now() - t0) / 1000;
  if (SPLITS.every((s) => records[s].every((r) => r !== null))) {
    await completeManifest(dir, manifest, records as Record<SplitName, ShardRecord[]>, seconds);
    const skippedAll = SPLITS.flatMap((s) => manifest.splits[s]!.skipped);
    if (warn && skippedAll.length > 0) {
      console.warn(
        `warning: ${skippedAll.length} episode(s) skipped (listed under "skipped" in ${dir}/manifest.json)`,
      );
    }
  }
  await writeManifest(dir, manifest);
  return {
    dir,
    manifest,
    resumedShards: resumed,
    writtenShards: written,
    episodesCollected: done,
    seconds,
  };
}

/**
 * The manifest of a directory to collect into, after checking it: same config → the
 * manifest (resume or reuse); empty or absent → null; another config or no readable
 * dataset → an error, or with `overwrite` the directory removed and null. The directory
 * exists when this returns.
 */
async function openDatasetDir(
  dir: string,
  cfg: DataConfig,
  hash: string,
  overwrite: boolean,
): Promise<Manifest | null> {
  let existing: Manifest | null = null;
  let dirExists = false;
  try {
    dirExists = (await Deno.stat(dir)).isDirectory;
  } catch { /* absent */ }
  if (dirExists) {
    let entries = 0;
    for await (const _ of Deno.readDir(dir)) entries++;
    if (entries > 0) {
      try {
        existing = await readManifest(dir);
      } catch (e) {
        if (!overwrite) {
          throw new Error(
            `${dir} exists but is not a readable dataset (${(e as Error).message}). ` +
              `Use --overwrite (overwrite: true) to replace it, or pick another data.dataset name`,
          );
        }
      }
      if (existing && existing.config_hash !== hash) {
        if (!overwrite) {
          const before = existing.data_config as Record<string, unknown>;
          const diff = Object.keys({ ...before, ...cfg }).filter((k) =>
            JSON.stringify(before[k] ?? null) !==
              JSON.stringify((cfg as Record<string, unknown>)[k] ?? null)
          );
          throw new Error(
            `${dir} holds a dataset collected with a different data config` +
              (diff.length ? ` (differs in: ${diff.map((k) => `data.${k}`).join(", ")})` : "") +
              `. Use --overwrite (overwrite: true) to replace it, or pick another data.dataset name`,
          );
        }
        existing = null;
      }
      if (overwrite && existing === null) await Deno.remove(dir, { recursive: true });
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  return existing;
}

/** The `collecting` manifest of a (re)started collection. */
function newManifest(
  cfg: DataConfig,
  hash: string,
  envIds: string[],
  shardEpisodes: number,
  existing: Manifest | null,
): Manifest {
  return {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    dataset: cfg.dataset,
    status: "collecting",
    config_hash: hash,
    data_config: { ...cfg } as Record<string, unknown>,
    env_ids: envIds,
    train_envs: [...cfg.envs],
    test_envs: cfg.test_envs && cfg.test_envs.length > 0 ? [...cfg.test_envs] : [...cfg.envs],
    shard_episodes: shardEpisodes,
    splits: {},
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      workspace: gitVersion() ?? "unknown",
    },
    created: existing?.created ?? new Date().toISOString(),
    arrays: ARRAY_DOCS,
  };
}

/** A shard still to roll out: its episode specs and the records of its chunks as they arrive. */
interface ShardJob {
  split: SplitName;
  index: number;
  specs: RolloutSpec[];
  records: (EpisodeRecord[] | undefined)[];
  chunksLeft: number;
}

/** Every shard of every split: the records of the complete ones (else null) and the jobs for the rest. */
async function planShards(
  cfg: DataConfig,
  dir: string,
  hash: string,
  shardEpisodes: number,
): Promise<{ records: Record<SplitName, (ShardRecord | null)[]>; jobs: ShardJob[] }> {
  const records: Record<SplitName, (ShardRecord | null)[]> = { train: [], val: [], test: [] };
  const jobs: ShardJob[] = [];
  for (const split of SPLITS) {
    const specs: RolloutSpec[] = [];
    for (const part of splitPlan(cfg, split)) {
      for (const seed of part.seeds) {
        specs.push({
          envId: part.envId,
          envIndex: part.envIndex,
          seed,
          episode: specs.length,
          policy: cfg.policy as Policy,
          epsilon: cfg.epsilon ?? 0,
          dataSeed: cfg.seed,
          maxSteps: cfg.max_steps ?? null,
        });
      }
    }
    const nShards = Math.ceil(specs.length / shardEpisodes);
    for (let i = 0; i < nShards; i++) {
      const done = await completeShard(dir, split, i, hash);
      records[split].push(done);
      if (!done) {
        const s = specs.slice(i * shardEpisodes, (i + 1) * shardEpisodes);
        const chunks = Math.ceil(s.length / CHUNK_EPISODES);
        jobs.push({ split, index: i, specs: s, records: new Array(chunks), chunksLeft: chunks });
      }
    }
  }
  return { records, jobs };
}

/** Assembles a finished job's episodes and writes its shard; errors say what to do. */
async function writeJobShard(
  dir: string,
  job: ShardJob,
  hash: string,
  envIds: string[],
  warn: boolean,
): Promise<ShardRecord> {
  const all = job.records.flat() as EpisodeRecord[];
  const { episodes, skipped } = assembleEpisodes(all);
  if (warn) {
    for (const s of skipped) {
      console.warn(`warning: ${job.split} episode ${s.episode} skipped: ${s.error}`);
    }
  }
  const rel = shardPath(job.split, job.index);
  if (episodes.envIndex.length === 0) {
    throw new Error(
      `${rel}: every episode failed (${skipped.length}); first error: ${skipped[0]?.error}. ` +
        `This env/policy cannot produce data (e.g. the bot cannot solve BabyAI-KeyInBox-v0); use another policy`,
    );
  }
  try {
    return await writeShard(dir, {
      split: job.split,
      index: job.index,
      configHash: hash,
      planRange: [job.specs[0].episode, job.specs[job.specs.length - 1].episode + 1],
      skipped,
      envIds,
      botRestarts: all.reduce((a, r) => a + r.botRestarts, 0),
    }, episodes);
  } catch (e) {
    throw new Error(
      `${dir}/${rel}: writing the shard failed: ${(e as Error).message}. ` +
        `Shards already written are kept; fix the cause (e.g. free disk space) and rerun the same ` +
        `command to resume`,
    );
  }
}

/** Fills in the split summaries of a collection whose shards are all written, and marks it complete. */
async function completeManifest(
  dir: string,
  manifest: Manifest,
  records: Record<SplitName, ShardRecord[]>,
  seconds: number,
): Promise<void> {
  for (const split of SPLITS) {
    const shards = records[split];
    const counts = await splitCounts(dir, shards, manifest.env_ids.length);
    manifest.splits[split] = summarizeSplit(
      shards,
      manifest.env_ids,
      counts.successes,
      counts.perEnv,
    );
    if (manifest.splits[split]!.episodes === 0) {
      throw new Error(`split ${split} has zero episodes after skipping failed ones`);
    }
  }
  manifest.status = "complete";
  manifest.completed = new Date().toISOString();
  manifest.collect_seconds = seconds;
}

/** Successes and per-env episode counts of a split, read from its (verified) shard files. */
async function splitCounts(dir: string, shards: ShardRecord[], numEnvs: number) {
  let successes = 0;
  const perEnv = new Array(numEnvs).fill(0);
  for (const s of shards) {
    const succ = decodeNpy(await Deno.readFile(`${dir}/${s.path}/success.npy`)).data as Uint8Array;
    for (const v of succ) successes += v;
    const ei = decodeNpy(await Deno.readFile(`${dir}/${s.path}/env_index.npy`)).data as Int32Array;
    for (const v of ei) perEnv[v]++;
  }
  return { successes, perEnv };
}
