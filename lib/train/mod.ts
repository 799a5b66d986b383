/**
 * Training: the loop, AdamW + schedules, the masked cross-entropy loss, logs.
 *
 * @module
 */
export * from "./loop.ts";
export * from "./errors.ts";
export * from "./validation.ts";
export * from "./optim.ts";
export * from "./loss.ts";
export * from "./step.ts";
export * from "./engine.ts";
export * from "./log.ts";
export { readJsonl } from "../util/jsonl.ts";
export { loadWindows, type RunConfig, type RunOptions, runTraining } from "./run.ts";
