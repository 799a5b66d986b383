/**
 * Empty room (MiniGrid `envs/empty.py`): reach the green goal in the bottom-right corner.
 *
 * @module
 */

import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions, squareGrid } from "../env_api.ts";
import { Goal, type Point } from "../objects.ts";

/** EmptyEnv options. */
export interface EmptyOptions extends MiniGridOptions {
  /** Grid size (default 8). */
  size?: number;
  /** Fixed start position, or null for a random one (default [1, 1]). */
  agentStartPos?: Point | null;
  /** Start direction when agentStartPos is given (default 0). */
  agentStartDir?: number;
  /** Step limit (default 4 * size^2). */
  maxSteps?: number;
}

/** MiniGrid-Empty-*. */
export class EmptyEnv extends MiniGridEnv {
  /** Fixed start position or null. */
  agentStartPos: Point | null;
  /** Fixed start direction. */
  agentStartDir: number;

  /** @param opts see EmptyOptions */
  constructor(opts: EmptyOptions = {}) {
    const size = opts.size ?? 8;
    super(squareGrid(new.target.name, opts, size, true, 4 * size * size));
    this.agentStartPos = opts.agentStartPos === undefined ? [1, 1] : opts.agentStartPos;
    this.agentStartDir = opts.agentStartDir ?? 0;
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    this.putObj(new Goal(), width - 2, height - 2);
    this.startAgent(this.agentStartPos, this.agentStartDir);
    this.mission = "get to the green goal square";
  }
}
