/**
 * The grid of world objects (mirror of `minigrid/core/grid.py`): cells stored row-major
 * (`grid[j * width + i]`), walls helpers, slicing/rotation, full-grid encoding in numpy layout
 * `[width, height, 3]` (cell (x, y) channel c at `((x * height) + y) * 3 + c`) and MiniGrid's
 * `process_vis` visibility propagation.
 *
 * @module
 */

import { type ColorName, OBJECT_TO_IDX } from "./constants.ts";
import { Wall, WorldObj } from "./objects.ts";

/** A factory for wall-like objects used by horzWall/vertWall. */
export type ObjFactory = () => WorldObj;

const makeWall: ObjFactory = () => new Wall();

/** A width x height grid of objects (null = empty). */
export class Grid {
  /** Number of columns. */
  readonly width: number;
  /** Number of rows. */
  readonly height: number;
  /** Row-major cells: index j * width + i. */
  readonly grid: (WorldObj | null)[];

  /** An empty grid; width and height must be >= 3 as in MiniGrid. */
  constructor(width: number, height: number) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 3 || height < 3) {
      throw new RangeError(`Grid: width and height must be integers >= 3, got ${width}x${height}`);
    }
    this.width = width;
    this.height = height;
    const cells: (WorldObj | null)[] = [];
    for (let k = width * height; k > 0; k--) cells.push(null);
    this.grid = cells;
  }

  /** Set cell (i, j); throws outside the grid. */
  set(i: number, j: number, v: WorldObj | null): void {
    if (i < 0 || i >= this.width || j < 0 || j >= this.height) {
      throw new RangeError(`Grid.set: (${i}, ${j}) outside grid ${this.width}x${this.height}`);
    }
    this.grid[j * this.width + i] = v;
  }

  /** Get cell (i, j); throws outside the grid. */
  get(i: number, j: number): WorldObj | null {
    if (i < 0 || i >= this.width || j < 0 || j >= this.height) {
      throw new RangeError(`Grid.get: (${i}, ${j}) outside grid ${this.width}x${this.height}`);
    }
    return this.grid[j * this.width + i];
  }

  /** Horizontal line of objects (walls by default) from (x, y), length defaults to the edge. */
  horzWall(x: number, y: number, length: number | null = null, objType: ObjFactory = makeWall) {
    const n = length ?? this.width - x;
    for (let i = 0; i < n; i++) this.set(x + i, y, objType());
  }

  /** Vertical line of objects (walls by default) from (x, y), length defaults to the edge. */
  vertWall(x: number, y: number, length: number | null = null, objType: ObjFactory = makeWall) {
    const n = length ?? this.height - y;
    for (let j = 0; j < n; j++) this.set(x, y + j, objType());
  }

  /** Rectangle of walls with top-left (x, y) and size w x h. */
  wallRect(x: number, y: number, w: number, h: number): void {
    this.horzWall(x, y, w);
    this.horzWall(x, y + h - 1, w);
    this.vertWall(x, y, h);
    this.vertWall(x + w - 1, y, h);
  }

  /** A new grid rotated counter-clockwise (objects shared, not copied). */
  rotateLeft(): Grid {
    const g = new Grid(this.height, this.width);
    for (let i = 0; i < this.width; i++) {
      for (let j = 0; j < this.height; j++) g.set(j, g.height - 1 - i, this.get(i, j));
    }
    return g;
  }

  /** A width x height window from (topX, topY); cells outside the grid become walls. */
  slice(topX: number, topY: number, width: number, height: number): Grid {
    const g = new Grid(width, height);
    for (let j = 0; j < height; j++) {
      for (let i = 0; i < width; i++) {
        const x = topX + i, y = topY + j;
        const inside = x >= 0 && x < this.width && y >= 0 && y < this.height;
        g.set(i, j, inside ? this.get(x, y) : new Wall());
      }
    }
    return g;
  }

  /** Whether the grid holds this object (identity) . */
  containsObj(obj: WorldObj): boolean {
    return this.grid.includes(obj);
  }

  /** Python's `(color, type) in grid`; color null matches any colour. */
  containsKind(color: ColorName | null, type: string): boolean {
    for (const e of this.grid) {
      if (e === null) continue;
      if ((color === null || e.color === color) && e.type === type) return true;
    }
    return false;
  }

  /**
   * Encode into numpy layout [width, height, 3]; with a visibility mask (Uint8Array, index
   * i * height + j) invisible cells stay [0, 0, 0].
   */
  encode(visMask: Uint8Array | null = null, out?: Uint8Array): Uint8Array {
    const w = this.width, h = this.height;
    const a = out ?? new Uint8Array(w * h * 3);
    if (out) a.fill(0, 0, w * h * 3);
    for (let i = 0; i < w; i++) {
      for (let j = 0; j < h; j++) {
        if (visMask !== null && !visMask[i * h + j]) continue;
        const v = this.grid[j * w + i];
        const o = (i * h + j) * 3;
        if (v === null) {
          a[o] = OBJECT_TO_IDX.empty;
        } else {
          a[o] = v.typeIdx;
          a[o + 1] = v.colorIdx;
          a[o + 2] = v.stateIdx();
        }
      }
    }
    return a;
  }

  /** Decode an encoding [width, height, 3] into a grid and its visibility mask. */
  static decode(
    arr: Uint8Array,
    width: number,
    height: number,
  ): { grid: Grid; visMask: Uint8Array } {
    const g = new Grid(width, height);
    const vis = new Uint8Array(width * height);
    for (let i = 0; i < width; i++) {
      for (let j = 0; j < height; j++) {
        const o = (i * height + j) * 3;
        g.set(i, j, WorldObj.decode(arr[o], arr[o + 1], arr[o + 2]));
        vis[i * height + j] = arr[o] !== OBJECT_TO_IDX.unseen ? 1 : 0;
      }
    }
    return { grid: g, visMask: vis };
  }

  /**
   * MiniGrid's visibility propagation from the agent at agentPos (usually the bottom centre of an
   * egocentric view). Invisible cells are set to null (as the Python does). Returns the mask
   * (Uint8Array, index i * height + j).
   */
  processVis(agentX: number, agentY: number): Uint8Array {
    const w = this.width, h = this.height;
    const mask = new Uint8Array(w * h);
    propagateVis(this.grid, w, h, agentX, agentY, mask);
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) if (!mask[i * h + j]) this.grid[j * w + i] = null;
    }
    return mask;
  }
}

/**
 * Visibility propagation core shared by Grid.processVis and the allocation-free observation path.
 * `cells` is row-major (j * w + i); `mask` (index i * h + j) must be zeroed by the caller.
 */
export function propagateVis(
  cells: ArrayLike<WorldObj | null>,
  w: number,
  h: number,
  ax: number,
  ay: number,
  mask: Uint8Array,
): void {
  mask[ax * h + ay] = 1;
  for (let j = h - 1; j >= 0; j--) {
    for (let i = 0; i < w - 1; i++) {
      if (!mask[i * h + j]) continue;
      const cell = cells[j * w + i];
      if (cell !== null && !cell.seeBehind()) continue;
      mask[(i + 1) * h + j] = 1;
      if (j > 0) {
        mask[(i + 1) * h + j - 1] = 1;
        mask[i * h + j - 1] = 1;
      }
    }
    for (let i = w - 1; i >= 1; i--) {
      if (!mask[i * h + j]) continue;
      const cell = cells[j * w + i];
      if (cell !== null && !cell.seeBehind()) continue;
      mask[(i - 1) * h + j] = 1;
      if (j > 0) {
        mask[(i - 1) * h + j - 1] = 1;
        mask[i * h + j - 1] = 1;
      }
    }
  }
}
