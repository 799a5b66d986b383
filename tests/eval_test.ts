import { strict as assert } from "node:assert";
import { ACTION_NONE, type Batch, type Mask } from "../lib/data/types.ts";
import { allocBatch } from "../lib/data/tokenize.ts";
import {
  type ClassCounts,
  copyPreviousPredictor,
  majorityPredictor,
} from "../lib/eval/baselines.ts";
import { newTally, scoreBatch, summarize } from "../lib/eval/score.ts";
import { rolloutModel, rolloutRandom } from "../lib/eval/rollout.ts";

/** Two frames, one window: frame 1 equals frame 0 except cell 5 (a key appears). */
function twoFrames(): Batch {
  const b = allocBatch(1, 2, 4);
  for (let k = 0; k < 2; k++) {
    b.frameValid[k] = 1;
    for (let c = 0; c < 49; c++) b.cells.set([2, 5, 0], (k * 49 + c) * 3);
  }
  b.cells.set([5, 4, 0], (49 + 5) * 3);
  b.dirs.set([1, 1]);
  b.actions.set([2, ACTION_NONE]);
  return b;
}

function nextFrameMask(b: Batch): Mask {
  const m: Mask = {
    cells: new Uint8Array(b.cells.length),
    dirs: new Uint8Array(2),
    actions: new Uint8Array(2),
    weight: new Float32Array([1]),
  };
  m.cells.fill(1, 49 * 3);
  m.dirs[1] = 1;
  return m;
}

const counts: ClassCounts = {
  cells: [
    Float64Array.of(0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0),
    Float64Array.of(9, 0, 0, 0, 0, 1),
    Float64Array.of(5, 0, 0),
  ],
  dir: Float64Array.of(0, 0, 7, 0),
  action: Float64Array.of(0, 1, 5, 0, 0, 0, 0, 0),
};

Deno.test("copy-previous baseline: right on unchanged cells, wrong on the changed one", async () => {
  const b = twoFrames(), m = nextFrameMask(b);
  const t = newTally();
  scoreBatch(b, m, await copyPreviousPredictor(counts)(b, m), t);
  const s = summarize(t);
  assert.equal(s.cells, 49);
  assert.equal(s.changed_cells, 1);
  assert.equal(s.cell_acc, 48 / 49);
  assert.equal(s.changed_cell_acc, 0);
  assert.equal(s.dir_acc, 1);
});

Deno.test("majority baseline predicts the most frequent class of each vocabulary", async () => {
  const b = twoFrames(), m = nextFrameMask(b);
  const t = newTally();
  scoreBatch(b, m, await majorityPredictor(counts)(b, m), t);
  const s = summarize(t);
  // majority object is empty (1), colour red (0), state 0: every wall cell is wrong on obj and colour
  assert.equal(s.obj_acc, 0);
  assert.equal(s.color_acc, 0);
  assert.equal(s.state_acc, 1);
  assert.equal(s.dir_acc, 0); // majority direction 2, truth 1
  assert.ok(s.nats_per_slot > 0 && Number.isFinite(s.nats_per_slot));
});

Deno.test("action targets ACTION_NONE are never scored", async () => {
  const b = twoFrames();
  const m = nextFrameMask(b);
  m.cells.fill(0);
  m.dirs.fill(0);
  m.actions.set([1, 1]);
  const t = newTally();
  scoreBatch(b, m, await majorityPredictor(counts)(b, m), t);
  assert.deepEqual(t.action, [1, 1]); // only frame 0's action (2 = majority) counted
});

Deno.test("closed loop: a policy that always turns never succeeds; random is seeded", async () => {
  const spin = (batch: Batch) => {
    const action = new Float32Array(batch.B * batch.K * 8);
    for (let j = 0; j < batch.B * batch.K; j++) action[j * 8] = 5; // always 'left'
    return Promise.resolve({
      obj: new Float32Array(batch.B * batch.K * 49 * 11),
      color: new Float32Array(batch.B * batch.K * 49 * 6),
      state: new Float32Array(batch.B * batch.K * 49 * 3),
      dir: new Float32Array(batch.B * batch.K * 4),
      action,
    });
  };
  const r = await rolloutModel(spin, "BabyAI-GoToRedBall-v0", [3, 7], {
    K: 2,
    M: 12,
    maxSteps: 20,
    greedy: true,
    seed: 0,
  });
  assert.equal(r.success_rate, 0);
  assert.equal(r.mean_length, 20);
  const a = rolloutRandom("BabyAI-GoToRedBall-v0", [3, 7, 11], 30, 1);
  const b = rolloutRandom("BabyAI-GoToRedBall-v0", [3, 7, 11], 30, 1);
  assert.deepEqual(a, b);
});

Deno.test("closed loop with extra hiding: q=1 hides every observed cell (unseen or [MASK]), q=0 none", async () => {
  /** A turning policy that records, per call, visible non-unseen cells and [MASK]ed cells of valid frames. */
  const recorder = () => {
    const seen = { observed: 0, masked: 0 };
    const fn = (batch: Batch, mask: Mask) => {
      for (let f = 0; f < batch.B * batch.K; f++) {
        if (!batch.frameValid[f]) continue;
        for (let c = 0; c < 49; c++) {
          const i = (f * 49 + c) * 3;
          if (mask.cells[i]) seen.masked++;
          else if (batch.cells[i] !== 0) seen.observed++;
        }
      }
      const action = new Float32Array(batch.B * batch.K * 8);
      for (let j = 0; j < batch.B * batch.K; j++) action[j * 8] = 5;
      return Promise.resolve({
        obj: new Float32Array(batch.B * batch.K * 49 * 11),
        color: new Float32Array(batch.B * batch.K * 49 * 6),
        state: new Float32Array(batch.B * batch.K * 49 * 3),
        dir: new Float32Array(batch.B * batch.K * 4),
        action,
      });
    };
    return { seen, fn };
  };
  const opts = { K: 2, M: 12, maxSteps: 5, greedy: true, seed: 0 };
  const plain = recorder();
  await rolloutModel(plain.fn, "BabyAI-GoToRedBall-v0", [3], {
    ...opts,
    hide: { q: 0, mode: "mask" },
  });
  assert.ok(plain.seen.observed > 0);
  assert.equal(plain.seen.masked, 0);
  const unseen = recorder();
  await rolloutModel(unseen.fn, "BabyAI-GoToRedBall-v0", [3], {
    ...opts,
    hide: { q: 1, mode: "unseen" },
  });
  assert.equal(unseen.seen.observed, 0);
  assert.equal(unseen.seen.masked, 0);
  const masked = recorder();
  await rolloutModel(masked.fn, "BabyAI-GoToRedBall-v0", [3], {
    ...opts,
    hide: { q: 1, mode: "mask" },
  });
  assert.equal(masked.seen.observed, 0);
  assert.equal(masked.seen.masked, plain.seen.observed, "exactly the observed cells become [MASK]");
});
