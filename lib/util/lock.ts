/**
 * Exclusive locks on a folder (a run directory, a study's report folder, a dataset), one writer
 * at a time, safe on a filesystem shared by several machines (NFS, Lustre: Slurm array tasks).
 *
 * The lock of `X` is the file `X.lock` beside it (beside, so that removing or recreating `X`
 * keeps the lock). It holds its owner as one JSON object: pid, host, start time, the command and
 * a random token. It is taken atomically: the owner record is written whole to a private
 * temporary file, which is then hard-linked to the lock's name; `link(2)` fails when the name
 * exists, on every POSIX filesystem and over NFS (unlike `flock`, which NFS may not share across
 * clients). A reader therefore never sees a half-written lock.
 *
 * A lock is released by {@link Lock.release}, and on process exit (the `unload` event). A
 * crashed holder (kill -9, power loss) leaves its lock behind; it is stale, and taken over with a
 * message naming the dead holder, when
 * - the holder ran on this host and its pid is gone (or is now another process: the start time
 *   in `/proc/<pid>/stat` differs), or
 * - the holder ran on another host and has not refreshed the lock's mtime for `staleMs`
 *   (holders refresh it every `heartbeatMs`; this assumes the hosts' clocks agree to well within
 *   `staleMs`).
 *
 * Within one process a lock is re-entrant: taking a path this process already holds counts up,
 * and the lock goes when every holder released it.
 *
 * ```ts
 * const lock = await acquireLock("runs/x", { log: console.error }); // waits, with progress
 * try { ... } finally { lock.release(); }
 * await acquireLock("runs/x", { wait: false }); // or throws LockBusyError naming the holder
 * ```
 *
 * @module
 */

import { hostname } from "node:os";
import { dirname } from "node:path";
import process from "node:process";

/** Who holds a lock (the JSON content of the lock file). */
export interface LockOwner {
  /** Process id on `host`. */
  pid: number;
  /** Host name of the holder. */
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** The holder's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), Linux only. */
  procStart?: string;
  /** The holder's command line. */
  command: string;
  /** Random identity of this holding (tells a re-taken lock from the one read before). */
  token: string;
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** Wait for a busy lock (default true); false throws {@link LockBusyError} at once. */
  wait?: boolean;
  /** What the lock guards, for messages (default: the path without `.lock`). */
  what?: string;
  /** Progress and takeover messages (default: stderr). */
  log?: (line: string) => void;
  /** Poll interval while waiting, ms (default 250). */
  pollMs?: number;
  /** Interval between progress messages while waiting, ms (default 10,000). */
  progressMs?: number;
  /** Give up waiting after this many ms with a {@link LockBusyError} (default: wait forever). */
  timeoutMs?: number;
  /**
   * A lock of another host whose mtime is older than this is stale, ms (default 600,000: ten
   * minutes, far above the heartbeat, so that a holder whose event loop is busy for minutes
   * keeps its lock).
   */
  staleMs?: number;
  /** How often the holder refreshes its lock's mtime, ms (default 30,000). */
  heartbeatMs?: number;
}

/** A held lock. */
export interface Lock {
  /** The lock file (`<what>.lock`). */
  readonly path: string;
  /** This process's owner record. */
  readonly owner: LockOwner;
  /** The holder that was waited for (null: the lock was free or stale). */
  readonly waitedFor: LockOwner | null;
  /** Milliseconds spent waiting. */
  readonly waitedMs: number;
  /** Release (idempotent); the file is removed only while it still holds this owner's token. */
  release(): void;
  /** {@link Lock.release}, for `using lock = await acquireLock(...)`. */
  [Symbol.dispose](): void;
}

/** Thrown when a lock is held by a live process and waiting is off (or timed out). */
export class LockBusyError extends Error {
  constructor(readonly path: string, readonly holder: LockOwner, what: string, waited = false) {
    super(
      `${what} is in use by ${describeOwner(holder)}${
        waited ? " and did not become free in time" : ""
      }; wait for that process (run again without --no-wait), or stop it ` +
        `(a lock left by a dead process is taken over by itself: ${path})`,
    );
    this.name = "LockBusyError";
  }
}

/** `pid 123 on host h (since 2026-12-07T15:00:00Z: deno run cli/ablate.ts exp1)`. */
export function describeOwner(o: LockOwner): string {
  return `pid ${o.pid} on host ${o.host} (since ${o.started}${o.command ? `: ${o.command}` : ""})`;
}

/** The lock file of a folder or file `target`: `<target>.lock`. */
export function lockPathFor(target: string): string {
  return `${target.replace(/\/+$/, "")}.lock`;
}

function mainScript(): string {
  try {
    const u = new URL(Deno.mainModule);
    return u.protocol === "file:" ? decodeURIComponent(u.pathname) : u.href;
  } catch {
    return "deno";
  }
}

function hostName(): string {
  try {
    return hostname();
  } catch {
    return "unknown";
  }
}

/** Start time of a process in clock ticks since boot (Linux `/proc`), or null where unknown. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) is in parentheses and may hold spaces: split after the last ")".
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

/** Whether process `pid` of this host is alive (true where it cannot be told). */
export function pidAlive(pid: number, procStart?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let procReadable = false;
  try {
    Deno.statSync("/proc/self/stat");
    procReadable = true;
  } catch { /* no /proc: ask the kernel with signal 0 */ }
  if (procReadable) {
    const start = processStartTime(pid);
    if (start === null) return false; // no such process
    return procStart === undefined || start === procStart;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** The owner recorded in a lock file, or null when there is none (or it is unreadable). */
export function readLock(path: string): LockOwner | null {
  try {
    const o = JSON.parse(Deno.readTextFileSync(path));
    if (o && typeof o.pid === "number" && typeof o.host === "string") return o as LockOwner;
    return null;
  } catch {
    return null;
  }
}

interface Held {
  owner: LockOwner;
  count: number;
  timer: ReturnType<typeof setInterval>;
}

/** Locks this process holds, by path (re-entrancy and release on exit). */
const held = new Map<string, Held>();
let unloadHooked = false;

function releaseAllOnExit(): void {
  for (const [path, h] of held) {
    clearInterval(h.timer);
    removeIfOurs(path, h.owner.token);
  }
  held.clear();
}

function removeIfOurs(path: string, token: string): void {
  const cur = readLock(path);
  if (cur && cur.token !== token) return; // taken over meanwhile: not ours to remove
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}

/**
 * One attempt: create the lock holding `owner`, atomically. Returns true when taken, false
 * when the name exists. Other errors (no permission, no space) throw, naming the path.
 */
function tryCreate(path: string, owner: LockOwner): boolean {
  const tmp = `${path}.tmp-${Deno.pid}-${owner.token.slice(0, 8)}`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(owner) + "\n");
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never created */ }
    throw new Error(`lock ${path}: cannot write ${tmp}: ${(e as Error).message}`, { cause: e });
  }
  try {
    Deno.linkSync(tmp, path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    // NFS may report an error for a link that was made: the link count tells.
    try {
      if (Deno.statSync(tmp).nlink === 2) return true;
    } catch { /* fall through */ }
    throw new Error(`lock ${path}: cannot create it: ${(e as Error).message}`, { cause: e });
  } finally {
    try {
      Deno.removeSync(tmp);
    } catch { /* gone */ }
  }
}

/** Why `owner`'s lock at `path` is stale, or null while it is live. */
function staleReason(path: string, owner: LockOwner, staleMs: number): string | null {
  if (owner.host === hostName()) {
    return pidAlive(owner.pid, owner.procStart) ? null : `process ${owner.pid} is gone`;
  }
  let mtime: Date | null = null;
  try {
    mtime = Deno.statSync(path).mtime;
  } catch {
    return null; // gone already: the next attempt takes it
  }
  const age = mtime ? Date.now() - mtime.getTime() : 0;
  return age > staleMs ? `not refreshed for ${Math.round(age / 1000)} s` : null;
}

/**
 * Removes a stale lock, provided it is still the one judged stale (same token): it is renamed
 * to a private name first, so that of several processes taking over at once only one removes it.
 */
function takeOver(path: string, stale: LockOwner): boolean {
  const aside = `${path}.stale-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    Deno.renameSync(path, aside);
  } catch {
    return false; // someone else moved it first
  }
  const moved = readLock(aside);
  if (moved && moved.token !== stale.token) {
    // A fresh lock was taken between the read and the rename: put it back.
    try {
      Deno.linkSync(aside, path);
    } catch { /* the name is taken again: leave it to its owner */ }
  }
  try {
    Deno.removeSync(aside);
  } catch { /* gone */ }
  return !moved || moved.token === stale.token;
}

/**
 * Takes the exclusive lock of `target` (the file `<target>.lock`). A busy lock is waited for
 * (progress every `progressMs` through `log`) or, with `wait: false`, refused with a
 * {@link LockBusyError} naming the holder. A stale lock is taken over with a message.
 */
export async function acquireLock(target: string, opts: LockOptions = {}): Promise<Lock> {
  const path = lockPathFor(target);
  const what = opts.what ?? target;
  const log = opts.log ?? ((l: string) => console.error(l));
  const again = held.get(path);
  if (again) {
    again.count++;
    return handle(path, again.owner, null, 0);
  }
  const owner: LockOwner = {
    pid: Deno.pid,
    host: hostName(),
    started: new Date().toISOString(),
    command: [mainScript(), ...Deno.args].join(" "),
    token: crypto.randomUUID(),
  };
  const ps = processStartTime(Deno.pid);
  if (ps !== null) owner.procStart = ps;
  try {
    Deno.mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw new Error(`lock ${path}: cannot create its folder: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const t0 = Date.now();
  let waitedFor: LockOwner | null = null;
  let lastNote = 0;
  const staleMs = opts.staleMs ?? 600_000;
  for (;;) {
    if (tryCreate(path, owner)) break;
    const cur = readLock(path);
    if (!cur) {
      // Unreadable (being removed, or damaged): a damaged one older than staleMs is removed.
      try {
        const st = Deno.statSync(path);
        if (st.mtime && Date.now() - st.mtime.getTime() > staleMs) {
          log(`lock: ${path} is unreadable and old; removing it`);
          Deno.removeSync(path);
          continue;
        }
      } catch {
        continue; // gone: try again at once
      }
    } else {
      const why = staleReason(path, cur, staleMs);
      if (why !== null) {
        if (takeOver(path, cur)) {
          log(`lock: taking over ${what}: its holder ${describeOwner(cur)} ${why}`);
        }
        continue;
      }
      if (opts.wait === false) throw new LockBusyError(path, cur, what);
      const waited = Date.now() - t0;
      if (opts.timeoutMs !== undefined && waited > opts.timeoutMs) {
        throw new LockBusyError(path, cur, what, true);
      }
      if (!waitedFor || waitedFor.token !== cur.token) {
        log(`waiting for ${what}: in use by ${describeOwner(cur)}`);
        lastNote = Date.now();
      } else if (Date.now() - lastNote >= (opts.progressMs ?? 10_000)) {
        log(`still waiting for ${what} (${Math.round(waited / 1000)} s): ${describeOwner(cur)}`);
        lastNote = Date.now();
      }
      waitedFor = cur;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
  const heartbeat = opts.heartbeatMs ?? 30_000;
  const timer = setInterval(() => {
    const now = new Date();
    const cur = readLock(path);
    if (!cur || cur.token !== owner.token) {
      log(`lock: ${path} is no longer ours (${cur ? describeOwner(cur) : "removed"})`);
      clearInterval(timer);
      return;
    }
    try {
      Deno.utimeSync(path, now, now);
    } catch { /* a transient error: the next beat retries */ }
  }, heartbeat);
  Deno.unrefTimer(timer as unknown as number);
  held.set(path, { owner, count: 1, timer });
  if (!unloadHooked) {
    globalThis.addEventListener("unload", releaseAllOnExit);
    unloadHooked = true;
  }
  return handle(path, owner, waitedFor, waitedFor ? Date.now() - t0 : 0);
}

function handle(
  path: string,
  owner: LockOwner,
  waitedFor: LockOwner | null,
  waitedMs: number,
): Lock {
  let released = false;
  const lock: Lock = {
    path,
    owner,
    waitedFor,
    waitedMs,
    [Symbol.dispose]() {
      lock.release();
    },
    release() {
      if (released) return;
      released = true;
      const h = held.get(path);
      if (!h || h.owner.token !== owner.token) return;
      if (--h.count > 0) return;
      clearInterval(h.timer);
      held.delete(path);
      removeIfOurs(path, owner.token);
    },
  };
  return lock;
}

/** Runs `fn` holding the lock of `target` (see {@link acquireLock}); released however `fn` ends. */
export async function withLock<T>(
  target: string,
  opts: LockOptions,
  fn: (lock: Lock) => Promise<T> | T,
): Promise<T> {
  const lock = await acquireLock(target, opts);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
