/**
 * Seed-disjoint train / val / test splits.
 *
 * Every episode is identified by (env id, env seed). Splits are disjoint by env
 * seed *by construction*: split number `s` (train 0, val 1, test 2, and a fourth
 * stream `heldout` 3 reserved for closed-loop evaluation beyond the test split)
 * only ever uses seeds `seed ≡ s (mod 4)`. Inside a split, each env id draws its
 * own seeds `s + 4 k` (distinct `k`) from a PRNG keyed by (`data.seed`, split
 * name, env id) alone ({@link SPLIT_RULE} 2). So an env id gets the same seeds in
 * every dataset with that `data.seed`, whatever the other env ids are and in
 * whatever order they are listed: every variant of a study (one env or several)
 * is scored on the same held-out test episodes and fine-tuned on the same demos.
 * A longer draw extends a shorter one (prefix property): growing a split adds
 * episodes without changing the ones before, and growing the train split leaves
 * the val and test seeds unchanged. Two env ids may share a seed number (they are
 * different episodes); within one env id no seed repeats.
 *
 * Rule 1 (before) drew one stream per split and handed it out to the env ids in
 * the order of `data.envs`, so an env id's seeds depended on the env ids listed
 * before it. Datasets record the rule through their version (`DATASET_VERSION` in
 * store.ts); one collected under rule 1 is refused with a message to recollect.
 *
 * Env ids of a dataset: `envs` followed by the `test_envs` not already in it.
 * Every split is collected on all of them (training code selects the env ids it
 * trains on; the test-env train split provides fine-tuning demonstrations).
 *
 * @module
 */

import type { DataConfig } from "../config/schema.ts";

/** The three stored splits. */
export const SPLITS = ["train", "val", "test"] as const;
/** A stored split name. */
export type SplitName = typeof SPLITS[number];
/** A seed stream: a stored split, or `heldout` (extra evaluation seeds, never stored). */
export type SeedStream = SplitName | "heldout";

const STREAM_INDEX: Record<SeedStream, number> = { train: 0, val: 1, test: 2, heldout: 3 };
const STREAMS = 4;
/** Largest seed handed out, exclusive (seeds stay below 2^31). */
export const SEED_LIMIT = 2 ** 31;
/**
 * Version of the rule that maps (`data.seed`, split, env id) to env seeds (see the module doc).
 * Any change to the seeds a config selects must bump it and `DATASET_VERSION` (store.ts).
 */
export const SPLIT_RULE = 2;

/** The part of the data config that decides the splits (the schema's `data` keys). */
export type SplitConfig =
  & Pick<DataConfig, "seed" | "envs" | "episodes">
  & Partial<Pick<DataConfig, "test_envs">>;

/** Env ids of a dataset in index order: `envs`, then the `test_envs` not already listed. */
export function datasetEnvIds(cfg: Pick<SplitConfig, "envs" | "test_envs">): string[] {
  const out: string[] = [];
  for (const id of [...cfg.envs, ...(cfg.test_envs ?? [])]) if (!out.includes(id)) out.push(id);
  return out;
}

/** SplitMix64 over BigInt: a tiny, well-mixed, exactly reproducible PRNG. */
class SplitMix64 {
  #s: bigint;
  constructor(seed: bigint) {
    this.#s = BigInt.asUintN(64, seed);
  }
  next(): bigint {
    this.#s = BigInt.asUintN(64, this.#s + 0x9e3779b97f4a7c15n);
    let z = this.#s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }
}

/** FNV-1a 64 of a string (stream keys). */
function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) {
    h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  }
  return h;
}

/**
 * `count` distinct env seeds of `envId` in one stream, in draw order, all
 * `≡ streamIndex (mod 4)` and below {@link SEED_LIMIT}. Deterministic in
 * (`dataSeed`, `stream`, `envId`) and nothing else; a longer draw extends a
 * shorter one (prefix property).
 */
export function streamSeeds(
  dataSeed: number,
  stream: SeedStream,
  envId: string,
  count: number,
): number[] {
  if (!Number.isSafeInteger(dataSeed)) {
    throw new Error(`data.seed must be an integer, got ${dataSeed}`);
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`seed count must be an integer >= 0, got ${count}`);
  }
  const s = STREAM_INDEX[stream];
  if (s === undefined) {
    throw new Error(`unknown split ${JSON.stringify(stream)}; use train, val, test or heldout`);
  }
  if (typeof envId !== "string" || envId === "") {
    throw new Error(`env id must be a non-empty string, got ${JSON.stringify(envId)}`);
  }
  // heldout keeps the key it always had, so closed-loop seeds did not move with rule 2
  const key = stream === "heldout" ? `heldout:${envId}` : `split:${stream}:${envId}`;
  const kLimit = BigInt(Math.floor(SEED_LIMIT / STREAMS));
  const rng = new SplitMix64(fnv1a64(key) ^ BigInt.asUintN(64, BigInt(dataSeed)));
  const seen = new Set<number>();
  const out: number[] = [];
  while (out.length < count) {
    const k = Number(rng.next() % kLimit);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(s + STREAMS * k);
  }
  return out;
}

/** Episodes of one env id in one split. */
export interface SplitPart {
  /** Env id. */
  envId: string;
  /** Index of the env id in {@link datasetEnvIds}. */
  envIndex: number;
  /** Env seeds, one per episode, in collection order. */
  seeds: number[];
}

/**
 * The episodes of a split: for each env id (in {@link datasetEnvIds} order), its
 * `episodes[split]` env seeds ({@link streamSeeds} of that env id). Throws when
 * the split would have zero episodes.
 */
export function splitPlan(cfg: SplitConfig, split: SplitName): SplitPart[] {
  if (!SPLITS.includes(split)) {
    throw new Error(`unknown split ${JSON.stringify(split)}; use one of ${SPLITS.join(", ")}`);
  }
  const n = cfg.episodes?.[split];
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`data.episodes.${split} must be an integer >= 0, got ${JSON.stringify(n)}`);
  }
  const envIds = datasetEnvIds(cfg);
  if (envIds.length === 0) throw new Error("data.envs is empty: list at least one env id");
  if (n === 0) {
    throw new Error(
      `data.episodes.${split} is 0: every split needs at least one episode per env id ` +
        `(set data.episodes.${split} >= 1)`,
    );
  }
  return envIds.map((envId, envIndex) => ({
    envId,
    envIndex,
    seeds: streamSeeds(cfg.seed, split, envId, n),
  }));
}

/** The env seeds of one env id in one split (e.g. held-out test seeds for closed-loop evaluation). */
export function envSplitSeeds(cfg: SplitConfig, split: SplitName, envId: string): number[] {
  const part = splitPlan(cfg, split).find((p) => p.envId === envId);
  if (!part) {
    throw new Error(
      `env id ${envId} is not in this dataset (env ids: ${datasetEnvIds(cfg).join(", ")})`,
    );
  }
  return part.seeds;
}

/**
 * `count` evaluation seeds for an env id, disjoint from every stored split of any
 * dataset (they are `≡ 3 (mod 4)`, the `heldout` stream of {@link streamSeeds},
 * keyed by (`dataSeed`, env id)); prefix property as there.
 */
export function heldOutSeeds(dataSeed: number, envId: string, count: number): number[] {
  return streamSeeds(dataSeed, "heldout", envId, count);
}
