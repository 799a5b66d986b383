/**
 * Every BabyAI level class of Minigrid 3.1.0 (`minigrid/envs/babyai/{goto,open,
 * pickup,putnext,unlock,other,synth}.py`), with the same RNG call order.
 *
 * Reference quirks reproduced on purpose (they change the random stream):
 * - GoToImpUnlock / Unlock compare numpy ints with `is`, so the "key not in the
 *   locked room" retry never triggers and distractors go to EVERY room,
 *   including the locked one (RNG_NOTES.md 2.6).
 * - UnlockPickup tests `max is None` (the builtin) instead of `max_steps`, so
 *   its step limit is never fixed: it is computed from the instruction.
 * - FindObjS5 draws the room as `i = randInt(0, numRows)`, `j = randInt(0, numCols)`.
 * - Open collects each door twice (once per room it joins) before drawing one.
 * - GoToRedBallGrey recolours distractors to grey after placing them.
 *
 * @module
 */

import { COLOR_NAMES, COLOR_TO_IDX, type ColorName } from "../constants.ts";
import type { ResetOptions, ResetResult } from "../minigrid.ts";
import { Ball, Box, Door, Key, type WorldObj } from "../objects.ts";
import {
  AfterInstr,
  BeforeInstr,
  type DescType,
  GoToInstr,
  LOC_NAMES,
  ObjDesc,
  OpenInstr,
  PickupInstr,
  PutNextInstr,
} from "./instructions.ts";
import { LevelGen, type LevelGenOptions } from "./levelgen.ts";
import { RejectSampling, RoomGridLevel, type RoomGridLevelOptions } from "./roomgrid_level.ts";

const t = (o: WorldObj) => o.type as DescType;

function setColor(o: WorldObj, c: ColorName): void {
  o.color = c;
  o.colorIdx = COLOR_TO_IDX[c];
}

// ---------------------------------------------------------------- goto.py

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

// ---------------------------------------------------------------- open.py

/** Open a door, which may be in another room. */
export class Open extends RoomGridLevel {
  protected genMission(): void {
    this.placeAgent();
    this.connectAll();
    this.addDistractors(null, null, 18, false);
    this.checkObjsReachable();
    const doors: Door[] = [];
    for (let i = 0; i < this.numCols; i++) {
      for (let j = 0; j < this.numRows; j++) {
        for (const d of this.getRoom(i, j).doors) if (d instanceof Door) doors.push(d);
      }
    }
    const door = this.randElem(doors);
    this.instrs = new OpenInstr(new ObjDesc("door", door.color));
  }
}

/** Open the red door (debug level). */
export class OpenRedDoor extends RoomGridLevel {
  /** @param opts layout 1x2 rooms of size 5 is fixed */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 2, roomSize: 5 });
  }
  protected genMission(): void {
    this.addDoor(0, 0, 0, "red", false);
    this.placeAgent(0, 0);
    this.instrs = new OpenInstr(new ObjDesc("door", "red"));
  }
}

/** OpenDoor options. */
export interface OpenDoorOptions extends RoomGridLevelOptions {
  /** Strict verifier. */
  debug?: boolean;
  /** "color" | "loc" | null (random). */
  selectBy?: "color" | "loc" | null;
}

/** Open the door given by colour or location. */
export class OpenDoor extends RoomGridLevel {
  /** Strict verifier. */
  debug: boolean;
  /** How the door is described (null = random). */
  selectBy: "color" | "loc" | null;
  /** @param opts debug (false), selectBy (null) */
  constructor(opts: OpenDoorOptions = {}) {
    super(opts);
    this.debug = opts.debug ?? false;
    this.selectBy = opts.selectBy ?? null;
  }
  protected genMission(): void {
    const colors = this.randSubset(COLOR_NAMES, 4);
    const objs: Door[] = [];
    colors.forEach((c, i) => objs.push(this.addDoor(1, 1, i, c, false)[0]));
    const selectBy = this.selectBy ?? this.randElem(["color", "loc"] as const);
    let desc: ObjDesc;
    if (selectBy === "color") desc = new ObjDesc("door", objs[0].color);
    else if (selectBy === "loc") desc = new ObjDesc("door", null, this.randElem(LOC_NAMES));
    else throw new Error(`OpenDoor: selectBy "${selectBy}" not implemented`);
    this.placeAgent(1, 1);
    this.instrs = new OpenInstr(desc, this.debug);
  }
}

/** OpenTwoDoors options. */
export interface OpenTwoDoorsOptions extends RoomGridLevelOptions {
  /** Colour of the first door (random when null). */
  firstColor?: ColorName | null;
  /** Colour of the second door (random when null). */
  secondColor?: ColorName | null;
  /** Strict first clause. */
  strict?: boolean;
}

/** Open door X, then door Y (on opposite walls). */
export class OpenTwoDoors extends RoomGridLevel {
  /** First colour. */
  firstColor: ColorName | null;
  /** Second colour. */
  secondColor: ColorName | null;
  /** Strict first clause. */
  strict: boolean;
  /** @param opts firstColor, secondColor, strict; room size 6, maxSteps 20*36 */
  constructor(opts: OpenTwoDoorsOptions = {}) {
    super({ ...opts, roomSize: 6, maxSteps: opts.maxSteps ?? 20 * 36 });
    this.firstColor = opts.firstColor ?? null;
    this.secondColor = opts.secondColor ?? null;
    this.strict = opts.strict ?? false;
  }
  protected genMission(): void {
    const colors = this.randSubset(COLOR_NAMES, 2);
    const first = this.firstColor ?? colors[0];
    const second = this.secondColor ?? colors[1];
    const [d1] = this.addDoor(1, 1, 2, first, false);
    const [d2] = this.addDoor(1, 1, 0, second, false);
    this.placeAgent(1, 1);
    this.instrs = new BeforeInstr(
      new OpenInstr(new ObjDesc("door", d1.color), this.strict),
      new OpenInstr(new ObjDesc("door", d2.color)),
    );
  }
}

/** OpenDoorsOrder options. */
export interface OpenDoorsOrderOptions extends RoomGridLevelOptions {
  /** Number of doors (>= 2). */
  numDoors: number;
  /** Strict clauses. */
  debug?: boolean;
}

/** Open one or two doors in the order given. */
export class OpenDoorsOrder extends RoomGridLevel {
  /** Number of doors. */
  numDoors: number;
  /** Strict clauses. */
  debug: boolean;
  /** @param opts numDoors (required), debug; room size 6, maxSteps 20*36 */
  constructor(opts: OpenDoorsOrderOptions) {
    if (!(opts.numDoors >= 2)) {
      throw new Error(`OpenDoorsOrder: numDoors must be >= 2, got ${opts.numDoors}`);
    }
    super({ ...opts, roomSize: 6, maxSteps: opts.maxSteps ?? 20 * 36 });
    this.numDoors = opts.numDoors;
    this.debug = opts.debug ?? false;
  }
  protected genMission(): void {
    const colors = this.randSubset(COLOR_NAMES, this.numDoors);
    const doors: Door[] = [];
    for (let i = 0; i < this.numDoors; i++) {
      doors.push(this.addDoor(1, 1, null, colors[i], false)[0]);
    }
    this.placeAgent(1, 1);
    const [d1, d2] = this.randSubset(doors, 2);
    const desc1 = new ObjDesc("door", d1.color);
    const desc2 = new ObjDesc("door", d2.color);
    const mode = this.randInt(0, 3);
    if (mode === 0) this.instrs = new OpenInstr(desc1, this.debug);
    else if (mode === 1) {
      this.instrs = new BeforeInstr(
        new OpenInstr(desc1, this.debug),
        new OpenInstr(desc2, this.debug),
      );
    } else {
      this.instrs = new AfterInstr(
        new OpenInstr(desc1, this.debug),
        new OpenInstr(desc2, this.debug),
      );
    }
  }
}

// ---------------------------------------------------------------- pickup.py

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

// ---------------------------------------------------------------- putnext.py

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

// ---------------------------------------------------------------- unlock.py

/** Unlock a door (the key may be anywhere). */
export class Unlock extends RoomGridLevel {
  protected genMission(): void {
    const id = this.randInt(0, this.numCols);
    const jd = this.randInt(0, this.numRows);
    const [door] = this.addDoor(id, jd, null, null, true);
    const lockedRoom = this.getRoom(id, jd);
    // `ik is id and jk is jd` is never true for numpy ints: no retry.
    const ik = this.randInt(0, this.numCols);
    const jk = this.randInt(0, this.numRows);
    this.addObject(ik, jk, "key", door.color);
    if (this.randBool()) {
      this.connectAll(COLOR_NAMES.filter((c) => c !== door.color));
    } else {
      this.connectAll();
    }
    // `i is not id or j is not jd` is always true: every room gets distractors.
    for (let i = 0; i < this.numCols; i++) {
      for (let j = 0; j < this.numRows; j++) this.addDistractors(i, j, 3, false);
    }
    for (;;) {
      this.placeAgent();
      if (this.roomFromPos(this.agentX, this.agentY) === lockedRoom) continue;
      break;
    }
    this.checkObjsReachable();
    this.instrs = new OpenInstr(new ObjDesc("door", door.color));
  }
}

/** UnlockLocal options. */
export interface DistractorsOptions extends RoomGridLevelOptions {
  /** Add distractors. */
  distractors?: boolean;
}

/** Fetch a key and unlock a door of the current room. */
export class UnlockLocal extends RoomGridLevel {
  /** Add distractors. */
  distractors: boolean;
  /** @param opts distractors (false) */
  constructor(opts: DistractorsOptions = {}) {
    super(opts);
    this.distractors = opts.distractors ?? false;
  }
  protected genMission(): void {
    const [door] = this.addDoor(1, 1, null, null, true);
    this.addObject(1, 1, "key", door.color);
    if (this.distractors) this.addDistractors(1, 1, 3);
    this.placeAgent(1, 1);
    this.instrs = new OpenInstr(new ObjDesc("door"));
  }
}

/** Unlock a door whose key is inside a box (the bot cannot solve it). */
export class KeyInBox extends RoomGridLevel {
  protected genMission(): void {
    const [door] = this.addDoor(1, 1, null, null, true);
    const key = new Key(door.color);
    const box = new Box(this.randColor(), key);
    this.placeInRoom(1, 1, box);
    this.placeAgent(1, 1);
    this.instrs = new OpenInstr(new ObjDesc("door"));
  }
}

/** Unlock a door, then pick up a box in the other room. */
export class UnlockPickup extends RoomGridLevel {
  /** Add distractors. */
  distractors: boolean;
  /** @param opts distractors (false); 1x2 rooms of size 6; maxSteps NOT fixed (reference quirk) */
  constructor(opts: DistractorsOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 2, roomSize: 6 });
    this.distractors = opts.distractors ?? false;
  }
  protected genMission(): void {
    const [obj] = this.addObject(1, 0, "box");
    const [door] = this.addDoor(0, 0, 0, null, true);
    this.addObject(0, 0, "key", door.color);
    if (this.distractors) this.addDistractors(null, null, 4);
    this.placeAgent(0, 0);
    this.instrs = new PickupInstr(new ObjDesc(t(obj), obj.color));
  }
}

/** Unlock a door blocked by a ball, then pick up a box. */
export class BlockedUnlockPickup extends RoomGridLevel {
  /** @param opts 1x2 rooms of size 6, maxSteps 16*36 */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 2, roomSize: 6, maxSteps: opts.maxSteps ?? 16 * 36 });
  }
  protected genMission(): void {
    const [obj] = this.addObject(1, 0, "box");
    const [door, pos] = this.addDoor(0, 0, 0, null, true);
    const color = this.randColor();
    this.grid.set(pos[0] - 1, pos[1], new Ball(color));
    this.addObject(0, 0, "key", door.color);
    this.placeAgent(0, 0);
    this.instrs = new PickupInstr(new ObjDesc(t(obj)));
  }
}

/** Unlock door A, which needs door B unlocked first. */
export class UnlockToUnlock extends RoomGridLevel {
  /** @param opts 1x3 rooms of size 6, maxSteps 30*36 */
  constructor(opts: RoomGridLevelOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 3, roomSize: 6, maxSteps: opts.maxSteps ?? 30 * 36 });
  }
  protected genMission(): void {
    const colors = this.randSubset(COLOR_NAMES, 2);
    this.addDoor(0, 0, 0, colors[0], true);
    this.addObject(2, 0, "key", colors[0]);
    this.addDoor(1, 0, 0, colors[1], true);
    this.addObject(1, 0, "key", colors[1]);
    const [obj] = this.addObject(0, 0, "ball");
    this.placeAgent(1, 0);
    this.instrs = new PickupInstr(new ObjDesc(t(obj)));
  }
}

// ---------------------------------------------------------------- other.py

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

// ---------------------------------------------------------------- synth.py

/** Union of PutNext, Open, GoTo and Pickup instructions (no locations). */
export class Synth extends LevelGen {
  /** @param opts roomSize (8), numRows (3), numCols (3), numDists (18) */
  constructor(opts: LevelGenOptions = {}) {
    super({
      ...opts,
      instrKinds: ["action"],
      locations: false,
      unblocking: true,
      implicitUnlock: false,
    });
  }
}

/** Like Synth, with locations. */
export class SynthLoc extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({
      ...opts,
      instrKinds: ["action"],
      locations: true,
      unblocking: true,
      implicitUnlock: false,
    });
  }
}

/** Like SynthLoc, with sequences. */
export class SynthSeq extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({ ...opts, locations: true, unblocking: true, implicitUnlock: false });
  }
}

/** The whole language, 2x2 rooms of size 5. */
export class MiniBossLevel extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({ ...opts, numCols: 2, numRows: 2, roomSize: 5, numDists: 7, lockedRoomProb: 0.25 });
  }
}

/** The whole language (the hardest level). */
export class BossLevel extends LevelGen {}

/** BossLevel without locked rooms or implicit unlocking. */
export class BossLevelNoUnlock extends LevelGen {
  /** @param opts LevelGen options except the fixed ones */
  constructor(opts: LevelGenOptions = {}) {
    super({ ...opts, lockedRoomProb: 0, implicitUnlock: false });
  }
}
