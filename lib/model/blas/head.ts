/**
 * Output layer and loss of the `blas` device: the final RMSNorm over the frame positions of
 * each window (mission positions have no outputs), the linear head to the 32 logit columns of
 * the five heads, and the weighted cross-entropy of lib/train/loss.ts with its per-head
 * statistics; the backward pass goes from the loss to the gradient of the last residual stream
 * (zero at mission positions), adding those of the head and the norm gain. The loss is a plain
 * loop; the matmuls are OpenBLAS.
 *
 * @module
 */

import { CELLS, type HostTargets, SLOTS_PER_FRAME } from "../../data/types.ts";
import type { HeadWeights } from "../../config/schema.ts";
import { HEAD_COLS, OUT_COLS } from "../model_config.ts";
import { fexp } from "../native_kernels.ts";
import type { LayerContext } from "./context.ts";
import * as rmsnorm from "./rmsnorm.ts";

/** The layer's weights: the final norm gain lnf [D] and the head [D, 32]. */
export interface OutputWeights {
  lnf: Float32Array;
  head: Float32Array;
}

/** Sizes: B windows of L positions, the first M of them mission positions, K frames. */
export interface HeadDims {
  B: number;
  L: number;
  M: number;
  K: number;
  D: number;
}

/** Result of the loss. */
export interface NativeLoss {
  /** The training loss of the batch. */
  loss: number;
  /** Per head (obj, color, state, dir, action): [sum CE over hidden slots, sum correct], flat [10]. */
  aux: Float64Array;
}

/** Head layout of the loss: output columns, and where targets/masks live. */
const LOSS_HEADS = [
  { key: "obj", cols: HEAD_COLS.obj, attr: 0 },
  { key: "color", cols: HEAD_COLS.color, attr: 1 },
  { key: "state", cols: HEAD_COLS.state, attr: 2 },
  { key: "dir", cols: HEAD_COLS.dir, attr: -1 },
  { key: "action", cols: HEAD_COLS.action, attr: -1 },
] as const;

/** logits [rows, 32] = h [rows, D] head. */
export function project(
  ctx: LayerContext,
  head: Float32Array,
  h: Float32Array,
  logits: Float32Array,
  rows: number,
  D: number,
): void {
  ctx.blas.sgemm(
    false,
    false,
    rows,
    OUT_COLS,
    D,
    1,
    h,
    0,
    D,
    head,
    0,
    OUT_COLS,
    0,
    logits,
    0,
    OUT_COLS,
  );
}

/**
 * logits [B, K * 51, 32] of the last residual x [B, L, D]: hf = RMSNorm(x) * lnf at frame
 * positions (rstdf [B * K * 51] keeps 1/rms), then hf head.
 */
export function forward(
  ctx: LayerContext,
  p: OutputWeights,
  x: Float32Array,
  hf: Float32Array,
  rstdf: Float32Array,
  logits: Float32Array,
  d: HeadDims,
): void {
  const { B, L, M, D } = d, FS = d.K * SLOTS_PER_FRAME;
  for (let b = 0; b < B; b++) {
    rmsnorm.forward(
      ctx,
      x.subarray((b * L + M) * D, (b + 1) * L * D),
      p.lnf,
      hf.subarray(b * FS * D, (b + 1) * FS * D),
      rstdf.subarray(b * FS, (b + 1) * FS),
      FS,
      D,
    );
  }
  project(ctx, p.head, hf, logits, B * FS, D);
}

/**
 * The weighted cross-entropy loss of logits [B, K * 51, 32] and its per-head statistics;
 * with `dlogits`, writes d(loss)/d(logits) there.
 */
export function loss(
  logits: Float32Array,
  dlogits: Float32Array | null,
  t: HostTargets,
  W: HeadWeights,
  B: number,
  K: number,
): NativeLoss {
  const S = SLOTS_PER_FRAME, R = B * K * S, lg = logits, dl = dlogits;
  const aux = new Float64Array(10);
  let total = 0;
  if (dl) dl.fill(0);
  for (let r = 0; r < R; r++) {
    const f = Math.floor(r / S), s = r - f * S, b = Math.floor(f / K);
    for (let hIdx = 0; hIdx < 5; hIdx++) {
      const head = LOSS_HEADS[hIdx];
      let tgt: number, m: number;
      if (head.attr >= 0) {
        if (s >= CELLS) continue;
        const i = (f * CELLS + s) * 3 + head.attr;
        tgt = t.cells[i];
        m = t.mCells[i];
      } else if (hIdx === 3) {
        if (s !== CELLS) continue;
        tgt = t.dirs[f];
        m = t.mDirs[f];
      } else {
        if (s !== CELLS + 1) continue;
        tgt = t.actions[f];
        m = t.mActions[f];
      }
      if (m === 0) continue; // contributes 0 to loss, statistics and gradient
      const lo = r * OUT_COLS + head.cols[0], V = head.cols[1] - head.cols[0];
      let mx = -Infinity, arg = 0;
      for (let c = 0; c < V; c++) if (lg[lo + c] > mx) (mx = lg[lo + c], arg = c);
      let z = 0;
      for (let c = 0; c < V; c++) z += fexp(lg[lo + c] - mx);
      const lse = mx + Math.log(z);
      const picked = tgt >= 0 && tgt < V ? lg[lo + tgt] : 0;
      const ce = lse - picked;
      aux[hIdx * 2] += ce * m;
      aux[hIdx * 2 + 1] += (arg === tgt ? 1 : 0) * m;
      const w = W[head.key] * m * t.winW[b * 5 + hIdx]; // (window, head) factor
      total += w * ce;
      if (dl && w !== 0) {
        const inv = 1 / z;
        for (let c = 0; c < V; c++) {
          dl[lo + c] = w * (fexp(lg[lo + c] - mx) * inv - (c === tgt ? 1 : 0));
        }
      }
    }
  }
  return { loss: total, aux };
}

/**
 * Given dlogits, adds the gradients of lnf and the head to `g` and writes that of the last
 * residual to `dx` [B, L, D] (overwritten: zero at mission positions); `dhf` is scratch.
 */
export function backward(
  ctx: LayerContext,
  p: OutputWeights,
  g: OutputWeights,
  x: Float32Array,
  hf: Float32Array,
  rstdf: Float32Array,
  dlogits: Float32Array,
  dhf: Float32Array,
  dx: Float32Array,
  d: HeadDims,
): void {
  const { B, L, M, D } = d, FS = d.K * SLOTS_PER_FRAME, blas = ctx.blas, R = B * FS;
  blas.sgemm(
    true,
    false,
    D,
    OUT_COLS,
    R,
    1,
    hf,
    0,
    D,
    dlogits,
    0,
    OUT_COLS,
    1,
    g.head,
    0,
    OUT_COLS,
  );
  blas.sgemm(
    false,
    true,
    R,
    D,
    OUT_COLS,
    1,
    dlogits,
    0,
    OUT_COLS,
    p.head,
    0,
    OUT_COLS,
    0,
    dhf,
    0,
    D,
  );
  dx.fill(0);
  for (let b = 0; b < B; b++) {
    rmsnorm.backward(
      ctx,
      x.subarray((b * L + M) * D, (b + 1) * L * D),
      rstdf.subarray(b * FS, (b + 1) * FS),
      p.lnf,
      dhf.subarray(b * FS * D, (b + 1) * FS * D),
      dx.subarray((b * L + M) * D, (b + 1) * L * D),
      g.lnf,
      FS,
      D,
    );
  }
}
