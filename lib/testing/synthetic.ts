/**
 * Fixtures for tests and benchmarks (nothing in lib/ imports this folder): seeded synthetic
 * batches and masks with learnable structure, for code that must not depend on the dataset
 * pipeline, and random but valid episode data for the tokenizer and the batcher.
 *
 * Structure: every window shows one random scene repeated over its frames
 * (so a hidden cell can be copied from another frame), colours are a function
 * of object and cell index, doors (obj 4) carry a state, the direction turns
 * by one each frame and the action is a function of direction and the first
 * mission word. Some windows end early (padding frames).
 *
 * @module
 */

import {
  ACTION_NONE,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Mask,
  OBJ_VOCAB,
  STATE_VOCAB,
} from "../data/types.ts";
import { type EpisodeData, FRAME_SIZE } from "../data/tokenize.ts";
import { mulberry32 } from "../model/params.ts";

/** A seeded synthetic batch of B windows of K frames with an M-word mission prefix. */
export function syntheticBatch(B: number, K: number, M: number, seed: number): Batch {
  const rand = mulberry32(seed * 2654435761 + 17);
  const ri = (n: number) => Math.floor(rand() * n);
  const cells = new Int32Array(B * K * CELLS * 3);
  const dirs = new Int32Array(B * K), actions = new Int32Array(B * K);
  const mission = new Int32Array(B * M);
  const frameValid = new Uint8Array(B * K);
  const objs = [1, 1, 1, 2, 2, 4, 5, 6, 7];
  for (let b = 0; b < B; b++) {
    const mlen = M === 0 ? 0 : 1 + ri(M);
    for (let m = 0; m < mlen; m++) mission[b * M + m] = 1 + ri(20);
    const validK = rand() < 0.25 ? 1 + ri(K) : K;
    const scene = new Int32Array(CELLS * 3);
    for (let c = 0; c < CELLS; c++) {
      const o = objs[ri(objs.length)];
      scene[c * 3] = o;
      scene[c * 3 + 1] = (o * 3 + c) % 6;
      scene[c * 3 + 2] = o === 4 ? ri(3) : 0;
    }
    const d0 = ri(4);
    for (let t = 0; t < K; t++) {
      const bt = b * K + t;
      frameValid[bt] = t < validK ? 1 : 0;
      if (t >= validK) continue;
      cells.set(scene, bt * CELLS * 3);
      dirs[bt] = (d0 + t) % 4;
      actions[bt] = t === validK - 1 ? ACTION_NONE : (dirs[bt] + (M > 0 ? mission[b * M] : 0)) % 7;
    }
  }
  return { B, K, M, cells, dirs, actions, mission, frameValid };
}

/**
 * A seeded random mask hiding each attribute slot, direction and action with
 * probability p (never padding frames); window weight `1/p` when `elbo`, else 1.
 */
export function syntheticMask(batch: Batch, p: number, seed: number, elbo = false): Mask {
  const rand = mulberry32(seed * 40503 + 99);
  const { B, K } = batch;
  const cells = new Uint8Array(B * K * CELLS * 3);
  const dirs = new Uint8Array(B * K), actions = new Uint8Array(B * K);
  for (let f = 0; f < B * K; f++) {
    if (!batch.frameValid[f]) continue;
    for (let j = 0; j < CELLS * 3; j++) cells[f * CELLS * 3 + j] = rand() < p ? 1 : 0;
    dirs[f] = rand() < p ? 1 : 0;
    actions[f] = rand() < p ? 1 : 0;
  }
  // Guarantee at least one hidden slot so the loss is defined.
  if (!cells.some((x) => x)) cells[0] = 1;
  const weight = new Float32Array(B).fill(elbo ? 1 / p : 1);
  // with `elbo`, odd windows are marked as any-order windows (the balanced loss's ELBO form)
  const elboRows = new Uint8Array(B);
  if (elbo) { for (let b = 1; b < B; b += 2) elboRows[b] = 1; }
  return { cells, dirs, actions, weight, elbo: elboRows };
}

/** AdamW settings of the throughput benchmarks (bench/train_speed.ts, bench/step_profile.ts). */
export const BENCH_OPTIM = {
  lr: 1e-3,
  minLr: 1e-4,
  warmupSteps: 10,
  steps: 1000,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.98,
  eps: 1e-8,
  clipNorm: 1,
} as const;

/** Unit weights of the five output heads. */
export const UNIT_HEAD_WEIGHTS = { obj: 1, color: 1, state: 1, dir: 1, action: 1 } as const;

/**
 * Random but valid episode data, for tests and benchmarks: `episodes` episodes of 1..`maxLen`
 * frames (uniform), every value within its vocabulary, the final frame's action
 * {@link ACTION_NONE}, BabyAI missions. Deterministic from `seed`.
 */
export function syntheticEpisodes(episodes: number, maxLen: number, seed = 0): EpisodeData {
  let x = (seed * 2654435761 + 12345) >>> 0;
  const rnd = (n: number): number => {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  const lens: number[] = [];
  for (let e = 0; e < episodes; e++) lens.push(1 + rnd(maxLen));
  const F = lens.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(F * FRAME_SIZE);
  for (let i = 0; i < images.length; i++) {
    images[i] = rnd([OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB][i % 3]);
  }
  const directions = new Uint8Array(F), actions = new Uint8Array(F);
  const episodeOffsets = new Int32Array(episodes + 1);
  const colors = ["red", "green", "blue", "purple", "yellow", "grey"];
  const objs = ["ball", "box", "key"];
  const missions: string[] = [];
  let f = 0;
  for (let e = 0; e < episodes; e++) {
    episodeOffsets[e] = f;
    for (let k = 0; k < lens[e]; k++, f++) {
      directions[f] = rnd(DIR_VOCAB);
      actions[f] = k === lens[e] - 1 ? ACTION_NONE : rnd(7);
    }
    missions.push(`go to the ${colors[rnd(6)]} ${objs[rnd(3)]}`);
  }
  episodeOffsets[episodes] = F;
  return { images, directions, actions, episodeOffsets, missions };
}
