// The primary-endpoint table of study reports (issue 25): paired differences per contrast and
// primary metric, closed-loop success paired by episode, Holm-adjusted intervals, the MDE, a
// verdict; the diagnostics (per-head loss curves, gradient clipping).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Ablation } from "../lib/experiment/ablation.ts";
import type { RunResult } from "../lib/experiment/ablate.ts";
import { writeStudyReport } from "../lib/experiment/report.ts";
import { endpointRows, isSftVariant } from "../lib/experiment/endpoints.ts";
import { EVAL_VERSION } from "../lib/eval/mod.ts";
import {
  OVER_TRAINING_FILE,
  overTrainingSections,
  readOverTraining,
} from "../lib/experiment/over_training.ts";

const ENV = "BabyAI-GoToRedBall-v0";
const VARIANTS = [
  { name: "sft", strategy: "next_action", wins: 10, nll: NaN },
  { name: "cell", strategy: "cell", wins: 40, nll: 10 },
  { name: "fwd", strategy: "forward_dynamics", wins: 10, nll: 10.05 },
];
const JITTER: Record<string, number[]> = { cell: [0.3, -0.2, 0.1], fwd: [-0.1, 0.3, 0] };

function fakeStudy(
  root: string,
  opts: { contrasts?: boolean; episodes?: boolean; seeds?: number[]; n?: number } = {},
) {
  const seeds = opts.seeds ?? [0, 1, 2];
  const results: RunResult[] = [];
  for (const v of VARIANTS) {
    for (const seed of seeds) {
      const runDir = join(root, `${v.name}-${seed}`);
      Deno.mkdirSync(runDir, { recursive: true });
      Deno.writeTextFileSync(
        join(runDir, "config.json"),
        JSON.stringify({
          seed,
          data: { dataset: "x", seed, envs: [ENV] },
          masking: { strategy: v.strategy },
          train: { clip_norm: 1 },
        }),
      );
      // 50 held-out episodes of one env, the same seeds for every variant at a seed index.
      const n = opts.n ?? 50;
      const success = Array.from(
        { length: n },
        (_, e) => ((e + seed) % n < v.wins * n / 50 ? 1 : 0),
      );
      if (opts.episodes ?? true) {
        Deno.writeTextFileSync(
          join(runDir, "episodes.json"),
          JSON.stringify({
            evalVersion: EVAL_VERSION,
            envs: { [ENV]: { seeds: success.map((_, e) => 1000 * seed + e), success } },
          }),
        );
      }
      const recs = [10, 20, 30].map((step) =>
        JSON.stringify({
          kind: "train",
          step,
          loss: 1,
          loss_heads: { obj: 2 / step, color: 1, state: 0.5, dir: 1.3, action: 1.9 },
          grad_norm: step === 10 ? 2 : 0.5,
        })
      );
      Deno.writeTextFileSync(join(runDir, "metrics.jsonl"), recs.join("\n") + "\n");
      const metrics: Record<string, number> = {
        success_rate: v.wins / 50,
        "action_acc": 0.5 + 0.01 * seed,
        "majority.action.nats": 1.8,
        "action.nats": 1.2,
        "next_frame.dir_acc": 0.9,
        "action_copy.next_frame.dir_acc": 0.7,
        "copy_prev.train_hit.obj": 0.8,
        "copy_prev.train_hit.color": 0.8,
        "copy_prev.train_hit.state": 0.9,
        "copy_prev.train_hit.dir": 0.7,
        "action_copy.train_hit.obj": 0.9,
        "action_copy.train_hit.color": 0.9,
        "action_copy.train_hit.state": 0.95,
        "action_copy.train_hit.dir": 0.99,
      };
      if (Number.isFinite(v.nll)) {
        metrics["obs_nll.per_frame"] = v.nll + JITTER[v.name][seeds.indexOf(seed)];
      }
      results.push({
        study: "expP",
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
  const contrasts = [
    { question: "Does cell masking beat SFT?", variant: "cell", baseline: "sft" },
    { question: "Cell masking vs forward dynamics", variant: "cell", baseline: "fwd" },
  ];
  const ablation = {
    ablation: "expP",
    title: "Endpoint study",
    description: "a fake study",
    base: "",
    seeds: seeds.length,
    baseline: "sft",
    profile: "quick",
    variants: VARIANTS.map((v) => ({
      name: v.name,
      set: {},
      hash: v.name,
      config: { masking: { strategy: v.strategy } },
    })),
    primary: ["success_rate", "obs_nll.per_frame"],
    contrasts: opts.contrasts === false ? [] : contrasts,
    contrastsGiven: opts.contrasts !== false,
    file: "",
  } as unknown as Ablation;
  return { ablation, results };
}

Deno.test("endpoints: success paired by episode, Holm levels, MDE, verdicts, SFT rows n/a", () => {
  const root = Deno.makeTempDirSync({ prefix: "endpoints-" });
  try {
    const { ablation, results } = fakeStudy(root);
    const rows = endpointRows(ablation, results);
    assert.equal(rows.length, 4, "2 contrasts x 2 primary metrics");
    const row = (b: string, m: string) => rows.find((r) => r.baseline === b && r.metric === m)!;
    const s = row("sft", "success_rate");
    assert.equal(s.method, "seeds and episodes");
    assert.equal(s.episodes, 50);
    assert.ok(Math.abs(s.diff - 0.6) < 1e-12);
    assert.equal(s.verdict, "variant better");
    assert.ok(s.lo > 0 && s.hi <= 1);
    assert.ok(s.mde > 0 && s.mde < 0.6, `MDE ${s.mde}`);
    assert.equal(row("sft", "obs_nll.per_frame").verdict, "not applicable");
    const n = row("fwd", "obs_nll.per_frame");
    assert.equal(n.method, "seeds");
    assert.equal(n.verdict, "inconclusive", "a wide interval is not 'no difference'");
    assert.ok(n.mde > Math.abs(n.diff), `MDE ${n.mde} vs diff ${n.diff}`);
    // Three rows with a p-value in the Holm family: the smallest p is tested at 0.05 / 3.
    const levels = rows.filter((r) => Number.isFinite(r.p)).map((r) => r.level).sort();
    assert.equal(levels.length, 3);
    assert.ok(Math.abs(levels[2] - (1 - 0.05 / 3)) < 1e-12, `${levels}`);
    // Seeded: the same rows again.
    assert.deepEqual(endpointRows(ablation, results), rows);
    // Without episode files, success falls back to the seeds (identical rates: zero spread).
    const noEp = fakeStudy(join(root, "noep"), { episodes: false });
    assert.equal(endpointRows(noEp.ablation, noEp.results)[0].method, "seeds");
    // One seed with episode files still has an interval (over episodes).
    const one = fakeStudy(join(root, "one"), { seeds: [0] });
    const r1 = endpointRows(one.ablation, one.results);
    assert.ok(Number.isFinite(r1[0].lo), "episodes give an interval with one seed");
    assert.equal(r1[0].verdict, "variant better", "50 paired episodes, 0.6 apart");
    // Ten episodes, the same 0.6 apart: too few for a bootstrap verdict.
    const few = fakeStudy(join(root, "few"), { seeds: [0], n: 10 });
    const f = endpointRows(few.ablation, few.results)[0];
    assert.ok(Math.abs(f.diff - 0.6) < 1e-12);
    assert.equal(f.verdict, "inconclusive");
    assert.ok(Number.isNaN(f.p) && /fewer than 20/.test(f.note), f.note);
    assert.equal(
      r1.find((r) => r.metric === "obs_nll.per_frame" && r.baseline === "fwd")!.verdict,
      "inconclusive",
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("report: opens with the primary endpoints; diagnostics; default contrasts", () => {
  const root = Deno.makeTempDirSync({ prefix: "endpoints-" });
  try {
    const { ablation, results } = fakeStudy(root);
    const dir = join(root, "report");
    writeStudyReport(ablation, results, dir);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    const at = md.indexOf("## Primary endpoints");
    assert.ok(at > 0 && at < md.indexOf("| metric |"), "the primary table comes first");
    assert.match(
      md,
      /Does cell masking beat SFT\? \| cell - sft \| closed-loop success \| \+0\.600/,
    );
    assert.match(md, /variant better/);
    assert.match(md, /not applicable \(next-action SFT predicts no observations\)/);
    assert.match(md, /\| closed-loop success \| \*\*primary\*\* \|/);
    assert.match(md, /\| action acc \(every decision\) \| secondary \|/);
    const csv = readFileSync(join(dir, "primary.csv"), "utf8").trim().split("\n");
    assert.equal(csv.length, 5);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    for (
      const t of [
        "Primary endpoints",
        "Named contrasts (secondary)",
        "per-head training loss",
        "gradient clipping",
        "Training loss of the action head",
        "training hit rates",
        "Observation NLL (one whole frame hidden",
        "Action NLL (nats/decision, lower is better) vs the frequency model",
      ]
    ) {
      assert.ok(html.includes(t), t);
    }
    assert.match(html, /intervals above clip_norm/, "the proxy is named as such");
    // Without contrasts: each variant against the baseline.
    const d = fakeStudy(join(root, "d"), { contrasts: false });
    const rows = endpointRows(d.ablation, d.results);
    assert.deepEqual([...new Set(rows.map((r) => `${r.variant}-${r.baseline}`))], [
      "cell-sft",
      "fwd-sft",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("report: observation NLL against success over training, Spearman per variant and pooled", () => {
  const root = Deno.makeTempDirSync({ prefix: "endpoints-" });
  try {
    const { ablation, results } = fakeStudy(root);
    for (const r of results) {
      // Five checkpoints: NLL falls and success rises over training (plus a run-level offset).
      const points = [1, 2, 3, 4, 5].map((k) => ({
        step: 10 * k,
        obs_nll: 20 - 2 * k + r.seed,
        success_rate: 0.1 * k + 0.01 * r.seed,
      }));
      Deno.writeTextFileSync(
        join(r.runDir, OVER_TRAINING_FILE),
        JSON.stringify({ evalVersion: EVAL_VERSION, wanted: 5, points }),
      );
    }
    const secs = overTrainingSections(results);
    assert.equal(secs.length, 1);
    const rows = secs[0].table!.rows as Record<string, string>[];
    assert.deepEqual(rows.map((r) => r.variant), ["sft", "cell", "fwd", "pooled"]);
    const cell = rows.find((r) => r.variant === "cell")!;
    assert.ok(Number(cell["Spearman rho"]) < -0.8, JSON.stringify(cell));
    assert.equal(cell.runs, "3");
    assert.match(cell["95% interval (runs resampled)"], /^\[-/);
    writeStudyReport(ablation, results, join(root, "report"));
    const html = readFileSync(join(root, "report", "report.html"), "utf8");
    assert.ok(html.includes("World model against success over training"));
    // Another evaluation version's file is ignored.
    Deno.writeTextFileSync(
      join(results[0].runDir, OVER_TRAINING_FILE),
      JSON.stringify({ evalVersion: -1, points: [] }),
    );
    assert.equal(readOverTraining(results[0].runDir), null);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("isSftVariant: next-action only, stages included (Prefix SFT predicts observations)", () => {
  const ab = {
    variants: [
      { name: "sft", config: { masking: { strategy: "next_action" }, train: { stages: [] } } },
      {
        name: "prefix_sft",
        config: {
          masking: { strategy: "unit" },
          train: { stages: [{ strategy: "forward_dynamics" }, { strategy: "next_action" }] },
        },
      },
      {
        name: "sft_twice",
        config: {
          masking: { strategy: "cell" },
          train: { stages: [{ strategy: "next_action" }, { strategy: "next_action" }] },
        },
      },
      { name: "cell", config: { masking: { strategy: "cell" } } },
    ],
  } as unknown as Ablation;
  assert.deepEqual(
    ["sft", "prefix_sft", "sft_twice", "cell", "nope"].map((n) => isSftVariant(ab, n)),
    [true, false, true, false, false],
  );
});
