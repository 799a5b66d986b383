/**
 * Rolling out one episode with a collection policy (expert bot, noisy bot,
 * random) and assembling rolled-out episodes into an {@link Episodes} block.
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
 * bot raises again) is returned with `error` set; {@link assembleEpisodes}
 * leaves it out and lists it as skipped. Episodes where the bot runs out of
 * steps without succeeding are kept (`success` = 0).
 *
 * @module
 */

import { defaultRng, type Generator } from "../env/rng.ts";
import { make } from "../env/registry.ts";
import type { MiniGridEnv } from "../env/minigrid.ts";
import { ACTION_NONE } from "./types.ts";
import {
  copyFrames,
  emptyEpisodes,
  type EpisodeFrames,
  type Episodes,
  IMAGE_SIZE,
} from "./episodes.ts";
import type { SkippedEpisode } from "./manifest.ts";

/** Collection policies. */
export const POLICIES = ["bot", "noisy_bot", "random"] as const;
/** A collection policy. */
export type Policy = typeof POLICIES[number];

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

/** One rolled-out episode (N steps, N + 1 frames, see {@link EpisodeFrames}), or the error that stopped it. */
export interface EpisodeRecord extends EpisodeFrames {
  /** The spec it came from. */
  spec: RolloutSpec;
  /** Set when the episode could not be collected (then the arrays are empty). */
  error?: string;
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
  const ep = emptyEpisodes(E, F);
  let f = 0;
  ok.forEach((r, e) => {
    const n = r.directions.length;
    copyFrames(ep, r, f);
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
