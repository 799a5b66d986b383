/**
 * The Slurm executor of `deno task ablate --executor slurm`: a data-collection
 * job, a job array with one task per distinct run (`cli/ablate.ts --run-one`)
 * and an aggregation job that writes the reports from the finished runs and
 * prints one command that re-submits the array tasks whose run did not finish.
 *
 * Array task i runs line i+1 of `runs.txt` (study, variant, seed index), the
 * distinct runs of {@link planRuns} in order; runs are keyed by config hash, so
 * a re-submitted task reuses a finished run and resumes an interrupted one.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { existsSync, readFileSync, rmSync } from "node:fs";
import {
  finishedMetrics,
  type PlannedRun,
  planRuns,
  runDirOf,
  runStudy,
  type StudyOptions,
} from "./ablate.ts";
import { REPO_ROOT } from "./rundir.ts";
import { writeFileAtomicSync } from "../util/fs.ts";

/** Options of the Slurm executor (the study options plus the job resources). */
export interface SlurmOptions {
  /** Profile of every run (smoke | quick | standard | full). */
  profile: string;
  /** Seeds per variant (default: each study file's). */
  seeds?: number;
  /** Array tasks running at once (`--array=0-N%jobs`); none = as many as Slurm allows. */
  jobs?: number;
  /** CPUs of each array task (default 4); its threads follow SLURM_CPUS_PER_TASK. */
  cpusPerTask?: number;
  /** Root of run outputs (default runs/); the job files go to `<runsRoot>/ablations/slurm`. */
  runsRoot?: string;
  /** Root of datasets (default data/). */
  dataRoot?: string;
  /** Folder of the ablation files (default configs/ablations). */
  ablationsDir?: string;
  /** The Deno binary the jobs run (default: this process's; `DENO=...` overrides at run time). */
  deno?: string;
}

/** Folder of the job files: `<runsRoot>/ablations/slurm`. */
export function slurmDir(runsRoot?: string): string {
  return join(runsRoot ? resolve(runsRoot) : join(REPO_ROOT, "runs"), "ablations", "slurm");
}

/** Quote a word for bash when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function studyOpts(opts: SlurmOptions): StudyOptions {
  return {
    profile: opts.profile,
    seeds: opts.seeds,
    runsRoot: opts.runsRoot && resolve(opts.runsRoot),
    dataRoot: opts.dataRoot && resolve(opts.dataRoot),
    ablationsDir: opts.ablationsDir && resolve(opts.ablationsDir),
  };
}

/** The distinct runs of `studies` in order: array task i is element i. */
export function slurmTasks(studies: string[], opts: SlurmOptions): PlannedRun[] {
  const seen = new Set<string>();
  return planRuns(studies, studyOpts(opts)).filter((r) =>
    !seen.has(r.hash) && (seen.add(r.hash), true)
  );
}

/**
 * A Slurm `--array` value for task ids: ranges joined by commas, with `%jobs`
 * when a concurrency limit is given, e.g. `arraySpec([0, 1, 2, 5], 2)` = `0-2,5%2`.
 */
export function arraySpec(ids: number[], jobs?: number): string {
  if (ids.length === 0) throw new Error("arraySpec: no array task ids");
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = sorted[0], prev = sorted[0];
  for (const id of [...sorted.slice(1), NaN]) {
    if (id === prev + 1) {
      prev = id;
      continue;
    }
    parts.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = prev = id;
  }
  return parts.join(",") + (jobs ? `%${jobs}` : "");
}

/** The one shell line that re-submits array tasks `ids` and then the aggregation job. */
export function resubmitCommand(dir: string, ids: number[], jobs?: number): string {
  return `aid=$(sbatch --parsable --array=${arraySpec(ids, jobs)} ${
    shellQuote(join(dir, "ablate.sbatch"))
  }) && rid=$(sbatch --parsable --dependency=afterany:$aid ${
    shellQuote(join(dir, "aggregate.sbatch"))
  }) && echo "submitted: array $aid, report $rid"`;
}

/** Arguments every job passes to cli/ablate.ts (profile, seeds, folders), quoted. */
function commonArgs(opts: SlurmOptions): string {
  const o = studyOpts(opts);
  const args = ["--profile", opts.profile];
  if (opts.seeds !== undefined) args.push("--seeds", String(opts.seeds));
  if (o.runsRoot) args.push("--runs-root", o.runsRoot);
  if (o.dataRoot) args.push("--data-root", o.dataRoot);
  if (o.ablationsDir) args.push("--ablations-dir", o.ablationsDir);
  return args.map(shellQuote).join(" ");
}

/** What {@link writeSlurmJobs} wrote. */
export interface SlurmJobs {
  /** Folder of the job files. */
  dir: string;
  /** Array tasks (distinct runs). */
  tasks: number;
  /** The submit commands, one shell line each (also in `submit.sh`). */
  commands: string[];
}

/**
 * Write `prepare.sbatch`, `ablate.sbatch` (the array), `aggregate.sbatch`,
 * `runs.txt` and `submit.sh` (the submit commands) under {@link slurmDir}.
 */
export function writeSlurmJobs(studies: string[], opts: SlurmOptions): SlurmJobs {
  const dir = slurmDir(opts.runsRoot);
  const tasks = slurmTasks(studies, opts);
  if (tasks.length === 0) throw new Error(`no runs in studies ${studies.join(", ")}`);
  const cpus = opts.cpusPerTask ?? 4;
  for (const [name, v] of [["--cpus-per-task", cpus], ["--jobs", opts.jobs ?? 1]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) {
      throw new Error(`${name} must be a positive integer, got '${v}'`);
    }
  }
  Deno.mkdirSync(join(dir, "logs"), { recursive: true });
  const q = (p: string) => shellQuote(p);
  const deno = opts.deno ?? Deno.execPath();
  const common = commonArgs(opts);
  const studyArgs = studies.map(shellQuote).join(" ");
  const head = (name: string, cpu: number, time: string, log: string, array = "") =>
    `#!/bin/bash
#SBATCH --job-name=${name}${array ? `\n#SBATCH --array=${array}` : ""}
#SBATCH --cpus-per-task=${cpu}
#SBATCH --time=${time}
#SBATCH --output=${join(dir, "logs", log)}
set -euo pipefail
cd ${q(REPO_ROOT)}
# The Deno that wrote these jobs; on nodes where it lives elsewhere: sbatch --export=ALL,DENO=/path/to/deno
DENO="\${DENO:-${deno}}"
# Threads of the engine's workers, the blas device and OpenBLAS: the CPUs Slurm gave this job.
export JAXJS_WORKERS="\${SLURM_CPUS_PER_TASK:-1}" BLAS_THREADS="\${SLURM_CPUS_PER_TASK:-1}" \\
  OPENBLAS_NUM_THREADS="\${SLURM_CPUS_PER_TASK:-1}"
`;
  writeFileAtomicSync(
    join(dir, "runs.txt"),
    tasks.map((r) => `${r.study} ${r.variant} ${r.seedIndex}`).join("\n") + "\n",
  );
  writeFileAtomicSync(
    join(dir, "prepare.sbatch"),
    head("ablate-data", Math.min(cpus, 4), "4:00:00", "data-%j.out") +
      `# Collect every dataset the runs need, once, before the array starts.
"$DENO" run -A cli/ablate.ts ${studyArgs} ${common} --collect-only
`,
  );
  writeFileAtomicSync(
    join(dir, "ablate.sbatch"),
    head(
      "ablate",
      cpus,
      "12:00:00",
      "task-%a-%A.out",
      arraySpec(tasks.map((_, i) => i), opts.jobs),
    ) +
      `# One array task per run (study, variant, seed index: line TASK_ID + 1 of runs.txt).
read -r STUDY VARIANT SEED_INDEX <<< "$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${
        q(join(dir, "runs.txt"))
      })"
"$DENO" run -A cli/ablate.ts --run-one "$STUDY" --variant "$VARIANT" --seed-index "$SEED_INDEX" ${common}
`,
  );
  const jobsArg = opts.jobs ? ` --jobs ${opts.jobs}` : "";
  writeFileAtomicSync(
    join(dir, "aggregate.sbatch"),
    head("ablate-report", 1, "1:00:00", "report-%j.out") +
      `# After the array: the reports from the finished runs (nothing is trained here); a run
# that did not finish is listed as failed and the command re-submitting its task is printed.
"$DENO" run -A cli/ablate.ts ${studyArgs} ${common} --executor slurm --aggregate${jobsArg}
`,
  );
  const commands = [
    `jid=$(sbatch --parsable ${q(join(dir, "prepare.sbatch"))})`,
    `aid=$(sbatch --parsable --dependency=afterok:$jid ${q(join(dir, "ablate.sbatch"))})`,
    `rid=$(sbatch --parsable --dependency=afterany:$aid ${q(join(dir, "aggregate.sbatch"))})`,
    `echo "submitted: data $jid, array $aid, report $rid"`,
  ];
  writeFileAtomicSync(
    join(dir, "submit.sh"),
    `#!/bin/bash\nset -euo pipefail\n${commands.join("\n")}\n`,
  );
  rmSync(join(dir, "resubmit.sh"), { force: true });
  return { dir, tasks: tasks.length, commands };
}

/**
 * Array task ids whose run has no result (failed, cancelled, or not run yet).
 * Fails when `runs.txt` was written for another plan.
 */
export function unfinishedTasks(studies: string[], opts: SlurmOptions): number[] {
  const dir = slurmDir(opts.runsRoot);
  const path = join(dir, "runs.txt");
  const tasks = slurmTasks(studies, opts);
  const want = tasks.map((r) => `${r.study} ${r.variant} ${r.seedIndex}`);
  const have = existsSync(path) ? readFileSync(path, "utf8").trim().split("\n") : [];
  if (have.join("\n") !== want.join("\n")) {
    throw new Error(
      `${path} ${
        have.length ? "was written for other studies, profile or seeds" : "is missing"
      }: write the jobs with deno task ablate ${studies.join(" ")} --executor slurm ` +
        `and the same --profile/--seeds/--runs-root`,
    );
  }
  const so = studyOpts(opts);
  return tasks.flatMap((r, i) => finishedMetrics(runDirOf(so, r.variant, r.hash)) ? [] : [i]);
}

/** What {@link aggregateSlurm} found and wrote. */
export interface SlurmAggregate {
  /** Report folder of each study. */
  reportDirs: string[];
  /** Array task ids whose run did not finish. */
  unfinished: number[];
  /** The command re-submitting them (also in `resubmit.sh`), or null when all finished. */
  resubmit: string | null;
}

/**
 * The aggregation job: write each study's report from its finished runs, with
 * the unfinished ones as failed runs (nothing is trained), and, when some did
 * not finish, `resubmit.sh` with the one command that re-submits their tasks.
 */
export async function aggregateSlurm(
  studies: string[],
  opts: SlurmOptions,
  log: (line: string) => void = (l) => console.error(l),
): Promise<SlurmAggregate> {
  const dir = slurmDir(opts.runsRoot);
  const unfinished = unfinishedTasks(studies, opts);
  const tasks = slurmTasks(studies, opts);
  const failed = new Map<string, string>();
  for (const i of unfinished) {
    failed.set(
      tasks[i].hash,
      `slurm array task ${i} did not finish; its log: ${join(dir, "logs", `task-${i}-*.out`)}`,
    );
  }
  const reportDirs: string[] = [];
  for (const s of studies) {
    const r = await runStudy(s, { ...studyOpts(opts), failed, log });
    reportDirs.push(r.reportDir);
  }
  let resubmit: string | null = null;
  if (unfinished.length) {
    resubmit = resubmitCommand(dir, unfinished, opts.jobs);
    writeFileAtomicSync(join(dir, "resubmit.sh"), `#!/bin/bash\nset -euo pipefail\n${resubmit}\n`);
  } else {
    rmSync(join(dir, "resubmit.sh"), { force: true });
  }
  return { reportDirs, unfinished, resubmit };
}
