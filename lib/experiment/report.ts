/**
 * Study reports: `results.jsonl` (one line per run and metric), `summary.csv`
 * (mean and 95% CI per variant and metric, paired difference against the
 * baseline), `report.md`, and a self-contained `report.html` (plotly inlined
 * once: bars with intervals, robustness curves, learning curves).
 *
 * @module
 */

import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import type { Ablation } from "./ablation.ts";
import type { RunResult } from "./ablate.ts";
import { meanCi95, pairedDiff } from "../util/stats.ts";
import {
  ENV_PREFIX,
  metricInfo,
  type MetricKey,
  metricLabel,
  sftReadable,
} from "../eval/catalogue.ts";
import { endpointCells, endpointRows, endpointsText, isSftVariant } from "./endpoints.ts";
import { diagnosticsSections } from "./diagnostics.ts";
import { overTrainingSections } from "./over_training.ts";
import { writeFileAtomicSync as writeFileAtomic } from "../util/fs.ts";
import { readJsonlLenientSync } from "../util/jsonl.ts";
import { barFigure, type Figure, lineFigure } from "../viz/plotly.ts";
import { pageHtml, type PageSection } from "../viz/html.ts";

/** Metrics shown in tables and bar charts, in order (labels from lib/eval/catalogue.ts). */
export const HEADLINE_KEYS: readonly MetricKey[] = [
  "next_frame.cell_acc",
  "next_frame_iter.cell_acc",
  "next_frame.changed_cell_acc",
  "copy_prev.next_frame.cell_acc",
  "action_copy.next_frame.cell_acc",
  "action_copy.next_frame.changed_cell_acc",
  "next_frame.dir_acc",
  "action_copy.next_frame.dir_acc",
  "random_cells.cell_acc",
  "copy_prev.random_cells.cell_acc",
  "next_frame.nats_per_slot",
  "action_copy.next_frame.nats_per_slot",
  "next_frame.bits_per_frame",
  "obs_nll.per_frame",
  "obs_nll.per_cell",
  "copy_prev.obs_nll.per_frame",
  "action_copy.obs_nll.per_frame",
  "majority.obs_nll.per_frame",
  "elbo_nats_per_slot",
  "action_acc",
  "majority.action_acc",
  "action.nats",
  "majority.action.nats",
  "action_end_acc",
  "success_rate",
  "unseen.success_rate",
  "bot.success_rate",
  "random.success_rate",
  "final_val_elbo",
  "final_val_loss",
];

/** {@link HEADLINE_KEYS} with their labels. */
export const HEADLINE: [string, string][] = HEADLINE_KEYS.map((k) => [k, metricLabel(k)]);

/** Headline rows of the observation bar chart and of the action / closed-loop bar chart. */
const OBS_BARS: readonly MetricKey[] = [
  "next_frame.cell_acc",
  "next_frame_iter.cell_acc",
  "next_frame.changed_cell_acc",
  "copy_prev.next_frame.cell_acc",
  "action_copy.next_frame.cell_acc",
  "action_copy.next_frame.changed_cell_acc",
  "random_cells.cell_acc",
];
const OBS_NLL_BARS: readonly MetricKey[] = [
  "obs_nll.per_frame",
  "copy_prev.obs_nll.per_frame",
  "action_copy.obs_nll.per_frame",
  "majority.obs_nll.per_frame",
];
const ACTION_BARS: readonly MetricKey[] = [
  "action_acc",
  "majority.action_acc",
  "success_rate",
  "bot.success_rate",
  "random.success_rate",
];

function headline(keys: readonly string[]): [string, string][] {
  return keys.map((k) => [k, metricLabel(k)]);
}

/**
 * Whether a paired difference against the baseline means something for `metric` (from the
 * catalogue, lib/eval/catalogue.ts): only for a model's own figures (not the baselines' rows,
 * which are the same for every variant, counts, interval bounds, or the validation loss, each
 * variant's own objective; not for keys the catalogue does not know); against or for a
 * next-action (SFT) model only for action and control metrics (SFT predicts no observations).
 */
export function diffMeaningful(metric: string, baselineIsSft: boolean): boolean {
  const info = metricInfo(metric);
  if (!info || info.role !== "model") return false;
  return baselineIsSft ? sftReadable(metric) : true;
}

/** Whether the study's baseline variant trains next-action SFT (from the ablation's configs). */
function baselineIsSft(ablation: Ablation): boolean {
  return isSftVariant(ablation, ablation.baseline);
}

/**
 * The study's rule for {@link summarizeResults}: {@link diffMeaningful}, with action metrics only
 * where the baseline or the variant is next-action SFT (neither side may be one that predicts no
 * observations).
 */
function studyMeaningful(ablation: Ablation): (metric: string, variant: string) => boolean {
  const sftBase = baselineIsSft(ablation);
  const sftVariants = new Set(
    ablation.variants.filter((v) => isSftVariant(ablation, v.name)).map((v) => v.name),
  );
  return (m, v) => diffMeaningful(m, sftBase || sftVariants.has(v));
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
function seedsSentence(results: RunResult[]): string {
  const v = seedsVaryData(results);
  return v === null
    ? "Whether the seeds vary the data is unknown (no run config found)."
    : v
    ? "Seeds vary the data (dataset or split) as well as the model."
    : "Seeds vary the model's initialisation, the training masks and the batch order, not the data: every seed trains on the same episodes and is scored on the same held-out episodes, windows and masks.";
}

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

function num(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : "";
}

/** Write results.jsonl, summary.csv, report.md and report.html for a study. */
export function writeStudyReport(
  ablation: Ablation,
  results: RunResult[],
  dir: string,
): void {
  Deno.mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (const r of results) {
    const base = {
      study: r.study,
      variant: r.variant,
      seed: r.seed,
      hash: r.hash,
      status: r.status,
    };
    if (r.status === "failed") lines.push(JSON.stringify({ ...base, error: r.error }));
    for (const [metric, value] of Object.entries(r.metrics)) {
      lines.push(JSON.stringify({ ...base, metric, value: Number.isFinite(value) ? value : null }));
    }
  }
  writeFileAtomic(join(dir, "results.jsonl"), lines.join("\n") + "\n");
  const sft = baselineIsSft(ablation);
  const rows = summarizeResults(results, ablation.baseline, studyMeaningful(ablation));
  const csv = ["variant,metric,mean,ci_lo,ci_hi,n,diff_vs_baseline,diff_lo,diff_hi"];
  for (const r of rows) {
    csv.push(
      [
        r.variant,
        r.metric,
        num(r.mean),
        num(r.lo),
        num(r.hi),
        r.n,
        num(r.diff),
        num(r.diff_lo),
        num(r.diff_hi),
      ].join(","),
    );
  }
  writeFileAtomic(join(dir, "summary.csv"), csv.join("\n") + "\n");
  // The primary endpoints, one row per contrast and primary metric.
  const primaryRows = endpointRows(ablation, results);
  const pcsv = [
    "question,variant,baseline,metric,method,seeds,episodes,diff,lo,hi,level,p,p_holm,mde,verdict",
  ];
  for (const r of primaryRows) {
    pcsv.push(
      [
        JSON.stringify(r.question),
        r.variant,
        r.baseline,
        r.metric,
        r.method,
        r.seeds,
        r.episodes,
        num(r.diff),
        num(r.lo),
        num(r.hi),
        num(r.level),
        num(r.p),
        num(r.pHolm),
        num(r.mde),
        JSON.stringify(r.verdict),
      ].join(","),
    );
  }
  writeFileAtomic(join(dir, "primary.csv"), pcsv.join("\n") + "\n");

  const variants = [...new Set(results.map((r) => r.variant))];
  const get = (v: string, m: string) => rows.find((r) => r.variant === v && r.metric === m);
  const seeds = [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b);
  const failed = results.filter((r) => r.status === "failed");
  // Markdown.
  const md: string[] = [
    `# ${ablation.title} (${ablation.ablation})`,
    "",
    ablation.description.trim(),
    "",
    ...primaryMarkdown(ablation, primaryRows),
    `Profile: ${ablation.profile ?? "none"}; seeds: ${
      seeds.join(", ")
    }; baseline for paired differences: ${ablation.baseline}${
      sft ? " (next-action SFT: Δ for action metrics only)" : ""
    }.`,
    seedsSentence(results),
    "Cells: mean [95% CI] over seeds (Student t); with one seed, success rates show the Wilson " +
    "95% interval over the closed-loop episodes (ʷ). Δ = paired difference against the baseline " +
    "[95% CI over seeds], only where it means something (not for the baselines' own rows, which " +
    "are the same for every variant, nor for the validation loss, which is each variant's own " +
    "objective; only action metrics when either side is next-action SFT). Every row is " +
    "secondary unless its endpoint column says primary; secondary intervals are not corrected " +
    "for multiplicity.",
    "",
    `| metric | endpoint | ${variants.join(" | ")} |`,
    `|---|---|${variants.map(() => "---:").join("|")}|`,
  ];
  const endpoint = (m: string) =>
    (ablation.primary ?? []).includes(m) ? "**primary**" : "secondary";
  const extra: [string, string][] = [
    ...new Set(rows.map((r) => r.metric).filter((m) => /^finetune\.k\d+\./.test(m))),
  ].sort((a, b) => ftKey(a) - ftKey(b) || a.localeCompare(b)).map((m) => [
    m,
    m.replace(/^finetune\.k(\d+)\.(.*)$/, "held-out envs, k=$1 demos: $2"),
  ]);
  for (const [m, label] of [...HEADLINE, ...perEnvRows(rows), ...extra]) {
    if (!variants.some((v) => get(v, m))) continue;
    md.push(
      `| ${label} | ${endpoint(m)} | ${
        variants.map((v) => mdCell(get(v, m), v === ablation.baseline, results, v, m)).join(" | ")
      } |`,
    );
  }
  if (failed.length) {
    md.push("", "## Failed runs", "");
    for (const f of failed) md.push(`- ${f.variant} seed ${f.seed}: ${f.error}`);
  }
  writeFileAtomic(join(dir, "report.md"), md.join("\n") + "\n");

  const html = pageHtml({
    title: `${ablation.title}`,
    subtitle: `${ablation.ablation} · ${new Date().toISOString()}`,
    sections: studySections(ablation, results),
  });
  writeFileAtomic(join(dir, "report.html"), html);
}

/** The markdown lines of the primary-endpoint table (none when the study pre-registers none). */
function primaryMarkdown(
  ablation: Ablation,
  rows: ReturnType<typeof endpointRows>,
): string[] {
  if (!rows.length) {
    return [
      "No primary endpoints are pre-registered (`primary:` in the study file): every figure below is secondary.",
      "",
    ];
  }
  const cells = rows.map(endpointCells);
  const cols = Object.keys(cells[0]);
  return [
    "## Primary endpoints",
    "",
    endpointsText(ablation, rows),
    "",
    `| ${cols.join(" | ")} |`,
    `|${cols.map(() => "---").join("|")}|`,
    ...cells.map((c) => `| ${cols.map((k) => c[k].replaceAll("|", "\\|")).join(" | ")} |`),
    "",
  ];
}

/**
 * The figures and tables of a study as page sections: report.html and the
 * study notebooks show the same thing.
 */
export function studySections(ablation: Ablation, results: RunResult[]): PageSection[] {
  const sft = baselineIsSft(ablation);
  const rows = summarizeResults(results, ablation.baseline, studyMeaningful(ablation));
  const variants = [...new Set(results.map((r) => r.variant))];
  const get = (v: string, m: string) => rows.find((r) => r.variant === v && r.metric === m);
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
  const qs = [
    ...new Set(
      Object.keys(results.find((r) => r.status === "ok")?.metrics ?? {})
        .map((k) => /^robust\.mask\.q([\d.]+)\.cell_acc$/.exec(k)?.[1]).filter((x): x is string =>
          !!x
        ),
    ),
  ].map(Number).sort((a, b) => a - b);
  const robust = (mode: string, what: string): Figure =>
    lineFigure(
      variants.map((v) => ({
        name: v,
        x: qs,
        y: qs.map((q) => get(v, `robust.${mode}.q${q}.${what}`)?.mean ?? NaN),
        lo: qs.map((q) => get(v, `robust.${mode}.q${q}.${what}`)?.lo ?? NaN),
        hi: qs.map((q) => get(v, `robust.${mode}.q${q}.${what}`)?.hi ?? NaN),
      })),
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

/** Noise robustness: cell / action accuracy and success against rho (rho = 0: clean). */
function noiseSections(
  results: RunResult[],
  variants: string[],
  get: (v: string, m: string) => SummaryRow | undefined,
): PageSection[] {
  const rhos = [
    ...new Set(
      results.flatMap((r) =>
        Object.keys(r.metrics).map((k) => /^noise\.rho([\d.]+)\.cell_acc$/.exec(k)?.[1])
      ).filter((x): x is string => !!x),
    ),
  ].sort((a, b) => Number(a) - Number(b));
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
        ...variants.map((v) => {
          const keys = [clean[what], ...rhos.map((r) => `noise.rho${r}.${what}`)];
          return {
            name: v,
            x: [0, ...rhos.map(Number)],
            y: keys.map((k) => get(v, k)?.mean ?? NaN),
            lo: keys.map((k) => get(v, k)?.lo ?? NaN),
            hi: keys.map((k) => get(v, k)?.hi ?? NaN),
          };
        }),
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

/** Per-env rows (`<env_id>.<metric>`), shown when a study scores more than one env id. */
function perEnvRows(rows: SummaryRow[]): [string, string][] {
  const keys = [
    "next_frame.cell_acc",
    "action_copy.next_frame.cell_acc",
    "action_acc",
    "success_rate",
  ];
  const envs = [
    ...new Set(
      rows.map((r) => ENV_PREFIX.exec(r.metric)?.[1]).filter((
        x,
      ): x is string => !!x),
    ),
  ].sort();
  if (envs.length < 2) return [];
  return envs.flatMap((env) =>
    keys.map((
      k,
    ): [string, string] => [`${env}.${k}`, metricLabel(`${env}.${k}`)])
  );
}

/** The run's Wilson bounds of a success rate, when it has them (one seed). */
function wilsonOf(results: RunResult[], variant: string, metric: string): [number, number] | null {
  if (!/success_rate$/.test(metric)) return null;
  const runs = results.filter((r) => r.status === "ok" && r.variant === variant);
  if (runs.length !== 1) return null;
  const lo = runs[0].metrics[`${metric}.wilson_lo`], hi = runs[0].metrics[`${metric}.wilson_hi`];
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
}

/** A markdown cell: mean [CI] (Δ d [CI]). */
function mdCell(
  r: SummaryRow | undefined,
  isBaseline: boolean,
  results: RunResult[],
  variant: string,
  metric: string,
): string {
  if (!r) return "–";
  const w = r.n > 1 ? null : wilsonOf(results, variant, metric);
  const ci = r.n > 1
    ? ` [${r.lo.toFixed(3)}, ${r.hi.toFixed(3)}]`
    : w
    ? ` [${w[0].toFixed(3)}, ${w[1].toFixed(3)}]ʷ`
    : "";
  let d = "";
  if (!isBaseline && Number.isFinite(r.diff)) {
    d = ` (Δ ${r.diff >= 0 ? "+" : ""}${r.diff.toFixed(3)}${
      r.n > 1 && Number.isFinite(r.diff_lo)
        ? ` [${r.diff_lo.toFixed(3)}, ${r.diff_hi.toFixed(3)}]`
        : ""
    })`;
  }
  return `${r.mean.toFixed(3)}${ci}${d}`;
}

/** A summary-table cell: mean, with the CI half-width when there are several seeds. */
function tableCell(r: SummaryRow | undefined): string {
  if (!r) return "–";
  return `${r.mean.toFixed(3)}${r.n > 1 ? ` ±${((r.hi - r.lo) / 2).toFixed(3)}` : ""}`;
}

function ftKey(m: string): number {
  return Number(/^finetune\.k(\d+)\./.exec(m)?.[1] ?? 0);
}

function hasMetric(results: RunResult[], name: string): boolean {
  return results.some((r) => r.status === "ok" && name in r.metrics);
}

/** Fine-tuning on k demonstrations of the held-out envs (multi-env studies): curves over k. */
function finetuneSections(
  results: RunResult[],
  variants: string[],
  get: (v: string, m: string) => SummaryRow | undefined,
): PageSection[] {
  const ks = [
    ...new Set(
      results.flatMap((r) =>
        Object.keys(r.metrics).map((k) => /^finetune\.k(\d+)\.success_rate$/.exec(k)?.[1])
      ).filter((x): x is string => !!x).map(Number),
    ),
  ].sort((a, b) => a - b);
  if (ks.length < 2) return [];
  const curve = (what: string, label: string): Figure =>
    lineFigure(
      variants.map((v) => ({
        name: v,
        x: ks,
        y: ks.map((k) => get(v, `finetune.k${k}.${what}`)?.mean ?? NaN),
        lo: ks.map((k) => get(v, `finetune.k${k}.${what}`)?.lo ?? NaN),
        hi: ks.map((k) => get(v, `finetune.k${k}.${what}`)?.hi ?? NaN),
      })),
      {
        title: `${label} on the held-out envs after fine-tuning on k demonstrations each`,
        xTitle: "k (0 = zero-shot)",
        yTitle: label,
      },
    );
  return [{
    title: "Generalisation to held-out environments: zero-shot and after fine-tuning",
    figures: [
      curve("next_frame.cell_acc", "next-frame cell acc"),
      curve("action_acc", "action acc"),
      curve("success_rate", "closed-loop success"),
    ],
    table: {
      rows: ks.flatMap((k) =>
        [["next_frame.cell_acc", "next-frame cell acc"], ["action_acc", "action acc"], [
          "success_rate",
          "closed-loop success",
        ]].map(([m, label]) => {
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

/**
 * One page with every study of an `ablate` invocation: a header (`intro`, e.g. the date, machine
 * and time split) and then each study's figures and tables as in its own report.html.
 */
export function writeCombinedReport(
  studies: { ablation: Ablation; results: RunResult[] }[],
  path: string,
  intro: { title: string; subtitle: string; text: string },
): void {
  const sections: PageSection[] = [{ text: intro.text }];
  for (const { ablation, results } of studies) {
    sections.push({ title: `${ablation.title} (${ablation.ablation})` });
    for (const sec of studySections(ablation, results)) {
      sections.push({
        ...sec,
        title: sec.title ? `${ablation.ablation}: ${sec.title}` : undefined,
      });
    }
  }
  writeFileAtomic(path, pageHtml({ title: intro.title, subtitle: intro.subtitle, sections }));
}

/** One table across several study directories (their summary.csv), as markdown. */
export function compareStudies(dirs: string[]): string {
  const out = ["| study | variant | " + HEADLINE.map(([, l]) => l).join(" | ") + " |"];
  out.push("|---|---|" + HEADLINE.map(() => "---:").join("|") + "|");
  for (const d of dirs) {
    const p = join(d, "summary.csv");
    if (!existsSync(p)) {
      throw new Error(`${p} is missing: run the study first (deno task ablate <study>)`);
    }
    const rows = readFileSync(p, "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
    const variants = [...new Set(rows.map((r) => r[0]))];
    for (const v of variants) {
      const cell = (m: string) => rows.find((r) => r[0] === v && r[1] === m)?.[2] ?? "";
      out.push(`| ${d.split("/").pop()} | ${v} | ${HEADLINE.map(([m]) => cell(m)).join(" | ")} |`);
    }
  }
  return out.join("\n");
}
