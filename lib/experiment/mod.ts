/**
 * Experiments: config loading and validation, run directories (and, from
 * other files, ablation grids, statistics and reports).
 *
 * @module
 */

export * from "./config.ts";
export * from "./rundir.ts";
