/**
 * The Slurm executor of `deno task ablate`: the written job files (array limit,
 * re-submit command), and, against a real one-node Slurm started by
 * tools/slurm/one_node.sh (slurmctld + slurmd + munged), a smoke study submitted
 * exactly as printed, one array task failing and re-submitted with the printed
 * command, and reports equal to the local executor's to the digit.
 */
import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runDirOf } from "../lib/experiment/ablate.ts";
import { REPO_ROOT } from "../lib/experiment/rundir.ts";
import { extrasHidden, HIDE_EXTRAS_ENV } from "../lib/util/extras.ts";
import {
  arraySpec,
  resubmitCommand,
  shellQuote,
  slurmTasks,
  unfinishedTasks,
  writeSlurmJobs,
} from "../lib/experiment/slurm.ts";

const ONE_NODE = join(REPO_ROOT, "tools", "slurm", "one_node.sh");
const CLI = join(REPO_ROOT, "cli", "ablate.ts");
const STUDY = "exps";
const BASE = join(REPO_ROOT, "configs", "experiments", "cell_masking.yaml");

/** A two-run study (smoke profile, one seed each) in `<root>/abl`. */
function writeStudy(root: string): string {
  const dir = join(root, "abl");
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(
    join(dir, "exps_slurm.yaml"),
    [
      "ablation: exps_slurm",
      'title: "Slurm smoke study"',
      "description: two runs, submitted to Slurm and run locally",
      `base: ${BASE}`,
      "seeds: 1",
      "baseline: cell",
      "variants:",
      "  - { name: cell, set: { masking.ratio: 0.3 } }",
      "  - { name: sft, set: { masking.strategy: next_action } }",
      "",
    ].join("\n"),
  );
  return dir;
}

function sh(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): { code: number; out: string; err: string } {
  const o = new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).outputSync();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

function onPath(bin: string): boolean {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  return dirs.some((d) => d && existsSync(join(d, bin)));
}

/** Why the real-Slurm test cannot run here, or null when it can. */
function slurmUnavailable(): string | null {
  if (extrasHidden()) return `the optional extras are hidden (${HIDE_EXTRAS_ENV}=1)`;
  if (Deno.build.os !== "linux") return "Slurm is started on Linux only";
  const bins = ["slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol"];
  const missing = bins.filter((b) => !onPath(b));
  if (missing.length) {
    return `${missing.join(", ")} not installed: as root, bash tools/slurm/one_node.sh install`;
  }
  if (sh("bash", [ONE_NODE, "status"]).code === 0) return null; // already up (e.g. .ci/run)
  if (Deno.uid() !== 0) return "starting munged/slurmctld/slurmd needs root (CI runs as root)";
  return null;
}

Deno.test("slurm: --array ranges with the --jobs limit, and the re-submit command", () => {
  assert.equal(arraySpec([0, 1, 2, 3]), "0-3");
  assert.equal(arraySpec([5, 0, 1, 2, 7, 8], 2), "0-2,5,7-8%2");
  assert.equal(arraySpec([4], 1), "4%1");
  assert.throws(() => arraySpec([]), /no array task ids/);
  assert.equal(
    resubmitCommand("/r/slurm", [1, 3], 2),
    "aid=$(sbatch --parsable --array=1,3%2 /r/slurm/ablate.sbatch) && " +
      "rid=$(sbatch --parsable --dependency=afterany:$aid /r/slurm/aggregate.sbatch) && " +
      'echo "submitted: array $aid, report $rid"',
  );
  assert.equal(shellQuote("/a b/it's"), `'/a b/it'\\''s'`);
});

Deno.test("slurm: the written array respects --jobs (%N); unfinished tasks are listed", () => {
  const root = Deno.makeTempDirSync({ prefix: "slurm-files-test-" });
  try {
    const opts = {
      profile: "smoke",
      seeds: 1,
      jobs: 3,
      cpusPerTask: 2,
      runsRoot: join(root, "runs"),
      dataRoot: join(root, "data"),
      ablationsDir: writeStudy(root),
    };
    const jobs = writeSlurmJobs([STUDY], opts);
    assert.equal(jobs.tasks, 2);
    const array = readFileSync(join(jobs.dir, "ablate.sbatch"), "utf8");
    assert.match(array, /^#SBATCH --array=0-1%3$/m);
    assert.match(array, /^#SBATCH --cpus-per-task=2$/m);
    assert.match(array, /--run-one "\$STUDY" --variant "\$VARIANT" --seed-index "\$SEED_INDEX"/);
    assert.match(array, new RegExp(`--runs-root ${join(root, "runs")} `));
    assert.equal(
      readFileSync(join(jobs.dir, "runs.txt"), "utf8"),
      "exps_slurm cell 0\nexps_slurm sft 0\n",
    );
    assert.match(
      readFileSync(join(jobs.dir, "aggregate.sbatch"), "utf8"),
      /--executor slurm --aggregate --jobs 3\n/,
    );
    assert.equal(
      readFileSync(join(jobs.dir, "submit.sh"), "utf8"),
      `#!/bin/bash\nset -euo pipefail\n${jobs.commands.join("\n")}\n`,
    );
    // Without --jobs: no limit.
    const free = writeSlurmJobs([STUDY], { ...opts, jobs: undefined });
    assert.match(readFileSync(join(free.dir, "ablate.sbatch"), "utf8"), /^#SBATCH --array=0-1$/m);
    // Nothing ran: both tasks are unfinished, and the CLI prints the one command.
    assert.deepEqual(unfinishedTasks([STUDY], opts), [0, 1]);
    const r = sh(Deno.execPath(), [
      "run",
      "-A",
      CLI,
      STUDY,
      "--executor",
      "slurm",
      "--resubmit-failed",
      "--profile",
      "smoke",
      "--seeds",
      "1",
      "--jobs",
      "3",
      "--runs-root",
      opts.runsRoot,
      "--data-root",
      opts.dataRoot,
      "--ablations-dir",
      opts.ablationsDir,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes(resubmitCommand(jobs.dir, [0, 1], 3)), r.out);
    // A plan other than runs.txt's (two seeds) is refused with what to do.
    assert.throws(
      () => unfinishedTasks([STUDY], { ...opts, seeds: 2 }),
      /runs\.txt was written for other studies, profile or seeds: write the jobs with/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

/** Run shell lines exactly as printed; returns the job ids of their `submitted:` line. */
function submit(lines: string[], env: Record<string, string>): Record<string, string> {
  const r = sh("bash", ["-c", ["set -euo pipefail", ...lines].join("\n")], env);
  assert.equal(r.code, 0, `submitting failed: ${r.err}`);
  const m = r.out.match(/^submitted: (.*)$/m);
  assert.ok(m, `no 'submitted:' line in ${r.out}`);
  return Object.fromEntries(m[1].split(", ").map((kv) => kv.split(" ") as [string, string]));
}

/** Wait until the jobs leave the queue (10 min at most); their states, by `id` or `id_task`. */
async function waitJobs(ids: string[], env: Record<string, string>): Promise<Map<string, string>> {
  const t0 = Date.now();
  while (sh("squeue", ["-h", "-j", ids.join(","), "-o", "%i"], env).out.trim() !== "") {
    if (Date.now() - t0 > 600_000) {
      throw new Error(
        `jobs ${ids.join(", ")} still queued after 10 min: ${sh("squeue", [], env).out}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const states = new Map<string, string>();
  for (const id of ids) {
    const r = sh("scontrol", ["show", "job", "-o", id], env);
    assert.equal(r.code, 0, r.err);
    for (const line of r.out.trim().split("\n")) {
      const task = line.match(/ArrayTaskId=(\d+)/)?.[1];
      states.set(task === undefined ? id : `${id}_${task}`, line.match(/JobState=(\S+)/)![1]);
    }
  }
  return states;
}

const unavailable = slurmUnavailable();

Deno.test({
  name:
    "slurm: a smoke study on a real one-node Slurm, a failed task re-submitted, reports equal local" +
    (unavailable ? ` (ignored: ${unavailable})` : ""),
  ignore: unavailable !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const up = sh("bash", [ONE_NODE, "start"]);
    assert.equal(up.code, 0, `tools/slurm/one_node.sh start failed: ${up.err}`);
    const startedHere = !up.err.includes("already running");
    const conf = up.out.match(/^export SLURM_CONF=(.+)$/m)?.[1];
    assert.ok(conf, `no SLURM_CONF line in ${up.out}`);
    const env = { SLURM_CONF: conf };
    const root = Deno.makeTempDirSync({ prefix: "slurm-test-" });
    try {
      const abl = writeStudy(root);
      const cpus = String(Math.min(2, navigator.hardwareConcurrency || 1));
      const common = [
        "--profile",
        "smoke",
        "--seeds",
        "1",
        "--data-root",
        join(root, "data"),
        "--ablations-dir",
        abl,
      ];
      const slurmRoot = join(root, "slurm");
      const w = sh(Deno.execPath(), [
        "run",
        "-A",
        CLI,
        STUDY,
        ...common,
        "--runs-root",
        slurmRoot,
        "--executor",
        "slurm",
        "--jobs",
        "1",
        "--cpus-per-task",
        cpus,
      ]);
      assert.equal(w.code, 0, w.err);
      const printed = w.out.split("submit with")[1].split("\n").slice(1)
        .filter((l) => l.startsWith("  ")).map((l) => l.slice(2));
      const dir = join(slurmRoot, "ablations", "slurm");
      assert.deepEqual(
        printed,
        readFileSync(join(dir, "submit.sh"), "utf8").trim().split("\n").slice(2),
      );
      assert.match(readFileSync(join(dir, "ablate.sbatch"), "utf8"), /^#SBATCH --array=0-1%1$/m);

      // Task 1 fails: a plain file where its run folder goes.
      const [, sft] = slurmTasks([STUDY], {
        profile: "smoke",
        seeds: 1,
        ablationsDir: abl,
      });
      const blocker = runDirOf({ runsRoot: slurmRoot }, sft.variant, sft.hash);
      Deno.mkdirSync(join(blocker, ".."), { recursive: true });
      Deno.writeTextFileSync(blocker, "not a folder\n");

      const ids = submit(printed, env);
      let states = await waitJobs([ids.data, ids.array, ids.report], env);
      assert.equal(states.get(ids.data), "COMPLETED");
      assert.equal(states.get(`${ids.array}_0`), "COMPLETED");
      assert.equal(states.get(`${ids.array}_1`), "FAILED");
      assert.equal(states.get(ids.report), "FAILED", "the report job exits 1 when a run failed");
      const log = readFileSync(join(dir, "logs", `report-${ids.report}.out`), "utf8");
      const again = log.match(/re-submit them and this report with:\n {2}(.+)\n/)?.[1];
      assert.ok(again, `no re-submit command in the report job's log:\n${log}`);
      assert.equal(again, resubmitCommand(dir, [1], 1));
      assert.equal(
        readFileSync(join(dir, "resubmit.sh"), "utf8").trim().split("\n").pop(),
        again,
      );
      const failedLine = readFileSync(
        join(slurmRoot, "ablations", "exps_slurm", "results.jsonl"),
        "utf8",
      ).split("\n").find((l) => l.includes('"status":"failed"'));
      assert.match(failedLine ?? "", /slurm array task 1 did not finish; its log: /);

      // The cause goes away; the one printed command re-runs task 1 and the report.
      Deno.removeSync(blocker);
      const ids2 = submit([again], env);
      states = await waitJobs([ids2.array, ids2.report], env);
      assert.deepEqual(
        [...states.values()],
        ["COMPLETED", "COMPLETED"],
        JSON.stringify([
          ...states,
        ]),
      );
      assert.ok(!existsSync(join(dir, "resubmit.sh")), "resubmit.sh is gone once all finished");

      // The same study with the local executor, in another runs folder, same threads.
      const local = sh(
        Deno.execPath(),
        ["run", "-A", CLI, STUDY, ...common, "--runs-root", join(root, "local"), "--jobs", "1"],
        { JAXJS_WORKERS: cpus, BLAS_THREADS: cpus, OPENBLAS_NUM_THREADS: cpus },
      );
      assert.equal(local.code, 0, local.err);
      for (const f of ["results.jsonl", "summary.csv"]) {
        const a = readFileSync(join(slurmRoot, "ablations", "exps_slurm", f), "utf8");
        const b = readFileSync(join(root, "local", "ablations", "exps_slurm", f), "utf8");
        assert.equal(a, b, `${f}: the slurm run differs from the local run`);
      }
      const rows = readFileSync(
        join(root, "local", "ablations", "exps_slurm", "results.jsonl"),
        "utf8",
      )
        .trim().split("\n").map((l) => JSON.parse(l));
      for (const v of ["cell", "sft"]) {
        const acc = rows.find((r) => r.variant === v && r.metric === "action_acc");
        assert.ok(acc && acc.status === "ok" && acc.value >= 0 && acc.value <= 1, v);
      }
    } finally {
      Deno.removeSync(root, { recursive: true });
      if (startedHere) sh("bash", [ONE_NODE, "stop"]);
    }
  },
});
