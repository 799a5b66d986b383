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
 * @module
 */

let armed: Map<string, number> | null = null;
const seen = new Map<string, number>();

function parse(): Map<string, number> {
  const out = new Map<string, number>();
  let spec = "";
  try {
    spec = Deno.env.get("FAULT_KILL") ?? "";
  } catch { /* no env permission: nothing armed */ }
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)(?:@(\d+))?$/.exec(part);
    if (!m) throw new Error(`FAULT_KILL: '${part}' is not <point>@<n> (e.g. step@3)`);
    out.set(m[1], Number(m[2] ?? 1));
  }
  return out;
}

/** Marks that `point` was reached; kills this process (SIGKILL) when FAULT_KILL arms it for now. */
export function faultPoint(point: string): void {
  armed ??= parse();
  if (armed.size === 0) return;
  const n = (seen.get(point) ?? 0) + 1;
  seen.set(point, n);
  if (armed.get(point) === n) Deno.kill(Deno.pid, "SIGKILL");
}
