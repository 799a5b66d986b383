/** Every YAML under configs/ loads and validates, under every profile. */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { configHash, loadAblation, loadConfig, PROFILE_NAMES } from "../lib/experiment/mod.ts";

const CONFIGS = decodeURIComponent(new URL("../configs/", import.meta.url).pathname);

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

const files = yamlFiles(CONFIGS);

Deno.test("configs/ has the base, the seven experiments and the six ablation studies", () => {
  const rel = files.map((f) => relative(CONFIGS, f));
  for (
    const f of [
      "base.yaml",
      "experiments/cell_masking.yaml",
      "experiments/attribute_masking.yaml",
      "experiments/scheduled_masking.yaml",
      "experiments/next_action_sft.yaml",
      "experiments/any_order.yaml",
      "experiments/multi_env.yaml",
      "experiments/aomt.yaml",
      "ablations/exp1_mask_ratio.yaml",
      "ablations/exp2_cell_vs_attribute.yaml",
      "ablations/exp3_scheduled.yaml",
      "ablations/exp4_multi_env.yaml",
      "ablations/exp5_aomt.yaml",
      "ablations/exp6_budget.yaml",
    ]
  ) assert.ok(rel.includes(f), `configs/${f} is missing`);
});

for (const file of files) {
  const rel = relative(CONFIGS, file);
  Deno.test(`configs/${rel} validates under every profile`, () => {
    for (const profile of PROFILE_NAMES) {
      if (rel.startsWith("ablations/") || rel.startsWith("pilots/")) {
        const a = loadAblation(file, { profile });
        assert.ok(a.variants.length >= 2);
        assert.ok(a.variants.some((v) => v.name === a.baseline));
        // distinct variants are distinct runs (but exp6's small-model points under the full
        // profile, which trains the small model already; tests/ablate_test.ts checks those)
        if (!(rel.includes("budget") && profile === "full")) {
          assert.equal(new Set(a.variants.map((v) => v.hash)).size, a.variants.length, rel);
        }
        for (const v of a.variants) assert.equal(v.config.profile, profile);
      } else {
        const cfg = loadConfig(file, { profile });
        assert.equal(cfg.profile, profile);
        assert.equal(configHash(cfg), configHash(loadConfig(file, { profile })));
        assert.ok(cfg.data.dataset.endsWith(profile), "one dataset per profile");
      }
    }
  });
}

Deno.test("experiment files set the strategy their name says", () => {
  const want: Record<string, [string, string]> = {
    cell_masking: ["cell", "balanced"],
    attribute_masking: ["attribute", "balanced"],
    scheduled_masking: ["scheduled", "balanced"],
    next_action_sft: ["next_action", "mean"],
    any_order: ["any_order", "elbo"],
    aomt: ["unit", "balanced"],
  };
  for (const [name, [strategy, loss]] of Object.entries(want)) {
    const cfg = loadConfig(join(CONFIGS, "experiments", `${name}.yaml`));
    assert.equal(cfg.name, name);
    assert.equal(cfg.masking.strategy, strategy);
    assert.equal(cfg.train.loss, loss);
  }
  const sched = loadConfig(join(CONFIGS, "experiments/scheduled_masking.yaml"), {
    profile: "quick",
  });
  assert.equal(sched.masking.schedule.from, 0.15);
  assert.equal(sched.masking.schedule.to, 0.5);
  assert.equal(sched.masking.schedule.over, sched.train.steps); // null = train.steps
  const multi = loadConfig(join(CONFIGS, "experiments/multi_env.yaml"));
  assert.ok(multi.data.envs.length > 1);
  assert.ok(multi.data.test_envs.length >= 1);
  for (const id of multi.data.test_envs) assert.ok(!multi.data.envs.includes(id), "held-out env");
});

Deno.test("mask-ratio study covers 0.15 / 0.30 / 0.50 and the SFT baseline", () => {
  const a = loadAblation(join(CONFIGS, "ablations/exp1_mask_ratio.yaml"));
  const cell = a.variants.filter((v) => v.config.masking.strategy === "cell").map((v) =>
    v.config.masking.ratio
  );
  assert.deepEqual(cell.sort(), [0.15, 0.3, 0.5]);
  assert.equal(
    a.variants.find((v) => v.name === a.baseline)!.config.masking.strategy,
    "next_action",
  );
});

Deno.test("the smoke and quick profiles of base.yaml still size every study run", () => {
  // The study files set only what they study (masking, loss, data envs): every profile key of
  // base.yaml must reach every variant, except the keys a study file sets in its own profiles.
  const base = loadConfig(join(CONFIGS, "base.yaml"), { profile: null });
  for (const profile of ["smoke", "quick"] as const) {
    const sized = loadConfig(join(CONFIGS, "base.yaml"), { profile });
    assert.notEqual(sized.train.steps, base.train.steps);
    for (const file of files.filter((f) => f.includes("/ablations/"))) {
      for (const v of loadAblation(file, { profile }).variants) {
        const c = v.config, where = `${relative(CONFIGS, file)} ${v.name} (${profile})`;
        // exp6 (budget) scales steps or lr, or sets the model size, on purpose: those variants
        // are checked against what they say
        const scale = v.scale ?? {};
        assert.deepEqual(c.train.steps, sized.train.steps * (scale["train.steps"] ?? 1), where);
        assert.deepEqual(c.train.lr, sized.train.lr * (scale["train.lr"] ?? 1), where);
        assert.deepEqual(c.train.batch_size, sized.train.batch_size, where);
        if (v.set["model.size"] !== undefined) assert.equal(c.model.size, v.set["model.size"]);
        else assert.deepEqual(c.model, sized.model, where);
        // exp5 (AOMT) and exp6 (its budget curve) train every variant on 4-frame windows, so a
        // hidden unit has frames on both sides; the rest of the window section is the profile's
        if (file.includes("aomt") || file.includes("budget")) {
          assert.deepEqual({ ...c.window, length: sized.window.length }, sized.window, where);
          assert.equal(c.window.length, 4, where);
        } else assert.deepEqual(c.window, sized.window, where);
        assert.deepEqual(c.eval.closed_loop, sized.eval.closed_loop, where);
        if (!file.includes("multi_env")) assert.deepEqual(c.data.episodes, sized.data.episodes);
      }
    }
  }
});
