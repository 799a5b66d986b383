/**
 * ObstructedMaze (MiniGrid `envs/obstructedmaze.py`, `envs/obstructedmaze_v1.py`): find the blue
 * ball behind locked doors whose keys may be hidden in boxes, with doors blocked by balls.
 *
 * @module
 */

import { Actions, COLOR_NAMES, type ColorName, DIR_TO_VEC } from "../constants.ts";
import type { StepResult } from "../env_api.ts";
import { Ball, Box, type Door, Key, type Point, type WorldObj } from "../objects.ts";
import { RoomGrid, type RoomGridOptions } from "../roomgrid.ts";

/** ObstructedMaze options. */
export interface ObstructedMazeOptions extends RoomGridOptions {
  /** Hide keys in boxes (default true). */
  keyInBox?: boolean;
  /** Block doors with balls (default true). */
  blocked?: boolean;
  /** Full: agent room [i, j] (default [1, 1]). */
  agentRoom?: Point;
  /** Full: number of quarters (default 4). */
  numQuarters?: number;
  /** Full: rooms visited, for maxSteps (default 25). */
  numRoomsVisited?: number;
  /** Step limit (default 4 * numRoomsVisited * 6^2). */
  maxSteps?: number;
}

/** Base of the ObstructedMaze family. */
export abstract class ObstructedMazeEnv extends RoomGrid {
  /** The ball to find. */
  obj: WorldObj = new Ball();
  /** Door colours (a random permutation of COLOR_NAMES). */
  doorColors: ColorName[] = [];
  /** Colour of the ball to find. */
  ballToFindColor: ColorName = COLOR_NAMES[0];
  /** Colour of blocking balls. */
  blockingBallColor: ColorName = COLOR_NAMES[1];
  /** Colour of key boxes. */
  boxColor: ColorName = COLOR_NAMES[2];

  /** @param opts options; numRows/numCols/numRoomsVisited fixed by subclasses */
  constructor(
    opts: ObstructedMazeOptions & { numRows: number; numCols: number; numRoomsVisited: number },
  ) {
    super({
      ...opts,
      roomSize: 6,
      maxSteps: opts.maxSteps ?? 4 * opts.numRoomsVisited * 36,
    });
  }

  protected override genGrid(width: number, height: number): void {
    super.genGrid(width, height);
    this.doorColors = this.randSubset(COLOR_NAMES, COLOR_NAMES.length);
    this.ballToFindColor = COLOR_NAMES[0];
    this.blockingBallColor = COLOR_NAMES[1];
    this.boxColor = COLOR_NAMES[2];
    this.mission = `pick up the ${this.ballToFindColor} ball`;
  }

  protected override doStep(action: number): StepResult {
    const r = super.doStep(action);
    if (action === Actions.pickup && this.carrying !== null && this.carrying === this.obj) {
      r.reward = this.reward();
      r.terminated = true;
    }
    return r;
  }

  /** Add a door; optionally block it with a ball and place its key (maybe in a box) in room (i, j). */
  override addDoor(
    i: number,
    j: number,
    doorIdx: number | null = 0,
    color: ColorName | null = null,
    locked: boolean | null = false,
    keyInBox = false,
    blocked = false,
  ): [Door, Point] {
    const [door, pos] = super.addDoor(i, j, doorIdx, color, locked);
    if (blocked) {
      const vec = DIR_TO_VEC[doorIdx!];
      this.grid.set(pos[0] - vec[0], pos[1] - vec[1], new Ball(this.blockingBallColor));
    }
    if (locked) {
      let obj: WorldObj = new Key(door.color);
      if (keyInBox) obj = new Box(this.boxColor, obj);
      this.placeInRoom(i, j, obj);
    }
    return [door, pos];
  }
}

/** MiniGrid-ObstructedMaze-1Dl / 1Dlh / 1Dlhb-v0. */
export class ObstructedMaze1Dlhb extends ObstructedMazeEnv {
  /** Key hidden in a box. */
  keyInBox: boolean;
  /** Door blocked by a ball. */
  blocked: boolean;

  /** @param opts see ObstructedMazeOptions */
  constructor(opts: ObstructedMazeOptions = {}) {
    super({ ...opts, numRows: 1, numCols: 2, numRoomsVisited: 2 });
    this.keyInBox = opts.keyInBox ?? true;
    this.blocked = opts.blocked ?? true;
  }

  protected override genGrid(width: number, height: number): void {
    super.genGrid(width, height);
    this.addDoor(0, 0, 0, this.doorColors[0], true, this.keyInBox, this.blocked);
    [this.obj] = this.addObject(1, 0, "ball", this.ballToFindColor);
    this.placeAgent(0, 0);
  }
}

/** MiniGrid-ObstructedMaze-2Dl ... Full-v0 (3x3 rooms). */
export class ObstructedMazeFull extends ObstructedMazeEnv {
  /** Agent room. */
  agentRoom: Point;
  /** Keys in boxes. */
  keyInBox: boolean;
  /** Doors blocked. */
  blocked: boolean;
  /** Quarters used. */
  numQuarters: number;

  /** @param opts see ObstructedMazeOptions */
  constructor(opts: ObstructedMazeOptions = {}) {
    super({ ...opts, numRows: 3, numCols: 3, numRoomsVisited: opts.numRoomsVisited ?? 25 });
    this.agentRoom = opts.agentRoom ?? [1, 1];
    this.keyInBox = opts.keyInBox ?? true;
    this.blocked = opts.blocked ?? true;
    this.numQuarters = opts.numQuarters ?? 4;
  }

  protected override genGrid(width: number, height: number): void {
    super.genGrid(width, height);
    const sideRooms: Point[] = ([[2, 1], [1, 2], [0, 1], [1, 0]] as Point[]).slice(
      0,
      this.numQuarters,
    );
    for (let i = 0; i < sideRooms.length; i++) {
      const side = sideRooms[i];
      this.addDoor(1, 1, i, this.doorColors[i], false);
      for (const k of [-1, 1]) {
        const d = (((i + k) % 4) + 4) % 4;
        this.addDoor(
          side[0],
          side[1],
          d,
          this
            .doorColors[
              (((i + k) % this.doorColors.length) + this.doorColors.length) % this.doorColors.length
            ],
          true,
          this.keyInBox,
          this.blocked,
        );
      }
    }
    const corners = ([[2, 0], [2, 2], [0, 2], [0, 0]] as Point[]).slice(0, this.numQuarters);
    const ballRoom = this.randElem(corners);
    [this.obj] = this.addObject(ballRoom[0], ballRoom[1], "ball", this.ballToFindColor);
    this.placeAgent(this.agentRoom[0], this.agentRoom[1]);
  }
}

/** MiniGrid-ObstructedMaze-*-v1 (keys placed after both locked doors of a side room). */
export class ObstructedMazeFullV1 extends ObstructedMazeEnv {
  /** Agent room. */
  agentRoom: Point;
  /** Keys in boxes. */
  keyInBox: boolean;
  /** Doors blocked. */
  blocked: boolean;
  /** Quarters used. */
  numQuarters: number;

  /** @param opts see ObstructedMazeOptions */
  constructor(opts: ObstructedMazeOptions = {}) {
    super({ ...opts, numRows: 3, numCols: 3, numRoomsVisited: opts.numRoomsVisited ?? 25 });
    this.agentRoom = opts.agentRoom ?? [1, 1];
    this.keyInBox = opts.keyInBox ?? true;
    this.blocked = opts.blocked ?? true;
    this.numQuarters = opts.numQuarters ?? 4;
  }

  protected override genGrid(width: number, height: number): void {
    super.genGrid(width, height);
    const n = this.doorColors.length;
    const mod = (a: number, m: number) => ((a % m) + m) % m;
    const sideRooms: Point[] = ([[2, 1], [1, 2], [0, 1], [1, 0]] as Point[]).slice(
      0,
      this.numQuarters,
    );
    for (let i = 0; i < sideRooms.length; i++) {
      const side = sideRooms[i];
      this.addDoor(1, 1, i, this.doorColors[i], false);
      for (const k of [-1, 1]) {
        this.addLockedDoor(
          side[0],
          side[1],
          mod(i + k, 4),
          this.doorColors[mod(i + k, n)],
          this.blocked,
        );
      }
      for (const k of [-1, 1]) {
        this.addKey(side[0], side[1], this.doorColors[mod(i + k, n)], this.keyInBox);
      }
    }
    const corners = ([[2, 0], [2, 2], [0, 2], [0, 0]] as Point[]).slice(0, this.numQuarters);
    const ballRoom = this.randElem(corners);
    [this.obj] = this.addObject(ballRoom[0], ballRoom[1], "ball", this.ballToFindColor);
    this.placeAgent(this.agentRoom[0], this.agentRoom[1]);
  }

  /** A locked door (RoomGrid.addDoor), optionally blocked by a ball. */
  addLockedDoor(
    i: number,
    j: number,
    doorIdx: number,
    color: ColorName,
    blocked: boolean,
  ): [Door, Point] {
    const [door, pos] = RoomGrid.prototype.addDoor.call(this, i, j, doorIdx, color, true);
    if (blocked) {
      const vec = DIR_TO_VEC[doorIdx];
      this.grid.set(pos[0] - vec[0], pos[1] - vec[1], new Ball(this.blockingBallColor));
    }
    return [door, pos];
  }

  /** Place a key (maybe in a box) in room (i, j). */
  addKey(i: number, j: number, color: ColorName, keyInBox: boolean): void {
    let obj: WorldObj = new Key(color);
    if (keyInBox) obj = new Box(this.boxColor, obj);
    this.placeInRoom(i, j, obj);
  }
}
