/**
 * Experiments: config loading and validation, run directories (and, from
 * other files, ablation grids, statistics and reports).
 *
 * @module
 */

export * from "./config.ts";
export * from "./ablation.ts";
export * from "./rundir.ts";
export * from "../util/stats.ts"; // the intervals of the reports (lib/util, shared with eval and viz)
export { knownStudies, type RunResult, runStudy, studyFile, type StudyOptions } from "./ablate.ts";
export { compareStudies, studySections, summarizeResults, writeStudyReport } from "./report.ts";
export * from "./study_notebook.ts"; // what notebooks 10-13 share
