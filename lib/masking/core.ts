/**
 * Building blocks shared by the masking strategies: mask allocation, the seeded stream of a
 * batch, window helpers, the "at least one hidden slot" rule, rates, and the masked input.
 *
 * Rules every strategy follows:
 * - Padding frames (`frameValid = 0`) are never hidden.
 * - A strategy fills one window at a time ({@link WindowFill}); a batch mask is the windows filled
 *   in order from one {@link Rng}, so a mask is reproducible from `(seed, epoch, step,
 *   batchIndex)` and a mixture can pick a different strategy per window.
 * - At-least-one rule: when a random strategy's probability is above 0 but its draws hid nothing in
 *   a window that has a valid frame, exactly one of the window's eligible units (a cell, or a
 *   direction / action slot where those are eligible) is hidden, chosen uniformly. A window
 *   therefore always has a loss target; the rate rises by at most one unit per window (negligible
 *   at p = 0.15 over 4 × 51 units, and the usual MDLM/LLaDA practice for small t).
 *
 * @module
 */

import { ACTION_NONE, ATTRS, type Batch, CELLS, type Mask, MASK_ID } from "../data/types.ts";
import { Rng } from "../util/prng.ts";

/** Where a mask is drawn: everything its randomness depends on. */
export interface MaskContext {
  /** Optimizer step. */
  step: number;
  /** Epoch of the batch. */
  epoch: number;
  /** Master seed. */
  seed: number;
  /** Batch index within the epoch (or micro-batch counter under accumulation). */
  batchIndex: number;
}

/** Fills the mask of batch row `b` (the mask row is all zero, weight 1, when called). */
export type WindowFill = (batch: Batch, b: number, mask: Mask, rng: Rng) => void;

/** Tag separating training-mask streams from shuffles and evaluation masks. */
export const TRAIN_MASK_TAG = 0x4d41534b;

/** The random stream of a training mask for `ctx`. */
export function maskRng(ctx: MaskContext): Rng {
  return new Rng(ctx.seed, ctx.epoch, ctx.step, ctx.batchIndex, TRAIN_MASK_TAG);
}

/** An all-visible mask for a `[B, K]` batch (weights 1). */
export function allocMask(B: number, K: number): Mask {
  const weight = new Float32Array(B);
  weight.fill(1);
  return {
    cells: new Uint8Array(B * K * CELLS * ATTRS),
    dirs: new Uint8Array(B * K),
    actions: new Uint8Array(B * K),
    weight,
  };
}

/** An all-visible mask shaped like `batch`. */
export function emptyMask(batch: Batch): Mask {
  return allocMask(batch.B, batch.K);
}

/** Apply `fill` to every row of `batch` with one stream `rng`. */
export function fillWindows(batch: Batch, fill: WindowFill, rng: Rng): Mask {
  const mask = emptyMask(batch);
  for (let b = 0; b < batch.B; b++) fill(batch, b, mask, rng);
  return mask;
}

/**
 * Number of valid frames of row `b`. Windows are padded on the left (`lib/data/tokenize.ts`): the
 * valid frames are the row's last slots, and the current frame is slot `K-1`.
 */
export function validFrames(batch: Batch, b: number): number {
  const K = batch.K;
  let n = 0;
  for (let k = 0; k < K; k++) if (batch.frameValid[b * K + k]) n++;
  return n;
}

/**
 * Index of the last valid frame of row `b`, or -1 for an all-padding row. For a window built by
 * the tokenizer (valid frames are a suffix) it is `K-1`; the search keeps hand-built rows working.
 */
export function lastValidFrame(batch: Batch, b: number): number {
  for (let k = batch.K - 1; k >= 0; k--) if (batch.frameValid[b * batch.K + k]) return k;
  return -1;
}

/** Hide all three attributes of cell `c` of frame `k` in row `b`. */
export function hideCell(mask: Mask, K: number, b: number, k: number, c: number): void {
  const o = ((b * K + k) * CELLS + c) * ATTRS;
  mask.cells[o] = 1;
  mask.cells[o + 1] = 1;
  mask.cells[o + 2] = 1;
}

/** Hide every cell (all attributes) of frame `k` in row `b`. */
export function hideFrameCells(mask: Mask, K: number, b: number, k: number): void {
  const o = (b * K + k) * CELLS * ATTRS;
  mask.cells.fill(1, o, o + CELLS * ATTRS);
}

/**
 * The at-least-one rule (see the module doc): hide one uniformly chosen unit of row `b`. Units
 * per valid frame: `cellUnits` (49 cells, or 147 attribute slots when `attrUnits`), then the
 * direction and action slots when `dirAction`.
 */
export function hideOneUnit(
  batch: Batch,
  b: number,
  mask: Mask,
  rng: Rng,
  attrUnits: boolean,
  dirAction: boolean,
): void {
  const K = batch.K;
  const nv = validFrames(batch, b);
  if (nv === 0) return;
  const per = (attrUnits ? CELLS * ATTRS : CELLS) + (dirAction ? 2 : 0);
  const u = rng.int(nv * per);
  // map the u-th unit onto the valid frames in slot order (wherever the padding is)
  let k = Math.floor(u / per);
  let r = u % per;
  for (let kk = 0, seen = 0; kk < K; kk++) {
    if (!batch.frameValid[b * K + kk]) continue;
    if (seen === k) {
      k = kk;
      break;
    }
    seen++;
  }
  const cellCount = attrUnits ? CELLS * ATTRS : CELLS;
  if (r < cellCount) {
    if (attrUnits) mask.cells[(b * K + k) * CELLS * ATTRS + r] = 1;
    else hideCell(mask, K, b, k, r);
    return;
  }
  r -= cellCount;
  if (r === 0) mask.dirs[b * K + k] = 1;
  else mask.actions[b * K + k] = 1;
}

/** Counts of hidden slots among valid frames. */
export interface MaskCounts {
  /** Hidden attribute slots (each cell counts 3). */
  cellAttrs: number;
  /** Hidden cells (any attribute hidden). */
  cells: number;
  /** Hidden direction slots. */
  dirs: number;
  /** Hidden action slots. */
  actions: number;
  /** Valid frames (each has 147 attribute slots + direction + action). */
  validFrames: number;
}

/** Count hidden slots of `mask` over the valid frames of `batch`. */
export function maskCounts(mask: Mask, batch: Batch): MaskCounts {
  const { B, K } = batch;
  const counts: MaskCounts = { cellAttrs: 0, cells: 0, dirs: 0, actions: 0, validFrames: 0 };
  for (let j = 0; j < B * K; j++) {
    if (!batch.frameValid[j]) continue;
    counts.validFrames++;
    counts.dirs += mask.dirs[j];
    counts.actions += mask.actions[j];
    const o = j * CELLS * ATTRS;
    for (let c = 0; c < CELLS; c++) {
      const a = mask.cells[o + c * 3],
        bb = mask.cells[o + c * 3 + 1],
        s = mask.cells[o + c * 3 + 2];
      counts.cellAttrs += a + bb + s;
      if (a | bb | s) counts.cells++;
    }
  }
  return counts;
}

/**
 * Fraction of hidden slots among the valid frames' slots, counting each cell attribute, each
 * direction and each action as one slot (149 per frame). Cell masking at p with directions and
 * actions included has an expected rate of p.
 */
export function maskRate(mask: Mask, batch: Batch): number {
  const c = maskCounts(mask, batch);
  const total = c.validFrames * (CELLS * ATTRS + 2);
  return total === 0 ? 0 : (c.cellAttrs + c.dirs + c.actions) / total;
}

/**
 * The model input for `(batch, mask)`: a copy of `batch` with every hidden slot replaced by its
 * vocabulary's [MASK] id ({@link MASK_ID}). Padding frames are left as they are.
 */
export function maskedInput(batch: Batch, mask: Mask): Batch {
  const cells = batch.cells.slice();
  const ids = [MASK_ID.obj, MASK_ID.color, MASK_ID.state];
  for (let i = 0; i < cells.length; i++) if (mask.cells[i]) cells[i] = ids[i % 3];
  const dirs = batch.dirs.slice();
  const actions = batch.actions.slice();
  for (let j = 0; j < dirs.length; j++) {
    if (mask.dirs[j]) dirs[j] = MASK_ID.dir;
    if (mask.actions[j]) actions[j] = MASK_ID.action;
  }
  return { ...batch, cells, dirs, actions, mission: batch.mission, frameValid: batch.frameValid };
}

/** Check a probability argument, naming the config key on error. */
export function checkProbability(p: number, key: string): void {
  if (!(typeof p === "number" && p >= 0 && p <= 1)) {
    throw new Error(`${key} must be a number in [0, 1], got ${p}`);
  }
}

/**
 * `batch` with every valid frame older than the last `n + 1` of its row turned into padding
 * (`frameValid = 0`, tokens zeroed as the tokenizer pads): `masking.context_frames`, e.g. n = 1 for
 * a forward-dynamics stage that sees (O_t, A_t) alone. Padding is never attended to nor scored.
 * Returns `batch` itself when no row has more than n + 1 valid frames.
 */
export function dropContext(batch: Batch, n: number): Batch {
  const { B, K } = batch;
  let out: Batch | null = null;
  for (let b = 0; b < B; b++) {
    let kept = 0;
    for (let k = K - 1; k >= 0; k--) {
      const j = b * K + k;
      if (!batch.frameValid[j]) continue;
      if (kept++ <= n) continue;
      out ??= {
        ...batch,
        cells: batch.cells.slice(),
        dirs: batch.dirs.slice(),
        actions: batch.actions.slice(),
        frameValid: batch.frameValid.slice(),
      };
      out.frameValid[j] = 0;
      out.cells.fill(0, j * CELLS * ATTRS, (j + 1) * CELLS * ATTRS);
      out.dirs[j] = 0;
      out.actions[j] = ACTION_NONE;
    }
  }
  return out ?? batch;
}
