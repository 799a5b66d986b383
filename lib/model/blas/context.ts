/**
 * What every layer of the `blas` device (lib/model/native.ts) is given: OpenBLAS for the
 * matmuls, the C kernels where they load (else null: the JavaScript kernels of
 * lib/model/native_kernels.ts), a way to split a loop over the helper threads, and a scratch
 * buffer of the calling thread. NativeModel builds the threaded context; {@link singleThread}
 * builds one that runs every loop on this thread, for the layer tests and for small serial work.
 *
 * @module
 */

import type { Blas } from "../blas.ts";
import type { CKernels } from "../native_c.ts";

/** Parameters (or gradients, or moments) by dotted name, as flat float32 arrays. */
export type NamedArrays = Record<string, Float32Array>;

/** The loop over [0, n) that {@link LayerContext.parallel} splits: this thread's share. */
export type RangeFn = (lo: number, hi: number) => void;

/** OpenBLAS, the kernels and the threads a layer runs on. */
export interface LayerContext {
  readonly blas: Blas;
  /** The fused C kernels (lib/model/native_c.ts), or null: the JavaScript kernels. */
  readonly kernels: CKernels | null;
  /**
   * Run `local(lo, hi)` over [0, n) split into contiguous ranges: this thread takes the
   * first and each helper thread runs `task` (an op of lib/model/native_worker.ts, by name,
   * on shared buffers) on its own range.
   */
  parallel(n: number, local: RangeFn, task: Record<string, unknown>): Promise<void>;
  /** A buffer of at least `n` floats owned by this thread; every use overwrites it. */
  scratch(n: number): Float32Array;
}

/** A context that runs every split loop on this thread. */
export function singleThread(blas: Blas, kernels: CKernels | null): LayerContext {
  let buf = new Float32Array(0);
  return {
    blas,
    kernels,
    parallel: (n, local) => Promise.resolve(local(0, n)),
    scratch: (n) => buf.length >= n ? buf : (buf = new Float32Array(n)),
  };
}
