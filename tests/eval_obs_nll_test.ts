// Observation NLL (issue 25): one whole frame hidden, context on both sides where the window
// allows, the predictor cannot read the hidden frame; baselines scored on the same windows.
import { strict as assert } from "node:assert";
import {
  ACTION_NONE,
  ACTION_VOCAB,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Logits,
  type Mask,
  OBJ_VOCAB,
  type Predictor,
  STATE_VOCAB,
} from "../lib/data/types.ts";
import {
  allocBatch,
  type EpisodeData,
  FRAME_SIZE,
  tokenizeEpisodes,
} from "../lib/data/tokenize.ts";
import { applyEvalMask, noiseObservedTokens, wholeFrameIndex } from "../lib/masking/eval.ts";
import { evaluateObsNll } from "../lib/eval/metrics.ts";
import { evalSet } from "../lib/eval/windows.ts";
import { classCounts, copyPreviousPredictor, majorityPredictor } from "../lib/eval/baselines.ts";
import { Rng } from "../lib/util/prng.ts";

/** `E` episodes of 3 frames with seeded random observations. */
function threeFrameEpisodes(E: number, seed: number): EpisodeData {
  const rng = new Rng(seed, 7);
  const F = 3 * E;
  const images = new Uint8Array(F * FRAME_SIZE);
  for (let i = 0; i < images.length; i++) {
    images[i] = rng.int([OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB][i % 3]);
  }
  const directions = Uint8Array.from({ length: F }, () => rng.int(DIR_VOCAB));
  const actions = Uint8Array.from(
    { length: F },
    (_, f) => (f % 3 === 2 ? ACTION_NONE : rng.int(7)),
  );
  return {
    images,
    directions,
    actions,
    episodeOffsets: Int32Array.from({ length: E + 1 }, (_, e) => 3 * e),
    missions: Array.from({ length: E }, () => "go to the red ball"),
  };
}

/** A predictor that records its inputs and returns logits that depend on them. */
function recorder(log: string[]): Predictor {
  return (batch: Batch, mask: Mask) => {
    log.push(
      JSON.stringify([Array.from(batch.cells), Array.from(batch.dirs), Array.from(batch.actions)]) +
        JSON.stringify([Array.from(mask.cells), Array.from(mask.dirs)]),
    );
    const n = batch.B * batch.K;
    const L: Logits = {
      obj: new Float32Array(n * CELLS * OBJ_VOCAB),
      color: new Float32Array(n * CELLS * COLOR_VOCAB),
      state: new Float32Array(n * CELLS * STATE_VOCAB),
      dir: new Float32Array(n * DIR_VOCAB),
      action: new Float32Array(n * ACTION_VOCAB),
    };
    // Logits read from the input: a predictor that could see the hidden frame would score it.
    // A fixed preference elsewhere, so the NLL depends on the truth it is scored against.
    for (let i = 0; i < n * CELLS; i++) {
      L.obj[i * OBJ_VOCAB + 1] = 2;
      const v = batch.cells[i * 3];
      if (v < OBJ_VOCAB) L.obj[i * OBJ_VOCAB + v] = 5;
    }
    return Promise.resolve(L);
  };
}

const WINDOW = { length: 4, stride: 1, mission_len: 6 };

Deno.test("whole-frame mask: the middle valid frame, cells and direction, its action visible", () => {
  const b = allocBatch(3, 4, 2);
  // row 0: 4 valid frames; row 1: 3 (left-padded); row 2: 2
  for (const [row, V] of [[0, 4], [1, 3], [2, 2]]) {
    for (let k = 4 - V; k < 4; k++) b.frameValid[row * 4 + k] = 1;
  }
  assert.deepEqual([0, 1, 2].map((r) => wholeFrameIndex(b, r)), [2, 2, 3]);
  const m = applyEvalMask(b, { kind: "whole_frame" });
  for (const [row, k] of [[0, 2], [1, 2], [2, 3]]) {
    const j = row * 4 + k;
    assert.equal(m.dirs[j], 1);
    assert.ok(m.cells.subarray(j * CELLS * 3, (j + 1) * CELLS * 3).every((x) => x === 1));
  }
  assert.equal(m.actions.reduce((a, x) => a + x, 0), 0, "actions stay visible");
  assert.equal(m.cells.reduce((a, x) => a + x, 0), 3 * CELLS * 3, "one frame per row");
  assert.equal(m.dirs.reduce((a, x) => a + x, 0), 3);
});

Deno.test("observation NLL cannot read the hidden frame: shuffling its truth leaves the input unchanged", async () => {
  // Episodes of 3 frames, K = 4: the scored windows end at frames 1 and 2; both hide frame 1.
  const data = threeFrameEpisodes(12, 1);
  const ds = tokenizeEpisodes(data, WINDOW);
  const opts = { batchSize: 8, seed: 3 };
  const set = evalSet(ds, "next_frame", { seed: 3 });
  assert.equal(set.windows.length, 24, "two scored windows per episode");
  const logA: string[] = [];
  const a = await evaluateObsNll(recorder(logA), ds, opts);
  // Shuffle frame 1 of every episode (its cells and direction) with seeded random values.
  const shuffled = { ...data, images: data.images.slice(), directions: data.directions.slice() };
  const rng = new Rng(99);
  for (let e = 0; e < 12; e++) {
    const f = 3 * e + 1;
    for (let i = f * FRAME_SIZE; i < (f + 1) * FRAME_SIZE; i++) {
      shuffled.images[i] = rng.int([OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB][i % 3]);
    }
    shuffled.directions[f] = (shuffled.directions[f] + 1 + rng.int(3)) % DIR_VOCAB;
  }
  const logB: string[] = [];
  const b = await evaluateObsNll(recorder(logB), tokenizeEpisodes(shuffled, WINDOW), opts);
  assert.equal(logA.length, 3);
  assert.deepEqual(logB, logA, "the predictor's inputs are the same");
  assert.notEqual(b.pooled.per_frame, a.pooled.per_frame, "the scored truth did change");
  assert.equal(a.pooled.frames, 24);
  // Per frame = per cell x 49 + direction.
  assert.ok(Math.abs(a.pooled.per_frame - (49 * a.pooled.per_cell + a.pooled.dir)) < 1e-9);
});

Deno.test("observation NLL of the baselines: the frequency model is a real distribution, copy reads the context", async () => {
  const data = threeFrameEpisodes(20, 2);
  // Frame 1 equals frame 0 (nothing moves), frame 2 random: copy-previous should win on frame 1.
  for (let e = 0; e < 20; e++) {
    data.images.copyWithin((3 * e + 1) * FRAME_SIZE, 3 * e * FRAME_SIZE, (3 * e + 1) * FRAME_SIZE);
    data.directions[3 * e + 1] = data.directions[3 * e];
    data.actions[3 * e] = 3; // pickup: the view stays
  }
  const ds = tokenizeEpisodes(data, WINDOW);
  const counts = classCounts(ds);
  const opts = { batchSize: 16, seed: 5 };
  const freq = await evaluateObsNll(majorityPredictor(counts), ds, opts);
  const copy = await evaluateObsNll(copyPreviousPredictor(counts), ds, opts);
  // Uniform over each vocabulary would be log 11 + log 6 + log 3 per cell.
  const uniformCell = Math.log(OBJ_VOCAB) + Math.log(COLOR_VOCAB) + Math.log(STATE_VOCAB);
  assert.ok(freq.pooled.per_cell > 0 && freq.pooled.per_cell < uniformCell + 0.1);
  assert.ok(copy.pooled.per_frame < freq.pooled.per_frame / 2, `${copy.pooled.per_frame}`);
  assert.ok(copy.pooled.cell_acc > 0.99);
});

Deno.test("observation noise: random valid tokens, never [MASK], never on targets, seeded", () => {
  const b = allocBatch(2, 4, 2);
  b.frameValid.fill(1);
  const target = applyEvalMask(b, { kind: "next_frame" });
  const n1 = noiseObservedTokens(b, target, { rho: 0.3, seed: 1 });
  const n2 = noiseObservedTokens(b, target, { rho: 0.3, seed: 1 });
  assert.deepEqual(n1.cells, n2.cells);
  let changed = 0, eligible = 0;
  for (let i = 0; i < b.cells.length; i++) {
    const V = [OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB][i % 3];
    assert.ok(n1.cells[i] >= 0 && n1.cells[i] < V, "a valid value, not [MASK]");
    if (target.cells[i]) assert.equal(n1.cells[i], b.cells[i], "targets untouched");
    else eligible++;
    if (n1.cells[i] !== b.cells[i]) changed++;
  }
  // Each eligible token is redrawn with probability 0.3, and then differs with prob. 1 - 1/V.
  assert.ok(changed > 0.1 * eligible && changed < 0.3 * eligible, `${changed}/${eligible}`);
  assert.deepEqual(noiseObservedTokens(b, target, { rho: 0, seed: 1 }).cells, b.cells);
});
