/**
 * Pre-registered primary endpoints and paired contrasts of a study ({@link endpointRows}): one
 * row per contrast (`contrasts:` of the study file, or each variant against `baseline:`) and
 * primary metric (`primary:`), with the paired difference variant - baseline, its interval after
 * a Holm correction across the primary rows, the minimum detectable effect at the study's seeds
 * (and episodes) and a verdict. See docs/statistics.md for the methods.
 *
 * - Metrics other than closed-loop success: paired over seeds (the same seed index gives every
 *   variant the same data), Student t; the MDE is the exact one of a paired t-test (80% power,
 *   two-sided 0.05) times the observed sd of the per-seed differences.
 * - Closed-loop success (`success_rate`, `unseen.success_rate`, `<env>.success_rate`): paired by
 *   episode (every variant plays the same held-out seeds, read from each run's episodes.json)
 *   with a seeded two-stage bootstrap over seeds and episodes; the MDE is (z_0.975 + z_0.8) times
 *   the bootstrap standard error. Without episode files it falls back to seeds.
 * - A row where either side is next-action SFT and the metric is not an action or control one
 *   (SFT predicts no observations) is "not applicable" and takes no part in the Holm family.
 *
 * @module
 */

import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import type { Ablation, Contrast } from "./ablation.ts";
import type { RunResult } from "./ablate.ts";
import { EVAL_VERSION } from "../eval/evaluate.ts";
import type { ClosedLoopEpisodes } from "../eval/evaluate.ts";
import { metricInfo, sftReadable } from "../eval/catalogue.ts";
import {
  holm,
  meanCiAt,
  normalMde,
  pairedClusterBootstrap,
  pairedMde,
  tTest,
} from "../util/stats.ts";
import { configHash } from "../util/hash.ts";

/** Significance level of the primary family (two-sided) and the power of the MDE. */
export const ALPHA = 0.05, POWER = 0.8;
/** Bootstrap replicates of a closed-loop success contrast. */
export const BOOTSTRAP_REPS = 4000;
/**
 * Fewest paired episodes (all seeds together) for a bootstrap verdict: below it the percentile
 * interval of a handful of 0/1 outcomes is no guide, and the row is inconclusive with no p-value.
 */
export const MIN_EPISODES = 20;

/** What a row concludes. */
export type Verdict = "variant better" | "baseline better" | "inconclusive" | "not applicable";

/** One contrast x metric row. */
export interface EndpointRow {
  /** The contrast's question. */
  question: string;
  variant: string;
  baseline: string;
  /** Catalogue key. */
  metric: string;
  label: string;
  /** Pre-registered primary endpoint (Holm family) or secondary (unadjusted 95%). */
  primary: boolean;
  /** How the difference was paired. */
  method: "seeds" | "seeds and episodes" | "none";
  /** Seeds paired. */
  seeds: number;
  /** Episodes paired per seed (closed loop by episode; 0 otherwise). */
  episodes: number;
  /** Mean paired difference variant - baseline. */
  diff: number;
  /** Interval at `level`. */
  lo: number;
  hi: number;
  /** Confidence level of the interval (Holm-adjusted for primary rows). */
  level: number;
  /** Two-sided p-value (paired t, or bootstrap). */
  p: number;
  /** Holm-adjusted p-value (primary rows; NaN for secondary ones). */
  pHolm: number;
  /** Minimum detectable effect (80% power, two-sided 0.05), in the metric's units. */
  mde: number;
  verdict: Verdict;
  /** Why a row has no interval or no verdict, if it needs saying. */
  note: string;
}

/** The episodes file of a run (`episodes.json`, lib/experiment/ablate.ts), or null. */
export function readEpisodes(runDir: string): ClosedLoopEpisodes | null {
  const p = join(runDir, "episodes.json");
  if (!existsSync(p)) return null;
  try {
    const j = JSON.parse(readFileSync(p, "utf8"));
    return j.evalVersion === EVAL_VERSION && j.envs ? j.envs as ClosedLoopEpisodes : null;
  } catch {
    return null;
  }
}

/** Training envs of a run (its config.json's data.envs), or null. */
function trainEnvs(runDir: string): string[] | null {
  const p = join(runDir, "config.json");
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, "utf8")).data?.envs ?? null;
  } catch {
    return null;
  }
}

/** Whether `key` is a closed-loop success rate that per-episode outcomes can pair. */
function isEpisodeSuccess(key: string): boolean {
  const b = metricInfo(key)?.base;
  return !key.startsWith("finetune.") && (b === "success_rate" || b === "unseen.success_rate") &&
    !key.includes("wilson");
}

/** The env ids whose episodes make up success key `key` for a run. */
function envsOf(key: string, eps: ClosedLoopEpisodes, runDir: string): string[] | null {
  const all = Object.keys(eps).sort();
  if (key === "success_rate") return all;
  if (key === "unseen.success_rate") {
    const tr = trainEnvs(runDir);
    return tr ? all.filter((e) => !tr.includes(e)) : null;
  }
  const env = key.slice(0, -".success_rate".length);
  return eps[env] ? [env] : null;
}

/**
 * Whether the study's variant `name` trains next-action SFT only: its strategy is
 * `next_action`, or every stage of `train.stages` is (a stage that trains observations, as
 * Prefix SFT's forward-dynamics stage, makes it a model that predicts them).
 */
export function isSftVariant(ablation: Ablation, name: string): boolean {
  const cfg = ablation.variants.find((v) => v.name === name)?.config;
  if (!cfg) return false;
  const stages = (cfg.train as { stages?: { strategy: string }[] } | undefined)?.stages ?? [];
  return stages.length
    ? stages.every((s) => s.strategy === "next_action")
    : cfg.masking.strategy === "next_action";
}

/** The study's contrasts (a hand-built Ablation without them: each variant vs the baseline). */
export function studyContrasts(ablation: Ablation): Contrast[] {
  if (ablation.contrasts?.length) return ablation.contrasts;
  return ablation.variants.filter((v) => v.name !== ablation.baseline).map((v) => ({
    question: `${v.name} vs ${ablation.baseline}`,
    variant: v.name,
    baseline: ablation.baseline,
  }));
}

/** A stable integer seed for one row's bootstrap. */
function rowSeed(study: string, c: Contrast, metric: string): number {
  return parseInt(configHash({ study, v: c.variant, b: c.baseline, metric }).slice(0, 8), 16);
}

interface Paired {
  method: EndpointRow["method"];
  seeds: number;
  episodes: number;
  diff: number;
  p: number;
  /** Interval at a level. */
  at: (level: number) => [number, number];
  mde: number;
  note: string;
}

/** The paired data of one contrast on one metric. */
function pair(ablation: Ablation, results: RunResult[], c: Contrast, metric: string): Paired {
  const ok = results.filter((r) => r.status === "ok");
  const bySeed = (v: string) => new Map(ok.filter((r) => r.variant === v).map((r) => [r.seed, r]));
  const A = bySeed(c.variant), B = bySeed(c.baseline);
  const seeds = [...A.keys()].filter((s) => B.has(s)).sort((x, y) => x - y).filter((s) =>
    Number.isFinite(A.get(s)!.metrics[metric]) && Number.isFinite(B.get(s)!.metrics[metric])
  );
  const none = (note: string): Paired => ({
    method: "none",
    seeds: seeds.length,
    episodes: 0,
    diff: NaN,
    p: NaN,
    at: () => [NaN, NaN],
    mde: NaN,
    note,
  });
  if (!seeds.length) return none("no seed with both runs finished and the metric measured");
  if (isEpisodeSuccess(metric)) {
    const a: number[][] = [], b: number[][] = [];
    let paired = true;
    for (const s of seeds) {
      const ra = A.get(s)!, rb = B.get(s)!;
      const ea = readEpisodes(ra.runDir), eb = readEpisodes(rb.runDir);
      const envs = ea && eb ? envsOf(metric, ea, ra.runDir) : null;
      const envsB = ea && eb ? envsOf(metric, eb, rb.runDir) : null;
      if (!ea || !eb || !envs || !envsB || envs.join() !== envsB.join() || !envs.length) {
        paired = false;
        break;
      }
      const xa: number[] = [], xb: number[] = [];
      for (const env of envs) {
        if (ea[env].seeds.join() !== eb[env]?.seeds.join()) paired = false;
        xa.push(...ea[env].success);
        xb.push(...eb[env].success);
      }
      a.push(xa);
      b.push(xb);
    }
    if (paired) {
      const seed = rowSeed(ablation.ablation, c, metric);
      const boot = (level: number) =>
        pairedClusterBootstrap(a, b, { seed, reps: BOOTSTRAP_REPS, level });
      const r = boot(1 - ALPHA);
      const total = a.reduce((t, x) => t + x.length, 0);
      const few = total < MIN_EPISODES;
      return {
        method: "seeds and episodes",
        seeds: seeds.length,
        episodes: Math.round(total / a.length),
        diff: r.mean,
        p: few ? NaN : r.p,
        at: (level) => {
          const x = boot(level);
          return [x.lo, x.hi];
        },
        mde: r.se > 0 ? normalMde(r.se, POWER, ALPHA) : NaN,
        note: few
          ? `${total} paired episodes, fewer than ${MIN_EPISODES}: no verdict`
          : r.se === 0
          ? "no spread: every paired episode gives the same difference"
          : "",
      };
    }
  }
  const d = seeds.map((s) => A.get(s)!.metrics[metric] - B.get(s)!.metrics[metric]);
  const t = tTest(d);
  if (d.length < 2) {
    return {
      ...none(
        isEpisodeSuccess(metric)
          ? "one seed and no paired episode outcomes (episodes.json): no interval"
          : "one seed: no interval; run the study with more seeds",
      ),
      method: "seeds",
      diff: t.mean,
    };
  }
  return {
    method: "seeds",
    seeds: d.length,
    episodes: 0,
    diff: t.mean,
    p: t.p,
    at: (level) => {
      const m = meanCiAt(d, level);
      return [m.lo, m.hi];
    },
    mde: pairedMde(d.length, POWER, ALPHA) * t.sd,
    note: isEpisodeSuccess(metric) ? "episodes not paired (no matching episodes.json)" : "",
  };
}

/** The verdict of an interval on a metric whose better direction is `better`. */
function verdictOf(lo: number, hi: number, better: string | undefined): Verdict {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return "inconclusive";
  const sign = better === "lower" ? -1 : better === "higher" ? 1 : 0;
  if (sign === 0) return "inconclusive";
  if (lo > 0) return sign > 0 ? "variant better" : "baseline better";
  if (hi < 0) return sign > 0 ? "baseline better" : "variant better";
  return "inconclusive";
}

/**
 * The rows of a study's endpoint table: every contrast x `metrics` (default: the study's
 * primary endpoints, Holm-corrected together). `primary: false` gives secondary rows with
 * unadjusted 95% intervals.
 */
export function endpointRows(
  ablation: Ablation,
  results: RunResult[],
  metrics: string[] = ablation.primary ?? [],
  primary = true,
): EndpointRow[] {
  const rows: (EndpointRow & { paired?: Paired })[] = [];
  for (const c of studyContrasts(ablation)) {
    for (const metric of metrics) {
      const info = metricInfo(metric);
      const base = {
        question: c.question,
        variant: c.variant,
        baseline: c.baseline,
        metric,
        label: info?.label ?? metric,
        primary,
        pHolm: NaN,
        level: 1 - ALPHA,
      };
      const sft = isSftVariant(ablation, c.variant) || isSftVariant(ablation, c.baseline);
      if (sft && !sftReadable(metric)) {
        rows.push({
          ...base,
          method: "none",
          seeds: 0,
          episodes: 0,
          diff: NaN,
          lo: NaN,
          hi: NaN,
          p: NaN,
          mde: NaN,
          verdict: "not applicable",
          note: "next-action SFT predicts no observations",
        });
        continue;
      }
      const p = pair(ablation, results, c, metric);
      rows.push({
        ...base,
        method: p.method,
        seeds: p.seeds,
        episodes: p.episodes,
        diff: p.diff,
        lo: NaN,
        hi: NaN,
        p: p.p,
        mde: p.mde,
        verdict: "inconclusive",
        note: p.note,
        paired: p,
      });
    }
  }
  const h = primary ? holm(rows.map((r) => r.p), ALPHA) : null;
  return rows.map((r, i) => {
    const { paired, ...row } = r;
    if (!paired) return row;
    const level = h ? h.level[i] : 1 - ALPHA;
    const [lo, hi] = paired.at(level);
    const better = metricInfo(r.metric)?.better;
    return {
      ...row,
      level,
      lo,
      hi,
      pHolm: h ? h.adjusted[i] : NaN,
      // No p-value (too few episodes, one seed): no verdict, whatever the interval says.
      verdict: Number.isFinite(r.p) || !Number.isFinite(lo)
        ? verdictOf(lo, hi, better)
        : "inconclusive",
    };
  });
}

function sig(x: number): string {
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  return a !== 0 && (a < 0.001 || a >= 1000) ? x.toExponential(2) : x.toFixed(a >= 10 ? 2 : 3);
}

function pval(p: number): string {
  return !Number.isFinite(p) ? "–" : p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** One row as table cells (markdown and HTML share them). */
export function endpointCells(r: EndpointRow): Record<string, string> {
  const d = Number.isFinite(r.diff) ? `${r.diff >= 0 ? "+" : ""}${sig(r.diff)}` : "–";
  const ci = Number.isFinite(r.lo)
    ? `[${sig(r.lo)}, ${sig(r.hi)}] (${(100 * r.level).toFixed(1)}%)`
    : "–";
  const n = r.method === "seeds and episodes"
    ? `${r.seeds} seed${r.seeds === 1 ? "" : "s"} x ${r.episodes} episodes`
    : r.seeds
    ? `${r.seeds} seed${r.seeds === 1 ? "" : "s"}`
    : "–";
  return {
    question: r.question,
    contrast: `${r.variant} - ${r.baseline}`,
    metric: `${r.label}${r.primary ? "" : " (secondary)"}`,
    "Δ": d,
    interval: ci,
    [r.primary ? "p (Holm)" : "p"]: pval(r.primary ? r.pHolm : r.p),
    "MDE (80%)": Number.isFinite(r.mde) ? sig(r.mde) : "–",
    paired: n,
    verdict: r.verdict + (r.note ? ` (${r.note})` : ""),
  };
}

/** The sentence under the primary table: what was computed, how to read it. */
export function endpointsText(ablation: Ablation, rows: EndpointRow[]): string {
  const family = rows.filter((r) => Number.isFinite(r.p)).length;
  const holmText = family
    ? `Intervals are Holm-adjusted over the ${family} primary rows with a p-value (the level ` +
      `shown), so "better" holds for the family at 5%.`
    : "No primary row has a p-value yet (one seed, or too few paired episodes): no verdicts.";
  return [
    `Pre-registered primary endpoints: ${
      (ablation.primary ?? []).join(", ") || "none"
    }; every other figure in this report is secondary.`,
    `Δ = variant - baseline, paired by seed (closed-loop success: by seed and episode, every ` +
    `variant playing the same held-out episodes; a seeded two-stage bootstrap with ` +
    `${BOOTSTRAP_REPS} replicates). ${holmText} ` +
    `MDE: the smallest true difference found with 80% power at two-sided 0.05 with these ` +
    `seeds and episodes, at the observed spread. "inconclusive" means the interval allows ` +
    `no difference as well as one of its width, not that there is none.`,
  ].join(" ");
}
