/**
 * Trajectory collection: roll out a policy (expert bot, noisy bot, random) on
 * one or many env ids, for the seed-disjoint splits of {@link splitPlan}, over
 * a pool of Web Workers, into a sharded dataset (see store.ts).
 *
 * ```ts
 * import { collectDataset } from "./lib/data/collect.ts";
 * const manifest = await collectDataset(cfg.data, { overwrite: false });
 * ```
 *
 * Episode recording (N steps → N + 1 frames): frame t is the observation
 * before action t; `actions[t]`, `rewards[t]`, `terminated[t]`, `truncated[t]`
 * come from the step that action caused. The final frame (the observation the
 * episode ended on) carries ACTION_NONE, reward 0 and false flags.
 *
 * Policies:
 * - `bot`: the BabyAI expert `BabyAIBot(env).replan(lastAction)` (BabyAI levels only).
 * - `noisy_bot`: each step, with probability `epsilon` a uniformly random action
 *   replaces the bot's; the bot is told the action actually taken
 *   (`replan(taken)`, its advising mode, which plans to undo off-plan moves).
 *   When the bot raises after an off-plan action (e.g. a box was opened), a
 *   fresh bot is created on the current state and the episode goes on.
 * - `random`: uniformly random actions over the env's action space.
 * The noise/random RNG of an episode is numpy's `default_rng((data.seed << 32) | env_seed)`
 * (the port in lib/env/rng.ts): `random() < epsilon`, then `integers(0, n)`.
 *
 * Bot failures: an episode whose bot raises (and, for noisy_bot, whose fresh
 * bot raises again) is left out; it is listed with its seed and error under
 * `skipped` in its shard record and the manifest, and a warning is printed.
 * A split left with zero episodes is an error. Episodes where the bot runs
 * out of steps without succeeding are kept (`success` = 0).
 *
 * @module
 */

import { defaultRng, type Generator } from "../env/rng.ts";
import { closestIds, isRegistered, make } from "../env/registry.ts";
import type { MiniGridEnv } from "../env/minigrid.ts";
import { ACTION_NONE } from "./types.ts";
import { decodeNpy } from "./npy.ts";
import { formatDuration } from "../util/format.ts";
import { gitVersion } from "../util/git.ts";
import { jsonHash } from "../util/hash.ts";
import { Progress, textBar } from "../util/progress.ts";
import { datasetEnvIds, type SplitConfig, type SplitName, splitPlan, SPLITS } from "./split.ts";
import {
  ARRAY_DOCS,
  completeShard,
  DATASET_FORMAT,
  DATASET_VERSION,
  type Episodes,
  IMAGE_SIZE,
  type Manifest,
  readManifest,
  type ShardRecord,
  type SkippedEpisode,
  summarizeSplit,
  writeManifest,
  writeShard,
} from "./store.ts";

/** Collection policies. */
export const POLICIES = ["bot", "noisy_bot", "random"] as const;
/** A collection policy. */
export type Policy = typeof POLICIES[number];

/** The `data` section of the config (see CONFIG.md). */
export interface DataConfig extends SplitConfig {
  /** Dataset name → `data/<dataset>/`. */
  dataset: string;
  /** Env ids collected in every split. */
  envs: string[];
  /** Extra env ids for zero-shot evaluation (also collected in every split). */
  test_envs?: string[];
  /** bot | noisy_bot | random. */
  policy: Policy | string;
  /** noisy_bot: probability of a random action. */
  epsilon?: number;
  /** Episodes per env id for each split. */
  episodes: { train: number; val: number; test: number };
  /** Split seed. */
  seed: number;
  /** Optional cap on episode length (null = the env's own max_steps). */
  max_steps?: number | null;
}

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

/** What to roll out for one episode. */
export interface RolloutSpec {
  /** Env id. */
  envId: string;
  /** Index of the env id in the dataset. */
  envIndex: number;
  /** Env seed. */
  seed: number;
  /** Position in the split's plan. */
  episode: number;
  /** Policy. */
  policy: Policy;
  /** noisy_bot epsilon. */
  epsilon: number;
  /** data.seed (keys the noise RNG). */
  dataSeed: number;
  /** Optional cap on steps. */
  maxSteps: number | null;
}

/** One rolled-out episode (N steps, N + 1 frames), or the error that stopped it. */
export interface EpisodeRecord {
  /** The spec it came from. */
  spec: RolloutSpec;
  /** Set when the episode could not be collected (then the arrays are empty). */
  error?: string;
  /** [(N+1) * 147]. */
  images: Uint8Array;
  /** [N+1]. */
  directions: Uint8Array;
  /** [N+1], last = ACTION_NONE. */
  actions: Uint8Array;
  /** [N+1], last = 0. */
  rewards: Float64Array;
  /** [N+1]. */
  terminated: Uint8Array;
  /** [N+1]. */
  truncated: Uint8Array;
  /** Mission string. */
  mission: string;
  /** Terminated with positive reward. */
  success: boolean;
  /** How often a noisy_bot episode had to recreate its bot. */
  botRestarts: number;
}

/** A bot as lib/env/babyai/bot.ts provides it. */
export interface BotLike {
  /** Next action given the action actually taken last (undefined/null first). */
  replan(lastAction?: number | null): number;
}
/** Creates a bot for an env. */
export type BotFactory = (env: MiniGridEnv) => BotLike;

let botFactoryPromise: Promise<BotFactory> | null = null;

/** Load the BabyAI bot lazily (only policies that use it need it). */
export function loadBotFactory(): Promise<BotFactory> {
  if (botFactoryPromise === null) {
    const spec = new URL("../env/babyai/bot.ts", import.meta.url).href;
    botFactoryPromise = import(spec).then((m) => {
      const Bot = m.BabyAIBot;
      if (typeof Bot !== "function") throw new Error(`${spec} does not export BabyAIBot`);
      return (env: MiniGridEnv) => new Bot(env) as BotLike;
    }).catch((e) => {
      botFactoryPromise = null;
      throw new Error(
        `cannot load the BabyAI bot (lib/env/babyai/bot.ts): ${(e as Error).message}`,
      );
    });
  }
  return botFactoryPromise;
}

/** The noise RNG of an episode: numpy `default_rng((dataSeed << 32) | envSeed)`. */
export function episodeRng(dataSeed: number, envSeed: number): Generator {
  return defaultRng((BigInt(dataSeed) << 32n) | BigInt(envSeed));
}

/** Growable buffers for one episode. */
class EpisodeBuffer {
  images = new Uint8Array(IMAGE_SIZE * 64);
  directions = new Uint8Array(64);
  actions = new Uint8Array(64);
  rewards = new Float64Array(64);
  terminated = new Uint8Array(64);
  truncated = new Uint8Array(64);
  n = 0;
  push(image: Uint8Array, direction: number) {
    if (this.n === this.directions.length) {
      const cap = this.n * 2;
      const grow = <T extends Uint8Array | Float64Array>(a: T, c: number): T => {
        const b = new (a.constructor as new (n: number) => T)(c);
        b.set(a);
        return b;
      };
      this.images = grow(this.images, cap * IMAGE_SIZE);
      this.directions = grow(this.directions, cap);
      this.actions = grow(this.actions, cap);
      this.rewards = grow(this.rewards, cap);
      this.terminated = grow(this.terminated, cap);
      this.truncated = grow(this.truncated, cap);
    }
    this.images.set(image, this.n * IMAGE_SIZE);
    this.directions[this.n] = direction;
    this.actions[this.n] = ACTION_NONE;
    this.n++;
  }
}

/**
 * Roll out one episode. `botFactory` is needed for the bot policies. Never
 * throws for a bot failure: the record then carries `error`.
 */
export function rolloutEpisode(spec: RolloutSpec, botFactory?: BotFactory): EpisodeRecord {
  const env = make(spec.envId);
  const { obs } = env.reset({ seed: spec.seed });
  const buf = new EpisodeBuffer();
  buf.push(obs.image, obs.direction);
  const mission = obs.mission;
  const nActions = env.actionSpaceN ?? 7;
  const useBot = spec.policy === "bot" || spec.policy === "noisy_bot";
  if (useBot && !botFactory) throw new Error(`policy ${spec.policy} needs the BabyAI bot`);
  const rng = spec.policy === "bot" ? null : episodeRng(spec.dataSeed, spec.seed);
  let bot = useBot ? botFactory!(env) : null;
  let last: number | null = null;
  let success = false;
  let restarts = 0;
  const cap = spec.maxSteps ?? Infinity;
  const fail = (e: unknown): EpisodeRecord => ({
    spec,
    error: `${spec.envId} seed ${spec.seed}, step ${buf.n - 1}: bot raised: ${
      (e as Error)?.message ?? String(e)
    }`,
    images: new Uint8Array(0),
    directions: new Uint8Array(0),
    actions: new Uint8Array(0),
    rewards: new Float64Array(0),
    terminated: new Uint8Array(0),
    truncated: new Uint8Array(0),
    mission,
    success: false,
    botRestarts: restarts,
  });
  for (let t = 0;; t++) {
    let action: number;
    if (spec.policy === "random") {
      action = rng!.integers(0, nActions);
    } else {
      let botAction: number;
      try {
        botAction = bot!.replan(last);
      } catch (e) {
        if (spec.policy !== "noisy_bot") return fail(e);
        try {
          restarts++;
          bot = botFactory!(env);
          botAction = bot.replan(null);
        } catch (e2) {
          return fail(e2);
        }
      }
      action = botAction;
      if (spec.policy === "noisy_bot" && rng!.random() < spec.epsilon) {
        action = rng!.integers(0, nActions);
      }
    }
    const r = env.step(action);
    const i = buf.n - 1;
    buf.actions[i] = action;
    buf.rewards[i] = r.reward;
    buf.terminated[i] = r.terminated ? 1 : 0;
    let truncated = r.truncated;
    if (!r.terminated && !truncated && t + 1 >= cap) truncated = true;
    buf.truncated[i] = truncated ? 1 : 0;
    buf.push(r.obs.image, r.obs.direction);
    last = action;
    if (r.terminated && r.reward > 0) success = true;
    if (r.terminated || truncated) break;
  }
  const n = buf.n;
  return {
    spec,
    images: buf.images.slice(0, n * IMAGE_SIZE),
    directions: buf.directions.slice(0, n),
    actions: buf.actions.slice(0, n),
    rewards: buf.rewards.slice(0, n),
    terminated: buf.terminated.slice(0, n),
    truncated: buf.truncated.slice(0, n),
    mission,
    success,
    botRestarts: restarts,
  };
}

/** Assemble rolled-out episodes (in plan order) into one {@link Episodes} block, leaving out failed ones. */
export function assembleEpisodes(
  records: EpisodeRecord[],
): { episodes: Episodes; skipped: SkippedEpisode[] } {
  const ok = records.filter((r) => r.error === undefined);
  const skipped = records.filter((r) => r.error !== undefined).map((r) => ({
    episode: r.spec.episode,
    env_id: r.spec.envId,
    seed: r.spec.seed,
    error: r.error!,
  }));
  const E = ok.length;
  const F = ok.reduce((a, r) => a + r.directions.length, 0);
  const ep: Episodes = {
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
  let f = 0;
  ok.forEach((r, e) => {
    const n = r.directions.length;
    ep.images.set(r.images, f * IMAGE_SIZE);
    ep.directions.set(r.directions, f);
    ep.actions.set(r.actions, f);
    ep.rewards.set(r.rewards, f);
    ep.terminated.set(r.terminated, f);
    ep.truncated.set(r.truncated, f);
    let ret = 0;
    for (let i = 0; i < n; i++) ret += r.rewards[i];
    f += n;
    ep.episodeOffsets[e + 1] = f;
    ep.envIndex[e] = r.spec.envIndex;
    ep.seeds[e] = r.spec.seed;
    ep.episodeIndex[e] = r.spec.episode;
    ep.lengths[e] = n - 1;
    ep.returns[e] = ret;
    ep.success[e] = r.success ? 1 : 0;
    ep.missions.push(r.mission);
  });
  return { episodes: ep, skipped };
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

// ---------------------------------------------------------------- workers

/** Message to a worker. */
export interface WorkerTask {
  /** Task id. */
  id: number;
  /** Episodes to roll out. */
  specs: RolloutSpec[];
}

/** Message from a worker. */
export type WorkerReply =
  | { type: "tick"; id: number }
  | { type: "done"; id: number; records: EpisodeRecord[] }
  | { type: "error"; id: number; error: string };

/** Run rollout tasks: on `workers` Web Workers, or in this thread when `workers` is 0. */
async function runTasks(
  tasks: WorkerTask[],
  workers: number,
  onTick: () => void,
  onDone: (id: number, records: EpisodeRecord[]) => Promise<void>,
  botFactory?: BotFactory,
): Promise<void> {
  if (tasks.length === 0) return;
  if (workers <= 0) {
    const needBot = tasks.some((t) => t.specs.some((s) => s.policy !== "random"));
    const bf = needBot ? (botFactory ?? await loadBotFactory()) : undefined;
    for (const t of tasks) {
      const recs: EpisodeRecord[] = [];
      for (const s of t.specs) {
        recs.push(rolloutEpisode(s, bf));
        onTick();
      }
      await onDone(t.id, recs);
    }
    return;
  }
  const queue = [...tasks];
  const pool: Worker[] = [];
  const pending: Promise<void>[] = [];
  let failed: Error | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const fail = (e: Error) => {
        if (failed) return;
        failed = e;
        reject(e);
      };
      const feed = (w: Worker) => {
        if (failed) return;
        const t = queue.shift();
        if (!t) {
          if (running === 0) resolve();
          return;
        }
        running++;
        w.postMessage(t);
      };
      const n = Math.min(workers, tasks.length);
      for (let i = 0; i < n; i++) {
        const w = new Worker(new URL("./collect_worker.ts", import.meta.url), { type: "module" });
        pool.push(w);
        w.onmessage = (ev: MessageEvent<WorkerReply>) => {
          const m = ev.data;
          if (m.type === "tick") onTick();
          else if (m.type === "error") fail(new Error(m.error));
          else {
            running--;
            pending.push(onDone(m.id, m.records).catch((e) => fail(e as Error)));
            if (queue.length === 0 && running === 0) resolve();
            else feed(w);
          }
        };
        w.onerror = (ev) => {
          ev.preventDefault();
          fail(new Error(`collect worker crashed: ${ev.message}`));
        };
        feed(w);
      }
    });
    await Promise.all(pending);
  } finally {
    for (const w of pool) w.terminate();
  }
  if (failed) throw failed;
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
  const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
  const dir = `${dataDir}/${cfg.dataset}`;
  const identity = datasetIdentity(cfg, shardEpisodes);
  const hash = jsonHash(identity);
  const envIds = datasetEnvIds(cfg);
  const warn = opts.warn ?? true;
  if (cfg.policy !== "random" && !opts.botFactory) await loadBotFactory(); // fail fast when the bot is unavailable

  // Existing directory: same config → resume/reuse; other config → refuse unless overwrite.
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
        if (!opts.overwrite) {
          throw new Error(
            `${dir} exists but is not a readable dataset (${(e as Error).message}). ` +
              `Use --overwrite (overwrite: true) to replace it, or pick another data.dataset name`,
          );
        }
      }
      if (existing && existing.config_hash !== hash) {
        if (!opts.overwrite) {
          const before = existing.data_config as Record<string, unknown>;
          const diff = Object.keys({ ...before, ...cfg }).filter((k) =>
            JSON.stringify(before[k] ?? null) !==
              JSON.stringify((cfg as unknown as Record<string, unknown>)[k] ?? null)
          );
          throw new Error(
            `${dir} holds a dataset collected with a different data config` +
              (diff.length ? ` (differs in: ${diff.map((k) => `data.${k}`).join(", ")})` : "") +
              `. Use --overwrite (overwrite: true) to replace it, or pick another data.dataset name`,
          );
        }
        existing = null;
      }
      if (opts.overwrite && existing === null) await Deno.remove(dir, { recursive: true });
    }
  }
  await Deno.mkdir(dir, { recursive: true });

  const manifest: Manifest = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    dataset: cfg.dataset,
    status: "collecting",
    config_hash: hash,
    data_config: { ...cfg } as unknown as Record<string, unknown>,
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

  // Plan shards, find the complete ones.
  interface ShardJob {
    split: SplitName;
    index: number;
    specs: RolloutSpec[];
    records: (EpisodeRecord[] | undefined)[];
    chunksLeft: number;
  }
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
    const all = job.records.flat() as EpisodeRecord[];
    const { episodes, skipped } = assembleEpisodes(all);
    if (warn) {
      for (const s of skipped) {
        console.warn(`warning: ${job.split} episode ${s.episode} skipped: ${s.error}`);
      }
    }
    if (episodes.envIndex.length === 0) {
      throw new Error(
        `${shardPathOf(job)}: every episode failed (${skipped.length}); first error: ${
          skipped[0]?.error
        }. ` +
          `This env/policy cannot produce data (e.g. the bot cannot solve BabyAI-KeyInBox-v0); use another policy`,
      );
    }
    try {
      records[job.split][job.index] = await writeShard(dir, {
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
        `${dir}/${shardPathOf(job)}: writing the shard failed: ${(e as Error).message}. ` +
          `Shards already written are kept; fix the cause (e.g. free disk space) and rerun the same ` +
          `command to resume`,
      );
    }
    shardsDone++;
    written++;
    report();
  }, opts.botFactory);

  const seconds = (performance.now() - t0) / 1000;
  const complete = SPLITS.every((s) => records[s].every((r) => r !== null));
  if (complete) {
    for (const split of SPLITS) {
      const shards = records[split] as ShardRecord[];
      const counts = await splitCounts(dir, shards, envIds.length);
      manifest.splits[split] = summarizeSplit(shards, envIds, counts.successes, counts.perEnv);
      if (manifest.splits[split]!.episodes === 0) {
        throw new Error(`split ${split} has zero episodes after skipping failed ones`);
      }
    }
    manifest.status = "complete";
    manifest.completed = new Date().toISOString();
    manifest.collect_seconds = seconds;
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

function shardPathOf(job: { split: SplitName; index: number }): string {
  return `${job.split}/shard-${String(job.index).padStart(5, "0")}`;
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
