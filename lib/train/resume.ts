/**
 * Where a training run starts: a fresh initialisation (seeded, or the parameters a fine-tune
 * starts from) or the newest intact checkpoint of the run directory. A resume verifies each
 * checkpoint's checksums and sets damaged ones aside (loudly, falling back to the previous one),
 * refuses a checkpoint of another model or architecture, truncates metrics.jsonl to the resumed
 * step and returns the validation the run had reached.
 *
 * @module
 */

import {
  type Checkpoint,
  listCheckpoints,
  loadCheckpoint,
  retrainCommand,
  verifyCheckpoint,
} from "../model/checkpoint.ts";
import type { ModelConfig } from "../model/model_config.ts";
import { archFingerprint, type HostParams, initHostParams } from "../model/params.ts";
import { readJsonlLenientSync } from "../util/jsonl.ts";
import type { MetricsRecord, MetricsSink } from "./log.ts";
import { type HostState, zeroMoments } from "./engine.ts";

/** What {@link openRun} needs. */
export interface OpenRunOptions {
  /** Run directory (checkpoints/ and metrics.jsonl inside). */
  runDir: string;
  /** The resolved model config the run trains. */
  model: ModelConfig;
  /** Config seed (the seeded initialisation and the tensor order). */
  seed: number;
  /** Continue from the newest intact checkpoint. */
  resume: boolean;
  /** Start from these parameters instead of the seeded initialisation (ignored on resume). */
  initFrom?: HostParams;
  /** The run's metrics (reset on a fresh start, truncated to the step on resume). */
  metrics: MetricsSink;
  /** Reports a recovered problem (kept in the run's warnings). */
  warn: (line: string) => void;
  /** A progress message. */
  message: (line: string) => void;
}

/** The state a run starts from. */
export interface OpenedRun {
  /** Parameters and Adam moments. */
  init: HostState;
  /** Optimizer step, data position and epoch. */
  step: number;
  position: number;
  epoch: number;
  /** Best shared validation score so far and its step. */
  best: { loss: number; step: number } | null;
  /** The last validation before the resumed step (null on a fresh start). */
  resumedVal: MetricsRecord | null;
  /** The run's checkpoints after any damaged ones were set aside. */
  existing: Awaited<ReturnType<typeof listCheckpoints>>;
}

/** Open a run: fresh, or resumed from its newest intact checkpoint (see the module note). */
export async function openRun(o: OpenRunOptions): Promise<OpenedRun> {
  const { runDir, model } = o;
  let init: HostState;
  let step = 0, position = 0, epoch = 0;
  let best: { loss: number; step: number } | null = null;
  let resumedVal: MetricsRecord | null = null;
  let existing = await listCheckpoints(runDir);
  if (o.resume && existing.length > 0) {
    // The newest checkpoint that passes its checksums; damaged ones are set aside, loudly.
    let last = existing[existing.length - 1];
    let ck: Checkpoint | null = null;
    const damaged: string[] = [];
    for (let i = existing.length - 1; i >= 0 && !ck; i--) {
      last = existing[i];
      try {
        ck = await loadCheckpoint(last.dir, {
          onUnverified: (d) =>
            o.warn(`checkpoint ${d} has no checksums.json (older format): unverified`),
        });
      } catch (e) {
        const aside = `${last.dir}.damaged`;
        await Deno.remove(aside, { recursive: true }).catch(() => {});
        await Deno.rename(last.dir, aside);
        damaged.push((e as Error).message);
        o.warn(
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
        o.warn(`resume: ${p.file} ${p.reason}; it is rewritten at the run's next improvement`);
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
    const order = Object.keys(initHostParams(model, o.seed));
    const ordered = (h: HostParams): HostParams => Object.fromEntries(order.map((k) => [k, h[k]]));
    init = { params: ordered(ck.params), m: ordered(ck.m), v: ordered(ck.v) };
    step = ck.state.step;
    position = ck.state.dataPosition;
    epoch = ck.state.epoch;
    best = ck.state.best;
    await o.metrics.truncate(step);
    // The last validation before the resumed step (a run resumed at its last step, to be
    // evaluated, reports the validation its training ended with).
    resumedVal = readJsonlLenientSync<MetricsRecord>(o.metrics.path)
      .filter((r) => r.kind === "val" && r.step <= step).at(-1) ?? null;
    o.message(`resumed from ${last.dir} (step ${step}, data position ${position})`);
  } else {
    if (!o.resume && existing.length > 0) {
      throw new Error(
        `run directory ${runDir} already has checkpoints (newest: ${
          existing[existing.length - 1].dir
        }); ` +
          `pass --resume to continue it, or use a new run name`,
      );
    }
    const p0 = o.initFrom ?? initHostParams(model, o.seed);
    init = { params: p0, m: zeroMoments(p0), v: zeroMoments(p0) };
    await o.metrics.reset();
  }
  return { init, step, position, epoch, best, resumedVal, existing };
}
