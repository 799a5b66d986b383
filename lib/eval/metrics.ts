/**
 * The evaluators over any {@link Predictor}: masked next-frame / action / random-cell scoring,
 * pooled and per group (env id), under corrupted observations (robustness), the any-order ELBO
 * and end-of-episode "none"; each over a deterministic window sample (windows.ts), scored by
 * score.ts. Also iterative decoding over any predictor ({@link iterativePredictor}). The
 * baselines are predictors too (baselines.ts), so they are scored by the same code.
 *
 * @module
 */

import {
  ACTION_NONE,
  ACTION_VOCAB,
  ATTRS,
  type Batch,
  CELLS,
  type Logits,
  type Mask,
  type Predictor,
} from "../data/types.ts";
import { type WindowedDataset } from "../data/tokenize.ts";
import {
  applyEvalMask,
  type EvalMaskSpec,
  hideObservedCells,
  noiseObservedTokens,
} from "../masking/eval.ts";
import { lastValidFrame, maskedInput } from "../masking/core.ts";

import { decodeIterativeWith } from "../model/decode.ts";
import {
  ATTR_KEYS,
  newTally,
  type ObsNllSummary,
  type ObsSummary,
  scoreBatch,
  summarize,
  summarizeObsNll,
  type Tally,
} from "./score.ts";
import { evalBatches, type EvalSet, evalSet, type EvalTask } from "./windows.ts";
import { argmax } from "./baselines.ts";

export interface EvalOptions {
  /** Windows per forward pass. */
  batchSize: number;
  /** Seed of the evaluation masks (fixed, so every model sees the same masks). */
  seed: number;
  /** Cap on windows evaluated when `set` is absent (a sample stratified over episodes). */
  maxWindows?: number;
  /** The windows to score (default: the eligible windows of the mask's task, see {@link evalSet}). */
  set?: EvalSet;
  /**
   * Give the predictor the batch with its hidden slots already [MASK] ({@link blindInput}) rather
   * than the true batch and the mask (default false; the observation NLL always blinds). A model
   * masks its own input, so its figures are the same either way; a predictor that reads hidden
   * truth (a test's oracle) is caught by it.
   */
  blind?: boolean;
}

/**
 * The task whose windows a mask kind scores (`whole_frame`: the next-frame windows, at least two
 * valid frames, so the hidden frame always has context).
 */
function taskOf(spec: EvalMaskSpec): EvalTask {
  switch (spec.kind) {
    case "next_frame":
    case "whole_frame":
      return "next_frame";
    case "next_action":
      return "action";
    case "random_cells":
    case "any_order_t":
      return "any";
  }
}

/**
 * What a predictor is given for `(batch, mask)`: the batch with every hidden slot already
 * [MASK] ({@link maskedInput}), so no evaluator hands a predictor the true value of a slot it is
 * scored on, whatever the predictor does with the mask.
 */
export function blindInput(batch: Batch, mask: Mask): Batch {
  return maskedInput(batch, mask);
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
  dst.cellNll += src.cellNll;
  dst.dirNll += src.dirNll;
  dst.actionNll += src.actionNll;
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

function groupedResult<S>(
  pooled: Tally,
  perGroup: Map<number, Tally> | null,
  names: string[],
  sum: (t: Tally) => S,
): { pooled: S; groups: Record<string, S> } {
  const groups: Record<string, S> = {};
  if (perGroup) {
    for (const [g, t] of [...perGroup.entries()].sort((a, b) => a[0] - b[0])) {
      groups[names[g] ?? `group${g}`] = sum(t);
    }
  }
  return { pooled: sum(pooled), groups };
}

/** Pooled and per-group tallies of `predictor` under `spec` (inputs blinded, {@link blindInput}). */
async function tallyGroups(
  predictor: Predictor,
  ds: WindowedDataset,
  spec: EvalMaskSpec,
  opts: EvalOptions,
): Promise<{ pooled: Tally; perGroup: Map<number, Tally> | null; names: string[] }> {
  const set = setOf(ds, spec, opts);
  const pooled = newTally();
  const perGroup = set.groupOf ? new Map<number, Tally>() : null;
  let i = 0;
  for (const { batch, from } of evalBatches(ds, set.windows, opts.batchSize)) {
    const mask = applyEvalMask(batch, spec, { seed: opts.seed, batchIndex: i++ });
    const logits = await predictor(opts.blind ? blindInput(batch, mask) : batch, mask);
    scoreGrouped(batch, scoredSlots(spec, mask), logits, pooled, perGroup, set.groupOf, from);
  }
  return { pooled, perGroup, names: set.groups };
}

/** Score `predictor` under the fixed evaluation mask `spec`: pooled and per-group figures. */
export async function evaluateMaskedGroups(
  predictor: Predictor,
  ds: WindowedDataset,
  spec: EvalMaskSpec,
  opts: EvalOptions,
): Promise<GroupedSummary> {
  const t = await tallyGroups(predictor, ds, spec, opts);
  return groupedResult(t.pooled, t.perGroup, t.names, summarize);
}

/**
 * Observation NLL, NLL_obs = -log p(O_t | the rest of the window): in each window of the
 * next-frame set, one whole frame's 49 cells and direction hidden (`whole_frame`, the middle
 * valid frame, see lib/masking/eval.ts), every other frame and every action visible; pooled and
 * per group. The predictor gets the window with the hidden frame already [MASK]
 * ({@link blindInput}): it cannot read the frame it is scored on.
 */
export async function evaluateObsNll(
  predictor: Predictor,
  ds: WindowedDataset,
  opts: EvalOptions,
): Promise<{ pooled: ObsNllSummary; groups: Record<string, ObsNllSummary> }> {
  const t = await tallyGroups(predictor, ds, { kind: "whole_frame" }, { ...opts, blind: true });
  return groupedResult(t.pooled, t.perGroup, t.names, summarizeObsNll);
}

/**
 * Noise robustness: a fraction `rho` of the context's observation tokens (cell attributes that
 * are not targets of `spec`) replaced by random valid tokens ({@link noiseObservedTokens}; not
 * [MASK]), the targets of `spec` scored against the clean truth.
 */
export async function evaluateNoised(
  predictor: Predictor,
  ds: WindowedDataset,
  spec: EvalMaskSpec,
  rho: number,
  opts: EvalOptions,
): Promise<ObsSummary> {
  const set = setOf(ds, spec, opts);
  const t = newTally();
  let i = 0;
  for (const { batch } of evalBatches(ds, set.windows, opts.batchSize)) {
    const target = applyEvalMask(batch, spec, { seed: opts.seed, batchIndex: i });
    const noisy = noiseObservedTokens(batch, target, { rho, seed: opts.seed, batchIndex: i++ });
    const logits = await predictor(opts.blind ? blindInput(noisy, target) : noisy, target);
    scoreBatch(batch, scoredSlots(spec, target), logits, t);
  }
  return summarize(t);
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
