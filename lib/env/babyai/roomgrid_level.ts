/**
 * RoomGridLevel (mirror of `minigrid/envs/babyai/core/roomgrid_level.py`): the
 * base of every BabyAI level. Generation is retried from scratch, WITHOUT
 * reseeding (the random stream continues), whenever it raises
 * {@link RejectSampling} or RecursionError; the count of restarts of the last
 * reset is kept in `genRejections` (the fixtures' `gen_rejections_printed`).
 * After every step the instruction verifier runs: "success" terminates with
 * the reference reward `1 - 0.9 * (stepCount / maxSteps)`, "failure"
 * terminates with 0. When not fixed, `maxSteps = numNavs * roomSize² *
 * numRows * numCols`, recomputed at every reset.
 *
 * @module
 */

import { Actions } from "../constants.ts";
import {
  RecursionError,
  type ResetOptions,
  type ResetResult,
  type StepResult,
} from "../env_api.ts";
import { Door } from "../objects.ts";
import { RoomGrid, type RoomGridOptions } from "../roomgrid.ts";
import { ActionInstr, type Instr, PutNextInstr, SeqInstr } from "./instructions.ts";

/** Raised by level generation to reject a level and generate another (no reseeding). */
export class RejectSampling extends Error {
  /** @param message why the level was rejected */
  constructor(message: string) {
    super(message);
    this.name = "RejectSampling";
  }
}

/** Options of every BabyAI level. */
export interface RoomGridLevelOptions extends Omit<RoomGridOptions, "maxSteps"> {
  /** Fixed step limit; null/undefined = computed from the instruction at every reset. */
  maxSteps?: number | null;
}

/** Base class of BabyAI levels. */
export abstract class RoomGridLevel extends RoomGrid {
  /** Whether maxSteps was given (else recomputed at reset). */
  readonly fixedMaxSteps: boolean;
  /** The instruction of the current episode (set by genMission). */
  instrs!: Instr;
  /** The instruction's text (= mission). */
  surface = "";
  /** Generation restarts during the last reset (RejectSampling or RecursionError). */
  genRejections = 0;
  /** Messages of those restarts (like the reference's prints), last reset only. */
  genRejectionMessages: string[] = [];
  /**
   * LevelGen's unblocking flag; the key-colour check of validateInstrs only runs when true
   * (the reference tests `hasattr(self, "unblocking") and self.unblocking`).
   */
  unblocking = false;

  /** @param opts room layout and optional fixed maxSteps (roomSize defaults to 8) */
  constructor(opts: RoomGridLevelOptions = {}) {
    const fixed = opts.maxSteps !== undefined && opts.maxSteps !== null;
    super({ ...opts, roomSize: opts.roomSize ?? 8, maxSteps: fixed ? opts.maxSteps! : 1 });
    this.fixedMaxSteps = fixed;
    if (!fixed) this.maxSteps = 0;
  }

  /** Generate the mission: set this.instrs (and build the level). */
  protected abstract genMission(): void;

  /** Reset: generate, reset the verifier, compute maxSteps (unless fixed). */
  override reset(opts: ResetOptions = {}): ResetResult {
    const out = super.reset(opts);
    this.instrs.resetVerifier(this);
    if (!this.fixedMaxSteps) {
      const navTimeMaze = this.roomSize * this.roomSize * this.numRows * this.numCols;
      this.maxSteps = this.instrs.numNavs() * navTimeMaze;
    }
    return out;
  }

  /** Base step, then position refresh on drop and the verifier. */
  protected override doStep(action: number): StepResult {
    const r = super.doStep(action);
    if (action === Actions.drop) this.instrs.updateObjsPoss();
    const status = this.instrs.verify(action);
    if (status === "success") {
      r.terminated = true;
      r.reward = this.reward();
    } else if (status === "failure") {
      r.terminated = true;
      r.reward = 0;
    }
    return r;
  }

  /** Rooms + mission, retried (without reseeding) until accepted; then the surface text. */
  protected override genGrid(width: number, height: number): void {
    this.genRejections = 0;
    this.genRejectionMessages = [];
    for (;;) {
      try {
        super.genGrid(width, height);
        this.genMission();
        this.validateInstrs(this.instrs);
      } catch (e) {
        if (e instanceof RecursionError || e instanceof RejectSampling) {
          this.genRejections++;
          if (this.genRejectionMessages.length < 100) {
            this.genRejectionMessages.push(`${e.name}: ${e.message}`);
          }
          continue;
        }
        throw e;
      }
      break;
    }
    this.surface = this.instrs.surface(this);
    this.mission = this.surface;
  }

  /** Reject ill-posed instructions (PutNext already satisfied, keys of locked doors, ...). */
  validateInstrs(instr: Instr): void {
    const lockedColors: string[] = [];
    if (this.unblocking) {
      for (let i = 0; i < this.numCols; i++) {
        for (let j = 0; j < this.numRows; j++) {
          for (const d of this.getRoom(i, j).doors) {
            if (d instanceof Door && d.isLocked) lockedColors.push(d.color);
          }
        }
      }
    }
    if (instr instanceof PutNextInstr) {
      instr.resetVerifier(this);
      const fixed = instr.descFixed.objSet;
      if (instr.descMove.objSet.some((o) => fixed.includes(o))) {
        throw new RejectSampling("there are objects that match both lhs and rhs of PutNext");
      }
      if (instr.objsNext()) throw new RejectSampling("objs already next to each other");
      const m = instr.descMove.objSet, f = instr.descFixed.objSet;
      if (m.length === 1 && f.length === 1 && m[0] === f[0]) {
        throw new RejectSampling("cannot move an object next to itself");
      }
    }
    if (instr instanceof ActionInstr) {
      if (!this.unblocking) return;
      const descs = instr instanceof PutNextInstr
        ? [instr.descMove, instr.descFixed]
        : [(instr as unknown as { desc: { type: string | null; color: string | null } }).desc];
      for (const d of descs) {
        if (d.type === "key" && d.color !== null && lockedColors.includes(d.color)) {
          throw new RejectSampling(
            "cannot do anything with/to a key that can be used to open a door",
          );
        }
      }
      return;
    }
    if (instr instanceof SeqInstr) {
      this.validateInstrs(instr.instrA);
      this.validateInstrs(instr.instrB);
      return;
    }
    throw new Error(`validateInstrs: unhandled instruction type ${instr.constructor.name}`);
  }

  /** Navigations needed by an instruction (max_steps formula). */
  numNavsNeeded(instr: Instr): number {
    return instr.numNavs();
  }

  /** Open every door of the maze. */
  openAllDoors(): void {
    for (let i = 0; i < this.numCols; i++) {
      for (let j = 0; j < this.numRows; j++) {
        for (const d of this.getRoom(i, j).doors) if (d instanceof Door) d.isOpen = true;
      }
    }
  }

  /**
   * Whether every object is reachable from the agent without moving another object (doors,
   * even locked ones, do not block). Throws RejectSampling when not and raiseExc.
   */
  checkObjsReachable(raiseExc = true): boolean {
    const W = this.grid.width, H = this.grid.height;
    const reach = new Uint8Array(W * H);
    const g = this.grid.grid;
    // Depth-first flood fill (visiting order does not change the reachable set).
    const stack = new Int32Array(8 * W * H + 2);
    let sp = 0;
    stack[sp++] = this.agentX;
    stack[sp++] = this.agentY;
    while (sp > 0) {
      const j = stack[--sp], i = stack[--sp];
      if (i < 0 || i >= W || j < 0 || j >= H) continue;
      if (reach[j * W + i]) continue;
      reach[j * W + i] = 1;
      const cell = g[j * W + i];
      if (cell !== null && cell.type !== "door") continue;
      stack[sp++] = i + 1;
      stack[sp++] = j;
      stack[sp++] = i - 1;
      stack[sp++] = j;
      stack[sp++] = i;
      stack[sp++] = j + 1;
      stack[sp++] = i;
      stack[sp++] = j - 1;
    }
    for (let i = 0; i < W; i++) {
      for (let j = 0; j < H; j++) {
        const cell = g[j * W + i];
        if (cell === null || cell.type === "wall") continue;
        if (!reach[j * W + i]) {
          if (!raiseExc) return false;
          throw new RejectSampling(`unreachable object at (${i}, ${j})`);
        }
      }
    }
    return true;
  }
}
