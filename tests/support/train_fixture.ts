/**
 * A tiny training setup shared by the trainer tests: a run config (tiny model,
 * K = 3 frames, M = 5 mission words, batches of 8) and a deterministic
 * synthetic data stream addressed by position, as `train()` expects.
 */
import { syntheticBatch, syntheticMask } from "../../lib/testing/synthetic.ts";
import { type TrainRunConfig } from "../../lib/train/mod.ts";

/** Frames per window, mission length and windows per batch of the fixture. */
export const K = 3, M = 5, B = 8;

/** Run config of the fixture; `over` replaces train keys (e.g. `device`, `steps`). */
export function runConfig(over: Partial<TrainRunConfig["train"]> = {}): TrainRunConfig {
  return {
    seed: 0,
    model: { size: "tiny" },
    window: { length: K, mission_len: M },
    train: {
      device: "wasm",
      batch_size: B,
      grad_accum: 1,
      steps: 40,
      lr: 3e-3,
      min_lr: 3e-4,
      warmup_steps: 5,
      weight_decay: 0.01,
      beta1: 0.9,
      beta2: 0.98,
      adam_eps: 1e-8,
      clip_norm: 1,
      loss: "mean",
      head_weights: { obj: 1, color: 1, state: 1, dir: 1, action: 1 },
      stages: [],
      log_every: 10,
      eval_every: 20,
      eval_batches: 2,
      ckpt_every: 20,
      keep_last: 2,
      ...over,
    },
  };
}

/** Endless synthetic training stream (50 batches an epoch), 4 validation batches, 30% cell masks. */
export const data = (bs = B) => ({
  trainBatches: function* (pos: number) {
    for (let i = pos;; i++) yield { batch: syntheticBatch(bs, K, M, i), epoch: Math.floor(i / 50) };
  },
  valBatches: function* () {
    for (let i = 0; i < 4; i++) yield syntheticBatch(bs, K, M, 100_000 + i);
  },
  maskFn: (
    b: Parameters<typeof syntheticMask>[0],
    c: { step: number; epoch: number; seed: number; batchIndex: number },
  ) => syntheticMask(b, 0.3, c.batchIndex * 131 + c.epoch * 7 + c.seed),
  progress: false,
});
