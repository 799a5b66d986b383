/**
 * Playground (MiniGrid `envs/playground.py`): 3x3 rooms with doors and 12 random objects; no task.
 *
 * @module
 */

import { COLOR_NAMES } from "../constants.ts";
import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions } from "../env_api.ts";
import { Ball, Box, Door, Key, type WorldObj } from "../objects.ts";

/** MiniGrid-Playground-v0. */
export class PlaygroundEnv extends MiniGridEnv {
  /** @param opts base options (maxSteps default 100) */
  constructor(opts: MiniGridOptions = {}) {
    super({ ...opts, width: 19, height: 19, maxSteps: opts.maxSteps ?? 100 });
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    const roomW = Math.floor(width / 3), roomH = Math.floor(height / 3);
    for (let j = 0; j < 3; j++) {
      for (let i = 0; i < 3; i++) {
        const xL = i * roomW, yT = j * roomH, xR = xL + roomW, yB = yT + roomH;
        if (i + 1 < 3) {
          this.grid.vertWall(xR, yT, roomH);
          const y = this.randInt(yT + 1, yB - 1);
          const color = this.randElem(COLOR_NAMES);
          this.grid.set(xR, y, new Door(color));
        }
        if (j + 1 < 3) {
          this.grid.horzWall(xL, yB, roomW);
          const x = this.randInt(xL + 1, xR - 1);
          const color = this.randElem(COLOR_NAMES);
          this.grid.set(x, yB, new Door(color));
        }
      }
    }
    this.placeAgent();
    for (let i = 0; i < 12; i++) {
      const t = this.randElem(["key", "ball", "box"]);
      const c = this.randElem(COLOR_NAMES);
      let obj: WorldObj;
      if (t === "key") obj = new Key(c);
      else if (t === "ball") obj = new Ball(c);
      else obj = new Box(c);
      this.placeObj(obj);
    }
    this.mission = "";
  }
}
