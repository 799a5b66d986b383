/**
 * Fault injection for the fault suite (tests/faults_test.ts): named points in the training loop,
 * the checkpoint writer and the ablation runner where a process can be made to kill itself with
 * SIGKILL, exactly as `kill -9` from outside would, but at a known place.
 *
 * Set `FAULT_KILL=<point>@<n>` (or several, comma-separated) in a process's environment: the
 * n-th time (1-based, counted per process) it reaches `<point>` it sends itself SIGKILL. Without
 * the variable a point costs one map lookup. The points:
 *
 * - `step`: after an optimizer step's loss is known, before its logs and checkpoints;
 * - `checkpoint-write`: inside a checkpoint write, after `model.safetensors` of the temporary
 *   directory is written (the rest of the checkpoint is not);
 * - `checkpoint-replace`: after an existing checkpoint of that name (e.g. `best`) was moved
 *   aside, before its replacement is renamed into place;
 * - `run-trained`: in an ablation run, after training, before evaluation;
 * - `run-evaluated`: in an ablation run, after evaluation, before `result.json` is written.
 *
 * `FAULT_STALL=<point>@<n>` with `FAULT_RELEASE=<file>` makes the process stop at that point
 * instead (holding whatever it holds, e.g. a run's lock) until `<file>` exists, or 120 s have
 * passed: the suite uses it to start a second process while the first is known to be inside a run.
 *
 * @module
 */

let armed: { kill: Map<string, number>; stall: Map<string, number>; release: string } | null = null;
const seen = new Map<string, number>();

function env(name: string): string {
  try {
    return Deno.env.get(name) ?? "";
  } catch {
    return ""; // no env permission: nothing armed
  }
}

function parse(name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of env(name).split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)(?:@(\d+))?$/.exec(part);
    if (!m) throw new Error(`${name}: '${part}' is not <point>@<n> (e.g. step@3)`);
    out.set(m[1], Number(m[2] ?? 1));
  }
  return out;
}

function stallUntil(file: string): void {
  if (!file) throw new Error("FAULT_STALL is set but FAULT_RELEASE (the file to wait for) is not");
  const tick = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    try {
      Deno.statSync(file);
      return;
    } catch { /* not yet */ }
    Atomics.wait(tick, 0, 0, 50);
  }
}

/**
 * Marks that `point` was reached; kills this process (SIGKILL) when FAULT_KILL arms it for now,
 * or stops it until the FAULT_RELEASE file exists when FAULT_STALL does.
 */
export function faultPoint(point: string): void {
  armed ??= {
    kill: parse("FAULT_KILL"),
    stall: parse("FAULT_STALL"),
    release: env("FAULT_RELEASE"),
  };
  if (armed.kill.size === 0 && armed.stall.size === 0) return;
  const n = (seen.get(point) ?? 0) + 1;
  seen.set(point, n);
  if (armed.kill.get(point) === n) Deno.kill(Deno.pid, "SIGKILL");
  if (armed.stall.get(point) === n) stallUntil(armed.release);
}
