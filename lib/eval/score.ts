/**
 * Scoring predictions against hidden targets: running counts ({@link Tally}) of attribute, cell,
 * changed-cell, direction and action accuracy and NLL per hidden slot, and their summary.
 *
 * @module
 */

import {
  ACTION_NONE,
  ACTION_VOCAB,
  ATTRS,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Logits,
  type Mask,
  OBJ_VOCAB,
  STATE_VOCAB,
} from "../data/types.ts";

export const ATTR_V = [OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB] as const;
export const ATTR_KEYS = ["obj", "color", "state"] as const;

/** Running counts of one evaluation (add batches with {@link scoreBatch}). */
export interface Tally {
  /** Hidden attribute slots and how many were right, per attribute. */
  attr: { obj: [number, number]; color: [number, number]; state: [number, number] };
  /** [correct, total] over hidden cells (all three attributes right). */
  cell: [number, number];
  /** [correct, total] over hidden cells that differ from the previous frame. */
  changed: [number, number];
  /** [correct, total] over hidden direction slots. */
  dir: [number, number];
  /** [correct, total] over hidden action slots (targets ACTION_NONE excluded). */
  action: [number, number];
  /** Sum of -log p(target) over every hidden slot scored. */
  nll: number;
  /** The part of `nll` from cell attributes. */
  cellNll: number;
  /** The part of `nll` from directions. */
  dirNll: number;
  /** The part of `nll` from actions. */
  actionNll: number;
  /** Number of hidden slots in `nll`. */
  slots: number;
  /** Number of windows with at least one hidden slot. */
  windows: number;
}

/** An empty tally. */
export function newTally(): Tally {
  return {
    attr: { obj: [0, 0], color: [0, 0], state: [0, 0] },
    cell: [0, 0],
    changed: [0, 0],
    dir: [0, 0],
    action: [0, 0],
    nll: 0,
    cellNll: 0,
    dirNll: 0,
    actionNll: 0,
    slots: 0,
    windows: 0,
  };
}

/** Argmax and -log softmax at `target` of `V` logits starting at `off`. */
export function slot(
  logits: Float32Array,
  off: number,
  V: number,
  target: number,
): [number, number] {
  let best = 0, max = -Infinity;
  for (let v = 0; v < V; v++) {
    const x = logits[off + v];
    if (x > max) {
      max = x;
      best = v;
    }
  }
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(logits[off + v] - max);
  return [best, Math.log(z) + max - logits[off + target]];
}

/**
 * Score `logits` against the true `batch` on the slots hidden in `target`
 * (1 = scored). Counts go into `t`.
 */
export function scoreBatch(batch: Batch, target: Mask, logits: Logits, t: Tally): void {
  const { B, K } = batch;
  const cellsL = [logits.obj, logits.color, logits.state];
  for (let b = 0; b < B; b++) {
    let any = false;
    for (let k = 0; k < K; k++) {
      const j = b * K + k;
      if (!batch.frameValid[j]) continue;
      const prevValid = k > 0 && batch.frameValid[j - 1] === 1;
      for (let c = 0; c < CELLS; c++) {
        const o = (j * CELLS + c) * ATTRS;
        let hidden = 0, right = 0, changed = false;
        for (let a = 0; a < ATTRS; a++) {
          if (!target.cells[o + a]) continue;
          hidden++;
          const y = batch.cells[o + a];
          const [p, nll] = slot(cellsL[a], (j * CELLS + c) * ATTR_V[a], ATTR_V[a], y);
          const tally = t.attr[ATTR_KEYS[a]];
          tally[1]++;
          if (p === y) {
            tally[0]++;
            right++;
          }
          t.nll += nll;
          t.cellNll += nll;
          t.slots++;
        }
        if (hidden === 0) continue;
        any = true;
        if (prevValid) {
          const po = ((j - 1) * CELLS + c) * ATTRS;
          for (let a = 0; a < ATTRS; a++) {
            if (batch.cells[po + a] !== batch.cells[o + a]) changed = true;
          }
        }
        const ok = right === hidden ? 1 : 0;
        t.cell[0] += ok;
        t.cell[1]++;
        if (changed) {
          t.changed[0] += ok;
          t.changed[1]++;
        }
      }
      if (target.dirs[j]) {
        const [p, nll] = slot(logits.dir, j * DIR_VOCAB, DIR_VOCAB, batch.dirs[j]);
        t.dir[1]++;
        if (p === batch.dirs[j]) t.dir[0]++;
        t.nll += nll;
        t.dirNll += nll;
        t.slots++;
        any = true;
      }
      if (target.actions[j] && batch.actions[j] !== ACTION_NONE) {
        const [p, nll] = slot(logits.action, j * ACTION_VOCAB, ACTION_VOCAB, batch.actions[j]);
        t.action[1]++;
        if (p === batch.actions[j]) t.action[0]++;
        t.nll += nll;
        t.actionNll += nll;
        t.slots++;
        any = true;
      }
    }
    if (any) t.windows++;
  }
}

/** correct / total, NaN when nothing was scored. */
export function ratio([c, n]: [number, number]): number {
  return n > 0 ? c / n : NaN;
}

/** Observation and action figures of a tally. */
export interface ObsSummary {
  /** All three attributes right, over hidden cells. */
  cell_acc: number;
  /** Same, over hidden cells that changed since the previous frame. */
  changed_cell_acc: number;
  /** Per-attribute accuracy over hidden attribute slots. */
  obj_acc: number;
  /** Colour accuracy. */
  color_acc: number;
  /** State accuracy. */
  state_acc: number;
  /** Direction accuracy. */
  dir_acc: number;
  /** Action accuracy (ACTION_NONE targets excluded). */
  action_acc: number;
  /** Mean -log p over hidden slots (nats). */
  nats_per_slot: number;
  /** Total -log2 p per window with hidden slots (bits per predicted frame for next-frame masks). */
  bits_per_frame: number;
  /** Hidden cells scored. */
  cells: number;
  /** Hidden changed cells scored. */
  changed_cells: number;
}

/** Summarise a tally. */
export function summarize(t: Tally): ObsSummary {
  return {
    cell_acc: ratio(t.cell),
    changed_cell_acc: ratio(t.changed),
    obj_acc: ratio(t.attr.obj),
    color_acc: ratio(t.attr.color),
    state_acc: ratio(t.attr.state),
    dir_acc: ratio(t.dir),
    action_acc: ratio(t.action),
    nats_per_slot: t.slots > 0 ? t.nll / t.slots : NaN,
    bits_per_frame: t.windows > 0 ? t.nll / Math.LN2 / t.windows : NaN,
    cells: t.cell[1],
    changed_cells: t.changed[1],
  };
}

/** Observation-NLL figures of a tally scored under a `whole_frame` mask (one hidden frame per window). */
export interface ObsNllSummary {
  /** Nats per hidden frame: cell attributes and direction together. */
  per_frame: number;
  /** Nats per hidden cell (its three attributes). */
  per_cell: number;
  /** Nats per hidden direction. */
  dir: number;
  /** Hidden cells with all three attributes right. */
  cell_acc: number;
  /** Hidden frames scored (one per window). */
  frames: number;
}

/** Summarise a `whole_frame` tally as {@link ObsNllSummary}. */
export function summarizeObsNll(t: Tally): ObsNllSummary {
  return {
    per_frame: t.windows > 0 ? (t.cellNll + t.dirNll) / t.windows : NaN,
    per_cell: t.cell[1] > 0 ? t.cellNll / t.cell[1] : NaN,
    dir: t.dir[1] > 0 ? t.dirNll / t.dir[1] : NaN,
    cell_acc: ratio(t.cell),
    frames: t.windows,
  };
}
