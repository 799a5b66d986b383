/**
 * World model against success over training: with `eval.over_training: N`, a study run scores
 * observation NLL and closed-loop success at its last N kept checkpoints
 * ({@link evaluateOverTraining}, written to `<run>/over_training.json`), and the report draws
 * NLL_obs against success with Spearman's rho per variant and pooled ({@link overTrainingSections}).
 * Evenly spaced checkpoints need `train.ckpt_every` = steps / N and `train.keep_last` >= N.
 *
 * @module
 */

import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import type { ModelConfig } from "../model/model_config.ts";
import { listCheckpoints, loadCheckpoint } from "../model/checkpoint.ts";
import { makeBestPredictor } from "../model/native_predict.ts";
import { EVAL_VERSION, evaluateModel } from "../eval/evaluate.ts";
import { writeFileAtomicSync } from "../util/fs.ts";
import { clusterSpearman } from "../util/stats.ts";
import type { RunResult } from "./ablate.ts";
import type { PageSection } from "../viz/html.ts";
import type { Figure } from "../viz/plotly.ts";

/** One checkpoint's figures. */
export interface OverTrainingPoint {
  step: number;
  /** Observation NLL, nats per frame (lib/eval/catalogue.ts `obs_nll.per_frame`). */
  obs_nll: number;
  /** Closed-loop success on the held-out seeds. */
  success_rate: number;
}

/** File of the points beside result.json. */
export const OVER_TRAINING_FILE = "over_training.json";

/**
 * Score observation NLL and closed-loop success at the last `cfg.eval.over_training` kept
 * checkpoints of `runDir` (oldest first) and write them to {@link OVER_TRAINING_FILE}. Returns
 * the points (none when the key is 0). With `final` (the step the run ended at and the
 * metrics of its final evaluation), the checkpoint of that step takes its point from them.
 */
export async function evaluateOverTraining(
  cfg: Config,
  runDir: string,
  opts: { dataRoot?: string; final?: { step: number; metrics: Record<string, number> } } = {},
): Promise<OverTrainingPoint[]> {
  const n = cfg.eval.over_training;
  if (!(n > 0)) return [];
  const cks = (await listCheckpoints(runDir)).slice(-n);
  const points: OverTrainingPoint[] = [];
  const fin = opts.final;
  for (const ck of cks) {
    if (fin && ck.step === fin.step) {
      // The checkpoint at the final step holds the trained weights that `fin.metrics` scored
      // (same config, episodes and windows): evaluating it again would give the same numbers.
      points.push({
        step: ck.step,
        obs_nll: fin.metrics["obs_nll.per_frame"] ?? NaN,
        success_rate: fin.metrics["success_rate"] ?? NaN,
      });
      continue;
    }
    const loaded = await loadCheckpoint(ck.dir);
    const predictor = await makeBestPredictor(
      loaded.params,
      loaded.state.modelConfig as ModelConfig,
      { device: cfg.train.device },
    );
    const m = await evaluateModel(cfg, predictor, {
      dataRoot: opts.dataRoot,
      sections: ["obs_nll", "closed_loop"],
      baselines: false,
    }).finally(predictor.dispose);
    points.push({
      step: ck.step,
      obs_nll: m["obs_nll.per_frame"] ?? NaN,
      success_rate: m["success_rate"] ?? NaN,
    });
  }
  writeFileAtomicSync(
    join(runDir, OVER_TRAINING_FILE),
    JSON.stringify({ evalVersion: EVAL_VERSION, wanted: n, points }, null, 1) + "\n",
  );
  return points;
}

/** The points of a run, or null (no file, or another evaluation version). */
export function readOverTraining(runDir: string): OverTrainingPoint[] | null {
  const p = join(runDir, OVER_TRAINING_FILE);
  if (!existsSync(p)) return null;
  try {
    const j = JSON.parse(readFileSync(p, "utf8"));
    if (j.evalVersion !== EVAL_VERSION || !Array.isArray(j.points)) return null;
    return (j.points as Record<string, unknown>[]).map((x) => ({
      step: Number(x.step),
      obs_nll: x.obs_nll === null ? NaN : Number(x.obs_nll),
      success_rate: x.success_rate === null ? NaN : Number(x.success_rate),
    }));
  } catch {
    return null;
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : "–";
}

/**
 * The report section: NLL_obs against success at every evaluated checkpoint of every run, and
 * Spearman's rho with a 95% interval that resamples whole runs, per variant and pooled. None when
 * no run has points.
 */
export function overTrainingSections(results: RunResult[]): PageSection[] {
  const runs = results.filter((r) => r.status === "ok").map((r) => ({
    r,
    pts: readOverTraining(r.runDir) ?? [],
  })).filter((x) => x.pts.length);
  if (!runs.length) return [];
  const variants = [...new Set(runs.map((x) => x.r.variant))];
  const fig: Figure = {
    data: variants.map((v) => {
      const pts = runs.filter((x) => x.r.variant === v).flatMap((x) =>
        x.pts.map((p) => ({ ...p, seed: x.r.seed }))
      );
      return {
        type: "scatter",
        mode: "markers",
        name: v,
        x: pts.map((p) => p.obs_nll),
        y: pts.map((p) => p.success_rate),
        text: pts.map((p) => `seed ${p.seed}, step ${p.step}`),
      };
    }),
    layout: {
      title: {
        text: "Observation NLL against closed-loop success over training (each checkpoint)",
      },
      xaxis: { title: { text: "NLL_obs (nats/frame; lower is better)" } },
      yaxis: { title: { text: "closed-loop success" } },
    },
  };
  const pointsOf = (xs: typeof runs) =>
    xs.flatMap((x) =>
      x.pts.map((p) => ({ cluster: `${x.r.variant}/${x.r.seed}`, x: p.obs_nll, y: p.success_rate }))
    );
  const row = (name: string, xs: typeof runs, seed: number) => {
    const s = clusterSpearman(pointsOf(xs), { seed });
    return {
      variant: name,
      "Spearman rho": fmt(s.rho),
      "95% interval (runs resampled)": Number.isFinite(s.lo) ? `[${fmt(s.lo)}, ${fmt(s.hi)}]` : "–",
      points: String(s.n),
      runs: String(s.clusters),
    };
  };
  return [{
    title: "World model against success over training",
    text:
      "Observation NLL and closed-loop success at the last eval.over_training kept checkpoints " +
      "of each run. A negative rho means checkpoints with a better world model (lower NLL) " +
      "succeed more often. The interval resamples whole runs (the checkpoints of one run are not " +
      "independent); with one run per variant it is absent, and pooled over variants the " +
      "correlation mixes the between-variant and the within-training relation.",
    figures: [fig],
    table: {
      rows: [
        ...variants.map((v, i) => row(v, runs.filter((x) => x.r.variant === v), 11 + i)),
        row("pooled", runs, 7),
      ],
    },
  }];
}
