/**
 * Unlock, UnlockPickup and BlockedUnlockPickup (MiniGrid `envs/unlock.py`, `unlockpickup.py`,
 * `blockedunlockpickup.py`): two rooms joined by a locked door.
 *
 * @module
 */

import { Actions } from "../constants.ts";
import type { StepResult } from "../env_api.ts";
import { Ball, type Door, type WorldObj } from "../objects.ts";
import { RoomGrid, type RoomGridOptions } from "../roomgrid.ts";

/** Options of the Unlock family (only maxSteps / agentViewSize). */
export interface UnlockOptions extends RoomGridOptions {
  /** Step limit (default 8 * 6^2, or 16 * 6^2 for BlockedUnlockPickup). */
  maxSteps?: number;
}

/** MiniGrid-Unlock-v0: open the locked door. */
export class UnlockEnv extends RoomGrid {
  /** The locked door. */
  door: Door | null = null;

  /** @param opts see UnlockOptions */
  constructor(opts: UnlockOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 2, roomSize: 6, maxSteps: opts.maxSteps ?? 8 * 36 });
  }

  protected override genGrid(width: number, height: number): void {
    super.genGrid(width, height);
    const [door] = this.addDoor(0, 0, 0, null, true);
    this.addObject(0, 0, "key", door.color);
    this.placeAgent(0, 0);
    this.door = door;
    this.mission = "open the door";
  }

  protected override doStep(action: number): StepResult {
    const r = super.doStep(action);
    if (action === Actions.toggle && this.door!.isOpen) {
      r.reward = this.reward();
      r.terminated = true;
    }
    return r;
  }
}

/** MiniGrid-UnlockPickup-v0: unlock the door and pick up the box behind it. */
export class UnlockPickupEnv extends RoomGrid {
  /** The target box. */
  obj: WorldObj | null = null;

  /** @param opts see UnlockOptions */
  constructor(opts: UnlockOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 2, roomSize: 6, maxSteps: opts.maxSteps ?? 8 * 36 });
  }

  protected override genGrid(width: number, height: number): void {
    super.genGrid(width, height);
    const [obj] = this.addObject(1, 0, "box");
    const [door] = this.addDoor(0, 0, 0, null, true);
    this.addObject(0, 0, "key", door.color);
    this.placeAgent(0, 0);
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

/** MiniGrid-BlockedUnlockPickup-v0: like UnlockPickup, with a ball blocking the door. */
export class BlockedUnlockPickupEnv extends RoomGrid {
  /** The target box. */
  obj: WorldObj | null = null;

  /** @param opts see UnlockOptions */
  constructor(opts: UnlockOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 2, roomSize: 6, maxSteps: opts.maxSteps ?? 16 * 36 });
  }

  protected override genGrid(width: number, height: number): void {
    super.genGrid(width, height);
    const [obj] = this.addObject(1, 0, "box");
    const [door, pos] = this.addDoor(0, 0, 0, null, true);
    const color = this.randColor();
    this.grid.set(pos[0] - 1, pos[1], new Ball(color));
    this.addObject(0, 0, "key", door.color);
    this.placeAgent(0, 0);
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
