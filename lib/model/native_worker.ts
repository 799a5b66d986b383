/**
 * Helper thread of the `blas` device: runs one range of an attention or
 * SwiGLU pass (lib/model/native_kernels.ts) on shared memory and replies.
 * Started by lib/model/native.ts; one per extra core.
 *
 * @module
 */

import { loadBlas } from "./blas.ts";
import { type CKernels, cKernelsFailure, loadCKernels } from "./native_c.ts";
import {
  attentionBackward,
  attentionForward,
  attentionInfer,
  swigluBackward,
  swigluForward,
  swigluInfer,
} from "./native_kernels.ts";

/** This worker's side of the channel (typed as a Worker: postMessage / onmessage). */
const port = self as unknown as Worker;
const blas = loadBlas();
let scratch = new Float32Array(0);
const f32 = (b: SharedArrayBuffer) => new Float32Array(b);
/** The C kernels, when a task asks for them (the main thread built the library already). */
function c(): CKernels {
  const k = loadCKernels();
  if (!k) throw new Error(`the C kernels do not load in this thread: ${cKernelsFailure()}`);
  return k;
}

// deno-lint-ignore no-explicit-any
port.onmessage = (e: MessageEvent<any>) => {
  const t = e.data;
  try {
    if (t.c) {
      const d = t.dims;
      if (t.op === "attnF" || t.op === "attnI") {
        c().attnFwd(
          f32(t.qkv),
          t.P ? f32(t.P) : null,
          f32(t.O),
          f32(t.bias),
          d.L,
          d.D,
          d.H,
          t.lo,
          t.hi,
        );
      } else if (t.op === "attnR") {
        c().attnRows(f32(t.qkv), f32(t.O), f32(t.bias), d.L, d.D, d.H, t.lo, t.hi, t.i, t.i + 1);
      } else if (t.op === "attnB") {
        c().attnBwd(f32(t.qkv), f32(t.P), f32(t.dO), f32(t.dqkv), d.L, d.D, d.H, t.lo, t.hi);
      } else if (t.op === "swiI") c().swigluInfer(f32(t.gu), t.F, t.lo, t.hi);
      else if (t.op === "swiF") c().swigluFwd(f32(t.gu), f32(t.sig), f32(t.act), t.F, t.lo, t.hi);
      else if (t.op === "swiB") {
        c().swigluBwd(f32(t.gu), f32(t.sig), f32(t.dact), f32(t.dgu), t.F, t.lo, t.hi);
      } else throw new Error(`unknown task '${t.op}'`);
    } else if (t.op === "attnF") {
      attentionForward(blas, t.dims, f32(t.qkv), f32(t.P), f32(t.O), f32(t.bias), t.lo, t.hi);
    } else if (t.op === "attnB") {
      const n = t.dims.L * t.dims.L;
      if (scratch.length < n) scratch = new Float32Array(n);
      attentionBackward(
        blas,
        t.dims,
        f32(t.qkv),
        f32(t.P),
        f32(t.dO),
        f32(t.dqkv),
        scratch,
        t.lo,
        t.hi,
      );
    } else if (t.op === "attnI") {
      const n = t.dims.L * t.dims.L + t.dims.L;
      if (scratch.length < n) scratch = new Float32Array(n);
      attentionInfer(blas, t.dims, f32(t.qkv), scratch, f32(t.O), f32(t.bias), t.lo, t.hi);
    } else if (t.op === "swiI") {
      swigluInfer(f32(t.gu), t.F, t.lo, t.hi);
    } else if (t.op === "swiF") {
      swigluForward(f32(t.gu), f32(t.sig), f32(t.act), t.F, t.lo, t.hi);
    } else if (t.op === "swiB") {
      swigluBackward(f32(t.gu), f32(t.sig), f32(t.dact), f32(t.dgu), t.F, t.lo, t.hi);
    } else throw new Error(`unknown task '${t.op}'`);
    port.postMessage({ id: t.id });
  } catch (err) {
    port.postMessage({
      id: t.id,
      error: err instanceof Error ? err.stack ?? err.message : String(err),
    });
  }
};
