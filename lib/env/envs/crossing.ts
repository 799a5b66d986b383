/**
 * LavaCrossing / SimpleCrossing (MiniGrid `envs/crossing.py`): rivers of lava (or walls) with one
 * crossing point each, laid out with numpy `shuffle` and `choice`.
 *
 * @module
 */

import { Grid } from "../grid.ts";
import { EnvUsageError, type MiniGridOptions } from "../env_api.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { Goal, Lava, Wall, type WorldObj } from "../objects.ts";

/** CrossingEnv options. */
export interface CrossingOptions extends MiniGridOptions {
  /** Grid size (odd, default 9). */
  size?: number;
  /** Number of rivers (default 1). */
  numCrossings?: number;
  /** "lava" (default) or "wall". */
  obstacleType?: string;
  /** Step limit (default 4 * size^2). */
  maxSteps?: number;
}

/** MiniGrid-LavaCrossing* / MiniGrid-SimpleCrossing*. */
export class CrossingEnv extends MiniGridEnv {
  /** Number of rivers. */
  numCrossings: number;
  /** Obstacle kind. */
  obstacleType: "lava" | "wall";

  /** @param opts see CrossingOptions */
  constructor(opts: CrossingOptions = {}) {
    const size = opts.size ?? 9;
    const t = (opts.obstacleType ?? "lava").toLowerCase();
    if (t !== "lava" && t !== "wall") {
      throw new EnvUsageError(
        `Unknown obstacle_type '${opts.obstacleType}', expected one of ["lava", "wall"]`,
      );
    }
    super({
      ...opts,
      gridSize: size,
      seeThroughWalls: false,
      maxSteps: opts.maxSteps ?? 4 * size * size,
    });
    this.numCrossings = opts.numCrossings ?? 1;
    this.obstacleType = t;
    this.mission = t === "lava"
      ? "avoid the lava and get to the green goal square"
      : "find the opening and get to the green goal square";
  }

  protected genGrid(width: number, height: number): void {
    if (width % 2 !== 1 || height % 2 !== 1) throw new RangeError("CrossingEnv: size must be odd");
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    this.agentPos = [1, 1];
    this.agentDir = 0;
    this.putObj(new Goal(), width - 2, height - 2);
    const rng = this.rng;
    let rivers: ["v" | "h", number][] = [];
    for (let i = 2; i < height - 2; i += 2) rivers.push(["v", i]);
    for (let j = 2; j < width - 2; j += 2) rivers.push(["h", j]);
    rng.shuffle(rivers);
    rivers = rivers.slice(0, this.numCrossings);
    const riversV = rivers.filter((r) => r[0] === "v").map((r) => r[1]).sort((a, b) => a - b);
    const riversH = rivers.filter((r) => r[0] === "h").map((r) => r[1]).sort((a, b) => a - b);
    const make: () => WorldObj = this.obstacleType === "lava" ? () => new Lava() : () => new Wall();
    for (let i = 1; i < width - 1; i++) for (const j of riversH) this.putObj(make(), i, j);
    for (const i of riversV) for (let j = 1; j < height - 1; j++) this.putObj(make(), i, j);
    const path: ("v" | "h")[] = [
      ...riversV.map(() => "h" as const),
      ...riversH.map(() => "v" as const),
    ];
    rng.shuffle(path);
    const limitsV = [0, ...riversV, height - 1];
    const limitsH = [0, ...riversH, width - 1];
    let roomI = 0, roomJ = 0;
    for (const d of path) {
      let i: number, j: number;
      if (d === "h") {
        i = limitsV[roomI + 1];
        j = rng.choiceRange(limitsH[roomJ] + 1, limitsH[roomJ + 1]);
        roomI++;
      } else {
        i = rng.choiceRange(limitsV[roomI] + 1, limitsV[roomI + 1]);
        j = limitsH[roomJ + 1];
        roomJ++;
      }
      this.grid.set(i, j, null);
    }
  }
}
