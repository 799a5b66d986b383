/**
 * KeyCorridor (MiniGrid `envs/keycorridor.py`): find the key, unlock the room, pick up the object.
 *
 * @module
 */

import { Actions } from "../constants.ts";
import type { StepResult } from "../env_api.ts";
import type { WorldObj } from "../objects.ts";
import { RoomGrid, type RoomGridOptions } from "../roomgrid.ts";

/** KeyCorridorEnv options. */
export interface KeyCorridorOptions extends RoomGridOptions {
  /** Rows of rooms (default 3). */
  numRows?: number;
  /** Target object kind (default "ball"). */
  objType?: string;
  /** Room size (default 6). */
  roomSize?: number;
  /** Step limit (default 30 * roomSize^2). */
  maxSteps?: number;
}

/** MiniGrid-KeyCorridorS*R*-v0. */
export class KeyCorridorEnv extends RoomGrid {
  /** Target object kind. */
  objType: string;
  /** The target object. */
  obj: WorldObj | null = null;

  /** @param opts see KeyCorridorOptions */
  constructor(opts: KeyCorridorOptions = {}) {
    const roomSize = opts.roomSize ?? 6;
    super({
      ...opts,
      roomSize,
      numRows: opts.numRows ?? 3,
      maxSteps: opts.maxSteps ?? 30 * roomSize * roomSize,
    });
    this.objType = opts.objType ?? "ball";
  }

  protected override genGrid(width: number, height: number): void {
    super.genGrid(width, height);
    for (let j = 1; j < this.numRows; j++) this.removeWall(1, j, 3);
    const roomIdx = this.randInt(0, this.numRows);
    const [door] = this.addDoor(2, roomIdx, 2, null, true);
    const [obj] = this.addObject(2, roomIdx, this.objType);
    this.addObject(0, this.randInt(0, this.numRows), "key", door.color);
    this.placeAgent(1, this.numRows >> 1);
    this.connectAll();
    this.obj = obj;
    this.mission = `pick up the ${obj.color} ${obj.type}`;
  }

  protected override doStep(action: number): StepResult {
    const r = super.doStep(action);
    if (action === Actions.pickup && this.carrying !== null && this.carrying === this.obj) {
      r.reward = this.reward();
      r.terminated = true;
    }
    return r;
  }
}
