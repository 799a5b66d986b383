/**
 * Target-only masks: one fixed prediction problem per window, the rest of the window visible.
 *
 * - `next_action` (the SFT / behaviour-cloning baseline): hide only the action of the window's
 *   last valid frame. When that frame is its episode's final frame, the target is
 *   {@link ACTION_NONE} (the model learns that the episode ends there).
 * - `forward_dynamics`: hide the whole last valid frame: its 49 cells (all attributes), its
 *   direction and its action. The action is hidden by default, as in the next-frame evaluation
 *   mask: it was chosen after seeing that frame, so a visible action gives the frame away ("none"
 *   at an episode's end, forward / pickup / toggle say what is in front). `hideAction: false`
 *   keeps it visible (the older, leaky variant).
 * - `inverse_dynamics`: hide the action between the last two valid frames (the action of the
 *   second-to-last valid frame), everything else visible. A window with one valid frame has no
 *   such pair; it falls back to `next_action` (so every valid window has a target).
 *
 * @module
 */

import { ACTION_NONE, type Batch, type Mask } from "../data/types.ts";
import { hideFrameCells, lastValidFrame, type WindowFill } from "./core.ts";
import type { Rng } from "../util/prng.ts";

export { ACTION_NONE };

/** Row filler for `next_action`. */
export const nextActionFill: WindowFill = (batch: Batch, b: number, mask: Mask, _rng: Rng) => {
  const k = lastValidFrame(batch, b);
  if (k >= 0) mask.actions[b * batch.K + k] = 1;
};

/** Row filler for `forward_dynamics` (see the module doc; `hideAction` defaults to true). */
export function forwardDynamicsFill(opts: { hideAction?: boolean } = {}): WindowFill {
  const hideAction = opts.hideAction ?? true;
  return (batch: Batch, b: number, mask: Mask, _rng: Rng) => {
    const k = lastValidFrame(batch, b);
    if (k < 0) return;
    hideFrameCells(mask, batch.K, b, k);
    mask.dirs[b * batch.K + k] = 1;
    if (hideAction) mask.actions[b * batch.K + k] = 1;
  };
}

/** Row filler for `inverse_dynamics`. */
export const inverseDynamicsFill: WindowFill = (batch: Batch, b: number, mask: Mask, _rng: Rng) => {
  const k = lastValidFrame(batch, b);
  if (k < 0) return;
  const pair = k >= 1 && batch.frameValid[b * batch.K + k - 1] === 1; // padding comes first
  mask.actions[b * batch.K + (pair ? k - 1 : k)] = 1;
};
