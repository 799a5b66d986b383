/**
 * Ablation studies end to end: for every variant x seed of a study, collect
 * the dataset it needs, train (or reuse / resume a run keyed by its
 * resolved-config hash), evaluate with lib/eval, and aggregate over seeds with
 * confidence intervals and paired differences against the study's baseline.
 *
 * Runs live in `runs/ablations/_runs/<variant>-<hash>/` (the hash covers the
 * whole resolved config including the seed), so identical runs in different
 * studies (e.g. the SFT baseline) are trained once. A run is finished when its
 * `result.json` exists; a run with checkpoints but no result resumes.
 *
 * @module
 */

import { join } from "node:path";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { configHash } from "./config.ts";
import { type Ablation, loadAblation } from "./ablation.ts";
import type { Config } from "../config/schema.ts";
import { envRecord, REPO_ROOT } from "./rundir.ts";
import { writeFileAtomicSync } from "../util/fs.ts";
import { collectDataset } from "../data/collect.ts";
import { runTraining } from "../train/run.ts";
import { MetricsSink } from "../train/log.ts";
import { paramsToHost } from "../model/params.ts";
import { makeBestPredictor } from "../model/native_predict.ts";
import { type ClosedLoopEpisodes, EVAL_VERSION, evaluateModel, type Metrics } from "../eval/mod.ts";
import { finetuneAndEvaluate, wantsFinetune } from "./finetune.ts";
import { writeStudyReport } from "./report.ts";
import { evaluateOverTraining } from "./over_training.ts";
import { acquireLock, describeOwner, type Lock, type LockOptions } from "../util/lock.ts";
import { faultPoint } from "../util/fault.ts";
import { addRun, newRunTimings, type RunTimings, type StudyTiming } from "./timing.ts";
import { formatDuration } from "../util/format.ts";

/** Folder of the ablation configs. */
export const ABLATIONS_DIR: string = join(REPO_ROOT, "configs", "ablations");

/** Names of the known studies (file names without .yaml). */
export function knownStudies(dir = ABLATIONS_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -5)).sort();
}

/** The studies `deno task ablate` runs when given no names: those without `run_by_default: false`. */
export function defaultStudies(dir = ABLATIONS_DIR, profile?: string): string[] {
  return knownStudies(dir).filter((n) =>
    loadAblation(join(dir, `${n}.yaml`), { profile }).runByDefault
  );
}

/** Resolve a study name (or a prefix like `exp1`) to its ablation file; clear error otherwise. */
export function studyFile(name: string, dir = ABLATIONS_DIR): string {
  const known = knownStudies(dir);
  const hit = known.filter((k) => k === name || k.startsWith(name + "_"));
  if (hit.length !== 1) {
    throw new Error(
      `unknown ablation study '${name}'; known studies: ${known.join(", ")} ` +
        `(a prefix such as 'exp1' works too)`,
    );
  }
  return join(dir, `${hit[0]}.yaml`);
}

/** Version of the evaluation suite (defined in lib/eval; re-exported for callers of this module). */
export { EVAL_VERSION };

/** One run's record in results.jsonl. */
export interface RunResult {
  study: string;
  variant: string;
  seed: number;
  hash: string;
  status: "ok" | "failed";
  error?: string;
  /** Seconds spent (training + evaluation) in the call that finished it; 0 when reused. */
  seconds: number;
  reused: boolean;
  runDir: string;
  metrics: Metrics;
  /** Where the run's seconds went (absent when reused). */
  timings?: RunTimings;
  /** The process this one waited for while it held the run (it trained the run meanwhile). */
  waited?: string;
  /** Recovered problems of the run's training (damaged checkpoints skipped on resume). */
  warnings?: string[];
}

/** Options of {@link runStudy}. */
export interface StudyOptions {
  /** Profile for every variant (smoke | quick | standard | full). */
  profile?: string;
  /** Seeds per variant (default: the study file's). */
  seeds?: number;
  /** Retrain finished runs. */
  force?: boolean;
  /** Root of run outputs (default runs/). */
  runsRoot?: string;
  /** Root of datasets (default data/). */
  dataRoot?: string;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Folder of the ablation files (default configs/ablations). */
  ablationsDir?: string;
  /** Filled with where the time goes (collection, runs by phase, reports). */
  timing?: StudyTiming;
  /**
   * Runs that already failed in this invocation (hash -> error), e.g. in the
   * process pool of {@link runPool}: reported as failed instead of retried.
   */
  failed?: Map<string, string>;
  /**
   * Do not wait for a run (or report folder, or dataset) that another process holds: the run
   * fails at once naming the holder (`--no-wait`). Default: wait, then reuse its result.
   */
  noWait?: boolean;
}

/**
 * The lock options of a study's folders (lib/util/lock.ts): one writer per run directory, report
 * folder and dataset; the others wait (with progress on `opts.log`) unless `opts.noWait`.
 */
function lockOptions(opts: StudyOptions, what: string): LockOptions {
  return { wait: !opts.noWait, what, log: opts.log ?? ((l: string) => console.error(l)) };
}

/** Collects (or checks) a run's dataset holding the dataset's lock, so that no two processes write it. */
async function collectLocked(cfg: Config, dataRoot: string, opts: StudyOptions): Promise<void> {
  const dir = join(dataRoot, cfg.data.dataset);
  let complete = false;
  try {
    complete = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).status === "complete";
  } catch { /* not collected yet */ }
  // A complete dataset is only read (checked); one being collected has one writer.
  using _lock = complete ? null : await acquireLock(dir, lockOptions(opts, `dataset ${dir}`));
  await collectDataset(cfg, { dataDir: dataRoot, progressBar: false });
}

/**
 * The config of seed index `s` of a variant: seed `cfg.seed + s` for the model (initialisation,
 * masks, batch order) and, for `s > 0`, split seed `data.seed + s` in its own dataset folder
 * (`<dataset>-data<s>`), so seeds vary the data (train, test and held-out episodes) as well as the
 * model. Seed index 0 is the config itself; every variant of a study gets the same data at the
 * same seed index, so paired differences compare models on the same episodes.
 */
export function runConfig(cfg: Config, s: number): Config {
  if (s === 0) return cfg;
  return {
    ...cfg,
    seed: cfg.seed + s,
    data: { ...cfg.data, seed: cfg.data.seed + s, dataset: `${cfg.data.dataset}-data${s}` },
  };
}

/**
 * Version of what a cached run's training depends on beyond its config: the window layout, the
 * dataset's split rule, the masks drawn. Part of {@link runHash}, so a run trained by older code is
 * retrained rather than resumed or reused. Bump it with any change that alters what a config trains.
 * 2: left-padded windows ending at every frame, per-env split seeds, leak-free forward dynamics.
 * 3: any-order weights capped at the window's slot count (lib/masking/any_order.ts).
 */
export const TRAIN_VERSION = 3;

/** The key of a study run: its resolved config and {@link TRAIN_VERSION} (12 hex digits). */
export function runHash(cfg: Config): string {
  return configHash({ config: cfg, trainVersion: TRAIN_VERSION });
}

/** A run's folder: `<runs>/ablations/_runs/<variant>-<run hash>`. */
export function runDirOf(opts: StudyOptions, variant: string, hash: string): string {
  return join(opts.runsRoot ?? join(REPO_ROOT, "runs"), "ablations", "_runs", `${variant}-${hash}`);
}

/** What a finished run's result.json holds beyond its metrics (older files lack some keys). */
export interface FinishedRun {
  metrics: Metrics;
  /** Seconds of the whole run in its process (absent in results written before it was kept). */
  seconds?: number;
  /** Seconds by phase (a phase added later is absent from older files). */
  timings?: Partial<RunTimings>;
}

/**
 * A finished run's result.json, written by this evaluation version, or null when the run has to
 * be trained or re-evaluated.
 */
export function finishedRun(dir: string): FinishedRun | null {
  const path = join(dir, "result.json");
  if (!existsSync(path)) return null;
  const prev = JSON.parse(readFileSync(path, "utf8"));
  if (prev.evalVersion !== EVAL_VERSION) return null;
  // JSON has no NaN: undefined metrics were stored as null.
  const metrics: Metrics = {};
  for (const [k, v] of Object.entries(prev.metrics)) metrics[k] = v === null ? NaN : v as number;
  return {
    metrics,
    ...(typeof prev.seconds === "number" ? { seconds: prev.seconds } : {}),
    ...(prev.timings ? { timings: prev.timings } : {}),
  };
}

/** The metrics of a finished run ({@link finishedRun}), or null. */
export function finishedMetrics(dir: string): Metrics | null {
  return finishedRun(dir)?.metrics ?? null;
}

/** Train + evaluate one run, or reuse its finished result. */
async function runOne(
  study: string,
  variant: string,
  cfg: Config,
  opts: StudyOptions,
): Promise<RunResult> {
  const hash = runHash(cfg);
  const dataRoot = opts.dataRoot ?? join(REPO_ROOT, "data");
  const dir = runDirOf(opts, variant, hash);
  const resultPath = join(dir, "result.json");
  const base = { study, variant, seed: cfg.seed, hash, runDir: dir };
  const knownError = opts.failed?.get(hash);
  if (knownError !== undefined) {
    return { ...base, status: "failed", error: knownError, seconds: 0, reused: false, metrics: {} };
  }
  const prev = opts.force ? null : finishedMetrics(dir);
  if (prev) return { ...base, status: "ok", seconds: 0, reused: true, metrics: prev };
  // One writer per run: another process training it is waited for, and its result reused.
  let lock: Lock;
  try {
    lock = await acquireLock(dir, lockOptions(opts, `run ${dir}`));
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return { ...base, status: "failed", error, seconds: 0, reused: false, metrics: {} };
  }
  using _lock = lock;
  const waited = lock.waitedFor
    ? `${describeOwner(lock.waitedFor)}, ${(lock.waitedMs / 1000).toFixed(1)} s`
    : undefined;
  const after = opts.force && !waited ? null : finishedMetrics(dir);
  if (after) return { ...base, status: "ok", seconds: 0, reused: true, metrics: after, waited };
  const t0 = performance.now();
  const timings = newRunTimings();
  let lap = t0;
  const phase = (key: keyof RunTimings) => {
    const now = performance.now();
    timings[key] += (now - lap) / 1000;
    lap = now;
  };
  try {
    if (opts.force && existsSync(dir)) Deno.removeSync(dir, { recursive: true });
    Deno.mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(join(dir, "config.json"), JSON.stringify(cfg, null, 2) + "\n");
    // Where the run was made (device, BLAS library, commit, machine); a resumed run keeps the
    // record of its start and adds the resuming environment.
    const envPath = join(dir, "env.json");
    const env = { ...envRecord(cfg), run_hash: hash };
    if (!existsSync(envPath)) writeFileAtomicSync(envPath, JSON.stringify(env, null, 2) + "\n");
    else {
      const prev = JSON.parse(readFileSync(envPath, "utf8"));
      prev.resumed = [...(prev.resumed ?? []), env];
      writeFileAtomicSync(envPath, JSON.stringify(prev, null, 2) + "\n");
    }
    await collectLocked(cfg, dataRoot, opts);
    phase("collect");
    const res = await runTraining(cfg, { runDir: dir, resume: true, dataRoot, progress: false });
    phase("train");
    faultPoint("run-trained");
    const predictor = await makeBestPredictor(res.params, res.modelConfig, {
      device: cfg.train.device,
    });
    const evalTimes: { offline?: number; closed_loop?: number } = {};
    const episodes: ClosedLoopEpisodes = {};
    const metrics = await evaluateModel(cfg, predictor, { dataRoot, timings: evalTimes, episodes })
      .finally(predictor.dispose);
    // Per-episode closed-loop outcomes beside result.json: reports pair variants by episode.
    writeFileAtomicSync(
      join(dir, "episodes.json"),
      JSON.stringify({ evalVersion: EVAL_VERSION, envs: episodes }) + "\n",
    );
    phase("offline_eval");
    timings.closed_loop = evalTimes.closed_loop ?? 0;
    timings.offline_eval -= timings.closed_loop;
    // The run's own objective (not comparable across variants) and the validation ELBO every run
    // shares (comparable); `best` is chosen by the shared ELBO.
    metrics["final_val_loss"] = res.lastVal?.loss ?? NaN;
    metrics["final_val_elbo"] = res.lastVal?.val_elbo ?? NaN;
    metrics["best_val_elbo"] = res.best?.loss ?? NaN;
    if (wantsFinetune(cfg)) {
      const host = await paramsToHost(res.params);
      Object.assign(
        metrics,
        await finetuneAndEvaluate(cfg, host, metrics, { runDir: dir, dataRoot }),
      );
      phase("finetune");
    }
    // Observation NLL and success at the last eval.over_training checkpoints (over_training.json).
    // The last kept checkpoint is the trained model: its point is the evaluation above.
    await evaluateOverTraining(cfg, dir, { dataRoot, final: { step: res.step, metrics } });
    phase("over_training");
    // The final evaluation also in metrics.jsonl and TensorBoard (eval/<metric> at the last step).
    await new MetricsSink(join(dir, "metrics.jsonl")).setEval(res.step, metrics);
    faultPoint("run-evaluated");
    const seconds = (performance.now() - t0) / 1000;
    writeFileAtomicSync(
      resultPath,
      JSON.stringify({ ...base, evalVersion: EVAL_VERSION, metrics, timings, seconds }, null, 1) +
        "\n",
    );
    return {
      ...base,
      status: "ok",
      seconds,
      reused: false,
      metrics,
      timings,
      ...(res.warnings.length ? { warnings: res.warnings } : {}),
    };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return {
      ...base,
      status: "failed",
      error,
      seconds: (performance.now() - t0) / 1000,
      reused: false,
      metrics: {},
    };
  }
}

/** One run of a study: which variant and seed, its resolved config and run key. */
export interface PlannedRun {
  study: string;
  variant: string;
  /** Seed index within the variant (0 .. seeds-1). */
  seedIndex: number;
  cfg: Config;
  hash: string;
}

/** Every run of the given studies, in study / variant / seed order. */
export function planRuns(names: string[], opts: StudyOptions = {}): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const name of names) {
    const ablation = loadAblation(studyFile(name, opts.ablationsDir), {
      profile: opts.profile ?? "quick",
    });
    const seeds = opts.seeds ?? ablation.seeds;
    for (const v of ablation.variants) {
      for (let s = 0; s < seeds; s++) {
        const cfg = runConfig(v.config, s);
        out.push({
          study: ablation.ablation,
          variant: v.name,
          seedIndex: s,
          cfg,
          hash: runHash(cfg),
        });
      }
    }
  }
  return out;
}

/**
 * Train and evaluate the runs of `names` that are not finished yet on `jobs`
 * child processes at once (`cli/ablate.ts --run-one`), each run once even when
 * several studies share it (same config hash). Datasets are collected first, in
 * this process, so that no two children collect the same one. Returns the runs
 * that failed (hash -> error) for {@link runStudy}'s `failed` option.
 */
export async function runPool(
  names: string[],
  jobs: number,
  opts: StudyOptions = {},
): Promise<Map<string, string>> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const runsRoot = opts.runsRoot ?? join(REPO_ROOT, "runs");
  const dataRoot = opts.dataRoot ?? join(REPO_ROOT, "data");
  const pending = new Map<string, PlannedRun>();
  for (const r of planRuns(names, opts)) {
    const done = !opts.force && finishedMetrics(runDirOf(opts, r.variant, r.hash)) !== null;
    if (!done && !pending.has(r.hash)) pending.set(r.hash, r);
  }
  const failed = new Map<string, string>();
  if (pending.size === 0) return failed;
  const tc = performance.now();
  await collectRuns([...pending.values()], dataRoot, log, opts.noWait);
  const tr = performance.now();
  if (opts.timing) opts.timing.collection_s += (tr - tc) / 1000;
  // Longest first (runs that also fine-tune and evaluate on held-out envs), so that
  // the pool does not end with one long run on one process while the others idle.
  const queue = [...pending.values()].sort((a, b) =>
    Number(wantsFinetune(b.cfg)) - Number(wantsFinetune(a.cfg))
  );
  const total = queue.length;
  let started = 0, ended = 0;
  log(`[pool] ${total} runs on ${jobs} processes`);
  // After each run: how many are done and, from the pool's throughput so far, the time left.
  const progress = () => {
    const el = (performance.now() - tr) / 1000, left = total - ++ended;
    log(
      `[pool] ${ended}/${total} finished in ${formatDuration(el)}` +
        (left ? `, ~${formatDuration((el / ended) * left)} left` : ""),
    );
  };
  const script = join(REPO_ROOT, "cli", "ablate.ts");
  // Split the cores between the children (see lib/model/workers.ts).
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const workersPerJob = Math.max(1, Math.floor(cores / Math.min(jobs, total)));
  const worker = async () => {
    while (queue.length) {
      const r = queue.shift()!;
      const n = ++started;
      const t0 = performance.now();
      log(`[pool] ${n}/${total} ${r.study} ${r.variant} seed ${r.cfg.seed} ...`);
      const args = [
        "run",
        "-A",
        script,
        "--run-one",
        r.study,
        "--variant",
        r.variant,
        "--seed-index",
        String(r.seedIndex),
        "--profile",
        opts.profile ?? "quick",
        "--runs-root",
        runsRoot,
        "--data-root",
        dataRoot,
        ...(opts.force ? ["--force"] : []),
        ...(opts.noWait ? ["--no-wait"] : []),
        ...(opts.ablationsDir ? ["--ablations-dir", opts.ablationsDir] : []),
        ...(opts.seeds !== undefined ? ["--seeds", String(opts.seeds)] : []),
      ];
      const out = await new Deno.Command(Deno.execPath(), {
        args,
        stdout: "piped",
        stderr: "piped",
        // Threads per run: the engine's wasm workers, the blas device's helper threads
        // and OpenBLAS's own threads (read when the library loads).
        env: {
          JAXJS_WORKERS: String(workersPerJob),
          BLAS_THREADS: String(workersPerJob),
          OPENBLAS_NUM_THREADS: String(workersPerJob),
        },
      })
        .output();
      const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
      let res: RunResult | null = null;
      try {
        res = JSON.parse(text) as RunResult;
      } catch {
        res = null;
      }
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      if (res && res.status === "ok") {
        addRun(opts.timing, res);
        log(
          `[pool] ${r.study} ${r.variant} seed ${r.cfg.seed}: ` +
            (res.waited ? `reused after waiting for ${res.waited}` : `done in ${secs}s`) +
            headline(res.metrics),
        );
        for (const w of res.warnings ?? []) log(`[pool] ${r.study} ${r.variant}: WARNING: ${w}`);
      } else {
        const err = res?.error ??
          `the run's process exited with code ${out.code}: ${
            new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ")
          }`;
        failed.set(r.hash, err);
        log(`[pool] ${r.study} ${r.variant} seed ${r.cfg.seed}: FAILED: ${err}`);
      }
      progress();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, total)) }, worker));
  if (opts.timing) opts.timing.runs_s += (performance.now() - tr) / 1000;
  return failed;
}

async function collectRuns(
  runs: PlannedRun[],
  dataRoot: string,
  log: (line: string) => void,
  noWait = false,
): Promise<void> {
  const datasets = new Map<string, Config>();
  for (const r of runs) {
    if (!datasets.has(r.cfg.data.dataset)) datasets.set(r.cfg.data.dataset, r.cfg);
  }
  for (const [name, cfg] of datasets) {
    log(`[data] ${name} ...`);
    await collectLocked(cfg, dataRoot, { log, noWait });
  }
}

/** Collect every dataset the runs of `names` need (idempotent). */
export async function collectStudies(names: string[], opts: StudyOptions = {}): Promise<void> {
  await collectRuns(
    planRuns(names, opts),
    opts.dataRoot ?? join(REPO_ROOT, "data"),
    opts.log ?? ((l: string) => console.error(l)),
  );
}

/** One run in this process (the child side of {@link runPool}); the result is also in its run dir. */
export async function runSingle(
  name: string,
  variant: string,
  seedIndex: number,
  opts: StudyOptions = {},
): Promise<RunResult> {
  const r = planRuns([name], { ...opts, seeds: Math.max(opts.seeds ?? 1, seedIndex + 1) })
    .find((x) => x.variant === variant && x.seedIndex === seedIndex);
  if (!r) {
    const names = [...new Set(planRuns([name], { ...opts, seeds: 1 }).map((x) => x.variant))];
    throw new Error(
      `study '${name}' has no variant '${variant}'; its variants: ${names.join(", ")}`,
    );
  }
  return await runOne(r.study, r.variant, r.cfg, opts);
}

function headline(m: Metrics): string {
  return `  next-frame cell acc ${fmt(m["next_frame.cell_acc"])}  action acc ${
    fmt(m["action_acc"])
  }` +
    `  success ${fmt(m["success_rate"])}`;
}

/** Run one study end to end and write its report; returns the per-run results. */
export async function runStudy(name: string, opts: StudyOptions = {}): Promise<{
  ablation: Ablation;
  results: RunResult[];
  reportDir: string;
}> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const ablation = loadAblation(studyFile(name, opts.ablationsDir), {
    profile: opts.profile ?? "quick",
  });
  const seeds = opts.seeds ?? ablation.seeds;
  const results: RunResult[] = [];
  const total = ablation.variants.length * seeds;
  let i = 0;
  for (const v of ablation.variants) {
    for (let s = 0; s < seeds; s++) {
      i++;
      const cfg = runConfig(v.config, s);
      const t = performance.now();
      log(`[${ablation.ablation}] ${i}/${total} ${v.name} seed ${cfg.seed} ...`);
      const r = await runOne(ablation.ablation, v.name, cfg, opts);
      results.push(r);
      addRun(opts.timing, r);
      if (opts.timing) opts.timing.runs_s += (performance.now() - t) / 1000;
      const secs = ((performance.now() - t) / 1000).toFixed(1);
      log(
        r.status === "ok"
          ? `[${ablation.ablation}] ${v.name} seed ${cfg.seed}: ${
            r.waited
              ? `reused after waiting for ${r.waited}`
              : r.reused
              ? "reused"
              : `done in ${secs}s`
          }` + headline(r.metrics)
          : `[${ablation.ablation}] ${v.name} seed ${cfg.seed}: FAILED: ${r.error}`,
      );
    }
  }
  const reportDir = join(opts.runsRoot ?? join(REPO_ROOT, "runs"), "ablations", ablation.ablation);
  const tw = performance.now();
  {
    // One writer of the report folder at a time (several invocations may finish one study).
    using _lock = await acquireLock(reportDir, lockOptions(opts, `report folder ${reportDir}`));
    writeStudyReport(ablation, results, reportDir);
  }
  if (opts.timing) opts.timing.reports_s += (performance.now() - tw) / 1000;
  log(`[${ablation.ablation}] report: ${join(reportDir, "report.html")}`);
  return { ablation, results, reportDir };
}

function fmt(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(3);
}
