/**
 * RedBlueDoors (MiniGrid `envs/redbluedoors.py`): open the red door, then the blue one.
 *
 * @module
 */

import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions, type StepResult } from "../env_api.ts";
import { Door } from "../objects.ts";

/** RedBlueDoorEnv options. */
export interface RedBlueDoorOptions extends MiniGridOptions {
  /** Room size (default 8; grid is 2*size x size). */
  size?: number;
  /** Step limit (default 20 * size^2). */
  maxSteps?: number;
}

/** MiniGrid-RedBlueDoors-*. */
export class RedBlueDoorEnv extends MiniGridEnv {
  /** Room size. */
  size: number;
  /** The red door. */
  redDoor: Door = new Door("red");
  /** The blue door. */
  blueDoor: Door = new Door("blue");

  /** @param opts see RedBlueDoorOptions */
  constructor(opts: RedBlueDoorOptions = {}) {
    const size = opts.size ?? 8;
    super({ ...opts, width: 2 * size, height: size, maxSteps: opts.maxSteps ?? 20 * size * size });
    this.size = size;
  }

  protected genGrid(width: number, height: number): void {
    const s = this.size;
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, 2 * s, s);
    this.grid.wallRect(s >> 1, 0, s, s);
    this.placeAgent([s >> 1, 0], [s, s]);
    let pos = this.randInt(1, s - 1);
    this.redDoor = new Door("red");
    this.grid.set(s >> 1, pos, this.redDoor);
    pos = this.randInt(1, s - 1);
    this.blueDoor = new Door("blue");
    this.grid.set((s >> 1) + s - 1, pos, this.blueDoor);
    this.mission = "open the red door then the blue door";
  }

  protected override doStep(action: number): StepResult {
    const redBefore = this.redDoor.isOpen;
    const blueBefore = this.blueDoor.isOpen;
    const r = super.doStep(action);
    if (this.blueDoor.isOpen) {
      r.reward = redBefore ? this.reward() : 0;
      r.terminated = true;
    } else if (this.redDoor.isOpen) {
      if (blueBefore) {
        r.reward = 0;
        r.terminated = true;
      }
    }
    return r;
  }
}
