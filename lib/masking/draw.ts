/**
 * Drawing a mask: the strategy named by the `masking` section fills each window's row
 * ({@link strategyFill}), from a stream that is a pure function of (seed, epoch, step, batch
 * index); the section's defaults and the nominal ratio a strategy hides at a given step.
 *
 * @module
 */

import type { Batch, Mask } from "../data/types.ts";
import { fillWindows, type MaskContext, maskRng, type WindowFill } from "./core.ts";
import { attributeFill, cellFill } from "./random.ts";
import { anyOrderFill } from "./any_order.ts";
import { scheduledFill, scheduledRatio } from "./scheduled.ts";
import { type MaskingConfig, sectionDefault, STRATEGIES } from "../config/schema.ts";
import { forwardDynamicsFill, inverseDynamicsFill, nextActionFill } from "./targets.ts";
import { mixtureFill } from "./mixture.ts";
import { mtmFill, unitActionFill, unitFill } from "./units.ts";

/** The section types and strategy names are the config schema's (lib/config/schema.ts). */

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
      return anyOrderFill({ eps: cfg.eps, stratified: cfg.t_sampling === "stratified" });
    case "next_action":
      return nextActionFill;
    case "forward_dynamics":
      return forwardDynamicsFill();
    case "inverse_dynamics":
      return inverseDynamicsFill;
    case "unit":
      return unitFill({ ratio: cfg.ratio });
    case "unit_action":
      return unitActionFill({ ratio: cfg.ratio });
    case "mtm":
      return mtmFill({ actionShare: cfg.mtm.action_share, pastRatio: cfg.mtm.past_ratio });
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
    default: {
      const unknown: never = cfg.strategy; // every strategy has its case
      throw new Error(
        `${where}.strategy: unknown masking strategy ${JSON.stringify(unknown)}; ` +
          `use one of ${STRATEGIES.join(", ")}`,
      );
    }
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
    mtm: { ...DEFAULT_MASKING.mtm, ...(cfg.mtm ?? {}) },
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
    case "unit":
    case "unit_action":
      return cfg.ratio;
    case "scheduled":
      return scheduledRatio(cfg.schedule, pos.step, pos.epoch);
    case "any_order":
      return (1 + cfg.eps) / 2;
    default:
      return null;
  }
}
