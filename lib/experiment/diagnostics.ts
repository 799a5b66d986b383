/**
 * The diagnostics of a study report ({@link diagnosticsSections}): each model against its
 * catalogue baseline on the same windows (direction accuracy, action NLL against the frequency
 * model, observation NLL against the copies), the per-head training-loss curves of every run
 * (from its metrics.jsonl), and how often the gradient norm reached `train.clip_norm`.
 *
 * @module
 */

import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import type { Ablation } from "./ablation.ts";
import type { RunResult } from "./ablate.ts";
import { readJsonlLenientSync } from "../util/jsonl.ts";
import { meanCi95 } from "../util/stats.ts";
import { CATALOGUE, type MetricKey, metricLabel } from "../eval/catalogue.ts";
import { isSftVariant } from "./endpoints.ts";
import { type Figure, lineFigure } from "../viz/plotly.ts";
import type { PageSection } from "../viz/html.ts";

/** The model figures read against their catalogue baselines in the diagnostics table. */
export const DIAGNOSTIC_KEYS: readonly MetricKey[] = [
  "next_frame.dir_acc",
  "next_frame.cell_acc",
  "next_frame.changed_cell_acc",
  "obs_nll.per_frame",
  "obs_nll.per_cell",
  "obs_nll.dir",
  "action_acc",
  "action.nats",
];

/** Heads of the per-head loss records (`loss_heads` of lib/train/loop.ts's train records). */
export const HEADS = ["obj", "color", "state", "dir", "action"] as const;

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : "–";
}

/** `metric - its baseline` per run, mean [95% CI] over a variant's seeds, as a cell. */
function vsBaseline(runs: RunResult[], metric: MetricKey): string {
  const base = CATALOGUE[metric].baseline;
  if (!base) return "–";
  const m = runs.map((r) => r.metrics[metric]).filter(Number.isFinite);
  const d = runs.map((r) => r.metrics[metric] - r.metrics[base]).filter(Number.isFinite);
  if (!d.length) return "–";
  const mm = meanCi95(m), dd = meanCi95(d);
  const ci = dd.n > 1 ? ` [${fmt(dd.lo)}, ${fmt(dd.hi)}]` : "";
  return `${fmt(mm.mean)} (Δ ${dd.mean >= 0 ? "+" : ""}${fmt(dd.mean)}${ci})`;
}

/** Per run: train records of its metrics.jsonl (empty when absent). */
function trainRecords(r: RunResult): Record<string, unknown>[] {
  const p = join(r.runDir, "metrics.jsonl");
  if (!existsSync(p)) return [];
  return readJsonlLenientSync(p).filter((x) => x.kind === "train");
}

/** `train.clip_norm` of a run (its config.json), or NaN. */
function clipNorm(r: RunResult): number {
  const p = join(r.runDir, "config.json");
  if (!existsSync(p)) return NaN;
  try {
    const c = JSON.parse(readFileSync(p, "utf8"));
    return typeof c.train?.clip_norm === "number" ? c.train.clip_norm : NaN;
  } catch {
    return NaN;
  }
}

/**
 * How often a run's gradient norm reached the clip threshold: the share of steps clipped when
 * its train records count them (`clipped` steps of `steps_in_record`), else the share of log
 * intervals whose mean pre-clipping norm exceeds `train.clip_norm` (a proxy: an interval's mean
 * above the threshold means at least one of its steps was clipped).
 */
export function clipRate(r: RunResult): { rate: number; exact: boolean; records: number } {
  const recs = trainRecords(r);
  const counted = recs.filter((x) => typeof x.clipped === "number" && typeof x.steps === "number");
  if (counted.length && counted.length === recs.length) {
    const c = counted.reduce((a, x) => a + (x.clipped as number), 0);
    const n = counted.reduce((a, x) => a + (x.steps as number), 0);
    return { rate: n ? c / n : NaN, exact: true, records: recs.length };
  }
  const clip = clipNorm(r);
  const g = recs.map((x) => x.grad_norm).filter((x): x is number => typeof x === "number");
  if (!g.length || !(clip > 0)) return { rate: NaN, exact: false, records: recs.length };
  return { rate: g.filter((x) => x > clip).length / g.length, exact: false, records: g.length };
}

/** The diagnostics sections of a study (see the module doc). */
export function diagnosticsSections(ablation: Ablation, results: RunResult[]): PageSection[] {
  const ok = results.filter((r) => r.status === "ok");
  const variants = [...new Set(ok.map((r) => r.variant))];
  const sections: PageSection[] = [];
  const keys = DIAGNOSTIC_KEYS.filter((k) => ok.some((r) => Number.isFinite(r.metrics[k])));
  if (keys.length) {
    sections.push({
      title: "Diagnostics: each model against its baseline on the same windows",
      text: "Cells: the model's mean over seeds (Δ = model - its baseline, paired per run, " +
        "[95% CI over seeds]). Baselines: the action-aware copy for observations and the " +
        "frequency model for actions (lib/eval/catalogue.ts). A model whose action NLL is not " +
        "below the frequency model's, or whose direction accuracy is not above the copy's, has " +
        "not learned that head. Next-action SFT is shown only on action metrics.",
      table: {
        rows: keys.map((k) => {
          const row: Record<string, string> = {
            metric: metricLabel(k),
            baseline: metricLabel(CATALOGUE[k].baseline ?? ""),
          };
          for (const v of variants) {
            const sftObs = isSftVariant(ablation, v) &&
              !["action", "control"].includes(CATALOGUE[k].family);
            row[v] = sftObs ? "–" : vsBaseline(ok.filter((r) => r.variant === v), k);
          }
          return row;
        }),
      },
    });
  }
  // The copy baselines' mixture weights (the same for every run on the same data).
  const hit = ok.find((r) => Number.isFinite(r.metrics["copy_prev.train_hit.obj"]));
  if (hit) {
    const fields = ["obj", "color", "state", "dir"] as const;
    sections.push({
      title: "Diagnostics: the copy baselines' training hit rates",
      text: "How often copying was right over consecutive training frames (add-one smoothed), " +
        `from ${hit.variant} seed ${hit.seed}'s evaluation: the weight each copy baseline gives ` +
        "the copied value (the rest is spread by the class frequencies).",
      table: {
        rows: (["copy_prev", "action_copy"] as const).map((b) => {
          const row: Record<string, string> = {
            baseline: metricLabel(`${b}.train_hit.obj`).split(":")[0],
          };
          for (const f of fields) row[f] = fmt(hit.metrics[`${b}.train_hit.${f}`]);
          return row;
        }),
      },
    });
  }
  // Per-head training loss of every run.
  const recs = new Map(ok.map((r) => [r, trainRecords(r)]));
  const headFigures: Figure[] = HEADS.map((h) =>
    lineFigure(
      ok.map((r) => {
        const xs = recs.get(r)!.filter((x) =>
          typeof (x.loss_heads as Record<string, unknown> | undefined)?.[h] === "number"
        );
        return {
          name: `${r.variant} s${r.seed}`,
          x: xs.map((x) => x.step as number),
          y: xs.map((x) => (x.loss_heads as Record<string, number>)[h]),
        };
      }).filter((s) => s.x.length > 0),
      {
        title: `Training loss of the ${h} head (mean -log p over its hidden slots)`,
        xTitle: "step",
        yTitle: "nats",
      },
    )
  );
  if ([...recs.values()].some((x) => x.length)) {
    sections.push({
      title: "Diagnostics: per-head training loss",
      text:
        "From each run's metrics.jsonl (train records, `loss_heads`): a head whose loss stays " +
        "flat gets too little of the objective (see the loss normalisation, train.loss).",
      figures: headFigures,
    });
  }
  // Gradient clipping.
  const clip = ok.map((r) => ({ r, c: clipRate(r) })).filter((x) => x.c.records > 0);
  if (clip.length) {
    const exact = clip.every((x) => x.c.exact);
    sections.push({
      title: "Diagnostics: gradient clipping",
      text: exact
        ? "Share of training steps whose gradient norm was clipped (train.clip_norm)."
        : "metrics.jsonl holds the mean pre-clipping gradient norm of each log interval " +
          "(train.log_every steps), not a count of clipped steps: shown is the share of " +
          "intervals whose mean exceeds train.clip_norm, a proxy (each such interval clipped " +
          "at least one step). The exact rate needs lib/train/loop.ts to write, per train " +
          "record, `clipped` (steps whose norm exceeded clip_norm) and `steps` (steps in the record).",
      table: {
        rows: clip.map(({ r, c }) => ({
          run: `${r.variant} s${r.seed}`,
          clip_norm: fmt(clipNorm(r)),
          [exact ? "clipped steps" : "intervals above clip_norm"]: fmt(c.rate),
          records: String(c.records),
        })),
      },
    });
  }
  return sections;
}
