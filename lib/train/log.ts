/**
 * Training logs: metrics records (one JSON object per line in
 * `metrics.jsonl`, mirrored into a TensorBoard event file beside it by
 * {@link MetricsSink}) and a terminal progress line.
 *
 * @module
 */

import { writeFileAtomic } from "../util/fs.ts";
import { parseJsonlLenient } from "../util/jsonl.ts";
import { formatDuration } from "../util/format.ts";
import { textBar } from "../util/progress.ts";
import { TensorBoardWriter } from "./tensorboard.ts";

/**
 * One metrics record (`kind: "train"` every log step, `kind: "val"` every validation).
 *
 * A val record holds two validation losses: `loss`, the run's own objective on its own
 * validation masks (drawn by the run's strategy at the validation's step and epoch, so a
 * scheduled run is validated at the schedule's current ratio), and `val_elbo`, the objective
 * every run shares (the any-order ELBO on fixed masks, see `VAL_ELBO_TS` in
 * lib/train/loop.ts); only `val_elbo` and the next-frame / next-action accuracies are
 * comparable between variants.
 */
export interface MetricsRecord {
  kind: "train" | "val";
  /** Optimizer steps completed when the record was taken. */
  step: number;
  epoch: number;
  /** Loss (the run's own training objective; val: on its own validation masks). */
  loss: number;
  /** Mean cross-entropy over hidden slots per head. */
  loss_heads: Record<string, number>;
  /** Accuracy (argmax) over all hidden slots. */
  acc: number;
  /** Accuracy over hidden slots per head. */
  acc_heads: Record<string, number>;
  /**
   * Measured mask rate: hidden slots / valid slots (149 per frame: 147 cell attributes,
   * direction, action) of the masks the loss used (train: over the log interval; val: the run's
   * own validation masks).
   */
  mask_rate: number;
  /**
   * Nominal mask ratio the strategy's config gives at this position (train: mean over the log
   * interval's steps; val: at the validation's step): `ratio` for cell/attribute, the schedule's
   * p for scheduled, E[t] for any_order; null for target-only and mixture strategies, or when
   * the caller gave no `nominalRatio`.
   */
  mask_nominal?: number | null;
  /**
   * Val only: the common validation objective, the any-order ELBO on fixed masks in nats per
   * valid slot (an upper bound on the NLL per slot), the same masks for every run.
   */
  val_elbo?: number;
  /** Val only: next-frame cell accuracy (all three attributes right) on the fixed validation windows. */
  next_frame_cell_acc?: number;
  /** Val only: the same over the cells that changed since the previous frame. */
  next_frame_changed_acc?: number;
  /** Val only: next-action accuracy on the fixed validation windows (scored as lib/eval does). */
  next_action_acc?: number;
  lr?: number;
  /** Train only: mean pre-clipping global gradient norm over the record's steps. */
  grad_norm?: number;
  /** Train only: optimizer steps the record covers (its log interval). */
  steps?: number;
  /** Train only: of those, steps whose gradient was clipped (norm above train.clip_norm). */
  clipped?: number;
  /** Sequence positions processed per second over the log interval (train only). */
  tokens_per_s?: number;
  /** Wall-clock ms per optimizer step over the log interval (train only). */
  ms_per_step?: number;
  /** Seconds since the start of this process's training. */
  elapsed_s: number;
  /** Resident set size in MiB. */
  rss_mb: number;
}

function jsonlBytes(recs: unknown[]): Uint8Array {
  return new TextEncoder().encode(recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
}

function appendFailed(path: string, e: unknown): Error {
  return new Error(
    `write ${path}: ${(e as Error).message} (the records of this write were dropped; ` +
      `the file keeps only whole records)`,
    { cause: e },
  );
}

/**
 * Append records to a jsonl file (created if missing), whole or not at all: when the write fails
 * (full disk, permissions) the file is cut back to its previous length, so it stays a sequence of
 * whole records, and the error names the file.
 */
export async function appendJsonl(path: string, recs: unknown[]): Promise<void> {
  if (recs.length === 0) return;
  let size = 0;
  try {
    size = (await Deno.stat(path)).size;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw appendFailed(path, e);
  }
  try {
    await Deno.writeFile(path, jsonlBytes(recs), { append: true });
  } catch (e) {
    await Deno.truncate(path, size).catch(() => {});
    throw appendFailed(path, e);
  }
}

/** The synchronous twin of {@link appendJsonl} (whole records or none, errors name the file). */
export function appendJsonlSync(path: string, recs: unknown[]): void {
  if (recs.length === 0) return;
  let size = 0;
  try {
    size = Deno.statSync(path).size;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw appendFailed(path, e);
  }
  try {
    Deno.writeFileSync(path, jsonlBytes(recs), { append: true });
  } catch (e) {
    try {
      Deno.truncateSync(path, size);
    } catch { /* nothing to cut */ }
    throw appendFailed(path, e);
  }
}

/** Keep only records with `step <= maxStep` (used when resuming), rewriting atomically. */
export async function truncateJsonl(path: string, maxStep: number): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const keep = text.split("\n").filter((l) => {
    if (!l.trim()) return false;
    try {
      return (JSON.parse(l).step ?? 0) <= maxStep;
    } catch {
      return false;
    }
  });
  await writeFileAtomic(path, keep.length ? keep.join("\n") + "\n" : "");
}

/**
 * The final evaluation of a run (`kind: "eval"`, one per run, written by lib/experiment/ablate.ts
 * after training): every metric of lib/eval under its own name, at the run's last step. In
 * TensorBoard the metrics are the scalars `eval/<metric>`. Readers of train/val curves select by
 * `kind`, so this record does not disturb them.
 */
export interface EvalRecord {
  kind: "eval";
  /** The step of the evaluated parameters (the run's last optimizer step). */
  step: number;
  /** A metric; NaN (undefined metrics) is stored as null, as JSON has no NaN. */
  [metric: string]: number | string | null;
}

/** Options of {@link MetricsSink}. */
export interface MetricsSinkOptions {
  /** Also write the TensorBoard event file (default true). */
  tensorboard?: boolean;
  /** Called once if the event file cannot be written (default: a console warning). */
  onTensorBoardError?: (e: unknown) => void;
}

/**
 * Where a run's metrics go: `metrics.jsonl` (the record of truth) and a TensorBoard event file in
 * the same directory (`events.out.tfevents.*`, lib/train/tensorboard.ts) holding exactly the
 * scalars of the jsonl records, so `tensorboard --logdir runs/` shows every run.
 *
 * Whenever the jsonl is rewritten ({@link MetricsSink.reset} for a new run,
 * {@link MetricsSink.truncate} on resume, {@link MetricsSink.setEval}) the event file is rebuilt
 * from it, so steps discarded by a resume never appear twice. Event-file errors never stop
 * training (the writer reports once and turns itself off); jsonl errors throw as before.
 */
export class MetricsSink {
  #tb: TensorBoardWriter | null = null;
  #opts: MetricsSinkOptions;

  /** @param path the run's `metrics.jsonl`; the event file goes into its directory. */
  constructor(readonly path: string, opts: MetricsSinkOptions = {}) {
    this.#opts = opts;
  }

  /** The run directory (the folder of `metrics.jsonl`). */
  get dir(): string {
    const i = this.path.lastIndexOf("/");
    return i < 0 ? "." : i === 0 ? "/" : this.path.slice(0, i);
  }

  /** Start an empty `metrics.jsonl` and a new event file (a new run). */
  async reset(): Promise<void> {
    await writeFileAtomic(this.path, "");
    await this.#rebuild();
  }

  /** Keep the records with `step <= maxStep` (resume) and rebuild the event file from them. */
  async truncate(maxStep: number): Promise<void> {
    await truncateJsonl(this.path, maxStep);
    await this.#rebuild();
  }

  /** Append records to `metrics.jsonl`, then their scalars to the event file (flushed on every call). */
  async append(recs: unknown[]): Promise<void> {
    if (recs.length === 0) return;
    await appendJsonl(this.path, recs);
    if (this.#opts.tensorboard === false) return;
    // First append without reset/truncate: the event file starts from the whole jsonl.
    if (!this.#tb) await this.#rebuild();
    else await this.#tb.write(recs as Record<string, unknown>[]);
  }

  /**
   * Record a run's final evaluation: replaces any earlier `kind: "eval"` record (a run
   * re-evaluated by a newer evaluation suite keeps one) with `{ kind: "eval", step, ...metrics }`
   * and rebuilds the event file, where the metrics become `eval/<metric>` at `step`.
   */
  async setEval(step: number, metrics: Record<string, number>): Promise<EvalRecord> {
    const rec: EvalRecord = { kind: "eval", step };
    for (const [k, v] of Object.entries(metrics)) {
      if (k === "kind" || k === "step") {
        throw new Error(`metrics.jsonl eval record: a metric may not be named '${k}'`);
      }
      rec[k] = Number.isFinite(v) ? v : null;
    }
    let text = "";
    try {
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const keep = parseJsonlLenient(text).filter((r) => r.kind !== "eval");
    keep.push(rec);
    await writeFileAtomic(this.path, keep.map((r) => JSON.stringify(r)).join("\n") + "\n");
    await this.#rebuild();
    return rec;
  }

  /** A fresh event file (older ones removed) holding the scalars of every jsonl record. */
  async #rebuild(): Promise<void> {
    if (this.#opts.tensorboard === false) return;
    const wasOff = this.#tb?.disabled ?? false;
    if (wasOff) return; // reported once already; metrics.jsonl stays complete
    let recs: Record<string, unknown>[] = [];
    try {
      recs = parseJsonlLenient(await Deno.readTextFile(this.path));
    } catch { /* no jsonl yet: an empty event file */ }
    this.#tb = await TensorBoardWriter.create(this.dir, {
      fresh: true,
      onError: this.#opts.onTensorBoardError,
    });
    await this.#tb.write(recs);
  }
}

/** One progress line: `step 120/2000 [=====>     ] 6% loss 1.234 | 5,012 tok/s | ETA 12m30s`. */
export function progressLine(
  step: number,
  total: number,
  loss: number,
  tokPerS: number,
  etaS: number,
): string {
  const frac = total > 0 ? Math.min(1, step / total) : 1;
  return `step ${step}/${total} ${textBar(frac, 24)} ${(frac * 100).toFixed(0).padStart(3)}% loss ${
    loss.toFixed(4)
  } | ${Math.round(tokPerS).toLocaleString("en-US")} tok/s | ETA ${formatDuration(etaS)}`;
}
