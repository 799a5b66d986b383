/**
 * The MiniGrid base environment (mirror of `minigrid/minigrid_env.py`), seed-exact with
 * MiniGrid 3.1.0: the same RNG helper call semantics (`randInt`, `randElem`, `placeObj`, ...),
 * the same step dynamics and float64 reward, the same egocentric observation.
 *
 * Subclass it like the Python: implement `genGrid(width, height)` (Python `_gen_grid`) and, for
 * envs that change the step, override `doStep(action)` (Python `step`) calling `super.doStep`.
 * The public `step(action)` validates the action, refuses steps after the episode ended and
 * calls `doStep`. The records it takes and returns (Obs, StepResult, options, errors) are in
 * env_api.ts.
 *
 * @module
 */

import {
  ACTION_NAMES,
  Actions,
  COLOR_NAMES,
  type ColorName,
  DIR_DX,
  DIR_DY,
  DIR_TO_VEC,
} from "./constants.ts";
import { Grid, propagateVis } from "./grid.ts";
import { type Point, Wall, type WorldObj } from "./objects.ts";
import { Generator } from "./rng.ts";
import {
  checkSeed,
  EnvUsageError,
  type MiniGridOptions,
  type Obs,
  RecursionError,
  type ResetOptions,
  type ResetResult,
  type StepResult,
} from "./env_api.ts";

/** A rejection predicate for placeObj: return true to reject position pos. */
export type RejectFn = (env: MiniGridEnv, pos: Point) => boolean;

const EMPTY_INFO: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
/** Shared wall used for out-of-world cells in the fast observation path. */
const OUT_WALL = new Wall();

/** Base MiniGrid environment. */
export abstract class MiniGridEnv {
  /** Grid width. */
  width: number;
  /** Grid height. */
  height: number;
  /** Step limit; `truncated` when stepCount >= maxSteps. */
  maxSteps: number;
  /** Skip occlusion in observations. */
  seeThroughWalls: boolean;
  /** Egocentric view size (odd). */
  agentViewSize: number;
  /** Registered id this env was made from ("" when constructed directly). */
  envId = "";
  /** Size of the action space (7, or 3 for Dynamic-Obstacles). */
  actionSpaceN = 7;
  /** The grid (replaced by genGrid). */
  grid: Grid;
  /** Carried object or null. */
  carrying: WorldObj | null = null;
  /** Agent x (column). */
  agentX = -1;
  /** Agent y (row). */
  agentY = -1;
  /** Agent direction 0 right, 1 down, 2 left, 3 up. */
  agentDir = -1;
  /** Mission string. */
  mission = "";
  /** Steps since reset. */
  stepCount = 0;
  /** The env's numpy-compatible Generator (Python `np_random`). */
  npRandom: Generator | null = null;
  /** True after a step returned terminated or truncated (until reset). */
  ended = false;
  /**
   * If set, observations are written into this buffer at obsOffset (batched API) and
   * `obs.image` is a view of it; otherwise each observation gets its own Uint8Array.
   */
  obsBuffer: Uint8Array | null = null;
  /** Byte offset of this env's observation in obsBuffer. */
  obsOffset = 0;

  // Scratch for the allocation-free observation path.
  private viewCells: (WorldObj | null)[];
  private viewMask: Uint8Array;

  /** Configure sizes and limits (no grid generated until reset). */
  constructor(opts: MiniGridOptions = {}) {
    let { width, height } = opts;
    if (opts.gridSize) {
      if (width != null || height != null) {
        throw new EnvUsageError("MiniGridEnv: give either gridSize or width/height, not both");
      }
      width = height = opts.gridSize;
    }
    if (width == null || height == null) {
      throw new EnvUsageError("MiniGridEnv: gridSize or width and height are required");
    }
    const maxSteps = opts.maxSteps ?? 100;
    if (!Number.isInteger(maxSteps) || maxSteps <= 0) {
      throw new EnvUsageError(`maxSteps must be a positive integer, got ${maxSteps}`);
    }
    const vs = opts.agentViewSize ?? 7;
    if (!Number.isInteger(vs) || vs % 2 !== 1 || vs < 3) {
      throw new EnvUsageError(`agentViewSize must be an odd integer >= 3, got ${vs}`);
    }
    this.width = width;
    this.height = height;
    this.maxSteps = maxSteps;
    this.seeThroughWalls = opts.seeThroughWalls ?? false;
    this.agentViewSize = vs;
    this.grid = new Grid(width, height);
    this.viewCells = new Array(vs * vs).fill(null);
    this.viewMask = new Uint8Array(vs * vs);
  }

  /** Build the level: set this.grid, the agent (agentPos, agentDir) and this.mission. */
  protected abstract genGrid(width: number, height: number): void;

  /** Agent position [x, y] (a fresh tuple). Setting it moves the agent. */
  get agentPos(): Point {
    return [this.agentX, this.agentY];
  }
  set agentPos(p: Point | readonly number[]) {
    this.agentX = p[0];
    this.agentY = p[1];
  }

  /** Direction vector [dx, dy] of the agent. */
  get dirVec(): readonly [number, number] {
    const v = DIR_TO_VEC[this.agentDir];
    if (v === undefined) throw new EnvUsageError(`invalid agentDir ${this.agentDir}`);
    return v;
  }

  /** Vector pointing to the agent's right. */
  get rightVec(): [number, number] {
    const [dx, dy] = this.dirVec;
    return [-dy, dx];
  }

  /** Cell in front of the agent. */
  get frontPos(): Point {
    const [dx, dy] = this.dirVec;
    return [this.agentX + dx, this.agentY + dy];
  }

  /** Steps left before truncation. */
  get stepsRemaining(): number {
    return this.maxSteps - this.stepCount;
  }

  /** The RNG; throws if reset was never called. */
  get rng(): Generator {
    if (this.npRandom === null) {
      throw new EnvUsageError("env has no RNG yet: call reset({ seed }) first");
    }
    return this.npRandom;
  }

  /**
   * Start an episode. With a seed the RNG is re-seeded exactly as gymnasium does
   * (`Generator(PCG64(SeedSequence(seed)))`); without one the stream continues.
   */
  reset(opts: ResetOptions = {}): ResetResult {
    const seed = opts.seed;
    if (seed !== undefined && seed !== null) {
      const s = checkSeed(seed);
      if (this.npRandom === null) this.npRandom = new Generator(s);
      else this.npRandom.seed(s);
    } else if (this.npRandom === null) {
      const w = crypto.getRandomValues(new Uint32Array(2));
      this.npRandom = new Generator(w[0] * 2 ** 21 + (w[1] >>> 11));
    }
    this.agentX = -1;
    this.agentY = -1;
    this.agentDir = -1;
    this.genGrid(this.width, this.height);
    if (this.agentX < 0 || this.agentY < 0 || this.agentDir < 0 || this.agentDir > 3) {
      throw new Error(
        `${this.constructor.name}.genGrid did not place the agent (pos ${this.agentPos}, dir ${this.agentDir})`,
      );
    }
    const start = this.grid.get(this.agentX, this.agentY);
    if (start !== null && !start.canOverlap()) {
      throw new Error(`${this.constructor.name}: agent starts on a ${start.type}`);
    }
    this.carrying = null;
    this.stepCount = 0;
    this.ended = false;
    return { obs: this.genObs(), info: EMPTY_INFO };
  }

  /** Success reward `1 - 0.9 * (stepCount / maxSteps)` (float64, same bits as Python). */
  protected reward(): number {
    return 1 - 0.9 * (this.stepCount / this.maxSteps);
  }

  // ---- RNG helpers (exact Python call semantics) ----

  /** Random integer in [low, high) (`np_random.integers`). */
  randInt(low: number, high: number): number {
    return this.rng.integers(low, high);
  }

  /** Random float in [low, high) (`np_random.uniform`). */
  randFloat(low: number, high: number): number {
    return this.rng.uniform(low, high);
  }

  /** Random boolean: `integers(0, 2) == 0`. */
  randBool(): boolean {
    return this.rng.integers(0, 2) === 0;
  }

  /** Random element of a list (`lst[integers(0, len)]`). */
  randElem<T>(items: Iterable<T>): T {
    const lst = Array.isArray(items) ? items as T[] : Array.from(items);
    return lst[this.randInt(0, lst.length)];
  }

  /** k distinct elements, drawn one by one with randElem and removed (draw order kept). */
  randSubset<T>(items: Iterable<T>, k: number): T[] {
    const lst = Array.from(items);
    if (k > lst.length) throw new EnvUsageError(`randSubset: k=${k} > ${lst.length} elements`);
    const out: T[] = [];
    while (out.length < k) {
      const e = this.randElem(lst);
      lst.splice(lst.indexOf(e), 1);
      out.push(e);
    }
    return out;
  }

  /** Random colour from the sorted COLOR_NAMES. */
  randColor(): ColorName {
    return this.randElem(COLOR_NAMES);
  }

  /** Random position: integers(xLow, xHigh) then integers(yLow, yHigh). */
  randPos(xLow: number, xHigh: number, yLow: number, yHigh: number): Point {
    const x = this.rng.integers(xLow, xHigh);
    const y = this.rng.integers(yLow, yHigh);
    return [x, y];
  }

  /**
   * Place an object (or nothing, for the agent) at a random empty cell of the rectangle
   * top/size (defaults: whole grid). Makes max_tries + 1 attempts before RecursionError,
   * exactly like the Python.
   */
  placeObj(
    obj: WorldObj | null,
    top: readonly number[] | null = null,
    size: readonly number[] | null = null,
    rejectFn: RejectFn | null = null,
    maxTries = Infinity,
  ): Point {
    const tx = top === null ? 0 : Math.max(top[0], 0);
    const ty = top === null ? 0 : Math.max(top[1], 0);
    const sx = size === null ? this.grid.width : size[0];
    const sy = size === null ? this.grid.height : size[1];
    const xHigh = Math.min(tx + sx, this.grid.width);
    const yHigh = Math.min(ty + sy, this.grid.height);
    const rng = this.rng;
    let numTries = 0;
    let x = 0, y = 0;
    for (;;) {
      if (numTries > maxTries) throw new RecursionError("rejection sampling failed in place_obj");
      numTries++;
      x = rng.integers(tx, xHigh);
      y = rng.integers(ty, yHigh);
      if (this.grid.get(x, y) !== null) continue;
      if (x === this.agentX && y === this.agentY) continue;
      if (rejectFn !== null && rejectFn(this, [x, y])) continue;
      break;
    }
    this.grid.set(x, y, obj);
    if (obj !== null) {
      obj.initPos = [x, y];
      obj.curPos = [x, y];
    }
    return [x, y];
  }

  /** Put an object at (i, j) and record its position. */
  putObj(obj: WorldObj, i: number, j: number): void {
    this.grid.set(i, j, obj);
    obj.initPos = [i, j];
    obj.curPos = [i, j];
  }

  /** Start the agent at a fixed cell and direction, or at a random free cell when `pos` is null. */
  protected startAgent(pos: Point | null, dir: number): void {
    if (pos === null) this.placeAgent();
    else (this.agentPos = pos, this.agentDir = dir);
  }

  /** Place the agent at a random empty cell of top/size; random direction if randDir. */
  placeAgent(
    top: readonly number[] | number | null = null,
    size: readonly number[] | number | null = null,
    randDir = true,
    maxTries = Infinity,
  ): Point {
    if (typeof top === "number" || typeof size === "number") {
      throw new EnvUsageError("MiniGridEnv.placeAgent takes top/size points, not room indices");
    }
    this.agentX = -1;
    this.agentY = -1;
    const pos = this.placeObj(null, top, size, null, maxTries);
    this.agentX = pos[0];
    this.agentY = pos[1];
    if (randDir) this.agentDir = this.randInt(0, 4);
    return pos;
  }

  // ---- view geometry ----

  /** World (i, j) → agent view coords [vx, vy] (may fall outside the view). */
  getViewCoords(i: number, j: number): Point {
    const [dx, dy] = this.dirVec;
    const rx = -dy, ry = dx;
    const sz = this.agentViewSize, hs = sz >> 1;
    const tx = this.agentX + dx * (sz - 1) - rx * hs;
    const ty = this.agentY + dy * (sz - 1) - ry * hs;
    const lx = i - tx, ly = j - ty;
    return [rx * lx + ry * ly, -(dx * lx + dy * ly)];
  }

  /** Extents [topX, topY, botX, botY] of the view square (bottom exclusive). */
  getViewExts(agentViewSize: number | null = null): [number, number, number, number] {
    const vs = agentViewSize || this.agentViewSize;
    let topX: number, topY: number;
    switch (this.agentDir) {
      case 0:
        topX = this.agentX;
        topY = this.agentY - (vs >> 1);
        break;
      case 1:
        topX = this.agentX - (vs >> 1);
        topY = this.agentY;
        break;
      case 2:
        topX = this.agentX - vs + 1;
        topY = this.agentY - (vs >> 1);
        break;
      case 3:
        topX = this.agentX - (vs >> 1);
        topY = this.agentY - vs + 1;
        break;
      default:
        throw new EnvUsageError(`invalid agent direction ${this.agentDir}`);
    }
    return [topX, topY, topX + vs, topY + vs];
  }

  /** View coords of a world cell if inside the view square, else null. */
  relativeCoords(x: number, y: number): Point | null {
    const [vx, vy] = this.getViewCoords(x, y);
    const s = this.agentViewSize;
    if (vx < 0 || vy < 0 || vx >= s || vy >= s) return null;
    return [vx, vy];
  }

  /** Whether a world cell lies inside the view square. */
  inView(x: number, y: number): boolean {
    return this.relativeCoords(x, y) !== null;
  }

  /** Whether the (non-empty) world cell is visible with its type in the current observation. */
  agentSees(x: number, y: number): boolean {
    const c = this.relativeCoords(x, y);
    if (c === null) return false;
    const img = this.genObsImage(new Uint8Array(this.agentViewSize * this.agentViewSize * 3), 0);
    const o = (c[0] * this.agentViewSize + c[1]) * 3;
    const world = this.grid.get(x, y);
    if (world === null) throw new Error(`agentSees(${x}, ${y}): cell is empty`);
    return img[o] > 1 && img[o] === world.typeIdx;
  }

  /**
   * Python's `gen_obs_grid`: the rotated view sub-grid (invisible cells set to null, the agent's
   * cell holding the carried object) and its visibility mask (index i * vs + j). Slow path, for
   * the bot and tools; observations use the allocation-free genObsImage.
   */
  genObsGrid(agentViewSize: number | null = null): { grid: Grid; visMask: Uint8Array } {
    const vs = agentViewSize || this.agentViewSize;
    const [topX, topY] = this.getViewExts(vs);
    let grid = this.grid.slice(topX, topY, vs, vs);
    for (let i = 0; i < this.agentDir + 1; i++) grid = grid.rotateLeft();
    let visMask: Uint8Array;
    if (!this.seeThroughWalls) visMask = grid.processVis(vs >> 1, vs - 1);
    else visMask = new Uint8Array(vs * vs).fill(1);
    grid.set(grid.width >> 1, grid.height - 1, this.carrying);
    return { grid, visMask };
  }

  /**
   * The egocentric view as world cells, without allocating: `cells[vy * vs + vx]` the object at
   * view cell (vx, vy) (a wall outside the grid; the agent's own cell as the grid holds it, not
   * the carried object) and `mask[vx * vs + vy]` 1 where it is visible (Python's
   * `gen_obs_grid` + `process_vis`). The one projection of the workspace: genObsImage and the
   * BabyAI bot's `_process_obs` both use it. Both arrays hold `agentViewSize ** 2` entries.
   */
  projectView(cells: (WorldObj | null)[], mask: Uint8Array): void {
    const vs = this.agentViewSize, hs = vs >> 1;
    const dir = this.agentDir;
    const dx = DIR_DX[dir], dy = DIR_DY[dir];
    const rx = -dy, ry = dx;
    const ax = this.agentX, ay = this.agentY;
    const W = this.grid.width, H = this.grid.height;
    const g = this.grid.grid;
    // view (vx, vy) ↔ world agent + f*(vs-1-vy) + r*(vx-hs)
    for (let vy = 0; vy < vs; vy++) {
      const fwd = vs - 1 - vy;
      const bx = ax + dx * fwd, by = ay + dy * fwd;
      for (let vx = 0; vx < vs; vx++) {
        const side = vx - hs;
        const x = bx + rx * side, y = by + ry * side;
        cells[vy * vs + vx] = x >= 0 && x < W && y >= 0 && y < H ? g[y * W + x] : OUT_WALL;
      }
    }
    if (this.seeThroughWalls) {
      mask.fill(1);
    } else {
      mask.fill(0);
      propagateVis(cells, vs, vs, hs, vs - 1, mask);
    }
  }

  /**
   * Write the egocentric observation image into out at offset (numpy layout [vx, vy, c]),
   * without allocating. Returns out.
   */
  genObsImage(out: Uint8Array, offset: number): Uint8Array {
    const vs = this.agentViewSize, hs = vs >> 1;
    const cells = this.viewCells, mask = this.viewMask;
    this.projectView(cells, mask);
    cells[(vs - 1) * vs + hs] = this.carrying;
    let o = offset;
    for (let vx = 0; vx < vs; vx++) {
      for (let vy = 0; vy < vs; vy++) {
        if (mask[vx * vs + vy] === 0) {
          out[o] = 0;
          out[o + 1] = 0;
          out[o + 2] = 0;
        } else {
          const v = cells[vy * vs + vx];
          if (v === null) {
            out[o] = 1;
            out[o + 1] = 0;
            out[o + 2] = 0;
          } else {
            out[o] = v.typeIdx;
            out[o + 1] = v.colorIdx;
            out[o + 2] = v.stateIdx();
          }
        }
        o += 3;
      }
    }
    return out;
  }

  /**
   * Visibility of the egocentric view (1 = visible), index vx * vs + vy, as used by the current
   * observation (all ones with seeThroughWalls). A fresh copy.
   */
  viewVisibility(): Uint8Array {
    this.genObsImage(new Uint8Array(this.agentViewSize * this.agentViewSize * 3), 0);
    return this.viewMask.slice();
  }

  /**
   * Visibility mask over the whole grid (index x * height + y): the world cells the agent sees
   * (MiniGrid's highlight mask in full renders).
   */
  worldVisibility(): Uint8Array {
    const vs = this.agentViewSize, hs = vs >> 1;
    const vis = this.viewVisibility();
    const out = new Uint8Array(this.width * this.height);
    const dx = DIR_DX[this.agentDir], dy = DIR_DY[this.agentDir];
    const rx = -dy, ry = dx;
    for (let vx = 0; vx < vs; vx++) {
      for (let vy = 0; vy < vs; vy++) {
        if (!vis[vx * vs + vy]) continue;
        const f = vs - 1 - vy, s = vx - hs;
        const x = this.agentX + dx * f + rx * s, y = this.agentY + dy * f + ry * s;
        if (x >= 0 && x < this.width && y >= 0 && y < this.height) out[x * this.height + y] = 1;
      }
    }
    return out;
  }

  /** The observation {image, direction, mission} (into obsBuffer when one is attached). */
  genObs(): Obs {
    const n = this.agentViewSize * this.agentViewSize * 3;
    let image: Uint8Array;
    if (this.obsBuffer !== null) {
      this.genObsImage(this.obsBuffer, this.obsOffset);
      image = this.obsBuffer.subarray(this.obsOffset, this.obsOffset + n);
    } else {
      image = this.genObsImage(new Uint8Array(n), 0);
    }
    return { image, direction: this.agentDir, mission: this.mission };
  }

  /** Full-grid encoding [width, height, 3] (agent not drawn). */
  encodeGrid(out?: Uint8Array): Uint8Array {
    return this.grid.encode(null, out);
  }

  // ---- stepping ----

  /**
   * Take one action. Throws EnvUsageError for an action outside [0, actionSpaceN), a non-integer
   * action, a step before reset or after the episode ended (terminated or truncated).
   */
  step(action: number): StepResult {
    if (this.npRandom === null) {
      throw new EnvUsageError("step() before reset(): call reset({ seed }) first");
    }
    if (this.ended) {
      throw new EnvUsageError(
        `step() after the episode ended (terminated or truncated at step ${this.stepCount}); call reset()`,
      );
    }
    if (!Number.isInteger(action) || action < 0 || action >= this.actionSpaceN) {
      throw new EnvUsageError(
        `action ${action} outside the action space Discrete(${this.actionSpaceN}) of ${this.constructor.name}` +
          ` (${ACTION_NAMES.slice(0, this.actionSpaceN).map((n, i) => `${i}=${n}`).join(", ")})`,
      );
    }
    const r = this.doStep(action);
    if (r.terminated || r.truncated) this.ended = true;
    return r;
  }

  /** The step dynamics (Python `MiniGridEnv.step`); override in envs that change it. */
  protected doStep(action: number): StepResult {
    this.stepCount++;
    let reward = 0;
    let terminated = false;
    let truncated = false;
    const fx = this.agentX + DIR_DX[this.agentDir];
    const fy = this.agentY + DIR_DY[this.agentDir];
    const fwd = this.grid.get(fx, fy);
    switch (action) {
      case Actions.left:
        this.agentDir -= 1;
        if (this.agentDir < 0) this.agentDir += 4;
        break;
      case Actions.right:
        this.agentDir = (this.agentDir + 1) % 4;
        break;
      case Actions.forward:
        if (fwd === null || fwd.canOverlap()) {
          this.agentX = fx;
          this.agentY = fy;
        }
        if (fwd !== null && fwd.type === "goal") {
          terminated = true;
          reward = this.reward();
        }
        if (fwd !== null && fwd.type === "lava") terminated = true;
        break;
      case Actions.pickup:
        if (fwd !== null && fwd.canPickup() && this.carrying === null) {
          this.carrying = fwd;
          fwd.curPos = [-1, -1];
          this.grid.set(fx, fy, null);
        }
        break;
      case Actions.drop:
        if (fwd === null && this.carrying !== null) {
          this.grid.set(fx, fy, this.carrying);
          this.carrying.curPos = [fx, fy];
          this.carrying = null;
        }
        break;
      case Actions.toggle:
        if (fwd !== null) fwd.toggle(this, fx, fy);
        break;
      case Actions.done:
        break;
      default:
        throw new EnvUsageError(`Unknown action: ${action}`);
    }
    if (this.stepCount >= this.maxSteps) truncated = true;
    return { obs: this.genObs(), reward, terminated, truncated, info: EMPTY_INFO };
  }
}
