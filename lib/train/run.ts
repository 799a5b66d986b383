/**
 * Wiring for a training run from a resolved experiment config: load the
 * dataset splits (lib/data/store), cut them into windows (lib/data/tokenize),
 * iterate batches by position (lib/data/batch), draw masks (lib/masking), and
 * call the loop. The CLI (`deno task train`) and notebooks call this.
 *
 * @module
 */

import type { Batch } from "../data/types.ts";
import { loadDataset } from "../data/store.ts";
import { tokenizeEpisodes, type WindowedDataset } from "../data/tokenize.ts";
import { BatchIterator } from "../data/batch.ts";
import {
  drawMask,
  fillWindows,
  type MaskingConfig,
  maskRng,
  nominalRatio,
  strategyFill,
  withDefaults,
} from "../masking/mod.ts";
import {
  type BatchItem,
  train,
  type TrainOptions,
  type TrainResult,
  type TrainRunConfig,
} from "./loop.ts";
import type { MetricsRecord } from "./log.ts";
import type { Config } from "../config/schema.ts";

/** The parts of the experiment config a run reads (a resolved `Config` fits). */
export type RunConfig = TrainRunConfig & {
  window: Config["window"];
  data: Pick<Config["data"], "dataset"> & Partial<Config["data"]>;
  masking: Partial<MaskingConfig>;
};

/** Options of {@link runTraining}. */
export interface RunOptions {
  /** Run directory (metrics.jsonl, checkpoints/). */
  runDir: string;
  /** Continue from the newest checkpoint. */
  resume?: boolean;
  /** Root of the datasets (default `data`): the dataset is `<dataRoot>/<data.dataset>`. */
  dataRoot?: string;
  /** Progress line on stderr (default true). */
  progress?: boolean;
  /** Metrics callback (train and val records). */
  onLog?: (rec: MetricsRecord) => void;
  /** Graceful stop (checkpoint, return). */
  signal?: AbortSignal;
  /** Stop after this many total steps (tests). */
  stopAtStep?: number;
  /** Start from these parameters (fine-tuning); see TrainOptions.initFrom. */
  initFrom?: TrainOptions["initFrom"];
  /** Already-windowed splits (skip loading; notebooks and tests). */
  datasets?: { train: WindowedDataset; val: WindowedDataset };
}

/** Load and window one split, with an error that says how to create a missing dataset. */
export async function loadWindows(
  cfg: RunConfig,
  split: "train" | "val" | "test",
  dataRoot = "data",
): Promise<WindowedDataset> {
  const dir = `${dataRoot}/${cfg.data.dataset}`;
  try {
    await Deno.stat(`${dir}/manifest.json`);
  } catch {
    throw new Error(
      `dataset '${cfg.data.dataset}' not found (${dir}/manifest.json is missing); collect it first with ` +
        `'deno task collect --config <the same config>'`,
    );
  }
  const eps = await loadDataset(dir, split, cfg.data.envs?.length ? { envs: cfg.data.envs } : {});
  return tokenizeEpisodes(eps, cfg.window, { name: `${dir}/${split}` });
}

/** Train the config's model on its dataset with its masking strategy. */
export async function runTraining(cfg: RunConfig, opts: RunOptions): Promise<TrainResult> {
  const dataRoot = opts.dataRoot ?? "data";
  const trainDs = opts.datasets?.train ?? await loadWindows(cfg, "train", dataRoot);
  const valDs = opts.datasets?.val ?? await loadWindows(cfg, "val", dataRoot);
  const B = cfg.train.batch_size;
  const probe = new BatchIterator(trainDs, { batchSize: B, seed: cfg.seed });
  const bpe = probe.batchesPerEpoch;

  const trainBatches: TrainOptions["trainBatches"] = function* (
    position: number,
  ): Generator<BatchItem> {
    const it = new BatchIterator(trainDs, {
      batchSize: B,
      seed: cfg.seed,
      position: { epoch: Math.floor(position / bpe), index: position % bpe },
    });
    while (true) {
      const item = it.next();
      yield { batch: item.batch, epoch: item.position.epoch };
    }
  };
  const masking = withDefaults(cfg.masking);
  const valBatches = function* (): Generator<Batch> {
    // A fixed, shuffled sample of validation windows in full batches (same shapes as training).
    const it = new BatchIterator(valDs, {
      batchSize: Math.min(B, valDs.numWindows),
      seed: cfg.seed + 1,
    });
    for (const item of it.epochBatches(0)) yield item.batch;
  };
  return await train(cfg, {
    trainBatches,
    valBatches,
    maskFn: (batch, ctx) => drawMask(cfg.masking, batch, ctx),
    // The run's own validation masks: the strategy at the validation's position (a scheduled
    // run is validated at its current ratio) from a random stream fixed per validation batch
    // (the stream of step 0), so fixed-ratio strategies keep the same masks all run and a
    // rising ratio hides a growing superset of slots.
    valMaskFn: (batch, index, pos) =>
      fillWindows(
        batch,
        strategyFill(masking, pos),
        maskRng({ step: 0, epoch: 0, seed: cfg.seed + 1_000_003, batchIndex: index }),
      ),
    nominalRatio: (pos) => nominalRatio(masking, pos),
    runDir: opts.runDir,
    resume: opts.resume,
    progress: opts.progress,
    onLog: opts.onLog,
    signal: opts.signal,
    stopAtStep: opts.stopAtStep,
    initFrom: opts.initFrom,
  });
}
