/**
 * The baselines as predictors, scored by the same code as the models: the frequency model
 * (majority), copy-previous and the action-aware copy (cells shifted by the action taken).
 *
 * @module
 */

import {
  ACTION_NONE,
  ACTION_VOCAB,
  ATTRS,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Logits,
  OBJ_VOCAB,
  type Predictor,
  STATE_VOCAB,
} from "../data/types.ts";
import { type WindowedDataset } from "../data/tokenize.ts";

import { ATTR_V } from "./score.ts";

// ---------------------------------------------------------------------------------------------
// Baselines: frequency model (majority), copy-previous and action-aware copy.

/** How often copying is right on the training split (the copy baselines' mixture weights). */
export interface CopyRates {
  /** Per attribute (object, colour, state): fraction of copied cells that were right. */
  cells: [number, number, number];
  /** Fraction of copied directions that were right. */
  dir: number;
}

/** Class counts of the training data, for the baselines. */
export interface ClassCounts {
  /** Per attribute, counts of each value over every valid cell. */
  cells: [Float64Array, Float64Array, Float64Array];
  /** Direction counts. */
  dir: Float64Array;
  /** Action counts (ACTION_NONE excluded). */
  action: Float64Array;
  /** Copy-previous hit rates (add-one smoothed) over consecutive training frames ({@link classCounts}). */
  copyPrev?: CopyRates;
  /** Action-aware copy hit rates over the cells that stay in view ({@link classCounts}). */
  copyMoved?: CopyRates;
}

/** MiniGrid action ids the action-aware copy moves the view for. */
const ACT_LEFT = 0, ACT_RIGHT = 1, ACT_FORWARD = 2;
/** View cell of the agent (vx = 3, vy = 6) and of the cell in front of it (vx = 3, vy = 5). */
const AGENT_CELL = 3 * 7 + 6, FRONT_CELL = 3 * 7 + 5;

function viewTable(map: (vx: number, vy: number) => [number, number]): Int16Array {
  const t = new Int16Array(CELLS);
  for (let vx = 0; vx < 7; vx++) {
    for (let vy = 0; vy < 7; vy++) {
      const [sx, sy] = map(vx, vy);
      t[vx * 7 + vy] = sx >= 0 && sx < 7 && sy >= 0 && sy < 7 ? sx * 7 + sy : -1;
    }
  }
  return t;
}

/**
 * Where each cell of the next egocentric view comes from in the previous one, after the agent
 * turned left / turned right / moved forward (the agent sits at vx = 3, vy = 6 facing vy = 0).
 * A turn rotates the view about the agent; a forward move shifts it one row towards the agent
 * (the agent's own cell shows what it carries, so it keeps its previous value). -1: the cell was
 * not in the previous view.
 */
export const VIEW_SOURCES: { left: Int16Array; right: Int16Array; forward: Int16Array } = {
  // Relative to the agent (dx = vx - 3, dy = vy - 6): a left turn brings (dx, dy) to (-dy, dx)...
  left: viewTable((vx, vy) => [vy - 3, 9 - vx]),
  // ... a right turn to (dy, -dx).
  right: viewTable((vx, vy) => [9 - vy, vx + 3]),
  forward: (() => {
    const t = viewTable((vx, vy) => [vx, vy - 1]);
    t[AGENT_CELL] = AGENT_CELL;
    return t;
  })(),
};

/** Object ids the agent can step onto (empty, floor, goal, lava); an open door too. */
const PASSABLE = new Set([1, 3, 8, 9]);

/**
 * The source table of the action-aware copy for `action` taken in the frame whose cell in front
 * of the agent is `front` ([object, colour, state]); null when the view stays (other actions, or
 * a forward move into something the agent cannot enter).
 */
export function viewSourcesFor(action: number, front: ArrayLike<number>): Int16Array | null {
  if (action === ACT_LEFT) return VIEW_SOURCES.left;
  if (action === ACT_RIGHT) return VIEW_SOURCES.right;
  if (action === ACT_FORWARD) {
    const moved = PASSABLE.has(front[0]) || (front[0] === 4 && front[2] === 0);
    return moved ? VIEW_SOURCES.forward : null;
  }
  return null;
}

/** The direction after `action` from `dir` (MiniGrid: left = -1, right = +1 mod 4). */
function dirAfter(action: number, dir: number): number {
  return action === ACT_LEFT ? (dir + 3) % 4 : action === ACT_RIGHT ? (dir + 1) % 4 : dir;
}

/** Count classes (and the copy baselines' hit rates) over the frames of a windowed dataset's episodes. */
export function classCounts(ds: WindowedDataset): ClassCounts {
  const d = ds.data;
  const out: ClassCounts = {
    cells: [
      new Float64Array(OBJ_VOCAB),
      new Float64Array(COLOR_VOCAB),
      new Float64Array(STATE_VOCAB),
    ],
    dir: new Float64Array(DIR_VOCAB),
    action: new Float64Array(ACTION_VOCAB),
  };
  const F = d.directions.length;
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < CELLS; c++) {
      for (let a = 0; a < ATTRS; a++) out.cells[a][d.images[(f * CELLS + c) * ATTRS + a]]++;
    }
    out.dir[d.directions[f]]++;
    if (d.actions[f] !== ACTION_NONE) out.action[d.actions[f]]++;
  }
  // Copy hit rates over consecutive frames of one episode.
  const prev = new Float64Array(8), moved = new Float64Array(8); // [hit, n] x (obj, col, state, dir)
  for (let e = 0; e < ds.numEpisodes; e++) {
    for (let f = ds.offsets[e] + 1; f < ds.offsets[e + 1]; f++) {
      const p = f - 1, act = d.actions[p];
      const src = viewSourcesFor(act, d.images.subarray((p * CELLS + FRONT_CELL) * ATTRS));
      for (let c = 0; c < CELLS; c++) {
        const s = src ? src[c] : c;
        for (let a = 0; a < ATTRS; a++) {
          const y = d.images[(f * CELLS + c) * ATTRS + a];
          prev[2 * a] += d.images[(p * CELLS + c) * ATTRS + a] === y ? 1 : 0;
          prev[2 * a + 1]++;
          if (s < 0) continue;
          moved[2 * a] += d.images[(p * CELLS + s) * ATTRS + a] === y ? 1 : 0;
          moved[2 * a + 1]++;
        }
      }
      prev[6] += d.directions[p] === d.directions[f] ? 1 : 0;
      prev[7]++;
      moved[6] += dirAfter(act, d.directions[p]) === d.directions[f] ? 1 : 0;
      moved[7]++;
    }
  }
  // Add-one smoothed, so that a copy that was always right still leaves mass to other values.
  const r = (hit: number, n: number) => (hit + 1) / (n + 2);
  const rates = (x: Float64Array): CopyRates | undefined =>
    x[7] > 0
      ? { cells: [r(x[0], x[1]), r(x[2], x[3]), r(x[4], x[5])], dir: r(x[6], x[7]) }
      : undefined;
  out.copyPrev = rates(prev);
  out.copyMoved = rates(moved);
  return out;
}

export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Log-probabilities of the add-one-smoothed frequencies `counts`. */
function logFreq(counts: Float64Array): Float32Array {
  const total = counts.reduce((a, b) => a + b, 0) + counts.length;
  return Float32Array.from(counts, (x) => Math.log((x + 1) / total));
}

function allocLogits(B: number, K: number): Logits {
  const n = B * K;
  return {
    obj: new Float32Array(n * CELLS * OBJ_VOCAB),
    color: new Float32Array(n * CELLS * COLOR_VOCAB),
    state: new Float32Array(n * CELLS * STATE_VOCAB),
    dir: new Float32Array(n * DIR_VOCAB),
    action: new Float32Array(n * ACTION_VOCAB),
  };
}

/** Mixture weight of the copied value when hand-built counts carry no measured hit rates. */
const NOMINAL_COPY_RATE = 0.9;

/**
 * Baseline (frequency model): every slot gets the add-one-smoothed class frequencies of the
 * training split as its distribution; its argmax is the majority class, and its NLL is that of a
 * real distribution fitted on the training data.
 */
export function majorityPredictor(counts: ClassCounts): Predictor {
  const lf = [logFreq(counts.cells[0]), logFreq(counts.cells[1]), logFreq(counts.cells[2])];
  const lDir = logFreq(counts.dir), lAct = logFreq(counts.action);
  return (batch) => {
    const { B, K } = batch;
    const L = allocLogits(B, K);
    const heads = [L.obj, L.color, L.state];
    for (let j = 0; j < B * K; j++) {
      for (let c = 0; c < CELLS; c++) {
        for (let a = 0; a < ATTRS; a++) heads[a].set(lf[a], (j * CELLS + c) * ATTR_V[a]);
      }
      L.dir.set(lDir, j * DIR_VOCAB);
      L.action.set(lAct, j * ACTION_VOCAB);
    }
    return Promise.resolve(L);
  };
}

/** Write log(rate·[v = value] + (1 - rate)·freq(v)) at `off`. */
function mixLogits(
  out: Float32Array,
  off: number,
  logf: Float32Array,
  value: number,
  rate: number,
): void {
  const r = Math.min(rate, 1 - 1e-6); // a hand-built rate of 1 must not give log 0
  for (let v = 0; v < logf.length; v++) {
    out[off + v] = Math.log((1 - r) * Math.exp(logf[v]) + (v === value ? r : 0));
  }
}

/**
 * The copy baselines: a hidden cell attribute (or direction) of frame k is predicted from
 * frame k-1 when that slot is visible — copied in place (`moved: false`), or moved by the
 * action taken in frame k-1 when that action is visible (`moved: true`; see
 * {@link VIEW_SOURCES}: turns rotate the view and the direction, a forward move into an
 * enterable cell shifts it, other actions keep it). The distribution is a mixture: the copied
 * value with the training split's copy hit rate, the rest spread by the class frequencies; slots
 * with nothing to copy (first frame, a hidden source, cells newly in view) get the frequencies.
 * Actions: the frequency model. It never reads a hidden slot.
 */
function copyPredictor(counts: ClassCounts, moved: boolean): Predictor {
  const majority = majorityPredictor(counts);
  const lf = [logFreq(counts.cells[0]), logFreq(counts.cells[1]), logFreq(counts.cells[2])];
  const lDir = logFreq(counts.dir);
  const rates = (moved ? counts.copyMoved : counts.copyPrev) ??
    { cells: [NOMINAL_COPY_RATE, NOMINAL_COPY_RATE, NOMINAL_COPY_RATE], dir: NOMINAL_COPY_RATE };
  return async (batch, mask) => {
    const L = await majority(batch, mask);
    const heads = [L.obj, L.color, L.state];
    const { B, K } = batch;
    for (let b = 0; b < B; b++) {
      for (let k = 1; k < K; k++) {
        const j = b * K + k;
        if (!batch.frameValid[j - 1] || !batch.frameValid[j]) continue;
        const act = mask.actions[j - 1] ? ACTION_NONE : batch.actions[j - 1];
        const fo = ((j - 1) * CELLS + FRONT_CELL) * ATTRS;
        const frontVisible = !(mask.cells[fo] | mask.cells[fo + 1] | mask.cells[fo + 2]);
        const src = moved && (act !== ACT_FORWARD || frontVisible)
          ? viewSourcesFor(act, batch.cells.subarray(fo, fo + ATTRS))
          : null;
        for (let c = 0; c < CELLS; c++) {
          const s = src ? src[c] : c;
          if (s < 0) continue;
          const po = ((j - 1) * CELLS + s) * ATTRS;
          for (let a = 0; a < ATTRS; a++) {
            if (mask.cells[po + a]) continue;
            mixLogits(
              heads[a],
              (j * CELLS + c) * ATTR_V[a],
              lf[a],
              batch.cells[po + a],
              rates.cells[a],
            );
          }
        }
        if (!mask.dirs[j - 1]) {
          const d = moved ? dirAfter(act, batch.dirs[j - 1]) : batch.dirs[j - 1];
          mixLogits(L.dir, j * DIR_VOCAB, lDir, d, rates.dir);
        }
      }
    }
    return L;
  };
}

/**
 * Baseline: a hidden cell or direction is copied from the previous frame when
 * that frame's slot is visible (a mixture with the class frequencies, weighted by the
 * training split's copy hit rate); otherwise the frequency model. Actions: the frequency model.
 * It never reads a hidden slot.
 */
export function copyPreviousPredictor(counts: ClassCounts): Predictor {
  return copyPredictor(counts, false);
}

/**
 * Baseline: the previous egocentric view moved by the action taken (turns rotate the view and
 * the direction, a forward move shifts the view one row when the agent could enter the cell in
 * front; other actions copy), what a model must beat to show it learned dynamics rather than
 * persistence. Cells newly in view get the frequency model. It never reads a hidden slot.
 */
export function actionCopyPredictor(counts: ClassCounts): Predictor {
  return copyPredictor(counts, true);
}
