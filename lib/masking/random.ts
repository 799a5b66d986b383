/**
 * Random masking at a fixed probability p: `cell` (a cell's object, colour and state hidden
 * together) and `attribute` (each attribute slot on its own). With `maskDirAction` the direction
 * and action slots of valid frames are hidden with the same p. The at-least-one rule of
 * `core.ts` applies when p > 0.
 *
 * @module
 */

import { ATTRS, type Batch, CELLS, type Mask } from "../data/types.ts";
import { checkProbability, hideCell, hideOneUnit, type WindowFill } from "./core.ts";
import type { Rng } from "../util/prng.ts";

/** Options of the cell and attribute strategies. */
export interface RandomMaskOptions {
  /** Probability p of hiding each unit. */
  ratio: number;
  /** Also hide direction and action slots with probability p. */
  maskDirAction: boolean;
}

/**
 * Hide each cell of row `b`'s valid frames with probability `p` (and, with `dirAction`, each
 * direction and action slot), at least one unit when p > 0: cell masking, and any-order masking at
 * its drawn t (lib/masking/any_order.ts).
 */
export function hideCellsAt(
  batch: Batch,
  b: number,
  mask: Mask,
  rng: Rng,
  p: number,
  dirAction: boolean,
): void {
  const K = batch.K;
  let hidden = 0;
  for (let k = 0; k < K; k++) {
    const j = b * K + k;
    if (!batch.frameValid[j]) continue;
    for (let c = 0; c < CELLS; c++) {
      if (rng.uniform() < p) {
        hideCell(mask, K, b, k, c);
        hidden++;
      }
    }
    if (dirAction) {
      if (rng.uniform() < p) (mask.dirs[j] = 1), hidden++;
      if (rng.uniform() < p) (mask.actions[j] = 1), hidden++;
    }
  }
  if (p > 0 && hidden === 0) hideOneUnit(batch, b, mask, rng, false, dirAction);
}

/** Row filler for `cell` masking at probability `ratio`. */
export function cellFill(opts: RandomMaskOptions): WindowFill {
  const p = opts.ratio, da = opts.maskDirAction;
  checkProbability(p, "masking.ratio");
  return (batch: Batch, b: number, mask: Mask, rng: Rng): void =>
    hideCellsAt(batch, b, mask, rng, p, da);
}

/** Row filler for `attribute` masking at probability `ratio`. */
export function attributeFill(opts: RandomMaskOptions): WindowFill {
  const p = opts.ratio, da = opts.maskDirAction;
  checkProbability(p, "masking.ratio");
  const per = CELLS * ATTRS;
  return (batch: Batch, b: number, mask: Mask, rng: Rng): void => {
    const K = batch.K;
    let hidden = 0;
    for (let k = 0; k < K; k++) {
      const j = b * K + k;
      if (!batch.frameValid[j]) continue;
      const o = j * per;
      for (let i = 0; i < per; i++) {
        if (rng.uniform() < p) {
          mask.cells[o + i] = 1;
          hidden++;
        }
      }
      if (da) {
        if (rng.uniform() < p) (mask.dirs[j] = 1), hidden++;
        if (rng.uniform() < p) (mask.actions[j] = 1), hidden++;
      }
    }
    if (p > 0 && hidden === 0) hideOneUnit(batch, b, mask, rng, true, da);
  };
}
