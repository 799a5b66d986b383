/**
 * Fetch (MiniGrid `envs/fetch.py`): pick up the named object; any other pickup ends the episode.
 *
 * @module
 */

import { COLOR_NAMES } from "../constants.ts";
import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions, squareGrid, type StepResult } from "../env_api.ts";
import { Ball, Key, type WorldObj } from "../objects.ts";

/** FetchEnv options. */
export interface FetchOptions extends MiniGridOptions {
  /** Grid size (default 8). */
  size?: number;
  /** Number of objects (default 3). */
  numObjs?: number;
  /** Step limit (default 5 * size^2). */
  maxSteps?: number;
}

/** MiniGrid-Fetch-*. */
export class FetchEnv extends MiniGridEnv {
  /** Number of objects. */
  numObjs: number;
  /** Target type. */
  targetType = "";
  /** Target colour. */
  targetColor = "";

  /** @param opts see FetchOptions */
  constructor(opts: FetchOptions = {}) {
    const size = opts.size ?? 8;
    super(squareGrid(new.target.name, opts, size, true, 5 * size * size));
    this.numObjs = opts.numObjs ?? 3;
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    const objs: WorldObj[] = [];
    while (objs.length < this.numObjs) {
      const objType = this.randElem(["key", "ball"]);
      const objColor = this.randElem(COLOR_NAMES);
      const obj = objType === "key" ? new Key(objColor) : new Ball(objColor);
      this.placeObj(obj);
      objs.push(obj);
    }
    this.placeAgent();
    const target = objs[this.randInt(0, objs.length)];
    this.targetType = target.type;
    this.targetColor = target.color;
    const desc = `${this.targetColor} ${this.targetType}`;
    const idx = this.randInt(0, 5);
    const syntax = ["get a", "go get a", "fetch a", "go fetch a", "you must fetch a"][idx];
    this.mission = `${syntax} ${desc}`;
  }

  protected override doStep(action: number): StepResult {
    const r = super.doStep(action);
    if (this.carrying !== null) {
      if (this.carrying.color === this.targetColor && this.carrying.type === this.targetType) {
        r.reward = this.reward();
      } else {
        r.reward = 0;
      }
      r.terminated = true;
    }
    return r;
  }
}
