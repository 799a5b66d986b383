/**
 * LockedRoom (MiniGrid `envs/lockedroom.py`): six side rooms off a corridor; fetch the key from
 * one room to unlock the room holding the goal.
 *
 * @module
 */

import { COLOR_NAMES, type ColorName } from "../constants.ts";
import { Grid } from "../grid.ts";
import { MiniGridEnv } from "../minigrid.ts";
import { type MiniGridOptions } from "../env_api.ts";
import { Door, Goal, Key, type Point, Wall } from "../objects.ts";

/** A side room of LockedRoomEnv. */
export class LockedRoom {
  /** Top-left corner. */
  top: Point;
  /** Size. */
  size: Point;
  /** Door position. */
  doorPos: Point;
  /** Door colour. */
  color: ColorName | null = null;
  /** Whether locked. */
  locked = false;

  /** @param top corner @param size size @param doorPos door position */
  constructor(top: Point, size: Point, doorPos: Point) {
    this.top = top;
    this.size = size;
    this.doorPos = doorPos;
  }

  /** Random position strictly inside. */
  randPos(env: MiniGridEnv): Point {
    const [tx, ty] = this.top, [sx, sy] = this.size;
    return env.randPos(tx + 1, tx + sx - 1, ty + 1, ty + sy - 1);
  }
}

/** LockedRoomEnv options. */
export interface LockedRoomOptions extends MiniGridOptions {
  /** Grid size (default 19). */
  size?: number;
  /** Step limit (default 10 * size). */
  maxSteps?: number;
}

/** MiniGrid-LockedRoom-v0. */
export class LockedRoomEnv extends MiniGridEnv {
  /** The six rooms. */
  rooms: LockedRoom[] = [];

  /** @param opts see LockedRoomOptions */
  constructor(opts: LockedRoomOptions = {}) {
    const size = opts.size ?? 19;
    super({ ...opts, width: size, height: size, maxSteps: opts.maxSteps ?? 10 * size });
  }

  protected genGrid(width: number, height: number): void {
    this.grid = new Grid(width, height);
    for (let i = 0; i < width; i++) {
      this.grid.set(i, 0, new Wall());
      this.grid.set(i, height - 1, new Wall());
    }
    for (let j = 0; j < height; j++) {
      this.grid.set(0, j, new Wall());
      this.grid.set(width - 1, j, new Wall());
    }
    const lWall = (width >> 1) - 2, rWall = (width >> 1) + 2;
    for (let j = 0; j < height; j++) {
      this.grid.set(lWall, j, new Wall());
      this.grid.set(rWall, j, new Wall());
    }
    this.rooms = [];
    const third = Math.floor(height / 3);
    for (let n = 0; n < 3; n++) {
      const j = n * third;
      for (let i = 0; i < lWall; i++) this.grid.set(i, j, new Wall());
      for (let i = rWall; i < width; i++) this.grid.set(i, j, new Wall());
      const roomW = lWall + 1, roomH = third + 1;
      this.rooms.push(new LockedRoom([0, j], [roomW, roomH], [lWall, j + 3]));
      this.rooms.push(new LockedRoom([rWall, j], [roomW, roomH], [rWall, j + 3]));
    }
    const lockedRoom = this.randElem(this.rooms);
    lockedRoom.locked = true;
    const goalPos = lockedRoom.randPos(this);
    this.grid.set(goalPos[0], goalPos[1], new Goal());
    const colors = new Set<ColorName>(COLOR_NAMES);
    for (const room of this.rooms) {
      const color = this.randElem([...colors].sort());
      colors.delete(color);
      room.color = color;
      this.grid.set(room.doorPos[0], room.doorPos[1], new Door(color, false, room.locked));
    }
    let keyRoom: LockedRoom;
    for (;;) {
      keyRoom = this.randElem(this.rooms);
      if (keyRoom !== lockedRoom) break;
    }
    const keyPos = keyRoom.randPos(this);
    this.grid.set(keyPos[0], keyPos[1], new Key(lockedRoom.color!));
    this.placeAgent([lWall, 0], [rWall - lWall, height]);
    this.mission = `get the ${lockedRoom.color} key from the ${keyRoom.color} room, ` +
      `unlock the ${lockedRoom.color} door and go to the goal`;
  }
}
