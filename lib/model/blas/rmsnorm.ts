/**
 * RMSNorm layer of the `blas` device: y = x / sqrt(mean(x^2) + 1e-6) * g per row, as
 * lib/model/transformer.ts's `rmsNorm`, keeping 1/rms per row for the backward pass, which
 * adds the gradients of x and g to the caller's buffers (the residual stream's gradient
 * passes through the norm's input unchanged). The C kernels run it where they load, else
 * lib/model/native_kernels.ts.
 *
 * @module
 */

import { rmsNorm, rmsNormBack } from "../native_kernels.ts";
import type { LayerContext } from "./context.ts";

/** y [rows, D] = RMSNorm(x) * g; rstd [rows] = 1/rms of each row. */
export function forward(
  ctx: LayerContext,
  x: Float32Array,
  g: Float32Array,
  y: Float32Array,
  rstd: Float32Array,
  rows: number,
  D: number,
): void {
  if (ctx.kernels) ctx.kernels.rmsNorm(x, g, y, rstd, rows, D);
  else rmsNorm(x, g, y, rstd, rows, D);
}

/** Adds d(loss)/dx to `dx` and d(loss)/dg to `dg`, given dy and the forward's x and rstd. */
export function backward(
  ctx: LayerContext,
  x: Float32Array,
  rstd: Float32Array,
  g: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  dg: Float32Array,
  rows: number,
  D: number,
): void {
  if (ctx.kernels) ctx.kernels.rmsNormBack(x, rstd, g, dy, dx, dg, rows, D);
  else rmsNormBack(x, rstd, g, dy, dx, dg, rows, D);
}
