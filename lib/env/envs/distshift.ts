/**
 * DistShift (MiniGrid `envs/distshift.py`): two lava strips between start and goal.
 *
 * @module
 */

import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions } from "../env_api.ts";
import { Goal, Lava, type Point } from "../objects.ts";

/** DistShiftEnv options. */
export interface DistShiftOptions extends MiniGridOptions {
  /** Width (default 9). */
  width?: number;
  /** Height (default 7). */
  height?: number;
  /** Fixed start or null for random (default [1, 1]). */
  agentStartPos?: Point | null;
  /** Start direction (default 0). */
  agentStartDir?: number;
  /** Row of the second lava strip (default 2). */
  strip2Row?: number;
  /** Step limit (default 4 * width * height). */
  maxSteps?: number;
}

/** MiniGrid-DistShift1/2-v0. */
export class DistShiftEnv extends MiniGridEnv {
  /** Fixed start or null. */
  agentStartPos: Point | null;
  /** Start direction. */
  agentStartDir: number;
  /** Goal position. */
  goalPos: Point;
  /** Row of the second strip. */
  strip2Row: number;

  /** @param opts see DistShiftOptions */
  constructor(opts: DistShiftOptions = {}) {
    const width = opts.width ?? 9, height = opts.height ?? 7;
    super({
      ...opts,
      width,
      height,
      seeThroughWalls: true,
      maxSteps: opts.maxSteps ?? 4 * width * height,
    });
    this.agentStartPos = opts.agentStartPos === undefined ? [1, 1] : opts.agentStartPos;
    this.agentStartDir = opts.agentStartDir ?? 0;
    this.goalPos = [width - 2, 1];
    this.strip2Row = opts.strip2Row ?? 2;
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    this.putObj(new Goal(), this.goalPos[0], this.goalPos[1]);
    for (let i = 0; i < this.width - 6; i++) {
      this.grid.set(3 + i, 1, new Lava());
      this.grid.set(3 + i, this.strip2Row, new Lava());
    }
    this.startAgent(this.agentStartPos, this.agentStartDir);
    this.mission = "get to the green goal square";
  }
}
