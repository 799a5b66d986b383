/**
 * The validation objective every run shares, so variants compare: the any-order ELBO on fixed
 * masks (t stratified over four midpoints, a constant seed), with next-frame and next-action
 * accuracy on the same windows, scored on any engine's logits.
 *
 * @module
 */

import { ATTRS, type Batch, CELLS, type Mask } from "../data/types.ts";
import { allocMask, fillWindows } from "../masking/core.ts";
import { hideAllSlotsAt } from "../masking/any_order.ts";
import { applyEvalMask } from "../masking/eval.ts";
import { Rng } from "../util/prng.ts";
import { elboSlots } from "../eval/metrics.ts";
import { newTally, scoreBatch, summarize as summarizeTally } from "../eval/score.ts";

import { type ModelConfig } from "../model/model_config.ts";

import { encodeInputs, type HostInputs } from "../model/transformer.ts";
import { splitLogits } from "../model/decode.ts";

import { type TrainEngine } from "./engine.ts";

/**
 * Mask probabilities t of the common validation objective: the midpoints of four equal strata
 * of (0, 1]. Window b of validation batch i is masked at t = VAL_ELBO_TS[(b + i) % 4], so one
 * forward pass per batch gives a stratified (midpoint-rule) estimate of the any-order ELBO
 * integral over t. The smallest t (1/8) leaves almost no window without a hidden slot, so the
 * at-least-one rule of lib/masking barely touches the estimate.
 */
export const VAL_ELBO_TS: readonly number[] = [0.125, 0.375, 0.625, 0.875];

/**
 * Seed of the common validation masks: a constant, not the run's seed, so every run of a
 * study (every variant and seed) that validates on the same windows sees the same masks.
 */
export const VAL_COMMON_SEED = 15_006;

/** Tag of the common validation ELBO mask streams. */
const VAL_ELBO_TAG = 0x56454c42;

/** A fixed validation problem scored from the logits: the batch, its mask and encoded input. */
export interface LogitProblem {
  /** The validation batch. */
  batch: Batch;
  /** Hidden slots (the input's [MASK]s and the scored targets). */
  mask: Mask;
  /** `batch` with `mask` applied, encoded for the engine. */
  inputs: HostInputs;
}

/** A validation batch masked for the ELBO, one t per window ({@link VAL_ELBO_TS}). */
export interface ElboProblem extends LogitProblem {
  /** t of every window (row) of the batch. */
  rowT: Float64Array;
  /** `mask` split by t: the scored slots of the windows masked at each t. */
  parts: { t: number; mask: Mask }[];
}

/**
 * The fixed validation problems every run shares, built once from the validation batches by
 * {@link commonValidation}: they depend only on the batches and {@link VAL_COMMON_SEED}.
 */
export interface CommonValidation {
  /** The validation batches masked for the ELBO. */
  elbo: ElboProblem[];
  /** Slots the ELBO scores over the validation batches (lib/eval/metrics.ts `elboSlots`). */
  slots: number;
  /** lib/masking/eval.ts `next_frame` masks of the validation batches. */
  nextFrame: LogitProblem[];
  /** lib/masking/eval.ts `next_action` masks of the validation batches. */
  nextAction: LogitProblem[];
}

/** The shared validation figures of one parameter state. */
export interface CommonScores {
  /**
   * Any-order ELBO in nats per slot, scored as lib/eval/metrics.ts `evaluateElbo` scores it:
   * every slot (cell, direction, action) of a window's valid frames is hidden with the
   * window's probability t (strata of {@link VAL_ELBO_TS}), the -log p summed over the hidden
   * slots it scores (every cell attribute and direction, actions that are real decisions) is
   * weighted by 1/t, and the sum over windows is divided by the slots it can score
   * (`elboSlots`).
   */
  val_elbo: number;
  /** Next-frame cell accuracy (lib/eval/score.ts `cell_acc` under the `next_frame` mask). */
  next_frame_cell_acc: number;
  /** Next-frame accuracy on the cells that changed since the previous frame. */
  next_frame_changed_acc: number;
  /** Next-action accuracy (lib/eval/score.ts `action_acc` under the `next_action` mask). */
  next_action_acc: number;
}

/** Build the shared validation problems of `batches` (see {@link CommonValidation}). */
export function commonValidation(model: ModelConfig, batches: Batch[]): CommonValidation {
  const cv: CommonValidation = { elbo: [], slots: 0, nextFrame: [], nextAction: [] };
  batches.forEach((batch, i) => {
    cv.slots += elboSlots(batch);
    const nT = VAL_ELBO_TS.length;
    const rowT = Float64Array.from({ length: batch.B }, (_, b) => VAL_ELBO_TS[(b + i) % nT]);
    const mask = fillWindows(
      batch,
      (bt, b, m, rng) => hideAllSlotsAt(bt, b, m, rng, rowT[b]),
      new Rng(VAL_COMMON_SEED, VAL_ELBO_TAG, i),
    );
    const per = batch.K * CELLS * ATTRS;
    const parts = VAL_ELBO_TS.map((t) => {
      const m = allocMask(batch.B, batch.K);
      for (let b = 0; b < batch.B; b++) {
        if (rowT[b] !== t) continue;
        m.cells.set(mask.cells.subarray(b * per, (b + 1) * per), b * per);
        m.dirs.set(mask.dirs.subarray(b * batch.K, (b + 1) * batch.K), b * batch.K);
        m.actions.set(mask.actions.subarray(b * batch.K, (b + 1) * batch.K), b * batch.K);
      }
      return { t, mask: m };
    });
    cv.elbo.push({ batch, mask, inputs: encodeInputs(model, batch, mask), rowT, parts });
    const problem = (kind: "next_frame" | "next_action"): LogitProblem => {
      const mask = applyEvalMask(batch, { kind }, { seed: VAL_COMMON_SEED, batchIndex: i });
      return { batch, mask, inputs: encodeInputs(model, batch, mask) };
    };
    cv.nextFrame.push(problem("next_frame"));
    cv.nextAction.push(problem("next_action"));
  });
  return cv;
}

/**
 * Score the engine's current parameters on the shared validation problems. Every figure comes
 * from the engine's logits, scored on the host by lib/eval/score.ts `scoreBatch` (independent
 * of the run's head weights and loss mode), so the jax-js and blas engines give the same
 * figures to float32 rounding.
 */
export async function scoreCommonValidation(
  engine: TrainEngine,
  cv: CommonValidation,
): Promise<CommonScores> {
  let elbo = 0;
  for (const p of cv.elbo) {
    const logits = splitLogits(p.batch.B, p.batch.K, await engine.logits(p.inputs));
    for (const part of p.parts) {
      const t = newTally();
      scoreBatch(p.batch, part.mask, logits, t);
      elbo += t.nll / part.t;
    }
  }
  const tally = async (problems: LogitProblem[]) => {
    const t = newTally();
    for (const p of problems) {
      const logits = splitLogits(p.batch.B, p.batch.K, await engine.logits(p.inputs));
      scoreBatch(p.batch, p.mask, logits, t);
    }
    return summarizeTally(t);
  };
  const nf = await tally(cv.nextFrame), na = await tally(cv.nextAction);
  return {
    val_elbo: cv.elbo.length ? elbo / Math.max(1, cv.slots) : NaN,
    next_frame_cell_acc: nf.cell_acc,
    next_frame_changed_acc: nf.changed_cell_acc,
    next_action_acc: na.action_acc,
  };
}
