/**
 * Multi-environment generalisation after fine-tuning: a model trained on
 * `data.envs` is fine-tuned on the first k demonstrations (training-split
 * episodes, in seed order) of each held-out env in `data.test_envs`, then scored
 * on those envs' test split and in closed loop like the zero-shot model.
 *
 * For every k > 0 of `eval.finetune_demos`: `eval.finetune_steps` steps of the
 * next-action objective (`next_action` masks, for every variant) on the run's schedule (warm-up
 * capped at a fifth of the steps),
 * starting from the trained parameters, in `<runDir>/finetune-k<k>/`. Metrics
 * come back prefixed `finetune.k<k>.`; k = 0 is the zero-shot evaluation itself
 * (`finetune.k0.*` repeats its headline metrics so that curves over k start there).
 *
 * @module
 */

import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { loadDataset } from "../data/store.ts";
import { selectEpisodes } from "../data/episodes.ts";
import { tokenizeEpisodes } from "../data/tokenize.ts";
import { loadWindows, runTraining } from "../train/run.ts";
import type { HostParams } from "../model/params.ts";
import { makeBestPredictor } from "../model/native_predict.ts";
import { evaluateModel, type Metrics } from "../eval/evaluate.ts";
import { FINETUNE_KEYS } from "../eval/catalogue.ts";

/** Metrics repeated per k (the curve of the fine-tuning figure): the catalogue's `FINETUNE_KEYS`. */
export const FINETUNE_METRICS = FINETUNE_KEYS;

/** Whether a config asks for fine-tuning (held-out test envs and some k > 0). */
export function wantsFinetune(cfg: Config): boolean {
  return (cfg.data.test_envs?.length ?? 0) > 0 && cfg.eval.finetune_demos.some((k) => k > 0) &&
    cfg.eval.finetune_steps > 0;
}

/**
 * The config of a fine-tuning run of `cfg` on `windows` demonstration windows. Every variant
 * fine-tunes on the next-action objective (the decision the held-out envs are scored on), whatever
 * its own objective: a masked model's own masks would give its decision slot a fraction of the
 * loss, and its stages were for pretraining. `eval.finetune_steps` steps, warm-up capped at a fifth
 * of them, one validation and one checkpoint at the end.
 */
export function finetuneConfig(cfg: Config, windows: number): Config {
  const steps = cfg.eval.finetune_steps;
  return {
    ...cfg,
    masking: { ...cfg.masking, strategy: "next_action", context_frames: null },
    train: {
      ...cfg.train,
      loss: "mean",
      stages: [],
      steps,
      warmup_steps: Math.min(cfg.train.warmup_steps, Math.floor(steps / 5)),
      eval_every: steps,
      ckpt_every: steps,
      batch_size: Math.min(cfg.train.batch_size, windows),
    },
  };
}

/**
 * Fine-tune `params` (host copy of the trained model) on k demonstrations per
 * test env for each k in `cfg.eval.finetune_demos`, evaluate each, and return
 * the `finetune.k<k>.*` metrics. `zeroShot` is the run's own evaluation.
 */
export async function finetuneAndEvaluate(
  cfg: Config,
  params: HostParams,
  zeroShot: Metrics,
  opts: { runDir: string; dataRoot?: string; log?: (line: string) => void },
): Promise<Metrics> {
  const out: Metrics = {};
  if (!wantsFinetune(cfg)) return out;
  const dataRoot = opts.dataRoot ?? "data";
  const dir = join(dataRoot, cfg.data.dataset);
  const testEnvs = cfg.data.test_envs;
  const all = await loadDataset(dir, "train", { envs: testEnvs });
  const valCfg = { ...cfg, data: { ...cfg.data, envs: testEnvs } };
  const valDs = await loadWindows(valCfg, "val", dataRoot);
  for (const k of [...new Set(cfg.eval.finetune_demos)].sort((a, b) => a - b)) {
    if (k === 0) {
      for (const m of FINETUNE_METRICS) out[`finetune.k0.${m}`] = zeroShot[m] ?? NaN;
      continue;
    }
    // The first k episodes of each test env, in the dataset's (seed) order.
    const seen = new Map<number, number>();
    const demos = selectEpisodes(all, (e) => {
      const env = all.envIndex[e];
      const n = seen.get(env) ?? 0;
      seen.set(env, n + 1);
      return n < k;
    });
    const have = testEnvs.map((id) => seen.get(all.envIds.indexOf(id)) ?? 0);
    if (have.some((n) => n < k)) {
      throw new Error(
        `eval.finetune_demos: k=${k} needs ${k} training episodes of each test env, but the dataset ` +
          `'${cfg.data.dataset}' has ${
            testEnvs.map((id, i) => `${id}: ${have[i]}`).join(", ")
          }; raise data.episodes.train or lower k`,
      );
    }
    const trainDs = tokenizeEpisodes(demos, cfg.window, { name: `${dir}/train[k=${k}]` });
    const ftCfg = finetuneConfig(cfg, trainDs.numWindows);
    opts.log?.(`fine-tuning on ${k} demonstrations per test env (${trainDs.numWindows} windows)`);
    const res = await runTraining(ftCfg, {
      runDir: join(opts.runDir, `finetune-k${k}`),
      resume: true,
      dataRoot,
      progress: false,
      initFrom: params,
      datasets: { train: trainDs, val: valDs },
    });
    const predictor = await makeBestPredictor(res.params, res.modelConfig, {
      device: cfg.train.device,
    });
    const m = await evaluateModel(cfg, predictor, {
      dataRoot,
      sections: ["observation", "action", "closed_loop"],
      baselines: false, // the zero-shot evaluation has them; they do not change with fine-tuning
    }).finally(predictor.dispose);
    for (const name of FINETUNE_METRICS) out[`finetune.k${k}.${name}`] = m[name] ?? NaN;
  }
  return out;
}
