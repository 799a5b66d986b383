/**
 * The same transformer and loss as lib/model/transformer.ts + lib/train/loss.ts,
 * with a hand-written backward pass on host Float32Arrays: the projections, MLP and
 * head matmuls go to OpenBLAS (lib/model/blas.ts, all cores); attention (scores,
 * softmax and P v per head, fused), SwiGLU, RMSNorm and the embedding run in the C
 * kernels of lib/model/native_kernels.c, built on first use with the machine's
 * compiler (lib/model/native_c.ts), or else in the JavaScript loops of
 * lib/model/native_kernels.ts (per-head OpenBLAS calls for attention); the loss is a
 * plain loop. The attention and SwiGLU loops are split over helper threads
 * (native_worker.ts). This is the `blas` training device, the fastest on CPU
 * (`deno task bench:train` measures it against PyTorch 2 and JAX; docs/speed.md).
 *
 * The jax-js model stays the reference: tests/native_test.ts checks that loss,
 * per-head statistics and every gradient here equal `valueAndGrad(lossFn)` on
 * the wasm device to float32 tolerance.
 *
 * Activations of the forward pass are kept per layer for the backward pass, in
 * buffers allocated once per batch size and reused every step. A model built
 * with `forwardOnly` (evaluation and rollouts, lib/model/native_predict.ts)
 * keeps one layer's buffers, reused by every layer and by any batch up to the
 * largest seen, and runs forward-only attention and SwiGLU kernels.
 *
 * @module
 */

import { CELLS, SLOTS_PER_FRAME } from "../data/types.ts";
import type { HeadWeights } from "../config/schema.ts";
import type { HostTargets } from "../data/types.ts";
import { type Blas, loadBlas } from "./blas.ts";
import {
  attentionBackward,
  attentionForward,
  attentionInfer,
  type AttnDims,
  fexp,
  rmsNorm,
  rmsNormBack,
  swigluBackward,
  swigluForward,
  swigluInfer,
} from "./native_kernels.ts";
import {
  ARCH_VERSION,
  HEAD_COLS,
  type ModelConfig,
  OUT_COLS,
  positionIndex,
  seqLen,
  tokRows,
} from "./model_config.ts";
import { type HostInputs } from "./transformer.ts";
import { type CKernels, loadCKernels } from "./native_c.ts";
import { defaultThreads, Helpers, sab, shared } from "./native_threads.ts";
import { checkHostMemory, workspaceLayout } from "./native_memory.ts";

/**
 * The model architecture this file implements (lib/model/model_config.ts `ARCH_VERSION`, whose
 * reference is the jax-js forward pass). Bump it only together with the port of a change and
 * with tests/native_test.ts's equality tests passing.
 */
export const NATIVE_ARCH_VERSION = 1;

/** Parameters (or gradients, or moments) by dotted name, as flat float32 arrays. */
export type NamedArrays = Record<string, Float32Array>;

/** Head layout of the loss: output columns, and where targets/masks live. */
const LOSS_HEADS = [
  { key: "obj", cols: HEAD_COLS.obj, attr: 0 },
  { key: "color", cols: HEAD_COLS.color, attr: 1 },
  { key: "state", cols: HEAD_COLS.state, attr: 2 },
  { key: "dir", cols: HEAD_COLS.dir, attr: -1 },
  { key: "action", cols: HEAD_COLS.action, attr: -1 },
] as const;

/** Names of the split loops in a profile (`opts.profile`). */
const PHASES: Record<string, string> = {
  attnF: "attention forward: per-head matmuls + softmax (split over threads)",
  attnB: "attention backward: per-head matmuls + softmax gradient (split over threads)",
  swiF: "SwiGLU forward (split over threads)",
  swiB: "SwiGLU backward (split over threads)",
  attnI: "attention forward-only: per-head matmuls + softmax (split over threads)",
  swiI: "SwiGLU forward-only (split over threads)",
  attnR: "attention forward-only, decision rows (split over threads)",
};

/**
 * Activation and scratch buffers of one batch size, named and sized by
 * {@link workspaceLayout}: `xs` (residual stream before each block and after the
 * last), per-layer arrays, and single buffers.
 */
type Layout = ReturnType<typeof workspaceLayout>;
export type Workspace =
  & { B: number; xs: Float32Array[] }
  & { [k in keyof Layout["perLayer"]]: Float32Array[] }
  & { [k in keyof Layout["once"]]: Float32Array };

/** Result of one forward (+ backward) pass. */
export interface NativeLoss {
  /** The training loss of the batch. */
  loss: number;
  /** Per head (obj, color, state, dir, action): [sum CE over hidden slots, sum correct], flat [10]. */
  aux: Float64Array;
}

/** The model on host arrays with an OpenBLAS backward pass. */
export class NativeModel {
  readonly cfg: ModelConfig;
  readonly weights: HeadWeights;
  readonly blas: Blas;
  /** Threads used: this one plus the helpers. */
  readonly threads: number;
  private posIdx: Int32Array;
  private ws: Workspace | null = null;
  private helpers: Helpers | null;
  private dP: Float32Array = new Float32Array(0);
  private blasThreads: number;
  private prof: Record<string, number> | null;
  private inParallel = false;
  /** Forward only (no backward buffers kept; see the module comment). */
  readonly forwardOnly: boolean;
  private scratch: Float32Array = new Float32Array(0);
  /** The fused C kernels (lib/model/native_c.ts), or null: the JavaScript kernels. */
  readonly kernels: CKernels | null;

  /**
   * `threads` (default {@link defaultThreads}): the attention and SwiGLU loops are
   * split over this many threads (helpers are Web Workers); the large matmuls
   * use OpenBLAS's own threads. `forwardOnly`: logits only ({@link NativeModel.logits};
   * `run` throws), with one layer's buffers and forward-only kernels.
   */
  constructor(
    cfg: ModelConfig,
    weights: HeadWeights,
    opts: {
      blas?: Blas;
      threads?: number;
      profile?: Record<string, number>;
      forwardOnly?: boolean;
      kernels?: "c" | "js";
    } = {},
  ) {
    if (NATIVE_ARCH_VERSION !== ARCH_VERSION) {
      throw new Error(
        `the blas device implements model architecture ${NATIVE_ARCH_VERSION}, the jax-js model ` +
          `(lib/model/transformer.ts) is at ${ARCH_VERSION}: port the change to ` +
          `lib/model/native.ts and native_kernels.ts, then bump NATIVE_ARCH_VERSION (the ` +
          `equality tests in tests/native_test.ts must pass), or train on train.device: wasm`,
      );
    }
    this.cfg = cfg;
    this.forwardOnly = opts.forwardOnly ?? false;
    this.weights = weights;
    this.prof = opts.profile ?? null;
    this.blas = this.prof
      ? this.timed(opts.blas ?? loadBlas(), this.prof)
      : opts.blas ?? loadBlas();
    this.posIdx = positionIndex(cfg);
    // Before the helpers start: they load the library this thread built.
    this.kernels = opts.kernels === "js" ? null : loadCKernels();
    if (opts.kernels === "c" && !this.kernels) {
      throw new Error("NativeModel: the C kernels do not load here (lib/model/native_c.ts)");
    }
    this.threads = Math.max(1, opts.threads ?? defaultThreads());
    this.helpers = this.threads > 1 ? new Helpers(this.threads - 1) : null;
    this.blasThreads = this.blas.threads();
  }

  /** RMSNorm of `rows` rows (the C kernel where loaded). */
  private norm(
    x: Float32Array,
    g: Float32Array,
    y: Float32Array,
    rstd: Float32Array,
    rows: number,
    D: number,
  ): void {
    if (this.kernels) this.kernels.rmsNorm(x, g, y, rstd, rows, D);
    else rmsNorm(x, g, y, rstd, rows, D);
  }

  /** RMSNorm backward (the C kernel where loaded). */
  private normBack(
    x: Float32Array,
    rstd: Float32Array,
    g: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dg: Float32Array,
    rows: number,
    D: number,
  ): void {
    if (this.kernels) this.kernels.rmsNormBack(x, rstd, g, dy, dx, dg, rows, D);
    else rmsNormBack(x, rstd, g, dy, dx, dg, rows, D);
  }

  /** Stop the helper threads and release the activation buffers. */
  dispose(): void {
    this.ws = null;
    this.helpers?.terminate();
    this.helpers = null;
  }

  /** `blas` with the time of the matmuls outside the split loops added to `prof` (profiling). */
  private timed(blas: Blas, prof: Record<string, number>): Blas {
    const key = "matmul: projections, MLP, head (OpenBLAS threads)";
    return {
      ...blas,
      sgemm: (...a: Parameters<Blas["sgemm"]>) => {
        const t0 = performance.now();
        blas.sgemm(...a);
        if (!this.inParallel) prof[key] = (prof[key] ?? 0) + performance.now() - t0;
      },
    };
  }

  /**
   * Run `fn(lo, hi)` over [0, n) split into contiguous ranges, one per thread:
   * this thread takes the first range and helpers the rest. While helpers run,
   * OpenBLAS is set to one thread per caller (each thread issues its own calls).
   */
  private async parallel(
    n: number,
    local: (lo: number, hi: number) => void,
    task: Record<string, unknown>,
  ): Promise<void> {
    const t0 = performance.now();
    this.inParallel = true;
    try {
      await this.split(n, local, task);
    } finally {
      this.inParallel = false;
      if (this.prof) {
        const key = PHASES[String(task.op)] ?? String(task.op);
        this.prof[key] = (this.prof[key] ?? 0) + performance.now() - t0;
      }
    }
  }

  private async split(
    n: number,
    local: (lo: number, hi: number) => void,
    task: Record<string, unknown>,
  ): Promise<void> {
    const h = this.helpers;
    if (!h || n < 2) return local(0, n);
    const parts = Math.min(n, h.count + 1);
    const cut = (i: number) => Math.floor((i * n) / parts);
    const blasSingle = this.blasThreads > 1;
    if (blasSingle) this.blas.setThreads(1);
    try {
      const remote: Promise<void>[] = [];
      for (let i = 1; i < parts; i++) {
        remote.push(h.run(i - 1, { ...task, lo: cut(i), hi: cut(i + 1) }));
      }
      local(0, cut(1));
      await Promise.all(remote);
    } finally {
      if (blasSingle) this.blas.setThreads(this.blasThreads);
    }
  }

  private workspace(B: number): Workspace {
    // Training: exactly B windows (the loss reads ws.B). Forward only: any B up to the capacity.
    if (this.ws && (this.ws.B === B || (this.forwardOnly && this.ws.B > B))) return this.ws;
    this.ws = null; // let the old buffers go before allocating new ones
    checkHostMemory(this.cfg, B, this.forwardOnly);
    const { residual, perLayer, once } = workspaceLayout(this.cfg, B, this.forwardOnly);
    const nl = this.cfg.nLayers;
    // Forward only: two residual buffers in turn, and one buffer per name shared by every layer.
    const xs = this.forwardOnly ? [shared(residual), shared(residual)] : [];
    const buffers: Record<string, Float32Array | Float32Array[]> = {
      xs: Array.from({ length: nl + 1 }, (_, l) => xs[l & 1] ?? shared(residual)),
    };
    for (const [k, n] of Object.entries(perLayer)) {
      const one = this.forwardOnly ? shared(n) : null;
      buffers[k] = Array.from({ length: nl }, () => one ?? shared(n));
    }
    for (const [k, n] of Object.entries(once)) buffers[k] = shared(n);
    this.ws = { B, ...buffers } as unknown as Workspace;
    return this.ws;
  }

  /**
   * Loss and per-head statistics of a batch; with `grads`, also adds the
   * gradient of the loss to `grads` (same names as the parameters; the caller
   * zeroes them). Does not modify `params`.
   */
  async run(
    params: NamedArrays,
    inputs: HostInputs,
    targets: HostTargets,
    grads: NamedArrays | null,
  ): Promise<NativeLoss> {
    if (this.forwardOnly) {
      throw new Error("NativeModel.run: this model was built forwardOnly (logits only)");
    }
    const ws = this.workspace(inputs.B);
    await this.forward(params, inputs, ws);
    const out = this.loss(targets, ws, grads !== null);
    if (grads) await this.backward(params, inputs, ws, grads);
    return out;
  }

  /**
   * Logits [B, K, 51, 32] of a batch, written to `out` at element `offset` (default: a new
   * array). Does not modify `params`.
   */
  async logits(
    params: NamedArrays,
    inputs: HostInputs,
    out?: Float32Array,
    offset = 0,
  ): Promise<Float32Array> {
    const ws = this.workspace(inputs.B);
    await this.forward(params, inputs, ws);
    const R = inputs.B * this.cfg.frames * SLOTS_PER_FRAME * OUT_COLS;
    if (!out) return ws.logits.slice(0, R);
    out.set(ws.logits.subarray(0, R), offset);
    return out;
  }

  /**
   * Action logits of each window's last frame, [B, ACTION_VOCAB] (a policy's decision),
   * computing only what they need: the last layer's attention for that one query row per
   * window (all keys), and its MLP, final norm and head for that row alone. Equal to the
   * action slot of {@link NativeModel.logits} to float32 rounding. Does not modify `params`.
   */
  async actionLogits(params: NamedArrays, inputs: HostInputs): Promise<Float32Array> {
    const { dModel: D, nLayers: nl, nHeads: H, dFF: F, frames: K, missionLen: M } = this.cfg;
    const B = inputs.B, L = seqLen(this.cfg), N = B * L, S = SLOTS_PER_FRAME, F2 = 2 * F;
    const ws = this.workspace(B);
    await this.forward(params, inputs, ws, nl - 1);
    const l = nl - 1, pre = `blocks.${l}.`, p = params, blas = this.blas, ck = this.kernels;
    const x = ws.xs[l], h1 = ws.h1[l], qkv = ws.qkv[l], O = ws.O[l];
    this.norm(x, p[pre + "ln1"], h1, ws.rstd1[l], N, D);
    blas.sgemm(false, false, N, 3 * D, D, 1, h1, 0, D, p[pre + "wqkv"], 0, 3 * D, 0, qkv, 0, 3 * D);
    const ia = M + (K - 1) * S + S - 1; // the last frame's action slot
    const dims: AttnDims = { L, D, H };
    if (ck) {
      await this.parallel(
        B,
        (lo, hi) => ck.attnRows(qkv, O, ws.bias, L, D, H, lo, hi, ia, ia + 1),
        { op: "attnR", c: true, dims, qkv: sab(qkv), O: sab(O), bias: sab(ws.bias), i: ia },
      );
    } else {
      if (this.scratch.length < L * L + L) this.scratch = new Float32Array(L * L + L);
      const sc = this.scratch;
      await this.parallel(
        B,
        (lo, hi) => attentionInfer(blas, dims, qkv, sc, O, ws.bias, lo, hi),
        { op: "attnI", dims, qkv: sab(qkv), O: sab(O), bias: sab(ws.bias) },
      );
    }
    // The B rows the decision reads: residual, attention output; then the block's MLP on them.
    const xs = new Float32Array(B * D), os = new Float32Array(B * D);
    for (let b = 0; b < B; b++) {
      const r = (b * L + ia) * D;
      xs.set(x.subarray(r, r + D), b * D);
      os.set(O.subarray(r, r + D), b * D);
    }
    blas.sgemm(false, false, B, D, D, 1, os, 0, D, p[pre + "wo"], 0, D, 1, xs, 0, D);
    const h2 = new Float32Array(B * D), rstd = new Float32Array(B), gu = new Float32Array(B * F2);
    this.norm(xs, p[pre + "ln2"], h2, rstd, B, D);
    blas.sgemm(false, false, B, F2, D, 1, h2, 0, D, p[pre + "w13"], 0, F2, 0, gu, 0, F2);
    if (ck) ck.swigluInfer(gu, F, 0, B);
    else swigluInfer(gu, F, 0, B);
    blas.sgemm(false, false, B, D, F, 1, gu, 0, F2, p[pre + "w2"], 0, D, 1, xs, 0, D);
    this.norm(xs, p.lnf, h2, rstd, B, D);
    const lg = new Float32Array(B * OUT_COLS);
    blas.sgemm(false, false, B, OUT_COLS, D, 1, h2, 0, D, p.head, 0, OUT_COLS, 0, lg, 0, OUT_COLS);
    const [a0, a1] = HEAD_COLS.action, out = new Float32Array(B * (a1 - a0));
    for (let b = 0; b < B; b++) {
      out.set(lg.subarray(b * OUT_COLS + a0, b * OUT_COLS + a1), b * (a1 - a0));
    }
    return out;
  }

  /** The forward pass through the first `layers` blocks; with all of them, norm and head too. */
  private async forward(
    p: NamedArrays,
    inp: HostInputs,
    ws: Workspace,
    layers = this.cfg.nLayers,
  ): Promise<void> {
    const { dModel: D, nLayers: nl, nHeads: H, dFF: F, frames: K, missionLen: M } = this.cfg;
    const B = inp.B, L = seqLen(this.cfg), N = B * L, S = SLOTS_PER_FRAME;
    const D3 = 3 * D, F2 = 2 * F, dims: AttnDims = { L, D, H };
    const blas = this.blas;
    checkRows(inp.tok, tokRows(this.cfg), "token");
    // Embedding: sum of token rows + sum of position rows.
    const x0 = ws.xs[0], tok = p.tok, pos = p.pos, ti = inp.tok, pi = this.posIdx;
    if (this.kernels) this.kernels.embedFwd(tok, pos, ti, pi, x0, B, L, D);
    else {
      for (let b = 0; b < B; b++) {
        for (let l = 0; l < L; l++) {
          const n = b * L + l, o = n * D;
          for (let i = 0; i < D; i++) x0[o + i] = 0;
          for (let j = 0; j < 3; j++) {
            const r = ti[n * 3 + j];
            if (r >= 0) { for (let i = 0, ro = r * D; i < D; i++) x0[o + i] += tok[ro + i]; }
          }
          for (let j = 0; j < 3; j++) {
            const r = pi[l * 3 + j];
            if (r >= 0) { for (let i = 0, ro = r * D; i < D; i++) x0[o + i] += pos[ro + i]; }
          }
        }
      }
    }
    const bias = ws.bias;
    for (let n = 0; n < N; n++) bias[n] = (inp.keyValid[n] - 1) * 1e9;
    for (let l = 0; l < layers; l++) {
      const pre = `blocks.${l}.`;
      const x = ws.xs[l], h1 = ws.h1[l], qkv = ws.qkv[l], P = ws.P[l], O = ws.O[l];
      this.norm(x, p[pre + "ln1"], h1, ws.rstd1[l], N, D);
      blas.sgemm(false, false, N, D3, D, 1, h1, 0, D, p[pre + "wqkv"], 0, D3, 0, qkv, 0, D3);
      const ck = this.kernels, c = ck !== null;
      if (ck) {
        const keep = this.forwardOnly ? null : P;
        await this.parallel(
          B,
          (lo, hi) => ck.attnFwd(qkv, keep, O, ws.bias, L, D, H, lo, hi),
          {
            op: this.forwardOnly ? "attnI" : "attnF",
            c,
            dims,
            qkv: sab(qkv),
            P: keep ? sab(keep) : null,
            O: sab(O),
            bias: sab(ws.bias),
          },
        );
      } else if (this.forwardOnly) {
        if (this.scratch.length < L * L + L) this.scratch = new Float32Array(L * L + L);
        const sc = this.scratch;
        await this.parallel(
          B,
          (lo, hi) => attentionInfer(blas, dims, qkv, sc, O, ws.bias, lo, hi),
          { op: "attnI", dims, qkv: sab(qkv), O: sab(O), bias: sab(ws.bias) },
        );
      } else {
        await this.parallel(
          B,
          (lo, hi) => attentionForward(blas, dims, qkv, P, O, ws.bias, lo, hi),
          { op: "attnF", dims, qkv: sab(qkv), P: sab(P), O: sab(O), bias: sab(ws.bias) },
        );
      }
      const x1 = ws.x1[l];
      x1.set(this.forwardOnly ? x.subarray(0, N * D) : x);
      blas.sgemm(false, false, N, D, D, 1, O, 0, D, p[pre + "wo"], 0, D, 1, x1, 0, D);
      const h2 = ws.h2[l], gu = ws.gu[l], sig = ws.sig[l], act = ws.act[l];
      this.norm(x1, p[pre + "ln2"], h2, ws.rstd2[l], N, D);
      blas.sgemm(false, false, N, F2, D, 1, h2, 0, D, p[pre + "w13"], 0, F2, 0, gu, 0, F2);
      const xo = ws.xs[l + 1];
      if (this.forwardOnly) { // the activation overwrites the gate half of gu (row stride 2F)
        await this.parallel(
          N,
          (lo, hi) => ck ? ck.swigluInfer(gu, F, lo, hi) : swigluInfer(gu, F, lo, hi),
          { op: "swiI", c, gu: sab(gu), F },
        );
        xo.set(x1.subarray(0, N * D));
        blas.sgemm(false, false, N, D, F, 1, gu, 0, F2, p[pre + "w2"], 0, D, 1, xo, 0, D);
        continue;
      }
      await this.parallel(
        N,
        (lo, hi) =>
          ck ? ck.swigluFwd(gu, sig, act, F, lo, hi) : swigluForward(gu, sig, act, F, lo, hi),
        { op: "swiF", c, gu: sab(gu), sig: sab(sig), act: sab(act), F },
      );
      xo.set(x1);
      blas.sgemm(false, false, N, D, F, 1, act, 0, F, p[pre + "w2"], 0, D, 1, xo, 0, D);
    }
    if (layers < nl) return;
    // Final norm over frame positions (mission positions have no outputs), then the head.
    const xL = ws.xs[nl], hf = ws.hf, lnf = p.lnf, rstdf = ws.rstdf;
    const FS = K * S;
    for (let b = 0; b < B; b++) {
      this.norm(
        xL.subarray((b * L + M) * D, (b + 1) * L * D),
        lnf,
        hf.subarray(b * FS * D, (b + 1) * FS * D),
        rstdf.subarray(b * FS, (b + 1) * FS),
        FS,
        D,
      );
    }
    blas.sgemm(
      false,
      false,
      B * FS,
      OUT_COLS,
      D,
      1,
      hf,
      0,
      D,
      p.head,
      0,
      OUT_COLS,
      0,
      ws.logits,
      0,
      OUT_COLS,
    );
  }

  private loss(t: HostTargets, ws: Workspace, withGrad: boolean): NativeLoss {
    const { frames: K } = this.cfg;
    const S = SLOTS_PER_FRAME, B = ws.B, R = B * K * S;
    const lg = ws.logits, dl = ws.dlogits, W = this.weights;
    const aux = new Float64Array(10);
    let loss = 0;
    if (withGrad) dl.fill(0);
    for (let r = 0; r < R; r++) {
      const f = Math.floor(r / S), s = r - f * S, b = Math.floor(f / K);
      for (let hIdx = 0; hIdx < 5; hIdx++) {
        const head = LOSS_HEADS[hIdx];
        let tgt: number, m: number;
        if (head.attr >= 0) {
          if (s >= CELLS) continue;
          const i = (f * CELLS + s) * 3 + head.attr;
          tgt = t.cells[i];
          m = t.mCells[i];
        } else if (hIdx === 3) {
          if (s !== CELLS) continue;
          tgt = t.dirs[f];
          m = t.mDirs[f];
        } else {
          if (s !== CELLS + 1) continue;
          tgt = t.actions[f];
          m = t.mActions[f];
        }
        if (m === 0) continue; // contributes 0 to loss, statistics and gradient
        const lo = r * OUT_COLS + head.cols[0], V = head.cols[1] - head.cols[0];
        let mx = -Infinity, arg = 0;
        for (let c = 0; c < V; c++) if (lg[lo + c] > mx) (mx = lg[lo + c], arg = c);
        let z = 0;
        for (let c = 0; c < V; c++) z += fexp(lg[lo + c] - mx);
        const lse = mx + Math.log(z);
        const picked = tgt >= 0 && tgt < V ? lg[lo + tgt] : 0;
        const ce = lse - picked;
        aux[hIdx * 2] += ce * m;
        aux[hIdx * 2 + 1] += (arg === tgt ? 1 : 0) * m;
        const w = W[head.key] * m * t.winW[b * 5 + hIdx]; // (window, head) factor
        loss += w * ce;
        if (withGrad && w !== 0) {
          const inv = 1 / z;
          for (let c = 0; c < V; c++) {
            dl[lo + c] = w * (fexp(lg[lo + c] - mx) * inv - (c === tgt ? 1 : 0));
          }
        }
      }
    }
    return { loss, aux };
  }

  private async backward(
    p: NamedArrays,
    inp: HostInputs,
    ws: Workspace,
    g: NamedArrays,
  ): Promise<void> {
    const { dModel: D, nLayers: nl, nHeads: H, dFF: F, frames: K, missionLen: M } = this.cfg;
    const B = inp.B, L = seqLen(this.cfg), N = B * L, S = SLOTS_PER_FRAME, FS = K * S;
    const D3 = 3 * D, F2 = 2 * F, dims: AttnDims = { L, D, H };
    const blas = this.blas, ck = this.kernels, c = ck !== null;
    if (!ck && this.dP.length < L * L) this.dP = new Float32Array(L * L);
    const dP = this.dP;
    // Head and final norm.
    blas.sgemm(
      true,
      false,
      D,
      OUT_COLS,
      B * FS,
      1,
      ws.hf,
      0,
      D,
      ws.dlogits,
      0,
      OUT_COLS,
      1,
      g.head,
      0,
      OUT_COLS,
    );
    blas.sgemm(
      false,
      true,
      B * FS,
      D,
      OUT_COLS,
      1,
      ws.dlogits,
      0,
      OUT_COLS,
      p.head,
      0,
      OUT_COLS,
      0,
      ws.dhf,
      0,
      D,
    );
    let dx = ws.dxA, dxNext = ws.dxB;
    dx.fill(0);
    const xL = ws.xs[nl];
    for (let b = 0; b < B; b++) {
      this.normBack(
        xL.subarray((b * L + M) * D, (b + 1) * L * D),
        ws.rstdf.subarray(b * FS, (b + 1) * FS),
        p.lnf,
        ws.dhf.subarray(b * FS * D, (b + 1) * FS * D),
        dx.subarray((b * L + M) * D, (b + 1) * L * D),
        g.lnf,
        FS,
        D,
      );
    }
    for (let l = nl - 1; l >= 0; l--) {
      const pre = `blocks.${l}.`;
      // MLP: x_out = x1 + act @ w2.
      const act = ws.act[l], sig = ws.sig[l], gu = ws.gu[l], dact = ws.dact, dgu = ws.dgu;
      blas.sgemm(true, false, F, D, N, 1, act, 0, F, dx, 0, D, 1, g[pre + "w2"], 0, D);
      blas.sgemm(false, true, N, F, D, 1, dx, 0, D, p[pre + "w2"], 0, D, 0, dact, 0, F);
      await this.parallel(
        N,
        (lo, hi) =>
          ck
            ? ck.swigluBwd(gu, sig, dact, dgu, F, lo, hi)
            : swigluBackward(gu, sig, dact, dgu, F, lo, hi),
        { op: "swiB", c, gu: sab(gu), sig: sab(sig), dact: sab(dact), dgu: sab(dgu), F },
      );
      blas.sgemm(true, false, D, F2, N, 1, ws.h2[l], 0, D, dgu, 0, F2, 1, g[pre + "w13"], 0, F2);
      blas.sgemm(false, true, N, D, F2, 1, dgu, 0, F2, p[pre + "w13"], 0, F2, 0, ws.dh, 0, D);
      // dx1 = dx + norm backward (in place into dx).
      this.normBack(ws.x1[l], ws.rstd2[l], p[pre + "ln2"], ws.dh, dx, g[pre + "ln2"], N, D);
      // Attention: x1 = x + O @ wo.
      const O = ws.O[l], P = ws.P[l], qkv = ws.qkv[l], dO = ws.dO, dqkv = ws.dqkv;
      blas.sgemm(true, false, D, D, N, 1, O, 0, D, dx, 0, D, 1, g[pre + "wo"], 0, D);
      blas.sgemm(false, true, N, D, D, 1, dx, 0, D, p[pre + "wo"], 0, D, 0, dO, 0, D);
      await this.parallel(
        B,
        (lo, hi) =>
          ck
            ? ck.attnBwd(qkv, P, dO, dqkv, L, D, H, lo, hi)
            : attentionBackward(blas, dims, qkv, P, dO, dqkv, dP, lo, hi),
        { op: "attnB", c, dims, qkv: sab(qkv), P: sab(P), dO: sab(dO), dqkv: sab(dqkv) },
      );
      blas.sgemm(true, false, D, D3, N, 1, ws.h1[l], 0, D, dqkv, 0, D3, 1, g[pre + "wqkv"], 0, D3);
      blas.sgemm(false, true, N, D, D3, 1, dqkv, 0, D3, p[pre + "wqkv"], 0, D3, 0, ws.dh, 0, D);
      dxNext.set(dx);
      this.normBack(ws.xs[l], ws.rstd1[l], p[pre + "ln1"], ws.dh, dxNext, g[pre + "ln1"], N, D);
      [dx, dxNext] = [dxNext, dx];
    }
    // Embeddings: scatter-add into the rows each position summed.
    const gt = g.tok, gp = g.pos, ti = inp.tok, pi = this.posIdx;
    if (this.kernels) return this.kernels.embedBwd(dx, ti, pi, gt, gp, B, L, D);
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        const n = b * L + l, o = n * D;
        for (let j = 0; j < 3; j++) {
          const r = ti[n * 3 + j];
          if (r >= 0) { for (let i = 0, ro = r * D; i < D; i++) gt[ro + i] += dx[o + i]; }
          const q = pi[l * 3 + j];
          if (q >= 0) { for (let i = 0, ro = q * D; i < D; i++) gp[ro + i] += dx[o + i]; }
        }
      }
    }
  }
}

function checkRows(idx: Int32Array, rows: number, what: string): void {
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] >= rows) {
      throw new Error(`${what} row ${idx[i]} is outside the embedding table (${rows} rows)`);
    }
  }
}

export function zerosLike(like: NamedArrays): NamedArrays {
  const out: NamedArrays = {};
  for (const [k, v] of Object.entries(like)) out[k] = new Float32Array(v.length);
  return out;
}
