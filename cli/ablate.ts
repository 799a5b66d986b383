/**
 * `deno task ablate [study...] [--profile quick|full|smoke] [--seeds N] [--force]
 *   [--executor local|slurm] [--compare dir...]`
 *
 * No study = all four on the quick profile: collects missing datasets, trains,
 * evaluates, writes runs/ablations/<study>/report.{md,html}.
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { knownStudies, runStudy, studyFile } from "../lib/experiment/ablate.ts";
import { compareStudies } from "../lib/experiment/report.ts";
import { loadAblation } from "../lib/experiment/config.ts";
import { REPO_ROOT, writeFileAtomic } from "../lib/experiment/rundir.ts";

const USAGE = `usage: deno task ablate [study...] [--profile quick|full|smoke] [--seeds N] [--force]
                        [--executor local|slurm] [--compare dir...]
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
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
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
  if (values.executor === "slurm") {
    writeSlurm(studies, values.profile!, seeds);
    return 0;
  }
  if (values.executor !== "local") {
    throw new Error(`--executor must be local or slurm, got '${values.executor}'`);
  }
  const t0 = performance.now();
  let failed = 0;
  const dirs: string[] = [];
  for (const s of studies) {
    const r = await runStudy(s, { profile: values.profile, seeds, force: values.force });
    failed += r.results.filter((x) => x.status === "failed").length;
    dirs.push(r.reportDir);
  }
  console.log(compareStudies(dirs));
  console.error(
    `ablate: ${studies.length} studies in ${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s; ${failed} failed runs`,
  );
  return failed ? 1 : 0;
}

/** Write an sbatch job array (one task per study x variant x seed) and an aggregation script. */
function writeSlurm(studies: string[], profile: string, seeds?: number): void {
  const dir = join(REPO_ROOT, "runs", "ablations", "slurm");
  Deno.mkdirSync(dir, { recursive: true });
  const tasks: string[] = [];
  for (const s of studies) {
    const a = loadAblation(studyFile(s), { profile });
    const n = seeds ?? a.seeds;
    for (let i = 0; i < n; i++) tasks.push(`${a.ablation}`);
  }
  const uniq = [...new Set(tasks)];
  writeFileAtomic(join(dir, "studies.txt"), uniq.join("\n") + "\n");
  writeFileAtomic(
    join(dir, "ablate.sbatch"),
    `#!/bin/bash
#SBATCH --job-name=ablate
#SBATCH --array=0-${uniq.length - 1}
#SBATCH --cpus-per-task=4
#SBATCH --time=12:00:00
# One array task per study; runs are cached by config hash, so a re-submitted task resumes.
cd ${REPO_ROOT}
STUDY=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" runs/ablations/slurm/studies.txt)
npx -y deno@2.9.6 task ablate "$STUDY" --profile ${profile}${seeds ? ` --seeds ${seeds}` : ""}
`,
  );
  writeFileAtomic(
    join(dir, "aggregate.sh"),
    `#!/bin/bash
# Run after the array finishes: one table over all studies.
cd ${REPO_ROOT}
npx -y deno@2.9.6 task ablate --compare ${uniq.map((s) => `runs/ablations/${s}`).join(" ")}
`,
  );
  console.log(
    `wrote ${dir}/ablate.sbatch (${uniq.length} array tasks) and aggregate.sh; submit with:
  sbatch ${dir}/ablate.sbatch && sbatch --dependency=singleton ${dir}/aggregate.sh`,
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
