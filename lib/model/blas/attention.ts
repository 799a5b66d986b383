/**
 * Attention layer of the `blas` device, from the normed input h to the residual after it:
 * qkv = h wqkv, per head P = softmax(q k^T / sqrt(hd) + key bias), O = P v, and
 * x1 = x + O wo, as one block of lib/model/transformer.ts. The projections are OpenBLAS
 * matmuls; scores, softmax and P v run per range of windows on the helper threads (ops
 * `attnF`, `attnI`, `attnR`, `attnB` of lib/model/native_worker.ts), in the C kernels where
 * they load, else in lib/model/native_kernels.ts. The backward pass returns the gradient of h
 * and adds those of wqkv and wo; the residual's gradient passes through unchanged.
 *
 * @module
 */

import {
  attentionBackward,
  attentionForward,
  attentionInfer,
  type AttnDims,
} from "../native_kernels.ts";
import { sab } from "../native_threads.ts";
import type { LayerContext } from "./context.ts";

/** The layer's weights: wqkv [D, 3D] (q | k | v, heads contiguous in each), wo [D, D]. */
export interface AttentionWeights {
  wqkv: Float32Array;
  wo: Float32Array;
}

/**
 * One layer's activations: input h [B, L, D], qkv [B, L, 3D], probabilities P [B, H, L, L]
 * (null: forward only, none kept) and head outputs O [B, L, D].
 */
export interface AttentionBuffers {
  h: Float32Array;
  qkv: Float32Array;
  P: Float32Array | null;
  O: Float32Array;
}

/** The key bias [B * L] of the softmax: 0 for a valid key, -1e9 for padding. */
export function keyBias(keyValid: Float32Array, bias: Float32Array, N: number): void {
  for (let n = 0; n < N; n++) bias[n] = (keyValid[n] - 1) * 1e9;
}

/** x1 [B, L, D] = x + attention(h) wo for B windows (forward only where `a.P` is null). */
export async function forward(
  ctx: LayerContext,
  p: AttentionWeights,
  a: AttentionBuffers,
  x: Float32Array,
  x1: Float32Array,
  bias: Float32Array,
  B: number,
  dims: AttnDims,
): Promise<void> {
  const { L, D } = dims, N = B * L, D3 = 3 * D, { blas, kernels: ck } = ctx;
  const { h, qkv, P, O } = a;
  blas.sgemm(false, false, N, D3, D, 1, h, 0, D, p.wqkv, 0, D3, 0, qkv, 0, D3);
  const op = P ? "attnF" : "attnI";
  if (ck) {
    await ctx.parallel(
      B,
      (lo, hi) => ck.attnFwd(qkv, P, O, bias, L, D, dims.H, lo, hi),
      { op, c: true, dims, qkv: sab(qkv), P: P ? sab(P) : null, O: sab(O), bias: sab(bias) },
    );
  } else if (!P) {
    const sc = ctx.scratch(L * L + L);
    await ctx.parallel(
      B,
      (lo, hi) => attentionInfer(blas, dims, qkv, sc, O, bias, lo, hi),
      { op, dims, qkv: sab(qkv), O: sab(O), bias: sab(bias) },
    );
  } else {
    await ctx.parallel(
      B,
      (lo, hi) => attentionForward(blas, dims, qkv, P, O, bias, lo, hi),
      { op, dims, qkv: sab(qkv), P: sab(P), O: sab(O), bias: sab(bias) },
    );
  }
  x1.set(x.subarray(0, N * D));
  blas.sgemm(false, false, N, D, D, 1, O, 0, D, p.wo, 0, D, 1, x1, 0, D);
}

/**
 * Forward only, for query row `i` of each window alone (all keys): returns x1 at those rows,
 * [B, D]. `a.O` is written at those rows only where the C kernels run (else everywhere).
 */
export async function forwardRow(
  ctx: LayerContext,
  p: AttentionWeights,
  a: AttentionBuffers,
  x: Float32Array,
  bias: Float32Array,
  B: number,
  dims: AttnDims,
  i: number,
): Promise<Float32Array> {
  const { L, D } = dims, N = B * L, D3 = 3 * D, { blas, kernels: ck } = ctx;
  const { h, qkv, O } = a;
  blas.sgemm(false, false, N, D3, D, 1, h, 0, D, p.wqkv, 0, D3, 0, qkv, 0, D3);
  if (ck) {
    await ctx.parallel(
      B,
      (lo, hi) => ck.attnRows(qkv, O, bias, L, D, dims.H, lo, hi, i, i + 1),
      { op: "attnR", c: true, dims, qkv: sab(qkv), O: sab(O), bias: sab(bias), i },
    );
  } else {
    const sc = ctx.scratch(L * L + L);
    await ctx.parallel(
      B,
      (lo, hi) => attentionInfer(blas, dims, qkv, sc, O, bias, lo, hi),
      { op: "attnI", dims, qkv: sab(qkv), O: sab(O), bias: sab(bias) },
    );
  }
  const x1 = new Float32Array(B * D), os = new Float32Array(B * D);
  for (let b = 0; b < B; b++) {
    const r = (b * L + i) * D;
    x1.set(x.subarray(r, r + D), b * D);
    os.set(O.subarray(r, r + D), b * D);
  }
  blas.sgemm(false, false, B, D, D, 1, os, 0, D, p.wo, 0, D, 1, x1, 0, D);
  return x1;
}

/**
 * Given dx1 [B, L, D], adds the gradients of wqkv and wo to `g` and writes that of h to `dh`;
 * `dO` [B, L, D] and `dqkv` [B, L, 3D] are scratch.
 */
export async function backward(
  ctx: LayerContext,
  p: AttentionWeights,
  g: AttentionWeights,
  a: AttentionBuffers,
  dx: Float32Array,
  dO: Float32Array,
  dqkv: Float32Array,
  dh: Float32Array,
  B: number,
  dims: AttnDims,
): Promise<void> {
  const { L, D } = dims, N = B * L, D3 = 3 * D, { blas, kernels: ck } = ctx;
  const { h, qkv, O } = a, P = a.P;
  if (!P) throw new Error("attention backward: the forward pass kept no probabilities");
  blas.sgemm(true, false, D, D, N, 1, O, 0, D, dx, 0, D, 1, g.wo, 0, D);
  blas.sgemm(false, true, N, D, D, 1, dx, 0, D, p.wo, 0, D, 0, dO, 0, D);
  const dP = ck ? null : ctx.scratch(L * L);
  await ctx.parallel(
    B,
    (lo, hi) =>
      ck
        ? ck.attnBwd(qkv, P, dO, dqkv, L, D, dims.H, lo, hi)
        : attentionBackward(blas, dims, qkv, P, dO, dqkv, dP!, lo, hi),
    { op: "attnB", c: ck !== null, dims, qkv: sab(qkv), P: sab(P), dO: sab(dO), dqkv: sab(dqkv) },
  );
  blas.sgemm(true, false, D, D3, N, 1, h, 0, D, dqkv, 0, D3, 1, g.wqkv, 0, D3);
  blas.sgemm(false, true, N, D, D3, 1, dqkv, 0, D3, p.wqkv, 0, D3, 0, dh, 0, D);
}
