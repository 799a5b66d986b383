/**
 * The statistics of one logging interval of training: the steps since the last train record,
 * summed on the host (loss, per-head loss sums and correct counts, hidden and valid slots,
 * gradient norm, clipped steps, nominal mask ratio, tokens and time), and the train record they
 * make. Validation summarises its per-head sums with the same {@link summarizeHeads}.
 *
 * @module
 */

import { HEADS, N_HEADS } from "./loss.ts";
import type { MetricsRecord } from "./log.ts";

/** Length of the per-head statistics a loss returns: per head, the loss sum and the correct count. */
export const AUX_LEN = N_HEADS * 2;

/** Per-head mean loss and accuracy over the hidden slots, and the accuracy over all heads. */
export function summarizeHeads(auxSum: Float64Array, hidden: number[]) {
  const loss_heads: Record<string, number> = {}, acc_heads: Record<string, number> = {};
  let c = 0, n = 0;
  HEADS.forEach((h, i) => {
    loss_heads[h] = hidden[i] ? auxSum[i * 2] / hidden[i] : NaN;
    acc_heads[h] = hidden[i] ? auxSum[i * 2 + 1] / hidden[i] : NaN;
    c += auxSum[i * 2 + 1];
    n += hidden[i];
  });
  return { loss_heads, acc_heads, acc: n ? c / n : NaN };
}

/** One micro-batch's slot counts, as the interval sums them. */
export interface MicroCounts {
  /** Windows in the micro-batch. */
  B: number;
  /** Hidden slots per head. */
  hidden: number[];
  /** Valid (non-padding) slots. */
  validSlots: number;
}

/** What one optimizer step adds to an interval. */
export interface StepStats {
  loss: number;
  gnorm: number;
  /** Per-head loss sums and correct counts of the step (length {@link AUX_LEN}). */
  aux: Float64Array;
  /** The learning rate the step used. */
  lr: number;
  /** Whether the gradient norm was clipped. */
  clipped: boolean;
  /** The strategy's nominal mask ratio at the step, or null. */
  nominal: number | null;
  /** The step's micro-batches. */
  micro: MicroCounts[];
}

/** Running sums of a logging interval; {@link record} makes the train record and starts anew. */
export class TrainInterval {
  steps = 0;
  private loss = 0;
  private tokens = 0;
  private start = performance.now();
  private hidden = new Array<number>(N_HEADS).fill(0);
  private valid = 0;
  private aux = new Float64Array(AUX_LEN);
  private lr = 0;
  private gnorm = 0;
  private clipped = 0;
  private nominal = 0;
  private nominalN = 0;

  /** @param seqLen positions per window (tokens per window). */
  constructor(private readonly seqLen: number) {}

  /** Add one optimizer step. */
  add(s: StepStats): void {
    if (s.nominal !== null) (this.nominal += s.nominal, this.nominalN++);
    this.steps++;
    this.loss += s.loss;
    this.tokens += s.micro.reduce((a, m) => a + m.B * this.seqLen, 0);
    for (let i = 0; i < AUX_LEN; i++) this.aux[i] += s.aux[i];
    for (const m of s.micro) {
      m.hidden.forEach((h, i) => (this.hidden[i] += h));
      this.valid += m.validSlots;
    }
    this.lr = s.lr;
    this.gnorm += s.gnorm;
    if (s.clipped) this.clipped++;
  }

  /** Seconds since the interval (or its clock) started. */
  elapsed(now: number): number {
    return (now - this.start) / 1000;
  }

  /** Tokens per second over the interval. */
  tokensPerS(now: number): number {
    return this.tokens / Math.max(1e-9, this.elapsed(now));
  }

  /** Restart the clock (keeps validation time out of tokens/s). */
  restartClock(): void {
    this.start = performance.now();
  }

  /** The train record of the interval, then a fresh interval. */
  record(
    step: number,
    epoch: number,
    now: number,
    t0: number,
    rssMb: number,
  ): MetricsRecord {
    const elapsedIv = this.elapsed(now);
    const rec: MetricsRecord = {
      kind: "train",
      step,
      epoch,
      loss: this.loss / this.steps,
      ...summarizeHeads(this.aux, this.hidden),
      mask_rate: this.hidden.reduce((a, b) => a + b, 0) / Math.max(1, this.valid),
      mask_nominal: this.nominalN ? this.nominal / this.nominalN : null,
      lr: this.lr,
      grad_norm: this.gnorm / this.steps,
      steps: this.steps,
      clipped: this.clipped,
      tokens_per_s: this.tokensPerS(now),
      ms_per_step: (elapsedIv * 1000) / this.steps,
      elapsed_s: (now - t0) / 1000,
      rss_mb: rssMb,
    };
    this.steps = 0;
    this.loss = 0;
    this.tokens = 0;
    this.hidden = new Array<number>(N_HEADS).fill(0);
    this.valid = 0;
    this.aux = new Float64Array(AUX_LEN);
    this.gnorm = 0;
    this.clipped = 0;
    this.nominal = 0;
    this.nominalN = 0;
    this.start = performance.now();
    return rec;
  }
}
