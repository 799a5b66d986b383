/**
 * The overlapping-model WFC solve of MiniGrid 3.1.0 (`wfclogic/solver.py` and `control.py`
 * with the presets' settings: entropy location heuristic, weighted pattern choice, no ground,
 * no backtracking, one attempt), drawing from the env's numpy Generator in the same order:
 * `random((rows, cols))` for the location tie-break noise, then one `choice(P, p=...)` per
 * collapsed cell.
 *
 * Constraint propagation reaches the same fixpoint as the reference's whole-wave sweeps (the
 * largest arc-consistent wave, which is unique), here with a worklist of changed cells over
 * per-cell pattern bitsets.
 *
 * @module
 */

import type { Generator } from "../../rng.ts";
import { DIRECTIONS, type PatternCatalog } from "./catalog.ts";

/** Result of one solve: the chosen pattern per cell (row-major, rows x cols), or null. */
export type WfcSolution = Int32Array | null;

/**
 * Solve a rows x cols wave (first axis `rows`, as the reference's `output_size[0]`).
 * Returns null on a contradiction (the reference then gives up: `execute_wfc` makes one attempt).
 */
export function solveWave(
  cat: PatternCatalog,
  rows: number,
  cols: number,
  periodic: boolean,
  rng: Generator,
): WfcSolution {
  const P = cat.count, W = cat.words, N = rows * cols;
  const prefs = new Float64Array(N);
  for (let i = 0; i < N; i++) prefs[i] = rng.random() * 0.1;

  const wave = new Uint32Array(N * W);
  const full = new Uint32Array(W);
  for (let p = 0; p < P; p++) full[p >>> 5] |= 1 << (p & 31);
  for (let c = 0; c < N; c++) wave.set(full, c * W);
  const count = new Int32Array(N).fill(P);

  // neighbour[d * N + c]: the cell at offset DIRECTIONS[d] from c, or -1 outside (non-periodic).
  const neighbour = new Int32Array(4 * N);
  for (let d = 0; d < 4; d++) {
    const [dx, dy] = DIRECTIONS[d];
    for (let x = 0; x < rows; x++) {
      for (let y = 0; y < cols; y++) {
        let nx = x + dx, ny = y + dy;
        if (periodic) {
          nx = (nx + rows) % rows;
          ny = (ny + cols) % cols;
        } else if (nx < 0 || nx >= rows || ny < 0 || ny >= cols) {
          neighbour[d * N + x * cols + y] = -1;
          continue;
        }
        neighbour[d * N + x * cols + y] = nx * cols + ny;
      }
    }
  }

  // Worklist of cells to re-check (a ring: each cell is queued at most once at a time).
  const queued = new Uint8Array(N);
  const ring = new Int32Array(N);
  let head = 0, size = 0;
  const push = (c: number) => {
    if (!queued[c]) {
      queued[c] = 1;
      ring[(head + size) % N] = c;
      size++;
    }
  };
  /** Queue the cells whose support depends on cell c (its four neighbours). */
  const pushDependents = (c: number) => {
    for (let d = 0; d < 4; d++) {
      const m = neighbour[d * N + c];
      if (m >= 0) push(m);
    }
  };

  /** Remove the patterns of cell c lacking support in some direction; false if c empties. */
  const revise = (c: number): boolean => {
    const base = c * W;
    let changed = false;
    for (let p = 0; p < P; p++) {
      const bit = 1 << (p & 31), wi = base + (p >>> 5);
      if (!(wave[wi] & bit)) continue;
      for (let d = 0; d < 4; d++) {
        const nb = neighbour[d * N + c];
        let ok: boolean;
        if (nb < 0) ok = cat.anyAdj[d][p] === 1;
        else {
          ok = false;
          const row = cat.adj[d], rb = p * W, nbb = nb * W;
          for (let w = 0; w < W; w++) {
            if (row[rb + w] & wave[nbb + w]) {
              ok = true;
              break;
            }
          }
        }
        if (!ok) {
          wave[wi] &= ~bit;
          count[c]--;
          changed = true;
          break;
        }
      }
    }
    if (changed) pushDependents(c);
    return count[c] > 0;
  };

  const drain = (): boolean => {
    while (size > 0) {
      const c = ring[head];
      head = (head + 1) % N;
      size--;
      queued[c] = 0;
      if (!revise(c)) return false;
    }
    return true;
  };

  const weighted = new Float64Array(P);
  let first = true;
  for (;;) {
    let solved = true;
    for (let c = 0; c < N; c++) {
      if (count[c] !== 1) {
        solved = false;
        break;
      }
    }
    if (solved) break;
    if (first) {
      first = false;
      for (let c = 0; c < N; c++) push(c);
      if (!drain()) return null;
    }
    // Entropy heuristic: the unresolved cell with the smallest count + noise (first on ties).
    let best = -1, bestW = Infinity;
    for (let c = 0; c < N; c++) {
      if (count[c] > 1) {
        const w = prefs[c] + count[c];
        if (w < bestW) {
          bestW = w;
          best = c;
        }
      }
    }
    if (best < 0) best = 0; // argmin of an all-inf array (cannot happen with >1 pattern left)
    // Weighted choice among the cell's patterns.
    let sum = 0;
    for (let p = 0; p < P; p++) {
      weighted[p] = wave[best * W + (p >>> 5)] & (1 << (p & 31)) ? cat.weights[p] : 0;
      sum += weighted[p];
    }
    for (let p = 0; p < P; p++) weighted[p] = weighted[p] / sum;
    const pick = rng.choiceP(weighted);
    wave.fill(0, best * W, best * W + W);
    wave[best * W + (pick >>> 5)] = 1 << (pick & 31);
    count[best] = 1;
    pushDependents(best);
    if (!drain()) return null;
  }
  const out = new Int32Array(N);
  for (let c = 0; c < N; c++) {
    for (let p = 0; p < P; p++) {
      if (wave[c * W + (p >>> 5)] & (1 << (p & 31))) {
        out[c] = p;
        break;
      }
    }
  }
  return out;
}
