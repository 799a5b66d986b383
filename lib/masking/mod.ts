/**
 * Masking strategies, selected by name from the `masking` config section.
 *
 * ```ts
 * const mask = drawMask(cfg.masking, batch, { step, epoch, seed: cfg.seed, batchIndex });
 * ```
 *
 * Strategies (details in each file): `cell`, `attribute` (random.ts), `scheduled`
 * (scheduled.ts), `any_order` (any_order.ts), `next_action`, `forward_dynamics`,
 * `inverse_dynamics` (targets.ts), `unit`, `unit_action`, `mtm` (units.ts), `mixture` (mixture.ts). Shared rules (core.ts): padding is
 * never hidden; a random strategy with p > 0 hides at least one unit per valid window; a mask is a
 * pure function of `(config, batch, seed, epoch, step, batchIndex)` and is drawn afresh for every
 * batch (so every epoch sees new masks). Fixed evaluation masks and robustness corruption are in
 * eval.ts.
 *
 * @module
 */

export {
  allocMask,
  dropContext,
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
// The section types and strategy names are the config schema's.
export {
  type MaskingConfig,
  type MixtureEntry,
  type ScheduleConfig,
  STRATEGIES,
  type StrategyName,
} from "../config/schema.ts";
export { forwardDynamicsFill, inverseDynamicsFill, nextActionFill } from "./targets.ts";
export { type MixtureComponent, mixtureFill } from "./mixture.ts";
export { hideObservation, mtmFill, type MtmOptions, unitActionFill, unitFill } from "./units.ts";
export {
  applyEvalMask,
  type CorruptedInput,
  type EvalMaskSpec,
  hideObservedCells,
  randomCellsFill,
} from "./eval.ts";
export { hashKeys, Rng } from "../util/prng.ts";
export * from "./draw.ts";
