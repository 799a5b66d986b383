import assert from "node:assert/strict";
import { collectDataset, type DataConfig, resolveDataConfig } from "../lib/data/collect.ts";
import {
  type BotFactory,
  episodeRng,
  loadBotFactory,
  rolloutEpisode,
} from "../lib/data/rollout.ts";
import { type DatasetSplit, loadDataset, verifyDataset } from "../lib/data/store.ts";
import { readManifest } from "../lib/data/manifest.ts";
import { splitPlan, SPLITS } from "../lib/data/split.ts";
import { ACTION_NONE } from "../lib/data/types.ts";
import { isRegistered, make } from "../lib/env/registry.ts";
import { detokenize, fillBatch, tokenizeEpisodes, windowInfo } from "../lib/data/tokenize.ts";
import { havePythonNumpy } from "./support/python.ts";

const RAND: DataConfig = {
  dataset: "rand",
  envs: ["MiniGrid-Empty-5x5-v0", "MiniGrid-DoorKey-5x5-v0"],
  policy: "random",
  episodes: { train: 40, val: 6, test: 6 },
  seed: 3,
};

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "collect_test_" });
}

/** sha256 of every shard file, from the manifest. */
async function shardHashes(dir: string): Promise<string[]> {
  const m = await readManifest(dir);
  return SPLITS.flatMap((s) =>
    m.splits[s]!.shards.flatMap((sh) =>
      Object.entries(sh.files).map(([f, r]) => `${sh.path}/${f}:${r.sha256}`)
    )
  );
}

/** Replay every stored episode in the env from its seed with its actions; observations must match. */
function assertReplays(d: DatasetSplit) {
  for (let e = 0; e < d.numEpisodes; e++) {
    const env = make(d.envIds[d.envIndex[e]]);
    const a = d.episodeOffsets[e], b = d.episodeOffsets[e + 1];
    let { obs } = env.reset({ seed: d.seeds[e] });
    assert.equal(obs.mission, d.missions[e]);
    for (let f = a; f < b; f++) {
      assert.deepEqual(
        obs.image,
        d.images.subarray(f * 147, (f + 1) * 147),
        `episode ${e} frame ${f - a} image`,
      );
      assert.equal(obs.direction, d.directions[f], `episode ${e} frame ${f - a} direction`);
      if (f === b - 1) {
        assert.equal(d.actions[f], ACTION_NONE);
        assert.equal(d.rewards[f], 0);
        assert.equal(d.terminated[f] + d.truncated[f], 0);
        break;
      }
      const r = env.step(d.actions[f]);
      assert.equal(r.reward, d.rewards[f]);
      assert.equal(r.terminated ? 1 : 0, d.terminated[f]);
      // truncated may also come from the data.max_steps cap
      if (r.truncated) assert.equal(d.truncated[f], 1);
      const ended = d.terminated[f] === 1 || d.truncated[f] === 1;
      assert.equal(ended, f === b - 2, `episode ${e}: only the last step ends it`);
      obs = r.obs;
    }
    assert.equal(d.lengths[e], b - a - 1);
  }
}

Deno.test("collect: random policy round trip — stored frames replay exactly in the env", async () => {
  const dir = await tmp();
  try {
    const r = await collectDataset(RAND, {
      dataDir: dir,
      workers: 0,
      shardEpisodes: 32,
      warn: false,
    });
    assert.equal(r.manifest.status, "complete");
    assert.deepEqual(r.manifest.env_ids, RAND.envs);
    for (const split of SPLITS) {
      const d = await loadDataset(r.dir, split);
      assert.equal(d.numEpisodes, RAND.episodes[split] * 2);
      assert.equal(r.manifest.splits[split]!.episodes, d.numEpisodes);
      assertReplays(d);
    }
    // Seeds recorded and disjoint across splits.
    const seen = new Set<number>();
    for (const split of SPLITS) {
      for (const s of (await loadDataset(r.dir, split)).seeds) {
        assert.ok(!seen.has(s));
        seen.add(s);
      }
    }
    assert.ok((await verifyDataset(r.dir)).ok);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: collect → store → load → tokenize → detokenize gives the env's frames", async () => {
  const dir = await tmp();
  try {
    const r = await collectDataset(RAND, { dataDir: dir, workers: 0 });
    const d = await loadDataset(r.dir, "val");
    assertReplays(d); // stored frames = env frames
    const ds = tokenizeEpisodes(d, { length: 4, stride: 3, mission_len: 4 }, {
      encodeMission: (_t, m) => new Int32Array(m ?? 4), // MiniGrid missions are outside the BabyAI vocabulary
    });
    const ids = Array.from({ length: ds.numWindows }, (_, i) => i);
    const batch = fillBatch(ds, ids);
    let frames = 0;
    for (const w of ids) {
      const info = windowInfo(ds, w);
      const win = detokenize(batch, w);
      assert.equal(win.frames, info.frames);
      const f0 = d.episodeOffsets[info.episode] + info.end - info.frames + 1;
      assert.deepEqual(win.images, d.images.subarray(f0 * 147, (f0 + info.frames) * 147));
      assert.deepEqual(win.directions, d.directions.subarray(f0, f0 + info.frames));
      assert.deepEqual(win.actions, d.actions.subarray(f0, f0 + info.frames));
      frames += info.frames;
    }
    assert.ok(frames >= d.numFrames, "windows cover every frame");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: same config → same bytes, in-thread and on 2 workers", async () => {
  const dir = await tmp();
  try {
    const a = await collectDataset({ ...RAND, dataset: "a" }, {
      dataDir: dir,
      workers: 0,
      shardEpisodes: 32,
    });
    const b = await collectDataset({ ...RAND, dataset: "b" }, {
      dataDir: dir,
      workers: 2,
      shardEpisodes: 32,
    });
    const ha = await shardHashes(a.dir), hb = await shardHashes(b.dir);
    assert.ok(ha.length > 10);
    assert.deepEqual(ha, hb);
    // Config hash is identical too (the dataset name is not part of it).
    assert.equal(a.manifest.config_hash, b.manifest.config_hash);
    const c = await collectDataset({ ...RAND, dataset: "c", seed: 4 }, {
      dataDir: dir,
      workers: 0,
      shardEpisodes: 32,
    });
    assert.notDeepEqual(await shardHashes(c.dir), ha);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: interrupted collection resumes shard by shard; damaged shards are recollected", async () => {
  const dir = await tmp();
  try {
    const full = await collectDataset({ ...RAND, dataset: "full" }, {
      dataDir: dir,
      workers: 0,
      shardEpisodes: 16,
    });
    const want = await shardHashes(full.dir);
    const part = await collectDataset({ ...RAND, dataset: "part" }, {
      dataDir: dir,
      workers: 0,
      shardEpisodes: 16,
      stopAfterShards: 3,
    });
    assert.equal(part.manifest.status, "collecting");
    assert.equal(part.writtenShards, 3);
    await assert.rejects(() => loadDataset(part.dir, "train"), /not complete/);
    assert.equal((await verifyDataset(part.dir)).ok, false);
    // Damage: corrupt a finished shard, leave a half-written temp file and a shard without done.json.
    const img = `${part.dir}/train/shard-00001/images.npy`;
    const bytes = await Deno.readFile(img);
    bytes[200] ^= 0xff;
    await Deno.writeFile(img, bytes);
    await Deno.mkdir(`${part.dir}/train/shard-00003`, { recursive: true });
    await Deno.writeFile(`${part.dir}/train/shard-00003/images.npy.tmp-1-abc`, new Uint8Array(10));
    await Deno.writeFile(`${part.dir}/train/shard-00003/actions.npy`, new Uint8Array(10));
    const resumed = await collectDataset({ ...RAND, dataset: "part" }, {
      dataDir: dir,
      workers: 0,
      shardEpisodes: 16,
    });
    assert.equal(resumed.resumedShards, 2); // shards 0 and 2 kept, 1 recollected
    assert.equal(resumed.manifest.status, "complete");
    assert.deepEqual(await shardHashes(resumed.dir), want);
    assert.ok((await verifyDataset(resumed.dir)).ok);
    const leftovers = [...Deno.readDirSync(`${part.dir}/train/shard-00003`)].map((e) => e.name);
    assert.ok(!leftovers.some((n) => n.includes(".tmp-")), leftovers.join(","));
    // A complete dataset with the same config is reused as is.
    const again = await collectDataset({ ...RAND, dataset: "part" }, {
      dataDir: dir,
      workers: 0,
      shardEpisodes: 16,
    });
    assert.equal(again.writtenShards, 0);
    // A complete dataset with a deleted shard (the fix `data verify` suggests) gets just that shard back.
    await Deno.remove(`${part.dir}/val/shard-00000`, { recursive: true });
    assert.equal((await verifyDataset(part.dir)).ok, false);
    const fixed = await collectDataset({ ...RAND, dataset: "part" }, {
      dataDir: dir,
      workers: 0,
      shardEpisodes: 16,
    });
    assert.equal(fixed.writtenShards, 1);
    assert.ok((await verifyDataset(part.dir)).ok);
    assert.deepEqual(await shardHashes(part.dir), want);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: a directory with a different data config is refused unless overwrite", async () => {
  const dir = await tmp();
  try {
    await collectDataset(RAND, { dataDir: dir, workers: 0 });
    await assert.rejects(
      () =>
        collectDataset({ ...RAND, episodes: { train: 41, val: 6, test: 6 } }, {
          dataDir: dir,
          workers: 0,
        }),
      /different data config \(differs in: data\.episodes\).*--overwrite/,
    );
    const r = await collectDataset({ ...RAND, episodes: { train: 41, val: 6, test: 6 } }, {
      dataDir: dir,
      workers: 0,
      overwrite: true,
    });
    assert.equal((await loadDataset(r.dir, "train")).numEpisodes, 82);
    // A non-dataset directory is refused too.
    await Deno.mkdir(`${dir}/other`);
    await Deno.writeTextFile(`${dir}/other/notes.txt`, "mine");
    await assert.rejects(
      () => collectDataset({ ...RAND, dataset: "other" }, { dataDir: dir, workers: 0 }),
      /exists but is not a readable dataset/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: data.max_steps caps episodes and marks them truncated", async () => {
  const dir = await tmp();
  try {
    const r = await collectDataset({ ...RAND, max_steps: 5 }, { dataDir: dir, workers: 0 });
    const d = await loadDataset(r.dir, "train");
    for (let e = 0; e < d.numEpisodes; e++) {
      assert.ok(d.lengths[e] <= 5);
      const lastStep = d.episodeOffsets[e + 1] - 2;
      if (d.lengths[e] === 5) assert.equal(d.terminated[lastStep] || d.truncated[lastStep], 1);
    }
    assertReplays(d);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: bad input is a clear error", () => {
  assert.throws(
    () => resolveDataConfig({ ...RAND, envs: ["MiniGrid-Empty-5x5-v9"] }),
    /unknown env id "MiniGrid-Empty-5x5-v9"\. Did you mean: MiniGrid-Empty-5x5-v0/,
  );
  assert.throws(
    () => resolveDataConfig({ ...RAND, policy: "expert" }),
    /data\.policy: unknown policy "expert"/,
  );
  assert.throws(
    () => resolveDataConfig({ ...RAND, episodes: { train: 10, val: 0, test: 1 } }),
    /data\.episodes\.val is 0/,
  );
  assert.throws(
    () => resolveDataConfig({ ...RAND, policy: "bot" }),
    /policy bot needs a BabyAI level/,
  );
  assert.throws(() => resolveDataConfig({ ...RAND, epsilon: 2 }), /data\.epsilon/);
  assert.throws(() => resolveDataConfig({ ...RAND, dataset: "../x" }), /not a valid dataset name/);
  assert.throws(() => resolveDataConfig({ ...RAND, envs: [] }), /data\.envs/);
  // The whole config works as well as its data section.
  assert.equal(resolveDataConfig({ data: RAND }).dataset, "rand");
});

/** Whether the numpy checks can run here (reported as ignored, not passed, when not). */
const NUMPY = await havePythonNumpy();

Deno.test({
  name:
    "collect: the noise RNG is numpy's default_rng((data_seed << 32) | env_seed) (needs python3 + numpy)",
  ignore: !NUMPY,
  fn: async () => {
    const g = episodeRng(3, 17);
    const ours = [g.random(), g.integers(0, 7), g.integers(0, 7)];
    const py = await new Deno.Command("python3", {
      args: [
        "-c",
        "import numpy as np; g=np.random.default_rng((3<<32)|17); print(repr(g.random()), g.integers(0,7), g.integers(0,7))",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(py.success, new TextDecoder().decode(py.stderr));
    const [r, a, b] = new TextDecoder().decode(py.stdout).trim().split(" ");
    assert.deepEqual(ours, [Number(r), Number(a), Number(b)]);
  },
});

Deno.test({
  name: "collect: numpy reads a collected dataset unchanged (needs python3 + numpy)",
  ignore: !NUMPY,
  fn: async () => {
    const dir = await tmp();
    try {
      const r = await collectDataset(RAND, { dataDir: dir, workers: 0, shardEpisodes: 32 });
      const d = await loadDataset(r.dir, "train");
      const py = `
import json, sys, hashlib, numpy as np
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
out = {}
for s in m["splits"]["train"]["shards"]:
    for f, rec in s["files"].items():
        raw = open(d + "/" + s["path"] + "/" + f, "rb").read()
        assert hashlib.sha256(raw).hexdigest() == rec["sha256"], f
        if f.endswith(".npy"):
            a = np.load(d + "/" + s["path"] + "/" + f, allow_pickle=False)
            assert str(a.dtype) == rec["dtype"] and list(a.shape) == rec["shape"], (f, a.dtype, a.shape)
            if f == "episode_offsets.npy":
                continue
            out.setdefault(f[:-4], []).extend(a.astype(np.float64).reshape(-1).tolist())
print(json.dumps({k: [sum(v), len(v), v[:50]] for k, v in out.items()}))
`;
      const res = await new Deno.Command("python3", {
        args: ["-c", py, r.dir],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(res.stderr);
      assert.ok(res.success, err);
      const got = JSON.parse(new TextDecoder().decode(res.stdout));
      const ours: Record<string, ArrayLike<number>> = {
        images: d.images,
        directions: d.directions,
        actions: d.actions,
        rewards: d.rewards,
        terminated: d.terminated,
        truncated: d.truncated,
        env_index: d.envIndex,
        seeds: d.seeds,
        episode_index: d.episodeIndex,
        lengths: d.lengths,
        returns: d.returns,
        success: d.success,
      };
      for (const [k, v] of Object.entries(ours)) {
        const arr = Array.from(v);
        assert.equal(got[k][1], arr.length, k);
        assert.ok(Math.abs(got[k][0] - arr.reduce((a, b) => a + b, 0)) < 1e-9, k);
        assert.deepEqual(got[k][2], arr.slice(0, 50), k);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---- BabyAI bot policies (the levels and the bot are part of lib/env: no skipping) ----

const BABY = "BabyAI-GoToRedBall-v0";

Deno.test("collect: bot and noisy_bot on BabyAI-GoToRedBall-v0", async () => {
  const dir = await tmp();
  try {
    const base: DataConfig = {
      dataset: "bot",
      envs: [BABY],
      policy: "bot",
      episodes: { train: 20, val: 4, test: 4 },
      seed: 0,
    };
    const bot = await collectDataset(base, { dataDir: dir, workers: 2 });
    const d = await loadDataset(bot.dir, "train");
    assert.equal(d.numEpisodes, 20);
    assert.equal(
      Array.from(d.success).reduce((a, b) => a + b, 0),
      20,
      "the expert solves every GoToRedBall episode",
    );
    assertReplays(d);
    const noisy = await collectDataset({
      ...base,
      dataset: "noisy",
      policy: "noisy_bot",
      epsilon: 0.3,
    }, {
      dataDir: dir,
      workers: 0,
    });
    const n = await loadDataset(noisy.dir, "train");
    assertReplays(n);
    assert.deepEqual(Array.from(n.seeds), Array.from(d.seeds));
    // Noise changes the trajectories, yet the bot recovers in most episodes.
    assert.ok(
      n.numFrames !== d.numFrames || Array.from(n.actions).some((a, i) => a !== d.actions[i]),
    );
    assert.ok(Array.from(n.success).reduce((a, b) => a + b, 0) >= 15);
    // A single rollout agrees with what was stored.
    const rec = rolloutEpisode({
      envId: BABY,
      envIndex: 0,
      seed: n.seeds[0],
      episode: 0,
      policy: "noisy_bot",
      epsilon: 0.3,
      dataSeed: 0,
      maxSteps: null,
    }, await loadBotFactory());
    assert.deepEqual(
      Array.from(rec.actions),
      Array.from(n.actions.subarray(0, n.episodeOffsets[1])),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: `deno task collect --config` collects, reuses, refuses another config, and --overwrite", async () => {
  const dir = await tmp();
  try {
    const yaml = `${dir}/c.yaml`;
    await Deno.writeTextFile(
      yaml,
      `data:\n  dataset: cli\n  envs: [MiniGrid-Empty-5x5-v0]\n  policy: random\n  episodes: {train: 20, val: 3, test: 3}\n  seed: 1\n`,
    );
    const cli = new URL("../cli/collect.ts", import.meta.url).pathname;
    const run = async (...extra: string[]) => {
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", cli, "--config", yaml, "--data-dir", dir, "--json", ...extra],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: o.code,
        out: new TextDecoder().decode(o.stdout),
        err: new TextDecoder().decode(o.stderr),
      };
    };
    const a = await run("--set", "data.episodes.train=7");
    assert.equal(a.code, 0, a.err);
    const ja = JSON.parse(a.out);
    assert.equal(ja.status, "complete");
    assert.equal(ja.splits.train.episodes, 7);
    assert.equal(ja.episodes_collected, 13);
    const b = await run("--set", "data.episodes.train=7");
    assert.equal(JSON.parse(b.out).written_shards, 0);
    const c = await run();
    assert.equal(c.code, 1);
    assert.match(c.err, /different data config \(differs in: data\.episodes\)/);
    const d = await run("--overwrite");
    assert.equal(d.code, 0, d.err);
    assert.equal(JSON.parse(d.out).splits.train.episodes, 20);
    const e = await run("--set", "data.envs=[MiniGrid-Nope-v0]");
    assert.equal(e.code, 1);
    assert.match(e.err, /unknown env id .MiniGrid-Nope-v0/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: episodes whose bot raises are skipped, recorded with seed and error, and counted", async () => {
  const real = await loadBotFactory();
  const dir = await tmp();
  try {
    const base: DataConfig = {
      dataset: "flaky",
      envs: [BABY],
      policy: "bot",
      episodes: { train: 12, val: 3, test: 3 },
      seed: 0,
    };
    // In-thread, bots are built in plan order: train episodes 0..11, then val, then test.
    // Bots number 1, 4 and 6 (0-based) raise on their first replan.
    let built = 0;
    const failing = new Set([1, 4, 6]);
    const flaky: BotFactory = (env) => {
      const n = built++;
      const bot = real(env);
      return {
        replan(last?: number | null) {
          if (failing.has(n)) throw new Error(`synthetic bot failure ${n}`);
          return bot.replan(last);
        },
      };
    };
    const warnings: string[] = [];
    const origWarn = console.warn;
    console.warn = (m: string) => void warnings.push(m);
    let r;
    try {
      r = await collectDataset(base, { dataDir: dir, workers: 0, botFactory: flaky });
    } finally {
      console.warn = origWarn;
    }
    const tr = r.manifest.splits.train!;
    const seeds = splitPlan(base, "train")[0].seeds;
    assert.deepEqual(tr.skipped.map((s) => s.episode), [1, 4, 6]);
    assert.deepEqual(tr.skipped.map((s) => s.seed), [seeds[1], seeds[4], seeds[6]]);
    assert.match(tr.skipped[0].error, /seed \d+, step 0: bot raised: synthetic bot failure 1/);
    assert.equal(tr.episodes, 9);
    assert.equal(r.manifest.splits.val!.skipped.length, 0);
    assert.ok(warnings.some((w) => /train episode 4 skipped/.test(w)), warnings.join("\n"));
    const d = await loadDataset(r.dir, "train");
    assert.equal(d.numEpisodes, 9);
    assert.deepEqual(Array.from(d.episodeIndex), [0, 2, 3, 5, 7, 8, 9, 10, 11]);
    assertReplays(d);
    assert.ok((await verifyDataset(r.dir)).ok);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: a level the bot cannot solve (KeyInBox) is a clear error", async () => {
  assert.ok(isRegistered("BabyAI-KeyInBox-v0"), "BabyAI-KeyInBox-v0 is registered");
  const dir = await tmp();
  try {
    await assert.rejects(
      () =>
        collectDataset({
          dataset: "kib",
          envs: ["BabyAI-KeyInBox-v0"],
          policy: "bot",
          episodes: { train: 3, val: 1, test: 1 },
          seed: 0,
        }, { dataDir: dir, workers: 0, warn: false }),
      /every episode failed .*use another policy/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect: a failing shard write is a clear error; finished shards survive and the rerun resumes", async () => {
  const dir = await tmp();
  try {
    const cfg = { ...RAND, dataset: "wfail" };
    await collectDataset(cfg, { dataDir: dir, workers: 0, shardEpisodes: 16, stopAfterShards: 1 });
    // Block shard 1's directory with a plain file: its mkdir fails like a full or broken disk would.
    await Deno.writeTextFile(`${dir}/wfail/train/shard-00001`, "in the way");
    await assert.rejects(
      () => collectDataset(cfg, { dataDir: dir, workers: 0, shardEpisodes: 16 }),
      /train\/shard-00001: writing the shard failed: .*rerun the same command to resume/,
    );
    assert.equal((await readManifest(`${dir}/wfail`)).status, "collecting");
    await Deno.remove(`${dir}/wfail/train/shard-00001`);
    const r = await collectDataset(cfg, { dataDir: dir, workers: 0, shardEpisodes: 16 });
    assert.ok(r.resumedShards >= 1);
    assert.equal(r.manifest.status, "complete");
    assert.ok((await verifyDataset(r.dir)).ok);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
