/**
 * Object descriptions of the BabyAI instruction language (mirror of `ObjDesc`
 * and the shared definitions in `minigrid/envs/babyai/core/verifier.py`,
 * Minigrid 3.1.0): the describable types and locations, the env interface the
 * verifier reads, and {@link ObjDesc}, which renders "the red ball" / "a door
 * on your left" and finds the matching objects with the reference's scan order.
 *
 * The instructions built from these live in `./instructions.ts`, which
 * re-exports everything here.
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
