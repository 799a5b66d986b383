/**
 * Trajectory data: the shared contract (types), `.npy` I/O, seed-disjoint
 * splits, collection, the sharded store with checksums, tokenization into
 * windows, batching, the flat single-vocabulary serializer and the LLaDA export.
 *
 * ```ts
 * import { collectDataset, loadDataset, tokenizeEpisodes } from "./lib/data/mod.ts";
 * const { dir } = await collectDataset(cfg.data);
 * const train = await loadDataset(dir, "train");
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./npy.ts";
export * from "./split.ts";
export * from "./episodes.ts";
export * from "./manifest.ts";
export * from "./store.ts";
export * from "./rollout.ts";
export * from "./collect.ts";
export * from "./tokenize.ts";
export * from "./batch.ts";
export * from "./flat.ts";
