/**
 * `deno task ablate --plan` (lib/experiment/plan.ts): runs per study with shared runs counted once,
 * finished runs found by their result.json, the rest estimated from finished runs' timings.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { EVAL_VERSION, planRuns, runDirOf } from "../lib/experiment/ablate.ts";
import { formatPlan, planStudies } from "../lib/experiment/plan.ts";
import { writeStudyFile } from "./support/study_file.ts";

function studyFiles(dir: string) {
  const study = (name: string, variants: string[]) =>
    writeStudyFile(dir, { name, base: "cell_masking.yaml", seeds: 2, baseline: "a", variants });
  study("expa_one", [
    "  - { name: a, set: { masking.ratio: 0.3 } }",
    "  - { name: b, set: { masking.ratio: 0.5 } }",
  ]);
  // the same config as expa's `a` under another name: the same runs, counted in expa only
  study("expb_two", [
    "  - { name: a, set: { masking.ratio: 0.3 } }",
    "  - { name: c, set: { masking.ratio: 0.7 } }",
  ]);
}

Deno.test("ablate --plan: shared runs counted once, finished runs found, the rest estimated", () => {
  const root = Deno.makeTempDirSync({ prefix: "ablate-plan-" });
  try {
    const ablationsDir = join(root, "ablations");
    Deno.mkdirSync(ablationsDir);
    studyFiles(ablationsDir);
    const opts = { profile: "smoke", ablationsDir, runsRoot: join(root, "runs") };
    const empty = planStudies(["expa", "expb"], opts);
    assert.deepEqual(empty.studies.map((s) => [s.distinct, s.finished, s.pending]), [
      [4, 0, 4],
      [2, 0, 2],
    ]);
    assert.equal(empty.distinct, 6);
    assert.equal(empty.unestimated, 6);
    assert.match(
      formatPlan(empty, 2),
      /6 distinct runs, 0 finished, 6 to train; 6 have no estimate/,
    );
    // Finish expa's `a` and `b` at seed 0, as the pool's result.json.
    const runs = planRuns(["expa"], opts);
    // `a` as written before result.json had `seconds` (its phases sum to 100 s); `b` with
    // `seconds` (300 s), which counts over its phases' 250 s.
    const finish = (variant: string, seconds: number, whole?: number) => {
      const r = runs.find((x) => x.variant === variant && x.seedIndex === 0)!;
      const dir = runDirOf(opts, r.variant, r.hash);
      Deno.mkdirSync(dir, { recursive: true });
      const timings = { collect: 0, train: seconds - 10, offline_eval: 10, closed_loop: 0 };
      Deno.writeTextFileSync(
        join(dir, "result.json"),
        JSON.stringify({ evalVersion: EVAL_VERSION, metrics: {}, timings, seconds: whole }),
      );
    };
    finish("a", 100);
    finish("b", 250, 300);
    const p = planStudies(["expa", "expb"], opts);
    const [a, b] = p.studies;
    assert.deepEqual([a.finished, a.pending, b.finished, b.pending], [2, 2, 0, 2]);
    assert.deepEqual(a.measured, { runs: 2, mean_s: 200 });
    assert.equal(a.pending_s, 400); // each pending run estimated by its own variant
    assert.equal(b.pending_s, null); // expb's own runs: none finished
    assert.equal(p.unestimated, 2);
    const text = formatPlan(p, 2);
    assert.match(text, /expa_one +2 variants x 2 seeds: 4 runs, 2 finished, 2 to train; ~6m40s/);
    assert.match(text, /the estimated 2 take ~3m20s of wall time at 2 at a time/);
    // A study named twice is planned once.
    assert.equal(planStudies(["expa", "expa"], opts).studies.length, 1);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
