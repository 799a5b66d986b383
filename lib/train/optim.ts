/**
 * AdamW with decoupled weight decay, a cosine learning-rate schedule with
 * linear warmup and global-norm gradient clipping, written as pure functions
 * over the parameter tree so the whole update can live inside one `jit`.
 *
 * Weight decay applies to matrices only (attention/MLP projections and the
 * output layer), never to RMSNorm gains or the embedding tables
 * (see `isDecayed` in lib/model/transformer.ts); the model has no biases.
 *
 * @module
 */

import { numpy as np } from "@jax-js/jax";
import { type BlockParams, flattenNamed, isDecayed, type Params } from "../model/params.ts";

/** Optimizer hyperparameters (camelCase view of the `train` config section). */
export interface OptimConfig {
  /** Peak learning rate. */
  lr: number;
  /** Final learning rate of the cosine schedule. */
  minLr: number;
  /** Linear warmup steps (from lr/warmup to lr). */
  warmupSteps: number;
  /** Total optimizer steps (end of the cosine). */
  steps: number;
  /** Decoupled weight decay coefficient. */
  weightDecay: number;
  /** Adam beta1. */
  beta1: number;
  /** Adam beta2. */
  beta2: number;
  /** Adam epsilon. */
  eps: number;
  /** Global-norm clip threshold (<= 0 disables clipping). */
  clipNorm: number;
}

/** Adam moments, same tree shape as the parameters. */
export type OptState = { m: Params; v: Params };

/** Learning rate at optimizer step `step` (0-based): linear warmup, then cosine to minLr. */
export function lrAt(cfg: OptimConfig, step: number): number {
  if (cfg.warmupSteps > 0 && step < cfg.warmupSteps) return cfg.lr * (step + 1) / cfg.warmupSteps;
  const span = Math.max(1, cfg.steps - cfg.warmupSteps);
  const frac = Math.min(1, Math.max(0, (step - cfg.warmupSteps) / span));
  return cfg.minLr + 0.5 * (cfg.lr - cfg.minLr) * (1 + Math.cos(Math.PI * frac));
}

/** Bias corrections 1/(1-beta1^t), 1/(1-beta2^t) for optimizer step `step` (0-based, t = step+1). */
export function biasCorrections(cfg: OptimConfig, step: number): [number, number] {
  const t = step + 1;
  return [1 / (1 - Math.pow(cfg.beta1, t)), 1 / (1 - Math.pow(cfg.beta2, t))];
}

/** Apply `fn` leaf-wise to parameter-shaped trees, passing each leaf's dotted name; rebuilds the tree. */
export function mapParams<T, U>(
  fn: (name: string, ...leaves: T[]) => U,
  ...trees: {
    tok: T;
    pos: T;
    blocks: { ln1: T; wqkv: T; wo: T; ln2: T; w13: T; w2: T }[];
    lnf: T;
    head: T;
  }[]
): {
  tok: U;
  pos: U;
  blocks: { ln1: U; wqkv: U; wo: U; ln2: U; w13: U; w2: U }[];
  lnf: U;
  head: U;
} {
  const t0 = trees[0];
  const at = (pick: (t: typeof t0) => T, name: string) => fn(name, ...trees.map(pick));
  return {
    tok: at((t) => t.tok, "tok"),
    pos: at((t) => t.pos, "pos"),
    blocks: t0.blocks.map((_, l) => {
      const blk = {} as Record<keyof BlockParams, U>;
      for (const k of ["ln1", "wqkv", "wo", "ln2", "w13", "w2"] as const) {
        blk[k] = at((t) => t.blocks[l][k], `blocks.${l}.${k}`);
      }
      return blk;
    }),
    lnf: at((t) => t.lnf, "lnf"),
    head: at((t) => t.head, "head"),
  };
}

/** Zero moments for `params` (does not consume them). */
export function initOptState(params: Params): OptState {
  return {
    m: mapParams((_n, p) => np.zeros(p.shape), params) as Params,
    v: mapParams((_n, p) => np.zeros(p.shape), params) as Params,
  };
}

/** Global L2 norm of a gradient tree (does not consume it). */
export function globalNorm(grads: Params): np.Array {
  const sq = flattenNamed(grads).map(([, g]) => np.square(g.ref).sum());
  return np.sqrt(sq.reduce((a, b) => a.add(b)));
}

/**
 * One AdamW step (traceable; consumes params, grads and opt). `lr`, `bc1`,
 * `bc2` are scalar arrays so the compiled step is reused at every step. Returns
 * the new parameters and moments and the pre-clipping gradient norm.
 */
export function adamwUpdate(
  cfg: OptimConfig,
  params: Params,
  grads: Params,
  opt: OptState,
  lr: np.Array,
  bc1: np.Array,
  bc2: np.Array,
): { params: Params; opt: OptState; gnorm: np.Array } {
  const gnorm = globalNorm(grads);
  const clipScale = cfg.clipNorm > 0
    ? np.minimum(np.reciprocal(gnorm.ref.add(1e-6)).mul(cfg.clipNorm), 1)
    : np.ones([]);
  const b1 = cfg.beta1, b2 = cfg.beta2;
  const newM: Record<string, np.Array> = {};
  const newV: Record<string, np.Array> = {};
  const newP = mapParams(
    (name, p, g, m, v) => {
      const gc = g.mul(clipScale.ref);
      const m2 = m.mul(b1).add(gc.ref.mul(1 - b1));
      const v2 = v.mul(b2).add(np.square(gc).mul(1 - b2));
      const mhat = m2.ref.mul(bc1.ref);
      const vhat = v2.ref.mul(bc2.ref);
      newM[name] = m2;
      newV[name] = v2;
      let upd = mhat.div(np.sqrt(vhat).add(cfg.eps));
      if (isDecayed(name) && cfg.weightDecay > 0) upd = upd.add(p.ref.mul(cfg.weightDecay));
      return p.sub(upd.mul(lr.ref));
    },
    params,
    grads,
    opt.m,
    opt.v,
  ) as Params;
  clipScale.dispose();
  lr.dispose();
  bc1.dispose();
  bc2.dispose();
  return {
    params: newP,
    opt: {
      m: mapParams<np.Array, np.Array>((name) => newM[name], newP) as Params,
      v: mapParams<np.Array, np.Array>((name) => newV[name], newP) as Params,
    },
    gnorm,
  };
}

/** Read the `train` config section (snake_case) into an {@link OptimConfig}. */
export function optimConfigFrom(train: {
  lr: number;
  min_lr: number;
  warmup_steps: number;
  steps: number;
  weight_decay: number;
  beta1: number;
  beta2: number;
  adam_eps: number;
  clip_norm: number;
}): OptimConfig {
  return {
    lr: train.lr,
    minLr: train.min_lr,
    warmupSteps: train.warmup_steps,
    steps: train.steps,
    weightDecay: train.weight_decay,
    beta1: train.beta1,
    beta2: train.beta2,
    eps: train.adam_eps,
    clipNorm: train.clip_norm,
  };
}

/**
 * The factor global-norm clipping multiplies the gradients by: `clipNorm / (gnorm + 1e-6)` where
 * that is below 1, else 1 (also 1 when `clipNorm <= 0`, clipping off). A step is clipped when
 * it is below 1; the device step ({@link adamwUpdate}) computes the same expression.
 */
export function clipScale(clipNorm: number, gnorm: number): number {
  return clipNorm > 0 ? Math.min(clipNorm / (gnorm + 1e-6), 1) : 1;
}

/**
 * The same AdamW step as {@link adamwUpdate} on host arrays, in place (the
 * `blas` device): `grads` are first multiplied by `gradScale` (1/micro-batches),
 * then clipped to the global norm `clipNorm`. Returns the pre-clipping norm.
 */
export function adamwUpdateHost(
  cfg: OptimConfig,
  params: Record<string, Float32Array>,
  grads: Record<string, Float32Array>,
  m: Record<string, Float32Array>,
  v: Record<string, Float32Array>,
  step: number,
  gradScale = 1,
): number {
  let sq = 0;
  for (const g of Object.values(grads)) {
    let s = 0;
    for (let i = 0; i < g.length; i++) {
      const x = g[i] * gradScale;
      s += x * x;
    }
    sq += s;
  }
  const gnorm = Math.sqrt(sq);
  const clip = clipScale(cfg.clipNorm, gnorm);
  const lr = lrAt(cfg, step);
  const [bc1, bc2] = biasCorrections(cfg, step);
  const b1 = cfg.beta1, b2 = cfg.beta2, eps = cfg.eps;
  for (const name of Object.keys(params)) {
    const p = params[name], g = grads[name], mm = m[name], vv = v[name];
    const wd = isDecayed(name) ? cfg.weightDecay : 0;
    const gs = gradScale * clip;
    for (let i = 0; i < p.length; i++) {
      const gc = g[i] * gs;
      const m2 = mm[i] * b1 + gc * (1 - b1);
      const v2 = vv[i] * b2 + gc * gc * (1 - b2);
      mm[i] = m2;
      vv[i] = v2;
      p[i] = p[i] - lr * ((m2 * bc1) / (Math.sqrt(v2 * bc2) + eps) + wd * p[i]);
    }
  }
  return gnorm;
}
