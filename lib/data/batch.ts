/**
 * Batches of windows for training and evaluation: a deterministic shuffle per epoch, an iterator
 * over (epoch, index) positions that resumes exactly, and all data in memory (the episodes are
 * loaded once; a batch is a copy out of them, never a file read).
 *
 * Order: epoch `e` visits the windows in the permutation {@link epochPermutation}`(n, seed, e)`
 * (a Fisher–Yates shuffle driven by `Rng(seed, e, tag)`), or in stored order when `shuffle` is
 * false. Batch `i` of an epoch is the permuted windows `[i·B, (i+1)·B)`.
 *
 * Drop-last policy: with `dropLast: true` (the default, used for training) an epoch has
 * `floor(n / B)` batches, all of exactly `B` windows (fixed shapes, so a jitted step never
 * recompiles); the `n mod B` windows left over are skipped *for that epoch only* — the next
 * epoch's shuffle puts different windows at the end. With `dropLast: false` (evaluation) an epoch
 * has `ceil(n / B)` batches and the last one has `n mod B` windows (`batch.B` is smaller).
 *
 * Resume: the iterator's {@link BatchIterator.position} is the `(epoch, index)` of the batch that
 * `next()` returns next; constructing a new iterator with that position (same dataset, seed, batch
 * size) continues with exactly the same batches.
 *
 * @module
 */

import type { Batch } from "./types.ts";
import { allocBatch, fillBatch, type WindowedDataset } from "./tokenize.ts";
import { Rng } from "../util/prng.ts";

/** Domain tag mixed into shuffle seeds so they never coincide with mask streams. */
const SHUFFLE_TAG = 0x5348;

/** Where an iterator stands: the batch `index` of epoch `epoch` is the next one returned. */
export interface BatchPosition {
  /** Epoch, from 0. */
  epoch: number;
  /** Batch index within the epoch, from 0. */
  index: number;
}

/** The permutation of `n` windows used in epoch `epoch` (deterministic from `(seed, epoch)`). */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = new Rng(seed, epoch, SHUFFLE_TAG);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Options of {@link BatchIterator}. */
export interface BatchIteratorOptions {
  /** Windows per batch. */
  batchSize: number;
  /** Shuffle seed (the experiment's master seed, typically). */
  seed: number;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Drop each epoch's incomplete last batch (default true; see the module doc). */
  dropLast?: boolean;
  /** Start here instead of (0, 0) (resume). */
  position?: BatchPosition;
  /**
   * Refill one Batch object in place on every `next()` (no allocation per batch). The returned
   * batch is then only valid until the next call. Default false: a fresh batch each call.
   */
  reuse?: boolean;
}

/** One batch and where it came from. */
export interface BatchItem {
  /** The tokenized windows. */
  batch: Batch;
  /** The position of this batch. */
  position: BatchPosition;
  /** Window ids (into the dataset) of the batch rows. */
  windowIds: Uint32Array;
}

/** Iterates batches over epochs forever (the caller decides when to stop). */
export class BatchIterator {
  /** The windows. */
  readonly ds: WindowedDataset;
  /** Windows per full batch. */
  readonly batchSize: number;
  /** Shuffle seed. */
  readonly seed: number;
  /** Whether epochs are shuffled. */
  readonly shuffle: boolean;
  /** Drop-last policy. */
  readonly dropLast: boolean;
  /** Batches per epoch. */
  readonly batchesPerEpoch: number;
  #epoch: number;
  #index: number;
  #perm: Uint32Array | null = null;
  #permEpoch = -1;
  #reuse: Batch | null;

  /** See {@link BatchIteratorOptions}. */
  constructor(ds: WindowedDataset, opts: BatchIteratorOptions) {
    const B = opts.batchSize;
    if (!Number.isInteger(B) || B < 1) {
      throw new Error(`batch size must be an integer >= 1, got ${B}`);
    }
    this.ds = ds;
    this.batchSize = B;
    this.seed = opts.seed;
    this.shuffle = opts.shuffle ?? true;
    this.dropLast = opts.dropLast ?? true;
    const n = ds.numWindows;
    this.batchesPerEpoch = this.dropLast ? Math.floor(n / B) : Math.ceil(n / B);
    if (this.batchesPerEpoch === 0) {
      throw new Error(
        `only ${n} windows for batch size ${B} with drop-last: no full batch per epoch; ` +
          `lower train.batch_size or collect more episodes`,
      );
    }
    const pos = opts.position ?? { epoch: 0, index: 0 };
    if (
      !Number.isInteger(pos.epoch) || pos.epoch < 0 || !Number.isInteger(pos.index) ||
      pos.index < 0 || pos.index > this.batchesPerEpoch
    ) {
      throw new Error(
        `resume position (epoch ${pos.epoch}, index ${pos.index}) is invalid for ` +
          `${this.batchesPerEpoch} batches per epoch; was the batch size or dataset changed?`,
      );
    }
    this.#epoch = pos.epoch;
    this.#index = pos.index;
    this.#reuse = opts.reuse ? allocBatch(B, ds.K, ds.M) : null;
  }

  /** The position of the batch that {@link next} returns next. */
  get position(): BatchPosition {
    this.#normalize();
    return { epoch: this.#epoch, index: this.#index };
  }

  /** Number of batches returned so far counting from (0, 0): `epoch · batchesPerEpoch + index`. */
  get globalIndex(): number {
    this.#normalize();
    return this.#epoch * this.batchesPerEpoch + this.#index;
  }

  #normalize(): void {
    if (this.#index >= this.batchesPerEpoch) {
      this.#epoch++;
      this.#index = 0;
    }
  }

  /** Window order of epoch `epoch`. */
  order(epoch: number): Uint32Array {
    if (this.#permEpoch !== epoch || !this.#perm) {
      const n = this.ds.numWindows;
      if (this.shuffle) this.#perm = epochPermutation(n, this.seed, epoch);
      else {
        this.#perm = new Uint32Array(n);
        for (let i = 0; i < n; i++) this.#perm[i] = i;
      }
      this.#permEpoch = epoch;
    }
    return this.#perm;
  }

  /** The next batch; moves to the next epoch after the last batch of an epoch. */
  next(): BatchItem {
    this.#normalize();
    const epoch = this.#epoch, index = this.#index;
    const perm = this.order(epoch);
    const from = index * this.batchSize;
    const count = Math.min(this.batchSize, perm.length - from);
    const out = this.#reuse && count === this.batchSize ? this.#reuse : undefined;
    const batch = fillBatch(this.ds, perm, out, from, count);
    this.#index++;
    return { batch, position: { epoch, index }, windowIds: perm.slice(from, from + count) };
  }

  /** The batches of one whole epoch, in order (does not move the iterator). */
  *epochBatches(epoch: number): Generator<BatchItem> {
    const perm = this.order(epoch);
    for (let index = 0; index < this.batchesPerEpoch; index++) {
      const from = index * this.batchSize;
      const count = Math.min(this.batchSize, perm.length - from);
      yield {
        batch: fillBatch(this.ds, perm, undefined, from, count),
        position: { epoch, index },
        windowIds: perm.slice(from, from + count),
      };
    }
  }
}
