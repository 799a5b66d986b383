import assert from "node:assert/strict";
import {
  allocBatch,
  detokenize,
  type EpisodeData,
  fillBatch,
  FRAME_SIZE,
  syntheticEpisodes,
  tokenizeEpisodes,
  windowInfo,
  windowStarts,
} from "../lib/data/tokenize.ts";
import { ACTION_NONE } from "../lib/data/types.ts";
import { decodeMission } from "../lib/env/babyai/vocab.ts";

const W = { length: 4, stride: 1, mission_len: 12 };

Deno.test("tokenize: window starts cover every frame and end at the episode end", () => {
  assert.deepEqual(windowStarts(1, 4, 1), [0]);
  assert.deepEqual(windowStarts(3, 4, 1), [0]);
  assert.deepEqual(windowStarts(4, 4, 1), [0]);
  assert.deepEqual(windowStarts(6, 4, 1), [0, 1, 2]);
  assert.deepEqual(windowStarts(10, 4, 3), [0, 3, 6]);
  assert.deepEqual(windowStarts(11, 4, 3), [0, 3, 6, 7]);
  assert.deepEqual(windowStarts(9, 4, 4), [0, 4, 5]);
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
      const f0 = off[info.episode] + info.start;
      assert.deepEqual(
        d.images,
        data.images.subarray(f0 * FRAME_SIZE, (f0 + d.frames) * FRAME_SIZE),
      );
      assert.deepEqual(d.directions, data.directions.subarray(f0, f0 + d.frames));
      assert.deepEqual(d.actions, data.actions.subarray(f0, f0 + d.frames));
      assert.equal(decodeMission(d.mission), data.missions[info.episode]);
      for (let k = 0; k < d.frames; k++) covered[f0 + k] = 1;
      // padding frames: invalid, zero cells, ACTION_NONE
      for (let k = d.frames; k < ds.K; k++) {
        assert.equal(batch.frameValid[b * ds.K + k], 0);
        assert.equal(batch.actions[b * ds.K + k], ACTION_NONE);
        const o = (b * ds.K + k) * FRAME_SIZE;
        assert.ok(batch.cells.subarray(o, o + FRAME_SIZE).every((v) => v === 0));
      }
    }
    assert.ok(covered.every((v) => v === 1), "every frame is in some window");
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
  assert.deepEqual(a.winStart, b.winStart);
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
    for (let k = 0; k < d.frames; k++) {
      const o = obsLog[offsets[info.episode] + info.start + k];
      assert.deepEqual(d.images.subarray(k * FRAME_SIZE, (k + 1) * FRAME_SIZE), o.image);
      assert.equal(d.directions[k], o.direction);
      assert.equal(d.actions[k], acts[offsets[info.episode] + info.start + k]);
    }
  }
});
