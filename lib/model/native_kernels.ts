/**
 * The loops of the `blas` device (lib/model/native.ts) that are split across
 * threads: attention per range of windows (per-head OpenBLAS calls + softmax),
 * SwiGLU per range of positions, plus the single-thread helpers (exp, RMSNorm).
 * Pure functions of typed arrays, so the main thread and the helper workers
 * (lib/model/native_worker.ts) run the same code on shared memory; every output
 * element is computed by exactly one thread in a fixed order, so results do not
 * depend on how the work is split.
 *
 * @module
 */

import type { Blas } from "./blas.ts";

// exp: x = (32n + j) ln2/32 + r with |r| <= ln2/64, so e^x = 2^n * 2^(j/32) * e^r, two table
// lookups and a cubic for e^r (max relative error ~6e-10, well below float32's 6e-8;
// tests/native_test.ts checks it), faster than Math.exp in these loops. No early return: x is
// clamped to [-88, 88] instead, so the function only ever returns a double (with `return 0` /
// `return Infinity` branches V8 boxed the result and the softmax loops slowed down; the README's
// "Training devices" section has the figures).
const POW2 = new Float64Array(301);
for (let k = -150; k <= 150; k++) POW2[k + 150] = Math.pow(2, k);
const POW2_32 = new Float64Array(32);
for (let j = 0; j < 32; j++) POW2_32[j] = Math.pow(2, j / 32);

/**
 * exp(x) to float32 accuracy for x in [-88, 88] (float32's normal range); below it
 * e^-88 (6e-39, a float32 subnormal: nothing next to the softmax's 1 or the
 * sigmoid's 1), above it e^88 (1.7e38). NaN stays NaN.
 */
export function fexp(x: number): number {
  const c = x < -88 ? -88 : x > 88 ? 88 : x;
  // round(c * 32/ln2) without Math.floor: |c * 32/ln2| < 4096, so shift to positive and truncate
  const k = ((c * 46.16624130844683 + 4096.5) | 0) - 4096;
  const r = c - k * 0.02166084939249829;
  return (1 + r * (1 + r * (0.5 + r * 0.16666666666666666))) * POW2_32[k & 31] *
    POW2[(k >> 5) + 150];
}

/** Attention sizes. */
export interface AttnDims {
  /** Sequence length. */
  L: number;
  /** Model width. */
  D: number;
  /** Heads. */
  H: number;
}

/**
 * Attention forward for windows [b0, b1): P = softmax(scale q k^T + bias) per
 * head, O = P v. `qkv` is [B, L, 3D] (q | k | v, heads contiguous inside each),
 * `P` [B, H, L, L], `O` [B, L, D], `bias` [B, L] (0 or -1e9 per key).
 */
export function attentionForward(
  blas: Blas,
  d: AttnDims,
  qkv: Float32Array,
  P: Float32Array,
  O: Float32Array,
  bias: Float32Array,
  b0: number,
  b1: number,
): void {
  const { L, D, H } = d, hd = D / H, D3 = 3 * D, scale = 1 / Math.sqrt(hd);
  for (let b = b0; b < b1; b++) {
    for (let h = 0; h < H; h++) {
      const qOff = b * L * D3 + h * hd, pOff = (b * H + h) * L * L;
      blas.sgemm(false, true, L, L, hd, scale, qkv, qOff, D3, qkv, qOff + D, D3, 0, P, pOff, L);
      softmaxRows(P, pOff, L, bias, b * L);
      blas.sgemm(
        false,
        false,
        L,
        hd,
        L,
        1,
        P,
        pOff,
        L,
        qkv,
        qOff + 2 * D,
        D3,
        0,
        O,
        b * L * D + h * hd,
        D,
      );
    }
  }
}

/**
 * Forward-only attention for windows [b0, b1) (inference: nothing is kept for a
 * backward pass). Per head the scores go to `scratch` (at least L * L + L
 * floats, owned by the caller's thread), the softmax is left unnormalised and
 * each row of O = E v is divided by its row sum instead: one pass over the L x L
 * scores fewer than {@link attentionForward}, equal to it within float32 rounding.
 */
export function attentionInfer(
  blas: Blas,
  d: AttnDims,
  qkv: Float32Array,
  scratch: Float32Array,
  O: Float32Array,
  bias: Float32Array,
  b0: number,
  b1: number,
): void {
  const { L, D, H } = d, hd = D / H, D3 = 3 * D, scale = 1 / Math.sqrt(hd), LL = L * L;
  for (let b = b0; b < b1; b++) {
    const bOff = b * L;
    for (let h = 0; h < H; h++) {
      const qOff = b * L * D3 + h * hd, oOff = b * L * D + h * hd;
      blas.sgemm(false, true, L, L, hd, scale, qkv, qOff, D3, qkv, qOff + D, D3, 0, scratch, 0, L);
      for (let i = 0; i < L; i++) {
        const ro = i * L;
        let mx = -Infinity;
        for (let j = 0; j < L; j++) {
          const v = scratch[ro + j] + bias[bOff + j];
          scratch[ro + j] = v;
          if (v > mx) mx = v;
        }
        let z = 0;
        for (let j = 0; j < L; j++) {
          const e = fexp(scratch[ro + j] - mx);
          scratch[ro + j] = e;
          z += e;
        }
        scratch[LL + i] = 1 / z;
      }
      blas.sgemm(false, false, L, hd, L, 1, scratch, 0, L, qkv, qOff + 2 * D, D3, 0, O, oOff, D);
      for (let i = 0; i < L; i++) {
        const inv = scratch[LL + i], ro = oOff + i * D;
        for (let c = 0; c < hd; c++) O[ro + c] *= inv;
      }
    }
  }
}

/**
 * Attention backward for windows [b0, b1): from dO [B, L, D] to dqkv [B, L, 3D]
 * (overwritten for these windows). `dP` is an L x L scratch owned by the caller's thread.
 */
export function attentionBackward(
  blas: Blas,
  d: AttnDims,
  qkv: Float32Array,
  P: Float32Array,
  dO: Float32Array,
  dqkv: Float32Array,
  dP: Float32Array,
  b0: number,
  b1: number,
): void {
  const { L, D, H } = d, hd = D / H, D3 = 3 * D, scale = 1 / Math.sqrt(hd);
  for (let b = b0; b < b1; b++) {
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
}

/** SwiGLU forward for positions [n0, n1): gu [N, 2F] (gate | up) to sig = sigmoid(gate), act = silu(gate) * up. */
export function swigluForward(
  gu: Float32Array,
  sig: Float32Array,
  act: Float32Array,
  F: number,
  n0: number,
  n1: number,
): void {
  const F2 = 2 * F;
  for (let n = n0; n < n1; n++) {
    const go = n * F2, ao = n * F;
    for (let i = 0; i < F; i++) {
      const g = gu[go + i];
      const s = 1 / (1 + fexp(-g));
      sig[ao + i] = s;
      act[ao + i] = g * s * gu[go + F + i];
    }
  }
}

/**
 * Forward-only SwiGLU for positions [n0, n1): silu(gate) * up written over the
 * gate half of `gu` [N, 2F] (read it with row stride 2F); no sigmoid is kept.
 */
export function swigluInfer(gu: Float32Array, F: number, n0: number, n1: number): void {
  const F2 = 2 * F;
  for (let n = n0; n < n1; n++) {
    const go = n * F2;
    for (let i = 0; i < F; i++) {
      const g = gu[go + i];
      gu[go + i] = g * (1 / (1 + fexp(-g))) * gu[go + F + i];
    }
  }
}

/** SwiGLU backward for positions [n0, n1): d(act) to d(gu). */
export function swigluBackward(
  gu: Float32Array,
  sig: Float32Array,
  dact: Float32Array,
  dgu: Float32Array,
  F: number,
  n0: number,
  n1: number,
): void {
  const F2 = 2 * F;
  for (let n = n0; n < n1; n++) {
    const go = n * F2, ao = n * F;
    for (let i = 0; i < F; i++) {
      const g = gu[go + i], u = gu[go + F + i], s = sig[ao + i], da = dact[ao + i];
      dgu[go + i] = da * u * s * (1 + g * (1 - s));
      dgu[go + F + i] = da * g * s;
    }
  }
}

/** In-place softmax of L rows of length L starting at `off`, after adding the key bias. */
export function softmaxRows(
  P: Float32Array,
  off: number,
  L: number,
  bias: Float32Array,
  bOff: number,
): void {
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

/** y = x / sqrt(mean(x^2) + 1e-6) * g over rows of width D; keeps 1/rms per row. */
export function rmsNorm(
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
export function rmsNormBack(
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
