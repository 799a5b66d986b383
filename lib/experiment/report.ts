/**
 * Study reports: `results.jsonl` (one line per run and metric), `summary.csv`
 * (mean and 95% CI per variant and metric, paired difference against the
 * baseline), `primary.csv`, `report.md`, and a self-contained `report.html` (plotly inlined
 * once: bars with intervals, robustness curves, learning curves); the combined page of an
 * `ablate` invocation and the table across studies. Which metrics are shown is in
 * report_metrics.ts, the summary rows in report_summary.ts, and the page sections in
 * report_sections.ts and report_curves.ts.
 *
 * @module
 */

import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import type { Ablation } from "./ablation.ts";
import type { RunResult } from "./ablate.ts";
import { endpointCells, endpointRows, endpointsText } from "./endpoints.ts";
import { writeFileAtomicSync as writeFileAtomic } from "../util/fs.ts";
import { pageHtml, type PageSection } from "../viz/html.ts";
import { baselineIsSft, HEADLINE, perEnvRows, studyMeaningful } from "./report_metrics.ts";
import {
  seedsSentence,
  summarizeResults,
  summaryLookup,
  type SummaryRow,
  wilsonOf,
} from "./report_summary.ts";
import { studySections } from "./report_sections.ts";

export { diffMeaningful, HEADLINE, HEADLINE_KEYS } from "./report_metrics.ts";
export { seedsVaryData, summarizeResults, type SummaryRow } from "./report_summary.ts";
export { studySections } from "./report_sections.ts";

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
  const get = summaryLookup(rows);
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

/** The k of a `finetune.k<k>.*` metric (0 for any other). */
function ftKey(m: string): number {
  return Number(/^finetune\.k(\d+)\./.exec(m)?.[1] ?? 0);
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
