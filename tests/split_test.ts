import assert from "node:assert/strict";
import {
  datasetEnvIds,
  envSplitSeeds,
  heldOutSeeds,
  SEED_LIMIT,
  type SplitConfig,
  splitPlan,
  SPLITS,
  streamSeeds,
} from "../lib/data/split.ts";

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

Deno.test("split: seeds are disjoint across splits and env ids, and with held-out seeds", () => {
  for (const seed of [0, 1, 12345]) {
    const c = { ...cfg, seed };
    const seen = new Map<number, string>();
    for (const split of SPLITS) {
      const plan = splitPlan(c, split);
      assert.equal(plan.length, 4);
      for (const part of plan) {
        assert.equal(part.seeds.length, c.episodes[split]);
        for (const s of part.seeds) {
          assert.ok(Number.isInteger(s) && s >= 0 && s < SEED_LIMIT);
          const where = `${split}/${part.envId}`;
          assert.ok(!seen.has(s), `seed ${s} in ${where} and ${seen.get(s)}`);
          seen.set(s, where);
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
  assert.deepEqual(streamSeeds(3, "train", 10), streamSeeds(3, "train", 50).slice(0, 10));
  assert.deepEqual(envSplitSeeds(cfg, "val", "BabyAI-Pickup-v0"), splitPlan(cfg, "val")[1].seeds);
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
  assert.throws(
    () => splitPlan({ ...cfg, episodes: { train: 1.5, val: 1, test: 1 } }, "train"),
    /integer/,
  );
});
