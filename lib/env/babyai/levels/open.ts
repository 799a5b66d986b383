/**
 * Open levels (Minigrid 3.1.0 `minigrid/envs/babyai/open.py`): open one door, two doors, or
 * doors in order.
 *
 * Reference quirk reproduced on purpose: Open collects each door twice (once per room it joins)
 * before drawing one.
 *
 * @module
 */

import { COLOR_NAMES, type ColorName } from "../../constants.ts";
import { Door } from "../../objects.ts";
import { AfterInstr, BeforeInstr, LOC_NAMES, ObjDesc, OpenInstr } from "../instructions.ts";
import { RoomGridLevel, type RoomGridLevelOptions } from "../roomgrid_level.ts";

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
