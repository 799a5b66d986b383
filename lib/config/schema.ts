/**
 * The experiment config schema, the single source of every config key: a small declarative tree
 * ({@link SCHEMA}) that the loader walks to fill defaults, reject unknown keys (with "did you
 * mean" hints), check types and ranges, and type `--set key=value` overrides by their target;
 * the TypeScript types of the resolved config ({@link Config} and one type per section) are
 * inferred from the same tree, so a key is declared once, here, with its default, range and doc.
 *
 * Keys are snake_case, exactly as in the YAML (see configs/base.yaml). The defaults here and in
 * configs/base.yaml are the same (a test checks it). Every stage takes its section's type from
 * this module (the bottom layer: it imports nothing from lib/).
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Schema nodes
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
  | {
    kind: "nullable";
    inner: SchemaNode;
    default: unknown;
    /** Null means "derive it" and the loader replaces it (the resolved value is never null). */
    derived?: boolean;
    doc?: string;
  }
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

// ---------------------------------------------------------------------------
// Typed node builders: each returns a node that carries the TypeScript type of its value
// ---------------------------------------------------------------------------

declare const VALUE: unique symbol;

/** A schema node that also carries the type `V` of the values it accepts (type-level only). */
export type Node<V> = SchemaNode & { readonly [VALUE]: V };

/** The type of the values a {@link Node} accepts. */
export type Infer<N> = N extends { readonly [VALUE]: infer V } ? V : never;

type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

type ObjectValue<F extends Record<string, Node<unknown>>, O extends keyof F> = Simplify<
  & { [K in Exclude<keyof F, O>]: Infer<F[K]> }
  & { [K in O]?: Infer<F[K]> }
>;

const typed = <V>(node: SchemaNode): Node<V> => node as Node<V>;

/** A number (`int`: whole; `min`/`max` inclusive, `gt`/`lt` exclusive bounds). */
const num = (
  d: number,
  o: { int?: boolean; min?: number; max?: number; gt?: number; lt?: number; doc?: string } = {},
): Node<number> => typed<number>({ kind: "number", default: d, ...o });
/** A whole number in [min, max]. */
const int = (d: number, min = 0, max?: number, doc?: string): Node<number> =>
  num(d, { int: true, min, max, doc });
/** A probability in [0, 1]. */
const prob = (d: number, doc?: string): Node<number> => num(d, { min: 0, max: 1, doc });
/** One of `values`. */
const en = <const V extends readonly string[]>(values: V, d: V[number], doc?: string) =>
  typed<V[number]>({ kind: "enum", values, default: d, doc });
const bool = (d: boolean, doc?: string): Node<boolean> =>
  typed<boolean>({ kind: "boolean", default: d, doc });
const str = (
  d: string,
  pattern: RegExp,
  patternDoc: string,
  doc?: string,
): Node<string> => typed<string>({ kind: "string", default: d, pattern, patternDoc, doc });
/** `inner`, or null. */
const nullable = <V>(inner: Node<V>, doc?: string): Node<V | null> =>
  typed<V | null>({ kind: "nullable", inner, default: null, doc });
/**
 * `inner`, or null in the YAML meaning "derive it": the loader replaces null before anyone reads
 * the config, so the resolved value has `inner`'s type.
 */
const derived = <V>(inner: Node<V>, doc?: string): Node<V> =>
  typed<V>({ kind: "nullable", inner, default: null, derived: true, doc });
const arr = <V>(item: Node<V>, d: V[], minItems?: number, doc?: string): Node<V[]> =>
  typed<V[]>({ kind: "array", item, default: d, minItems, doc });
/**
 * A mapping with exactly `fields`; keys in `optional` may be absent (no default filled in), keys
 * in `required` must be given (their default is not used).
 */
const obj = <F extends Record<string, Node<unknown>>, O extends keyof F & string = never>(
  fields: F,
  opts: { optional?: readonly O[]; required?: readonly (keyof F & string)[]; doc?: string } = {},
): Node<ObjectValue<F, O>> =>
  typed<ObjectValue<F, O>>({
    kind: "object",
    fields,
    optional: opts.optional,
    required: opts.required,
    doc: opts.doc,
  });

// ---------------------------------------------------------------------------
// Names the schema and the stages share
// ---------------------------------------------------------------------------

/** Strategy names accepted in `masking.strategy` (lib/masking implements each). */
export const STRATEGIES = [
  "cell",
  "attribute",
  "scheduled",
  "any_order",
  "next_action",
  "forward_dynamics",
  "inverse_dynamics",
  "unit",
  "unit_action",
  "mtm",
  "mixture",
] as const;

/** A strategy name. */
export type StrategyName = typeof STRATEGIES[number];

/** Loss normalisation modes accepted in `train.loss` (lib/train/loss.ts implements each). */
export const LOSS_MODES = ["mean", "elbo", "balanced"] as const;

/** A loss mode name. */
export type LossMode = typeof LOSS_MODES[number];

/** Model size preset names. */
export const MODEL_SIZES = ["tiny", "small", "base"] as const;

/** A model size preset name. */
export type ModelSize = typeof MODEL_SIZES[number];

/**
 * Size presets for `model.size` (explicit non-null `d_model`, `n_layers`, `n_heads`, `d_ff`
 * override them; {@link modelDims}). `small` is the first toolchain probe's model; `base` is 192
 * wide so that a batch fits in the wasm device's 4 GiB address space.
 */
export const MODEL_PRESETS: Readonly<
  Record<ModelSize, { d_model: number; n_layers: number; n_heads: number; d_ff: number }>
> = {
  tiny: { d_model: 32, n_layers: 2, n_heads: 2, d_ff: 64 },
  small: { d_model: 128, n_layers: 4, n_heads: 4, d_ff: 512 },
  base: { d_model: 192, n_layers: 6, n_heads: 6, d_ff: 768 },
};

/** Profile names. */
export const PROFILE_NAMES = ["smoke", "quick", "standard", "full"] as const;

/** A profile name. */
export type ProfileName = typeof PROFILE_NAMES[number];

const ENV_ID = /^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9_]+)*-v\d+$/;
const envId = () => str("", ENV_ID, "an env id like BabyAI-GoTo-v0");

const DATA = obj({
  dataset: str(
    "gotoredball-{profile}",
    /^[A-Za-z0-9{][A-Za-z0-9_.{}-]*$/,
    "letters, digits, '_', '-', '.'; {profile} is replaced by the profile name (it names a folder under data/)",
    "dataset name -> data/<dataset>/ ({profile} -> the profile name, `default` when none)",
  ),
  envs: arr(envId(), ["BabyAI-GoToRedBall-v0"], 1, "env ids collected for train/val/test"),
  test_envs: arr(
    envId(),
    [],
    undefined,
    "other env ids for zero-shot evaluation (multi-env study); empty = same as `envs`",
  ),
  policy: en(["bot", "noisy_bot", "random"], "bot", "collection policy"),
  epsilon: prob(0.1, "noisy_bot: probability of a random action"),
  episodes: obj({
    train: int(1000, 1, undefined, "training episodes per env id"),
    val: int(100, 0, undefined, "validation episodes per env id"),
    test: int(100, 0, undefined, "test episodes per env id"),
  }, { doc: "episodes per env id and split" }),
  seed: int(0, 0, undefined, "split seed: env seeds of each split derive from it, disjoint"),
  max_steps: nullable(int(0, 1), "cap on episode length (null = the env's own max_steps)"),
}, { doc: "which trajectories to collect (a dataset folder is keyed by it)" });

const WINDOW = obj({
  length: int(4, 1, 64, "K frames per window"),
  stride: int(1, 1, undefined, "frames between consecutive window ends"),
  mission_len: int(12, 1, 64, "M mission word positions"),
}, { doc: "how episodes are cut into training windows" });

const SCHEDULE = obj({
  base: en(["cell", "attribute"], "cell", "wrapped strategy"),
  from: prob(0.15, "p at position 0"),
  to: prob(0.5, "p at position >= over"),
  over: derived(num(10000, { gt: 0 }), "ramp length in `unit`s (null = train.steps)"),
  unit: en(["step", "epoch"], "step", "whether positions count optimizer steps or epochs"),
  shape: en(["linear", "cosine", "step"], "linear", "ramp shape"),
}, { doc: "for strategy `scheduled`" });

const MIXTURE_ENTRY = obj({
  strategy: en(
    STRATEGIES.filter((s): s is Exclude<StrategyName, "mixture"> => s !== "mixture"),
    "any_order",
    "component strategy (anything but `mixture`)",
  ),
  weight: num(1, { min: 0, doc: "relative weight (>= 0; not all 0)" }),
  ratio: prob(0.3, "overrides `masking.ratio` for this component"),
}, { optional: ["ratio"], required: ["strategy"] });

const MTM = obj({
  action_share: prob(0.75, "probability of the `action` mode (else `frame`)"),
  past_ratio: prob(0.15, "unit ratio of the frames before the drawn position"),
}, { doc: "for strategy `mtm` (random-autoregressive masks, lib/masking/units.ts)" });

const MASKING = obj({
  strategy: en(STRATEGIES, "cell", "masking strategy"),
  ratio: prob(0.3, "p for cell / attribute, and of each unit for unit / unit_action"),
  mask_dir_action: bool(true, "cell / attribute: also hide direction/action slots with p"),
  schedule: SCHEDULE,
  eps: num(0.001, { gt: 0, lt: 1, doc: "any_order: t ~ U(eps, 1)" }),
  t_sampling: en(
    ["uniform", "stratified"],
    "uniform",
    "any_order: t drawn independently per window, or stratified over the batch (window b's t in the b-th of B equal strata of (eps, 1))",
  ),
  mtm: MTM,
  context_frames: nullable(
    int(0, 0),
    "frames kept before each window's last valid frame (older ones become padding: never seen, never scored); null = all",
  ),
  mixture: arr(
    MIXTURE_ENTRY,
    [{ strategy: "any_order", weight: 0.5 }, { strategy: "next_action", weight: 0.5 }],
    1,
    "for strategy `mixture`",
  ),
});

const MODEL = obj({
  size: en(MODEL_SIZES, "small", "size preset"),
  d_model: nullable(int(128, 1), "residual width (null = preset)"),
  n_layers: nullable(int(4, 1), "transformer blocks (null = preset)"),
  n_heads: nullable(int(4, 1), "attention heads; must divide d_model (null = preset)"),
  d_ff: nullable(int(512, 1), "SwiGLU hidden size (null = preset)"),
  position: en(["learned"], "learned", "position embeddings: learned (time, cell, slot kind)"),
  mission_vocab: nullable(int(0, 2), "mission word vocabulary (null = the BabyAI vocabulary's)"),
});

const HEAD_WEIGHTS = obj({
  obj: num(1, { min: 0, doc: "object head" }),
  color: num(1, { min: 0, doc: "colour head" }),
  state: num(1, { min: 0, doc: "state head" }),
  dir: num(1, { min: 0, doc: "direction head" }),
  action: num(1, { min: 0, doc: "action head" }),
}, { doc: "per-head loss weights" });

const STAGE = obj({
  strategy: en(STRATEGIES, "next_action", "masking strategy of the stage"),
  share: num(0.5, { gt: 0, max: 1, doc: "fraction of train.steps (the shares sum to 1)" }),
  ratio: prob(0.3, "masking.ratio of the stage (default: the run's)"),
  loss: en(LOSS_MODES, "mean", "train.loss of the stage (default: the run's)"),
  context_frames: nullable(int(0, 0), "masking.context_frames of the stage (default: the run's)"),
}, { optional: ["ratio", "loss", "context_frames"], required: ["strategy", "share"] });

const TRAIN = obj({
  device: en(
    ["auto", "blas", "wasm", "webgpu"],
    "auto",
    "auto (blas if OpenBLAS loads, else wasm), blas (CPU, OpenBLAS), wasm (CPU, jax-js) or webgpu",
  ),
  batch_size: int(32, 1, undefined, "windows per micro-batch"),
  grad_accum: int(1, 1, undefined, "micro-batches per optimizer step"),
  steps: int(2000, 1, undefined, "optimizer steps"),
  lr: num(0.001, { gt: 0, doc: "peak learning rate" }),
  min_lr: num(0.0001, { min: 0, doc: "final learning rate of the cosine decay" }),
  warmup_steps: int(100, 0, undefined, "linear warmup steps"),
  weight_decay: num(0.01, { min: 0, doc: "AdamW decoupled weight decay" }),
  beta1: num(0.9, { min: 0, lt: 1, doc: "Adam beta1" }),
  beta2: num(0.98, { min: 0, lt: 1, doc: "Adam beta2" }),
  adam_eps: num(1e-8, { gt: 0, doc: "Adam epsilon" }),
  clip_norm: num(1.0, { min: 0, doc: "global gradient-norm clip (0 = off)" }),
  loss: en(
    LOSS_MODES,
    "balanced",
    "mean (over hidden slots) | elbo (1/t weights over valid slots, any_order) | balanced (per window and head: each head's mean, weighted by head_weights; lib/train/loss.ts)",
  ),
  head_weights: HEAD_WEIGHTS,
  stages: arr(
    STAGE,
    [],
    undefined,
    "multi-stage training (lib/train/stages.ts): each stage trains share x train.steps steps with its own masking, from the previous stage's weights (fresh optimizer and schedule); empty = one stage with the run's masking",
  ),
  log_every: int(10, 1, undefined, "steps between train log records"),
  eval_every: int(200, 1, undefined, "steps between validation passes"),
  eval_batches: int(8, 0, undefined, "validation batches per pass"),
  ckpt_every: int(200, 1, undefined, "steps between checkpoints"),
  keep_last: int(2, 1, undefined, "checkpoints kept"),
});

const CLOSED_LOOP = obj({
  episodes: int(50, 0, undefined, "episodes per env id"),
  greedy: bool(true, "argmax actions (else sample)"),
  max_steps: nullable(int(0, 1), "episode length cap (null = the env's own)"),
}, { doc: "closed-loop rollouts" });

const EVAL = obj({
  obs_mask_ratio: prob(0.3, "random-cell eval mask ratio"),
  elbo_ts: arr(
    num(0.5, { gt: 0, max: 1 }),
    [0.1, 0.3, 0.5, 0.7, 0.9],
    1,
    "mask ratios t at which the ELBO is estimated",
  ),
  decode_steps: int(4, 1, undefined, "iterative low-confidence remasking steps (next frame)"),
  closed_loop: CLOSED_LOOP,
  robustness_q: arr(prob(0), [0, 0.1, 0.2, 0.3, 0.4, 0.5], undefined, "extra hidden fractions q"),
  noise_rho: arr(
    prob(0.1),
    [0.1, 0.2, 0.3],
    undefined,
    "observation-noise fractions rho: that share of observation tokens replaced by random valid tokens (offline and closed loop)",
  ),
  finetune_demos: arr(
    int(0, 0),
    [0, 10],
    undefined,
    "multi-env: k demos per test env (0 = zero-shot)",
  ),
  finetune_steps: int(100, 0, undefined, "multi-env: fine-tuning steps"),
  over_training: int(
    0,
    0,
    undefined,
    "observation NLL and closed-loop success at the last N kept checkpoints (0 = off; needs train.keep_last >= N)",
  ),
});

/** The experiment schema (top level of an experiment YAML, without `extends`/`profiles`). */
export const SCHEMA = obj({
  name: str(
    "experiment",
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    "letters, digits, '_', '-', '.' (it names a folder under runs/)",
    "experiment name -> runs/<name>/",
  ),
  seed: int(0, 0, undefined, "master seed (initialisation, masks, shuffles)"),
  profile: nullable(en(PROFILE_NAMES, "quick"), "the profile that was applied (null = none)"),
  data: DATA,
  window: WINDOW,
  masking: MASKING,
  model: MODEL,
  train: TRAIN,
  eval: EVAL,
});

// ---------------------------------------------------------------------------
// The types of a resolved config, inferred from the schema
// ---------------------------------------------------------------------------

/** A resolved, validated experiment config (extends/profiles applied and removed). */
export type Config = Infer<typeof SCHEMA>;
/** The `data` section: which trajectories to collect. */
export type DataConfig = Config["data"];
/** Episodes per env id for each split. */
export type EpisodeCounts = DataConfig["episodes"];
/** The `window` section: how episodes are cut into windows. */
export type WindowConfig = Config["window"];
/** The `masking` section. */
export type MaskingConfig = Config["masking"];
/** The `masking.schedule` section (`over` filled in at load time). */
export type ScheduleConfig = MaskingConfig["schedule"];
/** One component of `masking.mixture`. */
export type MixtureEntry = MaskingConfig["mixture"][number];
/** The `model` section (the YAML's; lib/model resolves it into its own runtime shape). */
export type ModelSection = Config["model"];
/** The `train` section. */
export type TrainConfig = Config["train"];
/** Per-head loss weights (`train.head_weights`). */
export type HeadWeights = TrainConfig["head_weights"];
/** The `eval` section. */
export type EvalConfig = Config["eval"];
/** The `eval.closed_loop` section. */
export type ClosedLoopConfig = EvalConfig["closed_loop"];

/** The four model sizes of a model section: the preset, overridden by explicit keys. */
export function modelDims(
  model: Pick<ModelSection, "size" | "d_model" | "n_layers" | "n_heads" | "d_ff">,
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

/**
 * The default value of a schema node (objects: all non-optional fields filled in). With
 * `resolveDerived`, a `derived` null is given its inner node's default instead (what the stages
 * see outside the loader, which derives it from other keys).
 */
export function schemaDefault(node: SchemaNode, opts: { resolveDerived?: boolean } = {}): unknown {
  if (opts.resolveDerived && node.kind === "nullable" && node.derived) {
    return schemaDefault(node.inner, opts);
  }
  if (node.kind === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(node.fields)) {
      if (node.optional?.includes(k)) continue;
      out[k] = schemaDefault(f, opts);
    }
    return out;
  }
  return structuredClone(node.default);
}

/**
 * The default of a config section as the stages see it outside the loader: every default filled
 * in, and a `derived` null (e.g. `masking.schedule.over`, train.steps when loaded) given its own
 * default instead.
 */
export function sectionDefault<K extends keyof Config>(key: K): Config[K] {
  const root: SchemaNode = SCHEMA;
  if (root.kind !== "object") throw new Error("the config schema's root must be a mapping");
  return schemaDefault(root.fields[key], { resolveDerived: true }) as Config[K];
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
