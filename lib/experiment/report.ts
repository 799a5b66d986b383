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
import type { Ablation } from "./config.ts";
import type { RunResult } from "./ablate.ts";
import { meanCi95, pairedDiff } from "./stats.ts";
import { writeFileAtomic } from "./rundir.ts";
import { barFigure, type Figure, lineFigure } from "../viz/plotly.ts";
import { pageHtml, type PageSection } from "../viz/html.ts";

/** Metrics shown in tables and bar charts, with a label. */
export const HEADLINE: [string, string][] = [
  ["next_frame.cell_acc", "next-frame cell acc"],
  ["next_frame.changed_cell_acc", "next-frame changed-cell acc"],
  ["copy_prev.next_frame.cell_acc", "copy-prev baseline cell acc"],
  ["copy_prev.next_frame.changed_cell_acc", "copy-prev baseline changed-cell acc"],
  ["random_cells.cell_acc", "random-cell acc"],
  ["action_acc", "action acc"],
  ["majority.action_acc", "majority-action baseline"],
  ["next_frame.nats_per_slot", "next-frame nats/slot"],
  ["next_frame.bits_per_frame", "next-frame bits/frame"],
  ["elbo_nats_per_slot", "any-order ELBO nats/slot"],
  ["success_rate", "closed-loop success"],
  ["bot.success_rate", "bot success (bound)"],
  ["random.success_rate", "random success (bound)"],
  ["final_val_loss", "final val loss"],
];

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

/** Mean/CI per variant and metric, with paired differences against `baseline` (by seed). */
export function summarizeResults(results: RunResult[], baseline: string): SummaryRow[] {
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
      const d = paired.length
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
  const rows = summarizeResults(results, ablation.baseline);
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
    `Profile: ${ablation.profile ?? "none"}; seeds: ${
      seeds.join(", ")
    }; baseline for paired differences: ${ablation.baseline}.`,
    "Cells: mean [95% CI] over seeds; Δ = paired difference against the baseline.",
    "",
    `| metric | ${variants.join(" | ")} |`,
    `|---|${variants.map(() => "---:").join("|")}|`,
  ];
  const extra: [string, string][] = [
    ...new Set(rows.map((r) => r.metric).filter((m) => /^finetune\.k\d+\./.test(m))),
  ].sort((a, b) => ftKey(a) - ftKey(b) || a.localeCompare(b)).map((m) => [
    m,
    m.replace(/^finetune\.k(\d+)\.(.*)$/, "held-out envs, k=$1 demos: $2"),
  ]);
  for (const [m, label] of [...HEADLINE, ...extra]) {
    const cells = variants.map((v) => {
      const r = get(v, m);
      if (!r) return "–";
      const ci = r.n > 1 ? ` [${r.lo.toFixed(3)}, ${r.hi.toFixed(3)}]` : "";
      const d = v !== ablation.baseline && Number.isFinite(r.diff)
        ? ` (Δ ${r.diff >= 0 ? "+" : ""}${r.diff.toFixed(3)})`
        : "";
      return `${r.mean.toFixed(3)}${ci}${d}`;
    });
    md.push(`| ${label} | ${cells.join(" | ")} |`);
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

/**
 * The figures and tables of a study as page sections: report.html and the
 * study notebooks show the same thing.
 */
export function studySections(ablation: Ablation, results: RunResult[]): PageSection[] {
  const rows = summarizeResults(results, ablation.baseline);
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
        lo: variants.map((v) => get(v, m)?.lo ?? NaN),
        hi: variants.map((v) => get(v, m)?.hi ?? NaN),
      })),
      { title, yTitle: "mean over seeds (95% CI)" },
    );
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
      const recs = readJsonlSafe(join(r.runDir, "metrics.jsonl")).filter((x) => x.kind === "val");
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
  const sections: PageSection[] = [
    {
      text: ablation.description.trim() +
        `\n\nProfile ${ablation.profile ?? "none"}, ${seeds.length} seed${
          seeds.length === 1 ? "" : "s"
        } (${seeds.join(", ")}). Error bars and bands: 95% CI over seeds (none with one seed).`,
    },
    {
      title: "Observation prediction",
      figures: [
        bar(
          HEADLINE.slice(0, 5),
          "Next-frame and random-cell accuracy vs the copy-previous baseline",
        ),
      ],
    },
    {
      title: "Action prediction and closed loop",
      figures: [
        bar(
          [HEADLINE[5], HEADLINE[6], HEADLINE[10], HEADLINE[11], HEADLINE[12]],
          "Action accuracy and task success, with baselines and bounds",
        ),
      ],
    },
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
    ...finetuneSections(results, variants, get),
    { title: "Learning curves", figures: [curves] },
    {
      title: "Summary",
      table: {
        rows: HEADLINE.map(([m, label]) => {
          const row: Record<string, string> = { metric: label };
          for (const v of variants) {
            const r = get(v, m);
            row[v] = tableCell(r);
          }
          return row;
        }),
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

function readJsonlSafe(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
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
