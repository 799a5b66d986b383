/**
 * Memory (MiniGrid `envs/memory.py`): remember the object in the start room and go to the
 * matching one at the end of the hallway. `pickup` acts as `toggle`.
 *
 * @module
 */

import { Actions } from "../constants.ts";
import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions, squareGrid, type StepResult } from "../env_api.ts";
import { Ball, Key, type Point, Wall } from "../objects.ts";

/** MemoryEnv options. */
export interface MemoryOptions extends MiniGridOptions {
  /** Grid size (odd, default 8 as in Python — registered ids use odd sizes). */
  size?: number;
  /** Random hallway length (default false). */
  randomLength?: boolean;
  /** Step limit (default 5 * size^2). */
  maxSteps?: number;
}

/** MiniGrid-MemoryS*. */
export class MemoryEnv extends MiniGridEnv {
  /** Random hallway length. */
  randomLength: boolean;
  /** Cell that gives success. */
  successPos: Point = [0, 0];
  /** Cell that gives failure. */
  failurePos: Point = [0, 0];

  /** @param opts see MemoryOptions */
  constructor(opts: MemoryOptions = {}) {
    const size = opts.size ?? 8;
    super(squareGrid(new.target.name, opts, size, false, 5 * size * size));
    this.randomLength = opts.randomLength ?? false;
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    if (height % 2 !== 1) throw new RangeError(`MemoryEnv: height must be odd, got ${height}`);
    const mid = height >> 1;
    const upper = mid - 2, lower = mid + 2;
    const hallwayEnd = this.randomLength ? this.randInt(4, width - 2) : width - 3;
    for (let i = 1; i < 5; i++) {
      this.grid.set(i, upper, new Wall());
      this.grid.set(i, lower, new Wall());
    }
    this.grid.set(4, upper + 1, new Wall());
    this.grid.set(4, lower - 1, new Wall());
    for (let i = 5; i < hallwayEnd; i++) {
      this.grid.set(i, upper + 1, new Wall());
      this.grid.set(i, lower - 1, new Wall());
    }
    for (let j = 0; j < height; j++) {
      if (j !== mid) this.grid.set(hallwayEnd, j, new Wall());
      this.grid.set(hallwayEnd + 2, j, new Wall());
    }
    this.agentPos = [this.randInt(1, hallwayEnd + 1), mid];
    this.agentDir = 0;
    const startObj = this.randElem(["key", "ball"] as const);
    this.grid.set(1, mid - 1, startObj === "key" ? new Key("green") : new Ball("green"));
    const others = this.randElem([["ball", "key"], ["key", "ball"]] as const);
    const pos0: Point = [hallwayEnd + 1, mid - 2];
    const pos1: Point = [hallwayEnd + 1, mid + 2];
    const mk = (k: string) => k === "key" ? new Key("green") : new Ball("green");
    this.grid.set(pos0[0], pos0[1], mk(others[0]));
    this.grid.set(pos1[0], pos1[1], mk(others[1]));
    if (startObj === others[0]) {
      this.successPos = [pos0[0], pos0[1] + 1];
      this.failurePos = [pos1[0], pos1[1] - 1];
    } else {
      this.successPos = [pos1[0], pos1[1] - 1];
      this.failurePos = [pos0[0], pos0[1] + 1];
    }
    this.mission = "go to the matching object at the end of the hallway";
  }

  protected override doStep(action: number): StepResult {
    if (action === Actions.pickup) action = Actions.toggle;
    const r = super.doStep(action);
    if (this.agentX === this.successPos[0] && this.agentY === this.successPos[1]) {
      r.reward = this.reward();
      r.terminated = true;
    }
    if (this.agentX === this.failurePos[0] && this.agentY === this.failurePos[1]) {
      r.reward = 0;
      r.terminated = true;
    }
    return r;
  }
}
