/**
 * One model's whole evaluation ({@link evaluateModel}): every metric of the suite on the test
 * split and in closed loop on held-out seeds, baselines and bounds included, as flat metrics.
 *
 * @module
 */

import { join } from "node:path";
import { existsSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import type { Predictor } from "../data/types.ts";
import { loadDataset } from "../data/store.ts";
import {
  type EpisodeData,
  evalWindowConfig,
  tokenizeEpisodes,
  type WindowedDataset,
} from "../data/tokenize.ts";
import { heldOutSeeds } from "../data/split.ts";
import { wilson95 } from "../util/stats.ts";
import {
  actionCopyPredictor,
  classCounts,
  copyPreviousPredictor,
  majorityPredictor,
} from "./baselines.ts";
import {
  type EvalOptions,
  evaluateCorrupted,
  evaluateElbo,
  evaluateEndOfEpisode,
  evaluateMaskedGroups,
  evaluateNoised,
  evaluateObsNll,
  type GroupedSummary,
  iterativePredictor,
} from "./metrics.ts";
import { OBS_FIELDS, OBS_NLL_FIELDS, PER_ENV_KEYS } from "./catalogue.ts";
import { evalSet, windowFacts } from "./windows.ts";
import { type ObsNllSummary } from "./score.ts";
import { rolloutBot, rolloutModel, type RolloutOptions, rolloutRandom } from "./rollout.ts";

/**
 * Version of the evaluation suite. A finished run whose result.json was written
 * by another version is re-evaluated from its final checkpoint (not retrained)
 * the next time a study uses it (lib/experiment/ablate.ts).
 *
 * 3: next-frame masks hide the target frame's action; windows sampled stratified over env ids
 * and episodes, per-env metrics; action accuracy over every decision; one-pass and iterative
 * next-frame accuracy; ELBO denominator without "none" slots; frequency-model baselines and the
 * action-aware copy; Wilson intervals for success rates.
 * 4: observation NLL (`obs_nll.*`, one whole frame hidden) for the model and the baselines;
 * observation noise (`noise.rho<r>.*`, offline and closed loop); `unseen.success_rate` over
 * held-out envs; only the catalogue's keys written (lib/eval/catalogue.ts); per-episode
 * closed-loop outcomes for paired comparisons.
 * 5: the copy baselines under observation noise (`<copy_prev|action_copy>.noise.rho<r>.cell_acc`).
 * 6: the copy baselines' training hit rates (`<copy_prev|action_copy>.train_hit.*`).
 */
export const EVAL_VERSION = 6;

/**
 * Per-episode closed-loop outcomes of one evaluation, per env id: the held-out seeds played and
 * 1 / 0 for success, in the same order. Every model of a study plays the same seeds of an env (at
 * the same seed index), so outcomes pair by episode.
 */
export type ClosedLoopEpisodes = Record<string, { seeds: number[]; success: number[] }>;

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
export type EvalSection =
  | "observation"
  | "obs_nll"
  | "action"
  | "elbo"
  | "robustness"
  | "closed_loop";

/** A test split with the env id of each episode (a loaded `DatasetSplit` fits). */
export interface EvalEpisodes extends EpisodeData {
  /** [E] index into `envIds` of each episode. */
  envIndex: ArrayLike<number>;
  /** Env id of each `envIndex` value. */
  envIds: string[];
}

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** Root of the datasets (default `data`). */
  dataRoot?: string;
  /** Test windows scored per metric (default 512; a sample stratified over env ids and episodes). */
  maxWindows?: number;
  /** Sections to run (default all). */
  sections?: EvalSection[];
  /**
   * Also score the baselines and bounds (copy-previous, action-aware copy, frequency model, bot,
   * random; default true). They do not depend on the model: a caller that already has them, such
   * as the fine-tuning evaluation, leaves them out.
   */
  baselines?: boolean;
  /** Episodes to use instead of loading the dataset (tests, notebooks): the test split, and the
   * training split whose class counts the baselines use. */
  data?: { test: EvalEpisodes; train: EpisodeData };
  /**
   * Seconds spent, added to what is there: `offline` (every metric on the test windows, baselines
   * included) and `closed_loop` (the rollouts in the environments, robustness included).
   */
  timings?: { offline?: number; closed_loop?: number };
  /** Filled with the per-episode outcomes of the closed loop (clean observations). */
  episodes?: ClosedLoopEpisodes;
}

/** Fixed seed of the evaluation masks and samples (mixed with `data.seed`). */
export const EVAL_SEED = 12345;

/** Keys also written per env id (`<env_id>.<key>`, lib/eval/catalogue.ts). */
const PER_ENV = new Set<string>(PER_ENV_KEYS);

async function loadSplit(
  cfg: Config,
  split: "train" | "test",
  envs: string[],
  dataRoot: string,
) {
  const dir = join(dataRoot, cfg.data.dataset);
  if (!existsSync(join(dir, "manifest.json"))) {
    throw new Error(
      `dataset '${cfg.data.dataset}' not found (${dir}/manifest.json is missing); collect it ` +
        `first with 'deno task collect --config <the same config>'`,
    );
  }
  return await loadDataset(dir, split, envs.length ? { envs } : {});
}

/**
 * Evaluate `predictor` (a trained model) under `cfg`: returns flat metrics.
 *
 * The test split is cut into one window ending at every frame (stride 1); each metric scores a
 * deterministic sample of the windows it needs (`maxWindows`, equal share per env id, spread over
 * episodes; the same windows and masks for every model of a study): next-frame metrics windows
 * with at least two valid frames, action metrics every window whose last frame is a decision.
 *
 * Keys: `next_frame.*` (one pass) and `next_frame_iter.*` (`eval.decode_steps` rounds of
 * low-confidence remasking, when > 1); `action_acc` over decisions and `action_end_acc`
 * (predicting "none" at an episode's end); `random_cells.*`; `elbo_nats_per_slot`;
 * `robust.<mode>.q<q>.*`; closed loop `success_rate` with its Wilson 95% interval
 * (`success_rate.wilson_lo/hi`, `success.episodes`), `unseen.success_rate` over the test envs that
 * are not training envs; `obs_nll.*` (one whole frame hidden, the rest of the window visible);
 * `noise.rho<r>.*` (observation tokens replaced by random valid tokens). Per env id:
 * `<env_id>.<key>`. Baselines on the same windows and masks: `copy_prev.`, `action_copy.`,
 * `majority.` (the frequency model); closed-loop bounds `bot.` / `random.`. Every key is in the
 * catalogue (lib/eval/catalogue.ts).
 */
export async function evaluateModel(
  cfg: Config,
  predictor: Predictor,
  opts: EvaluateOptions = {},
): Promise<Metrics> {
  const t0 = performance.now();
  const timings = opts.timings;
  const lap = (key: "offline" | "closed_loop", since: number) => {
    if (timings) timings[key] = (timings[key] ?? 0) + (performance.now() - since) / 1000;
  };
  const want = (s: EvalSection) => !opts.sections || opts.sections.includes(s);
  const dataRoot = opts.dataRoot ?? "data";
  const testEnvs = cfg.data.test_envs?.length ? cfg.data.test_envs : cfg.data.envs;
  const baselines = opts.baselines ?? true;
  const test = opts.data?.test ?? await loadSplit(cfg, "test", testEnvs, dataRoot);
  const testDs: WindowedDataset = tokenizeEpisodes(test, evalWindowConfig(cfg.window), {
    name: `${cfg.data.dataset}/test`,
  });
  const seed = EVAL_SEED + 1000003 * cfg.data.seed;
  const facts = windowFacts(testDs);
  const setOpts = {
    maxWindows: opts.maxWindows ?? 512,
    seed,
    episodeGroup: test.envIndex,
    groups: test.envIds,
    facts,
  };
  const sets = {
    nf: evalSet(testDs, "next_frame", setOpts),
    act: evalSet(testDs, "action", setOpts),
    end: evalSet(testDs, "end", setOpts),
    any: evalSet(testDs, "any", setOpts),
  };
  const eo = (set: typeof sets.nf): EvalOptions => ({
    batchSize: cfg.train.batch_size,
    seed,
    set,
  });
  // Class frequencies and copy hit rates of the training split, for the baselines only.
  const counts = baselines
    ? classCounts(
      tokenizeEpisodes(
        opts.data?.train ?? await loadSplit(cfg, "train", cfg.data.envs, dataRoot),
        cfg.window,
        { name: `${cfg.data.dataset}/train` },
      ),
    )
    : null;
  const out: Metrics = {};
  // Pooled `fields` of a summary under `prefix`; per env id the catalogue's per-env keys.
  const putFields = <S extends object>(
    prefix: string,
    g: { pooled: S; groups: Record<string, S> },
    fields: readonly (keyof S & string)[],
  ) => {
    for (const k of fields) out[`${prefix}${k}`] = g.pooled[k] as number;
    for (const [env, s] of Object.entries(g.groups)) {
      for (const k of fields) {
        if (PER_ENV.has(`${prefix}${k}`)) out[`${env}.${prefix}${k}`] = s[k] as number;
      }
    }
  };
  const putGrouped = (prefix: string, g: GroupedSummary) => putFields(prefix, g, OBS_FIELDS);
  const putNll = (
    prefix: string,
    g: { pooled: ObsNllSummary; groups: Record<string, ObsNllSummary> },
  ) => putFields(prefix, g, OBS_NLL_FIELDS);
  const nf = { kind: "next_frame" as const };
  const na = { kind: "next_action" as const };
  const baselinePredictors = counts
    ? {
      copy_prev: copyPreviousPredictor(counts),
      action_copy: actionCopyPredictor(counts),
      majority: majorityPredictor(counts),
    }
    : null;
  // The copy baselines' training hit rates (their mixture weights), beside their scores.
  for (
    const [name, r] of [["copy_prev", counts?.copyPrev], [
      "action_copy",
      counts?.copyMoved,
    ]] as const
  ) {
    if (!r) continue;
    out[`${name}.train_hit.obj`] = r.cells[0];
    out[`${name}.train_hit.color`] = r.cells[1];
    out[`${name}.train_hit.state`] = r.cells[2];
    out[`${name}.train_hit.dir`] = r.dir;
  }
  if (want("observation")) {
    // Next frame (cells and direction) given the history; the frame's own action is hidden.
    putGrouped("next_frame.", await evaluateMaskedGroups(predictor, testDs, nf, eo(sets.nf)));
    if (cfg.eval.decode_steps > 1) {
      const iter = iterativePredictor(predictor, cfg.eval.decode_steps);
      putGrouped("next_frame_iter.", await evaluateMaskedGroups(iter, testDs, nf, eo(sets.nf)));
    }
    for (const [name, p] of Object.entries(baselinePredictors ?? {})) {
      putGrouped(`${name}.next_frame.`, await evaluateMaskedGroups(p, testDs, nf, eo(sets.nf)));
    }
    // Random cells at the eval ratio.
    const rc = { kind: "random_cells" as const, ratio: cfg.eval.obs_mask_ratio };
    putGrouped("random_cells.", await evaluateMaskedGroups(predictor, testDs, rc, eo(sets.any)));
    if (baselinePredictors) {
      for (const name of ["copy_prev", "action_copy"] as const) {
        putGrouped(
          `${name}.random_cells.`,
          await evaluateMaskedGroups(baselinePredictors[name], testDs, rc, eo(sets.any)),
        );
      }
    }
  }
  // Observation NLL (section "observation", or alone as "obs_nll"): one whole frame hidden, the
  // rest of the window visible, on the same windows as the next frame; the baselines on the same
  // windows and masks.
  if (want("observation") || want("obs_nll")) {
    putNll("obs_nll.", await evaluateObsNll(predictor, testDs, eo(sets.nf)));
    for (const [name, p] of Object.entries(baselinePredictors ?? {})) {
      putNll(`${name}.obs_nll.`, await evaluateObsNll(p, testDs, eo(sets.nf)));
    }
  }
  // Next action: every decision (windows whose last valid frame has a real action).
  if (want("action")) {
    const a = await evaluateMaskedGroups(predictor, testDs, na, eo(sets.act));
    out["action_acc"] = a.pooled.action_acc;
    out["action.decisions"] = sets.act.windows.length;
    out["action.nats"] = a.pooled.nats_per_slot;
    for (const [env, s] of Object.entries(a.groups)) out[`${env}.action_acc`] = s.action_acc;
    out["action_end_acc"] = (await evaluateEndOfEpisode(predictor, testDs, eo(sets.end))).acc;
    if (baselinePredictors) {
      const m = await evaluateMaskedGroups(baselinePredictors.majority, testDs, na, eo(sets.act));
      out["majority.action_acc"] = m.pooled.action_acc;
      out["majority.action.nats"] = m.pooled.nats_per_slot;
      for (const [env, s] of Object.entries(m.groups)) {
        out[`${env}.majority.action_acc`] = s.action_acc;
      }
    }
  }
  // Any-order ELBO.
  if (want("elbo")) {
    out["elbo_nats_per_slot"] = await evaluateElbo(
      predictor,
      testDs,
      cfg.eval.elbo_ts,
      eo(sets.any),
    );
  }
  // Robustness: extra hidden observed cells.
  for (const q of want("robustness") ? cfg.eval.robustness_q : []) {
    for (const mode of ["mask", "unseen"] as const) {
      if (q === 0 && mode === "unseen") { // nothing hidden: the same inputs as mode "mask"
        out[`robust.unseen.q0.cell_acc`] = out[`robust.mask.q0.cell_acc`];
        out[`robust.unseen.q0.action_acc`] = out[`robust.mask.q0.action_acc`];
        continue;
      }
      const f = await evaluateCorrupted(predictor, testDs, nf, q, mode, eo(sets.nf));
      out[`robust.${mode}.q${q}.cell_acc`] = f.cell_acc;
      const a = await evaluateCorrupted(predictor, testDs, na, q, mode, eo(sets.act));
      out[`robust.${mode}.q${q}.action_acc`] = a.action_acc;
    }
  }
  // Noise robustness: a fraction rho of the context's observation tokens replaced by random
  // valid tokens (not [MASK]).
  for (const rho of want("robustness") ? cfg.eval.noise_rho : []) {
    if (want("observation")) {
      const f = await evaluateNoised(predictor, testDs, nf, rho, eo(sets.nf));
      out[`noise.rho${rho}.cell_acc`] = f.cell_acc;
      // The copy baselines read the same noisy context.
      for (const name of baselinePredictors ? ["copy_prev", "action_copy"] as const : []) {
        const b = await evaluateNoised(baselinePredictors![name], testDs, nf, rho, eo(sets.nf));
        out[`${name}.noise.rho${rho}.cell_acc`] = b.cell_acc;
      }
    }
    if (want("action")) {
      const a = await evaluateNoised(predictor, testDs, na, rho, eo(sets.act));
      out[`noise.rho${rho}.action_acc`] = a.action_acc;
    }
  }
  lap("offline", t0);
  if (!want("closed_loop")) return out;
  const t1 = performance.now();
  try {
    await closedLoop(cfg, predictor, testEnvs, baselines, want("robustness"), out, opts.episodes);
  } finally {
    lap("closed_loop", t1);
  }
  return out;
}

/** Closed-loop success on held-out seeds (and under hidden cells), written into `out`. */
async function closedLoop(
  cfg: Config,
  predictor: Predictor,
  testEnvs: string[],
  baselines: boolean,
  robustness: boolean,
  out: Metrics,
  episodes?: ClosedLoopEpisodes,
): Promise<void> {
  // Closed loop on held-out seeds of each test env; Wilson 95% intervals over the episodes.
  const cl = cfg.eval.closed_loop;
  const tot = { wins: 0, n: 0, bot: 0, botN: 0, random: 0, len: 0, rew: 0 };
  const unseen = { wins: 0, n: 0 };
  const putRate = (key: string, wins: number, n: number) => {
    const w = wilson95(wins, n);
    out[key] = w.p;
    out[`${key}.wilson_lo`] = w.lo;
    out[`${key}.wilson_hi`] = w.hi;
  };
  for (const envId of testEnvs) {
    const seeds = heldOutSeeds(cfg.data.seed, envId, cl.episodes);
    const m = await rolloutModel(predictor, envId, seeds, policyOptions(cfg));
    const wins = Math.round(m.success_rate * m.episodes);
    putRate(`${envId}.success_rate`, wins, m.episodes);
    if (episodes) episodes[envId] = { seeds, success: m.outcomes };
    if (!cfg.data.envs.includes(envId)) {
      unseen.wins += wins;
      unseen.n += m.episodes;
    }
    tot.wins += wins;
    tot.n += m.episodes;
    tot.len += m.mean_length * m.episodes;
    tot.rew += m.mean_reward * m.episodes;
    if (baselines) {
      const b = rolloutBot(envId, seeds, cl.max_steps);
      if (b) {
        tot.bot += Math.round(b.success_rate * b.episodes);
        tot.botN += b.episodes;
      }
      const r = rolloutRandom(envId, seeds, cl.max_steps, cfg.seed);
      tot.random += Math.round(r.success_rate * r.episodes);
    }
  }
  putRate("success_rate", tot.wins, tot.n);
  out["success.episodes"] = tot.n;
  if (unseen.n > 0) {
    putRate("unseen.success_rate", unseen.wins, unseen.n);
    out["unseen.episodes"] = unseen.n;
  }
  out["mean_reward"] = tot.n ? tot.rew / tot.n : NaN;
  out["mean_length"] = tot.n ? tot.len / tot.n : NaN;
  if (baselines) {
    putRate("bot.success_rate", tot.bot, tot.botN);
    putRate("random.success_rate", tot.random, tot.n);
  }
  // Closed-loop robustness: success with a fraction q of each observation hidden.
  if (robustness) {
    for (const q of cfg.eval.robustness_q) {
      for (const mode of ["mask", "unseen"] as const) {
        if (q === 0) {
          out[`robust.${mode}.q${q}.success_rate`] = out["success_rate"];
          continue;
        }
        let wins = 0, n = 0;
        for (const envId of testEnvs) {
          const seeds = heldOutSeeds(cfg.data.seed, envId, cl.episodes);
          const m = await rolloutModel(predictor, envId, seeds, {
            ...policyOptions(cfg),
            hide: { q, mode },
          });
          wins += Math.round(m.success_rate * m.episodes);
          n += m.episodes;
        }
        out[`robust.${mode}.q${q}.success_rate`] = n ? wins / n : NaN;
      }
    }
    for (const rho of cfg.eval.noise_rho) {
      let wins = 0, n = 0;
      for (const envId of testEnvs) {
        const seeds = heldOutSeeds(cfg.data.seed, envId, cl.episodes);
        const m = await rolloutModel(predictor, envId, seeds, {
          ...policyOptions(cfg),
          noise: { rho },
        });
        wins += Math.round(m.success_rate * m.episodes);
        n += m.episodes;
      }
      out[`noise.rho${rho}.success_rate`] = n ? wins / n : NaN;
    }
  }
}
