/**
 * PutNear (MiniGrid `envs/putnear.py`): put the named object next to another one.
 *
 * @module
 */

import { Actions, COLOR_NAMES, type ColorName } from "../constants.ts";
import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions, squareGrid, type StepResult } from "../env_api.ts";
import { Ball, Box, Key, type Point, type WorldObj } from "../objects.ts";

/** PutNearEnv options. */
export interface PutNearOptions extends MiniGridOptions {
  /** Grid size (default 6). */
  size?: number;
  /** Number of objects (default 2). */
  numObjs?: number;
  /** Step limit (default 5 * size). */
  maxSteps?: number;
}

/** MiniGrid-PutNear-*. */
export class PutNearEnv extends MiniGridEnv {
  /** Number of objects. */
  numObjs: number;
  /** Object to move. */
  moveType = "";
  /** Its colour. */
  moveColor = "";
  /** Its start position. */
  movePos: Point = [0, 0];
  /** Target type. */
  targetType = "";
  /** Target colour. */
  targetColor = "";
  /** Target position. */
  targetPos: Point = [0, 0];

  /** @param opts see PutNearOptions */
  constructor(opts: PutNearOptions = {}) {
    const size = opts.size ?? 6;
    super(squareGrid(new.target.name, opts, size, true, 5 * size));
    this.numObjs = opts.numObjs ?? 2;
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    const objs: [string, ColorName][] = [];
    const objPos: Point[] = [];
    const nearObj = (_env: MiniGridEnv, p1: Point): boolean => {
      for (const p2 of objPos) {
        if (Math.abs(p1[0] - p2[0]) <= 1 && Math.abs(p1[1] - p2[1]) <= 1) return true;
      }
      return false;
    };
    while (objs.length < this.numObjs) {
      const objType = this.randElem(["key", "ball", "box"]);
      const objColor = this.randElem(COLOR_NAMES);
      if (objs.some(([t, c]) => t === objType && c === objColor)) continue;
      let obj: WorldObj;
      if (objType === "key") obj = new Key(objColor);
      else if (objType === "ball") obj = new Ball(objColor);
      else obj = new Box(objColor);
      const pos = this.placeObj(obj, null, null, nearObj);
      objs.push([objType, objColor]);
      objPos.push(pos);
    }
    this.placeAgent();
    const objIdx = this.randInt(0, objs.length);
    [this.moveType, this.moveColor] = objs[objIdx];
    this.movePos = objPos[objIdx];
    let targetIdx: number;
    for (;;) {
      targetIdx = this.randInt(0, objs.length);
      if (targetIdx !== objIdx) break;
    }
    [this.targetType, this.targetColor] = objs[targetIdx];
    this.targetPos = objPos[targetIdx];
    this.mission =
      `put the ${this.moveColor} ${this.moveType} near the ${this.targetColor} ${this.targetType}`;
  }

  protected override doStep(action: number): StepResult {
    const preCarrying = this.carrying;
    const r = super.doStep(action);
    const [u, v] = this.dirVec;
    const ox = this.agentX + u, oy = this.agentY + v;
    const [tx, ty] = this.targetPos;
    if (action === Actions.pickup && this.carrying !== null) {
      if (this.carrying.type !== this.moveType || this.carrying.color !== this.moveColor) {
        r.terminated = true;
      }
    }
    if (action === Actions.drop && preCarrying !== null) {
      if (this.grid.get(ox, oy) === preCarrying) {
        if (Math.abs(ox - tx) <= 1 && Math.abs(oy - ty) <= 1) r.reward = this.reward();
      }
      r.terminated = true;
    }
    return r;
  }
}
