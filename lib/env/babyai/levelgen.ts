/**
 * LevelGen (mirror of `minigrid/envs/babyai/core/levelgen.py`): random levels
 * with random instructions drawn from the whole Baby language (optional locked
 * room with its key elsewhere, locations, implicit unlocking), the base of
 * GoToSeq, PickupLoc, Synth*, MiniBossLevel and BossLevel*.
 *
 * Quirk kept on purpose: `lockedRoom` is only assigned when a locked room is
 * added, never cleared, so a later generation attempt (or a later reset of the
 * same env object) without a locked room still sees the previous, stale room.
 * With `implicitUnlock` false this filters object descriptions by that stale
 * room's position, exactly like the reference (the fixtures depend on it).
 *
 * @module
 */

import { COLOR_NAMES, type ColorName } from "../constants.ts";
import { RecursionError } from "../env_api.ts";
import type { Room } from "../roomgrid.ts";
import {
  type ActionInstr,
  AfterInstr,
  AndInstr,
  BeforeInstr,
  type DescType,
  GoToInstr,
  type Instr,
  LOC_NAMES,
  type LocName,
  OBJ_TYPES,
  OBJ_TYPES_NOT_DOOR,
  ObjDesc,
  OpenInstr,
  PickupInstr,
  PutNextInstr,
} from "./instructions.ts";
import { RoomGridLevel, type RoomGridLevelOptions } from "./roomgrid_level.ts";

/** An action kind of the grammar. */
export type ActionKind = "goto" | "pickup" | "open" | "putnext";
/** An instruction kind of the grammar. */
export type InstrKind = "action" | "and" | "seq";

/** LevelGen options (camelCase of the Python kwargs). */
export interface LevelGenOptions extends RoomGridLevelOptions {
  /** Distractor objects (default 18). */
  numDists?: number;
  /** Probability of a locked room (default 0.5; the draw happens even at 0). */
  lockedRoomProb?: number;
  /** Allow location words (default true). */
  locations?: boolean;
  /** Allow objects that block the way (default true; false = reachability check). */
  unblocking?: boolean;
  /** Allow targets inside the locked room (default true). */
  implicitUnlock?: boolean;
  /** Action kinds to draw from (default all four). */
  actionKinds?: readonly ActionKind[];
  /** Instruction kinds to draw from (default action, and, seq). */
  instrKinds?: readonly InstrKind[];
}

const NONE_AND_COLORS: readonly (ColorName | null)[] = [null, ...COLOR_NAMES];

/** Level generator covering the whole Baby language. */
export class LevelGen extends RoomGridLevel {
  /** Distractors added. */
  numDists: number;
  /** Probability of a locked room. */
  lockedRoomProb: number;
  /** Whether descriptions may use locations. */
  locations: boolean;
  /** Whether targets may be inside the locked room. */
  implicitUnlock: boolean;
  /** Action kinds. */
  actionKinds: readonly ActionKind[];
  /** Instruction kinds. */
  instrKinds: readonly InstrKind[];
  /** The locked room of the latest generation that had one (never cleared; see module doc). */
  lockedRoom: Room | null = null;

  /** @param opts see LevelGenOptions (defaults: 8-cell rooms, 3x3) */
  constructor(opts: LevelGenOptions = {}) {
    super({
      ...opts,
      roomSize: opts.roomSize ?? 8,
      numRows: opts.numRows ?? 3,
      numCols: opts.numCols ?? 3,
    });
    this.numDists = opts.numDists ?? 18;
    this.lockedRoomProb = opts.lockedRoomProb ?? 0.5;
    this.locations = opts.locations ?? true;
    this.unblocking = opts.unblocking ?? true;
    this.implicitUnlock = opts.implicitUnlock ?? true;
    this.actionKinds = opts.actionKinds ?? ["goto", "pickup", "open", "putnext"];
    this.instrKinds = opts.instrKinds ?? ["action", "and", "seq"];
  }

  protected genMission(): void {
    if (this.randFloat(0, 1) < this.lockedRoomProb) this.addLockedRoom();
    this.connectAll();
    this.addDistractors(null, null, this.numDists, false);
    for (;;) {
      this.placeAgent();
      const start = this.roomFromPos(this.agentX, this.agentY);
      if (start === this.lockedRoom) continue;
      break;
    }
    if (!this.unblocking) this.checkObjsReachable();
    this.instrs = this.randInstr(this.actionKinds, this.instrKinds);
  }

  /** Add a locked door to a random room and its key to another room. */
  addLockedRoom(): void {
    let door;
    for (;;) {
      const i = this.randInt(0, this.numCols);
      const j = this.randInt(0, this.numRows);
      const doorIdx = this.randInt(0, 4);
      this.lockedRoom = this.getRoom(i, j);
      if (this.lockedRoom.neighbors[doorIdx] === null) continue;
      [door] = this.addDoor(i, j, doorIdx, null, true);
      break;
    }
    for (;;) {
      const i = this.randInt(0, this.numCols);
      const j = this.randInt(0, this.numRows);
      if (this.getRoom(i, j) === this.lockedRoom) continue;
      this.addObject(i, j, "key", door.color);
      break;
    }
  }

  /** A random description matching at least one object (RecursionError after maxTries). */
  randObj(
    types: readonly DescType[] = OBJ_TYPES,
    colors: readonly ColorName[] = COLOR_NAMES,
    maxTries = 100,
  ): ObjDesc {
    const colorChoices = colors === COLOR_NAMES ? NONE_AND_COLORS : [null, ...colors];
    let numTries = 0;
    for (;;) {
      if (numTries > maxTries) throw new RecursionError("failed to find suitable object");
      numTries++;
      const color = this.randElem(colorChoices);
      const type = this.randElem(types);
      let loc: LocName | null = null;
      if (this.locations && this.randBool()) loc = this.randElem(LOC_NAMES);
      const desc = new ObjDesc(type, color, loc);
      const [objs, poss] = desc.findMatchingObjs(this);
      if (objs.length === 0) continue;
      if (!this.implicitUnlock && this.lockedRoom !== null) {
        const lr = this.lockedRoom;
        if (!poss.some((p) => !lr.posInside(p[0], p[1]))) continue;
      }
      return desc;
    }
  }

  /** A random instruction of the given kinds. */
  randInstr(
    actionKinds: readonly ActionKind[],
    instrKinds: readonly InstrKind[],
    depth = 0,
  ): Instr {
    const kind = this.randElem(instrKinds);
    if (kind === "action") {
      const action = this.randElem(actionKinds);
      switch (action) {
        case "goto":
          return new GoToInstr(this.randObj());
        case "pickup":
          return new PickupInstr(this.randObj(OBJ_TYPES_NOT_DOOR));
        case "open":
          return new OpenInstr(this.randObj(["door"]));
        case "putnext": {
          const move = this.randObj(OBJ_TYPES_NOT_DOOR);
          const fixed = this.randObj();
          return new PutNextInstr(move, fixed);
        }
      }
      throw new Error(`randInstr: unknown action kind ${action}`);
    }
    if (kind === "and") {
      const a = this.randInstr(actionKinds, ["action"], depth + 1) as ActionInstr;
      const b = this.randInstr(actionKinds, ["action"], depth + 1) as ActionInstr;
      return new AndInstr(a, b);
    }
    if (kind === "seq") {
      const a = this.randInstr(actionKinds, ["action", "and"], depth + 1) as ActionInstr | AndInstr;
      const b = this.randInstr(actionKinds, ["action", "and"], depth + 1) as ActionInstr | AndInstr;
      const k = this.randElem(["before", "after"]);
      return k === "before" ? new BeforeInstr(a, b) : new AfterInstr(a, b);
    }
    throw new Error(`randInstr: unknown instruction kind ${kind}`);
  }
}
