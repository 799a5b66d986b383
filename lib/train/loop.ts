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
  type Checkpoint,
  checkpointName,
  cleanCheckpointLeftovers,
  firstNonFinite,
  listCheckpoints,
  loadCheckpoint,
  pruneCheckpoints,
  retrainCommand,
  saveCheckpoint,
  verifyCheckpoint,
} from "../model/checkpoint.ts";
import {
  batchSizeAdvice,
  estimateStepBytes,
  type ModelConfig,
  type ModelSectionInput,
  resolveModelConfig,
  seqLen,
} from "../model/model_config.ts";
import {
  archFingerprint,
  describeModel,
  type HostParams,
  initHostParams,
  type Params,
} from "../model/params.ts";
import { encodeInputs } from "../model/transformer.ts";

import { resolveDevice, selectDevice } from "../model/device.ts";
import { encodeTargets, HEADS, LOSS_MODES, type LossMode, N_HEADS } from "./loss.ts";
import type { Config } from "../config/schema.ts";
import { type MetricsRecord, MetricsSink, progressLine } from "./log.ts";
import { Progress } from "../util/progress.ts";
import { faultPoint } from "../util/fault.ts";
import { readJsonlLenientSync } from "../util/jsonl.ts";
import { clipScale, lrAt, optimConfigFrom } from "./optim.ts";
import { type HostMicroBatch, type HostState, makeEngine, zeroMoments } from "./engine.ts";
import { commonValidation, scoreCommonValidation } from "./validation.ts";

/** Length of the per-head statistics a loss returns: per head, the loss sum and the correct count. */
const AUX_LEN = N_HEADS * 2;

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

function explainMemoryError(e: unknown, model: ModelConfig, B: number): unknown {
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
  let init: HostState;
  let step = 0, position = 0, epoch = 0;
  let best: { loss: number; step: number } | null = null;
  let resumedVal: MetricsRecord | null = null;
  let existing = await listCheckpoints(runDir);
  if (opts.resume && existing.length > 0) {
    // The newest checkpoint that passes its checksums; damaged ones are set aside, loudly.
    let last = existing[existing.length - 1];
    let ck: Checkpoint | null = null;
    const damaged: string[] = [];
    for (let i = existing.length - 1; i >= 0 && !ck; i--) {
      last = existing[i];
      try {
        ck = await loadCheckpoint(last.dir, {
          onUnverified: (d) =>
            warn(`checkpoint ${d} has no checksums.json (older format): unverified`),
        });
      } catch (e) {
        const aside = `${last.dir}.damaged`;
        await Deno.remove(aside, { recursive: true }).catch(() => {});
        await Deno.rename(last.dir, aside);
        damaged.push((e as Error).message);
        warn(
          `resume: ${(e as Error).message.split("; ")[0]}; set aside as ${aside}` +
            (i > 0 ? `; falling back to ${existing[i - 1].dir}` : ""),
        );
      }
    }
    if (!ck) {
      throw new Error(
        `resume: no intact checkpoint is left in ${runDir}/checkpoints (${damaged.join(" | ")}); ` +
          `retrain from the start: remove ${runDir} and run \`${
            retrainCommand(existing[0].dir).replace(/ --resume\b/, "")
          }\``,
      );
    }
    existing = await listCheckpoints(runDir);
    const bestCheck = await verifyCheckpoint(`${runDir}/checkpoints/best`).catch(() => null);
    for (const p of bestCheck?.problems ?? []) {
      if (!/cannot be read \(No such file/.test(p.reason)) {
        warn(`resume: ${p.file} ${p.reason}; it is rewritten at the run's next improvement`);
      }
    }
    if (JSON.stringify(ck.state.modelConfig) !== JSON.stringify(model)) {
      throw new Error(
        `resume: checkpoint ${last.dir} was written for model ${
          JSON.stringify(ck.state.modelConfig)
        } ` +
          `but the config gives ${JSON.stringify(model)}; use the run's original config`,
      );
    }
    const arch = archFingerprint(model);
    if (ck.state.arch !== undefined && ck.state.arch !== arch) {
      throw new Error(
        `resume: checkpoint ${last.dir} holds weights of architecture ${ck.state.arch}, but this ` +
          `code computes ${arch} (lib/model ARCH_VERSION changed); start a new run directory, or ` +
          `evaluate it with the code that wrote it (its env.json names the git commit)`,
      );
    }
    if (!ck.m || !ck.v) throw new Error(`resume: checkpoint ${last.dir} has no optim.safetensors`);
    // In the order of a fresh run's tree (a checkpoint stores its tensors sorted by name): the
    // gradient norm sums over the tensors in this order, so a resumed run clips the same bits.
    const order = Object.keys(initHostParams(model, cfg.seed));
    const ordered = (h: HostParams): HostParams => Object.fromEntries(order.map((k) => [k, h[k]]));
    init = { params: ordered(ck.params), m: ordered(ck.m), v: ordered(ck.v) };
    step = ck.state.step;
    position = ck.state.dataPosition;
    epoch = ck.state.epoch;
    best = ck.state.best;
    await metrics.truncate(step);
    // The last validation before the resumed step (a run resumed at its last step, to be
    // evaluated, reports the validation its training ended with).
    resumedVal = readJsonlLenientSync<MetricsRecord>(metrics.path)
      .filter((r) => r.kind === "val" && r.step <= step).at(-1) ?? null;
    progress.message(`resumed from ${last.dir} (step ${step}, data position ${position})`);
  } else {
    if (!opts.resume && existing.length > 0) {
      throw new Error(
        `run directory ${runDir} already has checkpoints (newest: ${
          existing[existing.length - 1].dir
        }); ` +
          `pass --resume to continue it, or use a new run name`,
      );
    }
    const p0 = opts.initFrom ?? initHostParams(model, cfg.seed);
    init = { params: p0, m: zeroMoments(p0), v: zeroMoments(p0) };
    await metrics.reset();
  }
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

    const summarize = (auxSum: Float64Array, hidden: number[]) => {
      const loss_heads: Record<string, number> = {}, acc_heads: Record<string, number> = {};
      let c = 0, n = 0;
      HEADS.forEach((h, i) => {
        loss_heads[h] = hidden[i] ? auxSum[i * 2] / hidden[i] : NaN;
        acc_heads[h] = hidden[i] ? auxSum[i * 2 + 1] / hidden[i] : NaN;
        c += auxSum[i * 2 + 1];
        n += hidden[i];
      });
      return { loss_heads, acc_heads, acc: n ? c / n : NaN };
    };

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
      const s = summarize(aux, hidden);
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
    // interval accumulators
    let ivSteps = 0,
      ivLoss = 0,
      ivTokens = 0,
      ivStart = performance.now(),
      ivHidden = new Array<number>(N_HEADS).fill(0),
      ivValid = 0;
    let ivAux = new Float64Array(AUX_LEN);
    let ivLr = 0, ivG = 0, ivClipped = 0, ivNominal = 0, ivNominalN = 0;
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
      if (next.nominal !== null) (ivNominal += next.nominal, ivNominalN++);
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
      ivSteps++;
      ivLoss += loss;
      ivTokens += cur.reduce((a, m) => a + m.batch.B * L, 0);
      for (let i = 0; i < AUX_LEN; i++) ivAux[i] += aux[i];
      cur.forEach((m) => {
        m.hidden.forEach((h, i) => (ivHidden[i] += h));
        ivValid += m.validSlots;
      });
      ivLr = lrAt(optim, step - 1);
      ivG += gnorm;
      if (clipScale(optim.clipNorm, gnorm) < 1) ivClipped++;
      smoothLoss = Number.isNaN(smoothLoss) ? loss : 0.9 * smoothLoss + 0.1 * loss;

      const now = performance.now();
      const elapsedIv = (now - ivStart) / 1000;
      const tokS = ivTokens / Math.max(1e-9, elapsedIv);
      const etaS = (target - step) * (elapsedIv / ivSteps);
      progress.update(
        progressLine(step, target, smoothLoss, tokS, etaS),
        step % tc.log_every === 0,
      );

      if (step % tc.log_every === 0 || step === target) {
        const s = summarize(ivAux, ivHidden);
        const rec: MetricsRecord = {
          kind: "train",
          step,
          epoch,
          loss: ivLoss / ivSteps,
          ...s,
          mask_rate: ivHidden.reduce((a, b) => a + b, 0) / Math.max(1, ivValid),
          mask_nominal: ivNominalN ? ivNominal / ivNominalN : null,
          lr: ivLr,
          grad_norm: ivG / ivSteps,
          steps: ivSteps,
          clipped: ivClipped,
          tokens_per_s: tokS,
          ms_per_step: (elapsedIv * 1000) / ivSteps,
          elapsed_s: (now - t0) / 1000,
          rss_mb: rssMb(),
        };
        await metrics.append([rec]);
        opts.onLog?.(rec);
        ivSteps = 0,
          ivLoss = 0,
          ivTokens = 0,
          ivHidden = new Array<number>(N_HEADS).fill(0),
          ivValid = 0,
          ivAux = new Float64Array(AUX_LEN);
        ivG = 0, ivClipped = 0, ivNominal = 0, ivNominalN = 0;
        ivStart = performance.now();
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
        ivStart = performance.now(); // keep validation time out of tokens/s
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
