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
  dropContext,
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
import { paramsToHost } from "../model/params.ts";

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

/** One stage of a multi-stage run: its config and where it trains. */
export interface PlannedStage {
  /** The run's config with the stage's masking, loss and steps (and no stages). */
  cfg: RunConfig;
  /** Its run directory: `<runDir>/stage<i>` for every stage but the last, `runDir` for the last. */
  dir: string;
  /** Steps of the earlier stages. */
  offset: number;
}

/**
 * The stages of `cfg` (`train.stages`; one stage, the config itself, when empty): stage i trains
 * round(share_i x train.steps) steps (the last the remainder) with the stage's strategy, ratio,
 * loss and context, a fresh optimizer and schedule (warm-up capped at a fifth of its steps). The
 * last stage trains in `runDir`, so its checkpoints, metrics.jsonl and evaluation are the run's.
 */
export function planStages(cfg: RunConfig, runDir: string): PlannedStage[] {
  const stages = cfg.train.stages ?? [];
  if (stages.length === 0) return [{ cfg, dir: runDir, offset: 0 }];
  const total = cfg.train.steps;
  const out: PlannedStage[] = [];
  let offset = 0;
  stages.forEach((st, i) => {
    const last = i === stages.length - 1;
    const steps = last ? total - offset : Math.round(st.share * total);
    if (steps < 1) {
      throw new Error(
        `train.stages[${i}]: ${steps} steps (share ${st.share} of train.steps ${total}); every stage needs at least one`,
      );
    }
    const stageCfg: RunConfig = {
      ...cfg,
      masking: {
        ...cfg.masking,
        strategy: st.strategy,
        ratio: st.ratio ?? cfg.masking.ratio,
        context_frames: st.context_frames !== undefined
          ? st.context_frames
          : cfg.masking.context_frames,
      },
      train: {
        ...cfg.train,
        steps,
        loss: st.loss ?? cfg.train.loss,
        warmup_steps: Math.min(cfg.train.warmup_steps, Math.floor(steps / 5)),
        stages: [],
      },
    };
    out.push({ cfg: stageCfg, dir: last ? runDir : `${runDir}/stage${i + 1}`, offset });
    offset += steps;
  });
  return out;
}

/**
 * Train the config's model on its dataset with its masking strategy; with `train.stages`, stage
 * after stage ({@link planStages}), each from the previous stage's final weights. Resuming picks
 * up the stage that was interrupted (a finished stage returns its weights at once);
 * `opts.stopAtStep` counts steps over all stages.
 */
export async function runTraining(cfg: RunConfig, opts: RunOptions): Promise<TrainResult> {
  const stages = planStages(cfg, opts.runDir);
  if (stages.length === 1) return await runStage(stages[0].cfg, opts);
  let initFrom = opts.initFrom;
  let res: TrainResult | null = null;
  for (const [i, st] of stages.entries()) {
    if (opts.stopAtStep !== undefined && opts.stopAtStep <= st.offset) break;
    if (opts.progress !== false) {
      console.error(
        `stage ${
          i + 1
        }/${stages.length}: ${st.cfg.masking.strategy}, ${st.cfg.train.steps} steps in ${st.dir}`,
      );
    }
    await Deno.mkdir(st.dir, { recursive: true });
    if (res) initFrom = await paramsToHost(res.params);
    res = await runStage(st.cfg, {
      ...opts,
      runDir: st.dir,
      resume: opts.resume || i < stages.length - 1, // a finished earlier stage is reused
      initFrom,
      stopAtStep: opts.stopAtStep === undefined ? undefined : opts.stopAtStep - st.offset,
    });
    if (res.interrupted) return { ...res, step: res.step + st.offset };
  }
  return res!;
}

/** One stage: train `cfg` as it says (its `train.stages` already planned away). */
async function runStage(cfg: RunConfig, opts: RunOptions): Promise<TrainResult> {
  const dataRoot = opts.dataRoot ?? "data";
  const trainDs = opts.datasets?.train ?? await loadWindows(cfg, "train", dataRoot);
  const valDs = opts.datasets?.val ?? await loadWindows(cfg, "val", dataRoot);
  const context = cfg.masking.context_frames ?? null;
  const view = (b: Batch): Batch => context === null ? b : dropContext(b, context);
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
      yield { batch: view(item.batch), epoch: item.position.epoch };
    }
  };
  const masking = withDefaults(cfg.masking);
  const valBatches = function* (): Generator<Batch> {
    // A fixed, shuffled sample of validation windows in full batches (same shapes as training).
    const it = new BatchIterator(valDs, {
      batchSize: Math.min(B, valDs.numWindows),
      seed: cfg.seed + 1,
    });
    for (const item of it.epochBatches(0)) yield view(item.batch);
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
