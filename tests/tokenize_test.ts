import assert from "node:assert/strict";
import {
  allocBatch,
  detokenize,
  type EpisodeData,
  evalWindowConfig,
  fillBatch,
  FRAME_SIZE,
  tokenizeEpisodes,
  windowEnds,
  windowIdAt,
  windowInfo,
} from "../lib/data/tokenize.ts";
import { syntheticEpisodes } from "../lib/testing/synthetic.ts";
import { ACTION_NONE } from "../lib/data/types.ts";
import { decodeMission } from "../lib/env/babyai/vocab.ts";

const W = { length: 4, stride: 1, mission_len: 12 };

Deno.test("tokenize: window ends: every frame with stride 1; the last frame always ends one", () => {
  assert.deepEqual(windowEnds(1, 1), [0]);
  assert.deepEqual(windowEnds(3, 1), [0, 1, 2]);
  assert.deepEqual(windowEnds(6, 1), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(windowEnds(10, 3), [0, 3, 6, 9]);
  assert.deepEqual(windowEnds(11, 3), [1, 4, 7, 10]);
  assert.deepEqual(windowEnds(9, 4), [0, 4, 8]);
  assert.deepEqual(windowEnds(2, 5), [1]);
  assert.throws(() => windowEnds(0, 1), /episode length/);
  assert.throws(() => windowEnds(4, 0), /stride/);
});

Deno.test("tokenize: windows are left-padded; valid frames are a suffix ending in slot K-1", () => {
  // one episode of 3 frames, K = 4: windows end at frames 0, 1, 2
  const data = syntheticEpisodes(1, 1, 0);
  const three: EpisodeData = {
    images: new Uint8Array(3 * FRAME_SIZE).map((_, i) => 1 + Math.floor(i / FRAME_SIZE)),
    directions: Uint8Array.from([1, 2, 3]),
    actions: Uint8Array.from([2, 0, ACTION_NONE]),
    episodeOffsets: Int32Array.from([0, 3]),
    missions: data.missions,
  };
  const ds = tokenizeEpisodes(three, W, { validate: false });
  assert.equal(ds.numWindows, 3);
  assert.deepEqual(Array.from(ds.winEnd), [0, 1, 2]);
  const batch = fillBatch(ds, [0, 1, 2]);
  assert.deepEqual(Array.from(batch.frameValid), [0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(batch.dirs), [0, 0, 0, 1, 0, 0, 1, 2, 0, 1, 2, 3]);
  const N = ACTION_NONE;
  assert.deepEqual(Array.from(batch.actions), [N, N, N, 2, N, N, 2, 0, N, 2, 0, N]);
  // cells: slot k of row b holds frame (b - 3 + k) + 1 everywhere, 0 on padding
  for (let b = 0; b < 3; b++) {
    for (let k = 0; k < 4; k++) {
      const f = b - 3 + k;
      const o = (b * 4 + k) * FRAME_SIZE;
      const v = f < 0 ? 0 : f + 1;
      assert.ok(
        batch.cells.subarray(o, o + FRAME_SIZE).every((x) => x === v),
        `row ${b} slot ${k}`,
      );
    }
  }
  assert.deepEqual(windowInfo(ds, 0), { episode: 0, start: -3, end: 0, frames: 1 });
  assert.deepEqual(windowInfo(ds, 2), { episode: 0, start: -1, end: 2, frames: 3 });
  // detokenize rejects a row padded on the right
  const bad = fillBatch(ds, [1]);
  bad.frameValid.set([1, 1, 0, 0]);
  assert.throws(() => detokenize(bad, 0), /padded on the left/);
});

Deno.test("tokenize: windowIdAt finds the window ending at each frame; eval windows have stride 1", () => {
  const data = syntheticEpisodes(25, 11, 8);
  const off = data.episodeOffsets as Int32Array;
  const w3 = { length: 4, stride: 3, mission_len: 12 };
  assert.deepEqual(evalWindowConfig(w3), { length: 4, stride: 1, mission_len: 12 });
  assert.equal(w3.stride, 3, "the input config is not changed");
  const sparse = tokenizeEpisodes(data, w3);
  const dense = tokenizeEpisodes(data, evalWindowConfig(w3));
  assert.equal(dense.numWindows, data.directions.length, "stride 1: one window per frame");
  for (let e = 0; e < 25; e++) {
    const L = off[e + 1] - off[e];
    assert.equal(dense.episodeWindows[e + 1] - dense.episodeWindows[e], L);
    for (let t = 0; t < L; t++) {
      const w = windowIdAt(dense, e, t);
      assert.equal(w, dense.episodeWindows[e] + t);
      assert.equal(windowInfo(dense, w).end, t);
      assert.equal(windowInfo(dense, w).episode, e);
      const ws = windowIdAt(sparse, e, t);
      if ((L - 1 - t) % 3 === 0) assert.deepEqual(windowInfo(sparse, ws), windowInfo(dense, w));
      else assert.equal(ws, -1);
    }
    assert.notEqual(windowIdAt(sparse, e, L - 1), -1, "the last frame always ends a window");
  }
  assert.throws(() => windowIdAt(dense, 25, 0), /episode 25 out of range/);
  assert.throws(() => windowIdAt(dense, 0, 99), /frame 99 out of range/);
});

Deno.test("tokenize: round trip tokenize -> batch -> detokenize equals the stored frames", () => {
  const data = syntheticEpisodes(40, 9, 3);
  for (
    const w of [W, { length: 3, stride: 2, mission_len: 8 }, {
      length: 1,
      stride: 1,
      mission_len: 6,
    }]
  ) {
    const ds = tokenizeEpisodes(data, w);
    const ids = Array.from({ length: ds.numWindows }, (_, i) => i);
    const batch = fillBatch(ds, ids);
    const off = data.episodeOffsets as Int32Array;
    const covered = new Uint8Array(data.directions.length);
    for (let b = 0; b < batch.B; b++) {
      const info = windowInfo(ds, b);
      const d = detokenize(batch, b);
      assert.equal(d.frames, info.frames);
      assert.equal(info.frames, Math.min(w.length, info.end + 1));
      const f0 = off[info.episode] + info.end - info.frames + 1;
      assert.deepEqual(
        d.images,
        data.images.subarray(f0 * FRAME_SIZE, (f0 + d.frames) * FRAME_SIZE),
      );
      assert.deepEqual(d.directions, data.directions.subarray(f0, f0 + d.frames));
      assert.deepEqual(d.actions, data.actions.subarray(f0, f0 + d.frames));
      assert.equal(decodeMission(d.mission), data.missions[info.episode]);
      for (let k = 0; k < d.frames; k++) covered[f0 + k] = 1;
      // padding frames come first: invalid, zero cells, ACTION_NONE
      for (let k = 0; k < ds.K - d.frames; k++) {
        assert.equal(batch.frameValid[b * ds.K + k], 0);
        assert.equal(batch.actions[b * ds.K + k], ACTION_NONE);
        const o = (b * ds.K + k) * FRAME_SIZE;
        assert.ok(batch.cells.subarray(o, o + FRAME_SIZE).every((v) => v === 0));
      }
    }
    assert.ok(covered.every((v) => v === 1), "every frame is in some window");
    // every episode's last frame ends a window
    for (let e = 0; e + 1 < off.length; e++) {
      assert.notEqual(windowIdAt(ds, e, off[e + 1] - off[e] - 1), -1);
    }
  }
});

Deno.test("tokenize: filling a reused batch overwrites every slot (no stale padding)", () => {
  const data = syntheticEpisodes(30, 8, 5);
  const ds = tokenizeEpisodes(data, W);
  const out = allocBatch(5, ds.K, ds.M);
  out.cells.fill(99);
  out.mission.fill(99);
  out.frameValid.fill(7);
  const fresh = fillBatch(ds, [3, 1, 4, 1, 5]);
  fillBatch(ds, [3, 1, 4, 1, 5], out);
  assert.deepEqual(out, fresh);
});

Deno.test("tokenize: clear errors for bad data", () => {
  const data = syntheticEpisodes(4, 5, 1);
  const missions = data.missions.map(() => "go to the red ball");
  missions[2] = "go to the red ball and go to the blue key and go to the grey box";
  const long: EpisodeData = { ...data, missions };
  assert.throws(
    () => tokenizeEpisodes(long, W),
    /mission of episode 2 has 17 words.*mission_len = 12/,
  );
  const badImg = { ...data, images: data.images.slice() };
  badImg.images[FRAME_SIZE + 3 * 5 + 1] = 9;
  assert.throws(() => tokenizeEpisodes(badImg, W), /frame 1 cell 5 .*colour = 9/);
  const badOff = { ...data, episodeOffsets: Int32Array.from([0, 2, 2, 5, data.directions.length]) };
  assert.throws(() => tokenizeEpisodes(badOff, W), /episode 1 is empty/);
  assert.throws(() => tokenizeEpisodes(data, { ...W, length: 0 }), /window.length/);
  const ds = tokenizeEpisodes(data, W);
  assert.throws(() => fillBatch(ds, [ds.numWindows]), /out of range/);
  assert.throws(() => fillBatch(ds, [0, 1], allocBatch(3, 4, 12)), /B=3/);
});

Deno.test("tokenize: bigint episode offsets are accepted", () => {
  const data = syntheticEpisodes(6, 5, 2);
  const off = data.episodeOffsets as Int32Array;
  const big = { ...data, episodeOffsets: BigInt64Array.from(Array.from(off, (v) => BigInt(v))) };
  const a = tokenizeEpisodes(data, W), b = tokenizeEpisodes(big, W);
  assert.deepEqual(a.winEnd, b.winEnd);
  assert.deepEqual(fillBatch(a, [0, 2]), fillBatch(b, [0, 2]));
});

Deno.test("tokenize: round trip on real BabyAI rollouts equals the env's observations", async () => {
  const { make } = await import("../lib/env/registry.ts");
  const env = make("BabyAI-GoToRedBall-v0");
  const images: number[] = [], dirs: number[] = [], acts: number[] = [], offsets = [0];
  const missions: string[] = [];
  const obsLog: { image: Uint8Array; direction: number }[] = [];
  let x = 7;
  for (let e = 0; e < 6; e++) {
    let { obs } = env.reset({ seed: 100 + e });
    missions.push(obs.mission);
    for (let t = 0; t < 9; t++) {
      obsLog.push({ image: obs.image.slice(), direction: obs.direction });
      images.push(...obs.image);
      dirs.push(obs.direction);
      x = (x * 1103515245 + 12345) % 2147483648;
      const a = x % 3; // left, right, forward: never ends the episode early
      const r = t < 8 ? env.step(a) : null;
      acts.push(r ? a : ACTION_NONE);
      if (!r) break;
      obs = r.obs;
    }
    offsets.push(dirs.length);
  }
  const data: EpisodeData = {
    images: Uint8Array.from(images),
    directions: Uint8Array.from(dirs),
    actions: Uint8Array.from(acts),
    episodeOffsets: Int32Array.from(offsets),
    missions,
  };
  const ds = tokenizeEpisodes(data, { length: 4, stride: 2, mission_len: 12 });
  const batch = fillBatch(ds, Array.from({ length: ds.numWindows }, (_, i) => i));
  for (let b = 0; b < batch.B; b++) {
    const info = windowInfo(ds, b);
    const d = detokenize(batch, b);
    assert.equal(decodeMission(d.mission), missions[info.episode]);
    const f0 = offsets[info.episode] + info.end - d.frames + 1;
    for (let k = 0; k < d.frames; k++) {
      const o = obsLog[f0 + k];
      assert.deepEqual(d.images.subarray(k * FRAME_SIZE, (k + 1) * FRAME_SIZE), o.image);
      assert.equal(d.directions[k], o.direction);
      assert.equal(d.actions[k], acts[f0 + k]);
    }
  }
});
