/**
 * Experiments: config loading and validation, run directories (and, from
 * other files, ablation grids, statistics and reports).
 *
 * @module
 */

export * from "./config.ts";
export * from "./ablation.ts";
export * from "./rundir.ts";
export * from "./stats.ts";
export { knownStudies, type RunResult, runStudy, studyFile, type StudyOptions } from "./ablate.ts";
export { compareStudies, studySections, summarizeResults, writeStudyReport } from "./report.ts";
