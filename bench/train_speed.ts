/**
 * Training throughput of the masked-diffusion transformer on each training
 * device, timed through the same engine `deno task train` drives
 * (lib/train/engine.ts: `blas` = lib/model/native.ts on OpenBLAS, `wasm`/`webgpu`
 * = the compiled @jax-js/jax step), side by side with the peers a user would pick
 * on the same CPU, each on the same model, batch, objective and thread count
 * (forward + backward + AdamW + clipping): PyTorch 2 eager, eager with
 * `scaled_dot_product_attention`, `torch.compile` (bench/torch_train.py) and JAX
 * `jit` (bench/jax_train.py), run by the Python of `deno task setup --peers`
 * (bench/peers.ts; `--python` picks another).
 *
 *   deno task bench:train [--rows tiny:2,tiny:4,small:2,small:4] [--threads 2,1]
 *                         [--devices blas] [--peers torch_eager,torch_sdpa,torch_compile,jax_jit]
 *                         [--steps 6] [--rounds 3] [--batch 32] [--mission 12]
 *                         [--python PATH] [--no-torch] [--blas-libraries used|all]
 *                         [--sizes small --frames 4]   (instead of --rows: sizes x one K)
 *                         [--baseline DIR]
 *
 * `--baseline DIR` also times the `blas` device of another checkout in DIR (e.g. `git archive
 * <commit> | tar -x -C DIR`; its bench/train_speed.ts runs the child), as device
 * `blas@baseline` in the same alternating rounds, with `ratio_vs_baseline` on the `blas` row.
 *
 * A row is a model size and a window length K (`size:K`), timed once per thread
 * count: `--threads 2,1` (default: every core, then one, as a study's parallel runs
 * use). The `blas` device's helper threads and OpenBLAS get that many threads, each
 * peer `torch.set_num_threads` / a single-threaded XLA. `--peers none` (or
 * `--no-torch`) times the devices alone.
 *
 * First it prints one `blas_libraries` line: every BLAS the search of
 * lib/model/blas.ts finds here, each with its 1024x1024 sgemm peak measured in
 * its own child process, and which one the `blas` device uses; then one
 * `peers_env` line: the peers' python and its torch/jax/numpy versions.
 * `--blas-libraries all` also times the `blas` device on each library.
 *
 * Prints one JSON object per row, thread count and device: ms/step (median and
 * best), tokens/s (sequence positions per second), cores used (process CPU time /
 * wall time), achieved GFLOP/s (analytic FLOPs of forward + backward), the fraction
 * of the device's measured 1024x1024 matmul peak, peak RSS, every peer's figures
 * (`peers`), the fastest peer (`best_peer`) and `ratio_vs_best_peer` (the fastest
 * peer's median ms/step over this device's: above 1 = this device is faster).
 * Rounds alternate the devices and the peers so that load from other processes
 * hits all alike; each round runs in a fresh child process. Never asserts on time.
 *
 * @module
 */

import "../lib/model/workers.ts"; // first: engine worker count from JAXJS_WORKERS
import { scriptArgs } from "../lib/util/cli.ts";
import { jit, numpy as np } from "@jax-js/jax";
import { selectDevice } from "../lib/model/device.ts";
import { type BlasCandidate, blasCandidates, blasInfo, loadBlas } from "../lib/model/blas.ts";
import { encodeInputs } from "../lib/model/transformer.ts";
import { initHostParams, paramCount } from "../lib/model/params.ts";
import {
  type ModelConfig,
  OUT_COLS,
  resolveModelConfig,
  seqLen,
  tokRows,
} from "../lib/model/model_config.ts";
import {
  BENCH_OPTIM,
  syntheticBatch,
  syntheticMask,
  UNIT_HEAD_WEIGHTS,
} from "../lib/testing/synthetic.ts";
import { encodeTargets, type HostMicroBatch, makeEngine, zeroMoments } from "../lib/train/mod.ts";
import { peersCommand, peersPython, probePeers } from "./peers.ts";

const str = { type: "string" } as const, bool = { type: "boolean" } as const;
const { arg, flag } = scriptArgs(
  "bench:train",
  `usage: deno task bench:train [--rows tiny:2,tiny:4,small:2,small:4] [--threads 2,1]
                        [--devices blas] [--peers torch_eager,torch_sdpa,torch_compile,jax_jit|none]
                        [--steps 6] [--rounds 3] [--batch 32] [--mission 12] [--python PATH]
                        [--no-torch] [--blas-libraries used|all] [--sizes small --frames 4]`,
  {
    rows: str,
    sizes: str,
    steps: str,
    rounds: str,
    batch: str,
    frames: str,
    mission: str,
    devices: str,
    device: str,
    threads: str,
    peers: str,
    python: str,
    baseline: str,
    "no-torch": bool,
    "blas-libraries": str,
    child: str,
    "child-threads": str,
    "child-peak": bool,
  },
);
/** Every peer: its script and arguments. */
const PEERS: Record<string, { script: string; args: string[] }> = {
  torch_eager: { script: "torch_train.py", args: ["--mode", "eager"] },
  torch_sdpa: { script: "torch_train.py", args: ["--mode", "sdpa"] },
  torch_compile: { script: "torch_train.py", args: ["--mode", "compile"] },
  jax_jit: { script: "jax_train.py", args: [] },
};
const steps = Number(arg("steps", "6"));
const rounds = Number(arg("rounds", "3"));
/** Batch per size: `base` at 16+ windows exceeds the wasm device's 4 GiB, so it runs at 8 (both engines). */
const batchFor = (size: string) => Number(arg("batch", size === "base" ? "8" : "32"));
let B = 32;
let K = Number(arg("frames", "4"));
const M = Number(arg("mission", "12"));
const devices = arg("devices", arg("device", "blas")).split(",");
const peerNames = flag("no-torch") ? [] : arg("peers", Object.keys(PEERS).join(","))
  .split(",").filter((p) => p && p !== "none");
for (const p of peerNames) {
  if (!PEERS[p]) throw new Error(`--peers: unknown peer '${p}' (${Object.keys(PEERS).join(", ")})`);
}
/** Rows: `size:K` pairs (`--rows`), else every `--sizes` at `--frames`. */
const rows: { size: string; K: number }[] = (arg("rows", "") ||
  (arg("sizes", "") ? arg("sizes", "").split(",").map((z) => `${z}:${K}`).join(",") : "") ||
  "tiny:2,tiny:4,small:2,small:4").split(",").map((r) => {
    const [size, k] = r.split(":");
    if (!size || !(Number(k) >= 1)) throw new Error(`--rows wants size:K pairs, got '${r}'`);
    return { size, K: Number(k) };
  });
const cores = Math.max(1, navigator.hardwareConcurrency || 1);
const threadCounts = arg("threads", cores > 1 ? `${Math.min(cores, 8)},1` : "1").split(",")
  .map(Number);
const blasLibraries = arg("blas-libraries", "used");
if (blasLibraries !== "used" && blasLibraries !== "all") {
  throw new Error(`--blas-libraries must be 'used' or 'all', got '${blasLibraries}'`);
}

/** Process CPU seconds (all threads: the wasm workers are threads of this process). */
function cpuSeconds(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Peak RSS (VmHWM) in MiB. */
function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Analytic FLOPs of one training step (forward x 3 for forward + backward). */
export function trainFlops(cfg: ModelConfig, batch: number): number {
  const L = seqLen(cfg), T = batch * L, D = cfg.dModel, F = cfg.dFF, H = cfg.nHeads, hd = D / H;
  const perLayer = 2 * T * D * 3 * D + 2 * T * D * D + 2 * T * D * 2 * F + 2 * T * F * D +
    2 * (2 * batch * H * L * L * hd);
  const emb = 2 * T * tokRows(cfg) * D;
  const head = 2 * batch * cfg.frames * 51 * D * OUT_COLS;
  return 3 * (cfg.nLayers * perLayer + emb + head);
}

/** 1024x1024 sgemm GFLOP/s of OpenBLAS (best of 10). */
function blasPeak(): number {
  const blas = loadBlas();
  const a = new Float32Array(1024 * 1024).fill(0.001), c = new Float32Array(1024 * 1024);
  let best = Infinity;
  for (let i = 0; i < 13; i++) {
    const t = performance.now();
    blas.sgemm(false, false, 1024, 1024, 1024, 1, a, 0, 1024, a, 0, 1024, 0, c, 0, 1024);
    if (i >= 3) best = Math.min(best, performance.now() - t);
  }
  return (2 * 1024 ** 3) / (best / 1000) / 1e9;
}

async function matmulPeak(): Promise<number> {
  const f = jit((a: np.Array, b: np.Array) => np.matmul(a, b));
  const a = np.array(new Float32Array(1024 * 1024).fill(0.001)).reshape([1024, 1024]);
  const b = np.array(new Float32Array(1024 * 1024).fill(0.001)).reshape([1024, 1024]);
  for (let i = 0; i < 3; i++) await f(a.ref, b.ref).data();
  let best = Infinity;
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await f(a.ref, b.ref).data();
    best = Math.min(best, performance.now() - t);
  }
  a.dispose();
  b.dispose();
  f.dispose();
  return (2 * 1024 ** 3) / (best / 1000) / 1e9;
}

interface DeviceRun {
  times: number[];
  cpu: number;
  wall: number;
}

function benchBatches(cfg: ModelConfig): HostMicroBatch[] {
  return [0, 1, 2].map((i) => {
    const b = syntheticBatch(B, K, M, i);
    b.frameValid.fill(1);
    const m = syntheticMask(b, 0.3, i);
    return { inputs: encodeInputs(cfg, b, m), targets: encodeTargets(b, m, "mean"), K };
  });
}

/** Times optimizer steps of the training engine of `device` (the one `deno task train` uses). */
async function runDevice(device: string, cfg: ModelConfig, nSteps: number): Promise<DeviceRun> {
  const p0 = initHostParams(cfg, 0);
  const engine = makeEngine(device, cfg, BENCH_OPTIM, UNIT_HEAD_WEIGHTS, {
    params: p0,
    m: zeroMoments(p0),
    v: zeroMoments(p0),
  });
  const hostBatches = benchBatches(cfg);
  const times: number[] = [];
  let cpu = 0, wall = 0;
  for (let s = 0; s < nSteps + 2; s++) {
    const c0 = cpuSeconds(), t0 = performance.now();
    await engine.step(s, [hostBatches[s % hostBatches.length]]);
    const dt = performance.now() - t0;
    if (s >= 2) { // the first two steps compile (jax) or allocate buffers, and warm up V8
      times.push(dt);
      cpu += cpuSeconds() - c0;
      wall += dt / 1000;
    }
  }
  engine.dispose();
  return { times, cpu, wall };
}

/** One peer process's figures (bench/torch_train.py, bench/jax_train.py). */
interface PeerRun {
  ms_per_step: number;
  ms_per_step_min: number;
  tokens_per_s: number;
  engine: string;
  params: number;
  cores_used: number;
  first_step_s: number;
}

/** The peers' python: `--python`, else the venv of `deno task setup --peers`, else python3. */
const python = arg("python", "") || peersPython() || "python3";

/** One round of a peer in a fresh Python process. */
async function runPeer(
  peer: string,
  size: string,
  threads: number,
  nSteps: number,
): Promise<PeerRun | { error: string }> {
  const { script, args } = PEERS[peer];
  const path = new URL(`./${script}`, import.meta.url).pathname;
  try {
    const out = await new Deno.Command(python, {
      args: [
        path,
        ...args,
        ...["--size", size, "--batch", String(B), "--frames", String(K), "--mission", String(M)],
        ...["--steps", String(nSteps), "--threads", String(threads)],
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
      return { error: `${script} ${args.join(" ")} failed: ${err} (${peersCommand()})` };
    }
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  } catch (e) {
    return { error: `could not run ${python}: ${(e as Error).message} (deno task setup --peers)` };
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Child mode: the sgemm peak of the BLAS this process loads (BLAS_LIBRARY picks one).
if (flag("child-peak")) {
  const blas = loadBlas();
  console.log(JSON.stringify({ ...blasInfo(blas), sgemm_1024_gflops: +blasPeak().toFixed(1) }));
  Deno.exit(0);
}

// Child mode: one round on one device in a fresh process (fresh 4 GiB wasm memory, honest peak RSS).
const child = arg("child", "");
if (child) {
  const device = devices[0];
  const threads = Number(arg("child-threads", "0"));
  await selectDevice(device);
  if (device === "blas" && threads > 0) loadBlas().setThreads(threads);
  const cfg = resolveModelConfig({ size: child }, { length: K, mission_len: M });
  B = batchFor(child);
  const j = await runDevice(device, cfg, steps);
  const peak = device === "blas" ? blasPeak() : await matmulPeak();
  console.log(JSON.stringify({ ...j, peak_rss_mb: peakRssMb(), matmul_peak_gflops: peak }));
  Deno.exit(0);
}

async function runChild(
  size: string,
  device: string,
  nSteps: number,
  threads: number,
  env: Record<string, string> = {},
  root = "",
): Promise<DeviceRun & { peak_rss_mb: number; matmul_peak_gflops: number }> {
  const self = root ? `${root}/bench/train_speed.ts` : new URL(import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      self,
      ...["--child", size, ...(root ? [] : ["--child-threads", String(threads)])],
      ...["--steps", String(nSteps)],
      ...["--frames", String(K), "--mission", String(M), "--devices", device],
      ...(arg("batch", "") !== "" ? ["--batch", String(B)] : []),
    ],
    // The blas device's helper threads, OpenBLAS's and the jax-js workers: `threads` in all.
    env: {
      ...env,
      BLAS_THREADS: String(threads),
      OPENBLAS_NUM_THREADS: String(threads),
      JAXJS_WORKERS: String(threads),
    },
    cwd: root || undefined,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).split("\n").filter((l) =>
      !l.trim().startsWith("at ")
    ).slice(-4).join(" ");
    throw new Error(`${device} child run for ${size} failed: ${err}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

/** One BLAS per file: the loader's bare name and links to a file listed already are dropped. */
function distinctLibraries(): BlasCandidate[] {
  const seen = new Set<string>();
  const out: BlasCandidate[] = [];
  const all = blasCandidates();
  for (const c of all) {
    if (!c.path.includes("/") && all.some((o) => o.flavour === c.flavour && o.path.includes("/"))) {
      continue;
    }
    let real = c.path;
    try {
      real = Deno.realPathSync(c.path);
    } catch { /* a loader name or a framework served by the OS */ }
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(c);
  }
  return out;
}

/** A library's info and 1024x1024 sgemm peak, measured in a child process that loads only it. */
async function libraryPeak(c: BlasCandidate): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--child-peak"],
    env: { BLAS_LIBRARY: c.path },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
    return { path: c.path, flavour: c.flavour, error: err };
  }
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

const libraries = distinctLibraries();
const usedBlas = (() => {
  try {
    return blasInfo(loadBlas());
  } catch {
    return null;
  }
})();
const peaks: Record<string, unknown>[] = [];
for (const c of libraries) peaks.push(await libraryPeak(c));
console.log(JSON.stringify({
  bench: "blas_libraries",
  used: usedBlas
    ? { path: usedBlas.path, flavour: usedBlas.flavour, version: usedBlas.version }
    : null,
  libraries: peaks.map((p) => ({
    flavour: p.flavour,
    version: p.version ?? null,
    int64: p.int64 ?? null,
    sgemm_1024_gflops: p.sgemm_1024_gflops ?? null,
    ...(p.error ? { error: p.error } : {}),
    path: p.path,
  })),
}));

/** One timed configuration: a device, and for `blas` the library (BLAS_LIBRARY for its children). */
interface Target {
  key: string;
  device: string;
  env: Record<string, string>;
  /** Another checkout whose child runs (`--baseline`), or "" for this one. */
  root?: string;
  library: { path: string; flavour: string; version: string | null } | null;
}
const targets: Target[] = devices.flatMap((d): Target[] => {
  if (d !== "blas") return [{ key: d, device: d, env: {}, library: null }];
  const ok = peaks.filter((p) => !p.error);
  if (blasLibraries === "all" && ok.length > 1) {
    return ok.map((p) => ({
      key: `blas@${p.path}`,
      device: "blas",
      env: { BLAS_LIBRARY: String(p.path) },
      library: {
        path: String(p.path),
        flavour: String(p.flavour),
        version: (p.version as string) ?? null,
      },
    }));
  }
  return [{
    key: "blas",
    device: "blas",
    env: {},
    library: usedBlas
      ? { path: usedBlas.path, flavour: usedBlas.flavour, version: usedBlas.version }
      : null,
  }];
});

const baseline = arg("baseline", "");
if (baseline) {
  const t = targets.find((x) => x.key === "blas");
  if (!t) throw new Error("--baseline needs the blas device in --devices");
  targets.push({ ...t, key: "blas@baseline", root: Deno.realPathSync(baseline) });
}
const peersEnv = peerNames.length ? probePeers(python) : null;
if (peersEnv) console.log(JSON.stringify({ bench: "peers_env", ...peersEnv }));

const loadavg = () => Deno.loadavg?.()[0];
const round1 = (x: number) => +x.toFixed(1);
for (const row of rows) {
  for (const threads of threadCounts) {
    const size = row.size;
    K = row.K;
    const cfg = resolveModelConfig({ size }, { length: K, mission_len: M });
    B = batchFor(size);
    const L = seqLen(cfg);
    const flops = trainFlops(cfg, B);
    const nSteps = size === "base" ? Math.max(2, Math.ceil(steps / 2)) : steps;
    const per = new Map(targets.map((t) => [t.key, {
      times: [] as number[],
      cpu: 0,
      wall: 0,
      peakRss: 0,
      peak: 0,
      error: null as string | null,
    }]));
    const peerRuns = new Map(peerNames.map((p) => [p, [] as PeerRun[]]));
    const peerErrors = new Map<string, string>();
    const loads: number[] = [];
    for (let r = 0; r < rounds; r++) {
      loads.push(loadavg() ?? NaN);
      for (const t of targets) {
        const acc = per.get(t.key)!;
        if (acc.error) continue;
        try {
          const j = await runChild(size, t.device, nSteps, threads, t.env, t.root);
          acc.peakRss = Math.max(acc.peakRss, j.peak_rss_mb);
          acc.peak = Math.max(acc.peak, j.matmul_peak_gflops);
          acc.times.push(...j.times);
          acc.cpu += j.cpu;
          acc.wall += j.wall;
        } catch (e) {
          acc.error = (e as Error).message;
        }
      }
      for (const p of peerNames) {
        if (peerErrors.has(p)) continue;
        const j = await runPeer(p, size, threads, nSteps);
        if ("error" in j) peerErrors.set(p, j.error);
        else peerRuns.get(p)!.push(j);
      }
    }
    // Each peer: the median over rounds of its per-round median, its best step, cores used.
    const peers: Record<string, Record<string, unknown>> = {};
    for (const p of peerNames) {
      const runs = peerRuns.get(p)!;
      if (!runs.length) {
        peers[p] = { error: peerErrors.get(p) ?? "no run" };
        continue;
      }
      const med = median(runs.map((x) => x.ms_per_step));
      peers[p] = {
        engine: runs[0].engine,
        ms_per_step: round1(med),
        ms_per_step_best: round1(Math.min(...runs.map((x) => x.ms_per_step_min))),
        tokens_per_s: Math.round((B * L) / (med / 1000)),
        cores_used: +median(runs.map((x) => x.cores_used)).toFixed(2),
        // CPU time per step (ms/step x cores used): steadier than wall time on a loaded machine
        cpu_ms_per_step: round1(median(runs.map((x) => x.ms_per_step * x.cores_used))),
        first_step_s: +Math.max(...runs.map((x) => x.first_step_s)).toFixed(1),
        rounds: runs.length,
        ...(peerErrors.has(p) ? { error: peerErrors.get(p) } : {}),
      };
    }
    const timed = Object.entries(peers).filter(([, v]) => typeof v.ms_per_step === "number");
    const best = timed.sort((a, b) => Number(a[1].ms_per_step) - Number(b[1].ms_per_step))[0];
    for (const t of targets) {
      const acc = per.get(t.key)!, device = t.device;
      const lib = t.library ? { blas_library: t.library } : {};
      if (acc.error) {
        console.log(JSON.stringify({
          bench: "train_speed",
          device,
          ...lib,
          size,
          frames: K,
          threads,
          error: acc.error,
        }));
        continue;
      }
      const med = median(acc.times), bestStep = Math.min(...acc.times);
      const gflops = flops / (med / 1000) / 1e9;
      const rec: Record<string, unknown> = {
        bench: "train_speed",
        engine: device === "blas"
          ? `blas device (Deno FFI, ${t.library?.flavour ?? "?"} ${t.library?.version ?? ""})`
          : "@jax-js/jax 0.1.25",
        device: t.key === "blas@baseline" ? t.key : device,
        ...(t.root ? { baseline: t.root } : {}),
        ...lib,
        size,
        frames: K,
        threads,
        params: paramCount(cfg),
        batch: B,
        seq: L,
        steps_timed: acc.times.length,
        ms_per_step: round1(med),
        ms_per_step_best: round1(bestStep),
        tokens_per_s: Math.round((B * L) / (med / 1000)),
        tokens_per_s_best: Math.round((B * L) / (bestStep / 1000)),
        cores_used: +(acc.cpu / acc.wall).toFixed(2),
        cpu_ms_per_step: round1((1000 * acc.cpu) / acc.times.length),
        gflop_per_step: +(flops / 1e9).toFixed(3),
        gflops: +gflops.toFixed(2),
        matmul_peak_gflops: round1(acc.peak),
        frac_of_matmul_peak: +(gflops / acc.peak).toFixed(3),
        peak_rss_mb: Math.round(acc.peakRss),
        loadavg_1m: loads.map((x) => +x.toFixed(2)),
      };
      if (peerNames.length) {
        rec.peers = peers;
        if (best) {
          rec.best_peer = best[0];
          rec.ratio_vs_best_peer = +(Number(best[1].ms_per_step) / med).toFixed(3);
          rec.ratio_vs_best_peer_best = +(Number(best[1].ms_per_step_best) / bestStep).toFixed(3);
          rec.ratio_vs_best_peer_cpu = +(
            Number(best[1].cpu_ms_per_step) / ((1000 * acc.cpu) / acc.times.length)
          ).toFixed(3);
        }
        if (peers.torch_eager?.ms_per_step) {
          rec.ratio_vs_torch = +(Number(peers.torch_eager.ms_per_step) / med).toFixed(3);
        }
        if (peersEnv) rec.peers_env = peersEnv;
      }
      const base = per.get("blas@baseline");
      if (t.key === "blas" && base && base.times.length) {
        rec.baseline_ms_per_step = round1(median(base.times));
        rec.ratio_vs_baseline = +(median(base.times) / med).toFixed(3);
        rec.baseline_cpu_ms_per_step = round1((1000 * base.cpu) / base.times.length);
      }
      console.log(JSON.stringify(rec));
    }
  }
}
Deno.exit(0);
