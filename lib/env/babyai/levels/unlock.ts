/**
 * Unlock levels (Minigrid 3.1.0 `minigrid/envs/babyai/unlock.py`): open a locked door,
 * KeyInBox, UnlockPickup, BlockedUnlockPickup, UnlockToUnlock.
 *
 * Reference quirks reproduced on purpose (they change the random stream):
 * - Unlock compares numpy ints with `is`, so the "key not in the locked room" retry never
 *   triggers and distractors go to EVERY room, including the locked one (RNG_NOTES.md 2.6).
 * - UnlockPickup tests `max is None` (the builtin) instead of `max_steps`, so its step limit is
 *   never fixed: it is computed from the instruction.
 *
 * @module
 */

import { COLOR_NAMES } from "../../constants.ts";
import { Ball, Box, Key } from "../../objects.ts";
import { descType as t, ObjDesc, OpenInstr, PickupInstr } from "../instructions.ts";
import { RoomGridLevel, type RoomGridLevelOptions } from "../roomgrid_level.ts";

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
