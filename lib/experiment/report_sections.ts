/**
 * The figures and tables of a study as page sections ({@link studySections}): report.html, the
 * combined page of an `ablate` invocation and the study notebooks show the same thing. The
 * primary endpoints come first, then the bar charts, the paired differences and the named
 * contrasts, the robustness, noise and fine-tuning curves, the diagnostics, the learning curves
 * and the summary table.
 *
 * @module
 */

import { join } from "node:path";
import type { Ablation } from "./ablation.ts";
import type { RunResult } from "./ablate.ts";
import { endpointCells, endpointRows, endpointsText } from "./endpoints.ts";
import { diagnosticsSections } from "./diagnostics.ts";
import { overTrainingSections } from "./over_training.ts";
import { readJsonlLenientSync } from "../util/jsonl.ts";
import { barFigure, type Figure, lineFigure } from "../viz/plotly.ts";
import type { PageSection } from "../viz/html.ts";
import {
  ACTION_BARS,
  baselineIsSft,
  diffMeaningful,
  HEADLINE,
  headline,
  HEADLINE_KEYS,
  OBS_BARS,
  OBS_NLL_BARS,
  perEnvRows,
  studyMeaningful,
} from "./report_metrics.ts";
import {
  seedsSentence,
  summarizeResults,
  summaryLookup,
  tableCell,
  wilsonOf,
} from "./report_summary.ts";
import { finetuneSections, meanSeries, metricParams, noiseSections } from "./report_curves.ts";

/**
 * The figures and tables of a study as page sections: report.html and the
 * study notebooks show the same thing.
 */
export function studySections(ablation: Ablation, results: RunResult[]): PageSection[] {
  const sft = baselineIsSft(ablation);
  const rows = summarizeResults(results, ablation.baseline, studyMeaningful(ablation));
  const variants = [...new Set(results.map((r) => r.variant))];
  const get = summaryLookup(rows);
  const seeds = [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b);
  const failed = results.filter((r) => r.status === "failed");
  const bar = (metrics: [string, string][], title: string): Figure =>
    barFigure(
      metrics.map(([m, label]) => ({
        name: label,
        x: variants,
        y: variants.map((v) => get(v, m)?.mean ?? NaN),
        lo: variants.map((v) => interval(v, m)[0]),
        hi: variants.map((v) => interval(v, m)[1]),
      })),
      { title, yTitle: "mean over seeds (95% CI; one seed: Wilson for success rates)" },
    );
  /** 95% CI over seeds, or with one seed the run's Wilson interval of a success rate. */
  const interval = (v: string, m: string): [number, number] => {
    const r = get(v, m);
    if (!r) return [NaN, NaN];
    if (r.n > 1) return [r.lo, r.hi];
    return wilsonOf(results, v, m) ?? [NaN, NaN];
  };
  // The extra hidden fractions q, as the first finished run was scored on them.
  const first = results.find((r) => r.status === "ok");
  const qs = metricParams(first ? [first] : [], /^robust\.mask\.q([\d.]+)\.cell_acc$/)
    .map(Number).sort((a, b) => a - b);
  const robust = (mode: string, what: string): Figure =>
    lineFigure(
      variants.map((v) => meanSeries(v, qs, qs.map((q) => `robust.${mode}.q${q}.${what}`), get)),
      {
        title: `${what} vs extra hidden fraction q (${
          mode === "mask" ? "as [MASK]" : "as unseen cells"
        })`,
        xTitle: "q",
        yTitle: what,
      },
    );
  const curves = lineFigure(
    results.filter((r) => r.status === "ok").map((r) => {
      const recs = readJsonlLenientSync(join(r.runDir, "metrics.jsonl")).filter((x) =>
        x.kind === "val"
      );
      return {
        name: `${r.variant} s${r.seed}`,
        x: recs.map((x) => x.step as number),
        y: recs.map((x) => x.loss as number),
      };
    }),
    {
      title: "Validation loss (training objective of each variant)",
      xTitle: "step",
      yTitle: "loss",
    },
  );
  const envRows = perEnvRows(rows);
  const diffRows = rows.filter((r) => r.variant !== ablation.baseline && Number.isFinite(r.diff));
  const diffMetrics = [...HEADLINE, ...envRows].filter(([m]) =>
    diffRows.some((r) => r.metric === m)
  );
  const sections: PageSection[] = [
    {
      text: ablation.description.trim() +
        `\n\nProfile ${ablation.profile ?? "none"}, ${seeds.length} seed${
          seeds.length === 1 ? "" : "s"
        } (${seeds.join(", ")}). ${seedsSentence(results)} Error bars and bands: 95% CI over ` +
        `seeds (Student t); with one seed, success rates show the Wilson 95% interval over the ` +
        `closed-loop episodes and other metrics none.`,
    },
    ...primarySections(ablation, results),
    {
      title: "Observation prediction",
      figures: [
        bar(
          headline(OBS_BARS),
          "Next-frame and random-cell accuracy vs the copy-previous and action-aware copy baselines",
        ),
        ...(hasMetric(results, "obs_nll.per_frame")
          ? [
            bar(
              headline(OBS_NLL_BARS),
              "Observation NLL (one whole frame hidden, the rest of the window visible; nats/frame, lower is better) vs the baselines",
            ),
          ]
          : []),
      ],
    },
    {
      title: "Action prediction and closed loop",
      figures: [
        bar(
          headline(ACTION_BARS),
          "Action accuracy and task success, with baselines and bounds",
        ),
        ...(hasMetric(results, "action.nats")
          ? [
            bar(
              headline(["action.nats", "majority.action.nats"]),
              "Action NLL (nats/decision, lower is better) vs the frequency model",
            ),
          ]
          : []),
      ],
    },
    ...(envRows.length
      ? [{
        title: "Per environment",
        figures: [
          bar(
            envRows.filter(([m]) => !/success_rate$/.test(m)),
            "Next-frame cell and action accuracy per env id (with the action-aware copy)",
          ),
          bar(envRows.filter(([m]) => /success_rate$/.test(m)), "Closed-loop success per env id"),
        ],
      }]
      : []),
    {
      title: `Paired differences against ${ablation.baseline}`,
      text:
        (sft
          ? `The baseline is next-action SFT, which predicts no observations: Δ for action metrics only. `
          : "") +
        "Δ = variant - baseline on the same seed, mean [95% CI over seeds] (no interval with one seed). Secondary: the intervals are not corrected for multiplicity; the primary endpoints are in the first table.",
      table: {
        rows: diffMetrics.map(([m, label]) => {
          const row: Record<string, string> = { metric: label };
          for (const v of variants.filter((x) => x !== ablation.baseline)) {
            const r = get(v, m);
            row[v] = r && Number.isFinite(r.diff)
              ? `${r.diff >= 0 ? "+" : ""}${r.diff.toFixed(3)}${
                r.n > 1 ? ` [${r.diff_lo.toFixed(3)}, ${r.diff_hi.toFixed(3)}]` : ""
              }`
              : "–";
          }
          return row;
        }),
      },
    },
    ...contrastSections(ablation, results),
    {
      title: "Robustness to extra partial observability",
      figures: qs.length
        ? [
          robust("mask", "cell_acc"),
          robust("unseen", "action_acc"),
          ...(hasMetric(results, `robust.unseen.q${qs[qs.length - 1]}.success_rate`)
            ? [robust("unseen", "success_rate"), robust("mask", "success_rate")]
            : []),
        ]
        : [],
    },
    ...noiseSections(results, variants, get),
    ...finetuneSections(results, variants, get),
    ...diagnosticsSections(ablation, results),
    ...overTrainingSections(results),
    { title: "Learning curves", figures: [curves] },
    {
      title: "Summary",
      table: {
        rows: [...HEADLINE, ...envRows].filter(([m]) => variants.some((v) => get(v, m))).map(
          ([m, label]) => {
            const row: Record<string, string> = {
              metric: label,
              endpoint: (ablation.primary ?? []).includes(m) ? "primary" : "secondary",
            };
            for (const v of variants) {
              const r = get(v, m);
              const w = r && r.n === 1 ? wilsonOf(results, v, m) : null;
              row[v] = w
                ? `${r!.mean.toFixed(3)} [${w[0].toFixed(3)}, ${w[1].toFixed(3)}]ʷ`
                : tableCell(r);
            }
            return row;
          },
        ),
      },
    },
  ];
  if (failed.length) {
    sections.push({
      title: "Failed runs",
      text: failed.map((f) => `${f.variant} seed ${f.seed}: ${f.error}`).join("\n\n"),
    });
  }
  return sections;
}

/** The primary-endpoint table as the report's first section (none without `primary:`). */
function primarySections(ablation: Ablation, results: RunResult[]): PageSection[] {
  const rows = endpointRows(ablation, results);
  if (!rows.length) {
    return [{
      title: "Primary endpoints",
      text:
        "No primary endpoints are pre-registered (`primary:` in the study file): every figure below is secondary.",
    }];
  }
  return [{
    title: "Primary endpoints",
    text: endpointsText(ablation, rows),
    table: { rows: rows.map(endpointCells) },
  }];
}

/**
 * The study's named contrasts on the headline metrics (secondary, unadjusted 95% intervals):
 * model minus model on the same seeds, windows and episodes. Only when the study file names its
 * contrasts (the default ones are the paired differences against the baseline).
 */
function contrastSections(ablation: Ablation, results: RunResult[]): PageSection[] {
  if (!ablation.contrastsGiven) return [];
  const keys = HEADLINE_KEYS.filter((k) =>
    diffMeaningful(k, false) && !(ablation.primary ?? []).includes(k) &&
    results.some((r) => r.status === "ok" && Number.isFinite(r.metrics[k]))
  );
  const rows = endpointRows(ablation, results, [...keys], false).filter((r) =>
    r.verdict !== "not applicable"
  );
  return [{
    title: "Named contrasts (secondary)",
    text: "Each question of the study file on the headline metrics that are not primary: Δ = " +
      "variant - baseline, paired by seed (closed-loop success by seed and episode), with an " +
      "unadjusted 95% interval and the minimum detectable effect; rows where one side is " +
      "next-action SFT and the metric is about observations are left out.",
    table: { rows: rows.map(endpointCells) },
  }];
}

function hasMetric(results: RunResult[], name: string): boolean {
  return results.some((r) => r.status === "ok" && name in r.metrics);
}
