/**
 * Training logs: metrics records (one JSON object per line in
 * `metrics.jsonl`) and a terminal progress line.
 *
 * @module
 */

import { writeFileAtomic } from "../model/checkpoint.ts";

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
  grad_norm?: number;
  /** Sequence positions processed per second over the log interval (train only). */
  tokens_per_s?: number;
  /** Wall-clock ms per optimizer step over the log interval (train only). */
  ms_per_step?: number;
  /** Seconds since the start of this process's training. */
  elapsed_s: number;
  /** Resident set size in MiB. */
  rss_mb: number;
}

/** Append records to a jsonl file. */
export async function appendJsonl(path: string, recs: unknown[]): Promise<void> {
  if (recs.length === 0) return;
  await Deno.writeTextFile(path, recs.map((r) => JSON.stringify(r)).join("\n") + "\n", {
    append: true,
  });
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

/** Read a jsonl file into objects. */
export async function readJsonl<T = Record<string, unknown>>(path: string): Promise<T[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

/** Format seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  s = Math.round(s);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** One progress line: `step 120/2000 [=====>     ] 6% loss 1.234 | 5,012 tok/s | ETA 12m30s`. */
export function progressLine(
  step: number,
  total: number,
  loss: number,
  tokPerS: number,
  etaS: number,
): string {
  const width = 24;
  const frac = total > 0 ? Math.min(1, step / total) : 1;
  const filled = Math.round(frac * width);
  const bar = "=".repeat(Math.max(0, filled - 1)) + (filled > 0 ? ">" : "") +
    " ".repeat(width - filled);
  return `step ${step}/${total} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% loss ${
    loss.toFixed(4)
  } | ${Math.round(tokPerS).toLocaleString("en-US")} tok/s | ETA ${formatDuration(etaS)}`;
}

/** Writes progress to stderr: an in-place line on a terminal, plain lines otherwise. */
export class Progress {
  #tty: boolean;
  #enc = new TextEncoder();
  /** @param enabled false silences it entirely. */
  constructor(readonly enabled: boolean) {
    this.#tty = enabled && Deno.stderr.isTerminal();
  }
  /** Show a progress line (in place on a terminal; off a terminal only when `force`, e.g. at log steps). */
  update(line: string, force = false): void {
    if (!this.enabled || (!this.#tty && !force)) return;
    Deno.stderr.writeSync(this.#enc.encode(this.#tty ? `\r\x1b[2K${line}` : `${line}\n`));
  }
  /** Print a message on its own line. */
  message(line: string): void {
    if (!this.enabled) return;
    Deno.stderr.writeSync(this.#enc.encode(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`));
  }
  /** End the in-place line. */
  done(): void {
    if (this.#tty) Deno.stderr.writeSync(this.#enc.encode("\n"));
  }
}
