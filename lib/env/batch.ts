/**
 * Batched API: N envs of one id stepping together, observations written into one
 * `Uint8Array` of shape [N, vs, vs, 3] (vs = agent view size, 7 by default), with auto-reset:
 * when an env's episode ends (terminated or truncated) it is reset at once with the next seed
 * of a shared counter, its row of `obs` then holds the first observation of the new episode,
 * and the last observation of the finished episode is kept in `finalObs`.
 *
 * Seeds: `reset(seed0)` gives env i the seed seed0 + i; later episodes take seed0 + N,
 * seed0 + N + 1, ... in the order episodes end (env index order within one step), so a
 * batched run is reproducible from seed0 and the actions.
 *
 * @module
 */

import { EnvUsageError } from "./env_api.ts";
import { type MiniGridEnv } from "./minigrid.ts";
import { make } from "./registry.ts";

/** Options of BatchedEnv. */
export interface BatchedEnvOptions {
  /** kwargs passed to make() for every env. */
  kwargs?: Record<string, unknown>;
}

/** N envs stepping in lockstep with flat typed-array outputs. */
export class BatchedEnv {
  /** Number of envs. */
  readonly n: number;
  /** The envs. */
  readonly envs: MiniGridEnv[];
  /** Bytes of one observation image (vs * vs * 3). */
  readonly obsSize: number;
  /** Current observations [N, vs, vs, 3]. */
  readonly obs: Uint8Array;
  /** Final observation of episodes that ended on the last step (rows where `done` is 1). */
  readonly finalObs: Uint8Array;
  /** Agent directions [N]. */
  readonly directions: Uint8Array;
  /** Rewards of the last step [N] (float64, bit-exact). */
  readonly rewards: Float64Array;
  /** terminated flags of the last step [N]. */
  readonly terminated: Uint8Array;
  /** truncated flags of the last step [N]. */
  readonly truncated: Uint8Array;
  /** 1 where the last step ended an episode (and the env was auto-reset) [N]. */
  readonly done: Uint8Array;
  /** Seed of each env's current episode [N]. */
  readonly seeds: Float64Array;
  /** Steps taken in each env's current episode [N]. */
  readonly episodeSteps: Int32Array;
  /** Seed the next auto-reset will use. */
  nextSeed = 0;
  /** Number of episodes finished since reset(). */
  episodesDone = 0;

  /** Create N envs of one registered id (or from a factory). */
  constructor(envId: string | (() => MiniGridEnv), n: number, opts: BatchedEnvOptions = {}) {
    if (!Number.isInteger(n) || n < 1) {
      throw new EnvUsageError(`BatchedEnv: n must be a positive integer, got ${n}`);
    }
    this.n = n;
    this.envs = [];
    for (let i = 0; i < n; i++) {
      this.envs.push(typeof envId === "string" ? make(envId, opts.kwargs ?? {}) : envId());
    }
    const vs = this.envs[0].agentViewSize;
    if (this.envs.some((e) => e.agentViewSize !== vs)) {
      throw new EnvUsageError("BatchedEnv: all envs must share one agentViewSize");
    }
    this.obsSize = vs * vs * 3;
    this.obs = new Uint8Array(n * this.obsSize);
    this.finalObs = new Uint8Array(n * this.obsSize);
    this.envs.forEach((e, i) => {
      e.obsBuffer = this.obs;
      e.obsOffset = i * this.obsSize;
    });
    this.directions = new Uint8Array(n);
    this.rewards = new Float64Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.done = new Uint8Array(n);
    this.seeds = new Float64Array(n);
    this.episodeSteps = new Int32Array(n);
  }

  /** Reset every env: env i gets seed seed0 + i. */
  reset(seed0 = 0): void {
    if (!Number.isSafeInteger(seed0) || seed0 < 0) {
      throw new EnvUsageError(
        `BatchedEnv.reset: seed0 must be a non-negative integer, got ${seed0}`,
      );
    }
    for (let i = 0; i < this.n; i++) {
      this.envs[i].reset({ seed: seed0 + i });
      this.seeds[i] = seed0 + i;
      this.directions[i] = this.envs[i].agentDir;
      this.episodeSteps[i] = 0;
    }
    this.nextSeed = seed0 + this.n;
    this.episodesDone = 0;
    this.rewards.fill(0);
    this.terminated.fill(0);
    this.truncated.fill(0);
    this.done.fill(0);
  }

  /** Step every env with actions[i]; ended episodes are auto-reset with the next seed. */
  step(actions: ArrayLike<number>): void {
    if (actions.length !== this.n) {
      throw new EnvUsageError(`BatchedEnv.step: got ${actions.length} actions for ${this.n} envs`);
    }
    const S = this.obsSize;
    for (let i = 0; i < this.n; i++) {
      const env = this.envs[i];
      const r = env.step(actions[i]);
      this.rewards[i] = r.reward;
      this.terminated[i] = r.terminated ? 1 : 0;
      this.truncated[i] = r.truncated ? 1 : 0;
      this.episodeSteps[i]++;
      if (r.terminated || r.truncated) {
        this.done[i] = 1;
        this.finalObs.set(this.obs.subarray(i * S, (i + 1) * S), i * S);
        const seed = this.nextSeed++;
        env.reset({ seed });
        this.seeds[i] = seed;
        this.episodeSteps[i] = 0;
        this.episodesDone++;
      } else {
        this.done[i] = 0;
      }
      this.directions[i] = env.agentDir;
    }
  }

  /** Current mission strings. */
  missions(): string[] {
    return this.envs.map((e) => e.mission);
  }
}
