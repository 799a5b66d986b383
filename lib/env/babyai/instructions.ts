/**
 * The BabyAI instruction language and its verifier (mirror of
 * `minigrid/envs/babyai/core/verifier.py`, Minigrid 3.1.0).
 *
 * - {@link ObjDesc}: an object description (type, colour, location relative to
 *   the agent's position and direction when the description is resolved);
 *   defined in `./objdesc.ts` with the shared types, re-exported here.
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

import { DIR_TO_VEC } from "../constants.ts";
import type { WorldObj } from "../objects.ts";
import {
  type InstrEnv,
  InstrError,
  type InstrJSON,
  ObjDesc,
  type ObjDescJSON,
  type VerifyResult,
} from "./objdesc.ts";

export * from "./objdesc.ts";

/** The action ids the verifier cares about (same as MiniGrid's Actions). */
const A_PICKUP = 3, A_DROP = 4, A_TOGGLE = 5;

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

  /**
   * The ordered state machine shared by Before (A first) and After (B first),
   * as in the reference: until the first clause succeeds, only it is verified
   * (in strict mode the second succeeding early is a failure); once it has,
   * the second clause is verified on the same step and every later one.
   */
  protected verifyInOrder(action: number, aFirst: boolean): VerifyResult {
    const first = aFirst ? this.instrA : this.instrB;
    const second = aFirst ? this.instrB : this.instrA;
    if ((aFirst ? this.aDone : this.bDone) === "success") {
      const r = second.verify(action);
      if (aFirst) this.bDone = r;
      else this.aDone = r;
      return r;
    }
    const r = first.verify(action);
    if (aFirst) this.aDone = r;
    else this.bDone = r;
    if (r === "failure") return "failure";
    if (r === "success") return this.verifyInOrder(action, aFirst);
    if (this.strict && second.verify(action) === "success") return "failure";
    return "continue";
  }
}

/** "A, then B". */
export class BeforeInstr extends SeqInstr {
  surface(env: InstrEnv): string {
    return this.instrA.surface(env) + ", then " + this.instrB.surface(env);
  }

  verify(action: number): VerifyResult {
    return this.verifyInOrder(action, true);
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
    return this.verifyInOrder(action, false);
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
