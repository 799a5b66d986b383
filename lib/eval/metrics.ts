/**
 * Evaluation metrics over any {@link Predictor}: observation accuracy per
 * attribute and per cell (on all hidden cells and on the cells that changed
 * since the previous frame), action accuracy, NLL (nats per hidden slot, bits
 * per frame) and the any-order ELBO; plus the copy-previous-frame and
 * majority-class baselines as predictors, so they are scored by the same code.
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
import { BatchIterator } from "../data/batch.ts";
import type { WindowedDataset } from "../data/tokenize.ts";
import { applyEvalMask, type EvalMaskSpec, hideObservedCells } from "../masking/eval.ts";

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

/** Batches of a split in stored order (no shuffle, last batch kept), at most `maxWindows` windows. */
export function* evalBatches(
  ds: WindowedDataset,
  batchSize: number,
  maxWindows = Infinity,
): Generator<Batch> {
  const it = new BatchIterator(ds, {
    batchSize: Math.min(batchSize, ds.numWindows),
    seed: 0,
    shuffle: false,
    dropLast: false,
  });
  let seen = 0;
  for (const item of it.epochBatches(0)) {
    if (seen >= maxWindows) return;
    seen += item.batch.B;
    yield item.batch;
  }
}

/** Options of the evaluation loops. */
export interface EvalOptions {
  /** Windows per forward pass. */
  batchSize: number;
  /** Seed of the evaluation masks (fixed, so every model sees the same masks). */
  seed: number;
  /** Cap on windows evaluated. */
  maxWindows?: number;
}

/** Score `predictor` under the fixed evaluation mask `spec` over a split. */
export async function evaluateMasked(
  predictor: Predictor,
  ds: WindowedDataset,
  spec: EvalMaskSpec,
  opts: EvalOptions,
): Promise<ObsSummary> {
  const t = newTally();
  let i = 0;
  for (const batch of evalBatches(ds, opts.batchSize, opts.maxWindows)) {
    const mask = applyEvalMask(batch, spec, { seed: opts.seed, batchIndex: i++ });
    scoreBatch(batch, mask, await predictor(batch, mask), t);
  }
  return summarize(t);
}

/**
 * Robustness: hide an extra fraction `q` of the observed context cells (as
 * [MASK] or as unseen cells) and score the targets of `spec` only.
 */
export async function evaluateCorrupted(
  predictor: Predictor,
  ds: WindowedDataset,
  spec: EvalMaskSpec,
  q: number,
  mode: "mask" | "unseen",
  opts: EvalOptions,
): Promise<ObsSummary> {
  const t = newTally();
  let i = 0;
  for (const batch of evalBatches(ds, opts.batchSize, opts.maxWindows)) {
    const target = applyEvalMask(batch, spec, { seed: opts.seed, batchIndex: i });
    const c = hideObservedCells(batch, target, { q, mode, seed: opts.seed, batchIndex: i++ });
    scoreBatch(batch, target, await predictor(c.batch, c.inputMask), t);
  }
  return summarize(t);
}

/**
 * The any-order ELBO bound on the NLL, in nats per slot: for each t, every
 * slot is hidden with probability t and the summed -log p is weighted by 1/t;
 * the estimate is averaged over `ts` and divided by the number of valid slots
 * (149 per frame: 147 cell attributes, direction, action).
 */
export async function evaluateElbo(
  predictor: Predictor,
  ds: WindowedDataset,
  ts: number[],
  opts: EvalOptions,
): Promise<number> {
  if (ts.length === 0) return NaN;
  let total = 0;
  for (const tt of ts) {
    const t = newTally();
    let validSlots = 0, i = 0;
    for (const batch of evalBatches(ds, opts.batchSize, opts.maxWindows)) {
      const mask = applyEvalMask(batch, { kind: "any_order_t", t: tt }, {
        seed: opts.seed,
        batchIndex: i++,
      });
      scoreBatch(batch, mask, await predictor(batch, mask), t);
      for (let j = 0; j < batch.B * batch.K; j++) if (batch.frameValid[j]) validSlots += 149;
    }
    total += t.nll / tt / Math.max(1, validSlots);
  }
  return total / ts.length;
}

/** Class counts of the training data, for the majority baseline. */
export interface ClassCounts {
  /** Per attribute, counts of each value over every valid cell. */
  cells: [Float64Array, Float64Array, Float64Array];
  /** Direction counts. */
  dir: Float64Array;
  /** Action counts (ACTION_NONE excluded). */
  action: Float64Array;
}

/** Count classes over the frames of a windowed dataset's episodes. */
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
  return out;
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Logits that put all mass (softly) on `v`: a point prediction that still has a finite NLL. */
function pointLogits(out: Float32Array, off: number, V: number, v: number): void {
  for (let i = 0; i < V; i++) out[off + i] = i === v ? 4 : 0;
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

/** Baseline: every slot predicted as the most frequent training value of its vocabulary. */
export function majorityPredictor(counts: ClassCounts): Predictor {
  const maj = counts.cells.map(argmax);
  const dirMaj = argmax(counts.dir), actMaj = argmax(counts.action);
  return (batch) => {
    const { B, K } = batch;
    const L = allocLogits(B, K);
    const heads = [L.obj, L.color, L.state];
    for (let j = 0; j < B * K; j++) {
      for (let c = 0; c < CELLS; c++) {
        for (let a = 0; a < ATTRS; a++) {
          pointLogits(heads[a], (j * CELLS + c) * ATTR_V[a], ATTR_V[a], maj[a]);
        }
      }
      pointLogits(L.dir, j * DIR_VOCAB, DIR_VOCAB, dirMaj);
      pointLogits(L.action, j * ACTION_VOCAB, ACTION_VOCAB, actMaj);
    }
    return Promise.resolve(L);
  };
}

/**
 * Baseline: a hidden cell or direction is copied from the previous frame when
 * that frame's slot is visible; otherwise the majority value. Actions: majority.
 * It never reads a hidden slot.
 */
export function copyPreviousPredictor(counts: ClassCounts): Predictor {
  const majority = majorityPredictor(counts);
  return async (batch, mask) => {
    const L = await majority(batch, mask);
    const heads = [L.obj, L.color, L.state];
    const { B, K } = batch;
    for (let b = 0; b < B; b++) {
      for (let k = 1; k < K; k++) {
        const j = b * K + k;
        if (!batch.frameValid[j - 1]) continue;
        for (let c = 0; c < CELLS; c++) {
          const po = ((j - 1) * CELLS + c) * ATTRS;
          for (let a = 0; a < ATTRS; a++) {
            if (mask.cells[po + a]) continue;
            pointLogits(heads[a], (j * CELLS + c) * ATTR_V[a], ATTR_V[a], batch.cells[po + a]);
          }
        }
        if (!mask.dirs[j - 1]) pointLogits(L.dir, j * DIR_VOCAB, DIR_VOCAB, batch.dirs[j - 1]);
      }
    }
    return L;
  };
}
