/**
 * Which metrics a study report shows and where a paired difference means something: the
 * headline rows of its tables and bar charts ({@link HEADLINE_KEYS}), the per-env rows of a
 * multi-env study ({@link perEnvRows}), and the rule for Δ against the baseline
 * ({@link diffMeaningful}, {@link studyMeaningful}).
 *
 * @module
 */

import type { Ablation } from "./ablation.ts";
import {
  ENV_PREFIX,
  metricInfo,
  type MetricKey,
  metricLabel,
  sftReadable,
} from "../eval/catalogue.ts";
import { isSftVariant } from "./endpoints.ts";
import type { SummaryRow } from "./report_summary.ts";

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
export const HEADLINE: [string, string][] = headline(HEADLINE_KEYS);

/** Headline rows of the observation bar chart and of the action / closed-loop bar chart. */
export const OBS_BARS: readonly MetricKey[] = [
  "next_frame.cell_acc",
  "next_frame_iter.cell_acc",
  "next_frame.changed_cell_acc",
  "copy_prev.next_frame.cell_acc",
  "action_copy.next_frame.cell_acc",
  "action_copy.next_frame.changed_cell_acc",
  "random_cells.cell_acc",
];
export const OBS_NLL_BARS: readonly MetricKey[] = [
  "obs_nll.per_frame",
  "copy_prev.obs_nll.per_frame",
  "action_copy.obs_nll.per_frame",
  "majority.obs_nll.per_frame",
];
export const ACTION_BARS: readonly MetricKey[] = [
  "action_acc",
  "majority.action_acc",
  "success_rate",
  "bot.success_rate",
  "random.success_rate",
];

/** The [key, label] rows of `keys`. */
export function headline(keys: readonly string[]): [string, string][] {
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
export function baselineIsSft(ablation: Ablation): boolean {
  return isSftVariant(ablation, ablation.baseline);
}

/**
 * The study's rule for {@link summarizeResults}: {@link diffMeaningful}, with action metrics only
 * where the baseline or the variant is next-action SFT (neither side may be one that predicts no
 * observations).
 */
export function studyMeaningful(ablation: Ablation): (metric: string, variant: string) => boolean {
  const sftBase = baselineIsSft(ablation);
  const sftVariants = new Set(
    ablation.variants.filter((v) => isSftVariant(ablation, v.name)).map((v) => v.name),
  );
  return (m, v) => diffMeaningful(m, sftBase || sftVariants.has(v));
}

/** Per-env rows (`<env_id>.<metric>`), shown when a study scores more than one env id. */
export function perEnvRows(rows: SummaryRow[]): [string, string][] {
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
