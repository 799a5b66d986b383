/**
 * Which windows an evaluation scores: what each window offers as a target, and a deterministic
 * sample stratified over env ids and episodes, the same for every model of a study.
 *
 * @module
 */

import { ACTION_NONE, type Batch } from "../data/types.ts";
import { fillBatch, type WindowedDataset } from "../data/tokenize.ts";

import { lastValidFrame, validFrames } from "../masking/core.ts";
import { Rng } from "../util/prng.ts";

// ---------------------------------------------------------------------------------------------
// Evaluation sets: which windows are scored.

/**
 * What each window of a dataset offers as an evaluation target. Read from the filled rows
 * (through `frameValid` and the last valid frame), so it holds for any window layout.
 */
export interface WindowFacts {
  /** [W] episode of each window. */
  episode: Int32Array;
  /** [W] number of valid frames. */
  frames: Uint8Array;
  /** [W] action of the last valid frame ({@link ACTION_NONE} when it ends its episode). */
  lastAction: Uint8Array;
}

/** {@link WindowFacts} of every window of `ds` (fills the windows in chunks of 256). */
export function windowFacts(ds: WindowedDataset): WindowFacts {
  const W = ds.numWindows;
  const out: WindowFacts = {
    episode: new Int32Array(W),
    frames: new Uint8Array(W),
    lastAction: new Uint8Array(W),
  };
  const ids = new Int32Array(W);
  for (let w = 0; w < W; w++) ids[w] = w;
  const chunk = 256;
  for (let from = 0; from < W; from += chunk) {
    const n = Math.min(chunk, W - from);
    const batch = fillBatch(ds, ids, undefined, from, n);
    for (let b = 0; b < n; b++) {
      const w = from + b;
      out.episode[w] = ds.winEpisode[w];
      out.frames[w] = validFrames(batch, b);
      const k = lastValidFrame(batch, b);
      out.lastAction[w] = k < 0 ? ACTION_NONE : batch.actions[b * batch.K + k];
    }
  }
  return out;
}

/**
 * What a window is scored for:
 * - `next_frame`: at least 2 valid frames (a frame to predict the last one from);
 * - `action`: the last valid frame is a decision (its action is not {@link ACTION_NONE});
 * - `end`: the last valid frame ends its episode (action "none": end-of-episode prediction);
 * - `any`: at least one valid frame (random-cell masks, the ELBO).
 */
export type EvalTask = "next_frame" | "action" | "end" | "any";

/** Ids of the windows eligible for `task`, in increasing order. */
export function eligibleWindows(facts: WindowFacts, task: EvalTask): Int32Array {
  const keep: number[] = [];
  for (let w = 0; w < facts.frames.length; w++) {
    const f = facts.frames[w], a = facts.lastAction[w];
    const ok = task === "next_frame"
      ? f >= 2
      : task === "action"
      ? f >= 1 && a !== ACTION_NONE
      : task === "end"
      ? f >= 1 && a === ACTION_NONE
      : f >= 1;
    if (ok) keep.push(w);
  }
  return Int32Array.from(keep);
}

/** Tag of the evaluation-sample streams. */
const SAMPLE_TAG = 0x53414d50;

function shuffleInPlace(xs: number[], rng: Rng): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = xs[i];
    xs[i] = xs[j];
    xs[j] = t;
  }
}

/**
 * A deterministic sample of at most `n` of the windows `ids`, stratified over groups (env ids)
 * and, within a group, spread over episodes. Every group gets an equal share (a group with fewer
 * windows than its share gives the rest to the others); within a group the episodes, in a seeded
 * order, give one seeded-random window each per round until the share is filled, so no episode
 * gives a second window before every episode gave one. All windows when `n >= ids.length`.
 * `episodeOf[w]` is the episode of window `w`; `groupOfEpisode[e]` the group of episode `e` (null:
 * one group). Returns window ids in increasing order.
 */
export function stratifiedSample(
  ids: ArrayLike<number>,
  episodeOf: ArrayLike<number>,
  groupOfEpisode: ArrayLike<number> | null,
  n: number,
  seed: number,
): Int32Array {
  if (!(n >= 0)) throw new Error(`stratifiedSample: n must be >= 0, got ${n}`);
  if (ids.length <= n) return Int32Array.from(ids).sort();
  // group -> episode -> windows
  const byGroup = new Map<number, Map<number, number[]>>();
  for (let i = 0; i < ids.length; i++) {
    const w = ids[i], e = episodeOf[w];
    const g = groupOfEpisode ? groupOfEpisode[e] : 0;
    let eps = byGroup.get(g);
    if (!eps) byGroup.set(g, eps = new Map());
    let ws = eps.get(e);
    if (!ws) eps.set(e, ws = []);
    ws.push(w);
  }
  const groups = [...byGroup.keys()].sort((a, b) => a - b);
  const size = new Map(
    groups.map((g) => [g, [...byGroup.get(g)!.values()].reduce((a, w) => a + w.length, 0)]),
  );
  // Equal shares, water-filled: groups smaller than their share take all their windows.
  const quota = new Map<number, number>();
  let active = groups.slice(), left = n;
  while (active.length) {
    const share = Math.floor(left / active.length);
    const small = active.filter((g) => size.get(g)! <= share);
    if (!small.length) {
      const order = active.slice();
      shuffleInPlace(order, new Rng(seed, SAMPLE_TAG, 1));
      const extra = left - share * active.length;
      for (const g of active) quota.set(g, share);
      for (let i = 0; i < extra; i++) quota.set(order[i], share + 1);
      break;
    }
    for (const g of small) {
      quota.set(g, size.get(g)!);
      left -= size.get(g)!;
    }
    active = active.filter((g) => !small.includes(g));
  }
  const out: number[] = [];
  for (const g of groups) {
    const q = quota.get(g) ?? 0;
    const eps = [...byGroup.get(g)!.keys()].sort((a, b) => a - b);
    shuffleInPlace(eps, new Rng(seed, SAMPLE_TAG, 2, g));
    const lists = eps.map((e) => {
      const ws = byGroup.get(g)!.get(e)!.slice();
      shuffleInPlace(ws, new Rng(seed, SAMPLE_TAG, 3, e));
      return ws;
    });
    let taken = 0;
    for (let r = 0; taken < q; r++) {
      for (const ws of lists) {
        if (taken >= q) break;
        if (r < ws.length) (out.push(ws[r]), taken++);
      }
    }
  }
  return Int32Array.from(out).sort();
}

/** The windows one evaluation scores, and their groups (env ids) for per-group figures. */
export interface EvalSet {
  /** Window ids scored, in increasing order. */
  windows: Int32Array;
  /** Group (index into `groups`) of each entry of `windows`; null: no per-group figures. */
  groupOf: Int32Array | null;
  /** Group names (env ids). */
  groups: string[];
}

/** Options of {@link evalSet}. */
export interface EvalSetOptions {
  /** Cap on windows (default all). */
  maxWindows?: number;
  /** Seed of the sample. */
  seed: number;
  /** Group of each episode (e.g. a dataset split's `envIndex`); absent: one group. */
  episodeGroup?: ArrayLike<number>;
  /** Names of the group indices (e.g. the split's `envIds`). */
  groups?: string[];
  /** Precomputed {@link windowFacts} of `ds`. */
  facts?: WindowFacts;
}

/** The windows of `ds` scored for `task`: eligible ones, sampled by {@link stratifiedSample}. */
export function evalSet(ds: WindowedDataset, task: EvalTask, opts: EvalSetOptions): EvalSet {
  const facts = opts.facts ?? windowFacts(ds);
  const eg = opts.episodeGroup ?? null;
  const windows = stratifiedSample(
    eligibleWindows(facts, task),
    facts.episode,
    eg,
    opts.maxWindows ?? Infinity,
    opts.seed,
  );
  const groupOf = eg ? windows.map((w) => eg[facts.episode[w]]) : null;
  return { windows, groupOf, groups: opts.groups ?? [] };
}

/** Batches of the windows `windows` of `ds`, in order, at most `batchSize` each (last one smaller). */
export function* evalBatches(
  ds: WindowedDataset,
  windows: ArrayLike<number>,
  batchSize: number,
): Generator<{ batch: Batch; from: number }> {
  if (!(batchSize >= 1)) throw new Error(`evalBatches: batch size must be >= 1, got ${batchSize}`);
  for (let from = 0; from < windows.length; from += batchSize) {
    const n = Math.min(batchSize, windows.length - from);
    yield { batch: fillBatch(ds, windows, undefined, from, n), from };
  }
}

/** Options of the evaluation loops. */
