/**
 * Embedding layer of the `blas` device: each position's input is the sum of its token rows
 * and its position rows (lib/model/transformer.ts writes the same lookups as multi-hot
 * matmuls), and the backward pass scatter-adds the gradient of the residual stream into
 * those rows. The C kernels do both where they load; the loops below are their JavaScript twin.
 *
 * @module
 */

import type { LayerContext } from "./context.ts";

/** The embedding tables: token rows [tokRows, D] and position rows [posRows, D]. */
export interface EmbedWeights {
  tok: Float32Array;
  pos: Float32Array;
}

/**
 * x0 [B, L, D] = sum of the token rows `ti` [B, L, 3] and of the position rows `pi` [L, 3]
 * (-1 = none) of each position. Throws on a token row outside the table.
 */
export function forward(
  ctx: LayerContext,
  p: EmbedWeights,
  ti: Int32Array,
  pi: Int32Array,
  x0: Float32Array,
  B: number,
  L: number,
  D: number,
): void {
  checkRows(ti, p.tok.length / D, "token");
  const { tok, pos } = p;
  if (ctx.kernels) return ctx.kernels.embedFwd(tok, pos, ti, pi, x0, B, L, D);
  for (let b = 0; b < B; b++) {
    for (let l = 0; l < L; l++) {
      const n = b * L + l, o = n * D;
      for (let i = 0; i < D; i++) x0[o + i] = 0;
      for (let j = 0; j < 3; j++) {
        const r = ti[n * 3 + j];
        if (r >= 0) { for (let i = 0, ro = r * D; i < D; i++) x0[o + i] += tok[ro + i]; }
      }
      for (let j = 0; j < 3; j++) {
        const r = pi[l * 3 + j];
        if (r >= 0) { for (let i = 0, ro = r * D; i < D; i++) x0[o + i] += pos[ro + i]; }
      }
    }
  }
}

/** Adds the gradient of the tables to `g`, given dx0 [B, L, D]. */
export function backward(
  ctx: LayerContext,
  dx: Float32Array,
  ti: Int32Array,
  pi: Int32Array,
  g: EmbedWeights,
  B: number,
  L: number,
  D: number,
): void {
  const gt = g.tok, gp = g.pos;
  if (ctx.kernels) return ctx.kernels.embedBwd(dx, ti, pi, gt, gp, B, L, D);
  for (let b = 0; b < B; b++) {
    for (let l = 0; l < L; l++) {
      const n = b * L + l, o = n * D;
      for (let j = 0; j < 3; j++) {
        const r = ti[n * 3 + j];
        if (r >= 0) { for (let i = 0, ro = r * D; i < D; i++) gt[ro + i] += dx[o + i]; }
        const q = pi[l * 3 + j];
        if (q >= 0) { for (let i = 0, ro = q * D; i < D; i++) gp[ro + i] += dx[o + i]; }
      }
    }
  }
}

function checkRows(idx: Int32Array, rows: number, what: string): void {
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] >= rows) {
      throw new Error(`${what} row ${idx[i]} is outside the embedding table (${rows} rows)`);
    }
  }
}
