/**
 * The same transformer and loss as lib/model/transformer.ts + lib/train/loss.ts,
 * with a hand-written backward pass on host Float32Arrays: the matmuls go to
 * OpenBLAS (lib/model/blas.ts, all cores), the rest (embedding gather, RMSNorm,
 * softmax, SwiGLU, cross-entropy) are plain loops on the main thread. This is
 * the `blas` training device: on a CPU the engine's wasm matmul kernels reach
 * ~30-45 GFLOP/s on 2 cores, OpenBLAS 110-180.
 *
 * The jax-js model stays the reference: tests/native_test.ts checks that loss,
 * per-head statistics and every gradient here equal `valueAndGrad(lossFn)` on
 * the wasm device to float32 tolerance. Evaluation and rollouts use the jax-js
 * forward pass with the same parameters (same names and shapes).
 *
 * Activations of the forward pass are kept per layer for the backward pass, in
 * buffers allocated once per batch size and reused every step.
 *
 * @module
 */

import { CELLS, SLOTS_PER_FRAME } from "../data/types.ts";
import type { HeadWeights, HostTargets } from "../train/loss.ts";
import { type Blas, loadBlas } from "./blas.ts";
import {
  HEAD_COLS,
  type HostInputs,
  type ModelConfig,
  OUT_COLS,
  positionIndex,
  posRows,
  seqLen,
  tokRows,
} from "./transformer.ts";

/** Parameters (or gradients, or moments) by dotted name, as flat float32 arrays. */
export type NamedArrays = Record<string, Float32Array>;

// --- exp: Cody-Waite reduction + degree-8 Taylor polynomial (max relative error ~1e-7,
// float32 rounding level), ~2.3x faster than Math.exp in V8.
const POW2 = new Float64Array(301);
for (let k = -150; k <= 150; k++) POW2[k + 150] = Math.pow(2, k);
const LOG2E = 1.4426950408889634, LN2 = 0.6931471805599453;
function fexp(x: number): number {
  if (x < -88) return 0; // below float32's normal range (the engine's exp gives 0 there too)
  if (x > 88) return Infinity;
  const k = Math.floor(x * LOG2E + 0.5);
  const r = x - k * LN2;
  return (1 + r * (1 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 +
    r * (0.008333333333333333 + r * (0.001388888888888889 + r * 0.0001984126984126984))))))) *
    POW2[k + 150];
}

/** Head layout of the loss: output columns, and where targets/masks live. */
const LOSS_HEADS = [
  { key: "obj", cols: HEAD_COLS.obj, attr: 0 },
  { key: "color", cols: HEAD_COLS.color, attr: 1 },
  { key: "state", cols: HEAD_COLS.state, attr: 2 },
  { key: "dir", cols: HEAD_COLS.dir, attr: -1 },
  { key: "action", cols: HEAD_COLS.action, attr: -1 },
] as const;

interface Workspace {
  B: number;
  /** Residual stream before each block and after the last: nLayers + 1 of [N, D]. */
  xs: Float32Array[];
  /** Residual after each block's attention, [N, D]. */
  x1: Float32Array[];
  rstd1: Float32Array[];
  rstd2: Float32Array[];
  h1: Float32Array[];
  h2: Float32Array[];
  qkv: Float32Array[];
  /** Attention probabilities, [B, H, L, L]. */
  P: Float32Array[];
  O: Float32Array[];
  gu: Float32Array[];
  sig: Float32Array[];
  act: Float32Array[];
  hf: Float32Array;
  rstdf: Float32Array;
  logits: Float32Array;
  bias: Float32Array;
  // backward scratch
  dxA: Float32Array;
  dxB: Float32Array;
  dh: Float32Array;
  dO: Float32Array;
  dqkv: Float32Array;
  dact: Float32Array;
  dgu: Float32Array;
  dP: Float32Array;
  dlogits: Float32Array;
  dhf: Float32Array;
}

/** Result of one forward (+ backward) pass. */
export interface NativeLoss {
  /** The training loss of the batch. */
  loss: number;
  /** Per head (obj, color, state, dir, action): [sum CE over hidden slots, sum correct], flat [10]. */
  aux: Float64Array;
}

/** The model on host arrays with an OpenBLAS backward pass. */
export class NativeModel {
  readonly cfg: ModelConfig;
  readonly weights: HeadWeights;
  readonly blas: Blas;
  private posIdx: Int32Array;
  private ws: Workspace | null = null;

  constructor(cfg: ModelConfig, weights: HeadWeights, blas: Blas = loadBlas()) {
    this.cfg = cfg;
    this.weights = weights;
    this.blas = blas;
    this.posIdx = positionIndex(cfg);
  }

  /** Release the activation buffers (they are rebuilt on the next call). */
  dispose(): void {
    this.ws = null;
  }

  private workspace(B: number): Workspace {
    if (this.ws && this.ws.B === B) return this.ws;
    this.ws = null; // let the old buffers go before allocating new ones
    const { dModel: D, nLayers: nl, nHeads: H, dFF: F, frames: K } = this.cfg;
    const L = seqLen(this.cfg), N = B * L, R = B * K * SLOTS_PER_FRAME;
    const f = (n: number) => new Float32Array(n);
    const per = (n: number) => Array.from({ length: nl }, () => f(n));
    this.ws = {
      B,
      xs: Array.from({ length: nl + 1 }, () => f(N * D)),
      x1: per(N * D),
      rstd1: per(N),
      rstd2: per(N),
      h1: per(N * D),
      h2: per(N * D),
      qkv: per(N * 3 * D),
      P: per(B * H * L * L),
      O: per(N * D),
      gu: per(N * 2 * F),
      sig: per(N * F),
      act: per(N * F),
      hf: f(R * D),
      rstdf: f(R),
      logits: f(R * OUT_COLS),
      bias: f(N),
      dxA: f(N * D),
      dxB: f(N * D),
      dh: f(N * D),
      dO: f(N * D),
      dqkv: f(N * 3 * D),
      dact: f(N * F),
      dgu: f(N * 2 * F),
      dP: f(L * L),
      dlogits: f(R * OUT_COLS),
      dhf: f(R * D),
    };
    return this.ws;
  }

  /**
   * Loss and per-head statistics of a batch; with `grads`, also adds the
   * gradient of the loss to `grads` (same names as the parameters; the caller
   * zeroes them). Does not modify `params`.
   */
  run(
    params: NamedArrays,
    inputs: HostInputs,
    targets: HostTargets,
    grads: NamedArrays | null,
  ): NativeLoss {
    const ws = this.workspace(inputs.B);
    this.forward(params, inputs, ws);
    const out = this.loss(targets, ws, grads !== null);
    if (grads) this.backward(params, inputs, ws, grads);
    return out;
  }

  /** Logits [B, K, 51, 32] of a batch (a copy; for checks against the jax-js forward pass). */
  logits(params: NamedArrays, inputs: HostInputs): Float32Array {
    const ws = this.workspace(inputs.B);
    this.forward(params, inputs, ws);
    return ws.logits.slice();
  }

  private forward(p: NamedArrays, inp: HostInputs, ws: Workspace): void {
    const { dModel: D, nLayers: nl, nHeads: H, dFF: F, frames: K, missionLen: M } = this.cfg;
    const B = inp.B, L = seqLen(this.cfg), N = B * L, S = SLOTS_PER_FRAME;
    const hd = D / H, D3 = 3 * D, F2 = 2 * F, scale = 1 / Math.sqrt(hd);
    const blas = this.blas;
    checkRows(inp.tok, tokRows(this.cfg), "token");
    // Embedding: sum of token rows + sum of position rows.
    const x0 = ws.xs[0], tok = p.tok, pos = p.pos, ti = inp.tok, pi = this.posIdx;
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        const n = b * L + l, o = n * D;
        for (let i = 0; i < D; i++) x0[o + i] = 0;
        for (let j = 0; j < 3; j++) {
          const r = ti[n * 3 + j];
          if (r >= 0) for (let i = 0, ro = r * D; i < D; i++) x0[o + i] += tok[ro + i];
        }
        for (let j = 0; j < 3; j++) {
          const r = pi[l * 3 + j];
          if (r >= 0) for (let i = 0, ro = r * D; i < D; i++) x0[o + i] += pos[ro + i];
        }
      }
    }
    const bias = ws.bias;
    for (let n = 0; n < N; n++) bias[n] = (inp.keyValid[n] - 1) * 1e9;
    for (let l = 0; l < nl; l++) {
      const pre = `blocks.${l}.`;
      const x = ws.xs[l], h1 = ws.h1[l], qkv = ws.qkv[l], P = ws.P[l], O = ws.O[l];
      rmsNorm(x, p[pre + "ln1"], h1, ws.rstd1[l], N, D);
      blas.sgemm(false, false, N, D3, D, 1, h1, 0, D, p[pre + "wqkv"], 0, D3, 0, qkv, 0, D3);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const qOff = b * L * D3 + h * hd, pOff = (b * H + h) * L * L;
          // scores = (scale q) k^T
          blas.sgemm(false, true, L, L, hd, scale, qkv, qOff, D3, qkv, qOff + D, D3, 0, P, pOff, L);
          softmaxRows(P, pOff, L, bias, b * L);
          blas.sgemm(false, false, L, hd, L, 1, P, pOff, L, qkv, qOff + 2 * D, D3, 0, O, b * L * D + h * hd, D);
        }
      }
      const x1 = ws.x1[l];
      x1.set(x);
      blas.sgemm(false, false, N, D, D, 1, O, 0, D, p[pre + "wo"], 0, D, 1, x1, 0, D);
      const h2 = ws.h2[l], gu = ws.gu[l], sig = ws.sig[l], act = ws.act[l];
      rmsNorm(x1, p[pre + "ln2"], h2, ws.rstd2[l], N, D);
      blas.sgemm(false, false, N, F2, D, 1, h2, 0, D, p[pre + "w13"], 0, F2, 0, gu, 0, F2);
      for (let n = 0; n < N; n++) {
        const go = n * F2, ao = n * F;
        for (let i = 0; i < F; i++) {
          const g = gu[go + i];
          const s = 1 / (1 + fexp(-g));
          sig[ao + i] = s;
          act[ao + i] = g * s * gu[go + F + i];
        }
      }
      const xo = ws.xs[l + 1];
      xo.set(x1);
      blas.sgemm(false, false, N, D, F, 1, act, 0, F, p[pre + "w2"], 0, D, 1, xo, 0, D);
    }
    // Final norm over frame positions (mission positions have no outputs), then the head.
    const xL = ws.xs[nl], hf = ws.hf, lnf = p.lnf, rstdf = ws.rstdf;
    const FS = K * S;
    for (let b = 0; b < B; b++) {
      rmsNorm(xL.subarray((b * L + M) * D, (b + 1) * L * D), lnf, hf.subarray(b * FS * D, (b + 1) * FS * D), rstdf.subarray(b * FS, (b + 1) * FS), FS, D);
    }
    blas.sgemm(false, false, B * FS, OUT_COLS, D, 1, hf, 0, D, p.head, 0, OUT_COLS, 0, ws.logits, 0, OUT_COLS);
  }

  private loss(t: HostTargets, ws: Workspace, withGrad: boolean): NativeLoss {
    const { frames: K } = this.cfg;
    const S = SLOTS_PER_FRAME, B = ws.B, R = B * K * S;
    const lg = ws.logits, dl = ws.dlogits, W = this.weights;
    const aux = new Float64Array(10);
    let loss = 0;
    if (withGrad) dl.fill(0);
    for (let r = 0; r < R; r++) {
      const f = Math.floor(r / S), s = r - f * S, b = Math.floor(f / K);
      const ww = t.winW[b];
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
        const w = W[head.key] * m * ww;
        loss += w * ce;
        if (withGrad && w !== 0) {
          const inv = 1 / z;
          for (let c = 0; c < V; c++) {
            dl[lo + c] = w * (fexp(lg[lo + c] - mx) * inv - (c === tgt ? 1 : 0));
          }
        }
      }
    }
    return { loss, aux };
  }

  private backward(p: NamedArrays, inp: HostInputs, ws: Workspace, g: NamedArrays): void {
    const { dModel: D, nLayers: nl, nHeads: H, dFF: F, frames: K, missionLen: M } = this.cfg;
    const B = inp.B, L = seqLen(this.cfg), N = B * L, S = SLOTS_PER_FRAME, FS = K * S;
    const hd = D / H, D3 = 3 * D, F2 = 2 * F, scale = 1 / Math.sqrt(hd);
    const blas = this.blas;
    // Head and final norm.
    blas.sgemm(true, false, D, OUT_COLS, B * FS, 1, ws.hf, 0, D, ws.dlogits, 0, OUT_COLS, 1, g.head, 0, OUT_COLS);
    blas.sgemm(false, true, B * FS, D, OUT_COLS, 1, ws.dlogits, 0, OUT_COLS, p.head, 0, OUT_COLS, 0, ws.dhf, 0, D);
    let dx = ws.dxA, dxNext = ws.dxB;
    dx.fill(0);
    const xL = ws.xs[nl];
    for (let b = 0; b < B; b++) {
      rmsNormBack(
        xL.subarray((b * L + M) * D, (b + 1) * L * D),
        ws.rstdf.subarray(b * FS, (b + 1) * FS),
        p.lnf,
        ws.dhf.subarray(b * FS * D, (b + 1) * FS * D),
        dx.subarray((b * L + M) * D, (b + 1) * L * D),
        g.lnf,
        FS,
        D,
      );
    }
    for (let l = nl - 1; l >= 0; l--) {
      const pre = `blocks.${l}.`;
      // MLP: x_out = x1 + act @ w2.
      const act = ws.act[l], sig = ws.sig[l], gu = ws.gu[l], dact = ws.dact, dgu = ws.dgu;
      blas.sgemm(true, false, F, D, N, 1, act, 0, F, dx, 0, D, 1, g[pre + "w2"], 0, D);
      blas.sgemm(false, true, N, F, D, 1, dx, 0, D, p[pre + "w2"], 0, D, 0, dact, 0, F);
      for (let n = 0; n < N; n++) {
        const go = n * F2, ao = n * F;
        for (let i = 0; i < F; i++) {
          const gg = gu[go + i], u = gu[go + F + i], s = sig[ao + i], da = dact[ao + i];
          dgu[go + i] = da * u * s * (1 + gg * (1 - s));
          dgu[go + F + i] = da * gg * s;
        }
      }
      blas.sgemm(true, false, D, F2, N, 1, ws.h2[l], 0, D, dgu, 0, F2, 1, g[pre + "w13"], 0, F2);
      blas.sgemm(false, true, N, D, F2, 1, dgu, 0, F2, p[pre + "w13"], 0, F2, 0, ws.dh, 0, D);
      // dx1 = dx + norm backward (in place into dx).
      rmsNormBack(ws.x1[l], ws.rstd2[l], p[pre + "ln2"], ws.dh, dx, g[pre + "ln2"], N, D);
      // Attention: x1 = x + O @ wo.
      const O = ws.O[l], P = ws.P[l], qkv = ws.qkv[l], dO = ws.dO, dqkv = ws.dqkv, dP = ws.dP;
      blas.sgemm(true, false, D, D, N, 1, O, 0, D, dx, 0, D, 1, g[pre + "wo"], 0, D);
      blas.sgemm(false, true, N, D, D, 1, dx, 0, D, p[pre + "wo"], 0, D, 0, dO, 0, D);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const qOff = b * L * D3 + h * hd, pOff = (b * H + h) * L * L, oOff = b * L * D + h * hd;
          // dP = dO_h v_h^T ; dv_h = P^T dO_h
          blas.sgemm(false, true, L, L, hd, 1, dO, oOff, D, qkv, qOff + 2 * D, D3, 0, dP, 0, L);
          blas.sgemm(true, false, L, hd, L, 1, P, pOff, L, dO, oOff, D, 0, dqkv, qOff + 2 * D, D3);
          // dS = P * (dP - rowsum(dP * P))
          for (let i = 0; i < L; i++) {
            const ro = pOff + i * L, rd = i * L;
            let dot = 0;
            for (let j = 0; j < L; j++) dot += dP[rd + j] * P[ro + j];
            for (let j = 0; j < L; j++) dP[rd + j] = P[ro + j] * (dP[rd + j] - dot);
          }
          // dq = scale dS k ; dk = scale dS^T q
          blas.sgemm(false, false, L, hd, L, scale, dP, 0, L, qkv, qOff + D, D3, 0, dqkv, qOff, D3);
          blas.sgemm(true, false, L, hd, L, scale, dP, 0, L, qkv, qOff, D3, 0, dqkv, qOff + D, D3);
        }
      }
      blas.sgemm(true, false, D, D3, N, 1, ws.h1[l], 0, D, dqkv, 0, D3, 1, g[pre + "wqkv"], 0, D3);
      blas.sgemm(false, true, N, D, D3, 1, dqkv, 0, D3, p[pre + "wqkv"], 0, D3, 0, ws.dh, 0, D);
      dxNext.set(dx);
      rmsNormBack(ws.xs[l], ws.rstd1[l], p[pre + "ln1"], ws.dh, dxNext, g[pre + "ln1"], N, D);
      [dx, dxNext] = [dxNext, dx];
    }
    // Embeddings: scatter-add into the rows each position summed.
    const gt = g.tok, gp = g.pos, ti = inp.tok, pi = this.posIdx;
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        const n = b * L + l, o = n * D;
        for (let j = 0; j < 3; j++) {
          const r = ti[n * 3 + j];
          if (r >= 0) for (let i = 0, ro = r * D; i < D; i++) gt[ro + i] += dx[o + i];
          const q = pi[l * 3 + j];
          if (q >= 0) for (let i = 0, ro = q * D; i < D; i++) gp[ro + i] += dx[o + i];
        }
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

/** y = x / sqrt(mean(x^2) + 1e-6) * g over rows of width D; keeps 1/rms per row. */
function rmsNorm(
  x: Float32Array,
  g: Float32Array,
  y: Float32Array,
  rstd: Float32Array,
  rows: number,
  D: number,
): void {
  for (let n = 0; n < rows; n++) {
    const o = n * D;
    let ss = 0;
    for (let i = 0; i < D; i++) ss += x[o + i] * x[o + i];
    const r = 1 / Math.sqrt(ss / D + 1e-6);
    rstd[n] = r;
    for (let i = 0; i < D; i++) y[o + i] = x[o + i] * r * g[i];
  }
}

/** Adds d(loss)/dx of {@link rmsNorm} to `dx` and d/dg to `dg`, given dy. */
function rmsNormBack(
  x: Float32Array,
  rstd: Float32Array,
  g: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  dg: Float32Array,
  rows: number,
  D: number,
): void {
  for (let n = 0; n < rows; n++) {
    const o = n * D, r = rstd[n];
    let dot = 0;
    for (let i = 0; i < D; i++) dot += dy[o + i] * g[i] * x[o + i];
    const c = r * r * r * dot / D;
    for (let i = 0; i < D; i++) {
      dx[o + i] += r * dy[o + i] * g[i] - c * x[o + i];
      dg[i] += dy[o + i] * x[o + i] * r;
    }
  }
}

/** In-place softmax of L rows of length L starting at `off`, after adding the key bias. */
function softmaxRows(P: Float32Array, off: number, L: number, bias: Float32Array, bOff: number) {
  for (let i = 0; i < L; i++) {
    const ro = off + i * L;
    let mx = -Infinity;
    for (let j = 0; j < L; j++) {
      const v = P[ro + j] + bias[bOff + j];
      P[ro + j] = v;
      if (v > mx) mx = v;
    }
    let z = 0;
    for (let j = 0; j < L; j++) {
      const e = fexp(P[ro + j] - mx);
      P[ro + j] = e;
      z += e;
    }
    const inv = 1 / z;
    for (let j = 0; j < L; j++) P[ro + j] *= inv;
  }
}

/** Zeroed arrays shaped like `like` (gradient or moment buffers). */
export function zerosLike(like: NamedArrays): NamedArrays {
  const out: NamedArrays = {};
  for (const [k, v] of Object.entries(like)) out[k] = new Float32Array(v.length);
  return out;
}

/** Sanity check of parameter sizes against a config (clear error on a mismatch). */
export function checkNamedSizes(cfg: ModelConfig, p: NamedArrays): void {
  const D = cfg.dModel;
  const want: Record<string, number> = {
    tok: tokRows(cfg) * D,
    pos: posRows(cfg) * D,
    lnf: D,
    head: D * OUT_COLS,
  };
  for (const [k, n] of Object.entries(want)) {
    if (!p[k] || p[k].length !== n) {
      throw new Error(`parameter '${k}' has ${p[k]?.length ?? 0} values, the model needs ${n}`);
    }
  }
}
