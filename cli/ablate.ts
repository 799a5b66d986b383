/**
 * `deno task ablate [study...] [--profile smoke|quick|standard|full] [--seeds N] [--force]
 *   [--no-wait] [--executor local|slurm] [--jobs N] [--cpus-per-task N] [--resubmit-failed]
 *   [--runs-root DIR] [--data-root DIR] [--ablations-dir DIR] [--compare dir...]`
 *
 * No study = all four on the quick profile: collects missing datasets, trains,
 * evaluates, writes runs/ablations/<study>/report.{md,html}. The local executor
 * runs the unfinished runs on a pool of `--jobs` processes (default: one per
 * core), then writes the reports. A run (and a report folder, and a dataset) has one writer at a
 * time: a run another process is training is waited for and its result reused; `--no-wait` makes
 * such a run fail at once, naming the holder (docs/runs.md).
 *
 * Internal: `--run-one <study> --variant V --seed-index I` trains and evaluates
 * one run in this process and prints its result as the last stdout line (the
 * pool's children and the slurm array tasks use it). `--executor slurm --aggregate`
 * is the slurm aggregation job (lib/experiment/slurm.ts).
 */

import "../lib/model/workers.ts"; // first: sets the engine's worker count from JAXJS_WORKERS
import { parseArgs } from "node:util";
import { ensure, isPresent, OPENBLAS } from "./setup.ts";
import { wasmFallbackMessage } from "../lib/model/device.ts";
import { join } from "node:path";
import {
  collectStudies,
  defaultStudies,
  knownStudies,
  planRuns,
  runPool,
  runSingle,
  runStudy,
  studyFile,
} from "../lib/experiment/ablate.ts";
import { formatPlan, planStudies } from "../lib/experiment/plan.ts";
import { formatTiming, newStudyTiming } from "../lib/experiment/timing.ts";
import { compareStudies, writeCombinedReport } from "../lib/experiment/report.ts";
import { gitVersion } from "../lib/util/git.ts";
import { REPO_ROOT } from "../lib/experiment/rundir.ts";
import { writeFileAtomicSync } from "../lib/util/fs.ts";
import { formatDuration } from "../lib/util/format.ts";
import {
  aggregateSlurm,
  resubmitCommand,
  slurmDir,
  type SlurmOptions,
  unfinishedTasks,
  writeSlurmJobs,
} from "../lib/experiment/slurm.ts";

const USAGE =
  `usage: deno task ablate [study...] [--profile smoke|quick|standard|full] [--seeds N] [--force]
                        [--no-wait] [--executor local|slurm] [--jobs N] [--cpus-per-task N]
                        [--resubmit-failed] [--runs-root DIR] [--data-root DIR]
                        [--ablations-dir DIR] [--compare dir...] [--plan]
  --plan        print each study's runs, how many are finished and what the rest would cost
                (estimated from finished runs' timings), then stop without training
  --jobs N      runs trained at once: local processes (default: one per core), or the
                slurm array's concurrency limit (--array=0-M%N; default: no limit)
  --no-wait     a run, report folder or dataset another process is writing fails at once,
                naming that process (default: wait for it, then reuse its result)
  --cpus-per-task N   CPUs of each slurm array task (default 4)
  --resubmit-failed   with --executor slurm: print the command that re-submits the array
                tasks whose run has no result (failed, cancelled or not run yet)
  --runs-root DIR, --data-root DIR, --ablations-dir DIR
                run outputs (default runs/), datasets (data/), study files (configs/ablations)
studies: ${knownStudies().join(", ")}
  (without names: every study whose file does not set run_by_default: false)`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      profile: { type: "string", default: "quick" },
      seeds: { type: "string" },
      force: { type: "boolean", default: false },
      plan: { type: "boolean", default: false },
      "no-wait": { type: "boolean", default: false },
      executor: { type: "string", default: "local" },
      compare: { type: "boolean", default: false },
      jobs: { type: "string" },
      "run-one": { type: "string" },
      variant: { type: "string" },
      "seed-index": { type: "string" },
      "runs-root": { type: "string" },
      "data-root": { type: "string" },
      "collect-only": { type: "boolean", default: false },
      "cpus-per-task": { type: "string" },
      aggregate: { type: "boolean", default: false },
      "resubmit-failed": { type: "boolean", default: false },
      "ablations-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values["run-one"] !== undefined) {
    const r = await runSingle(
      values["run-one"],
      values.variant ?? "",
      Number(values["seed-index"] ?? 0),
      {
        profile: values.profile,
        force: values.force,
        runsRoot: values["runs-root"],
        dataRoot: values["data-root"],
        ablationsDir: values["ablations-dir"],
        noWait: values["no-wait"],
        log: () => {},
      },
    );
    console.log(JSON.stringify(r));
    return r.status === "ok" ? 0 : 1;
  }
  if (values.compare) {
    console.log(compareStudies(positionals));
    return 0;
  }
  const dirs0 = {
    runsRoot: values["runs-root"],
    dataRoot: values["data-root"],
    ablationsDir: values["ablations-dir"],
  };
  for (const s of positionals) studyFile(s, dirs0.ablationsDir); // unknown names fail before any work
  // Without names: every study whose file does not set `run_by_default: false` (named, it runs).
  const studies = positionals.length
    ? positionals
    : defaultStudies(dirs0.ablationsDir, values.profile);
  const seeds = values.seeds === undefined ? undefined : Number(values.seeds);
  if (seeds !== undefined && !(Number.isInteger(seeds) && seeds >= 1)) {
    throw new Error(`--seeds must be a positive integer, got '${values.seeds}'`);
  }
  if (values["collect-only"]) {
    await collectStudies(studies, { profile: values.profile, seeds, ...dirs0 });
    return 0;
  }
  if ((values.aggregate || values["resubmit-failed"]) && values.executor !== "slurm") {
    throw new Error("--aggregate and --resubmit-failed go with --executor slurm");
  }
  if (values.executor === "slurm") {
    return await slurm(studies, {
      profile: values.profile!,
      seeds,
      jobs: positiveInt("--jobs", values.jobs),
      cpusPerTask: positiveInt("--cpus-per-task", values["cpus-per-task"]),
      ...dirs0,
    }, values);
  }
  if (values.executor !== "local") {
    throw new Error(`--executor must be local or slurm, got '${values.executor}'`);
  }
  const jobs = values.jobs === undefined
    ? Math.max(1, navigator.hardwareConcurrency || 1)
    : Number(values.jobs);
  if (!(Number.isInteger(jobs) && jobs >= 1)) {
    throw new Error(`--jobs must be a positive integer, got '${values.jobs}'`);
  }
  if (values.plan) {
    const plan = planStudies(studies, {
      profile: values.profile,
      seeds,
      force: values.force,
      ...dirs0,
    });
    console.log(formatPlan(plan, jobs));
    return 0;
  }
  // The default device (train.device: auto) trains on OpenBLAS where it loads:
  // install it first when this is a Debian/Ubuntu machine and we are root.
  if (!isPresent(OPENBLAS) && !ensure(OPENBLAS, (m) => console.error(`ablate: ${m}`))) {
    console.error(`ablate: ${wasmFallbackMessage()}`);
  }
  const t0 = performance.now();
  let failed = 0;
  const dirs: string[] = [];
  const done: Awaited<ReturnType<typeof runStudy>>[] = [];
  const timing = newStudyTiming();
  const opts = {
    profile: values.profile,
    seeds,
    force: values.force,
    noWait: values["no-wait"],
    ...dirs0,
    timing,
  };
  const known = jobs > 1 ? await runPool(studies, jobs, opts) : new Map<string, string>();
  for (const s of studies) {
    // After the pool every finished run is reused: this writes the reports (and
    // trains in this process whatever the pool did not, e.g. with --jobs 1).
    const r = await runStudy(s, { ...opts, force: jobs > 1 ? false : values.force, failed: known });
    failed += r.results.filter((x) => x.status === "failed").length;
    dirs.push(r.reportDir);
    done.push(r);
  }
  console.log(compareStudies(dirs));
  const runs = new Set(planRuns(studies, opts).map((r) => r.hash)).size;
  const ablDir = join(values["runs-root"] ?? join(REPO_ROOT, "runs"), "ablations");
  // Every study on one page, headed by when, where and how long.
  const tc = performance.now();
  const combined = join(ablDir, "report.html");
  writeCombinedReport(done, combined, {
    title: `Ablation studies (${values.profile} profile)`,
    subtitle: `${new Date().toISOString()} · ${Deno.build.os}-${Deno.build.arch}, ` +
      `${navigator.hardwareConcurrency} cores · ${gitVersion() ?? "no git"}`,
    text:
      `${studies.length} studies, ${runs} distinct runs (${timing.runs} trained now, the rest ` +
      `reused), ${jobs} at a time, ${failed} failed.\n\n` +
      formatTiming(timing, (tc - t0) / 1000, jobs).replace(/\s+/g, " "),
  });
  timing.reports_s += (performance.now() - tc) / 1000;
  const wall = (performance.now() - t0) / 1000;
  // Where the time went, also kept beside the reports (bench/study_split.ts reads it).
  const timingPath = join(ablDir, "timing.json");
  writeFileAtomicSync(
    timingPath,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        profile: values.profile,
        studies,
        jobs,
        distinct_runs: runs,
        failed_runs: failed,
        wall_s: wall,
        ...timing,
      },
      null,
      1,
    ) + "\n",
  );
  console.error(`ablate: ${formatTiming(timing, wall, jobs)}`);
  console.error(
    `ablate: ${studies.length} studies (${runs} distinct runs, ${jobs} at a time) in ${
      wall.toFixed(0)
    } s (${formatDuration(wall)}); ${failed} failed runs; time split in ${timingPath}; ` +
      `every study on one page: ${combined}`,
  );
  return failed ? 1 : 0;
}

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new Error(`${name} must be a positive integer, got '${raw}'`);
  }
  return n;
}

/**
 * `--executor slurm`: write the jobs and print the commands that submit them;
 * with `--aggregate` (the aggregation job) write the reports from the finished
 * runs; with `--resubmit-failed` print the command that re-submits unfinished tasks.
 */
async function slurm(
  studies: string[],
  opts: SlurmOptions,
  flags: { aggregate?: boolean; "resubmit-failed"?: boolean },
): Promise<number> {
  if (flags.aggregate) {
    const r = await aggregateSlurm(studies, opts);
    console.log(compareStudies(r.reportDirs));
    if (r.resubmit === null) return 0;
    console.log(
      `${r.unfinished.length} array task(s) did not finish (${r.unfinished.join(", ")}); ` +
        `re-submit them and this report with:\n  ${r.resubmit}\n` +
        `(also in ${join(slurmDir(opts.runsRoot), "resubmit.sh")})`,
    );
    return 1;
  }
  if (flags["resubmit-failed"]) {
    const ids = unfinishedTasks(studies, opts);
    if (ids.length === 0) {
      console.log("every array task's run has its result: nothing to re-submit");
      return 0;
    }
    console.log(
      `${ids.length} array task(s) have no result (failed, cancelled, or not run yet: ` +
        `check squeue first): ${ids.join(", ")}; re-submit them and the report with:\n  ${
          resubmitCommand(slurmDir(opts.runsRoot), ids, opts.jobs)
        }`,
    );
    return 0;
  }
  const jobs = writeSlurmJobs(studies, opts);
  console.log(
    `wrote ${jobs.dir}/{prepare,ablate,aggregate}.sbatch (${jobs.tasks} array tasks, runs.txt); ` +
      `submit with (also in submit.sh):\n${jobs.commands.map((c) => `  ${c}`).join("\n")}`,
  );
  return 0;
}

let code = 0;
try {
  code = await main();
} catch (e) {
  console.error(`ablate: ${e instanceof Error ? e.message : e}`);
  code = 2;
}
Deno.exit(code);
