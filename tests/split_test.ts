import assert from "node:assert/strict";
import {
  datasetEnvIds,
  envSplitSeeds,
  heldOutSeeds,
  SEED_LIMIT,
  SPLIT_RULE,
  type SplitConfig,
  splitPlan,
  SPLITS,
  streamSeeds,
} from "../lib/data/split.ts";
import { DATASET_FORMAT, DATASET_VERSION, readManifest } from "../lib/data/manifest.ts";
import { collectDataset } from "../lib/data/collect.ts";

const cfg: SplitConfig = {
  seed: 0,
  envs: ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"],
  test_envs: ["BabyAI-Open-v0", "BabyAI-GoToObj-v0", "BabyAI-Pickup-v0"],
  episodes: { train: 1000, val: 100, test: 100 },
};

Deno.test("split: env ids are envs then new test_envs", () => {
  assert.deepEqual(datasetEnvIds(cfg), [
    "BabyAI-GoToRedBall-v0",
    "BabyAI-Pickup-v0",
    "BabyAI-Open-v0",
    "BabyAI-GoToObj-v0",
  ]);
});

Deno.test("split: seeds are disjoint across splits, distinct within an env id, apart from held-out seeds", () => {
  for (const seed of [0, 1, 12345]) {
    const c = { ...cfg, seed };
    const seen = new Map<number, string>(); // seed -> split
    for (const split of SPLITS) {
      const plan = splitPlan(c, split);
      assert.equal(plan.length, 4);
      for (const part of plan) {
        assert.equal(part.seeds.length, c.episodes[split]);
        assert.equal(new Set(part.seeds).size, part.seeds.length, `${split}/${part.envId} repeats`);
        for (const s of part.seeds) {
          assert.ok(Number.isInteger(s) && s >= 0 && s < SEED_LIMIT);
          assert.ok(seen.get(s) === undefined || seen.get(s) === split, `seed ${s} in two splits`);
          seen.set(s, split);
        }
      }
    }
    for (const envId of datasetEnvIds(c)) {
      for (const s of heldOutSeeds(seed, envId, 200)) {
        assert.ok(!seen.has(s), `held-out seed ${s} of ${envId} is in ${seen.get(s)}`);
      }
    }
  }
});

Deno.test("split: deterministic, depends on data.seed, val/test independent of train size", () => {
  const a = splitPlan(cfg, "test");
  const b = splitPlan(structuredClone(cfg), "test");
  assert.deepEqual(a, b);
  const other = splitPlan({ ...cfg, seed: 1 }, "test");
  assert.notDeepEqual(a[0].seeds, other[0].seeds);
  const bigTrain = splitPlan({ ...cfg, episodes: { ...cfg.episodes, train: 5000 } }, "test");
  assert.deepEqual(a, bigTrain);
  // Prefix property: a longer draw extends a shorter one.
  const id = "BabyAI-Open-v0";
  assert.deepEqual(streamSeeds(3, "train", id, 10), streamSeeds(3, "train", id, 50).slice(0, 10));
  const more = splitPlan({ ...cfg, episodes: { ...cfg.episodes, test: 150 } }, "test");
  for (const [i, part] of more.entries()) assert.deepEqual(part.seeds.slice(0, 100), a[i].seeds);
  assert.deepEqual(envSplitSeeds(cfg, "val", "BabyAI-Pickup-v0"), splitPlan(cfg, "val")[1].seeds);
});

Deno.test("split: an env id's seeds do not depend on the other env ids or their order", () => {
  const one: SplitConfig = {
    seed: 0,
    envs: ["BabyAI-GoToRedBall-v0"],
    test_envs: ["BabyAI-Open-v0", "BabyAI-GoToObj-v0"],
    episodes: { train: 20, val: 5, test: 8 },
  };
  const multi = { ...one, envs: ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"] };
  const reordered = {
    ...one,
    envs: ["BabyAI-Pickup-v0", "BabyAI-GoToRedBall-v0"],
    test_envs: ["BabyAI-GoToObj-v0", "BabyAI-Open-v0"],
  };
  // more training episodes (an equal-budget single-env variant) must not move any test seed
  const bigger = { ...one, episodes: { ...one.episodes, train: 40 } };
  for (const split of SPLITS) {
    for (const envId of [...one.envs, ...one.test_envs!]) {
      const want = envSplitSeeds(one, split, envId);
      assert.equal(want.length, one.episodes[split]);
      assert.deepEqual(envSplitSeeds(multi, split, envId), want, `${split}/${envId} (multi)`);
      assert.deepEqual(envSplitSeeds(reordered, split, envId), want, `${split}/${envId} (order)`);
      const big = envSplitSeeds(bigger, split, envId);
      assert.deepEqual(big.slice(0, want.length), want, `${split}/${envId} (prefix)`);
    }
  }
  // the env id is part of the key: two env ids draw different seeds
  assert.notDeepEqual(
    envSplitSeeds(one, "test", "BabyAI-Open-v0"),
    envSplitSeeds(one, "test", "BabyAI-GoToObj-v0"),
  );
  // held-out (closed-loop) seeds are the heldout stream of each env id
  assert.deepEqual(
    heldOutSeeds(4, "BabyAI-Open-v0", 5),
    streamSeeds(4, "heldout", "BabyAI-Open-v0", 5),
  );
});

Deno.test("split: a dataset collected under the old split rule is refused with a clear message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "split_test_" });
  try {
    const old = {
      format: DATASET_FORMAT,
      version: 1,
      dataset: "old",
      status: "complete",
      config_hash: "x",
      splits: {},
    };
    await Deno.mkdir(`${dir}/old`);
    await Deno.writeTextFile(`${dir}/old/manifest.json`, JSON.stringify(old));
    await assert.rejects(
      () => readManifest(`${dir}/old`),
      /dataset version 1, this code reads version 2 \(version 2: split rule 2: each env id's split seeds.*--overwrite/,
    );
    assert.equal(DATASET_VERSION, 2);
    assert.equal(SPLIT_RULE, 2);
    // collecting into it refuses unless --overwrite, then recollects under the new rule
    const data = {
      dataset: "old",
      envs: ["MiniGrid-Empty-5x5-v0"],
      policy: "random" as const,
      episodes: { train: 2, val: 1, test: 1 },
      seed: 0,
    };
    await assert.rejects(
      () => collectDataset(data, { dataDir: dir, workers: 0, progressBar: false }),
      /split rule 2.*--overwrite/s,
    );
    const r = await collectDataset(data, {
      dataDir: dir,
      workers: 0,
      progressBar: false,
      overwrite: true,
    });
    assert.equal(r.manifest.version, 2);
    assert.equal((await readManifest(`${dir}/old`)).version, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("split: bad input is a clear error", () => {
  assert.throws(
    () => splitPlan({ ...cfg, episodes: { train: 10, val: 0, test: 5 } }, "val"),
    /episodes\.val is 0/,
  );
  assert.throws(
    () => splitPlan({ ...cfg, envs: [], test_envs: [] }, "train"),
    /data\.envs is empty/,
  );
  assert.throws(() => splitPlan(cfg, "dev" as "train"), /unknown split "dev"/);
  assert.throws(() => envSplitSeeds(cfg, "test", "BabyAI-Nope-v0"), /not in this dataset/);
  assert.throws(() => streamSeeds(0, "test", "", 3), /env id must be a non-empty string/);
  assert.throws(
    () => splitPlan({ ...cfg, episodes: { train: 1.5, val: 1, test: 1 } }, "train"),
    /integer/,
  );
});
