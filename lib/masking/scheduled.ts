/**
 * Scheduled masking: the probability p moves from `from` to `to` over `over` steps (or epochs when
 * `unit: epoch`) and stays at `to` afterwards, wrapping `cell` or `attribute` masking.
 *
 * Shapes, with progress `x = min(1, position / over)`:
 * - `linear`: `p = from + (to - from) · x`;
 * - `cosine`: `p = from + (to - from) · (1 - cos(π x)) / 2` (slow start and end);
 * - `step`: `p = from` while `position < over`, then `to` (a single jump at `over`).
 *
 * @module
 */

import { type WindowFill } from "./core.ts";
import { attributeFill, cellFill } from "./random.ts";
import type { ScheduleConfig } from "../config/schema.ts";

/** The probability of the schedule at `(step, epoch)`. */
export function scheduledRatio(s: ScheduleConfig, step: number, epoch: number): number {
  const pos = s.unit === "epoch" ? epoch : step;
  if (s.unit !== "step" && s.unit !== "epoch") {
    throw new Error(`masking.schedule.unit must be step or epoch, got ${JSON.stringify(s.unit)}`);
  }
  if (!(s.over > 0)) throw new Error(`masking.schedule.over must be > 0, got ${s.over}`);
  const x = Math.min(1, Math.max(0, pos / s.over));
  switch (s.shape) {
    case "linear":
      return s.from + (s.to - s.from) * x;
    case "cosine":
      return s.from + (s.to - s.from) * (1 - Math.cos(Math.PI * x)) / 2;
    case "step":
      return pos < s.over ? s.from : s.to;
    default:
      throw new Error(
        `masking.schedule.shape must be linear, cosine or step, got ${JSON.stringify(s.shape)}`,
      );
  }
}

/** Row filler of the schedule at `(step, epoch)`. */
export function scheduledFill(
  s: ScheduleConfig,
  maskDirAction: boolean,
  step: number,
  epoch: number,
): WindowFill {
  const ratio = scheduledRatio(s, step, epoch);
  if (s.base === "cell") return cellFill({ ratio, maskDirAction });
  if (s.base === "attribute") return attributeFill({ ratio, maskDirAction });
  throw new Error(
    `masking.schedule.base must be cell or attribute, got ${JSON.stringify(s.base)}`,
  );
}
