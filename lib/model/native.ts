/**
 * The same transformer and loss as lib/model/transformer.ts + lib/train/loss.ts,
 * with a hand-written backward pass on host Float32Arrays: the projections, MLP and
 * head matmuls go to OpenBLAS (lib/model/blas.ts, all cores); attention (scores,
 * softmax and P v per head, fused), SwiGLU, RMSNorm and the embedding run in the C
 * kernels of lib/model/native_kernels.c, built on first use with the machine's
 * compiler (lib/model/native_c.ts), or else in the JavaScript loops of
 * lib/model/native_kernels.ts (per-head OpenBLAS calls for attention); the loss is a
 * plain loop. The attention and SwiGLU loops are split over helper threads
 * (native_worker.ts). Each layer (embedding, RMSNorm, attention, SwiGLU, head and loss) is a
 * forward/backward pair in its own module under lib/model/blas/, with its own gradient test
 * against the jax-js layer (tests/blas_layers_test.ts); NativeModel here owns the activation
 * buffers and the threads and runs the layers in order. This is the `blas` training device,
 * the fastest on CPU (`deno task bench:train` measures it against PyTorch 2 and JAX;
 * docs/speed.md).
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

import { SLOTS_PER_FRAME } from "../data/types.ts";
import type { HeadWeights } from "../config/schema.ts";
import type { HostTargets } from "../data/types.ts";
import { type Blas, loadBlas } from "./blas.ts";
import type { AttnDims } from "./native_kernels.ts";
import {
  ARCH_VERSION,
  HEAD_COLS,
  type ModelConfig,
  OUT_COLS,
  positionIndex,
  seqLen,
} from "./model_config.ts";
import { type HostInputs } from "./transformer.ts";
import { type CKernels, loadCKernels } from "./native_c.ts";
import { defaultThreads, Helpers, shared } from "./native_threads.ts";
import { checkHostMemory, workspaceLayout } from "./native_memory.ts";
import { type LayerContext, type NamedArrays, type RangeFn, singleThread } from "./blas/context.ts";
import * as embed from "./blas/embed.ts";
import * as rmsnorm from "./blas/rmsnorm.ts";
import * as attention from "./blas/attention.ts";
import * as swiglu from "./blas/swiglu.ts";
import * as head from "./blas/head.ts";

export type { NamedArrays } from "./blas/context.ts";
export type { NativeLoss } from "./blas/head.ts";

/**
 * The model architecture this file implements (lib/model/model_config.ts `ARCH_VERSION`, whose
 * reference is the jax-js forward pass). Bump it only together with the port of a change and
 * with tests/native_test.ts's equality tests passing.
 */
export const NATIVE_ARCH_VERSION = 1;

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

/** The weights (or gradients) of block `l` by their short names. */
function block(a: NamedArrays, l: number) {
  const pre = `blocks.${l}.`;
  return {
    ln1: a[pre + "ln1"],
    wqkv: a[pre + "wqkv"],
    wo: a[pre + "wo"],
    ln2: a[pre + "ln2"],
    w13: a[pre + "w13"],
    w2: a[pre + "w2"],
  };
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
  private blasThreads: number;
  private prof: Record<string, number> | null;
  private inParallel = false;
  /** Forward only (no backward buffers kept; see the module comment). */
  readonly forwardOnly: boolean;
  /** The fused C kernels (lib/model/native_c.ts), or null: the JavaScript kernels. */
  readonly kernels: CKernels | null;
  /** What the layers run on: loops split over the helper threads. */
  private ctx: LayerContext;
  /** The same on this thread alone (the few rows of a decision). */
  private serial: LayerContext;

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
          `(lib/model/transformer.ts) is at ${ARCH_VERSION}: port the change to the layers of ` +
          `lib/model/blas/ (and native_kernels.ts), then bump NATIVE_ARCH_VERSION (the ` +
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
    this.serial = singleThread(this.blas, this.kernels);
    this.ctx = {
      blas: this.blas,
      kernels: this.kernels,
      parallel: (n, local, task) => this.parallel(n, local, task),
      scratch: this.serial.scratch,
    };
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
  private async parallel(n: number, local: RangeFn, task: Record<string, unknown>): Promise<void> {
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

  private async split(n: number, local: RangeFn, task: Record<string, unknown>): Promise<void> {
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

  /** Layer l's attention activations (no probabilities kept when forward only). */
  private attnBuffers(ws: Workspace, l: number): attention.AttentionBuffers {
    const P = this.forwardOnly ? null : ws.P[l];
    return { h: ws.h1[l], qkv: ws.qkv[l], P, O: ws.O[l] };
  }

  /** Layer l's SwiGLU activations (none kept but gu when forward only). */
  private mlpBuffers(ws: Workspace, l: number): swiglu.SwigluBuffers {
    const keep = !this.forwardOnly;
    return {
      h: ws.h2[l],
      gu: ws.gu[l],
      sig: keep ? ws.sig[l] : null,
      act: keep ? ws.act[l] : null,
    };
  }

  private headDims(B: number): head.HeadDims {
    const { frames: K, missionLen: M, dModel: D } = this.cfg;
    return { B, L: seqLen(this.cfg), M, K, D };
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
  ): Promise<head.NativeLoss> {
    if (this.forwardOnly) {
      throw new Error("NativeModel.run: this model was built forwardOnly (logits only)");
    }
    const ws = this.workspace(inputs.B);
    await this.forward(params, inputs, ws);
    const dl = grads ? ws.dlogits : null;
    const out = head.loss(ws.logits, dl, targets, this.weights, ws.B, this.cfg.frames);
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
    const B = inputs.B, L = seqLen(this.cfg), N = B * L, S = SLOTS_PER_FRAME;
    const ws = this.workspace(B);
    await this.forward(params, inputs, ws, nl - 1);
    const l = nl - 1, w = block(params, l), ctx = this.ctx, x = ws.xs[l];
    rmsnorm.forward(ctx, x, w.ln1, ws.h1[l], ws.rstd1[l], N, D);
    const ia = M + (K - 1) * S + S - 1; // the last frame's action slot
    const attn = this.attnBuffers(ws, l), dims: AttnDims = { L, D, H };
    // The B rows the decision reads, after the attention; then the block's MLP on them.
    const xs = await attention.forwardRow(ctx, w, attn, x, ws.bias, B, dims, ia);
    const h2 = new Float32Array(B * D), rstd = new Float32Array(B);
    rmsnorm.forward(ctx, xs, w.ln2, h2, rstd, B, D);
    const mlp = { h: h2, gu: new Float32Array(B * 2 * F), sig: null, act: null };
    await swiglu.forward(this.serial, w, mlp, xs, xs, B, F, D);
    rmsnorm.forward(ctx, xs, params.lnf, h2, rstd, B, D);
    const lg = new Float32Array(B * OUT_COLS);
    head.project(ctx, params.head, h2, lg, B, D);
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
    const { dModel: D, nLayers: nl, nHeads: H, dFF: F } = this.cfg;
    const B = inp.B, L = seqLen(this.cfg), N = B * L, dims: AttnDims = { L, D, H };
    const ctx = this.ctx;
    embed.forward(ctx, { tok: p.tok, pos: p.pos }, inp.tok, this.posIdx, ws.xs[0], B, L, D);
    attention.keyBias(inp.keyValid, ws.bias, N);
    for (let l = 0; l < layers; l++) {
      const w = block(p, l), x = ws.xs[l], x1 = ws.x1[l];
      rmsnorm.forward(ctx, x, w.ln1, ws.h1[l], ws.rstd1[l], N, D);
      await attention.forward(ctx, w, this.attnBuffers(ws, l), x, x1, ws.bias, B, dims);
      rmsnorm.forward(ctx, x1, w.ln2, ws.h2[l], ws.rstd2[l], N, D);
      await swiglu.forward(ctx, w, this.mlpBuffers(ws, l), x1, ws.xs[l + 1], N, F, D);
    }
    if (layers < nl) return;
    const out = { lnf: p.lnf, head: p.head };
    head.forward(ctx, out, ws.xs[nl], ws.hf, ws.rstdf, ws.logits, this.headDims(B));
  }

  /** The backward pass from ws.dlogits, adding every parameter's gradient to `g`. */
  private async backward(
    p: NamedArrays,
    inp: HostInputs,
    ws: Workspace,
    g: NamedArrays,
  ): Promise<void> {
    const { dModel: D, nLayers: nl, nHeads: H, dFF: F } = this.cfg;
    const B = inp.B, L = seqLen(this.cfg), N = B * L, dims: AttnDims = { L, D, H };
    const ctx = this.ctx;
    let dx = ws.dxA, dxNext = ws.dxB;
    head.backward(
      ctx,
      { lnf: p.lnf, head: p.head },
      { lnf: g.lnf, head: g.head },
      ws.xs[nl],
      ws.hf,
      ws.rstdf,
      ws.dlogits,
      ws.dhf,
      dx,
      this.headDims(B),
    );
    for (let l = nl - 1; l >= 0; l--) {
      const w = block(p, l), gw = block(g, l);
      // x_out = x1 + mlp(norm(x1)): dx1 = dx + the norm's backward (in place into dx).
      await swiglu.backward(
        ctx,
        w,
        gw,
        this.mlpBuffers(ws, l),
        dx,
        ws.dact,
        ws.dgu,
        ws.dh,
        N,
        F,
        D,
      );
      rmsnorm.backward(ctx, ws.x1[l], ws.rstd2[l], w.ln2, ws.dh, dx, gw.ln2, N, D);
      // x1 = x + attention(norm(x)).
      const attn = this.attnBuffers(ws, l);
      await attention.backward(ctx, w, gw, attn, dx, ws.dO, ws.dqkv, ws.dh, B, dims);
      dxNext.set(dx);
      rmsnorm.backward(ctx, ws.xs[l], ws.rstd1[l], w.ln1, ws.dh, dxNext, gw.ln1, N, D);
      [dx, dxNext] = [dxNext, dx];
    }
    embed.backward(ctx, dx, inp.tok, this.posIdx, { tok: g.tok, pos: g.pos }, B, L, D);
  }
}

export function zerosLike(like: NamedArrays): NamedArrays {
  const out: NamedArrays = {};
  for (const [k, v] of Object.entries(like)) out[k] = new Float32Array(v.length);
  return out;
}
