/**
 * GoTo levels (Minigrid 3.1.0 `minigrid/envs/babyai/goto.py`): go to an object or a door,
 * alone or as a sequence.
 *
 * Reference quirks reproduced on purpose (they change the random stream):
 * - GoToImpUnlock compares numpy ints with `is`, so the "key not in the locked room" retry
 *   never triggers and distractors go to EVERY room, including the locked one (RNG_NOTES.md 2.6).
 * - GoToRedBallGrey recolours distractors to grey after placing them.
 *
 * @module
 */

import { COLOR_TO_IDX, type ColorName } from "../../constants.ts";
import { Door, type WorldObj } from "../../objects.ts";
import { descType as t, GoToInstr, ObjDesc } from "../instructions.ts";
import { LevelGen, type LevelGenOptions } from "../levelgen.ts";
import { RejectSampling, RoomGridLevel, type RoomGridLevelOptions } from "../roomgrid_level.ts";

function setColor(o: WorldObj, c: ColorName): void {
  o.color = c;
  o.colorIdx = COLOR_TO_IDX[c];
}

/** Options with a distractor count. */
export interface DistsOptions extends RoomGridLevelOptions {
  /** Number of distractors. */
  numDists?: number;
}

/** Go to the red ball, one room, grey distractors. */
export class GoToRedBallGrey extends RoomGridLevel {
  /** Distractors. */
  numDists: number;
  /** @param opts roomSize (8), numDists (7) */
  constructor(opts: DistsOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 1, roomSize: opts.roomSize ?? 8 });
    this.numDists = opts.numDists ?? 7;
  }
  protected genMission(): void {
    this.placeAgent();
    const [obj] = this.addObject(0, 0, "ball", "red");
    const dists = this.addDistractors(null, null, this.numDists, false);
    for (const d of dists) setColor(d, "grey");
    this.checkObjsReachable();
    this.instrs = new GoToInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** Go to the red ball, one room, distractors. */
export class GoToRedBall extends RoomGridLevel {
  /** Distractors. */
  numDists: number;
  /** @param opts roomSize (8), numDists (7) */
  constructor(opts: DistsOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 1, roomSize: opts.roomSize ?? 8 });
    this.numDists = opts.numDists ?? 7;
  }
  protected genMission(): void {
    this.placeAgent();
    const [obj] = this.addObject(0, 0, "ball", "red");
    this.addDistractors(null, null, this.numDists, false);
    this.checkObjsReachable();
    this.instrs = new GoToInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** Go to the red ball, no distractors. */
export class GoToRedBallNoDists extends GoToRedBall {
  /** @param opts only maxSteps/agentViewSize; room size 8 and 0 distractors are fixed */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, roomSize: 8, numDists: 0 });
  }
}

/** Go to the only object of a single room. */
export class GoToObj extends RoomGridLevel {
  /** @param opts roomSize (8) */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 1, roomSize: opts.roomSize ?? 8 });
  }
  protected genMission(): void {
    this.placeAgent();
    const [obj] = this.addDistractors(null, null, 1);
    this.instrs = new GoToInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** Go to an object in a single room with distractors. */
export class GoToLocal extends RoomGridLevel {
  /** Distractors. */
  numDists: number;
  /** @param opts roomSize (8), numDists (8) */
  constructor(opts: DistsOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 1, roomSize: opts.roomSize ?? 8 });
    this.numDists = opts.numDists ?? 8;
  }
  protected genMission(): void {
    this.placeAgent();
    const objs = this.addDistractors(null, null, this.numDists, false);
    this.checkObjsReachable();
    const obj = this.randElem(objs);
    this.instrs = new GoToInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** GoTo options. */
export interface GoToOptions extends DistsOptions {
  /** Open every door after generation. */
  doorsOpen?: boolean;
}

/** Go to an object, maybe in another room (GoTo, GoToOpen, GoToObjMaze*). */
export class GoTo extends RoomGridLevel {
  /** Distractors. */
  numDists: number;
  /** Open all doors. */
  doorsOpen: boolean;
  /** @param opts roomSize (8), numRows (3), numCols (3), numDists (18), doorsOpen (false) */
  constructor(opts: GoToOptions = {}) {
    super({
      ...opts,
      roomSize: opts.roomSize ?? 8,
      numRows: opts.numRows ?? 3,
      numCols: opts.numCols ?? 3,
    });
    this.numDists = opts.numDists ?? 18;
    this.doorsOpen = opts.doorsOpen ?? false;
  }
  protected genMission(): void {
    this.placeAgent();
    this.connectAll();
    const objs = this.addDistractors(null, null, this.numDists, false);
    this.checkObjsReachable();
    const obj = this.randElem(objs);
    this.instrs = new GoToInstr(new ObjDesc(t(obj), obj.color));
    if (this.doorsOpen) this.openAllDoors();
  }
}

/** Go to an object which may be in a locked room. */
export class GoToImpUnlock extends RoomGridLevel {
  protected genMission(): void {
    const id = this.randInt(0, this.numCols);
    const jd = this.randInt(0, this.numRows);
    const [door] = this.addDoor(id, jd, null, null, true);
    const lockedRoom = this.getRoom(id, jd);
    // `ik is id and jk is jd` is never true for numpy ints: no retry.
    const ik = this.randInt(0, this.numCols);
    const jk = this.randInt(0, this.numRows);
    this.addObject(ik, jk, "key", door.color);
    this.connectAll();
    // `i is not id or j is not jd` is always true: every room gets distractors.
    for (let i = 0; i < this.numCols; i++) {
      for (let j = 0; j < this.numRows; j++) this.addDistractors(i, j, 2, false);
    }
    for (;;) {
      this.placeAgent();
      if (this.roomFromPos(this.agentX, this.agentY) === lockedRoom) continue;
      break;
    }
    this.checkObjsReachable();
    const [obj] = this.addDistractors(id, jd, 1, false);
    this.instrs = new GoToInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** Sequences of go-to commands. */
export class GoToSeq extends LevelGen {
  /** @param opts roomSize (8), numRows (3), numCols (3), numDists (18) */
  constructor(opts: LevelGenOptions = {}) {
    super({
      ...opts,
      actionKinds: ["goto"],
      lockedRoomProb: 0,
      locations: false,
      unblocking: false,
    });
  }
}

/** Go to the red or the blue ball (exactly one exists). */
export class GoToRedBlueBall extends RoomGridLevel {
  /** Distractors. */
  numDists: number;
  /** @param opts roomSize (8), numDists (7) */
  constructor(opts: DistsOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 1, roomSize: opts.roomSize ?? 8 });
    this.numDists = opts.numDists ?? 7;
  }
  protected genMission(): void {
    this.placeAgent();
    const dists = this.addDistractors(null, null, this.numDists, false);
    for (const d of dists) {
      if (d.type === "ball" && (d.color === "blue" || d.color === "red")) {
        throw new RejectSampling("can only have one blue or red ball");
      }
    }
    const color = this.randElem(["red", "blue"] as const);
    const [obj] = this.addObject(0, 0, "ball", color);
    this.checkObjsReachable();
    this.instrs = new GoToInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** Go to a door of the current room. */
export class GoToDoor extends RoomGridLevel {
  /** @param opts room size 7 is fixed */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, roomSize: 7 });
  }
  protected genMission(): void {
    const objs: Door[] = [];
    for (let k = 0; k < 4; k++) objs.push(this.addDoor(1, 1)[0]);
    this.placeAgent(1, 1);
    const obj = this.randElem(objs);
    this.instrs = new GoToInstr(new ObjDesc("door", obj.color));
  }
}

/** Go to an object or door of the current room. */
export class GoToObjDoor extends RoomGridLevel {
  /** @param opts room size 8 is fixed */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, roomSize: 8 });
  }
  protected genMission(): void {
    this.placeAgent(1, 1);
    const objs: WorldObj[] = this.addDistractors(1, 1, 8, false);
    for (let k = 0; k < 4; k++) objs.push(this.addDoor(1, 1)[0]);
    this.checkObjsReachable();
    const obj = this.randElem(objs);
    this.instrs = new GoToInstr(new ObjDesc(t(obj), obj.color));
  }
}
