/**
 * Tokenize + batch + mask throughput: the `tokenize` section of `deno task bench:data`
 * (bench/data_speed.ts), also runnable alone: `deno run -A bench/tokenize_batch.ts`.
 *
 * Measures windows/s for cutting episodes into windows, filling batches (fresh and reused
 * buffers), drawing masks per strategy, and batch + cell mask together, compared with the
 * windows/s a training step consumes (`train_windows_per_s`, default 32: batch 32 at ~1 s/step,
 * see the README's training figures). Uses the given episodes, else synthetic ones (1000 episodes of 1..40
 * frames). Timings on a shared machine are noisy; nothing is asserted.
 *
 * @module
 */

import { type EpisodeData, tokenizeEpisodes } from "../lib/data/tokenize.ts";
import { syntheticEpisodes } from "../lib/testing/synthetic.ts";
import { BatchIterator } from "../lib/data/batch.ts";
import { DEFAULT_MASKING, drawMask, type MaskingConfig } from "../lib/masking/mod.ts";

/** Run `fn` repeatedly for about `seconds` (after a warm-up); returns calls per second. */
function rate(fn: () => void, seconds: number): number {
  for (let i = 0; i < 3; i++) fn();
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    fn();
    calls++;
    t = performance.now();
  }
  return calls / ((t - t0) / 1000);
}

/** Options of {@link benchTokenizeBatch}. */
export interface TokenizeBenchOptions {
  /** Episode data to use (default: synthetic). */
  data?: EpisodeData;
  /** Description of the data for the report. */
  source?: string;
  /** Seconds per measurement (default 1). */
  seconds?: number;
  /** Batch size (default 32). */
  batchSize?: number;
  /** Windows per second a training step consumes (default 32). */
  trainWindowsPerS?: number;
}

/** Tokenize + batch + mask throughput (see the module doc). */
export function benchTokenizeBatch(opts: TokenizeBenchOptions = {}): Record<string, unknown> {
  const seconds = opts.seconds ?? 1;
  const B = opts.batchSize ?? 32;
  const data = opts.data ?? syntheticEpisodes(1000, 40, 0);
  const window = { length: 4, stride: 1, mission_len: 12 };

  const t0 = performance.now();
  const ds = tokenizeEpisodes(data, window);
  const tokenizeMs = performance.now() - t0;
  const tokenizeRate = rate(() => tokenizeEpisodes(data, window, { validate: false }), seconds);

  const fresh = new BatchIterator(ds, { batchSize: B, seed: 0 });
  const reuse = new BatchIterator(ds, { batchSize: B, seed: 0, reuse: true });
  const batchFresh = rate(() => fresh.next(), seconds);
  const batchReuse = rate(() => reuse.next(), seconds);

  const batch = reuse.next().batch;
  const masks: Record<string, number> = {};
  let step = 0;
  for (const strategy of ["cell", "attribute", "any_order", "next_action", "mixture"] as const) {
    const cfg: MaskingConfig = { ...DEFAULT_MASKING, strategy };
    const r = rate(
      () => drawMask(cfg, batch, { seed: 0, epoch: 0, step: step++, batchIndex: 0 }),
      seconds,
    );
    masks[strategy] = Math.round(r * B);
  }
  const cellCfg: MaskingConfig = { ...DEFAULT_MASKING, strategy: "cell" };
  const pipeline = rate(() => {
    const it = reuse.next();
    const pos = it.position;
    drawMask(cellCfg, it.batch, {
      seed: 0,
      epoch: pos.epoch,
      step: step++,
      batchIndex: pos.index,
    });
  }, seconds) * B;

  const train = opts.trainWindowsPerS ?? 32;
  return {
    source: opts.source ?? "synthetic: 1000 episodes of 1..40 frames",
    episodes: ds.numEpisodes,
    frames: data.directions.length,
    windows: ds.numWindows,
    window,
    batch_size: B,
    tokenize_ms_first_with_validation: +tokenizeMs.toFixed(1),
    window_index_windows_per_s: Math.round(tokenizeRate * ds.numWindows),
    batch_windows_per_s_fresh: Math.round(batchFresh * B),
    batch_windows_per_s_reused: Math.round(batchReuse * B),
    mask_windows_per_s: masks,
    batch_plus_cell_mask_windows_per_s: Math.round(pipeline),
    train_windows_per_s: train,
    speedup_over_training: Math.round(pipeline / train),
    target_speedup: 20,
    meets_target: pipeline / train >= 20,
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(benchTokenizeBatch(), null, 1));
  Deno.exit(0);
}
