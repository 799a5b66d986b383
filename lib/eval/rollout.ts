/**
 * Closed-loop task success: a policy acts in fresh environments on held-out
 * seeds until the episode ends. The model policy infills the current action
 * from the window of the last K frames ending at the current frame and the
 * mission, built by the tokenizer's own {@link fillWindow}: the decision at
 * step t sees exactly the tokens of the training window ending at frame t
 * (left-padded while t < K-1), its action hidden. The expert bot and a
 * uniform random policy give the upper and lower bounds.
 *
 * @module
 */

import {
  ACTION_NONE,
  ACTION_VOCAB,
  ATTRS,
  type Batch,
  CELLS,
  type Mask,
  type Predictor,
} from "../data/types.ts";
import { allocBatch, fillWindow, FRAME_SIZE } from "../data/tokenize.ts";
import { make } from "../env/registry.ts";
import type { MiniGridEnv } from "../env/minigrid.ts";
import { BabyAIBot } from "../env/babyai/bot.ts";
import { RoomGridLevel } from "../env/babyai/roomgrid_level.ts";
import { encodeMissionInto } from "../env/babyai/vocab.ts";
import { Rng } from "../util/prng.ts";
import { NOISE_TAG, noiseImage } from "../masking/eval.ts";

/** Outcome of a set of closed-loop episodes. */
export interface RolloutSummary {
  /** Fraction of episodes that ended in success (terminated with reward > 0). */
  success_rate: number;
  /** Mean episode return. */
  mean_reward: number;
  /** Mean episode length in steps. */
  mean_length: number;
  /** Episodes run. */
  episodes: number;
  /** Per episode, in the order of the seeds: 1 = success, 0 = not (for paired comparisons). */
  outcomes: number[];
}

function summarize(rewards: number[], lengths: number[], outcomes: number[]): RolloutSummary {
  const n = rewards.length;
  const wins = outcomes.reduce((a, b) => a + b, 0);
  return {
    success_rate: n ? wins / n : NaN,
    mean_reward: n ? rewards.reduce((a, b) => a + b, 0) / n : NaN,
    mean_length: n ? lengths.reduce((a, b) => a + b, 0) / n : NaN,
    episodes: n,
    outcomes,
  };
}

/** Options of {@link rolloutModel}. */
export interface RolloutOptions {
  /** Frames of history per window (the model's K). */
  K: number;
  /** Mission positions (the model's M). */
  M: number;
  /** Step cap per episode (null: the env's own max_steps). */
  maxSteps: number | null;
  /** Argmax actions (true) or sample from the softmax with `seed`. */
  greedy: boolean;
  /** Seed for sampled actions. */
  seed: number;
  /**
   * Optional corruption of each observation before the model sees it
   * (robustness): gets the 147-byte image and may change it in place.
   */
  corrupt?: (image: Uint8Array, envIndex: number, step: number) => void;
  /**
   * Extra partial observability (robustness): every observed cell (object not
   * 0 = unseen) of each new observation is hidden with probability `q`, drawn
   * from its own stream of `seed`. Mode `unseen` turns it into an unseen cell
   * [0, 0, 0] (what the agent gets for a cell it cannot see); mode `mask` gives
   * it to the model as [MASK] in every window that contains the frame.
   */
  hide?: { q: number; mode: "mask" | "unseen" };
  /**
   * Observation noise (robustness): each cell attribute of each new observation is replaced by a
   * uniformly drawn valid value with probability `rho` (never [MASK]; lib/masking/eval.ts
   * `noiseImage`), from its own stream of `seed`. Applied before `hide`.
   */
  noise?: { rho: number };
}

/**
 * A predictor, optionally with a decision-only pass: the action logits of each window's last
 * frame, [B, ACTION_VOCAB], equal to the full pass's to float32 rounding (the blas predictor's
 * `actionLogits`, lib/model/native_predict.ts). The policy uses it where present.
 */
export type PolicyPredictor = Predictor & {
  actionLogits?: (batch: Batch, mask: Mask) => Promise<Float32Array>;
};

/** Tag of the closed-loop hiding stream. */
const HIDE_TAG = 0x48494445;

/**
 * Run the model as a policy on `envId` for every seed in `seeds`, all
 * episodes in lockstep (one forward pass per step for all live episodes). The
 * batch keeps all N rows until the last episode ends (finished episodes repeat
 * their last window and their output is ignored): one input shape, so the
 * model's compiled forward pass is reused instead of recompiled per live count. Where the
 * predictor has a decision-only pass ({@link PolicyPredictor}) each step runs that instead of
 * computing every slot's logits.
 */
export async function rolloutModel(
  predictor: PolicyPredictor,
  envId: string,
  seeds: number[],
  opts: RolloutOptions,
): Promise<RolloutSummary> {
  const { K, M } = opts;
  const N = seeds.length;
  const envs: MiniGridEnv[] = seeds.map(() => make(envId));
  const cap = (env: MiniGridEnv) => opts.maxSteps ?? env.maxSteps;
  /**
   * The episode so far, laid out like stored episode data (frame f at index f): `frames`
   * observations, the actions taken after all but the current one (ACTION_NONE there), and the
   * cells hidden by `opts.hide` per frame. Sized for the step cap, so nothing grows.
   */
  const hist: {
    images: Uint8Array;
    directions: Uint8Array;
    actions: Uint8Array;
    hidden: Uint8Array;
    frames: number;
  }[] = [];
  const hideRng = new Rng(opts.seed, 0, HIDE_TAG);
  const noiseRng = new Rng(opts.seed, 0, NOISE_TAG);
  /** Apply opts.hide to a fresh observation; writes the cells to give as [MASK] into `hidden`. */
  const observe = (img: Uint8Array, hidden: Uint8Array): void => {
    const h = opts.hide;
    if (!h || h.q <= 0) return;
    for (let c = 0; c < CELLS; c++) {
      if (img[c * ATTRS] === 0) continue; // already unseen
      if (hideRng.uniform() >= h.q) continue;
      if (h.mode === "unseen") img.fill(0, c * ATTRS, c * ATTRS + ATTRS);
      else hidden[c] = 1;
    }
  };
  /** Append observation (image, direction) as the episode's next frame. */
  const record = (i: number, image: Uint8Array, direction: number, step: number): void => {
    const h = hist[i];
    const img = image.slice();
    opts.corrupt?.(img, i, step);
    if (opts.noise && opts.noise.rho > 0) noiseImage(img, opts.noise.rho, noiseRng);
    const f = h.frames;
    observe(img, h.hidden.subarray(f * CELLS, (f + 1) * CELLS));
    h.images.set(img, f * FRAME_SIZE);
    h.directions[f] = direction;
    h.frames++;
  };
  const missions: Int32Array[] = [];
  const rewards = new Array(N).fill(0), lengths = new Array(N).fill(0);
  const done = new Array(N).fill(false);
  const outcomes = new Array(N).fill(0);
  const rng = new Rng(opts.seed, 0, 0x524f4c4c);
  for (let i = 0; i < N; i++) {
    const { obs } = envs[i].reset({ seed: seeds[i] });
    const F = cap(envs[i]) + 1;
    hist.push({
      images: new Uint8Array(F * FRAME_SIZE),
      directions: new Uint8Array(F),
      actions: new Uint8Array(F).fill(ACTION_NONE),
      hidden: new Uint8Array(F * CELLS),
      frames: 0,
    });
    record(i, obs.image, obs.direction, 0);
    missions.push(encodeMissionInto(obs.mission, new Int32Array(M)));
  }
  while (done.some((d) => !d)) {
    // Row i of the batch is episode i, finished or not: the window ending at its current frame.
    const batch: Batch = allocBatch(N, K, M);
    const mask = {
      cells: new Uint8Array(N * K * CELLS * ATTRS),
      dirs: new Uint8Array(N * K),
      actions: new Uint8Array(N * K),
      weight: new Float32Array(N).fill(1),
    };
    for (let i = 0; i < N; i++) {
      const h = hist[i];
      const t = h.frames - 1;
      fillWindow(batch, i, h, 0, t, missions[i]);
      for (let k = 0; k < K; k++) {
        const f = t - (K - 1 - k);
        if (f < 0) continue; // padding before the episode's first frame
        const hid = h.hidden.subarray(f * CELLS, (f + 1) * CELLS);
        const j = i * K + k;
        for (let c = 0; c < CELLS; c++) {
          if (hid[c]) mask.cells.fill(1, (j * CELLS + c) * ATTRS, (j * CELLS + c + 1) * ATTRS);
        }
      }
      mask.actions[i * K + K - 1] = 1; // the current frame's action: the decision
    }
    // The decision's logits of row i start at action[stride * i + first].
    const [action, stride, first] = predictor.actionLogits
      ? [await predictor.actionLogits(batch, mask), ACTION_VOCAB, 0]
      : [(await predictor(batch, mask)).action, K * ACTION_VOCAB, (K - 1) * ACTION_VOCAB];
    for (let i = 0; i < N; i++) {
      if (done[i]) continue;
      const off = i * stride + first;
      let a = 0;
      if (opts.greedy) {
        for (let v = 1; v < 7; v++) if (action[off + v] > action[off + a]) a = v;
      } else {
        let max = -Infinity;
        for (let v = 0; v < 7; v++) max = Math.max(max, action[off + v]);
        const p = Array.from({ length: 7 }, (_, v) => Math.exp(action[off + v] - max));
        let u = rng.uniform() * p.reduce((x, y) => x + y, 0);
        a = 6;
        for (let v = 0; v < 7; v++) {
          if ((u -= p[v]) <= 0) {
            a = v;
            break;
          }
        }
      }
      const env = envs[i];
      const act = Math.min(a, env.actionSpaceN - 1);
      const r = env.step(act);
      lengths[i]++;
      rewards[i] += r.reward;
      const h = hist[i];
      h.actions[h.frames - 1] = act; // as stored data records it: the action taken after the frame
      record(i, r.obs.image, r.obs.direction, lengths[i]);
      if (r.terminated || r.truncated || lengths[i] >= cap(env)) {
        done[i] = true;
        if (r.terminated && r.reward > 0) outcomes[i] = 1;
      }
    }
  }
  return summarize(rewards, lengths, outcomes);
}

/** The expert bot on the same seeds (BabyAI levels only; null elsewhere). */
export function rolloutBot(
  envId: string,
  seeds: number[],
  maxSteps: number | null,
): RolloutSummary | null {
  const rewards: number[] = [], lengths: number[] = [], outcomes: number[] = [];
  for (const seed of seeds) {
    const env = make(envId);
    if (!(env instanceof RoomGridLevel)) return null;
    env.reset({ seed });
    const bot = new BabyAIBot(env);
    let last: number | null = null, total = 0, n = 0, win = false;
    const cap = maxSteps ?? env.maxSteps;
    try {
      while (n < cap) {
        last = bot.replan(last);
        const r = env.step(last);
        n++;
        total += r.reward;
        if (r.terminated || r.truncated) {
          win = r.terminated && r.reward > 0;
          break;
        }
      }
    } catch {
      // a bot failure counts as an unsuccessful episode
    }
    rewards.push(total);
    lengths.push(n);
    outcomes.push(win ? 1 : 0);
  }
  return summarize(rewards, lengths, outcomes);
}

/** Uniformly random actions on the same seeds (seeded). */
export function rolloutRandom(
  envId: string,
  seeds: number[],
  maxSteps: number | null,
  seed: number,
): RolloutSummary {
  const rng = new Rng(seed, 1, 0x524f4c4c);
  const rewards: number[] = [], lengths: number[] = [], outcomes: number[] = [];
  for (const s of seeds) {
    const env = make(envId);
    env.reset({ seed: s });
    let total = 0, n = 0, win = false;
    const cap = maxSteps ?? env.maxSteps;
    while (n < cap) {
      const r = env.step(Math.floor(rng.uniform() * env.actionSpaceN));
      n++;
      total += r.reward;
      if (r.terminated || r.truncated) {
        win = r.terminated && r.reward > 0;
        break;
      }
    }
    rewards.push(total);
    lengths.push(n);
    outcomes.push(win ? 1 : 0);
  }
  return summarize(rewards, lengths, outcomes);
}
