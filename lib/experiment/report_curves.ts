/**
 * The curves of a study report over a test-time parameter read from the metric names: robustness
 * to observation noise against rho (`noise.rho<r>.*`, {@link noiseSections}) and the held-out
 * envs after fine-tuning on k demonstrations (`finetune.k<k>.*`, {@link finetuneSections}), with
 * the helpers they share with the robustness curves of lib/experiment/report_sections.ts.
 *
 * @module
 */

import type { RunResult } from "./ablate.ts";
import { metricLabel } from "../eval/catalogue.ts";
import { type SummaryLookup, tableCell } from "./report_summary.ts";
import { type Figure, lineFigure, type LineSeries } from "../viz/plotly.ts";
import type { PageSection } from "../viz/html.ts";

/**
 * The distinct values of the first group of `re` over the metric names of `results`, in the
 * order met (e.g. the noise levels of `noise.rho<r>.cell_acc`).
 */
export function metricParams(results: RunResult[], re: RegExp): string[] {
  return [
    ...new Set(
      results.flatMap((r) => Object.keys(r.metrics).map((k) => re.exec(k)?.[1])).filter((
        x,
      ): x is string => !!x),
    ),
  ];
}

/** A variant's curve through `keys` (one per x): the mean over seeds, with its 95% CI band. */
export function meanSeries(
  variant: string,
  x: number[],
  keys: string[],
  get: SummaryLookup,
): LineSeries {
  return {
    name: variant,
    x,
    y: keys.map((k) => get(variant, k)?.mean ?? NaN),
    lo: keys.map((k) => get(variant, k)?.lo ?? NaN),
    hi: keys.map((k) => get(variant, k)?.hi ?? NaN),
  };
}

/** Noise robustness: cell / action accuracy and success against rho (rho = 0: clean). */
export function noiseSections(
  results: RunResult[],
  variants: string[],
  get: SummaryLookup,
): PageSection[] {
  const rhos = metricParams(results, /^noise\.rho([\d.]+)\.cell_acc$/).sort((a, b) =>
    Number(a) - Number(b)
  );
  if (!rhos.length) return [];
  const clean: Record<string, string> = {
    cell_acc: "next_frame.cell_acc",
    action_acc: "action_acc",
    success_rate: "success_rate",
  };
  // The copy baselines under the same noise (the same for every variant: the first one's).
  const copies = (["copy_prev", "action_copy"] as const).map((b) => {
    const keys = [`${b}.next_frame.cell_acc`, ...rhos.map((r) => `${b}.noise.rho${r}.cell_acc`)];
    return {
      name: `${metricLabel(`${b}.next_frame.cell_acc`).split(":")[0]} (same for every variant)`,
      x: [0, ...rhos.map(Number)],
      y: keys.map((k) => get(variants[0], k)?.mean ?? NaN),
      dash: "dash" as const,
    };
  }).filter((s) => s.y.some(Number.isFinite));
  const curve = (what: string) =>
    lineFigure(
      [
        ...variants.map((v) =>
          meanSeries(v, [0, ...rhos.map(Number)], [
            clean[what],
            ...rhos.map((r) => `noise.rho${r}.${what}`),
          ], get)
        ),
        ...(what === "cell_acc" ? copies : []),
      ],
      {
        title: `${
          metricLabel(clean[what])
        } vs the fraction rho of observation tokens replaced by noise`,
        xTitle: "rho",
        yTitle: what,
      },
    );
  return [{
    title: "Robustness to observation noise",
    text: "A fraction rho of the context's observation tokens (cell attributes) replaced by " +
      "uniformly drawn valid tokens (not [MASK]) at test time: offline for the next frame and " +
      "the action, and on every new observation in closed loop. rho = 0 is the clean " +
      "evaluation. Next-action SFT reads noisy observations too, so its action accuracy and " +
      "success are comparable; its cell accuracy is not (it predicts no observations).",
    figures: [curve("cell_acc"), curve("action_acc"), curve("success_rate")],
  }];
}

/** Fine-tuning on k demonstrations of the held-out envs (multi-env studies): curves over k. */
export function finetuneSections(
  results: RunResult[],
  variants: string[],
  get: SummaryLookup,
): PageSection[] {
  const ks = [
    ...new Set(metricParams(results, /^finetune\.k(\d+)\.success_rate$/).map(Number)),
  ].sort((a, b) => a - b);
  if (ks.length < 2) return [];
  const shown = [
    ["next_frame.cell_acc", "next-frame cell acc"],
    ["action_acc", "action acc"],
    ["success_rate", "closed-loop success"],
  ] as const;
  const curve = (what: string, label: string): Figure =>
    lineFigure(
      variants.map((v) => meanSeries(v, ks, ks.map((k) => `finetune.k${k}.${what}`), get)),
      {
        title: `${label} on the held-out envs after fine-tuning on k demonstrations each`,
        xTitle: "k (0 = zero-shot)",
        yTitle: label,
      },
    );
  return [{
    title: "Generalisation to held-out environments: zero-shot and after fine-tuning",
    figures: shown.map(([m, label]) => curve(m, label)),
    table: {
      rows: ks.flatMap((k) =>
        shown.map(([m, label]) => {
          const row: Record<string, string> = { metric: `${label}, k=${k}` };
          for (const v of variants) {
            const r = get(v, `finetune.k${k}.${m}`);
            row[v] = tableCell(r);
          }
          return row;
        })
      ),
    },
  }];
}
