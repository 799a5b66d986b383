/**
 * Evaluation speed: the jax-js forward pass (wasm, what evaluation ran on
 * before) against the blas forward-only predictor (lib/model/native_predict.ts)
 * on the same random model, and closed-loop rollouts (lib/eval/rollout.ts
 * `rolloutModel`, every episode in one batch) with each.
 *
 *   deno task bench:eval [--sizes tiny,small] [--frames 2,4] [--batches 64,128] [--reps 3]
 *                        [--episodes 50,200] [--rollout-sizes tiny] [--rollout-frames 2]
 *                        [--max-steps 64] [--chunks 16,37,74] [--no-rollout]
 *
 * Prints JSON lines:
 * - `eval_forward`: per model size, K and batch, ms of one predictor call (logits of
 *   every slot of the batch, host in and out) on each: the first call (jit compile /
 *   worker start) and the median of `reps` warm calls, and the speed-up;
 * - `eval_chunk` (with `--chunks`): blas forward ms for several windows-per-pass chunk sizes;
 * - `rollout`: seconds for N GoToRedBall episodes in lockstep with each predictor (`blas`: the
 *   decision-only pass the policy runs; `blas_full`: every slot's logits, `decision_speedup`
 *   the ratio), split into the predictor's calls and the rest (env steps, window and batch
 *   building in rollout.ts). The random model rarely finishes an episode, so every
 *   episode runs to `--max-steps` (GoToRedBall's own cap is 64). The default times the
 *   tiny model at K=2; the small model at K=4 takes minutes per step count on jax-js
 *   (`--rollout-sizes small --rollout-frames 4 --max-steps 8` times 8 steps).
 * Each model shape runs in its own child process. Devices alternate within each measurement so that load from other processes
 * hits both alike; `*_cpu_ms` / `*_cpu_s` give the process CPU time (all threads)
 * beside the wall time, the fairer figure on a loaded machine. `BLAS_THREADS=1
 * JAXJS_WORKERS=1 OPENBLAS_NUM_THREADS=1` times one core (what each of the two
 * `deno task ablate` jobs gets on two cores). Never asserts on time.
 *
 * @module
 */

import "../lib/model/workers.ts"; // first: engine worker count from JAXJS_WORKERS
import { scriptArgs } from "../lib/util/cli.ts";
import { tree } from "@jax-js/jax";
import type { Batch, Mask, Predictor } from "../lib/data/types.ts";
import { selectDevice } from "../lib/model/device.ts";
import { loadBlas } from "../lib/model/blas.ts";
import { type EvalPredictor, makeNativePredictor } from "../lib/model/native_predict.ts";
import { initHostParams, paramsFromHost } from "../lib/model/params.ts";
import { makePredictor } from "../lib/model/decode.ts";
import { type ModelConfig, resolveModelConfig, seqLen } from "../lib/model/model_config.ts";
import { syntheticBatch, syntheticMask } from "../lib/testing/synthetic.ts";
import { type PolicyPredictor, rolloutModel } from "../lib/eval/rollout.ts";
import process from "node:process";

const str = { type: "string" } as const, bool = { type: "boolean" } as const;
const { arg, flag } = scriptArgs(
  "bench:eval",
  `usage: deno task bench:eval [--sizes tiny,small] [--frames 2,4] [--batches 64,128] [--reps 3]
                       [--episodes 50,200] [--rollout-sizes tiny] [--rollout-frames 2]
                       [--max-steps 64] [--chunks 16,37,74] [--no-rollout] [--no-forward]`,
  {
    sizes: str,
    frames: str,
    batches: str,
    reps: str,
    episodes: str,
    "rollout-sizes": str,
    "rollout-frames": str,
    "max-steps": str,
    chunks: str,
    "no-rollout": bool,
    "no-forward": bool,
    child: bool,
  },
);
const list = (name: string, def: string) =>
  arg(name, def).split(",").filter((s) => s !== "").map((s) => s.trim());
const nums = (name: string, def: string) => list(name, def).map(Number);

const M = 12;
const reps = Number(arg("reps", "3"));
await selectDevice("wasm");
const blas = loadBlas();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const r1 = (x: number) => +x.toFixed(1);

function modelOf(size: string, K: number): ModelConfig {
  return resolveModelConfig({ size }, { length: K, mission_len: M });
}

/** CPU time of this process so far (every thread: workers, OpenBLAS), ms. */
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Time calls of `p` (ms): the first, then the median of `reps` (wall and process CPU). */
async function timeCalls(p: Predictor, batch: Batch, mask: Mask) {
  let t0 = performance.now();
  await p(batch, mask);
  const first = performance.now() - t0;
  const warm: number[] = [], cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    t0 = performance.now();
    const c0 = cpuMs();
    await p(batch, mask);
    warm.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  return { first, warm: median(warm), cpu: median(cpu) };
}

/**
 * Without `--child`: run every (size, K) of the forward passes and every (size, K,
 * episodes) of the rollouts in its own child process (the jax-js wasm heap grows
 * across model shapes in one process: small K=4 at 128 windows after the smaller
 * shapes ran out of its 4 GiB), passing the other arguments on.
 */
async function parent(): Promise<never> {
  const pass = Deno.args.filter((a, i) =>
    !["--sizes", "--frames", "--episodes", "--rollout-sizes", "--rollout-frames"].includes(a) &&
    !["--sizes", "--frames", "--episodes", "--rollout-sizes", "--rollout-frames"].includes(
      Deno.args[i - 1],
    )
  );
  const child = async (extra: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--child", ...pass, ...extra],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!out.success) console.log(JSON.stringify({ bench: "eval_speed", failed: extra }));
  };
  for (const size of list("sizes", "tiny,small")) {
    for (const K of nums("frames", "2,4")) {
      await child(["--sizes", size, "--frames", String(K), "--no-rollout"]);
    }
  }
  if (!flag("no-rollout")) {
    for (const size of list("rollout-sizes", "tiny")) {
      for (const K of nums("rollout-frames", "2")) {
        for (const N of nums("episodes", "50,200")) {
          await child([
            "--no-forward",
            "--rollout-sizes",
            size,
            "--rollout-frames",
            String(K),
            "--episodes",
            String(N),
          ]);
        }
      }
    }
  }
  console.log(JSON.stringify({
    bench: "eval_speed",
    blas: blas.config,
    blas_threads: blas.threads(),
    cores: navigator.hardwareConcurrency,
  }));
  Deno.exit(0);
}
if (!flag("child")) await parent();

for (const size of flag("no-forward") ? [] : list("sizes", "tiny,small")) {
  for (const K of nums("frames", "2,4")) {
    const cfg = modelOf(size, K);
    const host = initHostParams(cfg, 0);
    const dev = paramsFromHost(cfg, host);
    for (const B of nums("batches", "64,128")) {
      const batch = syntheticBatch(B, K, M, 1);
      batch.frameValid.fill(1);
      const mask = syntheticMask(batch, 0.3, 1);
      const jax = await timeCalls(makePredictor(dev, cfg), batch, mask);
      const nat = makeNativePredictor(host, cfg);
      const bl = await timeCalls(nat, batch, mask);
      nat.dispose();
      console.log(JSON.stringify({
        bench: "eval_forward",
        size,
        K,
        seq: seqLen(cfg),
        batch: B,
        jax_wasm_first_ms: r1(jax.first),
        jax_wasm_ms: r1(jax.warm),
        jax_wasm_cpu_ms: r1(jax.cpu),
        blas_first_ms: r1(bl.first),
        blas_ms: r1(bl.warm),
        blas_cpu_ms: r1(bl.cpu),
        speedup: +(jax.warm / bl.warm).toFixed(2),
        cpu_ratio: +(jax.cpu / bl.cpu).toFixed(2),
      }));
    }
    const chunks = nums("chunks", "");
    if (chunks.length) {
      const B = Math.max(...nums("batches", "64,128"));
      const batch = syntheticBatch(B, K, M, 1);
      batch.frameValid.fill(1);
      const mask = syntheticMask(batch, 0.3, 1);
      const row: Record<string, number> = {};
      for (const chunk of [...chunks, B]) {
        const nat = makeNativePredictor(host, cfg, { chunk });
        row[`chunk_${chunk}_ms`] = r1((await timeCalls(nat, batch, mask)).warm);
        nat.dispose();
      }
      console.log(JSON.stringify({ bench: "eval_chunk", size, K, batch: B, ...row }));
    }
    tree.dispose(dev);
  }
}

/**
 * A predictor that adds the time of its calls to `acc.ms`; with `decision`, it keeps the
 * predictor's decision-only pass (`actionLogits`), which the policy then runs instead.
 */
function timed(
  p: Predictor | EvalPredictor,
  acc: { ms: number; calls: number },
  decision = false,
): PolicyPredictor {
  const time = async <T>(f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await f();
    acc.ms += performance.now() - t0;
    acc.calls++;
    return out;
  };
  const full: Predictor = (batch, mask) => time(() => p(batch, mask));
  const fast = decision && "actionLogits" in p ? p.actionLogits : undefined;
  return fast
    ? Object.assign(full, { actionLogits: (b: Batch, m: Mask) => time(() => fast(b, m)) })
    : full;
}

if (!flag("no-rollout")) {
  const maxSteps = Number(arg("max-steps", "64"));
  for (const size of list("rollout-sizes", "tiny")) {
    for (const K of nums("rollout-frames", "2")) {
      const cfg = modelOf(size, K);
      const host = initHostParams(cfg, 0);
      const dev = paramsFromHost(cfg, host);
      for (const N of nums("episodes", "50,200")) {
        const seeds = Array.from({ length: N }, (_, i) => 1_000_000 + i);
        const opts = { K, M, maxSteps, greedy: true, seed: 0 };
        const row: Record<string, number | string> = {
          bench: "rollout",
          env: "BabyAI-GoToRedBall-v0",
          size,
          K,
          episodes: N,
          max_steps: maxSteps,
        };
        // blas_full: every slot's logits each step; blas: the decision-only pass (what
        // evaluation runs).
        const preds: [string, () => EvalPredictor | Predictor, boolean][] = [
          ["jax_wasm", () => makePredictor(dev, cfg), false],
          ["blas_full", () => makeNativePredictor(host, cfg), false],
          ["blas", () => makeNativePredictor(host, cfg), true],
        ];
        for (const [name, make, decision] of preds) {
          const p = make(), acc = { ms: 0, calls: 0 };
          const t0 = performance.now(), c0 = cpuMs();
          const res = await rolloutModel(
            timed(p, acc, decision),
            "BabyAI-GoToRedBall-v0",
            seeds,
            opts,
          );
          const total = performance.now() - t0;
          row[`${name}_cpu_s`] = +((cpuMs() - c0) / 1000).toFixed(2);
          if ("dispose" in p) p.dispose();
          row[`${name}_s`] = +(total / 1000).toFixed(2);
          row[`${name}_predict_s`] = +(acc.ms / 1000).toFixed(2);
          row[`${name}_rest_s`] = +((total - acc.ms) / 1000).toFixed(2);
          row.steps = acc.calls;
          row[`${name}_mean_length`] = res.mean_length;
        }
        row.speedup = +((row.jax_wasm_s as number) / (row.blas_s as number)).toFixed(2);
        row.decision_speedup = +((row.blas_full_s as number) / (row.blas_s as number)).toFixed(2);
        console.log(JSON.stringify(row));
      }
      tree.dispose(dev);
    }
  }
}
Deno.exit(0); // the jax-js engine's workers would keep the process alive
