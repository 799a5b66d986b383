/**
 * Other levels (Minigrid 3.1.0 `minigrid/envs/babyai/other.py`): ActionObjDoor, FindObjS5,
 * KeyCorridor, OneRoomS8, MoveTwoAcross.
 *
 * Reference quirk reproduced on purpose: FindObjS5 draws the room as
 * `i = randInt(0, numRows)`, `j = randInt(0, numCols)`.
 *
 * @module
 */

import type { WorldObj } from "../../objects.ts";
import {
  BeforeInstr,
  descType as t,
  GoToInstr,
  ObjDesc,
  OpenInstr,
  PickupInstr,
  PutNextInstr,
} from "../instructions.ts";
import { RoomGridLevel, type RoomGridLevelOptions } from "../roomgrid_level.ts";

/** Pick up an object, go to an object or door, or open a door (current room). */
export class ActionObjDoor extends RoomGridLevel {
  /** @param opts room size 7 is fixed */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, roomSize: 7 });
  }
  protected genMission(): void {
    const objs: WorldObj[] = this.addDistractors(1, 1, 5);
    for (let k = 0; k < 4; k++) objs.push(this.addDoor(1, 1, null, null, false)[0]);
    this.placeAgent(1, 1);
    const obj = this.randElem(objs);
    const desc = new ObjDesc(t(obj), obj.color);
    if (obj.type === "door") {
      this.instrs = this.randBool() ? new GoToInstr(desc) : new OpenInstr(desc);
    } else {
      this.instrs = this.randBool() ? new GoToInstr(desc) : new PickupInstr(desc);
    }
  }
}

/** Pick up an object in a random room (FindObjS5/S6/S7). */
export class FindObjS5 extends RoomGridLevel {
  /** @param opts roomSize (5); maxSteps 20*roomSize² */
  constructor(opts: RoomGridLevelOptions = {}) {
    const rs = opts.roomSize ?? 5;
    super({ ...opts, roomSize: rs, maxSteps: opts.maxSteps ?? 20 * rs * rs });
  }
  protected genMission(): void {
    const i = this.randInt(0, this.numRows);
    const j = this.randInt(0, this.numCols);
    const [obj] = this.addObject(i, j);
    this.placeAgent(1, 1);
    this.connectAll();
    this.instrs = new PickupInstr(new ObjDesc(t(obj)));
  }
}

/** KeyCorridor options. */
export interface KeyCorridorOptions extends RoomGridLevelOptions {
  /** Kind of the object behind the locked door. */
  objType?: "ball" | "box" | "key";
}

/** A ball behind a locked door; the key is in a room on the left. */
export class KeyCorridor extends RoomGridLevel {
  /** Target kind. */
  objType: "ball" | "box" | "key";
  /** @param opts numRows (3), objType ("ball"), roomSize (6); maxSteps 30*roomSize² */
  constructor(opts: KeyCorridorOptions = {}) {
    const rs = opts.roomSize ?? 6;
    super({
      ...opts,
      roomSize: rs,
      numRows: opts.numRows ?? 3,
      maxSteps: opts.maxSteps ?? 30 * rs * rs,
    });
    this.objType = opts.objType ?? "ball";
  }
  protected genMission(): void {
    for (let j = 1; j < this.numRows; j++) this.removeWall(1, j, 3);
    const roomIdx = this.randInt(0, this.numRows);
    const [door] = this.addDoor(2, roomIdx, 2, null, true);
    const [obj] = this.addObject(2, roomIdx, this.objType);
    this.addObject(0, this.randInt(0, this.numRows), "key", door.color);
    this.placeAgent(1, Math.floor(this.numRows / 2));
    this.connectAll();
    this.instrs = new PickupInstr(new ObjDesc(t(obj)));
  }
}

/** Pick up the ball, one room (OneRoomS8/S12/S16/S20). */
export class OneRoomS8 extends RoomGridLevel {
  /** @param opts roomSize (8) */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, roomSize: opts.roomSize ?? 8, numRows: 1, numCols: 1 });
  }
  protected genMission(): void {
    const [obj] = this.addObject(0, 0, "ball");
    this.placeAgent();
    this.instrs = new PickupInstr(new ObjDesc(t(obj)));
  }
}

/** MoveTwoAcross options. */
export interface MoveTwoAcrossOptions extends RoomGridLevelOptions {
  /** Room size. */
  roomSize: number;
  /** Objects per room (<= 9). */
  objsPerRoom: number;
}

/** Put A next to B, then C next to D, across two rooms. */
export class MoveTwoAcross extends RoomGridLevel {
  /** Objects per room. */
  objsPerRoom: number;
  /** @param opts roomSize, objsPerRoom; maxSteps 16*roomSize² */
  constructor(opts: MoveTwoAcrossOptions) {
    if (!(opts.objsPerRoom <= 9)) throw new Error(`MoveTwoAcross: objsPerRoom must be <= 9`);
    super({
      ...opts,
      numRows: 1,
      numCols: 2,
      maxSteps: opts.maxSteps ?? 16 * opts.roomSize * opts.roomSize,
    });
    this.objsPerRoom = opts.objsPerRoom;
  }
  protected genMission(): void {
    this.placeAgent(0, 0);
    let l = this.addDistractors(0, 0, this.objsPerRoom);
    let r = this.addDistractors(1, 0, this.objsPerRoom);
    this.removeWall(0, 0, 0);
    l = this.randSubset(l, 2);
    r = this.randSubset(r, 2);
    const [a, b, c, d] = [l[0], r[0], r[1], l[1]];
    this.instrs = new BeforeInstr(
      new PutNextInstr(new ObjDesc(t(a), a.color), new ObjDesc(t(b), b.color)),
      new PutNextInstr(new ObjDesc(t(c), c.color), new ObjDesc(t(d), d.color)),
    );
  }
}
