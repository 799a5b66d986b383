/**
 * Where the time of one training step goes, kernel by kernel, on the wasm device.
 *
 *   deno run -A bench/step_profile.ts [--size small] [--batch 32] [--steps 4] [--top 20]
 *                                     [--frames 4] [--device wasm|blas] [--threads N]
 *                                     [--closed-loop [--windows 64]]
 *
 * With `--device blas` it profiles the blas device instead (lib/model/native.ts):
 * milliseconds per step in the large matmuls, in each loop split over threads
 * (attention, SwiGLU) and in the rest (embedding, norms, loss, AdamW on the host),
 * and the process CPU time per step (all threads).
 *
 * With `--closed-loop` (blas only) it times a policy's forward pass instead: the blas
 * predictor's full logits of `--windows` windows against `actionLogits` (only the last
 * frame's action, the last layer run for that slot alone), alternating, median ms of each.
 *
 * @jax-js/jax runs every compiled wasm kernel on its Web Workers, one kernel at a
 * time. This script wraps the global `Worker` before the engine loads, times each
 * kernel from its first message to the last worker's reply, and reports per
 * kernel: milliseconds per step, dispatches per step and the output size, with a
 * guess of what the size is (B*L*D, B*H*L*L, ...). The summary line says how much
 * of the step's wall time had a kernel in flight (the rest is host work between
 * kernels). Prints JSON lines; never asserts on time.
 *
 * @module
 */

import { scriptArgs } from "../lib/util/cli.ts";

interface KernelStat {
  ms: number;
  dispatches: number;
  size: number;
}
const prof = {
  open: 0,
  t0: 0,
  hash: "",
  size: 0,
  busy: 0,
  dispatches: 0,
  per: new Map<string, KernelStat>(),
};

const BaseWorker = globalThis.Worker;
class TimedWorker extends BaseWorker {
  // deno-lint-ignore no-explicit-any
  override postMessage(msg: any, ...rest: any[]): void {
    if (msg?.type === "kernel") {
      if (prof.open === 0) {
        prof.t0 = performance.now();
        prof.hash = String(msg.kernelHash);
        prof.size = 0;
      }
      prof.open++;
      prof.size += msg.end - msg.begin;
      const handler = this.onmessage;
      this.onmessage = (e: MessageEvent) => {
        prof.open--;
        if (prof.open === 0) {
          const dt = performance.now() - prof.t0;
          prof.busy += dt;
          prof.dispatches++;
          const r = prof.per.get(prof.hash) ?? { ms: 0, dispatches: 0, size: prof.size };
          r.ms += dt;
          r.dispatches++;
          prof.per.set(prof.hash, r);
        }
        handler?.call(this, e);
      };
    }
    // deno-lint-ignore no-explicit-any
    (super.postMessage as any)(msg, ...rest);
  }
}
globalThis.Worker = TimedWorker as typeof Worker;

// The engine must load after the wrapper is installed.
const { init, defaultDevice, tree, blockUntilReady } = await import("@jax-js/jax");
const tf = await import("../lib/model/mod.ts");
const tr = {
  ...(await import("../lib/train/mod.ts")),
  ...(await import("../lib/testing/synthetic.ts")),
};

const str = { type: "string" } as const;
const { arg, flag } = scriptArgs(
  "bench:profile",
  `usage: deno task bench:profile [--size small] [--batch 32] [--steps 4] [--top 20]
                          [--frames 4] [--device wasm|blas] [--threads N]
                          [--closed-loop [--windows 64]]`,
  {
    size: str,
    batch: str,
    steps: str,
    top: str,
    device: str,
    frames: str,
    threads: str,
    "closed-loop": { type: "boolean" },
    windows: str,
  },
);
const size = arg("size", "small");
const B = Number(arg("batch", "32"));
const steps = Number(arg("steps", "4"));
const top = Number(arg("top", "20"));
const K = Number(arg("frames", "4")), M = 12;
const threadsArg = arg("threads", "");

if (flag("closed-loop")) {
  const { makeNativePredictor } = await import("../lib/model/native_predict.ts");
  const cfg = tf.resolveModelConfig({ size }, { length: K, mission_len: M });
  const W = Number(arg("windows", "64"));
  if (threadsArg) (await import("../lib/model/blas.ts")).loadBlas().setThreads(Number(threadsArg));
  const batch = tr.syntheticBatch(W, K, M, 1), mask = tr.syntheticMask(batch, 0.1, 1);
  const pred = makeNativePredictor(tf.initHostParams(cfg, 0), cfg, {
    ...(threadsArg ? { threads: Number(threadsArg) } : {}),
  });
  const full: number[] = [], decision: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    let t = performance.now();
    await pred(batch, mask);
    const a = performance.now() - t;
    t = performance.now();
    await pred.actionLogits!(batch, mask);
    if (i >= 2) (full.push(a), decision.push(performance.now() - t));
  }
  pred.dispose();
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1];
  console.log(JSON.stringify({
    bench: "closed_loop_forward",
    device: "blas",
    size,
    frames: K,
    windows: W,
    threads: threadsArg ? Number(threadsArg) : "default",
    full_logits_ms: +med(full).toFixed(1),
    action_logits_ms: +med(decision).toFixed(1),
    ratio: +(med(full) / med(decision)).toFixed(2),
  }));
  Deno.exit(0);
}

if (arg("device", "wasm") === "blas") {
  const { NativeModel, zerosLike } = await import("../lib/model/native.ts");
  const cfg = tf.resolveModelConfig({ size }, { length: K, mission_len: M });
  const prof: Record<string, number> = {};
  const net = new NativeModel(cfg, tr.UNIT_HEAD_WEIGHTS, {
    profile: prof,
    ...(threadsArg ? { threads: Number(threadsArg) } : {}),
  });
  if (threadsArg) net.blas.setThreads(Number(threadsArg));
  const p: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(tf.initHostParams(cfg, 0))) p[k] = v.data;
  const m = zerosLike(p), v = zerosLike(p), g = zerosLike(p);
  const batch = tr.syntheticBatch(B, K, M, 0);
  batch.frameValid.fill(1);
  const mask = tr.syntheticMask(batch, 0.3, 0);
  const hostIn = tf.encodeInputs(cfg, batch, mask), hostT = tr.encodeTargets(batch, mask, "mean");
  const { default: process } = await import("node:process");
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  let wall = 0, cpu = 0;
  for (let s = 0; s < steps + 2; s++) {
    if (s === 2) { // the first two steps allocate buffers and warm up V8
      for (const k of Object.keys(prof)) delete prof[k];
      wall = 0;
      cpu = 0;
    }
    const t0 = performance.now(), c0 = cpuMs();
    for (const x of Object.values(g)) x.fill(0);
    await net.run(p, hostIn, hostT, g);
    tr.adamwUpdateHost(tr.BENCH_OPTIM, p, g, m, v, s);
    wall += performance.now() - t0;
    cpu += cpuMs() - c0;
  }
  const measured = Object.values(prof).reduce((a, b) => a + b, 0);
  const rows = [...Object.entries(prof), [
    "other host loops (embedding, norms, loss, AdamW)",
    wall - measured,
  ]] as [string, number][];
  for (const [phase, ms] of rows.sort((a, b) => b[1] - a[1])) {
    console.log(
      JSON.stringify({
        phase,
        ms_per_step: +(ms / steps).toFixed(1),
        share: +(ms / wall).toFixed(3),
      }),
    );
  }
  console.log(JSON.stringify({
    bench: "step_profile",
    device: "blas",
    threads: net.threads,
    size,
    batch: B,
    seq: tf.seqLen(cfg),
    steps,
    ms_per_step: +(wall / steps).toFixed(1),
    // process CPU time (all threads): the steadier figure when other processes share the cores
    cpu_ms_per_step: +(cpu / steps).toFixed(1),
  }));
  net.dispose();
  Deno.exit(0);
}

await init("wasm");
defaultDevice("wasm");
const cfg = tf.resolveModelConfig({ size }, { length: K, mission_len: M });
const st = tr.makeStepper(cfg, tr.BENCH_OPTIM, tr.UNIT_HEAD_WEIGHTS);
let params = tf.initParams(cfg, 0);
let opt = tr.initOptState(params);
const batch = tr.syntheticBatch(B, K, M, 0);
batch.frameValid.fill(1);
const mask = tr.syntheticMask(batch, 0.3, 0);
const hostIn = tf.encodeInputs(cfg, batch, mask);
const hostT = tr.encodeTargets(batch, mask, "mean");

const L = tf.seqLen(cfg), D = cfg.dModel, F = cfg.dFF, H = cfg.nHeads;
const names: [number, string][] = [
  [B * H * L * L, "B*H*L*L (attention scores)"],
  [B * L * 2 * F, "B*L*2F (SwiGLU gate+up)"],
  [B * L * F, "B*L*F (SwiGLU hidden)"],
  [B * L * 3 * D, "B*L*3D (qkv)"],
  [B * L * D, "B*L*D (residual width)"],
  [B * H * L, "B*H*L (softmax rows)"],
  [D * 2 * F, "D*2F (w13 / its gradient)"],
  [F * D, "F*D (w2 / its gradient)"],
  [D * 3 * D, "D*3D (wqkv / its gradient)"],
  [D * D, "D*D (wo / its gradient)"],
  [tf.tokRows(cfg) * D, "tokRows*D (token table gradient)"],
  [B * K * 51 * tf.OUT_COLS, "B*K*51*32 (logits)"],
];
const guess = (n: number) => names.find(([s]) => s === n)?.[1] ?? "";

let wall = 0;
for (let s = 0; s < steps + 2; s++) {
  if (s === 2) { // the first two steps compile and warm up
    prof.per.clear();
    prof.busy = 0;
    prof.dispatches = 0;
    wall = 0;
  }
  const t0 = performance.now();
  const out = st.step(params, opt, s, [{
    inputs: tf.inputsToDevice(cfg, hostIn),
    targets: tr.targetsToDevice(hostT, B, K),
  }]);
  params = out.params;
  opt = out.opt;
  await out.loss.data();
  await blockUntilReady(params);
  out.aux.dispose();
  out.gnorm.dispose();
  wall += performance.now() - t0;
}
const rows = [...prof.per.values()].sort((a, b) => b.ms - a.ms);
for (const r of rows.slice(0, top)) {
  console.log(JSON.stringify({
    ms_per_step: +(r.ms / steps).toFixed(1),
    dispatches_per_step: r.dispatches / steps,
    output_elements: r.size,
    shape_guess: guess(r.size),
  }));
}
console.log(JSON.stringify({
  bench: "step_profile",
  device: "wasm",
  size,
  batch: B,
  seq: L,
  steps,
  ms_per_step: +(wall / steps).toFixed(1),
  kernel_ms_per_step: +(prof.busy / steps).toFixed(1),
  kernels: rows.length,
  dispatches_per_step: prof.dispatches / steps,
}));
tree.dispose([params, opt]);
st.dispose();
Deno.exit(0);
