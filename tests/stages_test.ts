/**
 * Multi-stage training (`train.stages`, lib/train/run.ts): stage plans, the second stage starting
 * from the first's weights, resume inside the second stage equal to an uninterrupted run, and
 * every variant's fine-tuning on the next-action objective (lib/experiment/finetune.ts).
 */

import assert from "node:assert";
import { join } from "node:path";
import { init } from "@jax-js/jax";
import { tokenizeEpisodes } from "../lib/data/tokenize.ts";
import { syntheticEpisodes } from "../lib/testing/synthetic.ts";
import { planStages, type RunConfig, runTraining } from "../lib/train/run.ts";
import { readJsonl } from "../lib/train/mod.ts";
import { loadAblation } from "../lib/experiment/ablation.ts";
import { finetuneConfig } from "../lib/experiment/finetune.ts";
import { drawMask, maskCounts } from "../lib/masking/mod.ts";
import { BatchIterator } from "../lib/data/batch.ts";
import * as fixture from "./support/train_fixture.ts";

await init("wasm");

const window = { length: 3, stride: 1, mission_len: 5 };
const datasets = {
  train: tokenizeEpisodes(syntheticEpisodes(12, 8, 1), window),
  val: tokenizeEpisodes(syntheticEpisodes(4, 8, 2), window),
};

function twoStage(): RunConfig {
  const base = fixture.runConfig({ steps: 12, eval_every: 4, ckpt_every: 3, log_every: 2 });
  return {
    ...base,
    window,
    data: { dataset: "unused" },
    masking: { strategy: "cell", ratio: 0.3 },
    train: {
      ...base.train,
      warmup_steps: 2,
      stages: [
        { strategy: "forward_dynamics", share: 0.5, context_frames: 1 },
        { strategy: "next_action", share: 0.5 },
      ],
    },
  };
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("stages: the plan splits the steps and gives each stage its masking", () => {
  const cfg = twoStage();
  cfg.train.steps = 13;
  const plan = planStages(cfg, "/r");
  assert.deepEqual(plan.map((p) => p.cfg.train.steps), [7, 6]); // round(6.5) = 7, the rest
  assert.deepEqual(plan.map((p) => p.dir), ["/r/stage1", "/r"]);
  assert.deepEqual(plan.map((p) => p.offset), [0, 7]);
  assert.equal(plan[0].cfg.masking.strategy, "forward_dynamics");
  assert.equal(plan[0].cfg.masking.context_frames, 1);
  assert.equal(plan[1].cfg.masking.strategy, "next_action");
  assert.equal(plan[1].cfg.masking.context_frames, undefined);
  assert.ok(plan.every((p) => p.cfg.train.stages.length === 0));
  assert.equal(planStages({ ...cfg, train: { ...cfg.train, stages: [] } }, "/r").length, 1);
});

Deno.test(
  "stages: interrupted in stage 2, resumed, equals an uninterrupted run",
  opts,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "stages-" });
    try {
      const cfg = twoStage();
      const a = join(root, "a"), b = join(root, "b");
      const full = await runTraining(cfg, { runDir: a, resume: true, progress: false, datasets });
      assert.equal(full.step, 6);
      assert.ok(!full.interrupted);
      // interrupted at step 9 of 12 (the third step of stage 2), then resumed
      const cut = await runTraining(cfg, {
        runDir: b,
        resume: true,
        progress: false,
        datasets,
        stopAtStep: 9,
      });
      assert.ok(cut.interrupted);
      assert.equal(cut.step, 9);
      const rest = await runTraining(cfg, { runDir: b, resume: true, progress: false, datasets });
      assert.equal(rest.startStep, 3);
      assert.deepEqual(rest.losses, full.losses.slice(3));
      for (const dir of [a, b]) {
        // stage 1 trained the next frame from one-step context, stage 2 the next action
        const s1 = (await readJsonl<Record<string, unknown>>(join(dir, "stage1", "metrics.jsonl")))
          .filter((r) => r.kind === "train");
        const s2 = (await readJsonl<Record<string, unknown>>(join(dir, "metrics.jsonl")))
          .filter((r) => r.kind === "train");
        assert.ok(s1.length > 0 && s2.length > 0);
        const h1 = s1[0].loss_heads as Record<string, number | null>;
        const h2 = s2[0].loss_heads as Record<string, number | null>;
        assert.ok(typeof h1.obj === "number" && typeof h1.dir === "number", JSON.stringify(h1));
        assert.ok(h2.obj === null && h2.dir === null && typeof h2.action === "number");
      }
      const va = await readJsonl<Record<string, unknown>>(join(a, "metrics.jsonl"));
      const vb = await readJsonl<Record<string, unknown>>(join(b, "metrics.jsonl"));
      assert.deepEqual(
        vb.filter((r) => r.kind === "val").map((r) => r.loss),
        va.filter((r) => r.kind === "val").map((r) => r.loss),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

Deno.test("finetune: every exp4 variant fine-tunes on the next-action mask", () => {
  const study = loadAblation("configs/ablations/exp4_multi_env.yaml", { profile: "smoke" });
  const strategies = new Set(study.variants.map((v) => v.config.masking.strategy));
  assert.ok(strategies.size >= 3, `exp4 trains several objectives: ${[...strategies]}`);
  for (const v of study.variants) {
    const ft = finetuneConfig(v.config, 100);
    assert.equal(ft.masking.strategy, "next_action", v.name);
    assert.deepEqual(ft.train.stages, []);
    // the drawn mask hides exactly one slot per window: the current action
    const ds = tokenizeEpisodes(syntheticEpisodes(6, 6, 3), ft.window);
    const { batch } = new BatchIterator(ds, { batchSize: 8, seed: 1 }).next();
    const c = maskCounts(
      drawMask(ft.masking, batch, { step: 0, epoch: 0, seed: 0, batchIndex: 0 }),
      batch,
    );
    assert.deepEqual([c.cellAttrs, c.dirs, c.actions], [0, 0, batch.B], v.name);
  }
});
