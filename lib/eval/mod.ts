/**
 * The evaluation suite: every trained model is scored the same way on the
 * test split (next-frame observation accuracy, one pass and iterative, beside
 * the copy-previous, action-aware copy and frequency-model baselines; action
 * accuracy over every decision; NLL; any-order ELBO; robustness to extra
 * hidden cells; per env id and pooled) and in closed loop on held-out seeds
 * (success rate with Wilson intervals, the bot and a random policy as bounds).
 *
 * @module
 */

export * from "./score.ts";
export * from "./windows.ts";
export * from "./metrics.ts";
export * from "./baselines.ts";
export * from "./rollout.ts";
export * from "./evaluate.ts";
export * from "./catalogue.ts";
