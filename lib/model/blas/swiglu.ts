/**
 * SwiGLU MLP layer of the `blas` device, from the normed input h to the residual after it:
 * [gate | up] = h w13, act = silu(gate) * up, x_out = x1 + act w2, as one block of
 * lib/model/transformer.ts. The matmuls are OpenBLAS; the elementwise SwiGLU runs per range
 * of positions on the helper threads (ops `swiF`, `swiI`, `swiB` of
 * lib/model/native_worker.ts), in the C kernels where they load, else in
 * lib/model/native_kernels.ts. The backward pass returns the gradient of h and adds those of
 * w13 and w2; the residual's gradient passes through unchanged.
 *
 * @module
 */

import { swigluBackward, swigluForward, swigluInfer } from "../native_kernels.ts";
import { sab } from "../native_threads.ts";
import type { LayerContext } from "./context.ts";

/** The layer's weights: w13 [D, 2F] (gate | up), w2 [F, D]. */
export interface SwigluWeights {
  w13: Float32Array;
  w2: Float32Array;
}

/**
 * One layer's activations: input h [N, D], gu [N, 2F], sigmoid(gate) and act [N, F] (both
 * null: forward only; act then overwrites the gate half of gu).
 */
export interface SwigluBuffers {
  h: Float32Array;
  gu: Float32Array;
  sig: Float32Array | null;
  act: Float32Array | null;
}

/** xo [N, D] = x1 + swiglu(h) w2 for N positions (forward only where `a.sig` is null). */
export async function forward(
  ctx: LayerContext,
  p: SwigluWeights,
  a: SwigluBuffers,
  x1: Float32Array,
  xo: Float32Array,
  N: number,
  F: number,
  D: number,
): Promise<void> {
  const F2 = 2 * F, { blas, kernels: ck } = ctx, { h, gu, sig, act } = a;
  const c = ck !== null;
  blas.sgemm(false, false, N, F2, D, 1, h, 0, D, p.w13, 0, F2, 0, gu, 0, F2);
  if (!sig || !act) {
    await ctx.parallel(
      N,
      (lo, hi) => ck ? ck.swigluInfer(gu, F, lo, hi) : swigluInfer(gu, F, lo, hi),
      { op: "swiI", c, gu: sab(gu), F },
    );
    xo.set(x1.subarray(0, N * D));
    blas.sgemm(false, false, N, D, F, 1, gu, 0, F2, p.w2, 0, D, 1, xo, 0, D);
    return;
  }
  await ctx.parallel(
    N,
    (lo, hi) => ck ? ck.swigluFwd(gu, sig, act, F, lo, hi) : swigluForward(gu, sig, act, F, lo, hi),
    { op: "swiF", c, gu: sab(gu), sig: sab(sig), act: sab(act), F },
  );
  xo.set(x1.subarray(0, N * D));
  blas.sgemm(false, false, N, D, F, 1, act, 0, F, p.w2, 0, D, 1, xo, 0, D);
}

/**
 * Given dx_out [N, D], adds the gradients of w13 and w2 to `g` and writes that of h to `dh`;
 * `dact` [N, F] and `dgu` [N, 2F] are scratch.
 */
export async function backward(
  ctx: LayerContext,
  p: SwigluWeights,
  g: SwigluWeights,
  a: SwigluBuffers,
  dx: Float32Array,
  dact: Float32Array,
  dgu: Float32Array,
  dh: Float32Array,
  N: number,
  F: number,
  D: number,
): Promise<void> {
  const F2 = 2 * F, { blas, kernels: ck } = ctx, { h, gu, sig, act } = a;
  if (!sig || !act) throw new Error("SwiGLU backward: the forward pass kept no activations");
  blas.sgemm(true, false, F, D, N, 1, act, 0, F, dx, 0, D, 1, g.w2, 0, D);
  blas.sgemm(false, true, N, F, D, 1, dx, 0, D, p.w2, 0, D, 0, dact, 0, F);
  await ctx.parallel(
    N,
    (lo, hi) =>
      ck
        ? ck.swigluBwd(gu, sig, dact, dgu, F, lo, hi)
        : swigluBackward(gu, sig, dact, dgu, F, lo, hi),
    { op: "swiB", c: ck !== null, gu: sab(gu), sig: sab(sig), dact: sab(dact), dgu: sab(dgu), F },
  );
  blas.sgemm(true, false, D, F2, N, 1, h, 0, D, dgu, 0, F2, 1, g.w13, 0, F2);
  blas.sgemm(false, true, N, D, F2, 1, dgu, 0, F2, p.w13, 0, F2, 0, dh, 0, D);
}
