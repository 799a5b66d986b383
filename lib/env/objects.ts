/**
 * World objects (mirror of `minigrid/core/world_object.py`): WorldObj, Goal, Floor, Lava, Wall,
 * Door, Key, Ball, Box. Each object caches its type/colour encoding indices so that observation
 * encoding does no lookups.
 *
 * @module
 */

import { type ColorName, IDX_TO_COLOR, IDX_TO_OBJECT, type ObjectType } from "./constants.ts";

/** An [x, y] grid position. */
export type Point = [number, number];

/** What an object's toggle needs from the env (the carried object and the grid). */
export interface ToggleEnv {
  /** The object the agent is carrying, or null. */
  carrying: WorldObj | null;
  /** The grid (for Box, which replaces itself by its contents). */
  grid: { set(i: number, j: number, v: WorldObj | null): void };
}

/** OBJECT_TO_IDX lookup without megamorphic property access (-1 if unknown). */
export function objectIndex(type: string): number {
  switch (type) {
    case "unseen":
      return 0;
    case "empty":
      return 1;
    case "wall":
      return 2;
    case "floor":
      return 3;
    case "door":
      return 4;
    case "key":
      return 5;
    case "ball":
      return 6;
    case "box":
      return 7;
    case "goal":
      return 8;
    case "lava":
      return 9;
    case "agent":
      return 10;
    default:
      return -1;
  }
}

/** COLOR_TO_IDX lookup without megamorphic property access (-1 if unknown). */
export function colorIndex(color: string): number {
  switch (color) {
    case "red":
      return 0;
    case "green":
      return 1;
    case "blue":
      return 2;
    case "purple":
      return 3;
    case "yellow":
      return 4;
    case "grey":
      return 5;
    default:
      return -1;
  }
}

/** Base class for every object that can sit in a grid cell. */
export class WorldObj {
  // Fields are `declare`d and assigned in the constructor (one hidden-class transition chain,
  // no define-semantics initialisers): object creation is on the reset hot path.
  /** Object type name. */
  declare readonly type: ObjectType;
  /** Colour name. */
  declare color: ColorName;
  /** OBJECT_TO_IDX[type]. */
  declare readonly typeIdx: number;
  /** COLOR_TO_IDX[color]. */
  declare colorIdx: number;
  /** Contained object (boxes). */
  declare contains: WorldObj | null;
  /** Position where the object was first placed. */
  declare initPos: Point | null;
  /** Current position ([-1, -1] while carried). */
  declare curPos: Point | null;

  /** Create an object of a type and colour; throws on unknown names. */
  constructor(type: ObjectType, color: ColorName, typeIdx = -1) {
    const t = typeIdx >= 0 ? typeIdx : objectIndex(type), c = colorIndex(color);
    if (t < 0) throw new Error(`WorldObj: unknown object type "${type}"`);
    if (c < 0) throw new Error(`WorldObj: unknown colour "${color}"`);
    this.type = type;
    this.color = color;
    this.typeIdx = t;
    this.colorIdx = c;
    this.contains = null;
    this.initPos = null;
    this.curPos = null;
  }

  /** Can the agent walk onto this cell? */
  canOverlap(): boolean {
    return false;
  }

  /** Can the agent pick this up? */
  canPickup(): boolean {
    return false;
  }

  /** Can this contain another object? */
  canContain(): boolean {
    return false;
  }

  /** Can the agent see behind this object? */
  seeBehind(): boolean {
    return true;
  }

  /** Toggle action on this object at (x, y); returns whether something happened. */
  toggle(_env: ToggleEnv, _x: number, _y: number): boolean {
    return false;
  }

  /** State channel of the encoding (0 except for doors). */
  stateIdx(): number {
    return 0;
  }

  /** Encoding triple [type, color, state]. */
  encode(): [number, number, number] {
    return [this.typeIdx, this.colorIdx, this.stateIdx()];
  }

  /** Build an object from an encoding triple (null for empty/unseen/agent). */
  static decode(typeIdx: number, colorIdx: number, state: number): WorldObj | null {
    const t = IDX_TO_OBJECT[typeIdx];
    const c = IDX_TO_COLOR[colorIdx];
    if (t === undefined || c === undefined) {
      throw new Error(`WorldObj.decode: bad encoding [${typeIdx}, ${colorIdx}, ${state}]`);
    }
    switch (t) {
      case "empty":
      case "unseen":
      case "agent":
        return null;
      case "wall":
        return new Wall(c);
      case "floor":
        return new Floor(c);
      case "ball":
        return new Ball(c);
      case "key":
        return new Key(c);
      case "box":
        return new Box(c);
      case "door":
        return new Door(c, state === 0, state === 2);
      case "goal":
        return new Goal();
      case "lava":
        return new Lava();
    }
  }
}

/** Goal square (green, overlappable). */
export class Goal extends WorldObj {
  /** A goal of the given colour (default green). */
  constructor(color: ColorName = "green") {
    super("goal", color);
  }
  override canOverlap(): boolean {
    return true;
  }
}

/** Coloured floor tile (overlappable). */
export class Floor extends WorldObj {
  /** A floor tile (default blue). */
  constructor(color: ColorName = "blue") {
    super("floor", color);
  }
  override canOverlap(): boolean {
    return true;
  }
}

/** Lava (overlappable, ends the episode with reward 0). */
export class Lava extends WorldObj {
  /** Lava is always red. */
  constructor() {
    super("lava", "red");
  }
  override canOverlap(): boolean {
    return true;
  }
}

/** Wall (blocks movement and sight). */
export class Wall extends WorldObj {
  /** A wall (default grey). */
  constructor(color: ColorName = "grey") {
    super("wall", color, 2);
  }
  override seeBehind(): boolean {
    return false;
  }
}

/** Door: open (0), closed (1) or locked (2). */
export class Door extends WorldObj {
  /** Whether the door is open. */
  declare isOpen: boolean;
  /** Whether the door is locked. */
  declare isLocked: boolean;

  /** A door of a colour, closed and unlocked by default. */
  constructor(color: ColorName, isOpen = false, isLocked = false) {
    super("door", color);
    this.isOpen = isOpen;
    this.isLocked = isLocked;
  }
  override canOverlap(): boolean {
    return this.isOpen;
  }
  override seeBehind(): boolean {
    return this.isOpen;
  }
  /** Locked: opens only when carrying a key of the same colour; otherwise flips open/closed. */
  override toggle(env: ToggleEnv, _x: number, _y: number): boolean {
    if (this.isLocked) {
      const c = env.carrying;
      if (c !== null && c instanceof Key && c.color === this.color) {
        this.isLocked = false;
        this.isOpen = true;
        return true;
      }
      return false;
    }
    this.isOpen = !this.isOpen;
    return true;
  }
  override stateIdx(): number {
    return this.isOpen ? 0 : this.isLocked ? 2 : 1;
  }
}

/** Key (can be picked up; unlocks doors of its colour). */
export class Key extends WorldObj {
  /** A key (default blue). */
  constructor(color: ColorName = "blue") {
    super("key", color);
  }
  override canPickup(): boolean {
    return true;
  }
}

/** Ball (can be picked up). */
export class Ball extends WorldObj {
  /** A ball (default blue). */
  constructor(color: ColorName = "blue") {
    super("ball", color);
  }
  override canPickup(): boolean {
    return true;
  }
}

/** Box (can be picked up; toggling replaces it by its contents). */
export class Box extends WorldObj {
  /** A box, optionally containing an object. */
  constructor(color: ColorName, contains: WorldObj | null = null) {
    super("box", color);
    this.contains = contains;
  }
  override canPickup(): boolean {
    return true;
  }
  override toggle(env: ToggleEnv, x: number, y: number): boolean {
    env.grid.set(x, y, this.contains);
    return true;
  }
}

/** Construct an object by kind name ("key" | "ball" | "box" | "wall" | ...). */
export function makeObj(kind: ObjectType, color: ColorName): WorldObj {
  switch (kind) {
    case "key":
      return new Key(color);
    case "ball":
      return new Ball(color);
    case "box":
      return new Box(color);
    case "wall":
      return new Wall(color);
    case "floor":
      return new Floor(color);
    case "door":
      return new Door(color);
    case "goal":
      return new Goal(color);
    case "lava":
      return new Lava();
    default:
      throw new Error(`makeObj: cannot make an object of kind "${kind}"`);
  }
}
