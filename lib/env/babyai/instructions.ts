/**
 * The BabyAI instruction language and its verifier (mirror of
 * `minigrid/envs/babyai/core/verifier.py`, Minigrid 3.1.0).
 *
 * - {@link ObjDesc}: an object description (type, colour, location relative to
 *   the agent's position and direction when the description is resolved).
 * - Action instructions {@link GoToInstr}, {@link PickupInstr},
 *   {@link OpenInstr}, {@link PutNextInstr}; sequences {@link AndInstr},
 *   {@link BeforeInstr}, {@link AfterInstr}.
 * - `surface(env)` gives the reference's exact text; `resetVerifier(env)` then
 *   `verify(action)` after every step gives "success" / "failure" /
 *   "continue" with the reference's exact state machine (including its
 *   quirks: positions of tracked objects are refreshed only after a drop,
 *   `objPoss` may then be shorter than / misaligned with `objSet`, GoTo
 *   succeeds on an object's last recorded position, ...).
 *
 * The optional "done action" mode of the reference (env var
 * BABYAI_DONE_ACTIONS) is not supported: the done action is a no-op, as in the
 * fixtures.
 *
 * @module
 */

import { COLOR_NAMES, type ColorName, DIR_TO_VEC } from "../constants.ts";
import type { Point, WorldObj } from "../objects.ts";

/** Object types language may describe. */
export const OBJ_TYPES = ["box", "ball", "key", "door"] as const;
/** Object types except doors (things that can be picked up). */
export const OBJ_TYPES_NOT_DOOR = ["box", "ball", "key"] as const;
/** Locations, relative to the agent's starting position and direction. */
export const LOC_NAMES = ["left", "right", "front", "behind"] as const;

/** A describable object type. */
export type DescType = typeof OBJ_TYPES[number];
/** The type of a world object as a describable type (for building an {@link ObjDesc}). */
export function descType(o: WorldObj): DescType {
  return o.type as DescType;
}
/** A location word. */
export type LocName = typeof LOC_NAMES[number];
/** Result of verifying one step. */
export type VerifyResult = "success" | "failure" | "continue";

/** The action ids the verifier cares about (same as MiniGrid's Actions). */
const A_PICKUP = 3, A_DROP = 4, A_TOGGLE = 5;

/** What the verifier needs from an env (a RoomGrid-based level satisfies it). */
export interface InstrEnv {
  /** The world grid. */
  readonly grid: {
    readonly width: number;
    readonly height: number;
    get(i: number, j: number): WorldObj | null;
  };
  /** Agent column. */
  readonly agentX: number;
  /** Agent row. */
  readonly agentY: number;
  /** Agent direction 0..3. */
  readonly agentDir: number;
  /** Carried object or null. */
  readonly carrying: WorldObj | null;
  /** The room containing a position. */
  roomFromPos(x: number, y: number): { posInside(x: number, y: number): boolean };
}

/** Error for an instruction that cannot be built or rendered (the reference's assertions). */
export class InstrError extends Error {
  /** @param message what was wrong */
  constructor(message: string) {
    super(message);
    this.name = "InstrError";
  }
}

/** JSON form of an object description (as in the fixtures). */
export interface ObjDescJSON {
  /** Object type or null (any). */
  type: DescType | null;
  /** Colour or null (any). */
  color: ColorName | null;
  /** Location or null (anywhere). */
  loc: LocName | null;
}

/** JSON form of an instruction tree (as in the fixtures' `reset.instr`). */
export type InstrJSON =
  | { kind: "GoToInstr" | "PickupInstr" | "OpenInstr"; desc: ObjDescJSON; strict: boolean }
  | { kind: "PutNextInstr"; move: ObjDescJSON; fixed: ObjDescJSON }
  | { kind: "AndInstr" | "BeforeInstr" | "AfterInstr"; a: InstrJSON; b: InstrJSON };

/** Description of a set of objects (type, colour, location). */
export class ObjDesc {
  /** Object type or null. */
  readonly type: DescType | null;
  /** Colour or null. */
  readonly color: ColorName | null;
  /** Location relative to the agent or null. */
  readonly loc: LocName | null;
  /** Objects matching the description (set when resolved with locations). */
  objSet: WorldObj[] = [];
  /** Positions of those objects (refreshed without locations after drops; may be shorter). */
  objPoss: Point[] = [];

  /**
   * @param type object type (null = any "object")
   * @param color colour or null
   * @param loc location or null
   */
  constructor(type: DescType | null, color: ColorName | null = null, loc: LocName | null = null) {
    if (type !== null && !(OBJ_TYPES as readonly string[]).includes(type)) {
      throw new InstrError(
        `ObjDesc: type must be one of ${OBJ_TYPES.join("/")} or null, got "${type}"`,
      );
    }
    if (color !== null && !COLOR_NAMES.includes(color)) {
      throw new InstrError(`ObjDesc: unknown colour "${color}"`);
    }
    if (loc !== null && !(LOC_NAMES as readonly string[]).includes(loc)) {
      throw new InstrError(
        `ObjDesc: loc must be one of ${LOC_NAMES.join("/")} or null, got "${loc}"`,
      );
    }
    this.type = type;
    this.color = color;
    this.loc = loc;
  }

  /** Natural-language form ("the red ball", "a door on your left", ...); resolves the objects. */
  surface(env: InstrEnv): string {
    this.findMatchingObjs(env);
    if (this.objSet.length === 0) {
      throw new InstrError(`no object matching description ${this.toString()}`);
    }
    let s: string = this.type ?? "object";
    if (this.color) s = this.color + " " + s;
    if (this.loc) {
      if (this.loc === "front") s += " in front of you";
      else if (this.loc === "behind") s += " behind you";
      else s += " on your " + this.loc;
    }
    return (this.objSet.length > 1 ? "a " : "the ") + s;
  }

  /**
   * Find the objects matching the description and their positions, scanning
   * columns then rows like the reference. With `useLocation` false only the
   * positions of the already tracked objects are refreshed (objSet kept).
   */
  findMatchingObjs(env: InstrEnv, useLocation = true): [WorldObj[], Point[]] {
    if (useLocation) this.objSet = [];
    const tracked = useLocation ? null : this.objSet;
    this.objPoss = [];
    const ax = env.agentX, ay = env.agentY;
    const room = useLocation && this.loc !== null ? env.roomFromPos(ax, ay) : null;
    const d = DIR_TO_VEC[env.agentDir];
    const d1x = d[0], d1y = d[1];
    const d2x = -d1y, d2y = d1x;
    const g = env.grid;
    const W = g.width, H = g.height;
    for (let i = 0; i < W; i++) {
      for (let j = 0; j < H; j++) {
        const cell = g.get(i, j);
        if (cell === null) continue;
        if (tracked !== null && !tracked.includes(cell)) continue;
        if (this.type !== null && cell.type !== this.type) continue;
        if (this.color !== null && cell.color !== this.color) continue;
        if (room !== null) {
          if (!room.posInside(i, j)) continue;
          const vx = i - ax, vy = j - ay;
          let ok: boolean;
          switch (this.loc) {
            case "left":
              ok = vx * d2x + vy * d2y < 0;
              break;
            case "right":
              ok = vx * d2x + vy * d2y > 0;
              break;
            case "front":
              ok = vx * d1x + vy * d1y > 0;
              break;
            default:
              ok = vx * d1x + vy * d1y < 0;
          }
          if (!ok) continue;
        }
        if (useLocation) this.objSet.push(cell);
        this.objPoss.push([i, j]);
      }
    }
    return [this.objSet, this.objPoss];
  }

  /** JSON form ({type, color, loc}). */
  toJSON(): ObjDescJSON {
    return { type: this.type, color: this.color, loc: this.loc };
  }

  /** Debug form like the reference's repr ("red ball None"). */
  toString(): string {
    return `${this.color ?? "None"} ${this.type ?? "None"} ${this.loc ?? "None"}`;
  }
}

function posNextTo(ax: number, ay: number, bx: number, by: number): boolean {
  return Math.abs(ax - bx) + Math.abs(ay - by) === 1;
}

/** Base class of every instruction. */
export abstract class Instr {
  /** The env the verifier was reset on (null before resetVerifier). */
  env: InstrEnv | null = null;

  /** Natural-language text, identical to the reference. */
  abstract surface(env: InstrEnv): string;

  /** Must be called at the start of an episode (after the level is generated). */
  resetVerifier(env: InstrEnv): void {
    this.env = env;
  }

  /** Verify the action just taken (call after every env step). */
  abstract verify(action: number): VerifyResult;

  /** Navigations needed (BabyAI max_steps): 1 per action, 2 per PutNext, summed over sequences. */
  abstract numNavs(): number;

  /** Refresh tracked object positions (the reference calls this after a drop). */
  abstract updateObjsPoss(): void;

  /** JSON form, as in the fixtures' `reset.instr`. */
  abstract toJSON(): InstrJSON;

  protected get e(): InstrEnv {
    if (this.env === null) {
      throw new InstrError(`${this.constructor.name}.verify before resetVerifier(env)`);
    }
    return this.env;
  }
}

/** Base class of the four action instructions (clauses). */
export abstract class ActionInstr extends Instr {
  /** Set in the reference's done-action mode only; kept for completeness. */
  lastStepMatch = false;

  /** Verify one step (no done-action mode). */
  verify(action: number): VerifyResult {
    return this.verifyAction(action);
  }

  /** The clause-specific check. */
  abstract verifyAction(action: number): VerifyResult;

  numNavs(): number {
    return 1;
  }

  protected frontCell(): WorldObj | null {
    const env = this.e;
    const d = DIR_TO_VEC[env.agentDir];
    return env.grid.get(env.agentX + d[0], env.agentY + d[1]);
  }
}

/** "open the red door": succeeds when a matching door in front is opened by toggle. */
export class OpenInstr extends ActionInstr {
  /** Door description. */
  readonly desc: ObjDesc;
  /** Fail when another door is toggled. */
  readonly strict: boolean;

  /** @param objDesc a description of type "door" */
  constructor(objDesc: ObjDesc, strict = false) {
    super();
    if (objDesc.type !== "door") {
      throw new InstrError(`OpenInstr needs a door description, got ${objDesc}`);
    }
    this.desc = objDesc;
    this.strict = strict;
  }

  surface(env: InstrEnv): string {
    return "open " + this.desc.surface(env);
  }

  override resetVerifier(env: InstrEnv): void {
    super.resetVerifier(env);
    this.desc.findMatchingObjs(env);
  }

  verifyAction(action: number): VerifyResult {
    if (action !== A_TOGGLE) return "continue";
    const front = this.frontCell();
    if (front !== null) {
      for (const door of this.desc.objSet) {
        if (front === door && (door as { isOpen?: boolean }).isOpen) return "success";
      }
    }
    if (this.strict && front !== null && front.type === "door") return "failure";
    return "continue";
  }

  updateObjsPoss(): void {
    this.desc.findMatchingObjs(this.e, false);
  }

  toJSON(): InstrJSON {
    return { kind: "OpenInstr", desc: this.desc.toJSON(), strict: this.strict };
  }
}

/** "go to the red ball": succeeds when the agent faces a tracked position of a matching object. */
export class GoToInstr extends ActionInstr {
  /** Target description. */
  readonly desc: ObjDesc;

  /** @param objDesc target description */
  constructor(objDesc: ObjDesc) {
    super();
    this.desc = objDesc;
  }

  surface(env: InstrEnv): string {
    return "go to " + this.desc.surface(env);
  }

  override resetVerifier(env: InstrEnv): void {
    super.resetVerifier(env);
    this.desc.findMatchingObjs(env);
  }

  verifyAction(_action: number): VerifyResult {
    const env = this.e;
    const d = DIR_TO_VEC[env.agentDir];
    const fx = env.agentX + d[0], fy = env.agentY + d[1];
    for (const p of this.desc.objPoss) {
      if (p[0] === fx && p[1] === fy) return "success";
    }
    return "continue";
  }

  updateObjsPoss(): void {
    this.desc.findMatchingObjs(this.e, false);
  }

  toJSON(): InstrJSON {
    return { kind: "GoToInstr", desc: this.desc.toJSON(), strict: false };
  }
}

/** "pick up the red ball": succeeds when a matching object is picked up with empty hands. */
export class PickupInstr extends ActionInstr {
  /** Target description (not a door). */
  readonly desc: ObjDesc;
  /** Fail when something else is picked up. */
  readonly strict: boolean;
  /** What was carried before the last verified step. */
  preCarrying: WorldObj | null = null;

  /** @param objDesc target description (type must not be "door") */
  constructor(objDesc: ObjDesc, strict = false) {
    super();
    if (objDesc.type === "door") throw new InstrError("PickupInstr cannot describe a door");
    this.desc = objDesc;
    this.strict = strict;
  }

  surface(env: InstrEnv): string {
    return "pick up " + this.desc.surface(env);
  }

  override resetVerifier(env: InstrEnv): void {
    super.resetVerifier(env);
    this.preCarrying = null;
    this.desc.findMatchingObjs(env);
  }

  verifyAction(action: number): VerifyResult {
    const env = this.e;
    const pre = this.preCarrying;
    this.preCarrying = env.carrying;
    if (action !== A_PICKUP) return "continue";
    if (pre === null && env.carrying !== null && this.desc.objSet.includes(env.carrying)) {
      return "success";
    }
    if (this.strict && env.carrying !== null) return "failure";
    this.preCarrying = env.carrying;
    return "continue";
  }

  updateObjsPoss(): void {
    this.desc.findMatchingObjs(this.e, false);
  }

  toJSON(): InstrJSON {
    return { kind: "PickupInstr", desc: this.desc.toJSON(), strict: this.strict };
  }
}

/** "put the red ball next to the blue key": succeeds when a tracked mover is dropped next to a fixed object. */
export class PutNextInstr extends ActionInstr {
  /** Object to move (not a door). */
  readonly descMove: ObjDesc;
  /** Object to put it next to. */
  readonly descFixed: ObjDesc;
  /** Fail when something is picked up and carried at a pickup step. */
  readonly strict: boolean;
  /** What was carried before the last verified step. */
  preCarrying: WorldObj | null = null;

  /**
   * @param objMove description of the object to move
   * @param objFixed description of the object to put it next to
   */
  constructor(objMove: ObjDesc, objFixed: ObjDesc, strict = false) {
    super();
    if (objMove.type === "door") throw new InstrError("PutNextInstr cannot move a door");
    this.descMove = objMove;
    this.descFixed = objFixed;
    this.strict = strict;
  }

  surface(env: InstrEnv): string {
    return "put " + this.descMove.surface(env) + " next to " + this.descFixed.surface(env);
  }

  override resetVerifier(env: InstrEnv): void {
    super.resetVerifier(env);
    this.preCarrying = null;
    this.descMove.findMatchingObjs(env);
    this.descFixed.findMatchingObjs(env);
  }

  /** Whether a mover is already next to a fixed object (used for rejection sampling). */
  objsNext(): boolean {
    for (const a of this.descMove.objSet) {
      const pa = a.curPos!;
      for (const pb of this.descFixed.objPoss) {
        if (posNextTo(pa[0], pa[1], pb[0], pb[1])) return true;
      }
    }
    return false;
  }

  override numNavs(): number {
    return 2;
  }

  verifyAction(action: number): VerifyResult {
    const env = this.e;
    const pre = this.preCarrying;
    this.preCarrying = env.carrying;
    if (this.strict && action === A_PICKUP && env.carrying !== null) return "failure";
    if (action !== A_DROP) return "continue";
    for (const a of this.descMove.objSet) {
      if (pre !== a) continue;
      const pa = a.curPos!;
      for (const pb of this.descFixed.objPoss) {
        if (posNextTo(pa[0], pa[1], pb[0], pb[1])) return "success";
      }
    }
    return "continue";
  }

  updateObjsPoss(): void {
    this.descMove.findMatchingObjs(this.e, false);
    this.descFixed.findMatchingObjs(this.e, false);
  }

  toJSON(): InstrJSON {
    return { kind: "PutNextInstr", move: this.descMove.toJSON(), fixed: this.descFixed.toJSON() };
  }
}

/** Sub-instruction state inside a sequence: false before the first verify, then the last result. */
type DoneState = false | VerifyResult;

/** Base class of And / Before / After. */
export abstract class SeqInstr extends Instr {
  /** First instruction. */
  readonly instrA: ActionInstr | AndInstr;
  /** Second instruction. */
  readonly instrB: ActionInstr | AndInstr;
  /** Fail when the sub-instructions are completed in the wrong order. */
  readonly strict: boolean;
  /** Last verify result of instrA (false before any). */
  aDone: DoneState = false;
  /** Last verify result of instrB (false before any). */
  bDone: DoneState = false;

  /** @param instrA first clause @param instrB second clause */
  constructor(instrA: ActionInstr | AndInstr, instrB: ActionInstr | AndInstr, strict = false) {
    super();
    for (const x of [instrA, instrB]) {
      if (!(x instanceof ActionInstr) && !(x instanceof AndInstr)) {
        throw new InstrError(
          `${this.constructor.name}: operands must be action or And instructions`,
        );
      }
    }
    this.instrA = instrA;
    this.instrB = instrB;
    this.strict = strict;
  }

  override resetVerifier(env: InstrEnv): void {
    super.resetVerifier(env);
    this.instrA.resetVerifier(env);
    this.instrB.resetVerifier(env);
    this.aDone = false;
    this.bDone = false;
  }

  numNavs(): number {
    return this.instrA.numNavs() + this.instrB.numNavs();
  }

  updateObjsPoss(): void {
    this.instrA.updateObjsPoss();
    this.instrB.updateObjsPoss();
  }
}

/** "A, then B". */
export class BeforeInstr extends SeqInstr {
  surface(env: InstrEnv): string {
    return this.instrA.surface(env) + ", then " + this.instrB.surface(env);
  }

  verify(action: number): VerifyResult {
    if (this.aDone === "success") {
      this.bDone = this.instrB.verify(action);
      if (this.bDone === "failure") return "failure";
      if (this.bDone === "success") return "success";
    } else {
      this.aDone = this.instrA.verify(action);
      if (this.aDone === "failure") return "failure";
      if (this.aDone === "success") return this.verify(action);
      if (this.strict && this.instrB.verify(action) === "success") return "failure";
    }
    return "continue";
  }

  toJSON(): InstrJSON {
    return { kind: "BeforeInstr", a: this.instrA.toJSON(), b: this.instrB.toJSON() };
  }
}

/** "A after you B" (B first). */
export class AfterInstr extends SeqInstr {
  surface(env: InstrEnv): string {
    return this.instrA.surface(env) + " after you " + this.instrB.surface(env);
  }

  verify(action: number): VerifyResult {
    if (this.bDone === "success") {
      this.aDone = this.instrA.verify(action);
      if (this.aDone === "success") return "success";
      if (this.aDone === "failure") return "failure";
    } else {
      this.bDone = this.instrB.verify(action);
      if (this.bDone === "failure") return "failure";
      if (this.bDone === "success") return this.verify(action);
      if (this.strict && this.instrA.verify(action) === "success") return "failure";
    }
    return "continue";
  }

  toJSON(): InstrJSON {
    return { kind: "AfterInstr", a: this.instrA.toJSON(), b: this.instrB.toJSON() };
  }
}

/** "A and B" (any order; both action instructions). */
export class AndInstr extends SeqInstr {
  /** @param instrA first action @param instrB second action */
  constructor(instrA: ActionInstr, instrB: ActionInstr, strict = false) {
    if (!(instrA instanceof ActionInstr) || !(instrB instanceof ActionInstr)) {
      throw new InstrError("AndInstr: both operands must be action instructions");
    }
    super(instrA, instrB, strict);
  }

  surface(env: InstrEnv): string {
    return this.instrA.surface(env) + " and " + this.instrB.surface(env);
  }

  verify(action: number): VerifyResult {
    if (this.aDone !== "success") this.aDone = this.instrA.verify(action);
    if (this.bDone !== "success") this.bDone = this.instrB.verify(action);
    if (this.aDone === "success" && this.bDone === "success") return "success";
    return "continue";
  }

  toJSON(): InstrJSON {
    return { kind: "AndInstr", a: this.instrA.toJSON(), b: this.instrB.toJSON() };
  }
}

/** Build an instruction tree from its JSON form (fixtures, datasets). */
export function instrFromJSON(j: InstrJSON): Instr {
  const d = (o: ObjDescJSON) => new ObjDesc(o.type, o.color, o.loc);
  switch (j.kind) {
    case "GoToInstr":
      return new GoToInstr(d(j.desc));
    case "PickupInstr":
      return new PickupInstr(d(j.desc), j.strict);
    case "OpenInstr":
      return new OpenInstr(d(j.desc), j.strict);
    case "PutNextInstr":
      return new PutNextInstr(d(j.move), d(j.fixed));
    case "AndInstr":
      return new AndInstr(instrFromJSON(j.a) as ActionInstr, instrFromJSON(j.b) as ActionInstr);
    case "BeforeInstr":
      return new BeforeInstr(instrFromJSON(j.a) as ActionInstr, instrFromJSON(j.b) as ActionInstr);
    case "AfterInstr":
      return new AfterInstr(instrFromJSON(j.a) as ActionInstr, instrFromJSON(j.b) as ActionInstr);
    default:
      throw new InstrError(
        `unknown instruction kind ${JSON.stringify((j as { kind: unknown }).kind)}`,
      );
  }
}
