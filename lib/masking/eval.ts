/**
 * Fixed evaluation masks and observation corruption for robustness studies. Evaluation masks are
 * seeded by `(seed, batchIndex)` with their own tag, so they never depend on training progress and
 * are identical for every checkpoint and every model compared.
 *
 * Kinds ({@link EvalMaskSpec}):
 * - `next_frame`: hide the last valid frame's 49 cells, direction and action (the action was
 *   chosen after seeing the frame, so a visible one leaks it: "none" at an episode's end, forward /
 *   pickup / toggle say what is in front). The same mask as `forward_dynamics` training;
 *   `hideAction: false` keeps the action visible (the older, leaky metric, for comparison only);
 * - `next_action`: hide the last valid frame's action;
 * - `random_cells`: hide each cell of every valid frame with probability `ratio` (cells only, all
 *   three attributes; at least one per window);
 * - `any_order_t`: hide every slot with probability `t` and weight 1/t (ELBO at a fixed t).
 *
 * Robustness ({@link hideObservedCells}): with the prediction targets fixed by an evaluation mask,
 * additionally hide a fraction q of the *observed* context cells — cells of valid frames that are
 * not targets and whose object is not 0 ("unseen"). Mode `mask` marks them [MASK] (returned as an
 * input mask that is the target mask plus those cells; score only the target mask's slots), mode
 * `unseen` overwrites them in a copy of the batch with `[0, 0, 0]` (what the agent would get for a
 * cell it cannot see) and leaves the mask unchanged.
 *
 * @module
 */

import { ATTRS, type Batch, CELLS, type Mask } from "../data/types.ts";
import { fillWindows, hideCell, hideOneUnit, type WindowFill } from "./core.ts";
import { fixedTFill } from "./any_order.ts";
import { forwardDynamicsFill, nextActionFill } from "./targets.ts";
import { Rng } from "../util/prng.ts";

/** Tag of evaluation-mask streams. */
export const EVAL_MASK_TAG = 0x4556414c;
/** Tag of robustness-corruption streams. */
export const CORRUPT_TAG = 0x434f5252;

/** A fixed evaluation mask. */
export type EvalMaskSpec =
  | { kind: "next_frame"; hideAction?: boolean }
  | { kind: "next_action" }
  | { kind: "random_cells"; ratio: number }
  | { kind: "any_order_t"; t: number };

/** Row filler hiding each cell with probability `ratio` (cells only). */
export function randomCellsFill(ratio: number): WindowFill {
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new Error(`eval.obs_mask_ratio must be in [0, 1], got ${ratio}`);
  }
  return (batch, b, mask, rng) => {
    const K = batch.K;
    let hidden = 0;
    for (let k = 0; k < K; k++) {
      if (!batch.frameValid[b * K + k]) continue;
      for (let c = 0; c < CELLS; c++) {
        if (rng.uniform() < ratio) {
          hideCell(mask, K, b, k, c);
          hidden++;
        }
      }
    }
    if (ratio > 0 && hidden === 0) hideOneUnit(batch, b, mask, rng, false, false);
  };
}

/** The evaluation mask `spec` for `batch`, reproducible from `(seed, batchIndex)`. */
export function applyEvalMask(
  batch: Batch,
  spec: EvalMaskSpec,
  ctx: { seed: number; batchIndex: number } = { seed: 0, batchIndex: 0 },
): Mask {
  const rng = new Rng(ctx.seed, ctx.batchIndex, EVAL_MASK_TAG);
  let fill: WindowFill;
  switch (spec.kind) {
    case "next_frame":
      fill = forwardDynamicsFill({ hideAction: spec.hideAction });
      break;
    case "next_action":
      fill = nextActionFill;
      break;
    case "random_cells":
      fill = randomCellsFill(spec.ratio);
      break;
    case "any_order_t":
      fill = fixedTFill(spec.t);
      break;
    default:
      throw new Error(
        `unknown evaluation mask kind ${JSON.stringify((spec as { kind: string }).kind)}; ` +
          `use next_frame, next_action, random_cells or any_order_t`,
      );
  }
  return fillWindows(batch, fill, rng);
}

/** The result of {@link hideObservedCells}. */
export interface CorruptedInput {
  /** The batch to feed (a copy with cells set to unseen in mode `unseen`, else the same batch). */
  batch: Batch;
  /** The mask to feed as input: targets plus, in mode `mask`, the extra hidden cells. */
  inputMask: Mask;
  /** Number of observed cells hidden. */
  hidden: number;
  /** Number of observed context cells that could have been hidden. */
  eligible: number;
}

/**
 * Hide a fraction `q` of the observed context cells (see the module doc). Score predictions only
 * on `target`'s slots. Deterministic from `(seed, batchIndex)`; the same cells are chosen for both
 * modes.
 */
export function hideObservedCells(
  batch: Batch,
  target: Mask,
  opts: { q: number; mode: "mask" | "unseen"; seed: number; batchIndex?: number },
): CorruptedInput {
  const { q, mode } = opts;
  if (!(q >= 0 && q <= 1)) throw new Error(`eval.robustness_q values must be in [0, 1], got ${q}`);
  if (mode !== "mask" && mode !== "unseen") {
    throw new Error(`robustness mode must be "mask" or "unseen", got ${JSON.stringify(mode)}`);
  }
  const rng = new Rng(opts.seed, opts.batchIndex ?? 0, CORRUPT_TAG);
  const inputMask: Mask = {
    cells: target.cells.slice(),
    dirs: target.dirs.slice(),
    actions: target.actions.slice(),
    weight: target.weight.slice(),
  };
  const cells = mode === "unseen" ? batch.cells.slice() : batch.cells;
  let hidden = 0, eligible = 0;
  const { B, K } = batch;
  for (let j = 0; j < B * K; j++) {
    if (!batch.frameValid[j]) continue;
    for (let c = 0; c < CELLS; c++) {
      const o = (j * CELLS + c) * ATTRS;
      if (target.cells[o] | target.cells[o + 1] | target.cells[o + 2]) continue;
      if (batch.cells[o] === 0) continue; // already unseen
      eligible++;
      if (rng.uniform() >= q) continue;
      hidden++;
      if (mode === "mask") {
        inputMask.cells[o] = 1;
        inputMask.cells[o + 1] = 1;
        inputMask.cells[o + 2] = 1;
      } else {
        cells[o] = 0;
        cells[o + 1] = 0;
        cells[o + 2] = 0;
      }
    }
  }
  const out = mode === "unseen" ? { ...batch, cells } : batch;
  return { batch: out, inputMask, hidden, eligible };
}
