/**
 * Where a study's time goes: the phases of one run (dataset check, training, offline
 * evaluation, closed loop, fine-tuning) and, per `ablate` invocation, the wall seconds of its
 * stages beside the runs' process seconds by phase, printed at the end of a study and read by
 * `deno task bench:study`.
 *
 * @module
 */

/** Seconds of one run by phase (see {@link RunResult.timings}). */
export interface RunTimings {
  /** Checking (or collecting) the dataset inside the run; the pool collects before the runs. */
  collect: number;
  /** Training, validation passes and checkpoints included. */
  train: number;
  /** Offline evaluation on the test windows (every metric and baseline). */
  offline_eval: number;
  /** Closed-loop rollouts (held-out seeds, robustness, bot and random bounds). */
  closed_loop: number;
  /** Few-shot fine-tuning on held-out envs and its evaluation (0 when the study has none). */
  finetune: number;
  /** Observation NLL and closed loop at earlier checkpoints (`eval.over_training`; 0 if off). */
  over_training: number;
}

/** Phases of {@link RunTimings}, in order, with their labels. */
export const RUN_PHASES: [keyof RunTimings, string][] = [
  ["collect", "dataset check"],
  ["train", "training"],
  ["offline_eval", "offline evaluation"],
  ["closed_loop", "closed loop"],
  ["finetune", "fine-tuning"],
  ["over_training", "over training"],
];

/**
 * Where an `ablate` invocation's time went: wall seconds of its stages (collection, the runs,
 * the reports) and, summed over the runs it trained, process seconds by phase.
 */
export interface StudyTiming {
  collection_s: number;
  runs_s: number;
  reports_s: number;
  /** Runs trained (not reused) in this invocation. */
  runs: number;
  /** Sum over those runs of each phase (process seconds: runs in parallel overlap). */
  phases: RunTimings;
}

/** Zero seconds in every phase of a run. */
export function newRunTimings(): RunTimings {
  return Object.fromEntries(RUN_PHASES.map(([k]) => [k, 0])) as unknown as RunTimings;
}

/** An empty {@link StudyTiming}. */
export function newStudyTiming(): StudyTiming {
  return { collection_s: 0, runs_s: 0, reports_s: 0, runs: 0, phases: newRunTimings() };
}

/** Add a trained run's phases to an invocation's timing (nothing for a reused run). */
export function addRun(t: StudyTiming | undefined, r: { timings?: RunTimings }): void {
  if (!t || !r.timings) return;
  t.runs++;
  // A result written before a phase existed has no key for it: nothing was spent there.
  for (const [k] of RUN_PHASES) t.phases[k] += r.timings[k] ?? 0;
}

/** The time split as a few lines for the end of a run. */
export function formatTiming(t: StudyTiming, wall: number, jobs: number): string {
  const total = RUN_PHASES.reduce((a, [k]) => a + t.phases[k], 0);
  const pct = (x: number, of: number) => (of > 0 ? `${Math.round((100 * x) / of)}%` : "-");
  const lines = [
    `time split (wall ${wall.toFixed(0)} s):`,
    `  collection ${t.collection_s.toFixed(0)} s (${pct(t.collection_s, wall)})`,
    `  runs       ${t.runs_s.toFixed(0)} s (${pct(t.runs_s, wall)}), ${t.runs} trained, ` +
    `${jobs} at a time; inside them (process seconds, ${total.toFixed(0)} in all):`,
    ...RUN_PHASES.map(([k, label]) =>
      `    ${label.padEnd(19)} ${t.phases[k].toFixed(0).padStart(6)} s (${pct(t.phases[k], total)})`
    ),
    `  reports    ${t.reports_s.toFixed(1)} s`,
  ];
  return lines.join("\n");
}
