/**
 * What the training loop drives: an engine that owns the parameters and Adam
 * moments and runs one optimizer step on host-encoded micro-batches.
 *
 * - `jax`: the compiled @jax-js/jax step of lib/train/step.ts on the selected
 *   device (wasm or webgpu); state lives on the device.
 * - `blas`: lib/model/native.ts (OpenBLAS matmuls, hand-written backward) and
 *   the host AdamW of lib/train/optim.ts; state lives in host Float32Arrays.
 *
 * Both take and give checkpoints as host parameters with the same names, so a
 * run can be resumed or evaluated on either.
 *
 * @module
 */

import { tree } from "@jax-js/jax";
import type { HostInputs } from "../model/transformer.ts";
import type { HostParams, Params } from "../model/params.ts";
import type { ModelConfig } from "../model/model_config.ts";
import { checkHostShapes, paramsFromHost, paramsToHost } from "../model/params.ts";
import { inputsToDevice } from "../model/transformer.ts";
import { jitForward } from "../model/decode.ts";
import { type NamedArrays, NativeModel, zerosLike } from "../model/native.ts";
import { type HeadWeights, type HostTargets, N_HEADS, targetsToDevice } from "./loss.ts";
import { adamwUpdateHost, type OptimConfig } from "./optim.ts";
import { makeStepper } from "./step.ts";

/** One micro-batch, encoded on the host. */
export interface HostMicroBatch {
  inputs: HostInputs;
  targets: HostTargets;
  /** Frames per window. */
  K: number;
}

/** Loss, gradient norm and per-head statistics of one step. */
export interface StepResult {
  loss: number;
  gnorm: number;
  /** [5 heads x (sum CE, sum correct)] over hidden slots. */
  aux: Float64Array;
}

/** Parameters and Adam moments on the host (checkpoint format). */
export interface HostState {
  params: HostParams;
  m: HostParams;
  v: HostParams;
}

/** A training engine (see the module comment). */
export interface TrainEngine {
  /**
   * One optimizer step over the micro-batches (gradients averaged). The jax
   * engine enqueues the work before the returned promise is awaited, so the
   * caller can prepare the next batch meanwhile.
   */
  step(step: number, micro: HostMicroBatch[]): Promise<StepResult>;
  /** Loss and statistics of one batch without updating. */
  evaluate(batch: HostMicroBatch): Promise<{ loss: number; aux: Float64Array }>;
  /**
   * Logits [B, K, 51, 32] of one batch of encoded inputs with the current parameters (split
   * them per head with `splitLogits`); for the validation metrics.
   */
  logits(inputs: HostInputs): Promise<Float32Array>;
  /** Copy of the state for a checkpoint. */
  state(): Promise<HostState>;
  /** The parameters on the jax-js default device (the caller owns them). */
  deviceParams(): Params;
  /** Free the engine's memory and threads (idempotent). */
  dispose(): void;
}

function toDevice(model: ModelConfig, b: HostMicroBatch) {
  return {
    inputs: inputsToDevice(model, b.inputs),
    targets: targetsToDevice(b.targets, b.inputs.B, b.K),
  };
}

/** The @jax-js/jax engine on the current default device. */
export function jaxEngine(
  model: ModelConfig,
  optim: OptimConfig,
  weights: HeadWeights,
  init: HostState,
): TrainEngine {
  const stepper = makeStepper(model, optim, weights);
  let params = paramsFromHost(model, init.params);
  let opt = { m: paramsFromHost(model, init.m), v: paramsFromHost(model, init.v) };
  let disposed = false;
  return {
    step(s, micro) {
      let out;
      try {
        out = stepper.step(params, opt, s, micro.map((b) => toDevice(model, b)));
      } catch (e) {
        return Promise.reject(e);
      }
      params = out.params;
      opt = out.opt;
      return (async () => ({
        loss: (await out.loss.data())[0],
        gnorm: (await out.gnorm.data())[0],
        aux: Float64Array.from(await out.aux.data()),
      }))();
    },
    async evaluate(b) {
      const r = stepper.evaluate(params, toDevice(model, b));
      return { loss: (await r.loss.data())[0], aux: Float64Array.from(await r.aux.data()) };
    },
    async logits(inputs) {
      const out = jitForward(model)(tree.ref(params), inputsToDevice(model, inputs));
      return new Float32Array((await out.data()) as Float32Array);
    },
    async state() {
      return {
        params: await paramsToHost(params),
        m: await paramsToHost(opt.m),
        v: await paramsToHost(opt.v),
      };
    },
    deviceParams: () => tree.ref(params),
    dispose() {
      if (disposed) return;
      disposed = true;
      tree.dispose([params, opt]);
      stepper.dispose();
    },
  };
}

const named = (h: HostParams): NamedArrays =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.data.slice()]));

/** The OpenBLAS engine (host state; throws with install advice when OpenBLAS is missing). */
export function blasEngine(
  model: ModelConfig,
  optim: OptimConfig,
  weights: HeadWeights,
  init: HostState,
): TrainEngine {
  for (const h of [init.params, init.m, init.v]) checkHostShapes(model, h);
  const net = new NativeModel(model, weights);
  const shapes = Object.fromEntries(Object.entries(init.params).map(([k, v]) => [k, v.shape]));
  const params = named(init.params), m = named(init.m), v = named(init.v);
  const grads = zerosLike(params);
  const host = (a: NamedArrays): HostParams =>
    Object.fromEntries(
      Object.entries(a).map(([k, d]) => [k, { shape: shapes[k].slice(), data: d.slice() }]),
    );
  return {
    async step(s, micro) {
      for (const g of Object.values(grads)) g.fill(0);
      let loss = 0;
      const aux = new Float64Array(N_HEADS * 2); // per head: loss sum, correct count
      for (const b of micro) {
        const r = await net.run(params, b.inputs, b.targets, grads);
        loss += r.loss;
        for (let i = 0; i < aux.length; i++) aux[i] += r.aux[i];
      }
      const gnorm = adamwUpdateHost(optim, params, grads, m, v, s, 1 / micro.length);
      return { loss: loss / micro.length, gnorm, aux };
    },
    async evaluate(b) {
      const r = await net.run(params, b.inputs, b.targets, null);
      return { loss: r.loss, aux: r.aux };
    },
    logits: (inputs) => net.logits(params, inputs),
    state: () => Promise.resolve({ params: host(params), m: host(m), v: host(v) }),
    deviceParams: () => paramsFromHost(model, host(params)),
    dispose: () => net.dispose(),
  };
}

/** Zero Adam moments for host parameters. */
export function zeroMoments(p: HostParams): HostParams {
  return Object.fromEntries(
    Object.entries(p).map((
      [k, v],
    ) => [k, { shape: v.shape.slice(), data: new Float32Array(v.data.length) }]),
  );
}

/** Engine for a `train.device` value. */
export function makeEngine(
  device: string,
  model: ModelConfig,
  optim: OptimConfig,
  weights: HeadWeights,
  init: HostState,
): TrainEngine {
  return device === "blas"
    ? blasEngine(model, optim, weights, init)
    : jaxEngine(model, optim, weights, init);
}
