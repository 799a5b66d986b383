/**
 * Training: the loop, AdamW + schedules, the masked cross-entropy loss, logs.
 *
 * @module
 */
export * from "./loop.ts";
export * from "./optim.ts";
export * from "./loss.ts";
export * from "./step.ts";
export * from "./log.ts";
export { syntheticBatch, syntheticMask } from "./synthetic.ts";
export { loadWindows, type RunConfig, runTraining, type RunOptions } from "./run.ts";
