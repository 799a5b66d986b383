/**
 * Where the time of an ablation study goes, and how close the blas training step comes to the
 * machine's matmul peak.
 *
 *   deno task bench:study [--timing runs/ablations/timing.json] [--before OLD_timing.json]
 *                         [--run exp1:any_order] [--profile standard] [--no-step]
 *
 * Prints JSON lines (never asserts on time):
 * - `study_split`: the time split of a whole `deno task ablate` invocation, read from the
 *   `timing.json` it writes beside its reports (wall seconds of collection, runs and reports;
 *   process seconds of each run phase summed over the runs it trained, with shares). With
 *   `--before`, the same for an older timing.json and the ratio per stage, side by side.
 * - `run_split` (with `--run study:variant`, or when no timing.json exists): one run of that
 *   variant (seed index 0) of the profile trained and evaluated from scratch in a temporary
 *   folder, in a child process on one core (what each of the two pool jobs gets), with the
 *   seconds of each phase.
 * - `step_peak` (unless `--no-step`): the blas device's training step on the profile's model
 *   size, window length and batch (bench/train_speed.ts in a child process): ms per step,
 *   achieved GFLOP/s and its fraction of the 1024x1024 sgemm peak of the same library.
 *
 * @module
 */

import { join } from "node:path";
import { existsSync } from "node:fs";
import { HELP_OPTION, parseCliArgs, runCli } from "../lib/util/cli.ts";
import { REPO_ROOT } from "../lib/experiment/rundir.ts";
import { runHash, studyFile } from "../lib/experiment/ablate.ts";
import { RUN_PHASES, type RunTimings } from "../lib/experiment/timing.ts";
import { loadAblation } from "../lib/experiment/ablation.ts";

const USAGE = `usage: deno task bench:study [--timing FILE] [--before FILE] [--run study:variant]
                           [--profile standard] [--no-step]
  --timing FILE    timing.json of an ablate run (default runs/ablations/timing.json)
  --before FILE    an older timing.json, printed side by side with ratios
  --run S:V        also time one run of study S, variant V (seed index 0) from scratch
  --profile P      profile of --run and of the step measurement (default standard)
  --no-step        skip the training-step measurement`;

interface Timing {
  date?: string;
  profile?: string;
  jobs?: number;
  distinct_runs?: number;
  wall_s: number;
  collection_s: number;
  runs_s: number;
  reports_s: number;
  runs: number;
  phases: RunTimings;
  /** Phases this file has no figure for (set by readTiming). */
  untimed?: (keyof RunTimings)[];
}

const r1 = (x: number) => Math.round(x * 10) / 10;

function readTiming(path: string): Timing {
  let t: Timing;
  try {
    t = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    throw new Error(`${path}: not a readable timing.json (${(e as Error).message})`);
  }
  if (typeof t.wall_s !== "number" || !t.phases) {
    throw new Error(
      `${path}: no time split in it (written by 'deno task ablate' since it has one)`,
    );
  }
  // A timing.json written before a phase was timed has no key for it (its time was in no phase).
  t.untimed = RUN_PHASES.map(([k]) => k).filter((k) => typeof t.phases[k] !== "number");
  for (const k of t.untimed) t.phases[k] = 0;
  return t;
}

function split(t: Timing): Record<string, unknown> {
  const total = RUN_PHASES.reduce((a, [k]) => a + t.phases[k], 0);
  return {
    date: t.date,
    profile: t.profile,
    jobs: t.jobs,
    distinct_runs: t.distinct_runs,
    trained_runs: t.runs,
    wall_s: r1(t.wall_s),
    collection_s: r1(t.collection_s),
    runs_s: r1(t.runs_s),
    reports_s: r1(t.reports_s),
    ...(t.untimed?.length ? { untimed_phases: t.untimed } : {}),
    phase_process_s: Object.fromEntries(RUN_PHASES.map(([k]) => [k, r1(t.phases[k])])),
    phase_share: Object.fromEntries(
      RUN_PHASES.map(([k]) => [k, total > 0 ? Math.round((1000 * t.phases[k]) / total) / 1000 : 0]),
    ),
  };
}

/** Runs `deno run -A <script> ...args` and returns its exit code and the lines it printed. */
async function deno(script: string[], args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO_ROOT, ...script), ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim().split("\n");
  return { code: out.code, lines: text(out.stdout), errLines: text(out.stderr) };
}

/** One run from scratch in a temporary folder, on one core; its result's timings. */
async function timeOneRun(study: string, variant: string, profile: string) {
  const tmp = Deno.makeTempDirSync({ prefix: "bench-study-" });
  try {
    const out = await deno(
      ["cli", "ablate.ts"],
      [
        "--run-one",
        study,
        "--variant",
        variant,
        "--seed-index",
        "0",
        "--profile",
        profile,
        "--runs-root",
        join(tmp, "runs"),
        "--data-root",
        join(tmp, "data"),
      ],
      { JAXJS_WORKERS: "1", BLAS_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
    );
    const last = out.lines.at(-1) ?? "";
    let res: { status?: string; error?: string; seconds?: number; timings?: RunTimings };
    try {
      res = JSON.parse(last);
    } catch {
      throw new Error(
        `the run's process exited with code ${out.code}: ${out.errLines.slice(-3).join(" | ")}`,
      );
    }
    if (res.status !== "ok" || !res.timings) throw new Error(`the run failed: ${res.error}`);
    return { seconds: r1(res.seconds ?? NaN), ...res.timings };
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

async function main(args: string[]): Promise<number> {
  const parsed = parseCliArgs("bench:study", USAGE, {
    args,
    options: {
      timing: { type: "string" },
      before: { type: "string" },
      run: { type: "string" },
      profile: { type: "string", default: "standard" },
      "no-step": { type: "boolean", default: false },
      help: HELP_OPTION,
    },
  });
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  const profile = v.profile!;
  const timingPath = v.timing ?? join(REPO_ROOT, "runs", "ablations", "timing.json");
  const haveTiming = existsSync(timingPath);
  if (v.timing !== undefined && !haveTiming) throw new Error(`${timingPath} does not exist`);
  if (haveTiming) {
    const after = readTiming(timingPath);
    const row: Record<string, unknown> = {
      bench: "study_split",
      file: timingPath,
      ...split(after),
    };
    if (v.before) {
      const before = readTiming(v.before);
      row.before = { file: v.before, ...split(before) };
      const ratio = (a: number, b: number) => (a > 0 ? Math.round((100 * b) / a) / 100 : null);
      row.before_over_after = {
        wall: ratio(after.wall_s, before.wall_s),
        ...Object.fromEntries(
          RUN_PHASES.map(([k]) => [k, ratio(after.phases[k], before.phases[k])]),
        ),
      };
    }
    console.log(JSON.stringify(row));
  } else {
    console.error(
      `bench:study: no ${timingPath} (run 'deno task ablate --profile ${profile}' first for the ` +
        `whole study's split); timing one run instead`,
    );
  }
  const runSpec = v.run ?? (haveTiming ? undefined : "exp1:any_order");
  let modelFrom: { study: string; variant: string } = { study: "exp1", variant: "any_order" };
  if (runSpec !== undefined) {
    const [study, variant] = runSpec.split(":");
    if (!study || !variant) throw new Error(`--run wants study:variant, got '${runSpec}'`);
    modelFrom = { study, variant };
    const t = await timeOneRun(study, variant, profile);
    console.log(JSON.stringify({ bench: "run_split", study, variant, profile, threads: 1, ...t }));
  }
  if (v["no-step"]) return 0;
  // The step of the profile's model: size, window length and batch of that variant's config.
  const ab = loadAblation(studyFile(modelFrom.study), { profile });
  const cfg = ab.variants.find((x) => x.name === modelFrom.variant)?.config;
  if (!cfg) throw new Error(`study ${modelFrom.study} has no variant '${modelFrom.variant}'`);
  const out = await deno(["bench", "train_speed.ts"], [
    "--sizes",
    cfg.model.size,
    "--devices",
    "blas",
    "--no-torch",
    "--rounds",
    "2",
    "--frames",
    String(cfg.window.length),
    "--batch",
    String(cfg.train.batch_size),
  ]);
  const step = out.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .find((j) => j.bench === "train_speed");
  if (!step) throw new Error(`bench/train_speed.ts printed no measurement (exit ${out.code})`);
  console.log(JSON.stringify({
    bench: "step_peak",
    profile,
    run_hash: runHash(cfg),
    size: step.size,
    frames: cfg.window.length,
    batch: step.batch,
    blas_library: step.blas_library,
    ms_per_step: step.ms_per_step,
    ms_per_step_best: step.ms_per_step_best,
    cores_used: step.cores_used,
    gflops: step.gflops,
    matmul_peak_gflops: step.matmul_peak_gflops,
    frac_of_matmul_peak: step.frac_of_matmul_peak,
  }));
  return 0;
}

if (import.meta.main) await runCli(main, "bench:study");
