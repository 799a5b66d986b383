/**
 * Every BabyAI level class of Minigrid 3.1.0 (`minigrid/envs/babyai/*.py`), one file per
 * reference file, with the same RNG call order. Registered by id in ../register.ts.
 *
 * @module
 */

export * from "./goto.ts";
export * from "./open.ts";
export * from "./pickup.ts";
export * from "./putnext.ts";
export * from "./unlock.ts";
export * from "./other.ts";
export * from "./synth.ts";
