// The metric catalogue (issue 27): every key evaluation writes is in it, scoped keys resolve,
// unknown keys get a "did you mean", and the families decide what SFT is compared on.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import {
  ACTION_VOCAB,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  OBJ_VOCAB,
  type Predictor,
  STATE_VOCAB,
} from "../lib/data/types.ts";
import { syntheticEpisodes } from "../lib/testing/synthetic.ts";
import {
  CATALOGUE,
  type ClosedLoopEpisodes,
  evaluateModel,
  metricInfo,
  resolveMetricKey,
  sftReadable,
} from "../lib/eval/mod.ts";
import { loadConfig } from "../lib/experiment/config.ts";
import { REPO_ROOT } from "../lib/experiment/rundir.ts";

const uniform: Predictor = (batch) => {
  const n = batch.B * batch.K;
  return Promise.resolve({
    obj: new Float32Array(n * CELLS * OBJ_VOCAB),
    color: new Float32Array(n * CELLS * COLOR_VOCAB),
    state: new Float32Array(n * CELLS * STATE_VOCAB),
    dir: new Float32Array(n * DIR_VOCAB),
    action: new Float32Array(n * ACTION_VOCAB),
  });
};

Deno.test("catalogue: every key evaluateModel writes is in it; obs NLL, noise, unseen success, episodes", async () => {
  const cfg = loadConfig(join(REPO_ROOT, "configs", "base.yaml"), {
    profile: "smoke",
    set: {
      "data.envs": ["BabyAI-GoToRedBall-v0"],
      "data.test_envs": ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"],
      "window.length": 4,
      "eval.decode_steps": 2,
    },
  });
  const test = {
    ...syntheticEpisodes(8, 8, 1),
    envIndex: [0, 0, 0, 0, 1, 1, 1, 1],
    envIds: ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"],
  };
  const episodes: ClosedLoopEpisodes = {};
  const m = await evaluateModel(cfg, uniform, {
    data: { test, train: syntheticEpisodes(8, 8, 2) },
    maxWindows: 32,
    episodes,
  });
  const unknown = Object.keys(m).filter((k) => !metricInfo(k));
  assert.deepEqual(unknown, [], "keys missing from lib/eval/catalogue.ts");
  // Uniform logits: NLL per cell is log 11 + log 6 + log 3, per frame 49 of them plus log 4.
  const cell = Math.log(OBJ_VOCAB) + Math.log(COLOR_VOCAB) + Math.log(STATE_VOCAB);
  assert.ok(Math.abs(m["obs_nll.per_cell"] - cell) < 1e-5, `${m["obs_nll.per_cell"]}`);
  assert.ok(Math.abs(m["obs_nll.per_frame"] - (49 * cell + Math.log(4))) < 1e-3);
  for (const p of ["copy_prev", "action_copy", "majority"]) {
    // Random synthetic frames: the baselines are finite, not better than uniform.
    assert.ok(Number.isFinite(m[`${p}.obs_nll.per_frame`]), `${p}`);
    assert.equal(m[`${p}.obs_nll.frames`], m["obs_nll.frames"], `${p}: the same windows`);
  }
  assert.ok(Number.isFinite(m["BabyAI-Pickup-v0.obs_nll.per_frame"]), "per env");
  for (const rho of cfg.eval.noise_rho) {
    for (const f of ["cell_acc", "action_acc", "success_rate"]) {
      assert.ok(`noise.rho${rho}.${f}` in m, `noise.rho${rho}.${f}`);
    }
    assert.ok(Number.isFinite(m[`action_copy.noise.rho${rho}.cell_acc`]), "the copies under noise");
  }
  const n = cfg.eval.closed_loop.episodes;
  assert.equal(m["unseen.episodes"], n, "Pickup is the only test env not trained on");
  assert.deepEqual(Object.keys(episodes).sort(), ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"]);
  for (const e of Object.values(episodes)) {
    assert.equal(e.seeds.length, n);
    assert.equal(e.success.length, n);
    assert.ok(e.success.every((x) => x === 0 || x === 1));
  }
  assert.ok(!("next_frame.action_acc" in m), "no NaN fields outside the catalogue");
  assert.ok(m["action_copy.train_hit.dir"] > 0 && m["action_copy.train_hit.dir"] < 1, "hit rates");
});

Deno.test("catalogue: scoped keys, aliases, did-you-mean, families", () => {
  assert.equal(metricInfo("BabyAI-Open-v0.success_rate")?.base, "success_rate");
  assert.equal(metricInfo("robust.unseen.q0.3.action_acc")?.family, "action");
  assert.equal(metricInfo("noise.rho0.2.success_rate")?.family, "control");
  assert.equal(
    metricInfo("finetune.k10.action_acc")?.label,
    "held-out envs, k=10 demos: action acc (every decision)",
  );
  assert.equal(metricInfo("noise.rho0.2.obs_nll.per_frame"), null);
  assert.equal(metricInfo("action_copy.noise.rho0.3.cell_acc")?.role, "baseline");
  assert.equal(metricInfo("majority.noise.rho0.3.cell_acc"), null);
  assert.equal(metricInfo("BabyAI-Open-v0.elbo_nats_per_slot"), null, "not written per env");
  assert.deepEqual(resolveMetricKey("next_frame.changed_acc"), {
    key: "next_frame.changed_cell_acc",
  });
  const bad = resolveMetricKey("obs_nll.per_frme");
  assert.ok(
    "error" in bad && /did you mean 'obs_nll\.per_frame'/.test(bad.error),
    JSON.stringify(bad),
  );
  assert.ok(sftReadable("action_acc") && sftReadable("BabyAI-Open-v0.success_rate"));
  assert.ok(!sftReadable("obs_nll.per_frame") && !sftReadable("next_frame.cell_acc"));
  for (const [k, d] of Object.entries(CATALOGUE)) {
    assert.ok(d.label && d.family && d.better && d.role, k);
    if (d.baseline) assert.ok(metricInfo(d.baseline), `${k}: baseline ${d.baseline}`);
    if (d.role === "model" && d.family !== "control") assert.notEqual(d.better, "none", k);
  }
  assert.equal(CATALOGUE["obs_nll.per_frame"].better, "lower");
  assert.equal(CATALOGUE["obs_nll.per_frame"].baseline, "action_copy.obs_nll.per_frame");
});
