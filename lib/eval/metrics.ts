/**
 * Evaluation metrics over any {@link Predictor}: observation accuracy per
 * attribute and per cell (on all hidden cells and on the cells that changed
 * since the previous frame), action accuracy, NLL (nats per hidden slot, bits
 * per frame) and the any-order ELBO, each over a deterministic sample of
 * windows stratified over env ids and episodes ({@link evalSet}), pooled and
 * per group; iterative decoding over any predictor ({@link iterativePredictor});
 * and the baselines as predictors, so they are scored by the same code: the
 * frequency model (majority), copy-previous and the action-aware copy.
 *
 * @module
 */

import {
  ACTION_NONE,
  ACTION_VOCAB,
  ATTRS,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Logits,
  type Mask,
  OBJ_VOCAB,
  type Predictor,
  STATE_VOCAB,
} from "../data/types.ts";
import { fillBatch, type WindowedDataset } from "../data/tokenize.ts";
import { applyEvalMask, type EvalMaskSpec, hideObservedCells } from "../masking/eval.ts";
import { lastValidFrame, validFrames } from "../masking/core.ts";
import { Rng } from "../masking/prng.ts";
import { decodeIterativeWith } from "../model/decode.ts";

const ATTR_V = [OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB] as const;
const ATTR_KEYS = ["obj", "color", "state"] as const;

/** Running counts of one evaluation (add batches with {@link scoreBatch}). */
export interface Tally {
  /** Hidden attribute slots and how many were right, per attribute. */
  attr: { obj: [number, number]; color: [number, number]; state: [number, number] };
  /** [correct, total] over hidden cells (all three attributes right). */
  cell: [number, number];
  /** [correct, total] over hidden cells that differ from the previous frame. */
  changed: [number, number];
  /** [correct, total] over hidden direction slots. */
  dir: [number, number];
  /** [correct, total] over hidden action slots (targets ACTION_NONE excluded). */
  action: [number, number];
  /** Sum of -log p(target) over every hidden slot scored. */
  nll: number;
  /** Number of hidden slots in `nll`. */
  slots: number;
  /** Number of windows with at least one hidden slot. */
  windows: number;
}

/** An empty tally. */
export function newTally(): Tally {
  return {
    attr: { obj: [0, 0], color: [0, 0], state: [0, 0] },
    cell: [0, 0],
    changed: [0, 0],
    dir: [0, 0],
    action: [0, 0],
    nll: 0,
    slots: 0,
    windows: 0,
  };
}

/** Argmax and -log softmax at `target` of `V` logits starting at `off`. */
function slot(logits: Float32Array, off: number, V: number, target: number): [number, number] {
  let best = 0, max = -Infinity;
  for (let v = 0; v < V; v++) {
    const x = logits[off + v];
    if (x > max) {
      max = x;
      best = v;
    }
  }
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(logits[off + v] - max);
  return [best, Math.log(z) + max - logits[off + target]];
}

/**
 * Score `logits` against the true `batch` on the slots hidden in `target`
 * (1 = scored). Counts go into `t`.
 */
export function scoreBatch(batch: Batch, target: Mask, logits: Logits, t: Tally): void {
  const { B, K } = batch;
  const cellsL = [logits.obj, logits.color, logits.state];
  for (let b = 0; b < B; b++) {
    let any = false;
    for (let k = 0; k < K; k++) {
      const j = b * K + k;
      if (!batch.frameValid[j]) continue;
      const prevValid = k > 0 && batch.frameValid[j - 1] === 1;
      for (let c = 0; c < CELLS; c++) {
        const o = (j * CELLS + c) * ATTRS;
        let hidden = 0, right = 0, changed = false;
        for (let a = 0; a < ATTRS; a++) {
          if (!target.cells[o + a]) continue;
          hidden++;
          const y = batch.cells[o + a];
          const [p, nll] = slot(cellsL[a], (j * CELLS + c) * ATTR_V[a], ATTR_V[a], y);
          const tally = t.attr[ATTR_KEYS[a]];
          tally[1]++;
          if (p === y) {
            tally[0]++;
            right++;
          }
          t.nll += nll;
          t.slots++;
        }
        if (hidden === 0) continue;
        any = true;
        if (prevValid) {
          const po = ((j - 1) * CELLS + c) * ATTRS;
          for (let a = 0; a < ATTRS; a++) {
            if (batch.cells[po + a] !== batch.cells[o + a]) changed = true;
          }
        }
        const ok = right === hidden ? 1 : 0;
        t.cell[0] += ok;
        t.cell[1]++;
        if (changed) {
          t.changed[0] += ok;
          t.changed[1]++;
        }
      }
      if (target.dirs[j]) {
        const [p, nll] = slot(logits.dir, j * DIR_VOCAB, DIR_VOCAB, batch.dirs[j]);
        t.dir[1]++;
        if (p === batch.dirs[j]) t.dir[0]++;
        t.nll += nll;
        t.slots++;
        any = true;
      }
      if (target.actions[j] && batch.actions[j] !== ACTION_NONE) {
        const [p, nll] = slot(logits.action, j * ACTION_VOCAB, ACTION_VOCAB, batch.actions[j]);
        t.action[1]++;
        if (p === batch.actions[j]) t.action[0]++;
        t.nll += nll;
        t.slots++;
        any = true;
      }
    }
    if (any) t.windows++;
  }
}

/** correct / total, NaN when nothing was scored. */
export function ratio([c, n]: [number, number]): number {
  return n > 0 ? c / n : NaN;
}

/** Observation and action figures of a tally. */
export interface ObsSummary {
  /** All three attributes right, over hidden cells. */
  cell_acc: number;
  /** Same, over hidden cells that changed since the previous frame. */
  changed_cell_acc: number;
  /** Per-attribute accuracy over hidden attribute slots. */
  obj_acc: number;
  /** Colour accuracy. */
  color_acc: number;
  /** State accuracy. */
  state_acc: number;
  /** Direction accuracy. */
  dir_acc: number;
  /** Action accuracy (ACTION_NONE targets excluded). */
  action_acc: number;
  /** Mean -log p over hidden slots (nats). */
  nats_per_slot: number;
  /** Total -log2 p per window with hidden slots (bits per predicted frame for next-frame masks). */
  bits_per_frame: number;
  /** Hidden cells scored. */
  cells: number;
  /** Hidden changed cells scored. */
  changed_cells: number;
}

/** Summarise a tally. */
export function summarize(t: Tally): ObsSummary {
  return {
    cell_acc: ratio(t.cell),
    changed_cell_acc: ratio(t.changed),
    obj_acc: ratio(t.attr.obj),
    color_acc: ratio(t.attr.color),
    state_acc: ratio(t.attr.state),
    dir_acc: ratio(t.dir),
    action_acc: ratio(t.action),
    nats_per_slot: t.slots > 0 ? t.nll / t.slots : NaN,
    bits_per_frame: t.windows > 0 ? t.nll / Math.LN2 / t.windows : NaN,
    cells: t.cell[1],
    changed_cells: t.changed[1],
  };
}

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
export interface EvalOptions {
  /** Windows per forward pass. */
  batchSize: number;
  /** Seed of the evaluation masks (fixed, so every model sees the same masks). */
  seed: number;
  /** Cap on windows evaluated when `set` is absent (a sample stratified over episodes). */
  maxWindows?: number;
  /** The windows to score (default: the eligible windows of the mask's task, see {@link evalSet}). */
  set?: EvalSet;
}

/** The task whose windows a mask kind scores. */
function taskOf(spec: EvalMaskSpec): EvalTask {
  return spec.kind === "next_frame" ? "next_frame" : spec.kind === "next_action" ? "action" : "any";
}

function setOf(ds: WindowedDataset, spec: EvalMaskSpec, opts: EvalOptions): EvalSet {
  return opts.set ?? evalSet(ds, taskOf(spec), { maxWindows: opts.maxWindows, seed: opts.seed });
}

/**
 * The slots scored under `spec`: the mask itself, except that `next_frame` scores the frame's
 * cells and direction only (its action is hidden so that it cannot give the frame away, but
 * predicting it is the action metric's job).
 */
export function scoredSlots(spec: EvalMaskSpec, mask: Mask): Mask {
  if (spec.kind !== "next_frame") return mask;
  return { ...mask, actions: new Uint8Array(mask.actions.length) };
}

/** Add the counts of `src` into `dst`. */
export function addTally(dst: Tally, src: Tally): void {
  for (const k of ATTR_KEYS) {
    dst.attr[k][0] += src.attr[k][0];
    dst.attr[k][1] += src.attr[k][1];
  }
  for (const k of ["cell", "changed", "dir", "action"] as const) {
    dst[k][0] += src[k][0];
    dst[k][1] += src[k][1];
  }
  dst.nll += src.nll;
  dst.slots += src.slots;
  dst.windows += src.windows;
}

/** Pooled and per-group figures of one evaluation. */
export interface GroupedSummary {
  /** Over every scored window (each group weighted by its share of the sample). */
  pooled: ObsSummary;
  /** Per group name (only groups with scored windows). */
  groups: Record<string, ObsSummary>;
}

/** One row's batch as a one-row view is not needed: score rows into per-group tallies. */
function scoreGrouped(
  batch: Batch,
  target: Mask,
  logits: Logits,
  pooled: Tally,
  perGroup: Map<number, Tally> | null,
  groupOf: Int32Array | null,
  from: number,
): void {
  if (!perGroup || !groupOf) {
    scoreBatch(batch, target, logits, pooled);
    return;
  }
  // Score the batch once per group present, with the other rows' targets cleared.
  const present = new Set<number>();
  for (let b = 0; b < batch.B; b++) present.add(groupOf[from + b]);
  for (const g of present) {
    const t = newTally();
    scoreBatch(batch, rowsOnly(batch, target, (b) => groupOf[from + b] === g), logits, t);
    addTally(pooled, t);
    let gt = perGroup.get(g);
    if (!gt) perGroup.set(g, gt = newTally());
    addTally(gt, t);
  }
}

/** `mask` with the targets of the rows where `keep(b)` is false cleared. */
function rowsOnly(batch: Batch, mask: Mask, keep: (b: number) => boolean): Mask {
  const { B, K } = batch;
  const out: Mask = {
    cells: mask.cells.slice(),
    dirs: mask.dirs.slice(),
    actions: mask.actions.slice(),
    weight: mask.weight,
  };
  const per = K * CELLS * ATTRS;
  for (let b = 0; b < B; b++) {
    if (keep(b)) continue;
    out.cells.fill(0, b * per, (b + 1) * per);
    out.dirs.fill(0, b * K, (b + 1) * K);
    out.actions.fill(0, b * K, (b + 1) * K);
  }
  return out;
}

function groupedResult(pooled: Tally, perGroup: Map<number, Tally> | null, names: string[]) {
  const groups: Record<string, ObsSummary> = {};
  if (perGroup) {
    for (const [g, t] of [...perGroup.entries()].sort((a, b) => a[0] - b[0])) {
      groups[names[g] ?? `group${g}`] = summarize(t);
    }
  }
  return { pooled: summarize(pooled), groups };
}

/** Score `predictor` under the fixed evaluation mask `spec`: pooled and per-group figures. */
export async function evaluateMaskedGroups(
  predictor: Predictor,
  ds: WindowedDataset,
  spec: EvalMaskSpec,
  opts: EvalOptions,
): Promise<GroupedSummary> {
  const set = setOf(ds, spec, opts);
  const pooled = newTally();
  const perGroup = set.groupOf ? new Map<number, Tally>() : null;
  let i = 0;
  for (const { batch, from } of evalBatches(ds, set.windows, opts.batchSize)) {
    const mask = applyEvalMask(batch, spec, { seed: opts.seed, batchIndex: i++ });
    const logits = await predictor(batch, mask);
    scoreGrouped(batch, scoredSlots(spec, mask), logits, pooled, perGroup, set.groupOf, from);
  }
  return groupedResult(pooled, perGroup, set.groups);
}

/** Score `predictor` under the fixed evaluation mask `spec` over a split (pooled figures). */
export async function evaluateMasked(
  predictor: Predictor,
  ds: WindowedDataset,
  spec: EvalMaskSpec,
  opts: EvalOptions,
): Promise<ObsSummary> {
  return (await evaluateMaskedGroups(predictor, ds, spec, opts)).pooled;
}

/**
 * Robustness: hide an extra fraction `q` of the observed context cells (as
 * [MASK] or as unseen) and score the targets of `spec` only.
 */
export async function evaluateCorrupted(
  predictor: Predictor,
  ds: WindowedDataset,
  spec: EvalMaskSpec,
  q: number,
  mode: "mask" | "unseen",
  opts: EvalOptions,
): Promise<ObsSummary> {
  const set = setOf(ds, spec, opts);
  const t = newTally();
  let i = 0;
  for (const { batch } of evalBatches(ds, set.windows, opts.batchSize)) {
    const target = applyEvalMask(batch, spec, { seed: opts.seed, batchIndex: i });
    const c = hideObservedCells(batch, target, { q, mode, seed: opts.seed, batchIndex: i++ });
    scoreBatch(batch, scoredSlots(spec, target), await predictor(c.batch, c.inputMask), t);
  }
  return summarize(t);
}

/**
 * Slots the ELBO's numerator can score in the valid frames of `batch`: 147 cell attributes and
 * the direction per frame, plus the action where it is a real decision (an {@link ACTION_NONE}
 * target is never scored, so it is not counted either).
 */
export function elboSlots(batch: Batch): number {
  let n = 0;
  for (let j = 0; j < batch.B * batch.K; j++) {
    if (!batch.frameValid[j]) continue;
    n += CELLS * ATTRS + 1 + (batch.actions[j] !== ACTION_NONE ? 1 : 0);
  }
  return n;
}

/**
 * The any-order ELBO bound on the NLL, in nats per slot: for each t, every
 * slot is hidden with probability t and the summed -log p is weighted by 1/t;
 * the estimate is averaged over `ts` and divided by the number of slots that
 * can be scored ({@link elboSlots}: 148 per valid frame, 149 where the frame's
 * action is a real decision).
 */
export async function evaluateElbo(
  predictor: Predictor,
  ds: WindowedDataset,
  ts: number[],
  opts: EvalOptions,
): Promise<number> {
  if (ts.length === 0) return NaN;
  const set = opts.set ?? evalSet(ds, "any", { maxWindows: opts.maxWindows, seed: opts.seed });
  let total = 0;
  for (const tt of ts) {
    const t = newTally();
    let slots = 0, i = 0;
    for (const { batch } of evalBatches(ds, set.windows, opts.batchSize)) {
      const mask = applyEvalMask(batch, { kind: "any_order_t", t: tt }, {
        seed: opts.seed,
        batchIndex: i++,
      });
      scoreBatch(batch, mask, await predictor(batch, mask), t);
      slots += elboSlots(batch);
    }
    total += t.nll / tt / Math.max(1, slots);
  }
  return total / ts.length;
}

/**
 * End-of-episode prediction: over windows whose last valid frame ends its episode, the fraction
 * where the action head's argmax (over all classes, "none" included) is {@link ACTION_NONE}.
 * Reported apart from action accuracy, which scores decisions only.
 */
export async function evaluateEndOfEpisode(
  predictor: Predictor,
  ds: WindowedDataset,
  opts: EvalOptions,
): Promise<{ acc: number; windows: number }> {
  const set = opts.set ?? evalSet(ds, "end", { maxWindows: opts.maxWindows, seed: opts.seed });
  let right = 0, n = 0, i = 0;
  for (const { batch } of evalBatches(ds, set.windows, opts.batchSize)) {
    const mask = applyEvalMask(batch, { kind: "next_action" }, {
      seed: opts.seed,
      batchIndex: i++,
    });
    const L = await predictor(batch, mask);
    for (let b = 0; b < batch.B; b++) {
      const k = lastValidFrame(batch, b);
      if (k < 0) continue;
      const j = b * batch.K + k;
      n++;
      if (argmax(L.action.subarray(j * ACTION_VOCAB, (j + 1) * ACTION_VOCAB)) === ACTION_NONE) {
        right++;
      }
    }
  }
  return { acc: n ? right / n : NaN, windows: n };
}

// ---------------------------------------------------------------------------------------------
// Iterative decoding over any predictor.

/**
 * Iterative low-confidence remasking (LLaDA-style) over any one-pass {@link Predictor}: every
 * hidden slot starts as [MASK]; in each of `steps` rounds the predictor fills the still-hidden
 * slots and the most confident ones are committed and become visible inputs of the next round
 * (`decodeIterativeWith` of lib/model/transformer.ts, the loop every device's predictor uses).
 * `steps = 1` returns `predictor` itself.
 */
export function iterativePredictor(predictor: Predictor, steps: number): Predictor {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`eval.decode_steps must be an integer >= 1, got ${steps}`);
  }
  if (steps === 1) return predictor;
  return (batch, mask) => decodeIterativeWith(predictor, batch, mask, steps);
}

// ---------------------------------------------------------------------------------------------
// Baselines: frequency model (majority), copy-previous and action-aware copy.

/** How often copying is right on the training split (the copy baselines' mixture weights). */
export interface CopyRates {
  /** Per attribute (object, colour, state): fraction of copied cells that were right. */
  cells: [number, number, number];
  /** Fraction of copied directions that were right. */
  dir: number;
}

/** Class counts of the training data, for the baselines. */
export interface ClassCounts {
  /** Per attribute, counts of each value over every valid cell. */
  cells: [Float64Array, Float64Array, Float64Array];
  /** Direction counts. */
  dir: Float64Array;
  /** Action counts (ACTION_NONE excluded). */
  action: Float64Array;
  /** Copy-previous hit rates (add-one smoothed) over consecutive training frames ({@link classCounts}). */
  copyPrev?: CopyRates;
  /** Action-aware copy hit rates over the cells that stay in view ({@link classCounts}). */
  copyMoved?: CopyRates;
}

/** MiniGrid action ids the action-aware copy moves the view for. */
const ACT_LEFT = 0, ACT_RIGHT = 1, ACT_FORWARD = 2;
/** View cell of the agent (vx = 3, vy = 6) and of the cell in front of it (vx = 3, vy = 5). */
const AGENT_CELL = 3 * 7 + 6, FRONT_CELL = 3 * 7 + 5;

function viewTable(map: (vx: number, vy: number) => [number, number]): Int16Array {
  const t = new Int16Array(CELLS);
  for (let vx = 0; vx < 7; vx++) {
    for (let vy = 0; vy < 7; vy++) {
      const [sx, sy] = map(vx, vy);
      t[vx * 7 + vy] = sx >= 0 && sx < 7 && sy >= 0 && sy < 7 ? sx * 7 + sy : -1;
    }
  }
  return t;
}

/**
 * Where each cell of the next egocentric view comes from in the previous one, after the agent
 * turned left / turned right / moved forward (the agent sits at vx = 3, vy = 6 facing vy = 0).
 * A turn rotates the view about the agent; a forward move shifts it one row towards the agent
 * (the agent's own cell shows what it carries, so it keeps its previous value). -1: the cell was
 * not in the previous view.
 */
export const VIEW_SOURCES: { left: Int16Array; right: Int16Array; forward: Int16Array } = {
  // Relative to the agent (dx = vx - 3, dy = vy - 6): a left turn brings (dx, dy) to (-dy, dx)...
  left: viewTable((vx, vy) => [vy - 3, 9 - vx]),
  // ... a right turn to (dy, -dx).
  right: viewTable((vx, vy) => [9 - vy, vx + 3]),
  forward: (() => {
    const t = viewTable((vx, vy) => [vx, vy - 1]);
    t[AGENT_CELL] = AGENT_CELL;
    return t;
  })(),
};

/** Object ids the agent can step onto (empty, floor, goal, lava); an open door too. */
const PASSABLE = new Set([1, 3, 8, 9]);

/**
 * The source table of the action-aware copy for `action` taken in the frame whose cell in front
 * of the agent is `front` ([object, colour, state]); null when the view stays (other actions, or
 * a forward move into something the agent cannot enter).
 */
export function viewSourcesFor(action: number, front: ArrayLike<number>): Int16Array | null {
  if (action === ACT_LEFT) return VIEW_SOURCES.left;
  if (action === ACT_RIGHT) return VIEW_SOURCES.right;
  if (action === ACT_FORWARD) {
    const moved = PASSABLE.has(front[0]) || (front[0] === 4 && front[2] === 0);
    return moved ? VIEW_SOURCES.forward : null;
  }
  return null;
}

/** The direction after `action` from `dir` (MiniGrid: left = -1, right = +1 mod 4). */
function dirAfter(action: number, dir: number): number {
  return action === ACT_LEFT ? (dir + 3) % 4 : action === ACT_RIGHT ? (dir + 1) % 4 : dir;
}

/** Count classes (and the copy baselines' hit rates) over the frames of a windowed dataset's episodes. */
export function classCounts(ds: WindowedDataset): ClassCounts {
  const d = ds.data;
  const out: ClassCounts = {
    cells: [
      new Float64Array(OBJ_VOCAB),
      new Float64Array(COLOR_VOCAB),
      new Float64Array(STATE_VOCAB),
    ],
    dir: new Float64Array(DIR_VOCAB),
    action: new Float64Array(ACTION_VOCAB),
  };
  const F = d.directions.length;
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < CELLS; c++) {
      for (let a = 0; a < ATTRS; a++) out.cells[a][d.images[(f * CELLS + c) * ATTRS + a]]++;
    }
    out.dir[d.directions[f]]++;
    if (d.actions[f] !== ACTION_NONE) out.action[d.actions[f]]++;
  }
  // Copy hit rates over consecutive frames of one episode.
  const prev = new Float64Array(8), moved = new Float64Array(8); // [hit, n] x (obj, col, state, dir)
  for (let e = 0; e < ds.numEpisodes; e++) {
    for (let f = ds.offsets[e] + 1; f < ds.offsets[e + 1]; f++) {
      const p = f - 1, act = d.actions[p];
      const src = viewSourcesFor(act, d.images.subarray((p * CELLS + FRONT_CELL) * ATTRS));
      for (let c = 0; c < CELLS; c++) {
        const s = src ? src[c] : c;
        for (let a = 0; a < ATTRS; a++) {
          const y = d.images[(f * CELLS + c) * ATTRS + a];
          prev[2 * a] += d.images[(p * CELLS + c) * ATTRS + a] === y ? 1 : 0;
          prev[2 * a + 1]++;
          if (s < 0) continue;
          moved[2 * a] += d.images[(p * CELLS + s) * ATTRS + a] === y ? 1 : 0;
          moved[2 * a + 1]++;
        }
      }
      prev[6] += d.directions[p] === d.directions[f] ? 1 : 0;
      prev[7]++;
      moved[6] += dirAfter(act, d.directions[p]) === d.directions[f] ? 1 : 0;
      moved[7]++;
    }
  }
  // Add-one smoothed, so that a copy that was always right still leaves mass to other values.
  const r = (hit: number, n: number) => (hit + 1) / (n + 2);
  const rates = (x: Float64Array): CopyRates | undefined =>
    x[7] > 0
      ? { cells: [r(x[0], x[1]), r(x[2], x[3]), r(x[4], x[5])], dir: r(x[6], x[7]) }
      : undefined;
  out.copyPrev = rates(prev);
  out.copyMoved = rates(moved);
  return out;
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Log-probabilities of the add-one-smoothed frequencies `counts`. */
function logFreq(counts: Float64Array): Float32Array {
  const total = counts.reduce((a, b) => a + b, 0) + counts.length;
  return Float32Array.from(counts, (x) => Math.log((x + 1) / total));
}

function allocLogits(B: number, K: number): Logits {
  const n = B * K;
  return {
    obj: new Float32Array(n * CELLS * OBJ_VOCAB),
    color: new Float32Array(n * CELLS * COLOR_VOCAB),
    state: new Float32Array(n * CELLS * STATE_VOCAB),
    dir: new Float32Array(n * DIR_VOCAB),
    action: new Float32Array(n * ACTION_VOCAB),
  };
}

/** Mixture weight of the copied value when hand-built counts carry no measured hit rates. */
const NOMINAL_COPY_RATE = 0.9;

/**
 * Baseline (frequency model): every slot gets the add-one-smoothed class frequencies of the
 * training split as its distribution; its argmax is the majority class, and its NLL is that of a
 * real distribution fitted on the training data.
 */
export function majorityPredictor(counts: ClassCounts): Predictor {
  const lf = [logFreq(counts.cells[0]), logFreq(counts.cells[1]), logFreq(counts.cells[2])];
  const lDir = logFreq(counts.dir), lAct = logFreq(counts.action);
  return (batch) => {
    const { B, K } = batch;
    const L = allocLogits(B, K);
    const heads = [L.obj, L.color, L.state];
    for (let j = 0; j < B * K; j++) {
      for (let c = 0; c < CELLS; c++) {
        for (let a = 0; a < ATTRS; a++) heads[a].set(lf[a], (j * CELLS + c) * ATTR_V[a]);
      }
      L.dir.set(lDir, j * DIR_VOCAB);
      L.action.set(lAct, j * ACTION_VOCAB);
    }
    return Promise.resolve(L);
  };
}

/** Write log(rate·[v = value] + (1 - rate)·freq(v)) at `off`. */
function mixLogits(
  out: Float32Array,
  off: number,
  logf: Float32Array,
  value: number,
  rate: number,
): void {
  const r = Math.min(rate, 1 - 1e-6); // a hand-built rate of 1 must not give log 0
  for (let v = 0; v < logf.length; v++) {
    out[off + v] = Math.log((1 - r) * Math.exp(logf[v]) + (v === value ? r : 0));
  }
}

/**
 * The copy baselines: a hidden cell attribute (or direction) of frame k is predicted from
 * frame k-1 when that slot is visible — copied in place (`moved: false`), or moved by the
 * action taken in frame k-1 when that action is visible (`moved: true`; see
 * {@link VIEW_SOURCES}: turns rotate the view and the direction, a forward move into an
 * enterable cell shifts it, other actions keep it). The distribution is a mixture: the copied
 * value with the training split's copy hit rate, the rest spread by the class frequencies; slots
 * with nothing to copy (first frame, a hidden source, cells newly in view) get the frequencies.
 * Actions: the frequency model. It never reads a hidden slot.
 */
function copyPredictor(counts: ClassCounts, moved: boolean): Predictor {
  const majority = majorityPredictor(counts);
  const lf = [logFreq(counts.cells[0]), logFreq(counts.cells[1]), logFreq(counts.cells[2])];
  const lDir = logFreq(counts.dir);
  const rates = (moved ? counts.copyMoved : counts.copyPrev) ??
    { cells: [NOMINAL_COPY_RATE, NOMINAL_COPY_RATE, NOMINAL_COPY_RATE], dir: NOMINAL_COPY_RATE };
  return async (batch, mask) => {
    const L = await majority(batch, mask);
    const heads = [L.obj, L.color, L.state];
    const { B, K } = batch;
    for (let b = 0; b < B; b++) {
      for (let k = 1; k < K; k++) {
        const j = b * K + k;
        if (!batch.frameValid[j - 1] || !batch.frameValid[j]) continue;
        const act = mask.actions[j - 1] ? ACTION_NONE : batch.actions[j - 1];
        const fo = ((j - 1) * CELLS + FRONT_CELL) * ATTRS;
        const frontVisible = !(mask.cells[fo] | mask.cells[fo + 1] | mask.cells[fo + 2]);
        const src = moved && (act !== ACT_FORWARD || frontVisible)
          ? viewSourcesFor(act, batch.cells.subarray(fo, fo + ATTRS))
          : null;
        for (let c = 0; c < CELLS; c++) {
          const s = src ? src[c] : c;
          if (s < 0) continue;
          const po = ((j - 1) * CELLS + s) * ATTRS;
          for (let a = 0; a < ATTRS; a++) {
            if (mask.cells[po + a]) continue;
            mixLogits(
              heads[a],
              (j * CELLS + c) * ATTR_V[a],
              lf[a],
              batch.cells[po + a],
              rates.cells[a],
            );
          }
        }
        if (!mask.dirs[j - 1]) {
          const d = moved ? dirAfter(act, batch.dirs[j - 1]) : batch.dirs[j - 1];
          mixLogits(L.dir, j * DIR_VOCAB, lDir, d, rates.dir);
        }
      }
    }
    return L;
  };
}

/**
 * Baseline: a hidden cell or direction is copied from the previous frame when
 * that frame's slot is visible (a mixture with the class frequencies, weighted by the
 * training split's copy hit rate); otherwise the frequency model. Actions: the frequency model.
 * It never reads a hidden slot.
 */
export function copyPreviousPredictor(counts: ClassCounts): Predictor {
  return copyPredictor(counts, false);
}

/**
 * Baseline: the previous egocentric view moved by the action taken (turns rotate the view and
 * the direction, a forward move shifts the view one row when the agent could enter the cell in
 * front; other actions copy), what a model must beat to show it learned dynamics rather than
 * persistence. Cells newly in view get the frequency model. It never reads a hidden slot.
 */
export function actionCopyPredictor(counts: ClassCounts): Predictor {
  return copyPredictor(counts, true);
}
