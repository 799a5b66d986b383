/**
 * GoToDoor and GoToObject (MiniGrid `envs/gotodoor.py`, `envs/gotoobject.py`): stand next to
 * the named door/object and emit `done`.
 *
 * @module
 */

import { Actions, COLOR_NAMES, type ColorName } from "../constants.ts";
import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions, squareGrid, type StepResult } from "../env_api.ts";
import { Ball, Box, Door, Key, type Point, type WorldObj } from "../objects.ts";

/** Options of GoToDoor / GoToObject. */
export interface GoToOptions extends MiniGridOptions {
  /** Grid size (GoToDoor default 5, GoToObject default 6). */
  size?: number;
  /** GoToObject: number of objects (default 2). */
  numObjs?: number;
  /** Step limit (GoToDoor 4 * size^2, GoToObject 5 * size^2). */
  maxSteps?: number;
}

function doneNextTo(env: MiniGridEnv, action: number, target: Point, r: StepResult): StepResult {
  const ax = env.agentX, ay = env.agentY;
  const [tx, ty] = target;
  if (action === Actions.toggle) r.terminated = true;
  if (action === Actions.done) {
    if ((ax === tx && Math.abs(ay - ty) === 1) || (ay === ty && Math.abs(ax - tx) === 1)) {
      r.reward = 1 - 0.9 * (env.stepCount / env.maxSteps);
    }
    r.terminated = true;
  }
  return r;
}

/** MiniGrid-GoToDoor-*. */
export class GoToDoorEnv extends MiniGridEnv {
  /** Target door position. */
  targetPos: Point = [0, 0];
  /** Target door colour. */
  targetColor: ColorName = "red";

  /** @param opts see GoToOptions */
  constructor(opts: GoToOptions = {}) {
    const size = opts.size ?? 5;
    if (size < 5) throw new RangeError(`GoToDoorEnv: size must be >= 5, got ${size}`);
    super(squareGrid(new.target.name, opts, size, true, 4 * size * size));
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    width = this.randInt(5, width + 1);
    height = this.randInt(5, height + 1);
    this.grid.wallRect(0, 0, width, height);
    const doorPos: Point[] = [];
    doorPos.push([this.randInt(2, width - 2), 0]);
    doorPos.push([this.randInt(2, width - 2), height - 1]);
    doorPos.push([0, this.randInt(2, height - 2)]);
    doorPos.push([width - 1, this.randInt(2, height - 2)]);
    const doorColors: ColorName[] = [];
    while (doorColors.length < doorPos.length) {
      const color = this.randElem(COLOR_NAMES);
      if (doorColors.includes(color)) continue;
      doorColors.push(color);
    }
    doorPos.forEach((p, idx) => this.grid.set(p[0], p[1], new Door(doorColors[idx])));
    this.placeAgent(null, [width, height]);
    const doorIdx = this.randInt(0, doorPos.length);
    this.targetPos = doorPos[doorIdx];
    this.targetColor = doorColors[doorIdx];
    this.mission = `go to the ${this.targetColor} door`;
  }

  protected override doStep(action: number): StepResult {
    return doneNextTo(this, action, this.targetPos, super.doStep(action));
  }
}

/** MiniGrid-GoToObject-*. */
export class GoToObjectEnv extends MiniGridEnv {
  /** Number of objects. */
  numObjs: number;
  /** Target position. */
  targetPos: Point = [0, 0];
  /** Target type. */
  targetType = "";
  /** Target colour. */
  targetColor = "";

  /** @param opts see GoToOptions */
  constructor(opts: GoToOptions = {}) {
    const size = opts.size ?? 6;
    super(squareGrid(new.target.name, opts, size, true, 5 * size * size));
    this.numObjs = opts.numObjs ?? 2;
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.grid.wallRect(0, 0, width, height);
    const objs: [string, ColorName][] = [];
    const objPos: Point[] = [];
    while (objs.length < this.numObjs) {
      const objType = this.randElem(["key", "ball", "box"]);
      const objColor = this.randElem(COLOR_NAMES);
      if (objs.some(([t, c]) => t === objType && c === objColor)) continue;
      let obj: WorldObj;
      if (objType === "key") obj = new Key(objColor);
      else if (objType === "ball") obj = new Ball(objColor);
      else obj = new Box(objColor);
      const pos = this.placeObj(obj);
      objs.push([objType, objColor]);
      objPos.push(pos);
    }
    this.placeAgent();
    const objIdx = this.randInt(0, objs.length);
    [this.targetType, this.targetColor] = objs[objIdx];
    this.targetPos = objPos[objIdx];
    this.mission = `go to the ${this.targetColor} ${this.targetType}`;
  }

  protected override doStep(action: number): StepResult {
    return doneNextTo(this, action, this.targetPos, super.doStep(action));
  }
}
