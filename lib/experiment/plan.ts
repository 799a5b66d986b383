/**
 * What `deno task ablate --plan` prints before anything is trained: per study its variants, seeds
 * and runs (a run shared with an earlier study counted there once), how many are finished (cached)
 * and, from the finished runs' own timings, what the rest would cost.
 *
 * @module
 */

import { type FinishedRun, finishedRun, planRuns, runDirOf, type StudyOptions } from "./ablate.ts";
import { RUN_PHASES } from "./timing.ts";
import { formatDuration } from "../util/format.ts";

/** One study's share of a plan. */
export interface StudyPlan {
  study: string;
  variants: number;
  seeds: number;
  /** Runs of this study not already counted for an earlier study of the plan. */
  distinct: number;
  finished: number;
  pending: number;
  /** Process seconds of this study's finished runs that recorded their timings. */
  measured: { runs: number; mean_s: number } | null;
  /** Process seconds the pending runs would take, from the measured ones (null: none measured). */
  pending_s: number | null;
}

/** The plan of a set of studies. */
export interface Plan {
  profile: string;
  studies: StudyPlan[];
  distinct: number;
  finished: number;
  pending: number;
  /** Pending runs no finished run of their study could estimate. */
  unestimated: number;
  /** Process seconds of the estimated pending runs. */
  pending_s: number;
}

/**
 * Seconds a finished run took: its result.json `seconds` (the whole run in its process), else the
 * sum of its phase timings (written before `seconds` was; null when it has neither).
 */
function runSeconds(run: FinishedRun): number | null {
  if (run.seconds !== undefined) return run.seconds;
  const t = run.timings;
  return t ? RUN_PHASES.reduce((a, [k]) => a + (t[k] ?? 0), 0) : null;
}

/**
 * The runs `deno task ablate <names>` would train under `opts` (profile, seeds, roots), which are
 * finished, and the process seconds of the rest estimated from the finished runs of the same
 * variant (else of the same study).
 */
export function planStudies(names: string[], opts: StudyOptions = {}): Plan {
  const seen = new Set<string>();
  const studies: StudyPlan[] = [];
  const runs = planRuns(names, opts);
  for (const name of [...new Set(runs.map((r) => r.study))]) {
    const mine = runs.filter((r) => r.study === name);
    const fresh = mine.filter((r) => !seen.has(r.hash) && (seen.add(r.hash), true));
    const byVariant = new Map<string, number[]>();
    const all: number[] = [];
    const pendingVariants: string[] = [];
    let finished = 0;
    for (const r of fresh) {
      const done = opts.force ? null : finishedRun(runDirOf(opts, r.variant, r.hash));
      if (done) {
        finished++;
        const s = runSeconds(done);
        if (s !== null) {
          all.push(s);
          byVariant.set(r.variant, [...(byVariant.get(r.variant) ?? []), s]);
        }
      } else pendingVariants.push(r.variant);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Nothing pending costs nothing; pending runs with no finished run to go by have no estimate.
    const pendingS = !pendingVariants.length ? 0 : !all.length ? null : pendingVariants.reduce(
      (a, v) => a + mean(byVariant.get(v) ?? all),
      0,
    );
    studies.push({
      study: name,
      variants: new Set(mine.map((r) => r.variant)).size,
      seeds: Math.max(0, ...mine.map((r) => r.seedIndex + 1)),
      distinct: fresh.length,
      finished,
      pending: pendingVariants.length,
      measured: all.length ? { runs: all.length, mean_s: mean(all) } : null,
      pending_s: pendingS,
    });
  }
  return {
    profile: opts.profile ?? "quick",
    studies,
    distinct: seen.size,
    finished: studies.reduce((a, s) => a + s.finished, 0),
    pending: studies.reduce((a, s) => a + s.pending, 0),
    unestimated: studies.reduce((a, s) => a + (s.pending_s === null ? s.pending : 0), 0),
    pending_s: studies.reduce((a, s) => a + (s.pending_s ?? 0), 0),
  };
}

/** The plan as text, with the wall time of the estimated runs at `jobs` runs at a time. */
export function formatPlan(plan: Plan, jobs: number): string {
  const w = Math.max(5, ...plan.studies.map((s) => s.study.length));
  const lines = [`plan (profile ${plan.profile}, ${jobs} at a time):`];
  for (const s of plan.studies) {
    const cost = s.pending === 0
      ? "nothing to train"
      : s.pending_s === null
      ? "no finished run to estimate from"
      : `~${formatDuration(s.pending_s)} of process time (mean ${
        s.measured!.mean_s.toFixed(0)
      } s over ${s.measured!.runs} finished)`;
    lines.push(
      `  ${s.study.padEnd(w)}  ${s.variants} variants x ${s.seeds} seeds: ${s.distinct} runs, ` +
        `${s.finished} finished, ${s.pending} to train; ${cost}`,
    );
  }
  let total = `  ${"all".padEnd(w)}  ${plan.distinct} distinct runs, ${plan.finished} finished, ` +
    `${plan.pending} to train`;
  if (plan.pending > plan.unestimated) {
    total += `; the estimated ${plan.pending - plan.unestimated} take ~${
      formatDuration(plan.pending_s / jobs)
    } of wall time at ${jobs} at a time (an estimate from finished runs)`;
  }
  if (plan.unestimated > 0) total += `; ${plan.unestimated} have no estimate`;
  lines.push(total);
  return lines.join("\n");
}
