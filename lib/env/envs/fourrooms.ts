/**
 * FourRooms (MiniGrid `envs/fourrooms.py`): four 9x9 rooms with one gap in each inner wall.
 *
 * @module
 */

import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions } from "../env_api.ts";
import { Goal, type Point } from "../objects.ts";

/** FourRoomsEnv options. */
export interface FourRoomsOptions extends MiniGridOptions {
  /** Fixed agent start (random direction) or null for random. */
  agentPos?: Point | null;
  /** Fixed goal position or null for random. */
  goalPos?: Point | null;
  /** Step limit (default 100). */
  maxSteps?: number;
}

/** MiniGrid-FourRooms-v0. */
export class FourRoomsEnv extends MiniGridEnv {
  private agentDefaultPos: Point | null;
  private goalDefaultPos: Point | null;

  /** @param opts see FourRoomsOptions */
  constructor(opts: FourRoomsOptions = {}) {
    super({ ...opts, width: 19, height: 19, maxSteps: opts.maxSteps ?? 100 });
    this.agentDefaultPos = opts.agentPos ?? null;
    this.goalDefaultPos = opts.goalPos ?? null;
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    const roomW = Math.floor(width / 2), roomH = Math.floor(height / 2);
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < 2; i++) {
        const xL = i * roomW, yT = j * roomH, xR = xL + roomW, yB = yT + roomH;
        if (i + 1 < 2) {
          this.grid.vertWall(xR, yT, roomH);
          this.grid.set(xR, this.randInt(yT + 1, yB), null);
        }
        if (j + 1 < 2) {
          this.grid.horzWall(xL, yB, roomW);
          this.grid.set(this.randInt(xL + 1, xR), yB, null);
        }
      }
    }
    if (this.agentDefaultPos !== null) {
      this.agentPos = this.agentDefaultPos;
      this.grid.set(this.agentDefaultPos[0], this.agentDefaultPos[1], null);
      this.agentDir = this.randInt(0, 4);
    } else {
      this.placeAgent();
    }
    if (this.goalDefaultPos !== null) {
      this.putObj(new Goal(), this.goalDefaultPos[0], this.goalDefaultPos[1]);
    } else {
      this.placeObj(new Goal());
    }
    this.mission = "reach the goal";
  }
}
