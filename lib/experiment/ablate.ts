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
import { type Ablation, configHash, loadAblation } from "./config.ts";
import type { Config } from "./schema.ts";
import { REPO_ROOT, writeFileAtomic } from "./rundir.ts";
import { collectDataset } from "../data/collect.ts";
import { runTraining } from "../train/run.ts";
import { makePredictor, paramsToHost } from "../model/transformer.ts";
import { evaluateModel, type Metrics } from "../eval/mod.ts";
import { finetuneAndEvaluate, wantsFinetune } from "../eval/finetune.ts";
import { writeStudyReport } from "./report.ts";

/** Folder of the ablation configs. */
export const ABLATIONS_DIR: string = join(REPO_ROOT, "configs", "ablations");

/** Names of the known studies (file names without .yaml). */
export function knownStudies(dir = ABLATIONS_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -5)).sort();
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

/**
 * Version of the evaluation suite. A finished run whose result.json was written
 * by another version is re-evaluated from its final checkpoint (not retrained)
 * the next time a study uses it.
 */
export const EVAL_VERSION = 2;

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
}

/** Options of {@link runStudy}. */
export interface StudyOptions {
  /** Profile for every variant (smoke | quick | full). */
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
}

function runConfig(cfg: Config, seed: number): Config {
  return { ...cfg, seed };
}

/** Train + evaluate one run, or reuse its finished result. */
async function runOne(
  study: string,
  variant: string,
  cfg: Config,
  opts: StudyOptions,
): Promise<RunResult> {
  const hash = configHash(cfg);
  const runsRoot = opts.runsRoot ?? join(REPO_ROOT, "runs");
  const dataRoot = opts.dataRoot ?? join(REPO_ROOT, "data");
  const dir = join(runsRoot, "ablations", "_runs", `${variant}-${hash}`);
  const resultPath = join(dir, "result.json");
  const base = { study, variant, seed: cfg.seed, hash, runDir: dir };
  const prev = !opts.force && existsSync(resultPath)
    ? JSON.parse(readFileSync(resultPath, "utf8"))
    : null;
  if (prev && prev.evalVersion === EVAL_VERSION) {
    // JSON has no NaN: undefined metrics were stored as null.
    const metrics: Metrics = {};
    for (const [k, v] of Object.entries(prev.metrics)) metrics[k] = v === null ? NaN : v as number;
    return { ...base, status: "ok", seconds: 0, reused: true, metrics };
  }
  const t0 = performance.now();
  try {
    if (opts.force && existsSync(dir)) Deno.removeSync(dir, { recursive: true });
    Deno.mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, "config.json"), JSON.stringify(cfg, null, 2) + "\n");
    await collectDataset(cfg, { dataDir: dataRoot, progressBar: false });
    const res = await runTraining(cfg, { runDir: dir, resume: true, dataRoot, progress: false });
    const predictor = makePredictor(res.params, res.modelConfig);
    const metrics = await evaluateModel(cfg, predictor, { dataRoot });
    metrics["final_val_loss"] = res.lastVal?.loss ?? NaN;
    metrics["best_val_loss"] = res.best?.loss ?? NaN;
    if (wantsFinetune(cfg)) {
      const host = await paramsToHost(res.params);
      Object.assign(
        metrics,
        await finetuneAndEvaluate(cfg, host, metrics, { runDir: dir, dataRoot }),
      );
    }
    writeFileAtomic(
      resultPath,
      JSON.stringify({ ...base, evalVersion: EVAL_VERSION, metrics }, null, 1) + "\n",
    );
    return {
      ...base,
      status: "ok",
      seconds: (performance.now() - t0) / 1000,
      reused: false,
      metrics,
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

/** Run one study end to end and write its report; returns the per-run results. */
export async function runStudy(name: string, opts: StudyOptions = {}): Promise<{
  ablation: Ablation;
  results: RunResult[];
  reportDir: string;
}> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const ablation = loadAblation(studyFile(name), { profile: opts.profile ?? "quick" });
  const seeds = opts.seeds ?? ablation.seeds;
  const results: RunResult[] = [];
  const total = ablation.variants.length * seeds;
  let i = 0;
  for (const v of ablation.variants) {
    for (let s = 0; s < seeds; s++) {
      i++;
      const cfg = runConfig(v.config, v.config.seed + s);
      const t = performance.now();
      log(`[${ablation.ablation}] ${i}/${total} ${v.name} seed ${cfg.seed} ...`);
      const r = await runOne(ablation.ablation, v.name, cfg, opts);
      results.push(r);
      const secs = ((performance.now() - t) / 1000).toFixed(1);
      log(
        r.status === "ok"
          ? `[${ablation.ablation}] ${v.name} seed ${cfg.seed}: ${
            r.reused ? "reused" : `done in ${secs}s`
          }` +
            `  next-frame cell acc ${fmt(r.metrics["next_frame.cell_acc"])}` +
            `  action acc ${fmt(r.metrics["action_acc"])}  success ${
              fmt(r.metrics["success_rate"])
            }`
          : `[${ablation.ablation}] ${v.name} seed ${cfg.seed}: FAILED: ${r.error}`,
      );
    }
  }
  const reportDir = join(opts.runsRoot ?? join(REPO_ROOT, "runs"), "ablations", ablation.ablation);
  await writeStudyReport(ablation, results, reportDir);
  log(`[${ablation.ablation}] report: ${join(reportDir, "report.html")}`);
  return { ablation, results, reportDir };
}

function fmt(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(3);
}
