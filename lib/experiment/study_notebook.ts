/**
 * What the study notebooks (notebooks/10-13) share, so each is a few lines: the study's variants as
 * a table, pictures of what its strategies hide, the study run through the same {@link runStudy}
 * as `deno task ablate` (finished runs reused), its report sections and its curves over training.
 * It lives in lib/experiment, not lib/viz, because it runs studies (lib/experiment imports lib/viz,
 * never the reverse).
 *
 * @example
 * await viz.setupNotebook();
 * const nb = await openStudyNotebook("exp1", { profile: "quick" });
 * await nb.showMasks([{ strategy: "cell", ratio: 0.3 }]);
 * await nb.run();
 * await nb.showResults();
 * await nb.showCurves();
 *
 * @module
 */

import * as viz from "../viz/mod.ts";
import {
  assembleEpisodes,
  fillBatch,
  loadBotFactory,
  rolloutEpisode,
  tokenizeEpisodes,
} from "../data/mod.ts";
import type { Batch } from "../data/types.ts";
import { drawMask, type MaskingConfig, maskRate } from "../masking/mod.ts";
import { type Ablation, loadAblation } from "./ablation.ts";
import { type RunResult, runStudy, studyFile } from "./ablate.ts";
import { studySections } from "./report.ts";
import { readMetrics } from "./rundir.ts";

/** Options of {@link openStudyNotebook}: the notebook's parameters cell. */
export interface StudyNotebookOptions {
  /** Profile (smoke | quick | standard | full; default quick). */
  profile?: string;
  /** Seeds per variant (default: the study file's for the profile, as `deno task ablate`). */
  seeds?: number;
  /** Seed of the demonstration episodes the mask pictures are drawn on (default 0). */
  seed?: number;
  /** Root of run outputs (default runs/), as for {@link runStudy}. */
  runsRoot?: string;
  /** Root of datasets (default data/), as for {@link runStudy}. */
  dataRoot?: string;
}

/** A study's results, as {@link runStudy} returns them. */
export type StudyResult = Awaited<ReturnType<typeof runStudy>>;

/** One study notebook: the study resolved, and the cells' steps as methods. */
export interface StudyNotebook {
  /** The study name given (e.g. `exp1`). */
  study: string;
  /** The study file resolved for the profile (the same as `deno task ablate`). */
  ablation: Ablation;
  /** The options the notebook was opened with. */
  options: StudyNotebookOptions;
  /** Two windows (4 frames, stride 4) of three BabyAI-UnlockPickup-v0 bot demonstrations. */
  demoBatch(): Promise<Batch>;
  /** Draws each masking config over {@link demoBatch} with the trainer's `drawMask` and shows it. */
  showMasks(maskings: Partial<MaskingConfig>[]): Promise<void>;
  /** Runs the study (cached: finished runs are reused, interrupted ones resume). */
  run(): Promise<StudyResult>;
  /** The report's sections (bars with 95% intervals, paired differences, robustness). */
  showResults(): Promise<void>;
  /** Every finished run's `metrics.jsonl` against the step (`viz.trainingCurvesFigure`). */
  showCurves(): Promise<void>;
}

/**
 * Opens a study notebook (after `viz.setupNotebook()`): resolves the study file for the profile
 * and shows its variants (overrides, strategy, ratio, envs, steps, config hash).
 */
export async function openStudyNotebook(
  study: string,
  options: StudyNotebookOptions = {},
): Promise<StudyNotebook> {
  const profile = options.profile ?? "quick";
  const ablation = loadAblation(studyFile(study), { profile });
  console.log(
    `${ablation.title}: ${ablation.variants.length} variants × ${
      options.seeds ?? ablation.seeds
    } seed(s), baseline "${ablation.baseline}", profile ${ablation.profile}`,
  );
  await viz.display({
    rows: ablation.variants.map((v) => ({
      variant: v.name,
      overrides: [
        ...Object.entries(v.set).map(([k, x]) => `${k}=${JSON.stringify(x)}`),
        ...Object.entries(v.scale ?? {}).map(([k, x]) => `${k} x${x}`),
      ].join(", "),
      strategy: v.config.masking.strategy,
      ratio: v.config.masking.ratio,
      envs: v.config.data.envs.join(", "),
      steps: v.config.train.steps,
      lr: v.config.train.lr,
      config_hash: v.hash,
    })),
  });

  let batch: Batch | undefined;
  let result: StudyResult | undefined;
  const ran = (): StudyResult => {
    if (!result) throw new Error(`study notebook ${study}: call run() before showing results`);
    return result;
  };
  const seed = options.seed ?? 0;
  const nb: StudyNotebook = {
    study,
    ablation,
    options,
    async demoBatch() {
      if (batch) return batch;
      const botFactory = await loadBotFactory();
      const records = [0, 1, 2].map((i) =>
        rolloutEpisode({
          envId: "BabyAI-UnlockPickup-v0",
          envIndex: 0,
          seed: seed + i,
          episode: i,
          policy: "bot",
          epsilon: 0,
          dataSeed: seed,
          maxSteps: null,
        }, botFactory)
      );
      const ds = tokenizeEpisodes(assembleEpisodes(records).episodes, {
        length: 4,
        stride: 4,
        mission_len: 16,
      });
      return batch = fillBatch(ds, [0, 1]);
    },
    async showMasks(maskings) {
      const b = await nb.demoBatch();
      for (const m of maskings) {
        const mask = drawMask(m, b, { step: 0, epoch: 0, seed, batchIndex: 0 });
        const what = `${m.strategy ?? "cell"} masking` +
          (m.ratio !== undefined ? `, p = ${m.ratio.toFixed(2)}` : "");
        await viz.display({
          html: `<h4>${what} (measured ${maskRate(mask, b).toFixed(3)})</h4>` +
            viz.windowStripHtml(b, 0, { mask, tileSize: 14 }),
        });
      }
    },
    async run() {
      result = await runStudy(study, {
        profile,
        seeds: options.seeds,
        runsRoot: options.runsRoot,
        dataRoot: options.dataRoot,
        log: (line: string) => console.log(line),
      });
      const failed = result.results.filter((r: RunResult) => r.status === "failed").length;
      console.log(`${result.reportDir}: ${result.results.length} runs, ${failed} failed`);
      return result;
    },
    async showResults() {
      const r = ran();
      await viz.displaySections(studySections(r.ablation, r.results));
    },
    async showCurves() {
      const r = ran();
      // The same metrics.jsonl the trainer writes (lib/train/loop.ts); older runs lack the shared keys.
      const runs = r.results.filter((x) => x.status === "ok").map((x) => ({
        name: `${x.variant} s${x.seed}`,
        records: readMetrics(x.runDir),
      }));
      await viz.display(
        viz.trainingCurvesFigure(runs, { title: `${r.ablation.title}: curves over training` }),
      );
    },
  };
  return nb;
}
