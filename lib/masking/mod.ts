/**
 * Masking strategies, selected by name from the `masking` config section.
 *
 * ```ts
 * const mask = drawMask(cfg.masking, batch, { step, epoch, seed: cfg.seed, batchIndex });
 * ```
 *
 * Strategies (details in each file): `cell`, `attribute` (random.ts), `scheduled`
 * (scheduled.ts), `any_order` (any_order.ts), `next_action`, `forward_dynamics`,
 * `inverse_dynamics` (targets.ts), `mixture` (mixture.ts). Shared rules (core.ts): padding is
 * never hidden; a random strategy with p > 0 hides at least one unit per valid window; a mask is a
 * pure function of `(config, batch, seed, epoch, step, batchIndex)` and is drawn afresh for every
 * batch (so every epoch sees new masks). Fixed evaluation masks and robustness corruption are in
 * eval.ts.
 *
 * @module
 */

import type { Batch, Mask } from "../data/types.ts";
import { fillWindows, type MaskContext, maskRng, type WindowFill } from "./core.ts";
import { attributeFill, cellFill } from "./random.ts";
import { anyOrderFill } from "./any_order.ts";
import { scheduledFill, scheduledRatio } from "./scheduled.ts";
import {
  type MaskingConfig,
  type MixtureEntry,
  type ScheduleConfig,
  sectionDefault,
  STRATEGIES,
  type StrategyName,
} from "../config/schema.ts";
import { forwardDynamicsFill, inverseDynamicsFill, nextActionFill } from "./targets.ts";
import { mixtureFill } from "./mixture.ts";

export {
  allocMask,
  emptyMask,
  fillWindows,
  type MaskContext,
  type MaskCounts,
  maskCounts,
  maskedInput,
  maskRate,
  maskRng,
  type WindowFill,
} from "./core.ts";
export { attributeFill, cellFill } from "./random.ts";
export { anyOrderFill, fixedTFill } from "./any_order.ts";
export { scheduledFill, scheduledRatio } from "./scheduled.ts";
/** The section types and strategy names are the config schema's (lib/config/schema.ts). */
export {
  type MaskingConfig,
  type MixtureEntry,
  type ScheduleConfig,
  STRATEGIES,
  type StrategyName,
};
export { forwardDynamicsFill, inverseDynamicsFill, nextActionFill } from "./targets.ts";
export { type MixtureComponent, mixtureFill } from "./mixture.ts";
export {
  applyEvalMask,
  type CorruptedInput,
  type EvalMaskSpec,
  hideObservedCells,
  randomCellsFill,
} from "./eval.ts";
export { hashKeys, Rng } from "./prng.ts";

/** Defaults of the masking section: the schema's (`schedule.over` 10000 steps when not loaded). */
export const DEFAULT_MASKING: MaskingConfig = sectionDefault("masking");

/** The row filler of `cfg` at training position `(step, epoch)`. */
export function strategyFill(
  cfg: MaskingConfig,
  pos: { step: number; epoch: number },
  where = "masking",
): WindowFill {
  switch (cfg.strategy) {
    case "cell":
      return cellFill({ ratio: cfg.ratio, maskDirAction: cfg.mask_dir_action });
    case "attribute":
      return attributeFill({ ratio: cfg.ratio, maskDirAction: cfg.mask_dir_action });
    case "scheduled":
      return scheduledFill(cfg.schedule, cfg.mask_dir_action, pos.step, pos.epoch);
    case "any_order":
      return anyOrderFill({ eps: cfg.eps });
    case "next_action":
      return nextActionFill;
    case "forward_dynamics":
      return forwardDynamicsFill();
    case "inverse_dynamics":
      return inverseDynamicsFill;
    case "mixture": {
      if (where !== "masking") {
        throw new Error(`${where}.strategy: a mixture cannot contain another mixture`);
      }
      const entries = cfg.mixture ?? [];
      return mixtureFill(entries.map((e, i) => ({
        fill: strategyFill(
          { ...cfg, strategy: e.strategy, ratio: e.ratio ?? cfg.ratio },
          pos,
          `masking.mixture[${i}]`,
        ),
        weight: e.weight,
      })));
    }
    default:
      throw new Error(
        `${where}.strategy: unknown masking strategy ${JSON.stringify(cfg.strategy)}; ` +
          `use one of ${STRATEGIES.join(", ")}`,
      );
  }
}

/**
 * Draw the training mask of `batch`: a pure function of the config and
 * `(seed, epoch, step, batchIndex)`. Keys missing from `cfg` take their {@link DEFAULT_MASKING}
 * values.
 */
export function drawMask(cfg: Partial<MaskingConfig>, batch: Batch, ctx: MaskContext): Mask {
  return fillWindows(batch, strategyFill(withDefaults(cfg), ctx), maskRng(ctx));
}

/** `cfg` with missing keys (including a missing `schedule` key) taken from {@link DEFAULT_MASKING}. */
export function withDefaults(cfg: Partial<MaskingConfig>): MaskingConfig {
  return {
    ...DEFAULT_MASKING,
    ...cfg,
    schedule: { ...DEFAULT_MASKING.schedule, ...(cfg.schedule ?? {}) },
  };
}

/**
 * The nominal masking probability of `cfg` at `(step, epoch)` (for logging): `ratio` for
 * cell/attribute, the scheduled p, the mean of t for any_order, null for target-only and mixture
 * strategies (log the measured {@link maskRate} for those).
 */
export function nominalRatio(
  partial: Partial<MaskingConfig>,
  pos: { step: number; epoch: number },
): number | null {
  const cfg = withDefaults(partial);
  switch (cfg.strategy) {
    case "cell":
    case "attribute":
      return cfg.ratio;
    case "scheduled":
      return scheduledRatio(cfg.schedule, pos.step, pos.epoch);
    case "any_order":
      return (1 + cfg.eps) / 2;
    default:
      return null;
  }
}
