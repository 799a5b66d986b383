/**
 * Memory of the blas device: the activation and scratch buffers of one batch size, their byte
 * count, and a clear error before an allocation would not fit.
 *
 * @module
 */

import { SLOTS_PER_FRAME } from "../data/types.ts";

import { batchSizeAdvice, type ModelConfig, OUT_COLS, seqLen } from "./model_config.ts";

/**
 * Float counts of the {@link Workspace} buffers for B windows: `xs` holds nLayers + 1
 * residuals, every `perLayer` buffer is allocated once per layer, `once` buffers once.
 * `forwardOnly`: the buffers only the backward pass reads have size 0 (and the caller
 * allocates two residuals and one buffer per `perLayer` name, see NativeModel).
 */
export function workspaceLayout(cfg: ModelConfig, B: number, forwardOnly = false) {
  const { dModel: D, nHeads: H, dFF: F, frames: K } = cfg;
  const L = seqLen(cfg), N = B * L, R = B * K * SLOTS_PER_FRAME;
  const t = forwardOnly ? 0 : 1; // 0 for what only training needs
  return {
    residual: N * D,
    perLayer: {
      // x1: residual after the block's attention; P: attention probabilities [B, H, L, L]
      x1: N * D,
      rstd1: N,
      rstd2: N,
      h1: N * D,
      h2: N * D,
      qkv: N * 3 * D,
      P: t * B * H * L * L,
      O: N * D,
      gu: N * 2 * F,
      sig: t * N * F,
      act: t * N * F,
    },
    once: {
      // final norm, logits and key bias; then backward scratch
      hf: R * D,
      rstdf: R,
      logits: R * OUT_COLS,
      bias: N,
      dxA: t * N * D,
      dxB: t * N * D,
      dh: t * N * D,
      dO: t * N * D,
      dqkv: t * N * 3 * D,
      dact: t * N * F,
      dgu: t * N * 2 * F,
      dlogits: t * R * OUT_COLS,
      dhf: t * R * D,
    },
  };
}

/**
 * Bytes of the activation and scratch buffers of one step of B windows (as allocated);
 * `forwardOnly`: of one forward pass of a forward-only model.
 */
export function nativeStepBytes(cfg: ModelConfig, B: number, forwardOnly = false): number {
  const { residual, perLayer, once } = workspaceLayout(cfg, B, forwardOnly);
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  if (forwardOnly) return 4 * (2 * residual + sum(perLayer) + sum(once));
  return 4 * ((cfg.nLayers + 1) * residual + cfg.nLayers * sum(perLayer) + sum(once));
}

/** Throw a clear error when a step (or forward pass) of B windows would not fit in this machine's memory. */
export function checkHostMemory(cfg: ModelConfig, B: number, forwardOnly: boolean): void {
  const bytes = (b: number) => nativeStepBytes(cfg, b, forwardOnly);
  const need = bytes(B);
  let total = Infinity;
  try {
    total = Deno.systemMemoryInfo().total;
  } catch { /* unknown: do not guess */ }
  if (need > 0.8 * total) {
    const what = `(d_model=${cfg.dModel}, ${cfg.nLayers} layers, ${seqLen(cfg)} positions) needs ` +
      `about ${(need / 2 ** 30).toFixed(1)} GiB of activations on the blas device, more than 80% ` +
      `of this machine's ${(total / 2 ** 30).toFixed(1)} GiB`;
    if (forwardOnly) {
      let fit = B;
      while (fit > 1 && bytes(fit) > 0.8 * total) fit = Math.floor(fit / 2);
      throw new Error(
        `a forward pass of ${B} windows of this model ${what}; pass at most ${fit} windows at a time ` +
          `(the predictor's chunk option)`,
      );
    }
    throw new Error(
      `train.batch_size=${B}: one training step of this model ${what}; ${
        batchSizeAdvice(B, 0.8 * total, bytes)
      }`,
    );
  }
}

/** Zeroed arrays shaped like `like` (gradient or moment buffers). */
