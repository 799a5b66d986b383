/**
 * Evaluation and closed-loop predictors on the `blas` device: the forward pass
 * of lib/model/native.ts without anything kept for a backward pass, in chunks of
 * windows through buffers reused across calls, with the same iterative
 * remasking as the jax-js predictor ({@link decodeIterativeWith}).
 * {@link makeBestPredictor} picks it where `train.device` resolves to `blas`
 * (OpenBLAS loads), else the jax-js predictor of lib/model/transformer.ts.
 *
 * tests/native_test.ts checks its logits against the jax-js forward pass and its
 * multi-round decisions against {@link decodeIterative}.
 *
 * The helper Workers of the blas model are started on the first call and
 * stopped by `dispose()`, and also after `idleMs` (10 s) without a call (through an
 * unref'd timer), so a predictor that is never disposed does not keep the
 * process alive.
 *
 * @module
 */

import { tree } from "@jax-js/jax";
import type { Batch, Logits, Mask, Predictor } from "../data/types.ts";
import { ACTION_VOCAB, SLOTS_PER_FRAME } from "../data/types.ts";
import type { Blas } from "./blas.ts";
import { resolveDevice } from "./device.ts";
import { type NamedArrays, NativeModel } from "./native.ts";
import {
  checkHostShapes,
  type HostParams,
  type Params,
  paramsFromHost,
  paramsToHost,
} from "./params.ts";
import { decodeIterative, decodeIterativeWith, makePredictor, splitLogits } from "./decode.ts";
import { encodeInputs, type HostInputs } from "./transformer.ts";
import { type ModelConfig, OUT_COLS, seqLen } from "./model_config.ts";

/** A {@link Predictor} that may hold threads or device memory: call `dispose()` when done. */
export type EvalPredictor = Predictor & {
  /** Which forward pass it runs: `blas` (lib/model/native.ts) or the jax-js device's name. */
  readonly device: string;
  /**
   * Release its threads and buffers (idempotent; a later call starts them again). Call it
   * once every call has resolved.
   */
  dispose(): void;
  /**
   * Where the predictor can: the action logits of each window's last frame, [B, ACTION_VOCAB],
   * with the mask's hidden inputs given as [MASK], computed with only what a decision needs
   * (the blas predictor's last layer runs for that one slot; see
   * {@link NativeModel.actionLogits}). Equal to `(await predictor(batch, mask)).action` at
   * the last frame to float32 rounding; present only for single-pass predictors.
   */
  actionLogits?: (batch: Batch, mask: Mask) => Promise<Float32Array>;
};

/** Options of {@link makeNativePredictor}. */
export interface NativePredictorOptions {
  /** Iterative remasking rounds (1 = single pass), as in {@link makePredictor}. */
  decodeSteps?: number;
  /** Threads of the split loops (default: the blas device's, BLAS_THREADS). */
  threads?: number;
  /** Windows per forward pass (default: about {@link CHUNK_POSITIONS} positions). */
  chunk?: number;
  /**
   * Stop the helper threads after this long without a call (default 10 s: longer than the
   * gaps between the calls of an evaluation, so they start once per evaluation; 0 = never).
   */
  idleMs?: number;
  /** A loaded BLAS (default: lib/model/blas.ts's). */
  blas?: Blas;
}

/**
 * Sequence positions per forward pass of the blas predictor when no chunk is
 * given. It bounds the buffers (small model: ~70 MB at 8192 positions, where 128
 * windows of K=4 in one pass need ~240 MB); the speed did not change measurably
 * between 8 and 128 windows a pass (small, K=4, one thread: 1.74-2.09 s CPU per
 * 128 windows for every chunk size).
 */
export const CHUNK_POSITIONS = 8192;

/** The head weights are unused by a forward-only model (no loss). */
const NO_LOSS = { obj: 1, color: 1, state: 1, dir: 1, action: 1 };

/** Host parameters as plain named arrays (shared, not copied; shapes checked). */
function namedFrom(cfg: ModelConfig, host: HostParams): NamedArrays {
  checkHostShapes(cfg, host);
  return Object.fromEntries(Object.entries(host).map(([k, v]) => [k, v.data]));
}

/**
 * A predictor running the blas forward pass on host parameters (which it reads,
 * never changes; do not change them while it is in use).
 */
export function makeNativePredictor(
  params: HostParams,
  cfg: ModelConfig,
  opts: NativePredictorOptions = {},
): EvalPredictor {
  const decodeSteps = opts.decodeSteps ?? 1;
  if (!Number.isInteger(decodeSteps) || decodeSteps < 1) {
    throw new Error(`decodeSteps must be an integer >= 1, got ${decodeSteps}`);
  }
  const p = namedFrom(cfg, params);
  const L = seqLen(cfg), perWindow = cfg.frames * SLOTS_PER_FRAME * OUT_COLS;
  const chunk = opts.chunk ?? Math.max(1, Math.floor(CHUNK_POSITIONS / L));
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new Error(`chunk must be an integer >= 1 (windows per forward pass), got ${chunk}`);
  }
  const idleMs = opts.idleMs ?? 10_000;
  let model: NativeModel | null = null;
  let idle: ReturnType<typeof setTimeout> | null = null;
  let busy = 0;
  const release = () => {
    if (idle !== null) clearTimeout(idle);
    idle = null;
    model?.dispose();
    model = null;
  };
  /**
   * Run `each(model, part, b0)` over the batch in chunks of windows on the (started on demand)
   * model; the helper threads stop after `idleMs` without a call.
   */
  const chunked = async (
    batch: Batch,
    mask: Mask | null,
    each: (m: NativeModel, part: HostInputs, b0: number) => Promise<void>,
  ): Promise<number> => {
    const inp = encodeInputs(cfg, batch, mask);
    const B = inp.B;
    if (idle !== null) clearTimeout(idle);
    idle = null;
    busy++;
    try {
      model ??= new NativeModel(cfg, NO_LOSS, {
        forwardOnly: true,
        threads: opts.threads,
        blas: opts.blas,
      });
      for (let b0 = 0; b0 < B; b0 += chunk) {
        const b1 = Math.min(B, b0 + chunk);
        const part: HostInputs = {
          B: b1 - b0,
          tok: inp.tok.subarray(b0 * L * 3, b1 * L * 3),
          keyValid: inp.keyValid.subarray(b0 * L, b1 * L),
        };
        await each(model, part, b0);
      }
    } finally {
      busy--;
      if (busy === 0 && idleMs > 0 && model) {
        const t = setTimeout(release, idleMs);
        Deno.unrefTimer(t);
        idle = t;
      }
    }
    return B;
  };
  // One forward pass at a time: calls made before the previous one resolved wait their turn
  // (the model's buffers are shared by all calls).
  let queue: Promise<unknown> = Promise.resolve();
  const queued = <T>(f: () => Promise<T>): Promise<T> => {
    const run = queue.then(f);
    queue = run.catch(() => {});
    return run;
  };
  const once = (batch: Batch, mask: Mask | null): Promise<Logits> =>
    queued(async () => {
      const out = new Float32Array(batch.B * perWindow);
      await chunked(batch, mask, (m, part, b0) => m.logits(p, part, out, b0 * perWindow).then());
      return splitLogits(batch.B, batch.K, out);
    });
  const predictor = (batch: Batch, mask: Mask) =>
    decodeSteps <= 1 ? once(batch, mask) : decodeIterativeWith(once, batch, mask, decodeSteps);
  const actionLogits = (batch: Batch, mask: Mask): Promise<Float32Array> =>
    queued(async () => {
      const out = new Float32Array(batch.B * ACTION_VOCAB);
      await chunked(batch, mask, async (m, part, b0) => {
        out.set(await m.actionLogits(p, part), b0 * ACTION_VOCAB);
      });
      return out;
    });
  return Object.assign(predictor, {
    device: "blas",
    dispose: release,
    ...(decodeSteps <= 1 ? { actionLogits } : {}),
  });
}

/** Options of {@link makeBestPredictor}. */
export interface BestPredictorOptions extends NativePredictorOptions {
  /** The run's `train.device` (default `auto`: blas where OpenBLAS loads, else the jax-js default device). */
  device?: string;
}

/**
 * The fastest predictor for a trained model: the blas forward pass where
 * `device` resolves to `blas` (as `train.device` does: `auto` means blas where
 * OpenBLAS loads), else the jax-js predictor ({@link makePredictor}) on the
 * current default device. Both give the same logits to float32 rounding.
 * `params` is the trained model on the jax-js device (not consumed) or host
 * parameters. Call `dispose()` on the result when done.
 */
export async function makeBestPredictor(
  params: Params | HostParams,
  cfg: ModelConfig,
  opts: BestPredictorOptions = {},
): Promise<EvalPredictor> {
  const device = resolveDevice(opts.device ?? "auto");
  const isHost = !("blocks" in params && Array.isArray(params.blocks));
  if (device === "blas") {
    const host = isHost ? params as HostParams : await paramsToHost(params as Params);
    return makeNativePredictor(host, cfg, opts);
  }
  const steps = opts.decodeSteps ?? 1;
  if (!isHost) {
    return Object.assign(makePredictor(params as Params, cfg, steps), {
      device,
      dispose: () => {},
    });
  }
  let dev: Params | null = null;
  const predictor = (batch: Batch, mask: Mask) => {
    dev ??= paramsFromHost(cfg, params as HostParams);
    return decodeIterative(dev, cfg, batch, mask, steps);
  };
  return Object.assign(predictor, {
    device,
    dispose: () => {
      if (dev) tree.dispose(dev);
      dev = null;
    },
  });
}
