/**
 * Masked cross-entropy over hidden slots, with per-head weights.
 *
 * - `mean`: loss = sum_h w_h sum_{hidden i} CE_i / (number of hidden slots).
 * - `elbo`: loss = sum_h w_h sum_{hidden i} weight_b CE_i / (number of valid
 *   slots), with weight_b = 1/t from `Mask.weight` (any-order masking): the
 *   LLaDA/MDLM bound on the per-slot negative log-likelihood.
 *
 * The per-window factor (weight_b / normalizer) is computed on the host, so the
 * traced loss is a plain weighted sum and one compiled step serves every batch.
 *
 * @module
 */

import { lax, nn, numpy as np } from "@jax-js/jax";
import { type Batch, CELLS, type Mask } from "../data/types.ts";
import { forward, type ForwardInputs } from "../model/transformer.ts";
import { HEAD_COLS, type ModelConfig } from "../model/model_config.ts";
import { type Params } from "../model/params.ts";
import type { HeadWeights } from "../config/schema.ts";
import type { HostTargets } from "../data/types.ts";

/** Loss normalisation mode. */
export type LossMode = "mean" | "elbo";

/** Per-head loss weights: the schema's `train.head_weights`. */
export type { HeadWeights };

/** Head order of the aux statistics. */
export const HEADS = ["obj", "color", "state", "dir", "action"] as const;

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

/** Build loss targets on the host. Throws when a mask hides nothing (no loss to compute). */
export function encodeTargets(batch: Batch, mask: Mask, mode: LossMode): HostTargets {
  const { B, K } = batch;
  const n = B * K;
  const mCells = new Float32Array(n * CELLS * 3);
  const mDirs = new Float32Array(n), mActions = new Float32Array(n);
  const hidden = [0, 0, 0, 0, 0];
  let validFrames = 0;
  for (let f = 0; f < n; f++) {
    const valid = batch.frameValid[f] !== 0;
    if (valid) validFrames++;
    for (let j = 0; j < CELLS * 3; j++) {
      const i = f * CELLS * 3 + j;
      if (mask.cells[i] && valid) {
        mCells[i] = 1;
        hidden[j % 3]++;
      }
    }
    if (mask.dirs[f] && valid) (mDirs[f] = 1, hidden[3]++);
    if (mask.actions[f] && valid) (mActions[f] = 1, hidden[4]++);
  }
  const totalHidden = hidden.reduce((a, b) => a + b, 0);
  const validSlots = validFrames * (CELLS * 3 + 2);
  const norm = mode === "elbo" ? Math.max(1, validSlots) : Math.max(1, totalHidden);
  const winW = new Float32Array(B);
  for (let b = 0; b < B; b++) winW[b] = (mode === "elbo" ? mask.weight[b] : 1) / norm;
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
    winW: np.array(t.winW as Float32Array<ArrayBuffer>).reshape([B]),
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
  const ww = t.winW.reshape([B, 1]); // per-window factor
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
    parts.push(mce.reshape([B, K * CELLS]).mul(ww.ref).sum().mul(weights[cellHeads[a]]));
  }
  cellLog.dispose();
  t.cells.dispose();
  t.mCells.dispose();
  const slotHeads = [
    { key: "dir", slot: CELLS, tgt: t.dirs, m: t.mDirs },
    { key: "action", slot: CELLS + 1, tgt: t.actions, m: t.mActions },
  ] as const;
  for (const h of slotHeads) {
    const [lo, hi] = HEAD_COLS[h.key];
    const lg = logits.ref.slice([], [], h.slot, [lo, hi]); // [B, K, V]
    const [ce, corr] = ceAndCorrect(lg, h.tgt, hi - lo);
    const mce = ce.mul(h.m.ref);
    aux.push(np.stack([mce.ref.sum(), corr.mul(h.m).sum()]));
    parts.push(mce.mul(ww.ref).sum().mul(weights[h.key]));
  }
  logits.dispose();
  ww.dispose();
  const loss = parts.reduce((x, y) => x.add(y));
  return [loss, np.stack(aux)];
}
