/**
 * Closed-loop windows are training windows: the window the model policy sees at step t of an
 * episode equals, token for token, the tokenizer's window ending at frame t of the same episode
 * (recorded from the expert bot and replayed through `rolloutModel`), its current action hidden
 * in both, for every t including the first K-1 steps.
 */
import assert from "node:assert/strict";
import {
  type EpisodeData,
  fillBatch,
  tokenizeEpisodes,
  windowIdAt,
  windowInfo,
} from "../lib/data/tokenize.ts";
import {
  ACTION_NONE,
  ACTION_VOCAB,
  type Batch,
  CELLS,
  type Logits,
  type Mask,
} from "../lib/data/types.ts";
import { make } from "../lib/env/registry.ts";
import { BabyAIBot } from "../lib/env/babyai/bot.ts";
import { RoomGridLevel } from "../lib/env/babyai/roomgrid_level.ts";
import { drawMask, maskedInput } from "../lib/masking/mod.ts";
import { rolloutModel } from "../lib/eval/rollout.ts";

const ENV = "BabyAI-GoToRedBall-v0";
const SEEDS = [1, 2, 5];

/** The bot's episodes on `seeds`, stored as the collector stores them (final action NONE). */
function botEpisodes(seeds: number[]): EpisodeData {
  const images: number[] = [], dirs: number[] = [], acts: number[] = [], offsets = [0];
  const missions: string[] = [];
  for (const seed of seeds) {
    const env = make(ENV);
    assert.ok(env instanceof RoomGridLevel);
    let { obs } = env.reset({ seed });
    missions.push(obs.mission);
    const bot = new BabyAIBot(env);
    let last: number | null = null;
    for (let n = 0;; n++) {
      assert.ok(n < env.maxSteps, `bot did not finish seed ${seed}`);
      images.push(...obs.image);
      dirs.push(obs.direction);
      last = bot.replan(last);
      const r = env.step(last);
      acts.push(last);
      obs = r.obs;
      if (r.terminated || r.truncated) {
        assert.ok(r.terminated && r.reward > 0, `bot failed seed ${seed}`);
        images.push(...obs.image);
        dirs.push(obs.direction);
        acts.push(ACTION_NONE);
        break;
      }
    }
    offsets.push(dirs.length);
  }
  return {
    images: Uint8Array.from(images),
    directions: Uint8Array.from(dirs),
    actions: Uint8Array.from(acts),
    episodeOffsets: Int32Array.from(offsets),
    missions,
  };
}

/** One batch row of the model input (hidden slots as [MASK]) and of the mask. */
interface Row {
  cells: Int32Array;
  dirs: Int32Array;
  actions: Int32Array;
  frameValid: Uint8Array;
  mission: Int32Array;
  maskCells: Uint8Array;
  maskDirs: Uint8Array;
  maskActions: Uint8Array;
}

function row(batch: Batch, mask: Mask, b: number): Row {
  const { K, M } = batch;
  const x = maskedInput(batch, mask);
  const F = CELLS * 3;
  return {
    cells: x.cells.slice(b * K * F, (b + 1) * K * F),
    dirs: x.dirs.slice(b * K, (b + 1) * K),
    actions: x.actions.slice(b * K, (b + 1) * K),
    frameValid: x.frameValid.slice(b * K, (b + 1) * K),
    mission: x.mission.slice(b * M, (b + 1) * M),
    maskCells: mask.cells.slice(b * K * F, (b + 1) * K * F),
    maskDirs: mask.dirs.slice(b * K, (b + 1) * K),
    maskActions: mask.actions.slice(b * K, (b + 1) * K),
  };
}

/**
 * Replay `data`'s actions through `rolloutModel` (greedy, one row per episode) and capture the
 * row each live episode gets at each of its steps: rows[e][t].
 */
async function replay(data: EpisodeData, K: number, M: number, hide?: { q: number; mode: "mask" }) {
  const off = data.episodeOffsets as Int32Array;
  const E = off.length - 1;
  const rows: Row[][] = Array.from({ length: E }, () => []);
  let call = 0;
  const predictor = (batch: Batch, mask: Mask): Promise<Logits> => {
    assert.equal(batch.B, E);
    const n = batch.B * batch.K;
    const action = new Float32Array(n * ACTION_VOCAB);
    for (let e = 0; e < E; e++) {
      if (call >= off[e + 1] - off[e] - 1) continue; // finished: its row is ignored
      rows[e].push(row(batch, mask, e));
      const a = data.actions[off[e] + call];
      // on every slot of the row: the policy reads the decision slot, whichever it is
      for (let k = 0; k < batch.K; k++) action[(e * batch.K + k) * ACTION_VOCAB + a] = 10;
    }
    call++;
    return Promise.resolve({
      obj: new Float32Array(n * CELLS * 11),
      color: new Float32Array(n * CELLS * 6),
      state: new Float32Array(n * CELLS * 3),
      dir: new Float32Array(n * 4),
      action,
    });
  };
  const seeds = SEEDS.slice(0, E);
  const r = await rolloutModel(predictor, ENV, seeds, {
    K,
    M,
    maxSteps: null,
    greedy: true,
    seed: 0,
    hide,
  });
  return { rows, summary: r };
}

for (const K of [4, 3]) {
  Deno.test(`rollout windows equal the tokenizer's window ending at each step (K=${K})`, async () => {
    const M = 12;
    const data = botEpisodes(SEEDS);
    const off = data.episodeOffsets as Int32Array;
    const ds = tokenizeEpisodes(data, { length: K, stride: 1, mission_len: M });
    const { rows, summary } = await replay(data, K, M);
    assert.equal(summary.success_rate, 1, "the replayed bot actions solve every episode");
    let early = 0;
    for (let e = 0; e < SEEDS.length; e++) {
      const L = off[e + 1] - off[e];
      assert.equal(rows[e].length, L - 1, `episode ${e}: one decision per non-final frame`);
      for (let t = 0; t < L - 1; t++) {
        const w = windowIdAt(ds, e, t);
        assert.deepEqual(windowInfo(ds, w), {
          episode: e,
          start: t - K + 1,
          end: t,
          frames: Math.min(K, t + 1),
        });
        const batch = fillBatch(ds, [w]);
        // the SFT training mask: the current (last) frame's action hidden, nothing else
        const mask = drawMask({ strategy: "next_action" }, batch, {
          seed: 0,
          epoch: 0,
          step: 0,
          batchIndex: 0,
        });
        const want = row(batch, mask, 0);
        const got = rows[e][t];
        const where = `episode ${e} step ${t}`;
        assert.deepEqual(got.frameValid, want.frameValid, `${where}: frameValid`);
        assert.deepEqual(got.cells, want.cells, `${where}: cells`);
        assert.deepEqual(got.dirs, want.dirs, `${where}: directions`);
        assert.deepEqual(got.actions, want.actions, `${where}: actions`);
        assert.deepEqual(got.mission, want.mission, `${where}: mission`);
        assert.deepEqual(got.maskActions, want.maskActions, `${where}: hidden actions`);
        assert.ok(got.maskCells.every((v) => v === 0) && got.maskDirs.every((v) => v === 0));
        assert.equal(got.maskActions[K - 1], 1, `${where}: the decision is slot K-1`);
        if (t < K - 1) {
          early++;
          assert.equal(got.frameValid[0], 0, `${where}: left padding before the first frame`);
        }
      }
    }
    assert.equal(early, SEEDS.length * (K - 1), "the first K-1 decisions were compared");
  });
}

Deno.test("rollout windows with robustness hiding: same tokens, [MASK] only on observed cells of valid frames", async () => {
  const K = 4, M = 12;
  const data = botEpisodes(SEEDS.slice(0, 2));
  const ds = tokenizeEpisodes(data, { length: K, stride: 1, mission_len: M });
  const { rows } = await replay(data, K, M, { q: 0.5, mode: "mask" });
  let hidden = 0;
  for (let e = 0; e < 2; e++) {
    for (const [t, got] of rows[e].entries()) {
      const batch = fillBatch(ds, [windowIdAt(ds, e, t)]);
      for (let k = 0; k < K; k++) {
        assert.equal(got.frameValid[k], batch.frameValid[k]);
        for (let c = 0; c < CELLS; c++) {
          const o = (k * CELLS + c) * 3;
          if (got.maskCells[o]) {
            hidden++;
            assert.equal(batch.frameValid[k], 1, "padding is never hidden");
            assert.notEqual(batch.cells[o], 0, "only observed cells are hidden");
          } else {
            assert.deepEqual(got.cells.slice(o, o + 3), batch.cells.slice(o, o + 3));
          }
        }
        // a frame's hidden cells are the same in every window that contains it
        if (t > 0 && k < K - 1 && got.frameValid[k]) {
          const prev = rows[e][t - 1];
          const o = k * CELLS * 3, p = (k + 1) * CELLS * 3;
          assert.deepEqual(
            got.maskCells.slice(o, o + CELLS * 3),
            prev.maskCells.slice(p, p + CELLS * 3),
          );
        }
      }
    }
  }
  assert.ok(hidden > 0, "q = 0.5 hid some cells");
});
