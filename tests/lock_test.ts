import { strict as assert } from "node:assert";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  acquireLock,
  LockBusyError,
  type LockOwner,
  lockPathFor,
  pidAlive,
  readLock,
} from "../lib/util/lock.ts";

const LOCK = new URL("../lib/util/lock.ts", import.meta.url).href;
const opts = { sanitizeOps: false, sanitizeResources: false };

/** A child `deno eval` running `code` (with `acquireLock` imported); stdout/stderr piped. */
function child(code: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { acquireLock } from "${LOCK}";\n${code}`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads a child's stdout until `marker` appears (the child holds its lock from then on). */
async function waitFor(c: Deno.ChildProcess, marker: string): Promise<void> {
  const reader = c.stdout.getReader();
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child ended before printing '${marker}': ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
}

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const c = new Deno.Command("true").spawn();
  await c.status;
  return c.pid;
}

Deno.test("lock: the lock file names its holder and goes on release; re-entrant in one process", async () => {
  const dir = Deno.makeTempDirSync();
  const target = join(dir, "run");
  const a = await acquireLock(target, { log: () => {} });
  const o = readLock(lockPathFor(target))!;
  assert.equal(o.pid, Deno.pid);
  assert.equal(o.host, hostname());
  assert.ok(!Number.isNaN(Date.parse(o.started)), o.started);
  assert.equal(o.token, a.owner.token);
  const b = await acquireLock(target, { wait: false, log: () => {} }); // same process: re-entrant
  b.release();
  assert.ok(readLock(lockPathFor(target)), "still held by the outer holder");
  a.release();
  a.release(); // idempotent
  assert.equal(readLock(lockPathFor(target)), null);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [], "no temporary left");
});

Deno.test({
  name: "lock: --no-wait fails at once naming the holder; a waiter gets the lock when it is freed",
  ...opts,
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    const target = join(dir, "run");
    const c = child(
      `const l = await acquireLock(${JSON.stringify(target)});
       console.log("held"); await new Promise((r) => setTimeout(r, 1500)); l.release();
       console.log("released");`,
    );
    await waitFor(c, "held");
    const holder = readLock(lockPathFor(target))!;
    assert.equal(holder.pid, c.pid);
    await assert.rejects(
      () => acquireLock(target, { wait: false, log: () => {} }),
      (e: Error) => {
        assert.ok(e instanceof LockBusyError);
        assert.match(e.message, new RegExp(`in use by pid ${c.pid} on host ${hostname()}`));
        assert.match(e.message, /--no-wait/);
        return true;
      },
    );
    const lines: string[] = [];
    const l = await acquireLock(target, { log: (x) => lines.push(x), pollMs: 50 });
    assert.equal(l.waitedFor?.pid, c.pid);
    assert.ok(l.waitedMs > 0);
    assert.match(lines[0], new RegExp(`^waiting for .*run: in use by pid ${c.pid}`));
    l.release();
    assert.equal((await c.status).code, 0);
  },
});

Deno.test({
  name: "lock: a holder killed with SIGKILL leaves a stale lock, taken over with a message",
  ...opts,
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    const target = join(dir, "run");
    const c = child(
      `await acquireLock(${JSON.stringify(target)}); console.log("held");
       await new Promise((r) => setTimeout(r, 60_000));`,
    );
    await waitFor(c, "held");
    c.kill("SIGKILL");
    await c.status;
    await c.stderr.cancel();
    assert.equal(readLock(lockPathFor(target))?.pid, c.pid, "the dead holder's lock is left");
    assert.equal(pidAlive(c.pid), false);
    const lines: string[] = [];
    const l = await acquireLock(target, { wait: false, log: (x) => lines.push(x) });
    assert.equal(l.waitedFor, null);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], new RegExp(`taking over .*: its holder pid ${c.pid} .* is gone`));
    assert.equal(readLock(lockPathFor(target))?.pid, Deno.pid);
    l.release();
  },
});

Deno.test("lock: another host's lock is stale only when its heartbeat stopped", async () => {
  const dir = Deno.makeTempDirSync();
  const target = join(dir, "run");
  const other: LockOwner = {
    pid: Deno.pid, // alive here, but on another host the pid says nothing
    host: "node-elsewhere",
    started: new Date().toISOString(),
    command: "deno run cli/ablate.ts --run-one exp1",
    token: "t-other",
  };
  Deno.writeTextFileSync(lockPathFor(target), JSON.stringify(other));
  await assert.rejects(
    () => acquireLock(target, { wait: false, log: () => {}, staleMs: 60_000 }),
    /in use by pid \d+ on host node-elsewhere .*--run-one exp1/,
  );
  const old = new Date(Date.now() - 120_000);
  Deno.utimeSync(lockPathFor(target), old, old);
  const lines: string[] = [];
  const l = await acquireLock(target, { wait: false, log: (x) => lines.push(x), staleMs: 60_000 });
  assert.match(lines.join("\n"), /taking over .*node-elsewhere .*not refreshed for 1\d\d s/);
  l.release();
});

Deno.test("lock: a dead pid of this host is taken over even while its heartbeat is fresh", async () => {
  const dir = Deno.makeTempDirSync();
  const target = join(dir, "run");
  const pid = await deadPid();
  Deno.writeTextFileSync(
    lockPathFor(target),
    JSON.stringify({ pid, host: hostname(), started: "x", command: "", token: "dead" }),
  );
  const lines: string[] = [];
  const l = await acquireLock(target, { wait: false, log: (x) => lines.push(x) });
  assert.match(lines[0] ?? "", new RegExp(`pid ${pid} .* is gone`));
  l.release();
});

Deno.test({
  name: "lock: four processes incrementing one counter under the lock lose no update",
  ...opts,
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    const target = join(dir, "run");
    const counter = join(dir, "count.txt");
    Deno.writeTextFileSync(counter, "0");
    const code = `for (let i = 0; i < 5; i++) {
        const l = await acquireLock(${JSON.stringify(target)}, { pollMs: 5, log: () => {} });
        const n = Number(Deno.readTextFileSync(${JSON.stringify(counter)}));
        await new Promise((r) => setTimeout(r, 5)); // widen the read-modify-write window
        Deno.writeTextFileSync(${JSON.stringify(counter)}, String(n + 1));
        l.release();
      }`;
    const kids = Array.from({ length: 4 }, () => child(code));
    for (const k of kids) {
      const out = await k.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    assert.equal(Number(Deno.readTextFileSync(counter)), 20);
    assert.equal(readLock(lockPathFor(target)), null);
  },
});
