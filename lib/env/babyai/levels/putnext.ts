/**
 * PutNext levels (Minigrid 3.1.0 `minigrid/envs/babyai/putnext.py`): put an object next to
 * another, in one room or across two.
 *
 * @module
 */

import type { ResetOptions, ResetResult } from "../../env_api.ts";
import type { WorldObj } from "../../objects.ts";
import { descType as t, ObjDesc, PutNextInstr } from "../instructions.ts";
import { RoomGridLevel, type RoomGridLevelOptions } from "../roomgrid_level.ts";

/** PutNextLocal options. */
export interface PutNextLocalOptions extends RoomGridLevelOptions {
  /** Objects in the room. */
  numObjs?: number;
}

/** Put an object next to another, single room. */
export class PutNextLocal extends RoomGridLevel {
  /** Objects. */
  numObjs: number;
  /** @param opts roomSize (8), numObjs (8) */
  constructor(opts: PutNextLocalOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 1, roomSize: opts.roomSize ?? 8 });
    this.numObjs = opts.numObjs ?? 8;
  }
  protected genMission(): void {
    this.placeAgent();
    const objs = this.addDistractors(null, null, this.numObjs, true);
    this.checkObjsReachable();
    const [o1, o2] = this.randSubset(objs, 2);
    this.instrs = new PutNextInstr(new ObjDesc(t(o1), o1.color), new ObjDesc(t(o2), o2.color));
  }
}

/** PutNext options. */
export interface PutNextOptions extends RoomGridLevelOptions {
  /** Room size (>= 4). */
  roomSize: number;
  /** Objects per room (<= 9). */
  objsPerRoom: number;
  /** Start carrying the object to move. */
  startCarrying?: boolean;
}

/** Put an object of one room next to one of the other room (the wall between is removed). */
export class PutNext extends RoomGridLevel {
  /** Objects per room. */
  objsPerRoom: number;
  /** Start carrying the object to move. */
  startCarrying: boolean;
  /** The object to move (set by genMission). */
  objA: WorldObj | null = null;
  /** @param opts roomSize, objsPerRoom, startCarrying; maxSteps 8*roomSize² */
  constructor(opts: PutNextOptions) {
    if (!(opts.roomSize >= 4)) {
      throw new Error(`PutNext: roomSize must be >= 4, got ${opts.roomSize}`);
    }
    if (!(opts.objsPerRoom <= 9)) {
      throw new Error(`PutNext: objsPerRoom must be <= 9, got ${opts.objsPerRoom}`);
    }
    super({
      ...opts,
      numRows: 1,
      numCols: 2,
      maxSteps: opts.maxSteps ?? 8 * opts.roomSize * opts.roomSize,
    });
    this.objsPerRoom = opts.objsPerRoom;
    this.startCarrying = opts.startCarrying ?? false;
  }
  protected genMission(): void {
    this.placeAgent(0, 0);
    const l = this.addDistractors(0, 0, this.objsPerRoom);
    const r = this.addDistractors(1, 0, this.objsPerRoom);
    this.removeWall(0, 0, 0);
    let a = this.randElem(l);
    let b = this.randElem(r);
    if (this.randBool()) [a, b] = [b, a];
    this.objA = a;
    this.instrs = new PutNextInstr(new ObjDesc(t(a), a.color), new ObjDesc(t(b), b.color));
  }
  override reset(opts: ResetOptions = {}): ResetResult {
    const out = super.reset(opts);
    if (this.startCarrying) {
      const a = this.objA!;
      this.grid.set(a.initPos![0], a.initPos![1], null);
      this.carrying = a;
    }
    return out;
  }
}
