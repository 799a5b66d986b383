/**
 * The summary of a study's runs: mean and 95% CI per variant and metric with the paired
 * difference against the baseline ({@link summarizeResults}, the rows of `summary.csv`), the
 * one-seed Wilson intervals of success rates, the table cells that show them, and what the
 * seeds vary ({@link seedsVaryData}).
 *
 * @module
 */

import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import type { RunResult } from "./ablate.ts";
import { meanCi95, pairedDiff } from "../util/stats.ts";

/** One summary row. */
export interface SummaryRow {
  variant: string;
  metric: string;
  mean: number;
  lo: number;
  hi: number;
  n: number;
  diff: number;
  diff_lo: number;
  diff_hi: number;
}

/** A study's summary row of one variant and metric, if it has one. */
export type SummaryLookup = (variant: string, metric: string) => SummaryRow | undefined;

/** The {@link SummaryLookup} of `rows`. */
export function summaryLookup(rows: SummaryRow[]): SummaryLookup {
  return (v, m) => rows.find((r) => r.variant === v && r.metric === m);
}

/**
 * Mean/CI per variant and metric, with paired differences against `baseline` (by seed) where
 * `meaningful(metric, variant)` (default: always; reports pass the rule of
 * {@link diffMeaningful}).
 */
export function summarizeResults(
  results: RunResult[],
  baseline: string,
  meaningful: (metric: string, variant: string) => boolean = () => true,
): SummaryRow[] {
  const ok = results.filter((r) => r.status === "ok");
  const variants = [...new Set(results.map((r) => r.variant))];
  const metrics = [...new Set(ok.flatMap((r) => Object.keys(r.metrics)))].sort();
  const rows: SummaryRow[] = [];
  for (const v of variants) {
    const runs = ok.filter((r) => r.variant === v);
    for (const m of metrics) {
      const pairs = runs.map((r) => [r.seed, r.metrics[m]] as const).filter(([, x]) =>
        Number.isFinite(x)
      );
      if (!pairs.length) continue;
      const s = meanCi95(pairs.map(([, x]) => x));
      const base = new Map(
        ok.filter((r) => r.variant === baseline).map((r) => [r.seed, r.metrics[m]] as const),
      );
      const paired = pairs.filter(([seed]) => Number.isFinite(base.get(seed)));
      const d = paired.length && meaningful(m, v)
        ? pairedDiff(paired.map(([, x]) => x), paired.map(([seed]) => base.get(seed)!))
        : { mean: NaN, lo: NaN, hi: NaN };
      rows.push({ variant: v, metric: m, ...s, diff: d.mean, diff_lo: d.lo, diff_hi: d.hi });
    }
  }
  return rows;
}

/**
 * Whether the seeds of a study vary the data (the dataset, its split seed or the episode
 * counts) as well as the model: read from the runs' config.json; null when unknown.
 */
export function seedsVaryData(results: RunResult[]): boolean | null {
  const byVariant = new Map<string, Set<string>>();
  for (const r of results) {
    const p = join(r.runDir, "config.json");
    if (!existsSync(p)) return null;
    const cfg = JSON.parse(readFileSync(p, "utf8"));
    const set = byVariant.get(r.variant) ?? new Set<string>();
    set.add(JSON.stringify(cfg.data));
    byVariant.set(r.variant, set);
  }
  if (!byVariant.size) return null;
  return [...byVariant.values()].some((s) => s.size > 1);
}

/** The sentence of the reports on what the seeds vary. */
export function seedsSentence(results: RunResult[]): string {
  const v = seedsVaryData(results);
  return v === null
    ? "Whether the seeds vary the data is unknown (no run config found)."
    : v
    ? "Seeds vary the data (dataset or split) as well as the model."
    : "Seeds vary the model's initialisation, the training masks and the batch order, not the data: every seed trains on the same episodes and is scored on the same held-out episodes, windows and masks.";
}

/** The run's Wilson bounds of a success rate, when it has them (one seed). */
export function wilsonOf(
  results: RunResult[],
  variant: string,
  metric: string,
): [number, number] | null {
  if (!/success_rate$/.test(metric)) return null;
  const runs = results.filter((r) => r.status === "ok" && r.variant === variant);
  if (runs.length !== 1) return null;
  const lo = runs[0].metrics[`${metric}.wilson_lo`], hi = runs[0].metrics[`${metric}.wilson_hi`];
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
}

/** A summary-table cell: mean, with the CI half-width when there are several seeds. */
export function tableCell(r: SummaryRow | undefined): string {
  if (!r) return "–";
  return `${r.mean.toFixed(3)}${r.n > 1 ? ` ±${((r.hi - r.lo) / 2).toFixed(3)}` : ""}`;
}
