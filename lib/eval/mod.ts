/**
 * The evaluation suite: every trained model is scored the same way on the
 * test split (next-frame observation accuracy beside copy-previous and
 * majority baselines, action accuracy, NLL, any-order ELBO, robustness to
 * extra hidden cells) and in closed loop on held-out seeds (success rate with
 * the bot and a random policy as bounds).
 *
 * @module
 */

import type { Config } from "../experiment/schema.ts";
import type { Predictor } from "../data/types.ts";
import { loadWindows } from "../train/run.ts";
import { heldOutSeeds } from "../data/split.ts";
import {
  classCounts,
  copyPreviousPredictor,
  evaluateCorrupted,
  evaluateElbo,
  evaluateMasked,
  majorityPredictor,
} from "./metrics.ts";
import { rolloutBot, rolloutModel, type RolloutOptions, rolloutRandom } from "./rollout.ts";

export * from "./metrics.ts";
export * from "./rollout.ts";

/** Flat metric name -> value (NaN where undefined). */
export type Metrics = Record<string, number>;

/** The model-as-policy settings of a config (window, episode cap, greedy or sampled). */
export function policyOptions(cfg: Config): RolloutOptions {
  const cl = cfg.eval.closed_loop;
  return {
    K: cfg.window.length,
    M: cfg.window.mission_len,
    maxSteps: cl.max_steps,
    greedy: cl.greedy,
    seed: cfg.seed,
  };
}

/** Parts of the evaluation, to run a subset (e.g. after fine-tuning). */
export type EvalSection = "observation" | "action" | "elbo" | "robustness" | "closed_loop";

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** Root of the datasets (default `data`). */
  dataRoot?: string;
  /** Test windows scored per metric (default 512). */
  maxWindows?: number;
  /** Sections to run (default all). */
  sections?: EvalSection[];
  /**
   * Also score the baselines and bounds (copy-previous, majority, bot, random;
   * default true). They do not depend on the model: a caller that already has
   * them, such as the fine-tuning evaluation, leaves them out.
   */
  baselines?: boolean;
}

/**
 * Evaluate `predictor` (a trained model) under `cfg`: returns flat metrics.
 * Baselines are evaluated on the same windows and masks and prefixed
 * `copy_prev.` / `majority.`; closed-loop bounds are `bot.` / `random.`.
 */
export async function evaluateModel(
  cfg: Config,
  predictor: Predictor,
  opts: EvaluateOptions = {},
): Promise<Metrics> {
  const want = (s: EvalSection) => !opts.sections || opts.sections.includes(s);
  const dataRoot = opts.dataRoot ?? "data";
  const testEnvs = cfg.data.test_envs?.length ? cfg.data.test_envs : cfg.data.envs;
  const baselines = opts.baselines ?? true;
  const testCfg = { ...cfg, data: { ...cfg.data, envs: testEnvs } };
  const testDs = await loadWindows(testCfg, "test", dataRoot);
  const eo = { batchSize: cfg.train.batch_size, seed: 12345, maxWindows: opts.maxWindows ?? 512 };
  // Class frequencies of the training split, for the baselines only.
  const counts = baselines ? classCounts(await loadWindows(cfg, "train", dataRoot)) : null;
  const out: Metrics = {};
  const put = (prefix: string, rec: object) => {
    for (const [k, v] of Object.entries(rec)) out[`${prefix}${k}`] = v as number;
  };
  // Next frame given history and action.
  const nf = { kind: "next_frame" as const };
  const na = { kind: "next_action" as const };
  if (want("observation")) {
    put("next_frame.", await evaluateMasked(predictor, testDs, nf, eo));
    if (counts) {
      put(
        "copy_prev.next_frame.",
        await evaluateMasked(copyPreviousPredictor(counts), testDs, nf, eo),
      );
      put("majority.next_frame.", await evaluateMasked(majorityPredictor(counts), testDs, nf, eo));
    }
    // Random cells at the eval ratio.
    const rc = { kind: "random_cells" as const, ratio: cfg.eval.obs_mask_ratio };
    put("random_cells.", await evaluateMasked(predictor, testDs, rc, eo));
    if (counts) {
      put(
        "copy_prev.random_cells.",
        await evaluateMasked(copyPreviousPredictor(counts), testDs, rc, eo),
      );
    }
  }
  // Next action.
  if (want("action")) {
    out["action_acc"] = (await evaluateMasked(predictor, testDs, na, eo)).action_acc;
    if (counts) {
      out["majority.action_acc"] =
        (await evaluateMasked(majorityPredictor(counts), testDs, na, eo)).action_acc;
    }
  }
  // Any-order ELBO.
  if (want("elbo")) {
    out["elbo_nats_per_slot"] = await evaluateElbo(predictor, testDs, cfg.eval.elbo_ts, eo);
  }
  // Robustness: extra hidden observed cells.
  for (const q of want("robustness") ? cfg.eval.robustness_q : []) {
    for (const mode of ["mask", "unseen"] as const) {
      if (q === 0 && mode === "unseen") { // nothing hidden: the same inputs as mode "mask"
        out[`robust.unseen.q0.cell_acc`] = out[`robust.mask.q0.cell_acc`];
        out[`robust.unseen.q0.action_acc`] = out[`robust.mask.q0.action_acc`];
        continue;
      }
      const f = await evaluateCorrupted(predictor, testDs, nf, q, mode, eo);
      out[`robust.${mode}.q${q}.cell_acc`] = f.cell_acc;
      const a = await evaluateCorrupted(predictor, testDs, na, q, mode, eo);
      out[`robust.${mode}.q${q}.action_acc`] = a.action_acc;
    }
  }
  if (!want("closed_loop")) return out;
  // Closed loop on held-out seeds of each test env.
  const cl = cfg.eval.closed_loop;
  const agg = {
    model: [] as number[],
    bot: [] as number[],
    random: [] as number[],
    len: [] as number[],
    rew: [] as number[],
  };
  for (const envId of testEnvs) {
    const seeds = heldOutSeeds(cfg.data.seed, envId, cl.episodes);
    const m = await rolloutModel(predictor, envId, seeds, policyOptions(cfg));
    out[`success.${envId}`] = m.success_rate;
    agg.model.push(m.success_rate);
    agg.len.push(m.mean_length);
    agg.rew.push(m.mean_reward);
    if (baselines) {
      const b = rolloutBot(envId, seeds, cl.max_steps);
      if (b) agg.bot.push(b.success_rate);
      agg.random.push(rolloutRandom(envId, seeds, cl.max_steps, cfg.seed).success_rate);
    }
  }
  const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  out["success_rate"] = mean(agg.model);
  out["mean_reward"] = mean(agg.rew);
  out["mean_length"] = mean(agg.len);
  if (baselines) {
    out["bot.success_rate"] = mean(agg.bot);
    out["random.success_rate"] = mean(agg.random);
  }
  // Closed-loop robustness: success with a fraction q of each observation hidden.
  if (want("robustness")) {
    for (const q of cfg.eval.robustness_q) {
      for (const mode of ["mask", "unseen"] as const) {
        if (q === 0) {
          out[`robust.${mode}.q${q}.success_rate`] = out["success_rate"];
          continue;
        }
        const rates: number[] = [];
        for (const envId of testEnvs) {
          const seeds = heldOutSeeds(cfg.data.seed, envId, cl.episodes);
          const m = await rolloutModel(predictor, envId, seeds, {
            ...policyOptions(cfg),
            hide: { q, mode },
          });
          rates.push(m.success_rate);
        }
        out[`robust.${mode}.q${q}.success_rate`] = mean(rates);
      }
    }
  }
  return out;
}
