// Evaluation metrics (issue 15): leak-free next-frame masks, stratified and complete evaluation
// sets, iterative decoding, the ELBO's denominator, real baseline distributions, the
// action-aware copy checked against the environment, and evaluateModel on a hand-built dataset.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import {
  ACTION_NONE,
  ACTION_VOCAB,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Logits,
  type Mask,
  OBJ_VOCAB,
  type Predictor,
  STATE_VOCAB,
} from "../lib/data/types.ts";
import { allocBatch, type EpisodeData, fillBatch, tokenizeEpisodes } from "../lib/data/tokenize.ts";
import { syntheticEpisodes } from "../lib/testing/synthetic.ts";
import { applyEvalMask } from "../lib/masking/eval.ts";
import { drawMask } from "../lib/masking/mod.ts";
import { lastValidFrame } from "../lib/masking/core.ts";
import {
  actionCopyPredictor,
  type ClassCounts,
  classCounts,
  copyPreviousPredictor,
  majorityPredictor,
  VIEW_SOURCES,
  viewSourcesFor,
} from "../lib/eval/baselines.ts";
import {
  elboSlots,
  evaluateCorrupted,
  evaluateElbo,
  evaluateMasked,
  iterativePredictor,
} from "../lib/eval/metrics.ts";
import { eligibleWindows, evalSet, windowFacts } from "../lib/eval/windows.ts";
import { newTally, scoreBatch, summarize } from "../lib/eval/score.ts";
import { EVAL_VERSION, type EvalEpisodes, evaluateModel } from "../lib/eval/mod.ts";
import { loadConfig } from "../lib/experiment/config.ts";
import { REPO_ROOT } from "../lib/experiment/rundir.ts";
import { make } from "../lib/env/registry.ts";
import { BabyAIBot } from "../lib/env/babyai/bot.ts";
import { decodeIterative, makePredictor } from "../lib/model/decode.ts";
import { initParams } from "../lib/model/params.ts";
import { resolveModelConfig } from "../lib/model/model_config.ts";
import { tree } from "@jax-js/jax";

/** Point logits at the truth of `batch` for every slot: a perfect (cheating) predictor. */
const oracle: Predictor = (batch) => {
  const n = batch.B * batch.K;
  const L: Logits = {
    obj: new Float32Array(n * CELLS * OBJ_VOCAB),
    color: new Float32Array(n * CELLS * COLOR_VOCAB),
    state: new Float32Array(n * CELLS * STATE_VOCAB),
    dir: new Float32Array(n * DIR_VOCAB),
    action: new Float32Array(n * ACTION_VOCAB),
  };
  const V = [OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB];
  const heads = [L.obj, L.color, L.state];
  for (let i = 0; i < n * CELLS; i++) {
    for (let a = 0; a < 3; a++) heads[a][i * V[a] + batch.cells[i * 3 + a]] = 10;
  }
  for (let j = 0; j < n; j++) {
    L.dir[j * DIR_VOCAB + batch.dirs[j]] = 10;
    L.action[j * ACTION_VOCAB + batch.actions[j]] = 10;
  }
  return Promise.resolve(L);
};

/** Uniform logits: -log p of a slot is log(vocabulary size). */
const uniform: Predictor = (batch) => {
  const n = batch.B * batch.K;
  return Promise.resolve({
    obj: new Float32Array(n * CELLS * OBJ_VOCAB),
    color: new Float32Array(n * CELLS * COLOR_VOCAB),
    state: new Float32Array(n * CELLS * STATE_VOCAB),
    dir: new Float32Array(n * DIR_VOCAB),
    action: new Float32Array(n * ACTION_VOCAB),
  });
};

/** Episodes of two env ids stored env by env (the first env's episodes all come first). */
function twoEnvEpisodes(): EvalEpisodes {
  const a = syntheticEpisodes(30, 12, 1), b = syntheticEpisodes(10, 12, 2);
  const Fa = a.directions.length, Ea = 30;
  const offs = new Int32Array(41);
  for (let e = 0; e <= 30; e++) offs[e] = Number((a.episodeOffsets as Int32Array)[e]);
  for (let e = 1; e <= 10; e++) offs[30 + e] = Fa + Number((b.episodeOffsets as Int32Array)[e]);
  const cat = (x: Uint8Array, y: Uint8Array) => {
    const o = new Uint8Array(x.length + y.length);
    o.set(x);
    o.set(y, x.length);
    return o;
  };
  return {
    images: cat(a.images, b.images),
    directions: cat(a.directions, b.directions),
    actions: cat(a.actions, b.actions),
    episodeOffsets: offs,
    missions: [...a.missions, ...b.missions],
    envIndex: Int32Array.from({ length: 40 }, (_, e) => (e < Ea ? 0 : 1)),
    envIds: ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"],
  };
}

const WINDOW = { length: 3, stride: 1, mission_len: 12 };

Deno.test("next-frame masks hide the target frame's action (evaluation, robustness, forward_dynamics)", async () => {
  const ds = tokenizeEpisodes(syntheticEpisodes(20, 6, 3), WINDOW);
  const set = evalSet(ds, "next_frame", { seed: 1 });
  const batch = fillBatch(ds, set.windows, undefined, 0, 16);
  const check = (m: Mask, what: string) => {
    for (let b = 0; b < batch.B; b++) {
      const k = lastValidFrame(batch, b);
      assert.equal(m.actions[b * batch.K + k], 1, `${what}: row ${b}'s target action is hidden`);
    }
  };
  check(applyEvalMask(batch, { kind: "next_frame" }), "next_frame");
  check(
    drawMask({ strategy: "forward_dynamics" }, batch, {
      step: 0,
      epoch: 0,
      seed: 0,
      batchIndex: 0,
    }),
    "forward_dynamics",
  );
  // The option keeps the old behaviour.
  const open = applyEvalMask(batch, { kind: "next_frame", hideAction: false });
  assert.equal(open.actions.reduce((a, x) => a + x, 0), 0);
  // What the predictor is fed, in the plain and the robustness evaluations.
  const seen: Mask[] = [];
  const recorder: Predictor = (b, m) => (seen.push(m), uniform(b, m));
  const opts = { batchSize: 8, seed: 3, maxWindows: 32 };
  await evaluateMasked(recorder, ds, { kind: "next_frame" }, opts);
  await evaluateCorrupted(recorder, ds, { kind: "next_frame" }, 0.3, "mask", opts);
  await evaluateCorrupted(recorder, ds, { kind: "next_frame" }, 0.3, "unseen", opts);
  assert.ok(seen.length >= 12);
  for (const m of seen) {
    // every row's last valid frame has its cells, direction and action hidden
    const K = WINDOW.length;
    for (let j = 0; j < m.dirs.length; j++) {
      if (m.dirs[j]) assert.equal(m.actions[j], 1, "direction hidden => action hidden");
    }
    assert.ok(m.dirs.reduce((a, x) => a + x, 0) === m.dirs.length / K);
  }
  // The next-frame metric scores cells and direction only: a uniform predictor's NLL per slot
  // is the mean of log |V| over 147 attributes and the direction (no action slot).
  const s = await evaluateMasked(uniform, ds, { kind: "next_frame" }, opts);
  const want = (49 * (Math.log(11) + Math.log(6) + Math.log(3)) + Math.log(4)) / 148;
  assert.ok(Math.abs(s.nats_per_slot - want) < 1e-9, `${s.nats_per_slot} vs ${want}`);
  assert.ok(Number.isNaN(s.action_acc), "no action scored by the next-frame metric");
});

Deno.test("evaluation sets: deterministic, equal share per env id, spread over episodes", () => {
  const eps = twoEnvEpisodes();
  const ds = tokenizeEpisodes(eps, WINDOW);
  const facts = windowFacts(ds);
  const opts = { seed: 7, maxWindows: 40, episodeGroup: eps.envIndex, groups: eps.envIds, facts };
  const s = evalSet(ds, "any", opts);
  assert.equal(s.windows.length, 40);
  assert.deepEqual(s.windows, evalSet(ds, "any", opts).windows, "same seed, same sample");
  assert.notDeepEqual(s.windows, evalSet(ds, "any", { ...opts, seed: 8 }).windows);
  // second env's 10 episodes are stored last; the first 40 windows in file order are all first env's.
  const perGroup = [0, 0];
  for (const g of s.groupOf!) perGroup[g]++;
  assert.deepEqual(perGroup, [20, 20], "equal share per env id");
  // Spread over episodes: first env has 30 episodes for 20 windows -> 20 distinct episodes, one each.
  const epsA = new Set(
    [...s.windows].filter((_, i) => s.groupOf![i] === 0).map((w) => ds.winEpisode[w]),
  );
  assert.equal(epsA.size, 20);
  // Second env: 10 episodes for 20 windows, one per episode per round: an episode that still
  // had windows left never gave two fewer than another.
  const taken = new Map<number, number>();
  [...s.windows].filter((_, i) => s.groupOf![i] === 1).forEach((w) =>
    taken.set(ds.winEpisode[w], (taken.get(ds.winEpisode[w]) ?? 0) + 1)
  );
  const avail = (e: number) =>
    [...eligibleWindows(facts, "any")].filter((w) => ds.winEpisode[w] === e).length;
  const most = Math.max(...taken.values());
  for (let e = 30; e < 40; e++) {
    const c = taken.get(e) ?? 0;
    if (c < avail(e)) {
      assert.ok(c >= most - 1, `episode ${e}: ${c} of ${avail(e)}, another gave ${most}`);
    }
  }
  // A group smaller than its share gives all it has; the rest goes to the other.
  const n = ds.numWindows - 5;
  const big = evalSet(ds, "any", { ...opts, maxWindows: n });
  assert.equal(big.windows.length, n);
  const nB = [...big.groupOf!].filter((g) => g === 1).length;
  const totalB =
    [...eligibleWindows(facts, "any")].filter((w) => eps.envIndex[ds.winEpisode[w]] === 1).length;
  if (totalB <= Math.floor(n / 2)) assert.equal(nB, totalB);
  else assert.ok(nB === Math.floor(n / 2) || nB === Math.ceil(n / 2), `${nB}`);
});

Deno.test("action accuracy scores every decision; next-frame windows have a frame to predict from", async () => {
  const data = syntheticEpisodes(25, 9, 5);
  const ds = tokenizeEpisodes(data, WINDOW);
  let decisions = 0;
  for (const a of data.actions) if (a !== ACTION_NONE) decisions++;
  const facts = windowFacts(ds);
  const act = eligibleWindows(facts, "action");
  assert.equal(act.length, decisions, "one window ends at every decision");
  const s = await evaluateMasked(oracle, ds, { kind: "next_action" }, { batchSize: 16, seed: 0 });
  assert.equal(s.action_acc, 1);
  const all = fillBatch(ds, act);
  const target = applyEvalMask(all, { kind: "next_action" });
  const t = newTally();
  scoreBatch(all, target, await oracle(all, target), t);
  assert.deepEqual(t.action, [decisions, decisions]);
  // Next-frame: every frame but each episode's first.
  const E = data.missions.length, F = data.directions.length;
  const nf = eligibleWindows(facts, "next_frame");
  assert.equal(nf.length, F - E);
  for (const w of nf) assert.ok(facts.frames[w] >= 2);
  assert.equal(eligibleWindows(facts, "end").length, E);
});

Deno.test("iterative decoding: the decode_steps schedule over any predictor, equal to the model's", async () => {
  const cfg = resolveModelConfig({ size: "tiny" }, { length: 2, mission_len: 5 });
  const params = initParams(cfg, 3);
  const ds = tokenizeEpisodes(
    syntheticEpisodes(6, 5, 9),
    { length: 2, stride: 1, mission_len: 5 },
    {
      encodeMission: () => Int32Array.of(1, 2, 3),
    },
  );
  const set = evalSet(ds, "next_frame", { seed: 0 });
  const batch = fillBatch(ds, set.windows, undefined, 0, Math.min(4, set.windows.length));
  const mask = applyEvalMask(batch, { kind: "next_frame" });
  const ref = await decodeIterative(params, cfg, batch, mask, 3);
  const one = makePredictor(params, cfg, 1);
  const mine = await iterativePredictor(one, 3)(batch, mask);
  let diff = 0;
  for (const k of ["obj", "color", "state", "dir", "action"] as const) {
    for (let i = 0; i < ref[k].length; i++) diff = Math.max(diff, Math.abs(ref[k][i] - mine[k][i]));
  }
  assert.ok(diff < 1e-5, `max |diff| ${diff}`);
  // More rounds compute something else than one pass.
  const single = await one(batch, mask);
  let moved = 0;
  for (let i = 0; i < single.obj.length; i++) {
    moved = Math.max(moved, Math.abs(single.obj[i] - mine.obj[i]));
  }
  assert.ok(moved > 0);
  assert.equal(iterativePredictor(one, 1), one);
  assert.throws(() => iterativePredictor(one, 0), /decode_steps/);
  tree.dispose(params);
});

Deno.test("evaluateElbo: the denominator counts the slots the numerator can score", async () => {
  // One window of two frames, actions [forward, none]; t = 1 hides every slot.
  const b = allocBatch(1, 2, 4);
  b.frameValid.fill(1);
  b.actions.set([2, ACTION_NONE]);
  const data: EpisodeData = {
    images: new Uint8Array(2 * 147),
    directions: new Uint8Array(2),
    actions: Uint8Array.of(2, ACTION_NONE),
    episodeOffsets: Int32Array.of(0, 2),
    missions: ["go to the red ball"],
  };
  const ds = tokenizeEpisodes(data, { length: 2, stride: 1, mission_len: 12 });
  assert.equal(elboSlots(b), 2 * 148 + 1);
  const perFrame = 49 * (Math.log(11) + Math.log(6) + Math.log(3)) + Math.log(4);
  const want = (2 * perFrame + Math.log(8)) / (2 * 148 + 1);
  const set = { windows: Int32Array.of(1), groupOf: null, groups: [] }; // the window ending at frame 1
  const got = await evaluateElbo(uniform, ds, [1], { batchSize: 4, seed: 0, set });
  assert.ok(Math.abs(got - want) < 1e-9, `ELBO ${got}, by hand ${want}`);
});

const COUNTS: ClassCounts = {
  cells: [
    Float64Array.of(0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0),
    Float64Array.of(9, 0, 0, 0, 0, 1),
    Float64Array.of(5, 0, 0),
  ],
  dir: Float64Array.of(0, 0, 7, 0),
  action: Float64Array.of(0, 1, 5, 0, 0, 0, 0, 0),
  copyPrev: { cells: [0.8, 0.9, 0.95], dir: 0.7 },
  copyMoved: { cells: [0.9, 0.95, 0.99], dir: 0.99 },
};

Deno.test("baselines have real distributions: frequency model and copy mixtures", async () => {
  const b = allocBatch(1, 2, 4);
  b.frameValid.fill(1);
  for (let c = 0; c < 49; c++) {
    b.cells.set([2, 5, 0], c * 3);
    b.cells.set([2, 5, 0], (49 + c) * 3);
  }
  b.dirs.set([2, 2]);
  b.actions.set([6, ACTION_NONE]); // 'done': the view stays
  const m = applyEvalMask(b, { kind: "next_frame" });
  m.actions.fill(0);
  // Frequency model: -log((count + 1) / (total + V)) per slot.
  const t = newTally();
  scoreBatch(b, m, await majorityPredictor(COUNTS)(b, m), t);
  const nObj = -Math.log(2 / 15),
    nCol = -Math.log(2 / 16),
    nSt = -Math.log(6 / 8),
    nDir = -Math.log(8 / 11);
  const want = (49 * (nObj + nCol + nSt) + nDir) / 148;
  assert.ok(Math.abs(summarize(t).nats_per_slot - want) < 1e-5);
  // Copy-previous: p(copied value) = rate + (1 - rate) * freq.
  const t2 = newTally();
  scoreBatch(b, m, await copyPreviousPredictor(COUNTS)(b, m), t2);
  const s2 = summarize(t2);
  assert.equal(s2.cell_acc, 1);
  // wall (2) has count 1 of 4 objects: freq (1 + 1) / (4 + 11); colour 5: (1 + 1) / (10 + 6) ...
  const want2 = 49 * -Math.log(0.8 + 0.2 * (2 / 15)) + 49 * -Math.log(0.9 + 0.1 * (2 / 16)) +
    49 * -Math.log(0.95 + 0.05 * (6 / 8)) - Math.log(0.7 + 0.3 * (8 / 11));
  assert.ok(Math.abs(t2.nll - want2) < 1e-3, `${t2.nll} vs ${want2}`);
  // A copy that was always right in training still gives a changed cell a finite NLL.
  const sure: ClassCounts = { ...COUNTS, copyPrev: { cells: [1, 1, 1], dir: 1 } };
  const changed = { ...b, cells: b.cells.slice() };
  changed.cells.set([5, 0, 0], (49 + 3) * 3);
  const t3 = newTally();
  scoreBatch(changed, m, await copyPreviousPredictor(sure)(changed, m), t3);
  assert.ok(Number.isFinite(t3.nll) && t3.nll > 0);
});

/** Consecutive frames of bot episodes, with the action between them. */
function botTransitions(envId: string, seeds: number[]) {
  const out: {
    prev: Uint8Array;
    next: Uint8Array;
    action: number;
    dPrev: number;
    dNext: number;
  }[] = [];
  for (const seed of seeds) {
    const env = make(envId);
    let { obs } = env.reset({ seed });
    // deno-lint-ignore no-explicit-any
    const bot = new BabyAIBot(env as any);
    let last: number | null = null;
    for (let n = 0; n < 100; n++) {
      last = bot.replan(last);
      const r = env.step(last!);
      out.push({
        prev: obs.image.slice(),
        next: r.obs.image.slice(),
        action: last!,
        dPrev: obs.direction,
        dNext: r.obs.direction,
      });
      obs = r.obs;
      if (r.terminated || r.truncated) break;
    }
  }
  return out;
}

Deno.test("action-aware copy: the view geometry matches the environment on bot episodes", async () => {
  const trans = [
    ...botTransitions("BabyAI-GoToRedBall-v0", [0, 1, 2, 3, 4, 5, 6, 7]),
    ...botTransitions("BabyAI-Open-v0", [0, 1, 2, 3]),
  ];
  const byAction = new Map<number, [number, number]>();
  for (const t of trans) {
    const src = viewSourcesFor(t.action, t.prev.subarray(26 * 3, 27 * 3));
    if (!src) continue;
    const acc = byAction.get(t.action) ?? [0, 0];
    for (let c = 0; c < 49; c++) {
      const s = src[c];
      // cells that stay in view and are seen in both frames (occlusion can change what is seen)
      if (s < 0 || t.prev[s * 3] === 0 || t.next[c * 3] === 0) continue;
      acc[1]++;
      if ([0, 1, 2].every((a) => t.prev[s * 3 + a] === t.next[c * 3 + a])) acc[0]++;
    }
    byAction.set(t.action, acc);
  }
  for (const a of [0, 1, 2]) {
    const [hit, n] = byAction.get(a)!;
    assert.ok(n > 200, `action ${a}: ${n} cells`);
    assert.ok(hit / n > 0.999, `action ${a}: ${hit}/${n} cells that stay in view are moved right`);
  }
  // A turn leaves 16 of 49 cells in view; a move forward 42 (the agent's own cell keeps its value).
  assert.equal([...VIEW_SOURCES.left].filter((s) => s >= 0).length, 16);
  assert.equal([...VIEW_SOURCES.right].filter((s) => s >= 0).length, 16);
  assert.equal([...VIEW_SOURCES.forward].filter((s) => s >= 0).length, 42);
  // As a predictor on next-frame masks: the action-aware copy beats copying in place after turns.
  const turns = trans.filter((t) => t.action === 0 || t.action === 1);
  const batch = allocBatch(turns.length, 2, 4);
  turns.forEach((t, i) => {
    batch.frameValid.fill(1, 2 * i, 2 * i + 2);
    for (let x = 0; x < 147; x++) {
      batch.cells[2 * i * 147 + x] = t.prev[x];
      batch.cells[(2 * i + 1) * 147 + x] = t.next[x];
    }
    batch.dirs.set([t.dPrev, t.dNext], 2 * i);
    batch.actions.set([t.action, ACTION_NONE], 2 * i);
  });
  const mask = applyEvalMask(batch, { kind: "next_frame" });
  const score = async (p: Predictor) => {
    const t = newTally();
    scoreBatch(
      batch,
      { ...mask, actions: new Uint8Array(mask.actions.length) },
      await p(batch, mask),
      t,
    );
    return summarize(t);
  };
  const moved = await score(actionCopyPredictor(COUNTS)),
    still = await score(copyPreviousPredictor(COUNTS));
  assert.equal(moved.dir_acc, 1, "turns rotate the direction");
  assert.ok(moved.cell_acc > still.cell_acc, `${moved.cell_acc} vs ${still.cell_acc}`);
  assert.ok(moved.changed_cell_acc > 0, "the action-aware copy gets changed cells right");
});

Deno.test("classCounts measures the copy hit rates on the training episodes", () => {
  const trans = botTransitions("BabyAI-GoToRedBall-v0", [11, 12, 13]);
  // One episode per seed is what botTransitions walked; rebuild them as episode data.
  const frames: Uint8Array[] = [], dirs: number[] = [], acts: number[] = [], offs = [0];
  let prevSeedEnd = true;
  for (let i = 0; i < trans.length; i++) {
    const t = trans[i];
    if (prevSeedEnd) {
      frames.push(t.prev);
      dirs.push(t.dPrev);
    }
    acts.push(t.action);
    frames.push(t.next);
    dirs.push(t.dNext);
    const end = i + 1 === trans.length || !sameFrame(trans[i + 1].prev, t.next);
    if (end) {
      acts.push(ACTION_NONE);
      offs.push(frames.length);
    }
    prevSeedEnd = end;
  }
  const images = new Uint8Array(frames.length * 147);
  frames.forEach((f, i) => images.set(f, i * 147));
  const ds = tokenizeEpisodes({
    images,
    directions: Uint8Array.from(dirs),
    actions: Uint8Array.from(acts),
    episodeOffsets: Int32Array.from(offs),
    missions: offs.slice(1).map(() => "go to the red ball"),
  }, WINDOW);
  const c = classCounts(ds);
  assert.ok(c.copyPrev && c.copyMoved);
  // Every moved direction is right: the smoothed rate is (n + 1) / (n + 2) for n transitions.
  const n = trans.length;
  assert.ok(Math.abs(c.copyMoved!.dir - (n + 1) / (n + 2)) < 1e-12, `${c.copyMoved!.dir}`);
  assert.ok(c.copyMoved!.dir > c.copyPrev!.dir);
  assert.ok(c.copyMoved!.cells[0] > c.copyPrev!.cells[0]);
});

function sameFrame(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function smokeConfig(decodeSteps: number) {
  return loadConfig(join(REPO_ROOT, "configs", "base.yaml"), {
    profile: "smoke",
    set: {
      "eval.decode_steps": decodeSteps,
      "data.envs": ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"],
      "window.length": 3,
    },
  });
}

Deno.test("evaluateModel on a hand-built dataset: oracle scores 1, baselines and per-env keys, decode_steps", async () => {
  const test = twoEnvEpisodes();
  const train = syntheticEpisodes(20, 10, 4);
  const sections = ["observation", "action", "elbo", "robustness"] as const;
  let calls = 0;
  const counting: Predictor = (b, m) => (calls++, oracle(b, m));
  const m = await evaluateModel(smokeConfig(1), counting, {
    data: { test, train },
    sections: [...sections],
    maxWindows: 64,
  });
  const callsOne = calls;
  for (
    const k of ["next_frame.cell_acc", "next_frame.dir_acc", "action_acc", "random_cells.cell_acc"]
  ) {
    assert.equal(m[k], 1, k);
  }
  for (const k of ["next_frame.changed_cell_acc", "robust.mask.q0.cell_acc"]) {
    assert.equal(m[k], 1, k);
  }
  for (const p of ["copy_prev", "action_copy", "majority"]) {
    assert.ok(m[`${p}.next_frame.cell_acc`] >= 0 && m[`${p}.next_frame.cell_acc`] < 1, p);
    assert.ok(Number.isFinite(m[`${p}.next_frame.nats_per_slot`]), `${p} NLL`);
  }
  assert.ok(m["majority.action_acc"] >= 0);
  for (const env of ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"]) {
    assert.equal(m[`${env}.next_frame.cell_acc`], 1, env);
    assert.equal(m[`${env}.action_acc`], 1, env);
    assert.ok(`${env}.copy_prev.next_frame.cell_acc` in m);
    assert.ok(`${env}.action_copy.next_frame.cell_acc` in m);
  }
  assert.equal(m["action.decisions"], 64, "a sample of the decisions, capped by maxWindows");
  assert.ok(!("next_frame_iter.cell_acc" in m), "one pass when decode_steps is 1");
  calls = 0;
  const m3 = await evaluateModel(smokeConfig(3), counting, {
    data: { test, train },
    sections: ["observation"],
    maxWindows: 64,
  });
  assert.equal(m3["next_frame_iter.cell_acc"], 1);
  assert.ok(calls > 0 && callsOne > 0);
  // decode_steps = 3 runs three forward passes per next-frame batch on top of the one-pass ones.
  const nfBatches = Math.ceil(64 / smokeConfig(3).train.batch_size);
  const m1Obs = await (async () => {
    calls = 0;
    await evaluateModel(smokeConfig(1), counting, {
      data: { test, train },
      sections: ["observation"],
      maxWindows: 64,
    });
    return calls;
  })();
  calls = 0;
  await evaluateModel(smokeConfig(3), counting, {
    data: { test, train },
    sections: ["observation"],
    maxWindows: 64,
  });
  assert.equal(calls - m1Obs, 3 * nfBatches);
  assert.ok(EVAL_VERSION >= 3);
});

Deno.test("evaluateModel closed loop: success rates carry Wilson intervals", async () => {
  const cfg = loadConfig(join(REPO_ROOT, "configs", "base.yaml"), { profile: "smoke" });
  const test = { ...syntheticEpisodes(3, 4, 1), envIndex: [0, 0, 0], envIds: [cfg.data.envs[0]] };
  const m = await evaluateModel(cfg, uniform, {
    data: { test, train: syntheticEpisodes(3, 4, 2) },
    sections: ["closed_loop"],
  });
  const n = cfg.eval.closed_loop.episodes * cfg.data.envs.length;
  assert.equal(m["success.episodes"], n);
  for (
    const k of [
      "success_rate",
      "bot.success_rate",
      "random.success_rate",
      `${cfg.data.envs[0]}.success_rate`,
    ]
  ) {
    assert.ok(m[`${k}.wilson_lo`] <= m[k] && m[k] <= m[`${k}.wilson_hi`], k);
    assert.ok(m[`${k}.wilson_hi`] > m[`${k}.wilson_lo`], `${k}: a real interval`);
  }
});
