/**
 * The BabyAI expert bot (mirror of `minigrid/utils/baby_ai_bot.py`, Minigrid
 * 3.1.0): a stack of subgoals (GoNextTo, Open, Close, Pickup, Drop, Explore)
 * built from the instruction and replanned every step from what the agent has
 * seen (a visibility mask accumulated from its observations) with
 * breadth-first searches that prefer going straight and avoid blockers.
 *
 * It is deterministic (draws no randomness) and reproduces the reference's
 * action sequence step for step, including its quirks (misaligned
 * `objPoss` after drops, the stale `fwd_door_was_open`, the BFS neighbour
 * order `(d), (dy,dx), (-dy,-dx), (-d)`).
 *
 * Where the reference raises, this raises a {@link BotError} whose
 * `pythonText` is the reference's `"<ExceptionType>: <message>"`; e.g. every
 * KeyInBox episode fails with `"AssertionError: "` (the key is hidden inside a
 * box, so no key matches the description). Levels the bot cannot solve:
 * KeyInBox, PutNextS*N*Carrying (per the reference's own notes). Where the
 * reference loops forever inside one replan, this throws a BotError of type
 * "BotLoopError" after {@link MAX_REPLAN_ITERS} subgoal updates instead.
 *
 * Usage: `const bot = new BabyAIBot(env)` right after `env.reset(...)`, then
 * each step `a = bot.replan(lastAction)` (null the first time), `env.step(a)`.
 *
 * @module
 */

import { Actions, DIR_DX, DIR_DY } from "../constants.ts";
import { Door, WorldObj } from "../objects.ts";
import {
  AfterInstr,
  AndInstr,
  BeforeInstr,
  GoToInstr,
  type Instr,
  ObjDesc,
  OpenInstr,
  PickupInstr,
  PutNextInstr,
} from "./instructions.ts";
import type { RoomGridLevel } from "./roomgrid_level.ts";

/** An exception of the reference bot, reproduced (AssertionError, DisappearedBoxError, ...). */
export class BotError extends Error {
  /** The Python exception type name, e.g. "AssertionError". */
  readonly pyType: string;
  /** The Python exception message (str(e)), possibly empty. */
  readonly pyMessage: string;

  /** @param pyType Python exception type @param pyMessage its str() */
  constructor(pyType: string, pyMessage: string) {
    super(`BabyAI bot failed like the reference (${pyType}: ${pyMessage || "<no message>"})`);
    this.name = "BotError";
    this.pyType = pyType;
    this.pyMessage = pyMessage;
  }

  /** `"<type>: <message>"`, the fixtures' `bot.error` format. */
  get pythonText(): string {
    return `${this.pyType}: ${this.pyMessage}`;
  }
}

function check(cond: unknown, msg = ""): asserts cond {
  if (!cond) throw new BotError("AssertionError", msg);
}

/** What a GoNextTo subgoal goes to: a description, an object or a position. */
type Datum = ObjDesc | WorldObj | readonly number[] | null;
type Reason = null | "PutNext" | "Explore" | "Open" | "Unlock" | "KeepKey";
type Accept = (x: number, y: number, cell: WorldObj | null) => boolean;

interface PathResult {
  /** Cells (y*W+x) from the first step to the finish; null when not found ([] = at the start). */
  path: number[] | null;
  /** Finish cell (y*W+x) or -1. */
  finish: number;
  /** Whether the blocker search was used. */
  withBlockers: boolean;
}

const EMPTY_PATH: number[] = [];
const NEVER: Accept = () => false;
/** The 8 neighbours in the reference's order, and their classes (findDropPos scratch). */
const DROP_NB = Int8Array.from([-1, -1, 0, -1, 1, -1, 1, 0, 1, 1, 0, 1, -1, 1, -1, 0]);
const DROP_CLS = new Int8Array(8);

const K_EMPTY = 0, K_WALL = 1, K_CLOSED_DOOR = 2, K_OPEN_DOOR = 3, K_OTHER = 4;
/** Direction code (dx+1)*3+(dy+1) -> dx, dy. */
const DCODE_X = Int8Array.from([-1, -1, -1, 0, 0, 0, 1, 1, 1]);
const DCODE_Y = Int8Array.from([-1, 0, 1, -1, 0, 1, -1, 0, 1]);

/** BFS / view scratch shared by all bots of one grid size (replans are synchronous). */
interface Scratch {
  prev1: Int32Array;
  prev2: Int32Array;
  order: Int32Array;
  queue: Int32Array;
  kinds: Uint8Array;
  viewCells: (WorldObj | null)[];
  viewMask: Uint8Array;
  full1Prev: Int32Array;
  full1Order: Int32Array;
  full1Depth: Int32Array;
  full2Prev: Int32Array;
  full2Order: Int32Array;
  full2Depth: Int32Array;
  full2Root: Int32Array;
}
const scratches = new Map<string, Scratch>();
function scratchFor(n: number, vs: number): Scratch {
  const key = `${n}/${vs}`;
  let s = scratches.get(key);
  if (s === undefined) {
    s = {
      prev1: new Int32Array(n),
      prev2: new Int32Array(n),
      order: new Int32Array(n),
      queue: new Int32Array(4 * (5 * n + 8)),
      kinds: new Uint8Array(n),
      viewCells: new Array(vs * vs).fill(null),
      viewMask: new Uint8Array(vs * vs),
      full1Prev: new Int32Array(n),
      full1Order: new Int32Array(n),
      full1Depth: new Int32Array(n),
      full2Prev: new Int32Array(n),
      full2Order: new Int32Array(n),
      full2Depth: new Int32Array(n),
      full2Root: new Int32Array(n),
    };
    scratches.set(key, s);
  }
  return s;
}

/**
 * Subgoal updates allowed in one replan. The reference has no limit and can loop forever
 * (e.g. GoToImpUnlock when the key lies inside the locked room: explore -> open door -> fetch
 * key -> explore ...); converging replans use a few dozen at most.
 */
export const MAX_REPLAN_ITERS = 1000;

abstract class Subgoal {
  constructor(
    readonly bot: BabyAIBot,
    readonly datum: Datum = null,
    readonly reason: Reason = null,
  ) {}
  abstract replanBeforeAction(): number | null;
  replanAfterAction(_a: number | null): void {}
  isExploratory(): boolean {
    return false;
  }

  /** Plan how to undo the action taken (reference `_plan_undo_action`). */
  protected planUndoAction(a: number | null): void {
    const b = this.bot, s = b.stack;
    if (a === Actions.forward) {
      if (b.prevAgentX !== b.ax || b.prevAgentY !== b.ay) {
        s.push(new GoNextToSubgoal(b, [b.ax, b.ay]));
      }
    } else if (a === Actions.left) {
      s.push(new GoNextToSubgoal(b, [b.ax + b.rx, b.ay + b.ry]));
    } else if (a === Actions.right) {
      s.push(new GoNextToSubgoal(b, [b.ax - b.rx, b.ay - b.ry]));
    } else if (a === Actions.drop && b.prevCarrying !== b.carrying) {
      const f = b.fwdCell;
      check(f !== null && (f.type === "key" || f.type === "box" || f.type === "ball"));
      s.push(new PickupSubgoal(b));
    } else if (a === Actions.pickup && b.prevCarrying !== b.carrying) {
      s.push(new DropSubgoal(b));
    } else if (a === Actions.toggle) {
      const f = b.fwdCell;
      if (f !== null && f instanceof Door) {
        if (b.fwdDoorWasOpen === undefined) {
          throw new BotError(
            "AttributeError",
            "'BabyAIBot' object has no attribute 'fwd_door_was_open'",
          );
        }
        if (b.fwdDoorWasOpen !== f.isOpen) {
          s.push(f.isOpen ? new CloseSubgoal(b) : new OpenSubgoal(b));
        }
      }
    }
  }
}

class CloseSubgoal extends Subgoal {
  replanBeforeAction(): number | null {
    const f = this.bot.fwdCell;
    check(f !== null, "Forward cell is empty");
    check(f.type === "door", "Forward cell has to be a door");
    check((f as Door).isOpen, "Forward door must be open");
    return Actions.toggle;
  }
  override replanAfterAction(a: number | null): void {
    if (a === null || a === Actions.toggle) this.bot.stack.pop();
    else if (a === Actions.forward || a === Actions.left || a === Actions.right) {
      this.planUndoAction(a);
    }
  }
}

class OpenSubgoal extends Subgoal {
  replanBeforeAction(): number | null {
    const b = this.bot, s = b.stack;
    const f = b.fwdCell;
    check(f !== null, "Forward cell is empty");
    check(f.type === "door", "Forward cell has to be a door");
    const door = f as Door;
    const c = b.carrying;
    const gotTheKey = c !== null && c.type === "key" && c.color === door.color;
    if (door.isLocked && !gotTheKey) {
      const keyDesc = new ObjDesc("key", door.color);
      keyDesc.findMatchingObjs(b.env);
      const fwd = [b.fx, b.fy];
      if (c !== null) {
        s.pop();
        const dropPosCur = b.findDropPos();
        s.push(new PickupSubgoal(b));
        s.push(new GoNextToSubgoal(b, dropPosCur));
        s.push(new OpenSubgoal(b));
        s.push(new GoNextToSubgoal(b, fwd));
        s.push(new PickupSubgoal(b));
        s.push(new GoNextToSubgoal(b, keyDesc));
        s.push(new DropSubgoal(b));
        s.push(new GoNextToSubgoal(b, dropPosCur));
      } else {
        s.pop();
        s.push(new OpenSubgoal(b));
        s.push(new GoNextToSubgoal(b, fwd));
        s.push(new PickupSubgoal(b));
        s.push(new GoNextToSubgoal(b, keyDesc));
      }
      return null;
    }
    if (door.isOpen) {
      s.push(new CloseSubgoal(b));
      return null;
    }
    if (door.isLocked && this.reason === null) {
      s.pop();
      s.push(new OpenSubgoal(b, null, "Unlock"));
      return null;
    }
    return Actions.toggle;
  }
  override replanAfterAction(a: number | null): void {
    const b = this.bot;
    if (a === null || a === Actions.toggle) {
      b.stack.pop();
      if (this.reason === "Unlock") {
        const dropKeyPos = b.findDropPos();
        b.stack.push(new DropSubgoal(b));
        b.stack.push(new GoNextToSubgoal(b, dropKeyPos));
      }
    } else {
      this.planUndoAction(a);
    }
  }
}

class DropSubgoal extends Subgoal {
  replanBeforeAction(): number | null {
    check(this.bot.env.carrying !== null);
    check(this.bot.fwdCell === null);
    return Actions.drop;
  }
  override replanAfterAction(a: number | null): void {
    if (a === null || a === Actions.drop) this.bot.stack.pop();
    else if (a === Actions.forward || a === Actions.left || a === Actions.right) {
      this.planUndoAction(a);
    }
  }
}

class PickupSubgoal extends Subgoal {
  replanBeforeAction(): number | null {
    check(this.bot.env.carrying === null);
    return Actions.pickup;
  }
  override replanAfterAction(a: number | null): void {
    if (a === null || a === Actions.pickup) this.bot.stack.pop();
    else if (a === Actions.left || a === Actions.right) this.planUndoAction(a);
  }
}

function steppable(cell: WorldObj | null): boolean {
  return cell === null || (cell instanceof Door && cell.isOpen);
}

class GoNextToSubgoal extends Subgoal {
  replanBeforeAction(): number | null {
    const b = this.bot, s = b.stack, env = b.env;
    const W = b.W;
    let targetObj: WorldObj | null = null;
    let tx: number, ty: number;
    const d = this.datum;
    if (d instanceof ObjDesc) {
      const [obj, pos] = b.findObjPos(d, this.reason === "PutNext");
      if (pos === null) {
        s.push(new ExploreSubgoal(b));
        return null;
      }
      targetObj = obj;
      tx = pos[0];
      ty = pos[1];
    } else if (d instanceof WorldObj) {
      targetObj = d;
      const cp = d.curPos;
      if (cp === null) {
        throw new BotError("TypeError", "cannot unpack non-iterable NoneType object");
      }
      tx = cp[0];
      ty = cp[1];
    } else {
      if (d === null) throw new BotError("TypeError", "'NoneType' object is not iterable");
      tx = d[0];
      ty = d[1];
    }

    if (
      this.reason === "Open" && targetObj !== null && targetObj instanceof Door &&
      targetObj.isLocked
    ) {
      const keyDesc = new ObjDesc("key", targetObj.color);
      keyDesc.findMatchingObjs(env);
      if (b.carrying === null) {
        s.pop();
        s.push(new GoNextToSubgoal(b, targetObj, "Open"));
        s.push(new PickupSubgoal(b));
        s.push(new GoNextToSubgoal(b, keyDesc));
        return null;
      }
    }

    const ax = b.ax, ay = b.ay;
    if (Math.abs(tx - ax) + Math.abs(ty - ay) === (this.reason === "PutNext" ? 1 : 0)) {
      if (steppable(b.fwdCell)) return Actions.forward;
      if (steppable(env.grid.get(ax + b.rx, ay + b.ry))) return Actions.right;
      if (steppable(env.grid.get(ax - b.rx, ay - b.ry))) return Actions.left;
      return Actions.left;
    }

    if (this.reason === "PutNext") {
      if (Math.abs(tx - b.fx) + Math.abs(ty - b.fy) === 1) {
        const f = b.fwdCell;
        if (f === null) {
          s.pop();
          return null;
        }
        if (f instanceof Door && f.isOpen) {
          s.push(new GoNextToSubgoal(b, [b.fx + 2 * b.dx, b.fy + 2 * b.dy]));
          return null;
        }
      }
    } else if (tx === b.fx && ty === b.fy) {
      s.pop();
      return null;
    }

    const target = ty * W + tx;
    const next = b.firstStepTo(target);
    if (next < 0) {
      s.push(new ExploreSubgoal(b));
      return null;
    }

    const nx = next % W, ny = (next - nx) / W;
    if (nx === b.fx && ny === b.fy) {
      const f = b.fwdCell;
      if (f !== null) {
        if (f instanceof Door) {
          check(!f.isLocked);
          if (!f.isOpen) {
            s.push(new OpenSubgoal(b));
            return null;
          }
          return Actions.forward;
        }
        if (b.carrying !== null) {
          const dropPosCur = b.findDropPos();
          const dropPosBlock = b.findDropPos(dropPosCur);
          s.push(new PickupSubgoal(b));
          s.push(new GoNextToSubgoal(b, dropPosCur));
          s.push(new DropSubgoal(b));
          s.push(new GoNextToSubgoal(b, dropPosBlock));
          s.push(new PickupSubgoal(b));
          s.push(new GoNextToSubgoal(b, [b.fx, b.fy]));
          s.push(new DropSubgoal(b));
          s.push(new GoNextToSubgoal(b, dropPosCur));
          return null;
        }
        const dropPos = b.findDropPos();
        s.push(new DropSubgoal(b));
        s.push(new GoNextToSubgoal(b, dropPos));
        s.push(new PickupSubgoal(b));
        return null;
      }
      return Actions.forward;
    }

    const ddx = nx - ax, ddy = ny - ay;
    if (ddx === b.rx && ddy === b.ry) return Actions.right;
    if (ddx === -b.rx && ddy === -b.ry) return Actions.left;

    const distRight = b.closestWallOrDoorGivenDir(ax, ay, b.rx, b.ry);
    const distLeft = b.closestWallOrDoorGivenDir(ax, ay, -b.rx, -b.ry);
    if (distLeft > distRight) return Actions.left;
    return Actions.right;
  }

  override replanAfterAction(a: number | null): void {
    if (a === Actions.pickup || a === Actions.drop || a === Actions.toggle) this.planUndoAction(a);
  }

  override isExploratory(): boolean {
    return this.reason === "Explore";
  }
}

class ExploreSubgoal extends Subgoal {
  replanBeforeAction(): number | null {
    const b = this.bot, s = b.stack, W = b.W, vis = b.visMask;
    const unseen = b.shortestPath((x, y) => vis[y * W + x] === 0, true, false).finish;
    if (unseen >= 0) {
      s.push(new GoNextToSubgoal(b, [unseen % W, Math.floor(unseen / W)], "Explore"));
      return null;
    }
    const unopenedUnlocked: Accept = (_x, _y, c) =>
      c !== null && c instanceof Door && !c.isLocked && !c.isOpen;
    const unopened: Accept = (_x, _y, c) => c !== null && c instanceof Door && !c.isOpen;
    let doorPos = b.shortestPath(unopenedUnlocked, true, false).finish;
    if (doorPos < 0) doorPos = b.shortestPath(unopened, true, false).finish;
    if (doorPos >= 0) {
      const door = b.env.grid.get(doorPos % W, Math.floor(doorPos / W)) as Door;
      const c = b.carrying;
      const gotTheKey = c !== null && c.type === "key" && c.color === door.color;
      const openReason: Reason = door.isLocked && gotTheKey ? "KeepKey" : null;
      s.pop();
      s.push(new OpenSubgoal(b, null, openReason));
      s.push(new GoNextToSubgoal(b, door, "Open"));
      return null;
    }
    throw new BotError("AssertionError", "0nothing left to explore");
  }
  override isExploratory(): boolean {
    return true;
  }
}

/** The BabyAI expert bot. */
export class BabyAIBot {
  /** The level being solved. */
  readonly env: RoomGridLevel;
  /** Grid width. */
  readonly W: number;
  /** Grid height. */
  readonly H: number;
  /** Seen cells (index y * W + x), accumulated over the episode. */
  readonly visMask: Uint8Array;
  /** The subgoal stack (top = last). */
  readonly stack: Subgoal[] = [];
  /** BFS searches performed. */
  bfsCounter = 0;
  /** BFS states expanded in total. */
  bfsStepCounter = 0;

  // Per-replan agent attributes (the reference's Subgoal.update_agent_attributes).
  /** @internal */ ax = 0;
  /** @internal */ ay = 0;
  /** @internal */ dx = 0;
  /** @internal */ dy = 0;
  /** @internal */ rx = 0;
  /** @internal */ ry = 0;
  /** @internal */ fx = 0;
  /** @internal */ fy = 0;
  /** @internal */ fwdCell: WorldObj | null = null;
  /** @internal */ carrying: WorldObj | null = null;
  // Remembered state of the previous replan.
  /** @internal */ prevAgentX = -1;
  /** @internal */ prevAgentY = -1;
  /** @internal */ prevCarrying: WorldObj | null = null;
  /** @internal */ fwdDoorWasOpen: boolean | undefined = undefined;
  /** @internal */ prevFwdCell: WorldObj | null | undefined = undefined;

  // BFS scratch (shared by bots of the same grid size; only used inside one synchronous replan).
  private sc: Scratch;
  private visitedCount = 0;
  private replanCount = 0;
  private fullStamp1 = -1;
  private fullStamp2 = -1;
  private full1Count = 0;

  /** @param env a BabyAI level right after reset (its `instrs` is read once) */
  constructor(env: RoomGridLevel) {
    this.env = env;
    this.W = env.width;
    this.H = env.height;
    const n = this.W * this.H;
    this.visMask = new Uint8Array(n);
    this.sc = scratchFor(n, env.agentViewSize);
    this.processInstr(env.instrs);
  }

  /**
   * Replan and return the suggested action (`done` = 6 when the stack is empty).
   *
   * @param actionTaken the action taken since the last call (null the first time, or to mean
   *   "the suggested one")
   * @throws BotError where the reference bot raises (e.g. KeyInBox)
   */
  replan(actionTaken: number | null = null): number {
    this.replanCount++;
    this.processObs();
    this.refreshKinds();
    if (actionTaken === Actions.toggle && this.prevFwdCell && this.prevFwdCell.type === "box") {
      throw new BotError(
        "DisappearedBoxError",
        "'A box was opened. I am not sure I can help now.'",
      );
    }
    this.updateAgentAttributes();
    const s = this.stack;
    if (s.length > 0) s[s.length - 1].replanAfterAction(actionTaken);
    while (s.length > 0 && s[s.length - 1].isExploratory()) s.pop();
    let suggested: number | null = null;
    let iters = 0;
    while (s.length > 0) {
      if (++iters > MAX_REPLAN_ITERS) {
        throw new BotError(
          "BotLoopError",
          `replan did not converge after ${MAX_REPLAN_ITERS} subgoal updates (stack depth ${s.length}); ` +
            `the reference bot loops forever here`,
        );
      }
      suggested = s[s.length - 1].replanBeforeAction();
      if (suggested !== null) break;
    }
    if (s.length === 0) suggested = Actions.done;
    this.rememberCurrentState();
    return suggested!;
  }

  private updateAgentAttributes(): void {
    const env = this.env;
    this.ax = env.agentX;
    this.ay = env.agentY;
    const d = env.agentDir;
    this.dx = DIR_DX[d];
    this.dy = DIR_DY[d];
    this.rx = -this.dy;
    this.ry = this.dx;
    this.fx = this.ax + this.dx;
    this.fy = this.ay + this.dy;
    this.fwdCell = env.grid.get(this.fx, this.fy);
    this.carrying = env.carrying;
  }

  private rememberCurrentState(): void {
    const env = this.env;
    this.prevAgentX = env.agentX;
    this.prevAgentY = env.agentY;
    this.prevCarrying = env.carrying;
    const f = env.grid.get(env.agentX + DIR_DX[env.agentDir], env.agentY + DIR_DY[env.agentDir]);
    if (f !== null && f instanceof Door) this.fwdDoorWasOpen = f.isOpen;
    this.prevFwdCell = f;
  }

  /** Mark the cells of the current observation as seen (reference `_process_obs`). */
  private processObs(): void {
    const env = this.env;
    const vs = env.agentViewSize, hs = vs >> 1;
    const mask = this.sc.viewMask;
    // The env's own egocentric projection (the Python bot calls the env's gen_obs_grid).
    env.projectView(this.sc.viewCells, mask);
    const dx = DIR_DX[env.agentDir], dy = DIR_DY[env.agentDir];
    const rx = -dy, ry = dx;
    const ax = env.agentX, ay = env.agentY;
    const W = this.W, H = this.H;
    const vis = this.visMask;
    for (let vy = 0; vy < vs; vy++) {
      const fwd = vs - 1 - vy;
      for (let vx = 0; vx < vs; vx++) {
        if (!mask[vx * vs + vy]) continue;
        const side = vx - hs;
        const x = ax + dx * fwd + rx * side, y = ay + dy * fwd + ry * side;
        if (x < 0 || x >= W || y < 0 || y >= H) continue;
        vis[y * W + x] = 1;
      }
    }
  }

  /** Classify every cell for the BFS (0 empty, 1 wall, 2 closed door, 3 open door, 4 other). */
  private refreshKinds(): void {
    const g = this.env.grid.grid, k = this.sc.kinds;
    for (let c = 0; c < g.length; c++) {
      const o = g[c];
      if (o === null) k[c] = K_EMPTY;
      else {
        const t = o.typeIdx;
        if (t === 2) k[c] = K_WALL;
        else if (t === 4) k[c] = (o as Door).isOpen ? K_OPEN_DOOR : K_CLOSED_DOOR;
        else k[c] = K_OTHER;
      }
    }
  }

  /**
   * Breadth-first search over positions (reference `_breadth_first_search`). States carry a
   * direction so that going straight is tried first. The `nInit` initial states must already be
   * in the queue (x, y, dir code (dx+1)*3+(dy+1), prev -1). Returns the accepted cell
   * (y * W + x) or -1; `prev` receives the predecessor of each visited cell (-2 unvisited,
   * -1 start) and `order` (if given) the visiting order; `this.visitedCount` the number visited.
   */
  private bfs(
    nInit: number,
    accept: Accept,
    ignoreBlockers: boolean,
    prev: Int32Array,
    order: Int32Array | null,
  ): number {
    this.bfsCounter++;
    const W = this.W;
    const g = this.env.grid.grid;
    const vis = this.visMask;
    const kinds = this.sc.kinds;
    let q = this.sc.queue;
    prev.fill(-2);
    let head = 0, tail = 4 * nInit;
    let visited = 0;
    while (head < tail) {
      const i = q[head], j = q[head + 1], dcode = q[head + 2], pp = q[head + 3];
      head += 4;
      const cellIdx = j * W + i;
      if (prev[cellIdx] !== -2) continue;
      prev[cellIdx] = pp;
      if (order !== null) order[visited] = cellIdx;
      visited++;
      if (accept(i, j, g[cellIdx])) {
        this.visitedCount = visited;
        this.bfsStepCounter += visited;
        return cellIdx;
      }
      if (!vis[cellIdx]) continue;
      const kind = kinds[cellIdx];
      if (kind === K_WALL || kind === K_CLOSED_DOOR || (kind === K_OTHER && !ignoreBlockers)) {
        continue;
      }
      if (tail + 16 > q.length) {
        const bigger = new Int32Array(q.length * 2);
        bigger.set(q.subarray(head, tail));
        tail -= head;
        head = 0;
        q = this.sc.queue = bigger;
      }
      const di = DCODE_X[dcode], dj = DCODE_Y[dcode];
      // (di, dj), (dj, di), (-dj, -di), (-di, -dj)
      q[tail] = i + di;
      q[tail + 1] = j + dj;
      q[tail + 2] = dcode;
      q[tail + 3] = cellIdx;
      q[tail + 4] = i + dj;
      q[tail + 5] = j + di;
      q[tail + 6] = (dj + 1) * 3 + (di + 1);
      q[tail + 7] = cellIdx;
      q[tail + 8] = i - dj;
      q[tail + 9] = j - di;
      q[tail + 10] = (1 - dj) * 3 + (1 - di);
      q[tail + 11] = cellIdx;
      q[tail + 12] = i - di;
      q[tail + 13] = j - dj;
      q[tail + 14] = (1 - di) * 3 + (1 - dj);
      q[tail + 15] = cellIdx;
      tail += 16;
    }
    this.visitedCount = visited;
    this.bfsStepCounter += visited;
    return -1;
  }

  /**
   * Path to the nearest cell accepted by `accept` (reference `_shortest_path`): first without
   * going through blockers; with `tryWithBlockers`, then from every cell reached so far
   * through blockers too. Only valid inside replan (uses the per-replan cell classification).
   * @internal
   */
  shortestPath(accept: Accept, tryWithBlockers = false, wantPath = true): PathResult {
    const W = this.W, sc = this.sc;
    const env = this.env;
    const q = sc.queue;
    q[0] = env.agentX;
    q[1] = env.agentY;
    q[2] = (DIR_DX[env.agentDir] + 1) * 3 + (DIR_DY[env.agentDir] + 1);
    q[3] = -1;
    const prev1 = sc.prev1, prev2 = sc.prev2, order = sc.order;
    let finish = this.bfs(1, accept, false, prev1, order);
    let withBlockers = false;
    let rev: number[] | null = null;
    if (finish >= 0) {
      if (wantPath) {
        rev = [];
        for (let p = finish; p !== -1; p = prev1[p]) rev.push(p);
      }
    } else if (tryWithBlockers) {
      withBlockers = true;
      const n = this.visitedCount;
      let qq = sc.queue;
      if (4 * n + 16 > qq.length) qq = sc.queue = new Int32Array(8 * n + 64);
      for (let k = 0; k < n; k++) {
        const c = order[k];
        const x = c % W;
        qq[4 * k] = x;
        qq[4 * k + 1] = (c - x) / W;
        qq[4 * k + 2] = 7; // direction (1, 0)
        qq[4 * k + 3] = -1;
      }
      finish = this.bfs(n, accept, true, prev2, null);
      if (finish >= 0 && wantPath) {
        rev = [];
        let p = finish;
        for (; prev2[p] !== -1; p = prev2[p]) rev.push(p);
        rev.push(p);
        for (let r = prev1[p]; r !== -1; r = prev1[r]) rev.push(r);
      }
    }
    if (finish < 0) return { path: null, finish: -1, withBlockers };
    if (!wantPath) return { path: EMPTY_PATH, finish, withBlockers };
    rev!.reverse();
    rev!.shift();
    return { path: rev, finish, withBlockers };
  }

  /**
   * Length of the path `shortestPath(pos == target, true)` would return, without searching
   * once per target: a BFS's tree does not depend on where it stops, so one exhaustive
   * non-blocker search (depth d1) and, if needed, one exhaustive blocker search from every cell
   * the first reached (depth d2, root r2) give every target's length: d1(target) when the first
   * search reaches it, else d2(target) + d1(r2(target)) (a "with blockers" path), encoded as
   * `-len - 2`; -1 when neither reaches it. The searches are cached until the next replan.
   */
  private pathLengthTo(target: number): number {
    const sc = this.sc;
    if (this.fullStamp1 !== this.replanCount) {
      this.fullStamp1 = this.replanCount;
      const env = this.env, q = sc.queue;
      q[0] = env.agentX;
      q[1] = env.agentY;
      q[2] = (DIR_DX[env.agentDir] + 1) * 3 + (DIR_DY[env.agentDir] + 1);
      q[3] = -1;
      this.bfs(1, NEVER, false, sc.full1Prev, sc.full1Order);
      const n = this.full1Count = this.visitedCount;
      const d1 = sc.full1Depth, prev = sc.full1Prev, order = sc.full1Order;
      for (let k = 0; k < n; k++) {
        const c = order[k];
        d1[c] = prev[c] === -1 ? 0 : d1[prev[c]] + 1;
      }
    }
    if (sc.full1Prev[target] !== -2) return sc.full1Depth[target];
    if (this.fullStamp2 !== this.replanCount) {
      this.fullStamp2 = this.replanCount;
      const W = this.W, n = this.full1Count, order1 = sc.full1Order;
      let qq = sc.queue;
      if (4 * n + 16 > qq.length) qq = sc.queue = new Int32Array(8 * n + 64);
      for (let k = 0; k < n; k++) {
        const c = order1[k];
        const x = c % W;
        qq[4 * k] = x;
        qq[4 * k + 1] = (c - x) / W;
        qq[4 * k + 2] = 7; // direction (1, 0)
        qq[4 * k + 3] = -1;
      }
      this.bfs(n, NEVER, true, sc.full2Prev, sc.full2Order);
      const m = this.visitedCount;
      const d2 = sc.full2Depth, r2 = sc.full2Root, prev = sc.full2Prev, order = sc.full2Order;
      for (let k = 0; k < m; k++) {
        const c = order[k], pc = prev[c];
        if (pc === -1) {
          d2[c] = 0;
          r2[c] = c;
        } else {
          d2[c] = d2[pc] + 1;
          r2[c] = r2[pc];
        }
      }
    }
    if (sc.full2Prev[target] === -2) return -1;
    return -(sc.full2Depth[target] + sc.full1Depth[sc.full2Root[target]]) - 2;
  }

  /**
   * First cell of GoNextTo's path to `target` (reference: `shortest_path(pos == target)`, then
   * with blockers if that gave no path), or -1 when both give no (or an empty) path. Reuses this
   * replan's exhaustive searches when findObjPos made them (same trees, see pathLengthTo).
   * @internal
   */
  firstStepTo(target: number): number {
    const sc = this.sc;
    if (this.fullStamp1 !== this.replanCount) {
      const W = this.W;
      const accept: Accept = (x, y) => y * W + x === target;
      let path = this.shortestPath(accept, false).path;
      if (path === null || path.length === 0) path = this.shortestPath(accept, true).path;
      return path === null || path.length === 0 ? -1 : path[0];
    }
    const prev1 = sc.full1Prev;
    if (prev1[target] !== -2) {
      // chain target -> start in the non-blocker tree; the first step is the cell after start
      if (prev1[target] === -1) return -1; // target is the start: empty path
      let c = target;
      while (prev1[prev1[c]] !== -1) c = prev1[c];
      return c;
    }
    this.pathLengthTo(target); // makes sure the blocker search exists
    const prev2 = sc.full2Prev;
    if (prev2[target] === -2) return -1;
    const root = sc.full2Root[target];
    if (root === target && prev1[root] === -1) return -1; // the start itself
    if (prev1[root] === -1) {
      // the blocker chain starts at the agent: its first step is right after the root
      let c = target;
      while (prev2[c] !== root) c = prev2[c];
      return c;
    }
    let c = root;
    while (prev1[prev1[c]] !== -1) c = prev1[c];
    return c;
  }

  /** Closest visible object matching a description (reference `_find_obj_pos`). */
  findObjPos(desc: ObjDesc, adjacent = false): [WorldObj | null, [number, number] | null] {
    check(desc.objSet.length > 0);
    let best = 999;
    let bestPos: [number, number] | null = null;
    let bestObj: WorldObj | null = null;
    const W = this.W;
    const carrying = this.env.carrying;
    for (let i = 0; i < desc.objSet.length; i++) {
      const o = desc.objSet[i];
      if (o.type === "wall") continue;
      if (o === carrying) continue;
      if (i >= desc.objPoss.length) continue; // the reference's IndexError, ignored
      const p = desc.objPoss[i];
      if (!this.visMask[p[1] * W + p[0]]) continue;
      // len(shortest_path(pos == target, try_with_blockers=True)), read off two full searches
      const target = p[1] * W + p[0];
      const len = this.pathLengthTo(target);
      check(len !== -1);
      let d = len >= 0 ? len : -len - 2;
      if (len < -1) d += carrying !== null ? 7 : 4;
      if (d === 0) d = adjacent ? 3 : 2;
      if (adjacent && d === 1) d = 3;
      if (d < best) {
        best = d;
        bestPos = [p[0], p[1]];
        bestObj = o;
      }
    }
    return [bestObj, bestPos];
  }

  /** Distance to the closest wall or door in a direction, within the view (reference helper). */
  closestWallOrDoorGivenDir(px: number, py: number, dx: number, dy: number): number {
    let distance = 1;
    for (;;) {
      const x = px + distance * dx, y = py + distance * dy;
      if (!this.env.inView(x, y)) return distance - 1;
      const cell = this.env.grid.get(x, y);
      if (cell !== null && (cell.type.endsWith("door") || cell.type === "wall")) return distance;
      distance++;
    }
  }

  /** Where to drop an object, ideally without blocking anything (reference `_find_drop_pos`). */
  findDropPos(exceptPos: readonly number[] | null = null): [number, number] | null {
    const env = this.env, grid = env.grid, vis = this.visMask, W = this.W;
    const agx = env.agentX, agy = env.agentY;
    const hasExcept = exceptPos !== null;
    const ex = hasExcept ? exceptPos[0] : -9, ey = hasExcept ? exceptPos[1] : -9;
    const cls = DROP_CLS, NB = DROP_NB;
    const matchUnblock: Accept = (i, j) => {
      if (i === agx && j === agy) return false;
      if (hasExcept && i === ex && j === ey) return false;
      if (!vis[j * W + i] || grid.get(i, j) !== null) return false;
      for (let k = 0; k < 8; k++) {
        const x = i + NB[2 * k], y = j + NB[2 * k + 1];
        const cell = grid.get(x, y);
        const seen = vis[y * W + x] !== 0;
        if (seen && cell !== null && cell.type === "wall") cls[k] = 1;
        else if (
          seen &&
          (cell === null || (cell instanceof Door && cell.isOpen) || (x === agx && y === agy)) &&
          !(x === ex && y === ey)
        ) cls[k] = 0;
        else cls[k] = 2;
      }
      let changes = 0;
      for (let k = 0; k < 8; k++) if ((cls[(k + 1) % 8] !== 0) !== (cls[k] !== 0)) changes++;
      for (let k = 0; k < 8; k++) {
        if (cls[k] === 2 && cls[(k + 7) % 8] !== 0 && cls[(k + 1) % 8] !== 0) return false;
      }
      return changes <= 2;
    };
    const matchEmpty: Accept = (i, j) => {
      if (i === agx && j === agy) return false;
      if (hasExcept && i === ex && j === ey) return false;
      if (!vis[j * W + i] || grid.get(i, j) !== null) return false;
      return true;
    };
    let f = this.shortestPath(matchUnblock, false, false).finish;
    if (f < 0) f = this.shortestPath(matchEmpty, false, false).finish;
    if (f < 0) f = this.shortestPath(matchUnblock, true, false).finish;
    if (f < 0) f = this.shortestPath(matchEmpty, true, false).finish;
    return f < 0 ? null : [f % W, Math.floor(f / W)];
  }

  private processInstr(instr: Instr): void {
    const s = this.stack;
    if (instr instanceof GoToInstr) {
      s.push(new GoNextToSubgoal(this, instr.desc));
    } else if (instr instanceof OpenInstr) {
      s.push(new OpenSubgoal(this));
      s.push(new GoNextToSubgoal(this, instr.desc, "Open"));
    } else if (instr instanceof PickupInstr) {
      s.push(new DropSubgoal(this));
      s.push(new PickupSubgoal(this));
      s.push(new GoNextToSubgoal(this, instr.desc));
    } else if (instr instanceof PutNextInstr) {
      s.push(new DropSubgoal(this));
      s.push(new GoNextToSubgoal(this, instr.descFixed, "PutNext"));
      s.push(new PickupSubgoal(this));
      s.push(new GoNextToSubgoal(this, instr.descMove));
    } else if (instr instanceof BeforeInstr || instr instanceof AndInstr) {
      this.processInstr(instr.instrB);
      this.processInstr(instr.instrA);
    } else if (instr instanceof AfterInstr) {
      this.processInstr(instr.instrA);
      this.processInstr(instr.instrB);
    } else {
      throw new BotError("AssertionError", "unknown instruction type");
    }
  }
}

/** One bot demonstration. */
export interface BotEpisode {
  /** Actions taken. */
  actions: number[];
  /** Rewards received. */
  rewards: number[];
  /** Whether the episode ended with a positive reward (terminated). */
  success: boolean;
  /** The BotError text ("AssertionError: ...") if the bot failed, else null. */
  error: string | null;
}

/**
 * Reset `env` with `seed` and run the bot until the episode ends (or maxSteps steps), like the
 * fixture generator: `a = bot.replan(lastAction)` with lastAction null first.
 * A BotError ends the episode with `error` set; any other exception propagates.
 */
export function botEpisode(env: RoomGridLevel, seed: number | null): BotEpisode {
  env.reset(seed === null ? {} : { seed });
  const bot = new BabyAIBot(env);
  const actions: number[] = [], rewards: number[] = [];
  let last: number | null = null;
  let success = false;
  let error: string | null = null;
  for (let k = 0; k < env.maxSteps; k++) {
    let a: number;
    try {
      a = bot.replan(last);
    } catch (e) {
      if (e instanceof BotError) {
        error = e.pythonText;
        break;
      }
      throw e;
    }
    const r = env.step(a);
    actions.push(a);
    rewards.push(r.reward);
    last = a;
    if (r.terminated || r.truncated) {
      success = r.terminated && r.reward > 0;
      break;
    }
  }
  return { actions, rewards, success, error };
}
