/**
 * Env speed benchmark (prints JSON; never asserts on time).
 *
 * For MiniGrid-DoorKey-8x8-v0, MiniGrid-FourRooms-v0 and (when registered) BabyAI-GoToLocal-v0 /
 * BabyAI-BossLevel-v0:
 * - `steps_per_s`: single env, random actions (pre-drawn), observation generated every step,
 *   auto-reset with the next seed when an episode ends;
 * - `resets_per_s`: `reset({seed})` with consecutive seeds;
 * - `batched_steps_per_s`: BatchedEnv (N = 64) env-steps per second, same action stream.
 *
 * With `MINIGRID_PYTHON` set to a command that runs a Python with minigrid importable
 * (e.g. `MINIGRID_PYTHON="env PYTHONPATH=/work/ref python3"`), the same loops run there too and
 * the ratios TS/Python are printed. `--seconds S` sets the time per measurement (default 1.5).
 *
 * Usage: `deno task bench:env [--seconds S] [--env ID]...`
 *
 * @module
 */

import { BatchedEnv } from "../lib/env/batch.ts";
import { isRegistered, make } from "../lib/env/registry.ts";
import { Generator } from "../lib/env/rng.ts";
import { scriptArgs } from "../lib/util/cli.ts";

const cli = scriptArgs("bench:env", "usage: deno task bench:env [--seconds S] [--env ID]...", {
  seconds: { type: "string" },
  env: { type: "string", multiple: true },
});
const seconds = Number(cli.arg("seconds", "1.5"));
const envArg = cli.list("env");
if (!(seconds > 0)) {
  console.error("env_speed: --seconds must be > 0");
  Deno.exit(2);
}

const IDS = envArg.length > 0 ? envArg : [
  "MiniGrid-DoorKey-8x8-v0",
  "MiniGrid-FourRooms-v0",
  "BabyAI-GoToLocal-v0",
  "BabyAI-BossLevel-v0",
];
const NACT = 1 << 16;

function actionsFor(n: number): Uint8Array {
  const g = new Generator(12345);
  const a = new Uint8Array(NACT);
  for (let i = 0; i < NACT; i++) a[i] = g.integers(0, n);
  return a;
}

/** Run fn in chunks until `seconds` elapsed; returns units per second. */
function timeIt(fn: (k: number) => number): number {
  // warm-up
  fn(200);
  let units = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    units += fn(1000);
    t = performance.now();
  }
  return units / ((t - t0) / 1000);
}

interface Row {
  env: string;
  steps_per_s: number;
  resets_per_s: number;
  batched_steps_per_s: number;
  episodes_in_step_loop: number;
}

function benchTs(id: string): Row {
  const env = make(id);
  const acts = actionsFor(env.actionSpaceN);
  let seed = 0, ai = 0, episodes = 0;
  env.reset({ seed: seed++ });
  const stepsPerS = timeIt((k) => {
    for (let i = 0; i < k; i++) {
      const r = env.step(acts[ai++ & (NACT - 1)]);
      if (r.terminated || r.truncated) {
        env.reset({ seed: seed++ });
        episodes++;
      }
    }
    return k;
  });
  const env2 = make(id);
  let rs = 0;
  const resetsPerS = timeIt((k) => {
    const m = Math.max(1, k >> 3);
    for (let i = 0; i < m; i++) env2.reset({ seed: rs++ });
    return m;
  });
  const N = 64;
  const b = new BatchedEnv(id, N);
  b.reset(0);
  const batchActs = new Uint8Array(N);
  let bi = 0;
  const batchedPerS = timeIt((k) => {
    const m = Math.max(1, Math.floor(k / N));
    for (let s = 0; s < m; s++) {
      for (let i = 0; i < N; i++) batchActs[i] = acts[bi++ & (NACT - 1)];
      b.step(batchActs);
    }
    return m * N;
  });
  return {
    env: id,
    steps_per_s: Math.round(stepsPerS),
    resets_per_s: Math.round(resetsPerS),
    batched_steps_per_s: Math.round(batchedPerS),
    episodes_in_step_loop: episodes,
  };
}

const PY = `
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
import gymnasium as gym
import minigrid
try:
    minigrid.register_minigrid_envs()
except Exception:
    pass
ids = json.loads(sys.argv[1]); seconds = float(sys.argv[2]); NACT = 1 << 16
out = []
def timeit(fn):
    fn(50)
    units = 0; t0 = time.perf_counter(); t = t0
    while t - t0 < seconds:
        units += fn(200); t = time.perf_counter()
    return units / (t - t0)
for id_ in ids:
    try:
        env = gym.make(id_).unwrapped
    except Exception as e:
        out.append({"env": id_, "error": str(e)}); continue
    acts = np.random.default_rng(12345).integers(0, env.action_space.n, size=NACT).tolist()
    st = {"seed": 0, "ai": 0}
    env.reset(seed=st["seed"]); st["seed"] += 1
    def steps(k):
        for _ in range(k):
            _, _, term, trunc, _ = env.step(acts[st["ai"] % NACT]); st["ai"] += 1
            if term or trunc:
                env.reset(seed=st["seed"]); st["seed"] += 1
        return k
    sps = timeit(steps)
    env2 = gym.make(id_).unwrapped
    rs = {"s": 0}
    def resets(k):
        m = max(1, k // 8)
        for _ in range(m):
            env2.reset(seed=rs["s"]); rs["s"] += 1
        return m
    rps = timeit(resets)
    out.append({"env": id_, "steps_per_s": round(sps), "resets_per_s": round(rps)})
print(json.dumps(out))
`;

async function benchPython(
  cmd: string,
  ids: string[],
): Promise<Record<string, unknown>[] | { error: string }> {
  const path = await Deno.makeTempFile({ suffix: ".py" });
  await Deno.writeTextFile(path, PY);
  try {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const p = new Deno.Command("sh", {
      args: ["-c", `${cmd} ${quote(path)} ${quote(JSON.stringify(ids))} ${seconds}`],
      stdout: "piped",
      stderr: "piped",
    });
    const r = await p.output();
    const out = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ?? "";
    if (r.code !== 0) return { error: new TextDecoder().decode(r.stderr).slice(-500) };
    return JSON.parse(out);
  } finally {
    await Deno.remove(path);
  }
}

const ids = IDS.filter((id) => isRegistered(id));
const skipped = IDS.filter((id) => !isRegistered(id));
const rows = ids.map(benchTs);
const result: Record<string, unknown> = {
  bench: "env_speed",
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  seconds_per_measurement: seconds,
  batch_n: 64,
  ts: rows,
  skipped_unregistered: skipped,
};
const py = Deno.env.get("MINIGRID_PYTHON");
if (py) {
  const p = await benchPython(py, ids);
  result.python_command = py;
  result.python = p;
  if (Array.isArray(p)) {
    result.ratio_ts_over_python = rows.map((r) => {
      const q = p.find((x) => x.env === r.env) as Record<string, number> | undefined;
      if (!q || !q.steps_per_s) return { env: r.env, error: "no python figure" };
      return {
        env: r.env,
        steps: +(r.steps_per_s / q.steps_per_s).toFixed(1),
        resets: +(r.resets_per_s / q.resets_per_s).toFixed(1),
        batched_steps: +(r.batched_steps_per_s / q.steps_per_s).toFixed(1),
      };
    });
  }
}
console.log(JSON.stringify(result, null, 2));
