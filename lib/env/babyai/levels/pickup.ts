/**
 * Pickup levels (Minigrid 3.1.0 `minigrid/envs/babyai/pickup.py`): pick up an object, with
 * locations, distances or blockers.
 *
 * @module
 */

import type { ColorName } from "../../constants.ts";
import { type DescType, descType as t, ObjDesc, PickupInstr } from "../instructions.ts";
import { LevelGen, type LevelGenOptions } from "../levelgen.ts";
import { RejectSampling, RoomGridLevel, type RoomGridLevelOptions } from "../roomgrid_level.ts";

/** Pick up an object, maybe in another room. */
export class Pickup extends RoomGridLevel {
  protected genMission(): void {
    this.placeAgent();
    this.connectAll();
    const objs = this.addDistractors(null, null, 18, false);
    this.checkObjsReachable();
    const obj = this.randElem(objs);
    this.instrs = new PickupInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** Pick up an object; some objects must be moved out of the way. */
export class UnblockPickup extends RoomGridLevel {
  protected genMission(): void {
    this.placeAgent();
    this.connectAll();
    const objs = this.addDistractors(null, null, 20, false);
    if (this.checkObjsReachable(false)) throw new RejectSampling("all objects reachable");
    const obj = this.randElem(objs);
    this.instrs = new PickupInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** Pick up an object described with its location, single room. */
export class PickupLoc extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({
      ...opts,
      actionKinds: ["pickup"],
      instrKinds: ["action"],
      numRows: 1,
      numCols: 1,
      numDists: 8,
      lockedRoomProb: 0,
      locations: true,
      unblocking: false,
    });
  }
}

/** PickupDist options. */
export interface DebugOptions extends RoomGridLevelOptions {
  /** Strict verifier. */
  debug?: boolean;
}

/** Pick up an object given by type, colour or both. */
export class PickupDist extends RoomGridLevel {
  /** Strict verifier. */
  debug: boolean;
  /** @param opts debug (false); one room of size 7 */
  constructor(opts: DebugOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 1, roomSize: 7 });
    this.debug = opts.debug ?? false;
  }
  protected genMission(): void {
    const objs = this.addDistractors(null, null, 5);
    this.placeAgent(0, 0);
    const obj = this.randElem(objs);
    let type: DescType | null = t(obj);
    let color: ColorName | null = obj.color;
    const selectBy = this.randElem(["type", "color", "both"] as const);
    if (selectBy === "color") type = null;
    else if (selectBy === "type") color = null;
    this.instrs = new PickupInstr(new ObjDesc(type, color), this.debug);
  }
}

/** Pick up an object in the room above. */
export class PickupAbove extends RoomGridLevel {
  /** @param opts room size 6, maxSteps 8*36 */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, roomSize: 6, maxSteps: opts.maxSteps ?? 8 * 36 });
  }
  protected genMission(): void {
    const [obj] = this.addObject(1, 0);
    this.addDoor(1, 1, 3, null, false);
    this.placeAgent(1, 1);
    this.connectAll();
    this.instrs = new PickupInstr(new ObjDesc(t(obj), obj.color));
  }
}
