/**
 * BabyAI expert-bot demonstration speed (prints JSON; never asserts on time).
 *
 * One demo = `reset({seed})` with consecutive seeds from 0, then `bot.replan` + `env.step`
 * until the episode ends (what data collection does). Per level: demos/s, env steps/s and
 * the bot's success rate, on one thread; then, with `--workers N` (default: every core,
 * `navigator.hardwareConcurrency`), the aggregate demos/s of N Web Workers each running its own
 * seed stream for the same wall time.
 *
 * With `MINIGRID_PYTHON` set to a command running a Python with minigrid importable
 * (e.g. `MINIGRID_PYTHON="env PYTHONPATH=/work/ref python3"`), the same loop runs with the
 * reference `BabyAIBot` and the TS/Python ratios are printed.
 *
 * Usage: `deno task bench:bot [--seconds S] [--workers N] [--env ID]...`
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { make } from "../lib/env/registry.ts";
import { BabyAIBot, BotError, type RoomGridLevel } from "../lib/env/babyai/mod.ts";
import { scriptArgs } from "../lib/util/cli.ts";

const WORKER_NAME = "babyai-bot-bench";

interface Figures {
  env: string;
  demos: number;
  seconds: number;
  demos_per_s: number;
  /** Demos per CPU second of this thread's process (user + system; less sensitive to load). */
  demos_per_cpu_s: number;
  steps_per_s: number;
  success_rate: number;
  bot_errors: number;
}

/** Run demos with seeds start, start+stride, ... for `seconds`; returns the figures. */
function runDemos(id: string, seconds: number, start = 0, stride = 1): Figures {
  const env = make(id) as RoomGridLevel;
  const demo = (seed: number) => {
    env.reset({ seed });
    const bot = new BabyAIBot(env);
    let last: number | null = null, steps = 0;
    for (let k = 0; k < env.maxSteps; k++) {
      let a: number;
      try {
        a = bot.replan(last);
      } catch (e) {
        if (e instanceof BotError) return { steps, ok: false, err: true };
        throw e;
      }
      const r = env.step(a);
      steps++;
      last = a;
      if (r.terminated || r.truncated) {
        return { steps, ok: r.terminated && r.reward > 0, err: false };
      }
    }
    return { steps, ok: false, err: false };
  };
  for (let s = 0; s < 20; s++) demo(10_000_000 + s); // warm-up, other seeds
  let n = 0, steps = 0, ok = 0, errs = 0;
  const c0 = cpuUsage();
  const t0 = performance.now();
  let dt = 0;
  while ((dt = (performance.now() - t0) / 1000) < seconds) {
    const r = demo(start + n * stride);
    n++;
    steps += r.steps;
    if (r.ok) ok++;
    if (r.err) errs++;
  }
  const c = cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  return {
    env: id,
    demos: n,
    seconds: +dt.toFixed(3),
    demos_per_s: +(n / dt).toFixed(1),
    demos_per_cpu_s: +(n / cpu).toFixed(1),
    steps_per_s: Math.round(steps / dt),
    success_rate: +(ok / n).toFixed(4),
    bot_errors: errs,
  };
}

async function runPool(
  id: string,
  seconds: number,
  workers: number,
): Promise<Record<string, unknown>> {
  const pool = Array.from(
    { length: workers },
    () => new Worker(import.meta.url, { type: "module", name: WORKER_NAME }),
  );
  try {
    const res = await Promise.all(pool.map((w, i) =>
      new Promise<Figures>((resolve, reject) => {
        w.onmessage = (ev) => resolve(ev.data as Figures);
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
        w.postMessage({ id, seconds, start: i, stride: workers });
      })
    ));
    const demos = res.reduce((a, r) => a + r.demos, 0);
    const wall = Math.max(...res.map((r) => r.seconds));
    return {
      env: id,
      workers,
      demos,
      demos_per_s: +(res.reduce((a, r) => a + r.demos_per_s, 0)).toFixed(1),
      wall_s: wall,
    };
  } finally {
    for (const w of pool) w.terminate();
  }
}

const PY_SCRIPT = `
import gymnasium as gym, minigrid, json, sys, time, io, contextlib
from minigrid.utils.baby_ai_bot import BabyAIBot
seconds = float(sys.argv[1]); out = []
for envid in sys.argv[2:]:
    env = gym.make(envid); u = env.unwrapped
    def demo(seed):
        with contextlib.redirect_stdout(io.StringIO()):
            env.reset(seed=seed)
        bot = BabyAIBot(env); last = None; steps = 0
        for k in range(u.max_steps):
            try:
                a = bot.replan(last)
            except Exception:
                return steps, False, True
            _, r, term, trunc, _ = env.step(a); steps += 1; last = a
            if term or trunc: return steps, bool(term and r > 0), False
        return steps, False, False
    for s in range(5): demo(10000000 + s)
    n = steps = ok = errs = 0; t0 = time.perf_counter(); c0 = time.process_time()
    while time.perf_counter() - t0 < seconds:
        st, o, e = demo(n); n += 1; steps += st; ok += o; errs += e
    dt = time.perf_counter() - t0; cpu = time.process_time() - c0
    out.append({"env": envid, "demos": n, "seconds": round(dt, 3), "demos_per_s": round(n / dt, 1),
                "demos_per_cpu_s": round(n / cpu, 1),
                "steps_per_s": round(steps / dt), "success_rate": round(ok / n, 4), "bot_errors": errs})
print(json.dumps(out))
`;

async function benchPython(cmd: string, ids: string[], seconds: number): Promise<unknown> {
  const path = await Deno.makeTempFile({ suffix: ".py" });
  try {
    await Deno.writeTextFile(path, PY_SCRIPT);
    const r = await new Deno.Command("sh", {
      args: ["-c", `${cmd} ${path} ${seconds} ${ids.join(" ")}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (r.code !== 0) return { error: new TextDecoder().decode(r.stderr).slice(-1000) };
    return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
  } finally {
    await Deno.remove(path);
  }
}

async function main() {
  const cli = scriptArgs(
    "bench:bot",
    "usage: deno task bench:bot [--seconds S] [--workers N] [--env ID]...",
    {
      seconds: { type: "string" },
      workers: { type: "string" },
      env: { type: "string", multiple: true },
    },
  );
  const seconds = Number(cli.arg("seconds", "3"));
  const workers = Number(cli.arg("workers", String(navigator.hardwareConcurrency || 1)));
  const ids = cli.list("env");
  if (!(seconds > 0) || !(workers >= 0)) {
    console.error("bot_speed: --seconds must be > 0 and --workers >= 0");
    Deno.exit(2);
  }
  if (ids.length === 0) {
    ids.push(
      "BabyAI-GoToLocal-v0",
      "BabyAI-PickupLoc-v0",
      "BabyAI-GoToObjMaze-v0",
      "BabyAI-BossLevel-v0",
    );
  }
  const single = ids.map((id) => runDemos(id, seconds));
  const result: Record<string, unknown> = {
    bench: "bot_speed",
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    cores: navigator.hardwareConcurrency,
    seconds_per_measurement: seconds,
    ts_single_thread: single,
  };
  if (workers > 0) {
    const pooled = [];
    for (const id of ids) pooled.push(await runPool(id, seconds, workers));
    result.ts_worker_pool = pooled;
  }
  const py = Deno.env.get("MINIGRID_PYTHON");
  if (py) {
    const p = await benchPython(py, ids, seconds);
    result.python_command = py;
    result.python = p;
    if (Array.isArray(p)) {
      result.ratio_ts_over_python = single.map((r) => {
        const q = (p as Figures[]).find((x) => x.env === r.env);
        if (!q) return { env: r.env, error: "no python figure" };
        return {
          env: r.env,
          demos_per_s: +(r.demos_per_s / q.demos_per_s).toFixed(1),
          demos_per_cpu_s: +(r.demos_per_cpu_s / q.demos_per_cpu_s).toFixed(1),
        };
      });
    }
  }
  console.log(JSON.stringify(result, null, 2));
  Deno.exit(0);
}

// ---- entry: worker mode or main
// deno-lint-ignore no-explicit-any
const selfAny = globalThis as any;
if (selfAny.name === WORKER_NAME) {
  selfAny.onmessage = (ev: MessageEvent) => {
    const { id, seconds, start, stride } = ev.data;
    selfAny.postMessage(runDemos(id, seconds, start, stride));
  };
} else {
  await main();
}
