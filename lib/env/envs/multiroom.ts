/**
 * MultiRoom (MiniGrid `envs/multiroom.py`): a chain of randomly sized rooms joined by doors.
 *
 * @module
 */

import { COLOR_NAMES, type ColorName } from "../constants.ts";
import { Grid } from "../grid.ts";
import { EnvUsageError, type MiniGridOptions } from "../env_api.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { Door, Goal, type Point, Wall } from "../objects.ts";

/** One room of the chain. */
export class MultiRoom {
  /** Top-left corner. */
  top: Point;
  /** Size. */
  size: Point;
  /** Entry door position. */
  entryDoorPos: Point;
  /** Exit door position (null for the last room). */
  exitDoorPos: Point | null;

  /** @param top corner @param size size @param entry entry door @param exit exit door */
  constructor(top: Point, size: Point, entry: Point, exit: Point | null) {
    this.top = top;
    this.size = size;
    this.entryDoorPos = entry;
    this.exitDoorPos = exit;
  }
}

/** MultiRoomEnv options. */
export interface MultiRoomOptions extends MiniGridOptions {
  /** Minimum number of rooms. */
  minNumRooms?: number;
  /** Maximum number of rooms. */
  maxNumRooms?: number;
  /** Maximum room size (default 10, >= 4). */
  maxRoomSize?: number;
  /** Width (default 25). */
  width?: number;
  /** Height (default 25). */
  height?: number;
  /** Step limit (default maxNumRooms * 20). */
  maxSteps?: number;
}

/** MiniGrid-MultiRoom-*. */
export class MultiRoomEnv extends MiniGridEnv {
  /** Minimum rooms. */
  minNumRooms: number;
  /** Maximum rooms. */
  maxNumRooms: number;
  /** Maximum room size. */
  maxRoomSize: number;
  /** The generated rooms. */
  rooms: MultiRoom[] = [];
  /** Goal position. */
  goalPos: Point = [0, 0];

  /** @param opts see MultiRoomOptions */
  constructor(opts: MultiRoomOptions = {}) {
    const minN = opts.minNumRooms ?? 1;
    const maxN = opts.maxNumRooms ?? minN;
    const maxSz = opts.maxRoomSize ?? 10;
    if (minN <= 0 || maxN < minN || maxSz < 4) {
      throw new EnvUsageError(
        `MultiRoomEnv: need minNumRooms > 0, maxNumRooms >= minNumRooms, maxRoomSize >= 4 (got ${minN}, ${maxN}, ${maxSz})`,
      );
    }
    super({
      ...opts,
      width: opts.width ?? 25,
      height: opts.height ?? 25,
      maxSteps: opts.maxSteps ?? maxN * 20,
    });
    this.minNumRooms = minN;
    this.maxNumRooms = maxN;
    this.maxRoomSize = maxSz;
  }

  protected genGrid(width: number, height: number): void {
    let roomList: MultiRoom[] = [];
    const numRooms = this.randInt(this.minNumRooms, this.maxNumRooms + 1);
    while (roomList.length < numRooms) {
      const cur: MultiRoom[] = [];
      const entry: Point = [this.randInt(0, width - 2), this.randInt(0, width - 2)];
      this.placeRoom(numRooms, cur, 4, this.maxRoomSize, 2, entry);
      if (cur.length > roomList.length) roomList = cur;
    }
    this.rooms = roomList;
    this.grid = new Grid(width, height);
    const wall = new Wall();
    let prevDoorColor: ColorName | null = null;
    roomList.forEach((room, idx) => {
      const [tx, ty] = room.top, [sx, sy] = room.size;
      for (let i = 0; i < sx; i++) {
        this.grid.set(tx + i, ty, wall);
        this.grid.set(tx + i, ty + sy - 1, wall);
      }
      for (let j = 0; j < sy; j++) {
        this.grid.set(tx, ty + j, wall);
        this.grid.set(tx + sx - 1, ty + j, wall);
      }
      if (idx > 0) {
        const colors = COLOR_NAMES.filter((c) => c !== prevDoorColor);
        const doorColor = this.randElem(colors);
        this.grid.set(room.entryDoorPos[0], room.entryDoorPos[1], new Door(doorColor));
        prevDoorColor = doorColor;
        roomList[idx - 1].exitDoorPos = room.entryDoorPos;
      }
    });
    this.placeAgent(roomList[0].top, roomList[0].size);
    this.goalPos = this.placeObj(
      new Goal(),
      roomList[roomList.length - 1].top,
      roomList[roomList.length - 1].size,
    );
    this.mission = "traverse the rooms to get to the goal";
  }

  private placeRoom(
    numLeft: number,
    roomList: MultiRoom[],
    minSz: number,
    maxSz: number,
    entryDoorWall: number,
    entryDoorPos: Point,
  ): boolean {
    const sizeX = this.randInt(minSz, maxSz + 1);
    const sizeY = this.randInt(minSz, maxSz + 1);
    let topX: number, topY: number;
    if (roomList.length === 0) {
      [topX, topY] = entryDoorPos;
    } else if (entryDoorWall === 0) {
      topX = entryDoorPos[0] - sizeX + 1;
      const y = entryDoorPos[1];
      topY = this.randInt(y - sizeY + 2, y);
    } else if (entryDoorWall === 1) {
      const x = entryDoorPos[0];
      topX = this.randInt(x - sizeX + 2, x);
      topY = entryDoorPos[1] - sizeY + 1;
    } else if (entryDoorWall === 2) {
      topX = entryDoorPos[0];
      const y = entryDoorPos[1];
      topY = this.randInt(y - sizeY + 2, y);
    } else {
      const x = entryDoorPos[0];
      topX = this.randInt(x - sizeX + 2, x);
      topY = entryDoorPos[1];
    }
    if (topX < 0 || topY < 0) return false;
    if (topX + sizeX > this.width || topY + sizeY >= this.height) return false;
    for (const room of roomList.slice(0, -1)) {
      const nonOverlap = topX + sizeX < room.top[0] ||
        room.top[0] + room.size[0] <= topX ||
        topY + sizeY < room.top[1] ||
        room.top[1] + room.size[1] <= topY;
      if (!nonOverlap) return false;
    }
    roomList.push(new MultiRoom([topX, topY], [sizeX, sizeY], entryDoorPos, null));
    if (numLeft === 1) return true;
    for (let i = 0; i < 8; i++) {
      const walls = [0, 1, 2, 3].filter((w) => w !== entryDoorWall);
      const exitDoorWall = this.randElem(walls);
      const nextEntryWall = (exitDoorWall + 2) % 4;
      let exitDoorPos: Point;
      if (exitDoorWall === 0) exitDoorPos = [topX + sizeX - 1, topY + this.randInt(1, sizeY - 1)];
      else if (exitDoorWall === 1) {
        exitDoorPos = [topX + this.randInt(1, sizeX - 1), topY + sizeY - 1];
      } else if (exitDoorWall === 2) exitDoorPos = [topX, topY + this.randInt(1, sizeY - 1)];
      else exitDoorPos = [topX + this.randInt(1, sizeX - 1), topY];
      const ok = this.placeRoom(numLeft - 1, roomList, minSz, maxSz, nextEntryWall, exitDoorPos);
      if (ok) break;
    }
    return true;
  }
}
