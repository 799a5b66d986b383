/**
 * LavaGap (MiniGrid `envs/lavagap.py`): a vertical strip of lava with one gap.
 *
 * @module
 */

import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions, squareGrid } from "../env_api.ts";
import { Goal, Lava, Wall, type WorldObj } from "../objects.ts";

/** LavaGapEnv options. */
export interface LavaGapOptions extends MiniGridOptions {
  /** Grid size (>= 5). */
  size?: number;
  /** Obstacle kind: "lava" (default) or "wall". */
  obstacleType?: "lava" | "wall";
  /** Step limit (default 4 * size^2). */
  maxSteps?: number;
}

/** MiniGrid-LavaGapS*-v0. */
export class LavaGapEnv extends MiniGridEnv {
  /** Obstacle kind. */
  obstacleType: "lava" | "wall";
  /** Gap position. */
  gapPos: [number, number] = [0, 0];

  /** @param opts see LavaGapOptions */
  constructor(opts: LavaGapOptions = {}) {
    const size = opts.size ?? 5;
    super(squareGrid(new.target.name, opts, size, false, 4 * size * size));
    this.obstacleType = opts.obstacleType ?? "lava";
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    this.agentPos = [1, 1];
    this.agentDir = 0;
    this.putObj(new Goal(), width - 2, height - 2);
    const gx = this.randInt(2, width - 2);
    const gy = this.randInt(1, height - 1);
    this.gapPos = [gx, gy];
    const make: () => WorldObj = this.obstacleType === "lava" ? () => new Lava() : () => new Wall();
    this.grid.vertWall(gx, 1, height - 2, make);
    this.grid.set(gx, gy, null);
    this.mission = this.obstacleType === "lava"
      ? "avoid the lava and get to the green goal square"
      : "find the opening and get to the green goal square";
  }
}
