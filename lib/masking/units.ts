/**
 * Unit-level masks: a unit is a whole observation (a frame's 49 cells, all attributes, and its
 * direction) or a whole action, never part of one (the AOMT protocol, see ../shared/RESEARCH.md).
 *
 * - `unit` (AOMT-Mixed): every observation unit and every action unit of the window's valid frames
 *   is hidden independently with probability `masking.ratio`; at least one unit per window.
 * - `unit_action` (AOMT-Action-Only): only action units are hidden, each with `masking.ratio`, at
 *   least one per window; every observation, future ones included, stays visible.
 * - `mtm` (MTM's random-autoregressive masks): per window a mode is drawn, `action` with
 *   probability `masking.mtm.action_share`, else `frame`; a position r is drawn uniformly among the
 *   valid frames; every unit after r is hidden, and at r the action (`action` mode) or the whole
 *   frame, observation and action (`frame` mode); the units before r are hidden at the small unit
 *   ratio `masking.mtm.past_ratio`. In `action` mode the query at r is a decision (the history
 *   visible, the action hidden, nothing after it known) whatever r is.
 *
 * Windows are left-padded (lib/data/tokenize.ts): valid frames are the row's last slots.
 *
 * @module
 */

import { type Batch, type Mask } from "../data/types.ts";
import { checkProbability, hideFrameCells, type WindowFill } from "./core.ts";
import type { Rng } from "../util/prng.ts";

/** Hide frame `k`'s observation unit in row `b`: its 49 cells (all attributes) and direction. */
export function hideObservation(mask: Mask, K: number, b: number, k: number): void {
  hideFrameCells(mask, K, b, k);
  mask.dirs[b * K + k] = 1;
}

/** Indices of the valid frames of row `b`, in order. */
function validFrameList(batch: Batch, b: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < batch.K; k++) if (batch.frameValid[b * batch.K + k]) out.push(k);
  return out;
}

/**
 * Hide the units of row `b`'s `frames` independently with probability `p` (observations when
 * `obs`, actions when `act`); at least one unit when p > 0 (chosen uniformly among the eligible
 * units). Returns the number hidden.
 */
function hideUnitsAt(
  mask: Mask,
  K: number,
  b: number,
  frames: readonly number[],
  rng: Rng,
  p: number,
  obs: boolean,
  act: boolean,
  atLeastOne: boolean,
): number {
  let hidden = 0;
  for (const k of frames) {
    if (obs && rng.uniform() < p) (hideObservation(mask, K, b, k), hidden++);
    if (act && rng.uniform() < p) (mask.actions[b * K + k] = 1, hidden++);
  }
  const per = (obs ? 1 : 0) + (act ? 1 : 0);
  if (atLeastOne && p > 0 && hidden === 0 && frames.length > 0 && per > 0) {
    const u = rng.int(frames.length * per);
    const k = frames[Math.floor(u / per)];
    if (obs && u % per === 0) hideObservation(mask, K, b, k);
    else mask.actions[b * K + k] = 1;
    hidden = 1;
  }
  return hidden;
}

/** Row filler for `unit` masking (AOMT-Mixed) at probability `ratio`. */
export function unitFill(opts: { ratio: number }): WindowFill {
  const p = opts.ratio;
  checkProbability(p, "masking.ratio");
  return (batch: Batch, b: number, mask: Mask, rng: Rng): void => {
    hideUnitsAt(mask, batch.K, b, validFrameList(batch, b), rng, p, true, true, true);
  };
}

/** Row filler for `unit_action` masking (AOMT-Action-Only) at probability `ratio`. */
export function unitActionFill(opts: { ratio: number }): WindowFill {
  const p = opts.ratio;
  checkProbability(p, "masking.ratio");
  return (batch: Batch, b: number, mask: Mask, rng: Rng): void => {
    hideUnitsAt(mask, batch.K, b, validFrameList(batch, b), rng, p, false, true, true);
  };
}

/** Options of the `mtm` strategy (`masking.mtm`). */
export interface MtmOptions {
  /** Probability of the `action` mode (else `frame`). */
  actionShare: number;
  /** Unit ratio of the frames before the drawn position. */
  pastRatio: number;
}

/** Row filler for `mtm` (random-autoregressive) masking. */
export function mtmFill(opts: MtmOptions): WindowFill {
  checkProbability(opts.actionShare, "masking.mtm.action_share");
  checkProbability(opts.pastRatio, "masking.mtm.past_ratio");
  return (batch: Batch, b: number, mask: Mask, rng: Rng): void => {
    const K = batch.K;
    const frames = validFrameList(batch, b);
    if (frames.length === 0) return;
    const actionMode = rng.uniform() < opts.actionShare;
    const r = rng.int(frames.length);
    for (let i = r + 1; i < frames.length; i++) {
      hideObservation(mask, K, b, frames[i]);
      mask.actions[b * K + frames[i]] = 1;
    }
    if (!actionMode) hideObservation(mask, K, b, frames[r]);
    mask.actions[b * K + frames[r]] = 1;
    hideUnitsAt(mask, K, b, frames.slice(0, r), rng, opts.pastRatio, true, true, false);
  };
}
