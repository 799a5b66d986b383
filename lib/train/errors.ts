/**
 * The trainer's errors: a micro-batch that cannot fit the wasm device's memory, a device
 * out-of-memory failure explained with a batch-size suggestion, and the loss, gradients or
 * weights turning non-finite (each names the last good checkpoint to resume from).
 *
 * @module
 */

import {
  batchSizeAdvice,
  estimateStepBytes,
  type ModelConfig,
  seqLen,
} from "../model/model_config.ts";

/** wasm32 address space of the @jax-js/jax wasm device, less headroom for parameters and the allocator. */
const WASM_BUDGET_BYTES = 3.6 * 2 ** 30;

const memoryAdvice = (model: ModelConfig, B: number) =>
  batchSizeAdvice(B, WASM_BUDGET_BYTES, (b) => estimateStepBytes(model, b));

/** Throw a clear error when a micro-batch of B windows cannot fit in the wasm device's 4 GiB. */
export function checkFitsInMemory(model: ModelConfig, B: number): void {
  const need = estimateStepBytes(model, B);
  if (need > WASM_BUDGET_BYTES) {
    throw new Error(
      `train.batch_size=${B}: one training step of this model (d_model=${model.dModel}, ${model.nLayers} layers, ` +
        `${seqLen(model)} positions) needs about ${
          (need / 2 ** 30).toFixed(1)
        } GiB of activations, more than the ` +
        `wasm device's 4 GiB address space; ${memoryAdvice(model, B)}`,
    );
  }
}

export function explainMemoryError(e: unknown, model: ModelConfig, B: number): unknown {
  const msg = e instanceof Error ? e.message : String(e);
  if (/memory32 limit|out of memory|Out of memory|WebAssembly.Memory/.test(msg)) {
    return new Error(
      `train.batch_size=${B}: the training step ran out of device memory (${msg}); ${
        memoryAdvice(model, B)
      }`,
    );
  }
  return e;
}

/** Error thrown when the weights or Adam moments about to be checkpointed are not finite. */
export class NonFiniteWeightsError extends Error {
  constructor(
    readonly step: number,
    readonly tensor: string,
    value: number,
    lastGood: string | null,
  ) {
    super(
      `training stopped at step ${step}: tensor '${tensor}' holds ${value} (not finite); no ` +
        `checkpoint of it was written. ` +
        (lastGood
          ? `The last good checkpoint is ${lastGood}; resume from it with a lower train.lr or train.clip_norm.`
          : `Lower train.lr (or warm up longer) and restart.`),
    );
    this.name = "NonFiniteWeightsError";
  }
}

/** Error thrown when the loss or the gradients stop being finite. */
export class NonFiniteLossError extends Error {
  constructor(readonly step: number, loss: number, gnorm: number, lastGood: string | null) {
    super(
      `training stopped at step ${step}: loss=${loss}, grad_norm=${gnorm} is not finite. ` +
        (lastGood
          ? `The last good checkpoint is ${lastGood}; resume from it with a lower train.lr or train.clip_norm.`
          : `No checkpoint was written yet; lower train.lr (or warm up longer) and restart.`),
    );
    this.name = "NonFiniteLossError";
  }
}
