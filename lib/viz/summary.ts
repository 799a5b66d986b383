/**
 * Small summaries for plotting and notebooks. The mean and its interval come from
 * lib/util/stats.ts (Student t), the one interval helper of the workspace.
 *
 * @module
 */

import { meanCi95 } from "../util/stats.ts";

/** Mean, spread and a 95% interval of a sample. */
export interface MeanCi {
  /** Sample size. */
  n: number;
  /** Mean (NaN when n = 0). */
  mean: number;
  /** Sample standard deviation (0 when n < 2). */
  sd: number;
  /** Lower end of the 95% Student-t interval (= mean when n < 2). */
  lo: number;
  /** Upper end. */
  hi: number;
}

/**
 * Mean and 95% Student-t interval of the finite values (non-finite ones are skipped, unlike
 * `meanCi95`, which rejects them): `meanCi95` of lib/util/stats.ts.
 */
export function meanCi(values: ArrayLike<number>): MeanCi {
  const r = meanCi95(Array.from(values).filter((x) => Number.isFinite(x)));
  return { n: r.n, mean: r.mean, sd: r.sd, lo: r.lo, hi: r.hi };
}

/**
 * How often each of the 7x7 view cells is hidden (any attribute), over the
 * valid frames of a batch: `freq[vy][vx]` in [0, 1], ready for a heatmap.
 */
export function maskCellFrequency(
  mask: { cells: Uint8Array },
  batch: { B: number; K: number; frameValid: Uint8Array },
): number[][] {
  const hits = new Float64Array(49);
  let frames = 0;
  for (let j = 0; j < batch.B * batch.K; j++) {
    if (!batch.frameValid[j]) continue;
    frames++;
    const o = j * 147;
    for (let c = 0; c < 49; c++) {
      if (mask.cells[o + c * 3] | mask.cells[o + c * 3 + 1] | mask.cells[o + c * 3 + 2]) hits[c]++;
    }
  }
  return Array.from(
    { length: 7 },
    (_, vy) => Array.from({ length: 7 }, (_, vx) => (frames ? hits[vx * 7 + vy] / frames : 0)),
  );
}

/** Argmax accuracy over hidden slots, per slot kind (NaN where nothing of that kind is hidden). */
export interface SlotAccuracy {
  /** Hidden cell attributes predicted right / hidden cell attributes. */
  cells: number;
  /** Hidden directions. */
  dirs: number;
  /** Hidden actions. */
  actions: number;
  /** All hidden slots. */
  all: number;
  /** Number of hidden slots. */
  hidden: number;
}

/**
 * Accuracy of a prediction (`predicted`, e.g. from {@link predictedBatch}) against
 * the truth `batch` on the slots hidden by `mask` — for pictures and notebooks;
 * lib/eval holds the reported metrics (with baselines and confidence intervals).
 */
export function slotAccuracy(
  batch: { cells: Int32Array; dirs: Int32Array; actions: Int32Array },
  predicted: { cells: Int32Array; dirs: Int32Array; actions: Int32Array },
  mask: { cells: Uint8Array; dirs: Uint8Array; actions: Uint8Array },
): SlotAccuracy {
  let hc = 0, rc = 0, hd = 0, rd = 0, ha = 0, ra = 0;
  for (let i = 0; i < mask.cells.length; i++) {
    if (!mask.cells[i]) continue;
    hc++;
    if (batch.cells[i] === predicted.cells[i]) rc++;
  }
  for (let j = 0; j < mask.dirs.length; j++) {
    if (mask.dirs[j]) (hd++, batch.dirs[j] === predicted.dirs[j] && rd++);
    if (mask.actions[j]) (ha++, batch.actions[j] === predicted.actions[j] && ra++);
  }
  const h = hc + hd + ha;
  return { cells: rc / hc, dirs: rd / hd, actions: ra / ha, all: (rc + rd + ra) / h, hidden: h };
}
