/**
 * The WFC env's graph stage (MiniGrid 3.1.0 `wfcenv.py` + `graphtransforms.py`, on networkx):
 * keep only the largest 4-connected region of open cells (the rest become walls) and list the
 * open cells in the order networkx yields them, which decides which cells `permutation` picks
 * for the start and the goal.
 *
 * That order is the row-major cell order, except when the kept region holds fewer than half of
 * the open cells: networkx then iterates the subgraph through its node *set*, so the order is
 * CPython's set order of the `(row, col)` tuples after three set builds (the BFS `seen` set of
 * `connected_components`, then one `set(...)` per `subgraph` call). `PySetOrder` reproduces it.
 *
 * @module
 */

import { PySetOrder, pyTupleHash } from "./pyset.ts";

/** Open cells after the graph stage. */
export interface OpenCells {
  /** 1 for cells that stay open (row-major, rows x cols). */
  open: Uint8Array;
  /** The open cells (row-major indices) in networkx's node order. */
  order: number[];
}

/**
 * The graph stage for a rows x cols layout (`navigable[c]` = 1 for open cells). With
 * `ensureConnected` only the largest component of more than one cell is kept (the first one
 * found in row-major order on ties); without it every open cell stays, in row-major order.
 */
export function openCells(
  navigable: Uint8Array,
  rows: number,
  cols: number,
  ensureConnected: boolean,
): OpenCells {
  const N = rows * cols;
  if (!ensureConnected) {
    const order: number[] = [];
    for (let c = 0; c < N; c++) if (navigable[c]) order.push(c);
    return { open: navigable.slice(), order };
  }
  let navCount = 0;
  for (let c = 0; c < N; c++) navCount += navigable[c];
  // connected_components: BFS from each unseen open cell in row-major order; the neighbour
  // order of a cell in the graph built by the reference is up, left, down, right.
  const seen = new Uint8Array(N);
  let best: number[] = [];
  for (let s = 0; s < N; s++) {
    if (!navigable[s] || seen[s]) continue;
    const comp = [s];
    seen[s] = 1;
    for (let k = 0; k < comp.length; k++) {
      const v = comp[k], a = Math.floor(v / cols), b = v % cols;
      const nbrs = [
        a > 0 ? v - cols : -1,
        b > 0 ? v - 1 : -1,
        a < rows - 1 ? v + cols : -1,
        b < cols - 1 ? v + 1 : -1,
      ];
      for (const w of nbrs) {
        if (w >= 0 && navigable[w] && !seen[w]) {
          seen[w] = 1;
          comp.push(w);
        }
      }
    }
    if (comp.length > best.length) best = comp; // stable: the first of equal size wins
  }
  if (best.length <= 1) {
    throw new Error(
      "WFC: the generated level has no connected open region of more than one cell " +
        "(the reference fails here too: IndexError in _get_largest_component)",
    );
  }
  const open = new Uint8Array(N);
  for (const c of best) open[c] = 1;
  let order: number[];
  if (2 * best.length < navCount) {
    const hash = (c: number) => pyTupleHash(Math.floor(c / cols), c % cols);
    let set = new PySetOrder();
    for (const c of best) set.add(c, hash(c)); // BFS insertion order
    for (let copy = 0; copy < 2; copy++) {
      const next = new PySetOrder();
      for (const c of set.order()) next.add(c, hash(c));
      set = next;
    }
    order = set.order();
  } else {
    order = [];
    for (let c = 0; c < N; c++) if (open[c]) order.push(c);
  }
  return { open, order };
}
