/**
 * `deno task ablate [study...] [--profile quick|full|smoke] [--seeds N] [--force]
 *   [--executor local|slurm] [--jobs N] [--compare dir...]`
 *
 * No study = all four on the quick profile: collects missing datasets, trains,
 * evaluates, writes runs/ablations/<study>/report.{md,html}. The local executor
 * runs the unfinished runs on a pool of `--jobs` processes (default: one per
 * core), then writes the reports.
 *
 * Internal: `--run-one <study> --variant V --seed-index I` trains and evaluates
 * one run in this process and prints its result as the last stdout line (the
 * pool's children and the slurm array tasks use it).
 */

import "../lib/model/workers.ts"; // first: sets the engine's worker count from JAXJS_WORKERS
import { parseArgs } from "node:util";
import { ensure, isPresent, OPENBLAS } from "./setup.ts";
import { join } from "node:path";
import {
  collectStudies,
  knownStudies,
  planRuns,
  runPool,
  runSingle,
  runStudy,
  studyFile,
} from "../lib/experiment/ablate.ts";
import { compareStudies } from "../lib/experiment/report.ts";
import { REPO_ROOT, writeFileAtomic } from "../lib/experiment/rundir.ts";

const USAGE = `usage: deno task ablate [study...] [--profile quick|full|smoke] [--seeds N] [--force]
                        [--executor local|slurm] [--jobs N] [--compare dir...]
  --jobs N      runs trained at once by the local executor (default: one per core)
studies: ${knownStudies().join(", ")}`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      profile: { type: "string", default: "quick" },
      seeds: { type: "string" },
      force: { type: "boolean", default: false },
      executor: { type: "string", default: "local" },
      compare: { type: "boolean", default: false },
      jobs: { type: "string" },
      "run-one": { type: "string" },
      variant: { type: "string" },
      "seed-index": { type: "string" },
      "runs-root": { type: "string" },
      "data-root": { type: "string" },
      "collect-only": { type: "boolean", default: false },
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
  const studies = positionals.length ? positionals : knownStudies();
  for (const s of studies) studyFile(s); // unknown names fail before any work
  const seeds = values.seeds === undefined ? undefined : Number(values.seeds);
  if (seeds !== undefined && !(Number.isInteger(seeds) && seeds >= 1)) {
    throw new Error(`--seeds must be a positive integer, got '${values.seeds}'`);
  }
  if (values["collect-only"]) {
    await collectStudies(studies, { profile: values.profile, seeds });
    return 0;
  }
  if (values.executor === "slurm") {
    writeSlurm(studies, values.profile!, seeds);
    return 0;
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
  // The default device (train.device: auto) trains on OpenBLAS where it loads:
  // install it first when this is a Debian/Ubuntu machine and we are root.
  if (!isPresent(OPENBLAS) && !ensure(OPENBLAS, (m) => console.error(`ablate: ${m}`))) {
    console.error("ablate: OpenBLAS is missing; train.device 'auto' falls back to wasm (slower)");
  }
  const t0 = performance.now();
  let failed = 0;
  const dirs: string[] = [];
  const opts = { profile: values.profile, seeds, force: values.force };
  const known = jobs > 1 ? await runPool(studies, jobs, opts) : new Map<string, string>();
  for (const s of studies) {
    // After the pool every finished run is reused: this writes the reports (and
    // trains in this process whatever the pool did not, e.g. with --jobs 1).
    const r = await runStudy(s, { ...opts, force: jobs > 1 ? false : values.force, failed: known });
    failed += r.results.filter((x) => x.status === "failed").length;
    dirs.push(r.reportDir);
  }
  console.log(compareStudies(dirs));
  const runs = new Set(planRuns(studies, opts).map((r) => r.hash)).size;
  console.error(
    `ablate: ${studies.length} studies (${runs} distinct runs, ${jobs} at a time) in ${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s; ${failed} failed runs`,
  );
  return failed ? 1 : 0;
}

/**
 * Write a Slurm job array with one task per distinct run (`--run-one`), a job that
 * collects the datasets first, and an aggregation job that writes the reports.
 */
function writeSlurm(studies: string[], profile: string, seeds?: number): void {
  const dir = join(REPO_ROOT, "runs", "ablations", "slurm");
  Deno.mkdirSync(dir, { recursive: true });
  const seen = new Set<string>();
  const tasks: string[] = [];
  for (const r of planRuns(studies, { profile, seeds })) {
    if (seen.has(r.hash)) continue;
    seen.add(r.hash);
    tasks.push(`${r.study} ${r.variant} ${r.seedIndex}`);
  }
  const deno = "npx -y deno@2.9.6";
  const common = `--profile ${profile}${seeds ? ` --seeds ${seeds}` : ""}`;
  writeFileAtomic(join(dir, "runs.txt"), tasks.join("\n") + "\n");
  writeFileAtomic(
    join(dir, "prepare.sbatch"),
    `#!/bin/bash
#SBATCH --job-name=ablate-data
#SBATCH --cpus-per-task=4
#SBATCH --time=4:00:00
# Collect every dataset the runs need, once, before the array starts.
cd ${REPO_ROOT}
${deno} task ablate ${studies.join(" ")} ${common} --collect-only
`,
  );
  writeFileAtomic(
    join(dir, "ablate.sbatch"),
    `#!/bin/bash
#SBATCH --job-name=ablate
#SBATCH --array=0-${tasks.length - 1}
#SBATCH --cpus-per-task=4
#SBATCH --time=12:00:00
# One array task per run (study, variant, seed index); runs are keyed by config
# hash, so a re-submitted task reuses a finished run and resumes an interrupted one.
cd ${REPO_ROOT}
read -r STUDY VARIANT SEED_INDEX <<< "$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" runs/ablations/slurm/runs.txt)"
${deno} task ablate --run-one "$STUDY" --variant "$VARIANT" --seed-index "$SEED_INDEX" ${common}
`,
  );
  writeFileAtomic(
    join(dir, "aggregate.sbatch"),
    `#!/bin/bash
#SBATCH --job-name=ablate-report
#SBATCH --cpus-per-task=2
#SBATCH --time=1:00:00
# After the array: reports per study (finished runs are reused, failed ones listed) and one table.
cd ${REPO_ROOT}
${deno} task ablate ${studies.join(" ")} ${common} --jobs 1
`,
  );
  console.log(
    `wrote ${dir}/{prepare,ablate,aggregate}.sbatch (${tasks.length} array tasks, runs.txt); submit with:
  jid=$(sbatch --parsable ${dir}/prepare.sbatch)
  aid=$(sbatch --parsable --dependency=afterok:$jid ${dir}/ablate.sbatch)
  sbatch --dependency=afterany:$aid ${dir}/aggregate.sbatch`,
  );
}

let code = 0;
try {
  code = await main();
} catch (e) {
  console.error(`ablate: ${e instanceof Error ? e.message : e}`);
  code = 2;
}
Deno.exit(code);
