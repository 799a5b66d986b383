/**
 * Dynamic-Obstacles (MiniGrid `envs/dynamicobstacles.py`): balls move randomly every step;
 * bumping into one (or a wall) ends the episode with reward -1. Action space: left/right/forward.
 *
 * @module
 */

import { Actions } from "../constants.ts";
import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions, RecursionError, squareGrid, type StepResult } from "../env_api.ts";
import { Ball, Goal, type Point } from "../objects.ts";

/** DynamicObstaclesEnv options. */
export interface DynamicObstaclesOptions extends MiniGridOptions {
  /** Grid size (default 8). */
  size?: number;
  /** Fixed start or null for random (default [1, 1]). */
  agentStartPos?: Point | null;
  /** Start direction (default 0). */
  agentStartDir?: number;
  /** Number of obstacles (default 4; capped at size/2 when > size/2 + 1). */
  nObstacles?: number;
  /** Step limit (default 4 * size^2). */
  maxSteps?: number;
}

/** MiniGrid-Dynamic-Obstacles-*. */
export class DynamicObstaclesEnv extends MiniGridEnv {
  /** Fixed start or null. */
  agentStartPos: Point | null;
  /** Start direction. */
  agentStartDir: number;
  /** Number of obstacles. */
  nObstacles: number;
  /** The obstacles. */
  obstacles: Ball[] = [];

  /** @param opts see DynamicObstaclesOptions */
  constructor(opts: DynamicObstaclesOptions = {}) {
    const size = opts.size ?? 8;
    super(squareGrid(new.target.name, opts, size, true, 4 * size * size));
    this.agentStartPos = opts.agentStartPos === undefined ? [1, 1] : opts.agentStartPos;
    this.agentStartDir = opts.agentStartDir ?? 0;
    const n = opts.nObstacles ?? 4;
    this.nObstacles = n <= size / 2 + 1 ? Math.trunc(n) : Math.trunc(size / 2);
    this.actionSpaceN = Actions.forward + 1;
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    this.grid.set(width - 2, height - 2, new Goal());
    this.startAgent(this.agentStartPos, this.agentStartDir);
    this.obstacles = [];
    for (let i = 0; i < this.nObstacles; i++) {
      const b = new Ball();
      this.obstacles.push(b);
      this.placeObj(b, null, null, null, 100);
    }
    this.mission = "get to the green goal square";
  }

  protected override doStep(action: number): StepResult {
    if (action >= this.actionSpaceN) action = 0;
    const [fx, fy] = this.frontPos;
    const front = this.grid.get(fx, fy);
    const notClear = front !== null && front.type !== "goal";
    for (const ob of this.obstacles) {
      const old = ob.curPos!;
      try {
        this.placeObj(ob, [old[0] - 1, old[1] - 1], [3, 3], null, 100);
        this.grid.set(old[0], old[1], null);
      } catch (e) {
        if (!(e instanceof RecursionError)) throw e;
      }
    }
    const r = super.doStep(action);
    if (action === Actions.forward && notClear) {
      r.reward = -1;
      r.terminated = true;
    }
    return r;
  }
}
