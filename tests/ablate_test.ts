import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ABLATIONS_DIR,
  defaultStudies,
  knownStudies,
  runConfig,
  runHash,
  runStudy,
  studyFile,
} from "../lib/experiment/ablate.ts";
import { loadAblation } from "../lib/experiment/ablation.ts";
import type { Config } from "../lib/config/schema.ts";
import { evaluateOverTraining, readOverTraining } from "../lib/experiment/over_training.ts";
import { writeStudyFile } from "./support/study_file.ts";

Deno.test({
  name: "ablate: exp2 end to end on the smoke profile, then reused from cache",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = Deno.makeTempDirSync({ prefix: "ablate-test-" });
    const opts = {
      profile: "smoke",
      seeds: 2,
      runsRoot: join(root, "runs"),
      dataRoot: join(root, "data"),
      log: () => {},
    };
    const first = await runStudy("exp2", opts);
    assert.ok(first.results.length >= 4);
    for (const r of first.results) {
      assert.equal(r.status, "ok", `${r.variant}: ${r.error}`);
      assert.equal(r.reused, false);
      for (
        const k of [
          "next_frame.cell_acc",
          "copy_prev.next_frame.cell_acc",
          "action_acc",
          "success_rate",
        ]
      ) {
        assert.ok(r.metrics[k] >= 0 && r.metrics[k] <= 1, `${r.variant} ${k} = ${r.metrics[k]}`);
      }
    }
    for (const f of ["results.jsonl", "summary.csv", "report.md", "report.html"]) {
      assert.ok(existsSync(join(first.reportDir, f)), f);
    }
    const csv = readFileSync(join(first.reportDir, "summary.csv"), "utf8");
    assert.match(csv, /^variant,metric,mean,ci_lo,ci_hi,n,diff_vs_baseline/);
    assert.match(csv, /next_frame\.cell_acc,[\d.]+,[\d.]+,[\d.]+,2,/); // two seeds -> an interval
    const html = readFileSync(join(first.reportDir, "report.html"), "utf8");
    assert.equal(html.split("Plotly.newPlot").length - 1 >= 3, true);
    const again = await runStudy("exp2", opts);
    assert.ok(again.results.every((r) => r.reused));
    assert.deepEqual(again.results.map((r) => r.metrics), first.results.map((r) => r.metrics));
    Deno.removeSync(root, { recursive: true });
  },
});

Deno.test({
  name:
    "ablate: exp4 on the smoke profile: held-out envs, fine-tuning on k demos, closed-loop robustness",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = Deno.makeTempDirSync({ prefix: "ablate-exp4-test-" });
    const { results, reportDir } = await runStudy("exp4", {
      profile: "smoke",
      seeds: 1,
      runsRoot: join(root, "runs"),
      dataRoot: join(root, "data"),
      log: () => {},
    });
    for (const r of results) {
      assert.equal(r.status, "ok", `${r.variant}: ${r.error}`);
      // smoke: finetune_demos [0, 2], robustness_q [0, 0.3]
      for (const k of [0, 2]) {
        for (const m of ["next_frame.cell_acc", "action_acc", "success_rate"]) {
          const v = r.metrics[`finetune.k${k}.${m}`];
          assert.ok(v >= 0 && v <= 1, `${r.variant} finetune.k${k}.${m} = ${v}`);
        }
      }
      assert.equal(r.metrics["finetune.k0.action_acc"], r.metrics["action_acc"]);
      assert.ok(existsSync(join(r.runDir, "finetune-k2", "metrics.jsonl")), "fine-tuning run dir");
      const ft = readFileSync(join(r.runDir, "finetune-k2", "metrics.jsonl"), "utf8");
      assert.match(ft, /"kind":"train","step":3/, "fine-tuned for eval.finetune_steps (3) steps");
      for (const mode of ["mask", "unseen"]) {
        const v = r.metrics[`robust.${mode}.q0.3.success_rate`];
        assert.ok(v >= 0 && v <= 1, `${r.variant} robust.${mode}.q0.3.success_rate = ${v}`);
      }
      // Where the run was made, and where its time went.
      const env = JSON.parse(readFileSync(join(r.runDir, "env.json"), "utf8"));
      assert.equal(env.run_hash, r.hash);
      assert.ok(["blas", "wasm"].includes(env.backend), `backend ${env.backend}`);
      if (env.backend === "blas") assert.ok(env.blas_library.path, "env.json names the BLAS");
      const t = r.timings!;
      for (const k of ["train", "offline_eval", "closed_loop", "finetune"] as const) {
        assert.ok(t[k] > 0, `${r.variant}: timings.${k} = ${t[k]}`);
      }
      assert.ok(r.seconds >= t.train + t.offline_eval + t.closed_loop + t.finetune - 1e-6);
    }
    const html = readFileSync(join(reportDir, "report.html"), "utf8");
    assert.match(html, /after fine-tuning/);
    assert.match(readFileSync(join(reportDir, "report.md"), "utf8"), /k=2 demos: success_rate/);
    Deno.removeSync(root, { recursive: true });
  },
});

Deno.test("ablate: an unknown study lists the known ones", () => {
  assert.throws(
    () => studyFile("exp9"),
    /unknown ablation study 'exp9'; known studies: exp1_mask_ratio/,
  );
});

Deno.test({
  name: "ablate: a failing run is recorded as failed with its error; the other runs go on",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = Deno.makeTempDirSync({ prefix: "ablate-fail-test-" });
    const dir = join(root, "ablations");
    Deno.mkdirSync(dir);
    writeStudyFile(dir, {
      name: "expf_failing",
      title: "One run fails",
      description: "a variant whose batch is larger than its dataset",
      base: "cell_masking.yaml",
      baseline: "good",
      variants: [
        "  - { name: good, set: { masking.ratio: 0.3 } }",
        "  - { name: too_big, set: { train.batch_size: 200000 } }",
      ],
    });
    const { results, reportDir } = await runStudy("expf", {
      profile: "smoke",
      runsRoot: join(root, "runs"),
      dataRoot: join(root, "data"),
      ablationsDir: dir,
      log: () => {},
    });
    const good = results.find((r) => r.variant === "good")!;
    const bad = results.find((r) => r.variant === "too_big")!;
    assert.equal(good.status, "ok", good.error);
    assert.equal(bad.status, "failed");
    assert.ok(bad.error && bad.error.length > 0);
    const lines = readFileSync(join(reportDir, "results.jsonl"), "utf8").trim().split("\n")
      .map((l) => JSON.parse(l));
    const failedLine = lines.find((l) => l.variant === "too_big" && l.status === "failed");
    assert.ok(failedLine, "results.jsonl has the failed run");
    assert.equal(failedLine.error, bad.error);
    assert.ok(lines.some((l) => l.variant === "good" && l.metric === "next_frame.cell_acc"));
    assert.match(readFileSync(join(reportDir, "report.md"), "utf8"), /## Failed runs/);
    Deno.removeSync(root, { recursive: true });
  },
});

Deno.test("ablate: seed index s > 0 varies the data and the model; index 0 is the config", () => {
  const [a, b] = loadAblation("configs/ablations/exp1_mask_ratio.yaml", { profile: "smoke" })
    .variants;
  assert.equal(runConfig(a.config, 0), a.config);
  const a2 = runConfig(a.config, 2), b2 = runConfig(b.config, 2);
  assert.equal(a2.seed, a.config.seed + 2);
  assert.equal(a2.data.seed, a.config.data.seed + 2);
  assert.equal(a2.data.dataset, `${a.config.data.dataset}-data2`);
  // Every variant sees the same data at the same seed index (paired comparisons).
  assert.deepEqual(a2.data, b2.data);
  assert.notEqual(runHash(a2), runHash(runConfig(a.config, 1)));
});

Deno.test("ablation seeds per profile: default 1, standard 3; a bad entry names its key", () => {
  const file = "configs/ablations/exp1_mask_ratio.yaml";
  assert.equal(loadAblation(file, { profile: "quick" }).seeds, 1);
  assert.equal(loadAblation(file, { profile: "standard" }).seeds, 3);
  assert.equal(loadAblation("configs/ablations/exp5_aomt.yaml", { profile: "standard" }).seeds, 5);
  const dir = Deno.makeTempDirSync();
  try {
    const bad = join(dir, "bad.yaml");
    Deno.writeTextFileSync(
      bad,
      readFileSync(file, "utf8").replace(/^seeds: .*$/m, "seeds: { default: 1, standrd: 3 }")
        .replace("base: ../experiments/", `base: ${Deno.cwd()}/configs/experiments/`),
    );
    assert.throws(() => loadAblation(bad), /seeds\.standrd.*unknown profile 'standrd'/s);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("scale multiplies the profile's steps and lr; a bad one names its key and line", () => {
  const file = "configs/ablations/exp6_budget.yaml";
  const except = (c: Config, keys: ("steps" | "lr")[]) => {
    const train: Record<string, unknown> = { ...c.train };
    for (const k of keys) delete train[k];
    return { ...c, train };
  };
  for (const profile of ["smoke", "quick", "standard", "full"]) {
    const a = loadAblation(file, { profile });
    const by = Object.fromEntries(a.variants.map((v) => [v.name, v]));
    const sft = by.sft.config;
    assert.equal(by.sft.scale, null);
    assert.deepEqual(by.sft_x4.scale, { "train.steps": 4 });
    assert.equal(by.sft_x4.config.train.steps, 4 * sft.train.steps, profile);
    assert.equal(by.sft_lr_x3.config.train.lr, 3 * sft.train.lr, profile);
    assert.ok(Math.abs(by.sft_lr_d3.config.train.lr - sft.train.lr / 3) < 1e-15, profile);
    // A scaled variant is the config with the scaled value written out (what derives from
    // train.steps, such as a schedule's `over: null`, follows it); only that key differs.
    const written = loadAblation(file, {
      profile,
      overrides: { "train.steps": 4 * sft.train.steps },
    }).variants.find((v) => v.name === "sft")!;
    assert.deepEqual(by.sft_x4.config, written.config, profile);
    assert.deepEqual(except(by.sft_lr_x3.config, ["lr"]), except(sft, ["lr"]));
    // The full profile trains the small model already: there the small variants are the x1 runs.
    const small = a.variants.filter((v) => v.name.endsWith("_small")).length;
    assert.equal(
      new Set(a.variants.map((v) => v.hash)).size,
      a.variants.length - (profile === "full" ? small : 0),
      profile,
    );
    if (profile === "full") assert.equal(by.sft_small.hash, by.sft.hash);
  }
  // The same variant in two studies is one run (exp5's SFT is exp6's).
  const sft5 = loadAblation("configs/ablations/exp5_aomt.yaml", { profile: "standard" }).variants
    .find((v) => v.name === "sft")!;
  const sft6 = loadAblation(file, { profile: "standard" }).variants.find((v) => v.name === "sft")!;
  assert.equal(sft6.hash, sft5.hash);
  const dir = Deno.makeTempDirSync();
  try {
    const text = readFileSync(file, "utf8")
      .replace("base: ../experiments/", `base: ${Deno.cwd()}/configs/experiments/`);
    const bad = join(dir, "bad.yaml");
    const cases: [string, string, RegExp][] = [
      [
        "sft_x4, scale: { train.steps: 4",
        "sft_x4, scale: { train.steps: -2",
        /bad\.yaml:\d+.*variants\.1\.scale\.train\.steps.*positive multiple, got -2/s,
      ],
      [
        "sft_x4, scale: { train.steps: 4",
        "sft_x4, scale: { train.batch_size: 4",
        /variants\.1\.scale\.train\.batch_size.*cannot be scaled \(scalable keys: train\.steps, train\.lr\)/s,
      ],
    ];
    // A scaled lr below min_lr fails the config's own check, named at the variant's scale.
    cases.push([
      "sft_lr_d3, set: { masking.strategy: next_action, train.loss: mean }, scale: { train.lr: 0.3333333333333333",
      "sft_lr_d3, set: { masking.strategy: next_action, train.loss: mean }, scale: { train.lr: 0.01",
      /bad\.yaml:\d+.*variants\.3\.scale.*the scaled config.*is invalid.*min_lr 0\.0003 must be <= lr 0\.00003/s,
    ]);
    for (const [from, to, re] of cases) {
      Deno.writeTextFileSync(bad, text.replace(from, to));
      assert.throws(() => loadAblation(bad), re);
    }
    Deno.writeTextFileSync(
      bad,
      text.replace(/^run_by_default: false$/m, "run_by_default: sometimes"),
    );
    assert.throws(() => loadAblation(bad), /run_by_default.*expected true or false/s);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ablate without names runs every study but those with run_by_default: false", () => {
  const all = knownStudies();
  assert.ok(all.includes("exp6_budget"));
  const defaults = defaultStudies(undefined, "smoke");
  assert.ok(!defaults.includes("exp6_budget"), "the budget study runs only when named");
  assert.deepEqual(defaults, all.filter((n) => n !== "exp6_budget"));
  assert.equal(studyFile("exp6"), join(ABLATIONS_DIR, "exp6_budget.yaml"));
});

Deno.test({
  name: "ablate: over-training points at the kept checkpoints; the last is the final evaluation",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = Deno.makeTempDirSync({ prefix: "ablate-over-training-" });
    const dir = join(root, "ablations");
    Deno.mkdirSync(dir);
    writeStudyFile(dir, {
      name: "expo_over",
      title: "Checkpoints over training",
      description: "one AOMT run scored at its last three checkpoints",
      base: "aomt.yaml",
      baseline: "mixed",
      variants: [
        "  - name: mixed",
        "    set: { train.ckpt_every: 3, train.keep_last: 3, eval.over_training: 3 }",
      ],
    });
    const dataRoot = join(root, "data");
    const { results } = await runStudy("expo", {
      profile: "smoke",
      runsRoot: join(root, "runs"),
      dataRoot,
      ablationsDir: dir,
      log: () => {},
    });
    const [r] = results;
    assert.equal(r.status, "ok", r.error);
    assert.ok(r.timings!.over_training > 0, `timings.over_training = ${r.timings!.over_training}`);
    const written = readOverTraining(r.runDir)!;
    // smoke: 10 steps, checkpoints every 3 and at the end, the last three kept
    assert.deepEqual(written.map((p) => p.step), [6, 9, 10]);
    const last = written.at(-1)!;
    assert.equal(last.success_rate, r.metrics["success_rate"]);
    assert.equal(last.obs_nll, r.metrics["obs_nll.per_frame"]);
    assert.ok(Number.isFinite(last.obs_nll) && last.success_rate >= 0 && last.success_rate <= 1);
    // Scoring every checkpoint again, the final one included, gives the same points.
    const cfg = JSON.parse(readFileSync(join(r.runDir, "config.json"), "utf8")) as Config;
    const again = await evaluateOverTraining(cfg, r.runDir, { dataRoot });
    assert.deepEqual(again, written);
    Deno.removeSync(root, { recursive: true });
  },
});
