/**
 * RoomGrid (mirror of `minigrid/core/roomgrid.py`): a num_rows x num_cols grid of square rooms
 * sharing walls, with doors placed at random positions, and helpers to add objects, doors,
 * remove walls, place the agent, connect all rooms and add distractors — all with the exact RNG
 * call order of the Python. BabyAI levels and several MiniGrid envs build on it.
 *
 * @module
 */

import { COLOR_NAMES, type ColorName } from "./constants.ts";
import { Grid } from "./grid.ts";
import { EnvUsageError, type MiniGridOptions, RecursionError } from "./env_api.ts";
import { MiniGridEnv } from "./minigrid.ts";
import { Ball, Box, Door, Key, type Point, Wall, type WorldObj } from "./objects.ts";

/** Python's `reject_next_to`: reject positions at Manhattan distance < 2 from the agent. */
export function rejectNextTo(env: MiniGridEnv, pos: Point): boolean {
  const d = Math.abs(env.agentX - pos[0]) + Math.abs(env.agentY - pos[1]);
  return d < 2;
}

/** One room of a RoomGrid. */
export class Room {
  /** Top-left corner [x, y] (on the wall). */
  top: Point;
  /** Size [w, h] including walls. */
  size: Point;
  /** Doors right, down, left, up: a Door, true (wall removed) or null. */
  doors: (Door | boolean | null)[] = [null, null, null, null];
  /** Door positions right, down, left, up (null when no neighbour). */
  doorPos: (Point | null)[] = [null, null, null, null];
  /** Neighbouring rooms right, down, left, up. */
  neighbors: (Room | null)[] = [null, null, null, null];
  /** Whether this room is behind a locked door. */
  locked = false;
  /** Objects added to this room. */
  objs: WorldObj[] = [];

  /** @param top top-left corner; @param size size including walls */
  constructor(top: Point, size: Point) {
    this.top = top;
    this.size = size;
  }

  /** A random position strictly inside the room's walls. */
  randPos(env: MiniGridEnv): Point {
    const [tx, ty] = this.top, [sx, sy] = this.size;
    return env.randPos(tx + 1, tx + sx - 1, ty + 1, ty + sy - 1);
  }

  /** Whether (x, y) is within the room's bounds (walls included). */
  posInside(x: number, y: number): boolean {
    const [tx, ty] = this.top, [sx, sy] = this.size;
    if (x < tx || y < ty) return false;
    if (x >= tx + sx || y >= ty + sy) return false;
    return true;
  }
}

/** RoomGrid options. */
export interface RoomGridOptions extends MiniGridOptions {
  /** Room size including walls (default 7, >= 3). */
  roomSize?: number;
  /** Rows of rooms (default 3). */
  numRows?: number;
  /** Columns of rooms (default 3). */
  numCols?: number;
  /** Step limit (default 100). */
  maxSteps?: number;
}

/** Base env made of a grid of rooms. */
export abstract class RoomGrid extends MiniGridEnv {
  /** Room size including walls. */
  roomSize: number;
  /** Rows of rooms. */
  numRows: number;
  /** Columns of rooms. */
  numCols: number;
  /** Rooms, indexed roomGrid[j][i] (row j, column i). */
  roomGrid: Room[][] = [];

  /** @param opts see RoomGridOptions */
  constructor(opts: RoomGridOptions = {}) {
    const roomSize = opts.roomSize ?? 7;
    const numRows = opts.numRows ?? 3;
    const numCols = opts.numCols ?? 3;
    if (!Number.isInteger(roomSize) || roomSize < 3) {
      throw new EnvUsageError(`roomSize must be an integer >= 3, got ${roomSize}`);
    }
    if (!Number.isInteger(numRows) || numRows < 1 || !Number.isInteger(numCols) || numCols < 1) {
      throw new EnvUsageError(
        `numRows/numCols must be positive integers, got ${numRows}/${numCols}`,
      );
    }
    super({
      ...opts,
      gridSize: null,
      width: (roomSize - 1) * numCols + 1,
      height: (roomSize - 1) * numRows + 1,
      maxSteps: opts.maxSteps ?? 100,
      seeThroughWalls: false,
      agentViewSize: opts.agentViewSize ?? 7,
    });
    this.roomSize = roomSize;
    this.numRows = numRows;
    this.numCols = numCols;
    this.mission = "";
  }

  /** The room containing (x, y). */
  roomFromPos(x: number, y: number): Room {
    if (x < 0 || y < 0) throw new RangeError(`roomFromPos(${x}, ${y}): negative position`);
    const i = Math.floor(x / (this.roomSize - 1));
    const j = Math.floor(y / (this.roomSize - 1));
    if (i >= this.numCols || j >= this.numRows) {
      throw new RangeError(`roomFromPos(${x}, ${y}): outside`);
    }
    return this.roomGrid[j][i];
  }

  /** Room at column i, row j. */
  getRoom(i: number, j: number): Room {
    if (i >= this.numCols || j >= this.numRows || i < 0 || j < 0) {
      throw new RangeError(`getRoom(${i}, ${j}): outside ${this.numCols}x${this.numRows} rooms`);
    }
    return this.roomGrid[j][i];
  }

  /** Build walls for every room and draw door positions (Python `RoomGrid._gen_grid`). */
  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    this.roomGrid = [];
    const rs = this.roomSize;
    for (let j = 0; j < this.numRows; j++) {
      const row: Room[] = [];
      for (let i = 0; i < this.numCols; i++) {
        const room = new Room([i * (rs - 1), j * (rs - 1)], [rs, rs]);
        row.push(room);
        this.wallRectShared(room.top[0], room.top[1], room.size[0], room.size[1]);
      }
      this.roomGrid.push(row);
    }
    for (let j = 0; j < this.numRows; j++) {
      for (let i = 0; i < this.numCols; i++) {
        const room = this.roomGrid[j][i];
        const xl = room.top[0] + 1, yl = room.top[1] + 1;
        const xm = room.top[0] + room.size[0] - 1, ym = room.top[1] + room.size[1] - 1;
        if (i < this.numCols - 1) {
          room.neighbors[0] = this.roomGrid[j][i + 1];
          room.doorPos[0] = [xm, this.randInt(yl, ym)];
        }
        if (j < this.numRows - 1) {
          room.neighbors[1] = this.roomGrid[j + 1][i];
          room.doorPos[1] = [this.randInt(xl, xm), ym];
        }
        if (i > 0) {
          room.neighbors[2] = this.roomGrid[j][i - 1];
          room.doorPos[2] = room.neighbors[2].doorPos[0];
        }
        if (j > 0) {
          room.neighbors[3] = this.roomGrid[j - 1][i];
          room.doorPos[3] = room.neighbors[3].doorPos[1];
        }
      }
    }
    this.agentX = (this.numCols >> 1) * (rs - 1) + (rs >> 1);
    this.agentY = (this.numRows >> 1) * (rs - 1) + (rs >> 1);
    this.agentDir = 0;
  }

  /**
   * Like grid.wallRect, but keeps a wall already present on a shared room edge instead of
   * replacing it by a new one (the Python replaces it; the result is observably the same: one
   * distinct Wall per wall cell), which saves allocations when rooms share walls.
   */
  private wallRectShared(x: number, y: number, w: number, h: number): void {
    const g = this.grid;
    const put = (i: number, j: number) => {
      const c = g.grid[j * g.width + i];
      if (c === null || c.type !== "wall") g.set(i, j, new Wall());
    };
    for (let i = 0; i < w; i++) {
      put(x + i, y);
      put(x + i, y + h - 1);
    }
    for (let j = 0; j < h; j++) {
      put(x, y + j);
      put(x + w - 1, y + j);
    }
  }

  /** Place an existing object in room (i, j) (not next to the agent, max 1000 tries). */
  placeInRoom(i: number, j: number, obj: WorldObj): [WorldObj, Point] {
    const room = this.getRoom(i, j);
    const pos = this.placeObj(obj, room.top, room.size, rejectNextTo, 1000);
    room.objs.push(obj);
    return [obj, pos];
  }

  /** Add a new key/ball/box (random kind, then random colour, when not given) to room (i, j). */
  addObject(
    i: number,
    j: number,
    kind: string | null = null,
    color: ColorName | null = null,
  ): [WorldObj, Point] {
    if (kind === null) kind = this.randElem(["key", "ball", "box"]);
    if (color === null) color = this.randColor();
    let obj: WorldObj;
    if (kind === "key") obj = new Key(color);
    else if (kind === "ball") obj = new Ball(color);
    else if (kind === "box") obj = new Box(color);
    else throw new EnvUsageError(`${kind} object kind is not available in this environment.`);
    return this.placeInRoom(i, j, obj);
  }

  /** Add a door to room (i, j) towards a neighbour (random side/colour/locked when not given). */
  addDoor(
    i: number,
    j: number,
    doorIdx: number | null = null,
    color: ColorName | null = null,
    locked: boolean | null = null,
  ): [Door, Point] {
    const room = this.getRoom(i, j);
    if (doorIdx === null) {
      for (;;) {
        doorIdx = this.randInt(0, 4);
        if (room.neighbors[doorIdx] && room.doors[doorIdx] === null) break;
      }
    }
    if (color === null) color = this.randColor();
    if (locked === null) locked = this.randBool();
    if (room.doors[doorIdx] !== null) throw new Error("door already exists");
    room.locked = locked;
    const door = new Door(color, false, locked);
    const pos = room.doorPos[doorIdx];
    if (pos === null) {
      throw new Error(`addDoor(${i}, ${j}, ${doorIdx}): no door position on that side`);
    }
    this.grid.set(pos[0], pos[1], door);
    door.curPos = pos;
    const nb = room.neighbors[doorIdx];
    if (nb === null) throw new Error(`addDoor(${i}, ${j}, ${doorIdx}): no neighbour on that side`);
    room.doors[doorIdx] = door;
    nb.doors[(doorIdx + 2) % 4] = door;
    return [door, pos];
  }

  /** Remove the wall between room (i, j) and its neighbour on side wallIdx. */
  removeWall(i: number, j: number, wallIdx: number): void {
    const room = this.getRoom(i, j);
    if (!(wallIdx >= 0 && wallIdx < 4)) {
      throw new RangeError(`removeWall: bad wall index ${wallIdx}`);
    }
    if (room.doors[wallIdx] !== null) throw new Error("door exists on this wall");
    const nb = room.neighbors[wallIdx];
    if (!nb) throw new Error("invalid wall");
    const [tx, ty] = room.top, [w, h] = room.size;
    if (wallIdx === 0) { for (let k = 1; k < h - 1; k++) this.grid.set(tx + w - 1, ty + k, null); }
    else if (wallIdx === 1) {
      for (let k = 1; k < w - 1; k++) this.grid.set(tx + k, ty + h - 1, null);
    } else if (wallIdx === 2) { for (let k = 1; k < h - 1; k++) this.grid.set(tx, ty + k, null); }
    else for (let k = 1; k < w - 1; k++) this.grid.set(tx + k, ty, null);
    room.doors[wallIdx] = true;
    nb.doors[(wallIdx + 2) % 4] = true;
  }

  /**
   * Place the agent in room (i, j) (random room when not given), retrying until the cell in
   * front is empty or a wall. (Overrides MiniGridEnv.placeAgent, like the Python.)
   */
  override placeAgent(
    i: number | readonly number[] | null = null,
    j: number | readonly number[] | null = null,
    randDir = true,
  ): Point {
    if ((i !== null && typeof i !== "number") || (j !== null && typeof j !== "number")) {
      throw new EnvUsageError("RoomGrid.placeAgent takes room indices (i, j), not points");
    }
    const ii = i ?? this.randInt(0, this.numCols);
    const jj = j ?? this.randInt(0, this.numRows);
    const room = this.roomGrid[jj][ii];
    for (;;) {
      super.placeAgent(room.top, room.size, randDir, 1000);
      const [fx, fy] = this.frontPos;
      const front = this.grid.get(fx, fy);
      if (front === null || front.type === "wall") break;
    }
    return this.agentPos;
  }

  /** Add unlocked doors until every room is reachable from the agent's room. */
  connectAll(doorColors: readonly ColorName[] = COLOR_NAMES, maxItrs = 5000): Door[] {
    const startRoom = this.roomFromPos(this.agentX, this.agentY);
    const added: Door[] = [];
    const nRooms = this.numRows * this.numCols;
    // Number of rooms reachable from the start room through doors / removed walls. Only
    // recomputed after a door is added (the Python recomputes it every iteration; the result
    // is the same since nothing else changes in between).
    const countReach = (): number => {
      const reach = new Set<Room>();
      const stack = [startRoom];
      while (stack.length > 0) {
        const room = stack.pop()!;
        if (reach.has(room)) continue;
        reach.add(room);
        for (let k = 0; k < 4; k++) if (room.doors[k]) stack.push(room.neighbors[k]!);
      }
      return reach.size;
    };
    let reached = countReach();
    let numItrs = 0;
    for (;;) {
      if (numItrs > maxItrs) throw new RecursionError("connect_all failed");
      numItrs++;
      if (reached === nRooms) break;
      const i = this.randInt(0, this.numCols);
      const j = this.randInt(0, this.numRows);
      const k = this.randInt(0, 4);
      const room = this.getRoom(i, j);
      if (!room.doorPos[k] || room.doors[k]) continue;
      const nb = room.neighbors[k]!;
      if (room.locked || nb.locked) continue;
      const color = this.randElem(doorColors);
      const [door] = this.addDoor(i, j, k, color, false);
      added.push(door);
      reached = countReach();
    }
    return added;
  }

  /** Add random distractor objects (unique (type, colour) pairs when allUnique). */
  addDistractors(
    i: number | null = null,
    j: number | null = null,
    numDistractors = 10,
    allUnique = true,
  ): WorldObj[] {
    const objs: string[] = [];
    for (const row of this.roomGrid) {
      for (const room of row) for (const o of room.objs) objs.push(`${o.type}/${o.color}`);
    }
    const dists: WorldObj[] = [];
    while (dists.length < numDistractors) {
      const color = this.randElem(COLOR_NAMES);
      const type = this.randElem(["key", "ball", "box"]);
      const key = `${type}/${color}`;
      if (allUnique && objs.includes(key)) continue;
      const ri = i ?? this.randInt(0, this.numCols);
      const rj = j ?? this.randInt(0, this.numRows);
      const [dist] = this.addObject(ri, rj, type, color);
      objs.push(key);
      dists.push(dist);
    }
    return dists;
  }
}
