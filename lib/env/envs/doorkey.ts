/**
 * DoorKey (MiniGrid `envs/doorkey.py`): pick up the key, unlock the door, reach the goal.
 *
 * @module
 */

import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions } from "../env_api.ts";
import { Door, Goal, Key } from "../objects.ts";

/** DoorKeyEnv options. */
export interface DoorKeyOptions extends MiniGridOptions {
  /** Grid size (default 8). */
  size?: number;
  /** Step limit (default 10 * size^2). */
  maxSteps?: number;
}

/** MiniGrid-DoorKey-*. */
export class DoorKeyEnv extends MiniGridEnv {
  /** @param opts see DoorKeyOptions */
  constructor(opts: DoorKeyOptions = {}) {
    const size = opts.size ?? 8;
    super({ ...opts, gridSize: size, maxSteps: opts.maxSteps ?? 10 * size * size });
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    this.putObj(new Goal(), width - 2, height - 2);
    const splitIdx = this.randInt(2, width - 2);
    this.grid.vertWall(splitIdx, 0);
    this.placeAgent(null, [splitIdx, height]);
    const doorIdx = this.randInt(1, height - 2);
    this.putObj(new Door("yellow", false, true), splitIdx, doorIdx);
    this.placeObj(new Key("yellow"), [0, 0], [splitIdx, height]);
    this.mission = "use the key to open the door and then get to the goal";
  }
}
