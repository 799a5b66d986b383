/**
 * Masked cross-entropy over hidden slots, with per-head weights `w_h` (`train.head_weights`).
 *
 * - `mean`: loss = sum_h w_h sum_{hidden i} CE_i / (hidden slots of the batch). Every hidden slot
 *   weighs the same, so a head's share is its share of the hidden slots: under cell or any-order
 *   masking a frame has 147 cell attributes, 1 direction and 1 action, and the action gets ~0.3%.
 * - `elbo`: loss = sum_h w_h sum_{hidden i} weight_b CE_i / (valid slots of the batch), with
 *   weight_b = 1/t from `Mask.weight` (any-order masking): the LLaDA/MDLM bound on the per-slot
 *   negative log-likelihood.
 * - `balanced` (MTM / UniMASK style): per window b and head h, the mean cross-entropy over the
 *   head's hidden slots, weighted by w_h, summed over heads, averaged over the windows that hide
 *   anything: loss = (1/B') sum_b sum_h w_h sum_{hidden i in (b, h)} CE_i / n_{b,h}. A head's share
 *   of a window's loss weight is w_h over the weights of the heads it hides, whatever its slot
 *   count. n_{b,h} is the head's hidden slots, or for an any-order window (`Mask.elbo`) its valid
 *   slots with the 1/t weight kept: the ELBO within each head. A mixture's components so get the
 *   shares their mixture weights say (each window is normalised on its own).
 *
 * The factor of each (window, head) is computed on the host, so the traced loss is a plain
 * weighted sum and one compiled step serves every batch.
 *
 * @module
 */

import { lax, nn, numpy as np } from "@jax-js/jax";
import { type Batch, CELLS, type Mask } from "../data/types.ts";
import { forward, type ForwardInputs } from "../model/transformer.ts";
import { HEAD_COLS, type ModelConfig } from "../model/model_config.ts";
import { type Params } from "../model/params.ts";
import type { HeadWeights, LossMode } from "../config/schema.ts";
import type { HostTargets } from "../data/types.ts";

/** Loss normalisation modes: the schema's (lib/config/schema.ts). */
export { LOSS_MODES, type LossMode } from "../config/schema.ts";

/** Per-head loss weights: the schema's `train.head_weights`. */
export type { HeadWeights };

/** Head order of the aux statistics. */
export const HEADS = ["obj", "color", "state", "dir", "action"] as const;

/** Number of output heads ({@link HEADS}). */
export const N_HEADS = HEADS.length;

/** Host-side loss targets for a batch + mask: lib/data/types.ts's (the blas device reads them too). */
export type { HostTargets };

/** Device-side loss targets. */
export type Targets = {
  cells: np.Array;
  dirs: np.Array;
  actions: np.Array;
  mCells: np.Array;
  mDirs: np.Array;
  mActions: np.Array;
  winW: np.Array;
};

/**
 * Build loss targets on the host: the hidden indicators of every head over the valid frames, and
 * the factor of each (window, head) of the loss mode (see the module doc).
 */
export function encodeTargets(batch: Batch, mask: Mask, mode: LossMode): HostTargets {
  const { B, K } = batch;
  const n = B * K;
  const H = N_HEADS, A = CELLS * 3;
  const mCells = new Float32Array(n * A);
  const mDirs = new Float32Array(n), mActions = new Float32Array(n);
  const hidden = new Array<number>(H).fill(0);
  // per window: hidden and valid slots of each head
  const hidW = new Float64Array(B * H), validW = new Float64Array(B * H);
  let validFrames = 0;
  for (let f = 0; f < n; f++) {
    const valid = batch.frameValid[f] !== 0;
    if (!valid) continue;
    validFrames++;
    const hb = Math.floor(f / K) * H;
    for (let a = 0; a < 3; a++) validW[hb + a] += CELLS;
    validW[hb + 3]++;
    validW[hb + 4]++;
    for (let j = 0; j < A; j++) {
      const i = f * A + j;
      if (mask.cells[i]) {
        mCells[i] = 1;
        hidW[hb + (j % 3)]++;
      }
    }
    if (mask.dirs[f]) (mDirs[f] = 1, hidW[hb + 3]++);
    if (mask.actions[f]) (mActions[f] = 1, hidW[hb + 4]++);
  }
  for (let i = 0; i < B * H; i++) hidden[i % H] += hidW[i];
  const totalHidden = hidden.reduce((a, b) => a + b, 0);
  const validSlots = validFrames * (A + 2);
  const winW = new Float32Array(B * H);
  if (mode === "balanced") {
    let windows = 0;
    for (let b = 0; b < B; b++) {
      let any = 0;
      for (let h = 0; h < H; h++) any += hidW[b * H + h];
      if (any > 0) windows++;
    }
    const perWindow = 1 / Math.max(1, windows);
    for (let b = 0; b < B; b++) {
      const elbo = mask.elbo !== undefined && mask.elbo[b] === 1;
      for (let h = 0; h < H; h++) {
        const i = b * H + h;
        if (hidW[i] === 0) continue;
        winW[i] = elbo ? mask.weight[b] * perWindow / validW[i] : perWindow / hidW[i];
      }
    }
  } else {
    const norm = mode === "elbo" ? Math.max(1, validSlots) : Math.max(1, totalHidden);
    for (let b = 0; b < B; b++) {
      winW.fill((mode === "elbo" ? mask.weight[b] : 1) / norm, b * H, (b + 1) * H);
    }
  }
  return {
    cells: batch.cells,
    dirs: batch.dirs,
    actions: batch.actions,
    mCells,
    mDirs,
    mActions,
    winW,
    hiddenPerHead: hidden,
    validSlots,
  };
}

/** Put host targets on the default device. */
export function targetsToDevice(t: HostTargets, B: number, K: number): Targets {
  const i32 = { dtype: np.int32 };
  return {
    cells: np.array(t.cells as Int32Array<ArrayBuffer>, i32).reshape([B, K, CELLS, 3]),
    dirs: np.array(t.dirs as Int32Array<ArrayBuffer>, i32).reshape([B, K]),
    actions: np.array(t.actions as Int32Array<ArrayBuffer>, i32).reshape([B, K]),
    mCells: np.array(t.mCells as Float32Array<ArrayBuffer>).reshape([B, K, CELLS, 3]),
    mDirs: np.array(t.mDirs as Float32Array<ArrayBuffer>).reshape([B, K]),
    mActions: np.array(t.mActions as Float32Array<ArrayBuffer>).reshape([B, K]),
    winW: np.array(t.winW as Float32Array<ArrayBuffer>).reshape([B, N_HEADS]),
  };
}

/** Cross-entropy and correctness of logits [..., V] against int targets [...]. */
function ceAndCorrect(logits: np.Array, target: np.Array, V: number): [np.Array, np.Array] {
  const lse = nn.logsumexp(logits.ref, -1);
  const picked = logits.ref.mul(nn.oneHot(target.ref, V)).sum(-1);
  const correct = np.argmax(lax.stopGradient(logits), -1).equal(target).astype(np.float32);
  return [lse.sub(picked), correct];
}

/**
 * The training loss (traceable; consumes params, inputs and targets). Returns
 * `[loss, aux]` where aux is [5, 2]: per head (obj, color, state, dir, action)
 * the sums over hidden slots of cross-entropy and of correct argmax.
 */
export function lossFn(
  cfg: ModelConfig,
  weights: HeadWeights,
  params: Params,
  inputs: ForwardInputs,
  t: Targets,
): [np.Array, np.Array] {
  const logits = forward(cfg, params, inputs); // [B, K, 51, 32]
  const B = logits.shape[0], K = logits.shape[1];
  const cellLog = logits.ref.slice([], [], [0, CELLS]); // [B, K, 49, 32]
  // the factor of each (window, head), one [B, 1] column per head
  const ww = HEADS.map((_, h) => t.winW.ref.slice([], [h, h + 1]));
  t.winW.dispose();
  const parts: np.Array[] = [];
  const aux: np.Array[] = [];
  const cellHeads = ["obj", "color", "state"] as const;
  for (let a = 0; a < 3; a++) {
    const [lo, hi] = HEAD_COLS[cellHeads[a]];
    const lg = cellLog.ref.slice([], [], [], [lo, hi]);
    const tgt = t.cells.ref.slice([], [], [], a);
    const m = t.mCells.ref.slice([], [], [], a); // [B, K, 49]
    const [ce, corr] = ceAndCorrect(lg, tgt, hi - lo);
    const mce = ce.mul(m.ref);
    aux.push(np.stack([mce.ref.sum(), corr.mul(m).sum()]));
    parts.push(mce.reshape([B, K * CELLS]).mul(ww[a]).sum().mul(weights[cellHeads[a]]));
  }
  cellLog.dispose();
  t.cells.dispose();
  t.mCells.dispose();
  const slotHeads = [
    { key: "dir", slot: CELLS, tgt: t.dirs, m: t.mDirs, h: 3 },
    { key: "action", slot: CELLS + 1, tgt: t.actions, m: t.mActions, h: 4 },
  ] as const;
  for (const h of slotHeads) {
    const [lo, hi] = HEAD_COLS[h.key];
    const lg = logits.ref.slice([], [], h.slot, [lo, hi]); // [B, K, V]
    const [ce, corr] = ceAndCorrect(lg, h.tgt, hi - lo);
    const mce = ce.mul(h.m.ref);
    aux.push(np.stack([mce.ref.sum(), corr.mul(h.m).sum()]));
    parts.push(mce.mul(ww[h.h]).sum().mul(weights[h.key]));
  }
  logits.dispose();
  const loss = parts.reduce((x, y) => x.add(y));
  return [loss, np.stack(aux)];
}
