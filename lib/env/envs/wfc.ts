/**
 * Wave-function-collapse levels (MiniGrid 3.1.0 `envs/wfc/`, the six `MiniGrid-WFC-*` ids):
 * an overlapping WFC model learnt from a small bitmap fills the inner (size-2)^2 cells with
 * walls and open floor, only the largest connected open region is kept, and the agent and the
 * green goal go on two random open cells. Seed-exact with the reference: the same numpy draws
 * in the same order (`random` noise per cell, one weighted `choice` per collapsed cell,
 * `permutation` for start/goal, `integers(0, 4)` for the direction).
 *
 * @module
 */

import { Grid } from "../grid.ts";
import { EnvUsageError, type MiniGridOptions } from "../env_api.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { Goal, Wall } from "../objects.ts";
import { patternCatalog } from "./wfc/catalog.ts";
import { openCells } from "./wfc/connect.ts";
import { type WfcPreset, wfcPreset } from "./wfc/presets.ts";
import { solveWave } from "./wfc/solver.ts";

/** WfcEnv options (the reference's `WFCEnv` kwargs). */
export interface WfcOptions extends MiniGridOptions {
  /** Preset name (default "MazeSimple"); see `WFC_PRESETS`. */
  wfcConfig?: string;
  /** Grid side including the outer wall (default 25, at least 3). */
  size?: number;
  /** Keep only the largest connected open region (default true). */
  ensureConnected?: boolean;
  /** Step limit (default 20 * size). */
  maxSteps?: number;
}

/** Thrown when the single WFC attempt runs into a contradiction (the reference raises too). */
export class WfcContradictionError extends Error {
  /** @param message what failed */
  constructor(message: string) {
    super(message);
    this.name = "WfcContradictionError";
  }
}

/** MiniGrid-WFC-*: reach the goal through a WFC-generated level. */
export class WfcEnv extends MiniGridEnv {
  /** The preset used. */
  readonly preset: WfcPreset;
  /** Grid side. */
  readonly size: number;
  /** Whether only the largest open region is kept. */
  readonly ensureConnected: boolean;

  /** @param opts see WfcOptions */
  constructor(opts: WfcOptions = {}) {
    const size = opts.size ?? 25;
    if (!Number.isInteger(size) || size < 3) {
      throw new EnvUsageError(`WfcEnv: size must be an integer >= 3, got ${size}`);
    }
    super({ ...opts, gridSize: size, maxSteps: opts.maxSteps ?? size * 20 });
    this.preset = wfcPreset(opts.wfcConfig ?? "MazeSimple");
    this.size = size;
    this.ensureConnected = opts.ensureConnected ?? true;
  }

  protected genGrid(width: number, height: number): void {
    // The reference lays the level out as a [height, width] array and decodes it as
    // [x, y]: its first axis becomes x. Sizes are square here (width = height = size).
    const rows = height - 2, cols = width - 2;
    const rng = this.rng;
    const cat = patternCatalog(this.preset);
    const solution = solveWave(cat, rows, cols, this.preset.outputPeriodic, rng);
    if (solution === null) {
      throw new WfcContradictionError(
        `WFC (${this.preset.name}): the wave reached a contradiction; the reference makes a ` +
          `single attempt and raises "Could not generate a valid pattern" for this seed too`,
      );
    }
    const navigable = new Uint8Array(rows * cols);
    for (let c = 0; c < rows * cols; c++) navigable[c] = cat.wall[solution[c]] ? 0 : 1;
    const { open, order } = openCells(navigable, rows, cols, this.ensureConnected);
    if (order.length < 2) {
      throw new Error(`WFC (${this.preset.name}): fewer than two open cells for start and goal`);
    }
    const perm = rng.permutation(order.length);
    const start = order[perm[0]], goal = order[perm[1]];

    this.grid = new Grid(width, height);
    for (let x = 0; x < width; x++) {
      for (let y = 0; y < height; y++) {
        const inner = x >= 1 && x <= rows && y >= 1 && y <= cols;
        const c = (x - 1) * cols + (y - 1);
        if (!inner || !open[c]) this.grid.set(x, y, new Wall());
        else if (c === goal) this.grid.set(x, y, new Goal());
      }
    }
    this.agentDir = rng.integers(0, 4);
    this.agentPos = [Math.floor(start / cols) + 1, (start % cols) + 1];
    this.mission = "traverse the maze to get to the goal";
  }
}
