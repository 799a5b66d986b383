/**
 * The experiment config schema: the typed {@link Config} and a small
 * declarative schema tree ({@link SCHEMA}) that the loader walks to fill
 * defaults, reject unknown keys (with "did you mean" hints), check types and
 * ranges, and type `--set key=value` overrides by their target.
 *
 * Keys are snake_case, exactly as in the YAML (see configs/base.yaml). The
 * defaults here and in configs/base.yaml are the same (a test checks it).
 *
 * @module
 */

import { type ScheduleConfig, STRATEGIES, type StrategyName } from "../masking/mod.ts";
import type { HeadWeights } from "../train/loss.ts";

// ---------------------------------------------------------------------------
// Typed config
// ---------------------------------------------------------------------------

/** Episodes per env id for each split. */
export interface EpisodeCounts {
  /** Training episodes per env id. */
  train: number;
  /** Validation episodes per env id. */
  val: number;
  /** Test episodes per env id. */
  test: number;
}

/** The `data` section: which trajectories to collect (a dataset dir is keyed by it). */
export interface DataConfig {
  /**
   * Dataset name → `data/<dataset>/`. `{profile}` in the YAML is replaced by
   * the profile name (`default` when none), so each profile gets its own dataset.
   */
  dataset: string;
  /** Env ids collected for train/val/test. */
  envs: string[];
  /** Other env ids for zero-shot evaluation (multi-env study); empty = same as `envs`. */
  test_envs: string[];
  /** Collection policy. */
  policy: "bot" | "noisy_bot" | "random";
  /** noisy_bot: probability of a random action. */
  epsilon: number;
  /** Episodes per env id and split. */
  episodes: EpisodeCounts;
  /** Split seed: env seeds of each split derive from it, disjoint by construction. */
  seed: number;
  /** Cap on episode length (null = the env's own max_steps). */
  max_steps: number | null;
}

/** The `window` section: how episodes are cut into training windows. */
export interface WindowConfig {
  /** K frames per window. */
  length: number;
  /** Frames between consecutive window starts. */
  stride: number;
  /** M mission word positions. */
  mission_len: number;
}

/** The `masking.schedule` section and the strategy names: lib/masking's types. */
export type { ScheduleConfig, StrategyName };

/** One component of `masking.mixture`. */
export interface MixtureEntry {
  /** Component strategy (anything but `mixture`). */
  strategy: Exclude<StrategyName, "mixture">;
  /** Relative weight (>= 0; the weights must not all be 0). */
  weight: number;
  /** Overrides `masking.ratio` for this component. */
  ratio?: number;
}

/** The `masking` section. */
export interface MaskingConfig {
  /** Strategy name. */
  strategy: StrategyName;
  /** p for cell / attribute, in [0, 1]. */
  ratio: number;
  /** cell / attribute: also hide direction/action slots with the same p. */
  mask_dir_action: boolean;
  /** For strategy `scheduled`. */
  schedule: ScheduleConfig;
  /** any_order: t ~ U(eps, 1). */
  eps: number;
  /** For strategy `mixture`. */
  mixture: MixtureEntry[];
}

/** Model size preset names. */
export const MODEL_SIZES = ["tiny", "small", "base"] as const;

/** A model size preset name. */
export type ModelSize = typeof MODEL_SIZES[number];

/**
 * Size presets for `model.size` (explicit non-null `d_model`, `n_layers`,
 * `n_heads`, `d_ff` override them). The same numbers as lib/model's
 * MODEL_PRESETS: `small` is the first toolchain probe's model; `base` is
 * 192 wide so that a batch fits in the wasm device's 4 GiB address space.
 */
export const MODEL_PRESETS: Readonly<
  Record<ModelSize, { d_model: number; n_layers: number; n_heads: number; d_ff: number }>
> = {
  tiny: { d_model: 32, n_layers: 2, n_heads: 2, d_ff: 64 },
  small: { d_model: 128, n_layers: 4, n_heads: 4, d_ff: 512 },
  base: { d_model: 192, n_layers: 6, n_heads: 6, d_ff: 768 },
};

/**
 * The `model` section. The four sizes are null unless given explicitly (then
 * they override the `size` preset); {@link modelDims} gives the numbers.
 */
export interface ModelConfig {
  /** Size preset. */
  size: ModelSize;
  /** Residual width (null = preset). */
  d_model: number | null;
  /** Transformer blocks (null = preset). */
  n_layers: number | null;
  /** Attention heads; must divide d_model (null = preset). */
  n_heads: number | null;
  /** SwiGLU hidden size (null = preset). */
  d_ff: number | null;
  /** Position embeddings: learned (time, cell, slot-kind). */
  position: "learned";
  /** Mission word vocabulary size (null = the BabyAI vocabulary's). */
  mission_vocab: number | null;
}

/** Per-head loss weights: lib/train's type. */
export type { HeadWeights };

/** The four model sizes of a model section: the preset, overridden by explicit keys. */
export function modelDims(
  model: Pick<ModelConfig, "size" | "d_model" | "n_layers" | "n_heads" | "d_ff">,
): { d_model: number; n_layers: number; n_heads: number; d_ff: number } {
  const p = MODEL_PRESETS[model.size];
  if (!p) {
    throw new Error(
      `model.size: unknown preset '${model.size}'; use one of ${MODEL_SIZES.join(", ")}`,
    );
  }
  return {
    d_model: model.d_model ?? p.d_model,
    n_layers: model.n_layers ?? p.n_layers,
    n_heads: model.n_heads ?? p.n_heads,
    d_ff: model.d_ff ?? p.d_ff,
  };
}

/** The `train` section. */
export interface TrainConfig {
  /** Training device: auto (blas if OpenBLAS loads, else wasm), blas (CPU, OpenBLAS), wasm (CPU, @jax-js/jax) or webgpu. */
  device: "auto" | "blas" | "wasm" | "webgpu";
  /** Windows per micro-batch. */
  batch_size: number;
  /** Micro-batches per optimizer step. */
  grad_accum: number;
  /** Optimizer steps. */
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Final learning rate of the cosine decay. */
  min_lr: number;
  /** Linear warmup steps. */
  warmup_steps: number;
  /** AdamW decoupled weight decay. */
  weight_decay: number;
  /** Adam beta1. */
  beta1: number;
  /** Adam beta2. */
  beta2: number;
  /** Adam epsilon. */
  adam_eps: number;
  /** Global gradient-norm clip (0 = off). */
  clip_norm: number;
  /** mean | elbo (elbo = 1/t weights, used by any_order). */
  loss: "mean" | "elbo";
  /** Per-head loss weights. */
  head_weights: HeadWeights;
  /** Steps between train log records. */
  log_every: number;
  /** Steps between validation passes. */
  eval_every: number;
  /** Validation batches per pass. */
  eval_batches: number;
  /** Steps between checkpoints. */
  ckpt_every: number;
  /** Checkpoints kept. */
  keep_last: number;
}

/** The `eval.closed_loop` section. */
export interface ClosedLoopConfig {
  /** Episodes per env id. */
  episodes: number;
  /** Argmax actions (else sample). */
  greedy: boolean;
  /** Episode length cap (null = the env's own). */
  max_steps: number | null;
}

/** The `eval` section. */
export interface EvalConfig {
  /** Random-cell eval mask ratio. */
  obs_mask_ratio: number;
  /** Mask ratios t at which the ELBO is estimated. */
  elbo_ts: number[];
  /** Iterative low-confidence remasking steps for next-frame prediction. */
  decode_steps: number;
  /** Closed-loop rollouts. */
  closed_loop: ClosedLoopConfig;
  /** Observation-noise levels for the robustness curve. */
  robustness_q: number[];
  /** Multi-env: k demonstrations of the test envs for fine-tuning (0 = zero-shot). */
  finetune_demos: number[];
  /** Multi-env: fine-tuning steps. */
  finetune_steps: number;
}

/** Profile names. */
export const PROFILE_NAMES = ["smoke", "quick", "standard", "full"] as const;

/** A profile name. */
export type ProfileName = typeof PROFILE_NAMES[number];

/** A resolved, validated experiment config (extends/profiles applied and removed). */
export interface Config {
  /** Experiment name → runs/<name>/. */
  name: string;
  /** Master seed (training init, masks, shuffles). */
  seed: number;
  /** The profile that was applied (null = none). */
  profile: ProfileName | null;
  /** Data section. */
  data: DataConfig;
  /** Window section. */
  window: WindowConfig;
  /** Masking section. */
  masking: MaskingConfig;
  /** Model section (sizes filled in from the preset). */
  model: ModelConfig;
  /** Training section. */
  train: TrainConfig;
  /** Evaluation section. */
  eval: EvalConfig;
}

// ---------------------------------------------------------------------------
// Schema tree
// ---------------------------------------------------------------------------

/** A schema node: what a value must be. */
export type SchemaNode =
  | {
    kind: "number";
    /** Whole numbers only. */
    int?: boolean;
    /** Inclusive lower bound. */
    min?: number;
    /** Inclusive upper bound. */
    max?: number;
    /** Exclusive lower bound. */
    gt?: number;
    /** Exclusive upper bound. */
    lt?: number;
    default: number;
    doc?: string;
  }
  | { kind: "string"; default: string; pattern?: RegExp; patternDoc?: string; doc?: string }
  | { kind: "enum"; values: readonly string[]; default: string; doc?: string }
  | { kind: "boolean"; default: boolean; doc?: string }
  | { kind: "nullable"; inner: SchemaNode; default: unknown; doc?: string }
  | {
    kind: "array";
    item: SchemaNode;
    default: unknown[];
    minItems?: number;
    doc?: string;
  }
  | {
    kind: "object";
    fields: Record<string, SchemaNode>;
    /** Keys that may be absent (no default filled in). */
    optional?: readonly string[];
    /** Keys that must be given (their default is not used). */
    required?: readonly string[];
    doc?: string;
  };

const num = (
  d: number,
  o: { int?: boolean; min?: number; max?: number; gt?: number; lt?: number } = {},
): SchemaNode => ({ kind: "number", default: d, ...o });
const int = (d: number, min = 0, max?: number): SchemaNode => num(d, { int: true, min, max });
const en = (values: readonly string[], d: string): SchemaNode => ({
  kind: "enum",
  values,
  default: d,
});
const obj = (
  fields: Record<string, SchemaNode>,
  optional?: readonly string[],
  required?: readonly string[],
): SchemaNode => ({ kind: "object", fields, optional, required });
const nullable = (inner: SchemaNode): SchemaNode => ({ kind: "nullable", inner, default: null });
const arr = (item: SchemaNode, d: unknown[], minItems?: number): SchemaNode => ({
  kind: "array",
  item,
  default: d,
  minItems,
});
const prob = (d: number): SchemaNode => num(d, { min: 0, max: 1 });

const ENV_ID = /^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9_]+)*-v\d+$/;

/** The experiment schema (top level of an experiment YAML, without `extends`/`profiles`). */
export const SCHEMA: SchemaNode = obj({
  name: {
    kind: "string",
    default: "experiment",
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    patternDoc: "letters, digits, '_', '-', '.' (it names a folder under runs/)",
  },
  seed: int(0),
  profile: nullable(en(PROFILE_NAMES, "quick")),
  data: obj({
    dataset: {
      kind: "string",
      default: "gotoredball-{profile}",
      pattern: /^[A-Za-z0-9{][A-Za-z0-9_.{}-]*$/,
      patternDoc:
        "letters, digits, '_', '-', '.'; {profile} is replaced by the profile name (it names a folder under data/)",
    },
    envs: arr(
      { kind: "string", default: "", pattern: ENV_ID, patternDoc: "an env id like BabyAI-GoTo-v0" },
      ["BabyAI-GoToRedBall-v0"],
      1,
    ),
    test_envs: arr(
      { kind: "string", default: "", pattern: ENV_ID, patternDoc: "an env id like BabyAI-GoTo-v0" },
      [],
    ),
    policy: en(["bot", "noisy_bot", "random"], "bot"),
    epsilon: prob(0.1),
    episodes: obj({ train: int(1000, 1), val: int(100, 0), test: int(100, 0) }),
    seed: int(0),
    max_steps: nullable(int(0, 1)),
  }),
  window: obj({ length: int(4, 1, 64), stride: int(1, 1), mission_len: int(12, 1, 64) }),
  masking: obj({
    strategy: en(STRATEGIES, "cell"),
    ratio: prob(0.3),
    mask_dir_action: { kind: "boolean", default: true },
    schedule: obj({
      base: en(["cell", "attribute"], "cell"),
      from: prob(0.15),
      to: prob(0.5),
      over: nullable(num(10000, { gt: 0 })),
      unit: en(["step", "epoch"], "step"),
      shape: en(["linear", "cosine", "step"], "linear"),
    }),
    eps: num(0.001, { gt: 0, lt: 1 }),
    mixture: arr(
      obj(
        {
          strategy: en(STRATEGIES.filter((s) => s !== "mixture"), "any_order"),
          weight: num(1, { min: 0 }),
          ratio: prob(0.3),
        },
        ["ratio"],
        ["strategy"],
      ),
      [{ strategy: "any_order", weight: 0.5 }, { strategy: "next_action", weight: 0.5 }],
      1,
    ),
  }),
  model: obj({
    size: en(MODEL_SIZES, "small"),
    d_model: nullable(int(128, 1)),
    n_layers: nullable(int(4, 1)),
    n_heads: nullable(int(4, 1)),
    d_ff: nullable(int(512, 1)),
    position: en(["learned"], "learned"),
    mission_vocab: nullable(int(0, 2)),
  }),
  train: obj({
    device: en(["auto", "blas", "wasm", "webgpu"], "auto"),
    batch_size: int(32, 1),
    grad_accum: int(1, 1),
    steps: int(2000, 1),
    lr: num(0.001, { gt: 0 }),
    min_lr: num(0.0001, { min: 0 }),
    warmup_steps: int(100, 0),
    weight_decay: num(0.01, { min: 0 }),
    beta1: num(0.9, { min: 0, lt: 1 }),
    beta2: num(0.98, { min: 0, lt: 1 }),
    adam_eps: num(1e-8, { gt: 0 }),
    clip_norm: num(1.0, { min: 0 }),
    loss: en(["mean", "elbo"], "mean"),
    head_weights: obj({
      obj: num(1, { min: 0 }),
      color: num(1, { min: 0 }),
      state: num(1, { min: 0 }),
      dir: num(1, { min: 0 }),
      action: num(1, { min: 0 }),
    }),
    log_every: int(10, 1),
    eval_every: int(200, 1),
    eval_batches: int(8, 0),
    ckpt_every: int(200, 1),
    keep_last: int(2, 1),
  }),
  eval: obj({
    obs_mask_ratio: prob(0.3),
    elbo_ts: arr(num(0.5, { gt: 0, max: 1 }), [0.1, 0.3, 0.5, 0.7, 0.9], 1),
    decode_steps: int(4, 1),
    closed_loop: obj({
      episodes: int(50, 0),
      greedy: { kind: "boolean", default: true },
      max_steps: nullable(int(0, 1)),
    }),
    robustness_q: arr(prob(0), [0, 0.1, 0.2, 0.3, 0.4, 0.5]),
    finetune_demos: arr(int(0, 0), [0, 10]),
    finetune_steps: int(100, 0),
  }),
});

/**
 * Keys that were removed, each with why: a config (or `--set`) that still sets one gets this
 * message instead of "unknown key".
 */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
  "train.precision": "was removed: training computes in fp32 on every device (the blas and wasm " +
    "CPU devices have no fp16 arithmetic; fp16 on webgpu would need shader-f16 kernels, fp32 " +
    "master weights and loss scaling, which nothing here implements or could measure without a " +
    "GPU); delete it",
};

/** Keys the loader handles itself (allowed at the top level of a file, absent from a Config). */
export const LOADER_KEYS = ["extends", "profiles"] as const;

/** The schema node at a dotted path (`train.lr`, `masking.mixture.0.weight`), or null. */
export function schemaAt(path: readonly string[]): SchemaNode | null {
  let node: SchemaNode = SCHEMA;
  for (const seg of path) {
    while (node.kind === "nullable") node = node.inner;
    if (node.kind === "object") {
      if (!Object.hasOwn(node.fields, seg)) return null;
      node = node.fields[seg];
    } else if (node.kind === "array") {
      if (!/^\d+$/.test(seg)) return null;
      node = node.item;
    } else return null;
  }
  return node;
}

/** The default value of a schema node (objects: all non-optional fields filled in). */
export function schemaDefault(node: SchemaNode): unknown {
  if (node.kind === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(node.fields)) {
      if (node.optional?.includes(k)) continue;
      out[k] = schemaDefault(f);
    }
    return out;
  }
  return structuredClone(node.default);
}

/** A short description of what a schema node accepts, for error messages. */
export function describeNode(node: SchemaNode): string {
  switch (node.kind) {
    case "number": {
      const what = node.int ? "an integer" : "a number";
      const parts: string[] = [];
      if (node.min !== undefined && node.max !== undefined) {
        parts.push(`in [${node.min}, ${node.max}]`);
      } else {
        if (node.min !== undefined) parts.push(`>= ${node.min}`);
        if (node.gt !== undefined) parts.push(`> ${node.gt}`);
        if (node.max !== undefined) parts.push(`<= ${node.max}`);
      }
      if (node.lt !== undefined) parts.push(`< ${node.lt}`);
      return parts.length ? `${what} ${parts.join(" and ")}` : what;
    }
    case "string":
      return node.patternDoc ? `a string (${node.patternDoc})` : "a string";
    case "enum":
      return `one of ${node.values.join(" | ")}`;
    case "boolean":
      return "true or false";
    case "nullable":
      return `${describeNode(node.inner)}, or null`;
    case "array":
      return `a list of ${describeNode(node.item).replace(/^an? /, "")}s` +
        (node.minItems ? ` (at least ${node.minItems})` : "");
    case "object":
      return `a mapping with keys ${Object.keys(node.fields).join(", ")}`;
  }
}
