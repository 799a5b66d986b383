/**
 * The one catalogue of evaluation metrics: every key {@link evaluateModel} (and the study runner)
 * writes, with what it measures, its family, which direction is better, the baseline it is read
 * against, and its role (a model's figure, a baseline's, a count, an interval bound, a run's own
 * objective). Evaluation, reports, fine-tuning, study files (`primary:`) and notebooks read it.
 *
 * Static keys are typed ({@link MetricKey}): a misspelt key in code fails to compile. Scoped keys
 * are built from a static key and resolved by {@link metricInfo}:
 * - `<env_id>.<key>` per env id (keys with `perEnv`), e.g. `BabyAI-Open-v0.success_rate`;
 * - `robust.<mask|unseen>.q<q>.<cell_acc|action_acc|success_rate>` (extra hidden cells);
 * - `noise.rho<rho>.<cell_acc|action_acc|success_rate>` (observation tokens replaced by noise),
 *   and `<copy_prev|action_copy>.noise.rho<rho>.cell_acc` for the copy baselines;
 * - `finetune.k<k>.<key>` (held-out envs after fine-tuning on k demonstrations, keys with
 *   `finetune`).
 *
 * @module
 */

import { editDistance } from "../util/text.ts";

/** What a metric is about. SFT (next-action) models are compared on `action` and `control` only. */
export type MetricFamily = "action" | "observation" | "likelihood" | "control";
/** Which direction of a metric is better (`none`: neither, e.g. episode length). */
export type Better = "higher" | "lower" | "none";
/**
 * What a value is: a model's figure, a baseline's or a bound's (the same for every model of a
 * study), a count, a bound of an interval, or a run's own training objective (not comparable
 * across objectives).
 */
export type MetricRole = "model" | "baseline" | "count" | "interval" | "own_objective";

/** One catalogue entry. */
export interface MetricDef {
  /** Short label for tables and figures. */
  label: string;
  /** What it measures, in a sentence. */
  measures: string;
  family: MetricFamily;
  better: Better;
  role: MetricRole;
  /** The catalogue key it is read against (the baseline a model must beat), if any. */
  baseline?: string;
  /** Also written per env id (`<env_id>.<key>`). */
  perEnv?: boolean;
  /** Repeated per k after fine-tuning on held-out envs (`finetune.k<k>.<key>`). */
  finetune?: boolean;
}

/** A resolved key: its definition and the key itself. */
export interface MetricInfo extends MetricDef {
  /** The full key (scopes included). */
  key: string;
  /** The static catalogue key it derives from. */
  base: MetricKey;
}

const acc = (label: string, measures: string, family: MetricFamily = "observation") => ({
  label,
  measures,
  family,
  better: "higher" as const,
  role: "model" as const,
});
const nll = (label: string, measures: string, family: MetricFamily = "likelihood") => ({
  label,
  measures,
  family,
  better: "lower" as const,
  role: "model" as const,
});
const count = (label: string, measures: string, family: MetricFamily) => ({
  label,
  measures,
  family,
  better: "none" as const,
  role: "count" as const,
});

/**
 * The figures of one masked evaluation of observations (an `ObsSummary` less its action):
 * `label(f)` names field `f` ("cell acc", "changed-cell acc", ...), `what` says what is hidden.
 */
function obsGroup<P extends string>(
  p: P,
  label: (f: string) => string,
  what: string,
  base: string | null,
) {
  const b = (k: string) => (base ? { baseline: `${base}${k}` } : {});
  return {
    [`${p}cell_acc`]: {
      ...acc(label("cell acc"), `${what}: hidden cells with all three attributes right`),
      ...b("cell_acc"),
    },
    [`${p}changed_cell_acc`]: {
      ...acc(
        label("changed-cell acc"),
        `${what}: the same over hidden cells that differ from the previous frame`,
      ),
      ...b("changed_cell_acc"),
    },
    [`${p}obj_acc`]: acc(label("object acc"), `${what}: hidden object attributes right`),
    [`${p}color_acc`]: acc(label("colour acc"), `${what}: hidden colour attributes right`),
    [`${p}state_acc`]: acc(label("state acc"), `${what}: hidden state attributes right`),
    [`${p}dir_acc`]: {
      ...acc(label("direction acc"), `${what}: hidden agent directions right`),
      ...b("dir_acc"),
    },
    [`${p}nats_per_slot`]: {
      ...nll(
        label("nats/slot"),
        `${what}: mean -log p over hidden slots (cell attributes and direction)`,
      ),
      ...b("nats_per_slot"),
    },
    [`${p}bits_per_frame`]: nll(
      label("bits/frame"),
      `${what}: total -log2 p per window with hidden slots`,
    ),
    [`${p}cells`]: count(label("cells scored"), `${what}: hidden cells scored`, "observation"),
    [`${p}changed_cells`]: count(
      label("changed cells scored"),
      `${what}: hidden changed cells scored`,
      "observation",
    ),
  } as Record<`${P}${ObsField}`, MetricDef>;
}

/** The observation fields of an evaluation written per group (see lib/eval/score.ts). */
export const OBS_FIELDS = [
  "cell_acc",
  "changed_cell_acc",
  "obj_acc",
  "color_acc",
  "state_acc",
  "dir_acc",
  "nats_per_slot",
  "bits_per_frame",
  "cells",
  "changed_cells",
] as const;
/** One of {@link OBS_FIELDS}. */
export type ObsField = typeof OBS_FIELDS[number];

/** The observation NLL figures (lib/eval/metrics.ts `evaluateObsNll`). */
export const OBS_NLL_FIELDS = ["per_frame", "per_cell", "dir", "cell_acc", "frames"] as const;
/** One of {@link OBS_NLL_FIELDS}. */
export type ObsNllField = typeof OBS_NLL_FIELDS[number];

function obsNllGroup<P extends string>(p: P, who: string, base: string | null) {
  const b = (k: string) => (base ? { baseline: `${base}${k}` } : {});
  const pre = who ? `${who}: ` : "";
  return {
    [`${p}per_frame`]: {
      ...nll(
        `${pre}observation NLL, nats/frame`,
        "-log p(O_t | the rest of the window): one whole frame's 49 cells and direction hidden, " +
          "the other frames and every action visible; the sum over the frame's 148 slots of the " +
          "one-pass (factorised) -log p, per hidden frame",
      ),
      ...b("per_frame"),
    },
    [`${p}per_cell`]: {
      ...nll(
        `${pre}observation NLL, nats/cell`,
        "the same, cells only (3 attributes each), per hidden cell",
      ),
      ...b("per_cell"),
    },
    [`${p}dir`]: {
      ...nll(
        `${pre}observation NLL, direction nats`,
        "the same, the hidden frame's direction only",
      ),
      ...b("dir"),
    },
    [`${p}cell_acc`]: {
      ...acc(
        `${pre}whole-frame infill cell acc`,
        "cells of the hidden frame with all three attributes right",
      ),
      ...b("cell_acc"),
    },
    [`${p}frames`]: count(`${pre}frames scored`, "hidden frames scored", "likelihood"),
  } as Record<`${P}${ObsNllField}`, MetricDef>;
}

/** The training split's copy hit rates of a copy baseline (its mixture weights). */
function hitRates<P extends string>(p: P, who: string) {
  const d = (what: string): MetricDef => ({
    label: `${who} baseline: training hit rate, ${what}`,
    measures: `how often copying the ${what} was right over consecutive training frames ` +
      "(add-one smoothed): the weight of the copied value in the baseline's mixture",
    family: "observation",
    better: "none",
    role: "baseline",
  });
  return {
    [`${p}train_hit.obj`]: d("object"),
    [`${p}train_hit.color`]: d("colour"),
    [`${p}train_hit.state`]: d("state"),
    [`${p}train_hit.dir`]: d("direction"),
  } as Record<`${P}train_hit.${"obj" | "color" | "state" | "dir"}`, MetricDef>;
}

function asBaseline<T extends Record<string, MetricDef>>(t: T): T {
  const out: Record<string, MetricDef> = {};
  for (const [k, d] of Object.entries(t)) {
    out[k] = { ...d, role: d.role === "model" ? "baseline" : d.role, baseline: undefined };
  }
  return out as T;
}

const rate = (label: string, measures: string, role: MetricRole = "model"): MetricDef => ({
  label,
  measures,
  family: "control",
  better: role === "interval" ? "none" : "higher",
  role,
});

const NEXT_FRAME = "next frame (the past visible, the frame and its action hidden)";
const RANDOM_CELLS = "random cells (each cell hidden with eval.obs_mask_ratio)";
const nf = (f: string) => f === "cell acc" ? "next-frame cell acc (one pass)" : `next-frame ${f}`;
const rc = (f: string) => f.startsWith("cell") ? `random-${f}` : `random-cell mask: ${f}`;

const TABLE = {
  ...obsGroup("next_frame.", nf, NEXT_FRAME, "action_copy.next_frame."),
  ...obsGroup(
    "next_frame_iter.",
    (f) => `next-frame ${f} (iterative, eval.decode_steps)`,
    `${NEXT_FRAME}, iterative decoding`,
    "action_copy.next_frame.",
  ),
  ...asBaseline(
    obsGroup("copy_prev.next_frame.", (f) => `copy-previous baseline: ${f}`, NEXT_FRAME, null),
  ),
  ...asBaseline(
    obsGroup(
      "action_copy.next_frame.",
      (f) => `action-aware copy baseline: ${f}`,
      NEXT_FRAME,
      null,
    ),
  ),
  ...asBaseline(
    obsGroup("majority.next_frame.", (f) => `frequency baseline: ${f}`, NEXT_FRAME, null),
  ),
  ...obsGroup("random_cells.", rc, RANDOM_CELLS, "copy_prev.random_cells."),
  ...asBaseline(
    obsGroup(
      "copy_prev.random_cells.",
      (f) => `copy-previous baseline: ${rc(f)}`,
      RANDOM_CELLS,
      null,
    ),
  ),
  ...asBaseline(
    obsGroup(
      "action_copy.random_cells.",
      (f) => `action-aware copy baseline: ${rc(f)}`,
      RANDOM_CELLS,
      null,
    ),
  ),
  ...obsNllGroup("obs_nll.", "", "action_copy.obs_nll."),
  ...asBaseline(obsNllGroup("copy_prev.obs_nll.", "copy-previous baseline", null)),
  ...asBaseline(obsNllGroup("action_copy.obs_nll.", "action-aware copy baseline", null)),
  ...asBaseline(obsNllGroup("majority.obs_nll.", "frequency baseline", null)),
  ...hitRates("copy_prev.", "copy-previous"),
  ...hitRates("action_copy.", "action-aware copy"),
  "action_acc": {
    ...acc(
      "action acc (every decision)",
      "argmax action right, over every decision of the test windows (history visible, the action hidden)",
      "action",
    ),
    baseline: "majority.action_acc",
  },
  "action.nats": {
    ...nll("action NLL, nats/decision", "-log p(true action) over the same decisions", "action"),
    baseline: "majority.action.nats",
  },
  "action.decisions": count(
    "decisions scored",
    "decisions scored for the action metrics",
    "action",
  ),
  "action_end_acc": acc(
    'end-of-episode prediction ("none")',
    'windows ending an episode whose argmax action is "none"',
    "action",
  ),
  "majority.action_acc": {
    ...acc("frequency baseline: action acc", "the training split's most frequent action", "action"),
    role: "baseline",
  },
  "majority.action.nats": {
    ...nll(
      "frequency baseline: action NLL",
      "the training split's action frequencies as a distribution",
      "action",
    ),
    role: "baseline",
  },
  "elbo_nats_per_slot": nll(
    "any-order ELBO nats/slot",
    "the any-order bound on the NLL: slots hidden with probability t, -log p weighted by 1/t, averaged over eval.elbo_ts, per slot",
  ),
  "success_rate": {
    ...rate(
      "closed-loop success",
      "episodes solved on held-out seeds of the test envs, the model acting greedily on the window ending at the current frame",
    ),
    baseline: "random.success_rate",
  },
  "success_rate.wilson_lo": rate(
    "closed-loop success: Wilson 95% low",
    "lower end of the Wilson interval over the episodes",
    "interval",
  ),
  "success_rate.wilson_hi": rate(
    "closed-loop success: Wilson 95% high",
    "upper end of the Wilson interval over the episodes",
    "interval",
  ),
  "success.episodes": count("closed-loop episodes", "episodes played (all test envs)", "control"),
  "unseen.success_rate": {
    ...rate(
      "unseen-env success",
      "closed-loop success pooled over the test envs that are not training envs (data.test_envs less data.envs)",
    ),
    baseline: "random.success_rate",
  },
  "unseen.success_rate.wilson_lo": rate(
    "unseen-env success: Wilson 95% low",
    "lower end of the Wilson interval",
    "interval",
  ),
  "unseen.success_rate.wilson_hi": rate(
    "unseen-env success: Wilson 95% high",
    "upper end of the Wilson interval",
    "interval",
  ),
  "unseen.episodes": count("unseen-env episodes", "episodes played on held-out envs", "control"),
  "mean_reward": { ...rate("mean return", "mean episode return in closed loop"), better: "higher" },
  "mean_length": {
    ...rate("mean episode length", "mean episode length in closed loop (steps)"),
    better: "none",
  },
  "bot.success_rate": {
    ...rate("bot success (bound)", "the BabyAI expert bot on the same seeds"),
    role: "baseline",
  },
  "bot.success_rate.wilson_lo": rate("bot success: Wilson 95% low", "", "interval"),
  "bot.success_rate.wilson_hi": rate("bot success: Wilson 95% high", "", "interval"),
  "random.success_rate": {
    ...rate("random success (bound)", "uniformly random actions on the same seeds"),
    role: "baseline",
  },
  "random.success_rate.wilson_lo": rate("random success: Wilson 95% low", "", "interval"),
  "random.success_rate.wilson_hi": rate("random success: Wilson 95% high", "", "interval"),
  "final_val_elbo": nll(
    "final val ELBO, shared masks (nats/slot)",
    "the validation ELBO every run scores on the same masks, at the last step",
  ),
  "best_val_elbo": nll(
    "best val ELBO (nats/slot)",
    "the lowest validation ELBO over training (selects the kept checkpoint)",
  ),
  "final_val_loss": {
    ...nll(
      "final val loss (own objective)",
      "each run's own training objective on validation windows: not comparable across objectives",
    ),
    role: "own_objective",
  },
} satisfies Record<string, MetricDef>;

/** A static catalogue key. */
export type MetricKey = keyof typeof TABLE;

/** The static catalogue: key -> definition. */
export const CATALOGUE: Readonly<Record<MetricKey, MetricDef>> = TABLE;

/** Keys also written per env id (`<env_id>.<key>`). */
export const PER_ENV_KEYS = [
  "next_frame.cell_acc",
  "next_frame.changed_cell_acc",
  "next_frame.nats_per_slot",
  "next_frame_iter.cell_acc",
  "next_frame_iter.changed_cell_acc",
  "next_frame_iter.nats_per_slot",
  "copy_prev.next_frame.cell_acc",
  "copy_prev.next_frame.changed_cell_acc",
  "copy_prev.next_frame.nats_per_slot",
  "action_copy.next_frame.cell_acc",
  "action_copy.next_frame.changed_cell_acc",
  "action_copy.next_frame.nats_per_slot",
  "majority.next_frame.cell_acc",
  "majority.next_frame.changed_cell_acc",
  "majority.next_frame.nats_per_slot",
  "random_cells.cell_acc",
  "copy_prev.random_cells.cell_acc",
  "action_copy.random_cells.cell_acc",
  "obs_nll.per_frame",
  "action_acc",
  "majority.action_acc",
  "success_rate",
  "success_rate.wilson_lo",
  "success_rate.wilson_hi",
] as const satisfies readonly MetricKey[];

/** Keys repeated after fine-tuning on k demonstrations of the held-out envs (`finetune.k<k>.`). */
export const FINETUNE_KEYS = [
  "next_frame.cell_acc",
  "next_frame.changed_cell_acc",
  "obs_nll.per_frame",
  "action_acc",
  "success_rate",
] as const satisfies readonly MetricKey[];

/** The metrics scored under extra hidden cells (`robust.*`) and observation noise (`noise.*`). */
export const ROBUST_FIELDS = ["cell_acc", "action_acc", "success_rate"] as const;
/** One of {@link ROBUST_FIELDS}. */
export type RobustField = typeof ROBUST_FIELDS[number];
const ROBUST_BASE: Record<RobustField, MetricKey> = {
  cell_acc: "next_frame.cell_acc",
  action_acc: "action_acc",
  success_rate: "success_rate",
};

/**
 * Other names accepted where a study file names a metric (`primary:`), each for one catalogue
 * key. Code uses the catalogue keys.
 */
export const ALIASES: Readonly<Record<string, MetricKey>> = {
  "next_frame.changed_acc": "next_frame.changed_cell_acc",
};

/** An env id at the start of a scoped key (MiniGrid / BabyAI ids end in `-v<N>`). */
export const ENV_PREFIX = /^([A-Za-z][\w]*-[\w-]+-v\d+)\.(.+)$/;

const PER_ENV = new Set<string>(PER_ENV_KEYS);
const FINETUNE = new Set<string>(FINETUNE_KEYS);

function info(key: string, base: MetricKey, over: Partial<MetricDef> = {}): MetricInfo {
  return { ...CATALOGUE[base], ...over, key, base };
}

/**
 * The catalogue entry of `key` (static or scoped, see the module doc), or null when the
 * catalogue does not know it. Aliases are not resolved here (see {@link resolveMetricKey}).
 */
export function metricInfo(key: string): MetricInfo | null {
  if (Object.hasOwn(CATALOGUE, key)) return info(key, key as MetricKey);
  let m = /^finetune\.k(\d+)\.(.+)$/.exec(key);
  if (m) {
    if (!FINETUNE.has(m[2])) return null;
    const d = CATALOGUE[m[2] as MetricKey];
    return info(key, m[2] as MetricKey, { label: `held-out envs, k=${m[1]} demos: ${d.label}` });
  }
  m = /^(robust\.(mask|unseen)\.q|noise\.rho)(\d+(?:\.\d+)?)\.(\w+)$/.exec(key);
  if (m) {
    const field = m[4] as RobustField;
    if (!(ROBUST_FIELDS as readonly string[]).includes(field)) return null;
    const base = ROBUST_BASE[field];
    const how = m[2]
      ? `${m[3]} of observed cells hidden${m[2] === "mask" ? " as [MASK]" : " as unseen"}`
      : `rho = ${m[3]} of observation tokens replaced by random valid tokens`;
    return info(key, base, {
      label: `${CATALOGUE[base].label}, ${how}`,
      baseline: undefined,
    });
  }
  m = /^(copy_prev|action_copy)\.noise\.rho(\d+(?:\.\d+)?)\.cell_acc$/.exec(key);
  if (m) {
    const base = `${m[1]}.next_frame.cell_acc` as MetricKey;
    return info(key, base, {
      label: `${CATALOGUE[base].label}, rho = ${m[2]} of observation tokens replaced by noise`,
    });
  }
  m = ENV_PREFIX.exec(key);
  if (m && PER_ENV.has(m[2])) {
    const d = CATALOGUE[m[2] as MetricKey];
    return info(key, m[2] as MetricKey, {
      label: `${m[1]}: ${d.label}`,
      baseline: d.baseline && PER_ENV.has(d.baseline) ? `${m[1]}.${d.baseline}` : undefined,
    });
  }
  return null;
}

/** The label of a key (the key itself when the catalogue does not know it). */
export function metricLabel(key: string): string {
  return metricInfo(key)?.label ?? key;
}

/** The closest catalogue keys to `key` (edit distance, at most `n`). */
export function closestMetricKeys(key: string, n = 1): string[] {
  const m = ENV_PREFIX.exec(key);
  const scoped = m ? [...PER_ENV_KEYS].map((k) => `${m[1]}.${k}`) : [];
  const all = [...Object.keys(CATALOGUE), ...Object.keys(ALIASES), ...scoped];
  return all.map((k) => [k, editDistance(key, k)] as const).sort((a, b) =>
    a[1] - b[1] || (a[0] < b[0] ? -1 : 1)
  )
    .slice(0, n).map(([k]) => k);
}

/**
 * The catalogue key `key` names (an alias resolved), or an error message naming the key with a
 * "did you mean" suggestion.
 */
export function resolveMetricKey(key: string): { key: string } | { error: string } {
  const k = Object.hasOwn(ALIASES, key) ? ALIASES[key] : key;
  if (metricInfo(k)) return { key: k };
  const close = closestMetricKeys(key, 1);
  return {
    error: `unknown metric '${key}'` + (close.length ? ` (did you mean '${close[0]}'?)` : "") +
      "; the catalogue is lib/eval/catalogue.ts (docs/statistics.md lists its keys)",
  };
}

/** Whether a next-action (SFT) model can be compared on `key`: action and control metrics. */
export function sftReadable(key: string): boolean {
  const i = metricInfo(key);
  return !!i && (i.family === "action" || i.family === "control");
}
