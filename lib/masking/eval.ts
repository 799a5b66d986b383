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
 * - `any_order_t`: hide every slot with probability `t` and weight 1/t (ELBO at a fixed t);
 * - `whole_frame`: hide one whole observation unit (the 49 cells and the direction) of one frame,
 *   every other frame and every action visible (observation NLL, -log p(O_t | the rest)). The
 *   hidden frame is the valid frame at position floor(V/2) of the V valid frames
 *   ({@link wholeFrameIndex}): with V >= 3 it has context on both sides (K = 4, a full window:
 *   two frames before, one after); with V = 2 it is the last frame (the past only); with V = 1
 *   the only one (no context; such windows are not scored, see lib/eval/windows.ts).
 *
 * Noise ({@link noiseObservedTokens}): a fraction rho of the observation tokens (cell attributes)
 * of the context frames replaced by a uniformly drawn valid value of their vocabulary (never
 * [MASK]); the targets of the evaluation mask are not touched.
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

import {
  ATTRS,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  type Mask,
  OBJ_VOCAB,
  STATE_VOCAB,
} from "../data/types.ts";
import { fillWindows, hideFrameCells, type WindowFill } from "./core.ts";
import { fixedTFill } from "./any_order.ts";
import { hideCellsAt } from "./random.ts";
import { forwardDynamicsFill, nextActionFill } from "./targets.ts";
import { Rng } from "../util/prng.ts";

/** Tag of evaluation-mask streams. */
export const EVAL_MASK_TAG = 0x4556414c;
/** Tag of robustness-corruption streams. */
export const CORRUPT_TAG = 0x434f5252;
/** Tag of observation-noise streams. */
export const NOISE_TAG = 0x4e4f4953;

/** A fixed evaluation mask. */
export type EvalMaskSpec =
  | { kind: "next_frame"; hideAction?: boolean }
  | { kind: "next_action" }
  | { kind: "random_cells"; ratio: number }
  | { kind: "any_order_t"; t: number }
  | { kind: "whole_frame" };

/**
 * Row filler hiding each cell with probability `ratio` (cells only): cell masking's own loop,
 * {@link hideCellsAt} without the direction and action slots.
 */
export function randomCellsFill(ratio: number): WindowFill {
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new Error(`eval.obs_mask_ratio must be in [0, 1], got ${ratio}`);
  }
  return (batch, b, mask, rng) => hideCellsAt(batch, b, mask, rng, ratio, false);
}

/**
 * The frame of row `b` that a `whole_frame` mask hides: the valid frame at position floor(V/2)
 * among the row's V valid frames (in slot order); -1 for an all-padding row.
 */
export function wholeFrameIndex(batch: Batch, b: number): number {
  const K = batch.K;
  const valid: number[] = [];
  for (let k = 0; k < K; k++) if (batch.frameValid[b * K + k]) valid.push(k);
  return valid.length ? valid[Math.floor(valid.length / 2)] : -1;
}

/** Row filler hiding the cells and direction of the {@link wholeFrameIndex} frame. */
export const wholeFrameFill: WindowFill = (batch, b, mask) => {
  const k = wholeFrameIndex(batch, b);
  if (k < 0) return;
  hideFrameCells(mask, batch.K, b, k);
  mask.dirs[b * batch.K + k] = 1;
};

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
    case "whole_frame":
      fill = wholeFrameFill;
      break;
    default:
      throw new Error(
        `unknown evaluation mask kind ${JSON.stringify((spec as { kind: string }).kind)}; ` +
          `use next_frame, next_action, random_cells, any_order_t or whole_frame`,
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

/** Vocabulary size of each cell attribute (object, colour, state): the valid values. */
const ATTR_SIZES = [OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB] as const;

/**
 * Replace each cell attribute of `image` (a 49 x 3 observation, changed in place) with a uniformly
 * drawn valid value of its vocabulary with probability `rho` (the closed-loop form of
 * {@link noiseObservedTokens}). Returns the number of tokens replaced (a draw may equal the old value).
 */
export function noiseImage(image: Uint8Array | Int32Array, rho: number, rng: Rng): number {
  let n = 0;
  for (let i = 0; i < CELLS * ATTRS; i++) {
    if (rng.uniform() >= rho) continue;
    image[i] = rng.int(ATTR_SIZES[i % ATTRS]);
    n++;
  }
  return n;
}

/**
 * Observation noise: with the targets fixed by `target`, replace each cell attribute of the valid
 * frames that is not a target with a uniformly drawn valid value (never [MASK]) with probability
 * `rho`, in a copy of the batch; the mask is unchanged (the model sees the noise as real tokens).
 * Deterministic from `(seed, batchIndex)`. Returns the batch to feed.
 */
export function noiseObservedTokens(
  batch: Batch,
  target: Mask,
  opts: { rho: number; seed: number; batchIndex?: number },
): Batch {
  const { rho } = opts;
  if (!(rho >= 0 && rho <= 1)) {
    throw new Error(`eval.noise_rho values must be in [0, 1], got ${rho}`);
  }
  const rng = new Rng(opts.seed, opts.batchIndex ?? 0, NOISE_TAG);
  const cells = batch.cells.slice();
  const { B, K } = batch;
  for (let j = 0; j < B * K; j++) {
    if (!batch.frameValid[j]) continue;
    for (let i = j * CELLS * ATTRS; i < (j + 1) * CELLS * ATTRS; i++) {
      if (target.cells[i]) continue;
      if (rng.uniform() >= rho) continue;
      cells[i] = rng.int(ATTR_SIZES[i % ATTRS]);
    }
  }
  return { ...batch, cells };
}
