/**
 * The training loop, readable top to bottom: build the model and the compiled
 * step, optionally resume from the newest checkpoint, then for each step draw
 * the micro-batches and their masks, run the step, log, validate, checkpoint.
 *
 * Exact resume: every random choice derives from (config seed, step, epoch,
 * data position), the batch stream is addressed by position, and a checkpoint
 * stores weights and Adam moments bit-exactly, so the steps after a resume
 * compute the same losses as an uninterrupted run on the same device.
 *
 * Validation logs two losses (see {@link MetricsRecord}): the run's own objective on its own
 * masks, drawn at the current step (a scheduled run is validated at its current ratio), and one
 * objective every run shares, the any-order ELBO on fixed masks ({@link commonValidation}),
 * beside next-frame and next-action accuracy on the same windows. Only the shared figures
 * compare variants.
 *
 * @module
 */

import { type Batch, type Mask } from "../data/types.ts";
import {
  checkpointName,
  cleanCheckpointLeftovers,
  firstNonFinite,
  pruneCheckpoints,
  saveCheckpoint,
} from "../model/checkpoint.ts";
import {
  type ModelConfig,
  type ModelSectionInput,
  resolveModelConfig,
  seqLen,
} from "../model/model_config.ts";
import { archFingerprint, describeModel, type HostParams, type Params } from "../model/params.ts";
import { encodeInputs } from "../model/transformer.ts";
import { resolveDevice, selectDevice } from "../model/device.ts";
import type { Config } from "../config/schema.ts";
import { Progress } from "../util/progress.ts";
import { faultPoint } from "../util/fault.ts";
import { encodeTargets, LOSS_MODES, type LossMode, N_HEADS } from "./loss.ts";
import { type MetricsRecord, MetricsSink, progressLine } from "./log.ts";
import { clipScale, lrAt, optimConfigFrom } from "./optim.ts";
import { type HostMicroBatch, makeEngine } from "./engine.ts";
import { commonValidation, scoreCommonValidation } from "./validation.ts";
import {
  checkFitsInMemory,
  explainMemoryError,
  NonFiniteLossError,
  NonFiniteWeightsError,
} from "./errors.ts";
import { AUX_LEN, summarizeHeads, TrainInterval } from "./interval.ts";
import { openRun } from "./resume.ts";

/** The `train` config section (the schema's). */
export type TrainSection = Config["train"];

/**
 * The parts of the experiment config the loop reads: a resolved `Config` fits, and so does a
 * hand-built one (tests, notebooks) with only the model keys it sets.
 */
export type TrainRunConfig = Pick<Config, "seed" | "train"> & {
  model: ModelSectionInput;
  window: Pick<Config["window"], "length" | "mission_len">;
};

/** A training micro-batch and the epoch it belongs to. */
export interface BatchItem {
  batch: Batch;
  epoch: number;
}

/** Context passed to the mask function (same shape as lib/masking's MaskContext). */
export interface MaskContext {
  /** Optimizer step the mask is for. */
  step: number;
  /** Epoch of the batch. */
  epoch: number;
  /** Master seed (config seed; validation uses seed + 1,000,003). */
  seed: number;
  /** Micro-batch position in the training stream (validation: batch index). */
  batchIndex: number;
}

/** Callbacks and paths of a training run. */
export interface TrainOptions {
  /**
   * The training stream addressed by position: yields micro-batches starting at
   * micro-batch index `position` (position = step * grad_accum + j). Must be a
   * deterministic function of the position for exact resume.
   */
  trainBatches: (position: number) => Iterator<BatchItem> | AsyncIterator<BatchItem>;
  /** Validation batches (the first train.eval_batches are used, masks fixed per batch index). */
  valBatches: () => Iterable<Batch> | AsyncIterable<Batch>;
  /** Draws the training mask of a micro-batch (pure in its arguments). */
  maskFn: (batch: Batch, ctx: MaskContext) => Mask;
  /**
   * The run's own validation mask of validation batch `index` at training position `pos` (the
   * validation's step and epoch), so that a position-dependent strategy (scheduled masking) is
   * validated at its current ratio. Default: `maskFn` at `pos` with seed = config seed +
   * 1,000,003 and batchIndex = index. Keep the random stream fixed across positions (as
   * lib/train/run.ts does) for a smooth curve.
   */
  valMaskFn?: (batch: Batch, index: number, pos: { step: number; epoch: number }) => Mask;
  /**
   * The strategy's nominal mask ratio at a training position (logged as `mask_nominal`; null
   * where the strategy has none). Default: not logged.
   */
  nominalRatio?: (pos: { step: number; epoch: number }) => number | null;
  /** Run directory: metrics.jsonl and checkpoints/ go here. */
  runDir: string;
  /** Continue from the newest checkpoint in runDir/checkpoints. */
  resume?: boolean;
  /** Called with every metrics record (train and val). */
  onLog?: (rec: MetricsRecord) => void;
  /** Progress line on stderr (default true). */
  progress?: boolean;
  /** Stop (after checkpointing) when this many total steps are done; simulates an interruption in tests. */
  stopAtStep?: number;
  /** Stop gracefully (checkpoint, then return) when aborted, e.g. on SIGINT. */
  signal?: AbortSignal;
  /** Skip device initialisation (the caller already selected one). */
  skipDeviceInit?: boolean;
  /**
   * Start from these parameters instead of the seeded initialisation (fine-tuning);
   * ignored when resuming from a checkpoint. Must match the model config.
   */
  initFrom?: HostParams;
}

/** What a run returns. */
export interface TrainResult {
  /** Resolved model config. */
  modelConfig: ModelConfig;
  /** Steps completed. */
  step: number;
  /** Loss of every step run in this call, indexed from `startStep`. */
  losses: number[];
  /** The step this call started from (0, or the resumed checkpoint's). */
  startStep: number;
  /**
   * Best validation score and its step (`checkpoints/best`): the shared validation ELBO
   * (`val_elbo`), which measures every step and every run alike (the run's own loss does not:
   * a scheduled run's own validation masks grow with its ratio); the own loss only where
   * `val_elbo` is not finite.
   */
  best: { loss: number; step: number } | null;
  /** Last validation record. */
  lastVal: MetricsRecord | null;
  /** Whether the run stopped early (stopAtStep or signal). */
  interrupted: boolean;
  /**
   * What went wrong but was recovered from, also printed on stderr: damaged checkpoints a resume
   * skipped (set aside as `<name>.damaged`), a checkpoint without checksums.
   */
  warnings: string[];
  /** Final parameters on the device (caller owns them). */
  params: Params;
}

function rssMb(): number {
  return Deno.memoryUsage().rss / 2 ** 20;
}

async function nextItem(
  it: Iterator<BatchItem> | AsyncIterator<BatchItem>,
  pos: number,
): Promise<BatchItem> {
  const r = await it.next();
  if (r.done) {
    throw new Error(
      `training batch stream ended at micro-batch ${pos}; it must be endless (cycle epochs)`,
    );
  }
  return r.value;
}

interface HostMicro {
  batch: Batch;
  epoch: number;
  hidden: number[];
  validSlots: number;
  host: HostMicroBatch;
}

/** The progress-line summary of a val record. */
function valLine(v: MetricsRecord): string {
  return `loss ${v.loss.toFixed(4)} acc ${(v.acc * 100).toFixed(1)}% | shared: elbo ${
    v.val_elbo?.toFixed(4)
  } next-frame cells ${((v.next_frame_cell_acc ?? NaN) * 100).toFixed(1)}% next action ${
    ((v.next_action_acc ?? NaN) * 100).toFixed(1)
  }%`;
}

/**
 * Train a model. See {@link TrainOptions}; returns when `train.steps` are
 * done (or on stopAtStep / signal, after writing a checkpoint).
 */
export async function train(cfg: TrainRunConfig, opts: TrainOptions): Promise<TrainResult> {
  const tc = cfg.train;
  const device = opts.skipDeviceInit ? resolveDevice(tc.device) : await selectDevice(tc.device);
  const model = resolveModelConfig(cfg.model, cfg.window);
  const optim = optimConfigFrom(tc);
  const mode = tc.loss as LossMode;
  if (!(LOSS_MODES as readonly string[]).includes(mode)) {
    throw new Error(`train.loss: '${tc.loss}' must be one of ${LOSS_MODES.join(", ")}`);
  }
  const accum = Math.max(1, tc.grad_accum | 0);
  const progress = new Progress(opts.progress ?? true);
  const runDir = opts.runDir;
  await Deno.mkdir(`${runDir}/checkpoints`, { recursive: true });
  // A crashed writer's leftovers (checkpoints/<name>.tmp-<pid>, a checkpoint moved aside).
  for (const line of await cleanCheckpointLeftovers(runDir)) progress.message(line);
  const metrics = new MetricsSink(`${runDir}/metrics.jsonl`); // + TensorBoard events beside it
  const L = seqLen(model);
  const warnings: string[] = [];
  const warn = (line: string) => {
    warnings.push(line);
    progress.done();
    console.error(`train: WARNING: ${line}`);
  };

  // ---- parameters, optimizer state, position: fresh or resumed
  const opened = await openRun({
    runDir,
    model,
    seed: cfg.seed,
    resume: opts.resume ?? false,
    initFrom: opts.initFrom,
    metrics,
    warn,
    message: (line) => progress.message(line),
  });
  const { init, existing, resumedVal } = opened;
  let { step, position, epoch, best } = opened;
  const startStep = step;
  progress.message(`${describeModel(model)} on ${device}`);

  const engine = makeEngine(device, model, optim, tc.head_weights, init);
  // The engine holds device memory (jax) or helper threads (blas): free them on every exit.
  try {
    let lastCkpt: string | null = existing.length ? existing[existing.length - 1].dir : null;

    const encode = (
      batch: Batch,
      mask: Mask,
    ): { host: HostMicroBatch; hidden: number[]; validSlots: number } => {
      const t = encodeTargets(batch, mask, mode);
      return {
        host: { inputs: encodeInputs(model, batch, mask), targets: t, K: batch.K },
        hidden: t.hiddenPerHead,
        validSlots: t.validSlots,
      };
    };

    // ---- validation set: fixed batches; the shared problems encoded once on the host, the
    // run's own masks drawn at each validation's position
    const valBatches: Batch[] = [];
    if (tc.eval_batches > 0) {
      for await (const b of opts.valBatches()) {
        if (valBatches.length >= tc.eval_batches) break;
        valBatches.push(b);
      }
    }
    const valMask = opts.valMaskFn ??
      ((b: Batch, i: number, pos: { step: number; epoch: number }) =>
        opts.maskFn(b, { ...pos, seed: cfg.seed + 1_000_003, batchIndex: i }));
    const common = commonValidation(model, valBatches);
    const nominal = (pos: { step: number; epoch: number }) => opts.nominalRatio?.(pos) ?? null;

    const t0 = performance.now();
    let lastVal: MetricsRecord | null = resumedVal;
    const validate = async (): Promise<MetricsRecord | null> => {
      if (valBatches.length === 0) return null;
      const pos = { step, epoch };
      let lsum = 0;
      const aux = new Float64Array(AUX_LEN);
      const hidden = new Array<number>(N_HEADS).fill(0);
      let valid = 0;
      for (const [i, batch] of valBatches.entries()) {
        const d = encode(batch, valMask(batch, i, pos));
        const r = await engine.evaluate(d.host);
        lsum += r.loss;
        for (let i = 0; i < AUX_LEN; i++) aux[i] += r.aux[i];
        d.hidden.forEach((h, i) => (hidden[i] += h));
        valid += d.validSlots;
      }
      const s = summarizeHeads(aux, hidden);
      const shared = await scoreCommonValidation(engine, common);
      return {
        kind: "val",
        step,
        epoch,
        loss: lsum / valBatches.length,
        ...s,
        mask_rate: hidden.reduce((a, b) => a + b, 0) / Math.max(1, valid),
        mask_nominal: nominal(pos),
        ...shared,
        elapsed_s: (performance.now() - t0) / 1000,
        rss_mb: rssMb(),
      };
    };

    const saveCk = async (dir: string) => {
      const st = await engine.state();
      for (const [prefix, tree] of [["", st.params], ["m.", st.m], ["v.", st.v]] as const) {
        const bad = firstNonFinite(tree);
        if (bad) {
          progress.done();
          throw new NonFiniteWeightsError(step, prefix + bad.name, bad.value, lastCkpt);
        }
      }
      await saveCheckpoint(dir, {
        ...st,
        state: {
          step,
          dataPosition: position,
          epoch,
          rng: {
            seed: cfg.seed,
            note:
              "init, masks and data order derive from (seed, step, epoch, data position); no other RNG state",
          },
          best,
          modelConfig: model,
          arch: archFingerprint(model),
        },
      });
    };
    const checkpoint = async () => {
      const dir = `${runDir}/checkpoints/${checkpointName(step)}`;
      await saveCk(dir);
      lastCkpt = dir;
      await pruneCheckpoints(runDir, tc.keep_last);
    };

    // ---- the loop
    const it = opts.trainBatches(position);
    const drawMicro = async (
      forStep: number,
    ): Promise<{ micro: HostMicro[]; nominal: number | null }> => {
      const out: HostMicro[] = [];
      for (let j = 0; j < accum; j++) {
        const item = await nextItem(it, position + j);
        // `position` is the stream position of the first micro-batch of `forStep` here.
        const mask = opts.maskFn(item.batch, {
          step: forStep,
          epoch: item.epoch,
          seed: cfg.seed,
          batchIndex: position + j,
        });
        const d = encode(item.batch, mask);
        out.push({
          batch: item.batch,
          epoch: item.epoch,
          hidden: d.hidden,
          validSlots: d.validSlots,
          host: d.host,
        });
      }
      return { micro: out, nominal: nominal({ step: forStep, epoch: out[0].epoch }) };
    };

    const losses: number[] = [];
    let interrupted = false;
    const iv = new TrainInterval(L);
    let smoothLoss = NaN;
    const target = tc.steps;
    const stopAt = Math.min(target, opts.stopAtStep ?? Infinity);

    // Validation before the first step: a baseline for the curve (and every compiled program exists from here on).
    if (step === 0 && tc.eval_every > 0 && stopAt > 0) {
      const v = await validate();
      if (v) {
        lastVal = v;
        await metrics.append([v]);
        opts.onLog?.(v);
        progress.message(`val step 0: ${valLine(v)}`);
      }
    }
    let next = step < stopAt ? await drawMicro(step) : null;
    if (next && device === "wasm") checkFitsInMemory(model, next.micro[0].batch.B);
    while (step < stopAt && next) {
      const cur = next.micro;
      const curNominal = next.nominal;
      const pending = engine.step(step, cur.map((m) => m.host));
      pending.catch(() => {}); // handled below, after the next batch is drawn
      position += accum;
      epoch = cur[cur.length - 1].epoch;
      // Prepare the next micro-batches on the host while the device computes.
      next = step + 1 < stopAt ? await drawMicro(step + 1) : null;
      let loss: number, gnorm: number, aux: Float64Array;
      try {
        ({ loss, gnorm, aux } = await pending);
      } catch (e) {
        progress.done();
        throw explainMemoryError(e, model, cur[0].batch.B);
      }
      if (!Number.isFinite(loss) || !Number.isFinite(gnorm)) {
        progress.done();
        throw new NonFiniteLossError(step + 1, loss, gnorm, lastCkpt);
      }
      step++;
      faultPoint("step");
      losses.push(loss);
      iv.add({
        loss,
        gnorm,
        aux,
        lr: lrAt(optim, step - 1),
        clipped: clipScale(optim.clipNorm, gnorm) < 1,
        nominal: curNominal,
        micro: cur.map((m) => ({ B: m.batch.B, hidden: m.hidden, validSlots: m.validSlots })),
      });
      smoothLoss = Number.isNaN(smoothLoss) ? loss : 0.9 * smoothLoss + 0.1 * loss;

      const now = performance.now();
      const tokS = iv.tokensPerS(now);
      const etaS = (target - step) * (iv.elapsed(now) / iv.steps);
      progress.update(
        progressLine(step, target, smoothLoss, tokS, etaS),
        step % tc.log_every === 0,
      );

      if (step % tc.log_every === 0 || step === target) {
        const rec = iv.record(step, epoch, now, t0, rssMb());
        await metrics.append([rec]);
        opts.onLog?.(rec);
      }
      const aborted = opts.signal?.aborted ?? false;
      if ((tc.eval_every > 0 && step % tc.eval_every === 0) || step === target) {
        const v = await validate();
        if (v) {
          lastVal = v;
          await metrics.append([v]);
          opts.onLog?.(v);
          progress.message(
            `val step ${step}: ${valLine(v)}` +
              (best ? ` (best elbo ${best.loss.toFixed(4)} @ ${best.step})` : ""),
          );
          const score = Number.isFinite(v.val_elbo) ? v.val_elbo! : v.loss;
          if (!best || score < best.loss) {
            best = { loss: score, step };
            await saveCk(`${runDir}/checkpoints/best`);
          }
        }
        iv.restartClock(); // keep validation time out of tokens/s
      }
      if (
        (tc.ckpt_every > 0 && step % tc.ckpt_every === 0) || step === target || step === stopAt ||
        aborted
      ) {
        await checkpoint();
      }
      if (aborted) {
        interrupted = true;
        break;
      }
    }
    if (step < target) interrupted = true;
    progress.done();
    const params = engine.deviceParams();
    return {
      modelConfig: model,
      step,
      losses,
      startStep,
      best,
      lastVal,
      interrupted,
      params,
      warnings,
    };
  } finally {
    engine.dispose();
  }
}
