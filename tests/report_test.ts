// Study reports (issue 15): Δ only where it means something, intervals on paired differences,
// Wilson intervals for success rates, what the seeds vary, per-env and baseline rows.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Ablation } from "../lib/experiment/ablation.ts";
import type { RunResult } from "../lib/experiment/ablate.ts";
import {
  diffMeaningful,
  seedsVaryData,
  studySections,
  summarizeResults,
  writeStudyReport,
} from "../lib/experiment/report.ts";

const ENVS = ["BabyAI-Open-v0", "BabyAI-GoToObj-v0"];

function fakeStudy(root: string, seeds: number[], varyData = false, baseline = "sft") {
  const variants = [
    { name: "sft", strategy: "next_action", obs: 0.05, act: 0.6, success: 0.25 },
    { name: "cell", strategy: "cell", obs: 0.7, act: 0.65, success: 0.5 },
    { name: "fwd_dynamics", strategy: "forward_dynamics", obs: 0.72, act: 0.2, success: 0 },
  ];
  const results: RunResult[] = [];
  for (const v of variants) {
    for (const seed of seeds) {
      const runDir = join(root, `${v.name}-${seed}`);
      Deno.mkdirSync(runDir, { recursive: true });
      const data = { dataset: "x", seed: varyData ? seed : 0 };
      Deno.writeTextFileSync(
        join(runDir, "config.json"),
        JSON.stringify({ seed, data, masking: { strategy: v.strategy } }),
      );
      const jitter = 0.01 * seed;
      const metrics: Record<string, number> = {
        "next_frame.cell_acc": v.obs + jitter,
        "copy_prev.next_frame.cell_acc": 0.56,
        "action_copy.next_frame.cell_acc": 0.6,
        "action_copy.next_frame.changed_cell_acc": 0.3,
        "action_acc": v.act + jitter,
        "majority.action_acc": 0.59,
        "success_rate": v.success,
        "success_rate.wilson_lo": Math.max(0, v.success - 0.2),
        "success_rate.wilson_hi": Math.min(1, v.success + 0.2),
        "final_val_loss": 0.3,
      };
      for (const env of ENVS) {
        metrics[`${env}.next_frame.cell_acc`] = v.obs;
        metrics[`${env}.action_acc`] = v.act;
      }
      results.push({
        study: "expT",
        variant: v.name,
        seed,
        hash: `${v.name}${seed}`,
        status: "ok",
        seconds: 1,
        reused: false,
        runDir,
        metrics,
      });
    }
  }
  const ablation = {
    ablation: "expT",
    title: "Test study",
    description: "a fake study",
    base: "",
    seeds: seeds.length,
    baseline,
    profile: "quick",
    variants: variants.map((v) => ({
      name: v.name,
      set: {},
      hash: v.name,
      config: { masking: { strategy: v.strategy } },
    })),
    file: "",
  } as unknown as Ablation;
  return { ablation, results };
}

Deno.test("report: against an SFT baseline, Δ only for action metrics, with intervals", () => {
  const root = Deno.makeTempDirSync({ prefix: "report-test-" });
  const { ablation, results } = fakeStudy(root, [0, 1, 2]);
  const rows = summarizeResults(results, "sft", (m) => diffMeaningful(m, true));
  const row = (v: string, m: string) => rows.find((r) => r.variant === v && r.metric === m)!;
  assert.ok(Number.isFinite(row("cell", "action_acc").diff));
  assert.ok(Number.isNaN(row("cell", "next_frame.cell_acc").diff), "SFT predicts no observations");
  assert.ok(Number.isNaN(row("cell", "copy_prev.next_frame.cell_acc").diff), "baseline rows");
  assert.ok(Number.isNaN(row("cell", "final_val_loss").diff), "each variant's own objective");
  // Against a world-model baseline, observation metrics get a Δ.
  assert.ok(diffMeaningful("next_frame.cell_acc", false));
  assert.ok(!diffMeaningful("action_copy.next_frame.cell_acc", false));
  assert.ok(!diffMeaningful("success_rate.wilson_lo", false));
  assert.ok(diffMeaningful("BabyAI-Open-v0.action_acc", true));
  assert.ok(!diffMeaningful("BabyAI-Open-v0.next_frame.cell_acc", true));

  const dir = join(root, "report");
  writeStudyReport(ablation, results, dir);
  const md = readFileSync(join(dir, "report.md"), "utf8");
  const line = (label: string) => md.split("\n").find((l) => l.startsWith(`| ${label} |`))!;
  assert.match(line("action acc (every decision)"), /Δ \+0\.050 \[/, "paired Δ with its interval");
  assert.doesNotMatch(line("next-frame cell acc (one pass)"), /Δ/);
  assert.match(md, /action-aware copy baseline: cell acc/);
  assert.match(md, /fwd_dynamics/);
  assert.match(md, /BabyAI-Open-v0: next-frame cell acc/, "per-env rows");
  assert.match(md, /not the data/, "the report says the seeds do not vary the data");
  const csv = readFileSync(join(dir, "summary.csv"), "utf8");
  assert.match(csv, /\ncell,next_frame\.cell_acc,[\d.]+,[\d.]+,[\d.]+,3,,,\n/);
  const html = readFileSync(join(dir, "report.html"), "utf8");
  assert.match(html, /Paired differences against sft/);
  assert.match(html, /Per environment/);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("report: one seed shows the Wilson interval of success rates; seeds that vary data", () => {
  const root = Deno.makeTempDirSync({ prefix: "report-test-" });
  const { ablation, results } = fakeStudy(root, [0]);
  const dir = join(root, "report");
  writeStudyReport(ablation, results, dir);
  const md = readFileSync(join(dir, "report.md"), "utf8");
  const success = md.split("\n").find((l) => l.startsWith("| closed-loop success |"))!;
  assert.match(success, /0\.500 \[0\.300, 0\.700\]ʷ/);
  const sections = studySections(ablation, results);
  assert.ok(sections.some((s) => s.title === "Per environment"));
  assert.equal(seedsVaryData(results), false);
  const varied = fakeStudy(join(root, "v"), [0, 1], true);
  assert.equal(seedsVaryData(varied.results), true);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("report: against a world-model baseline, an SFT variant gets Δ for action metrics only", () => {
  const root = Deno.makeTempDirSync({ prefix: "report-test-" });
  const { ablation, results } = fakeStudy(root, [0, 1], false, "cell");
  const dir = join(root, "report");
  writeStudyReport(ablation, results, dir);
  const csv = readFileSync(join(dir, "summary.csv"), "utf8").split("\n");
  const row = (v: string, m: string) => csv.find((l) => l.startsWith(`${v},${m},`))!.split(",");
  assert.notEqual(row("fwd_dynamics", "next_frame.cell_acc")[6], "", "world model vs world model");
  assert.equal(row("sft", "next_frame.cell_acc")[6], "", "SFT predicts no observations");
  assert.notEqual(row("sft", "action_acc")[6], "");
  Deno.removeSync(root, { recursive: true });
});
