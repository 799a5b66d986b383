import assert from "node:assert/strict";
import {
  completeShard,
  type DatasetSplit,
  loadDataset,
  verifyDataset,
  writeShard,
} from "../lib/data/store.ts";
import {
  concatEpisodes,
  emptyEpisodes,
  type Episodes,
  selectEpisodes,
} from "../lib/data/episodes.ts";
import {
  DATASET_FORMAT,
  DATASET_VERSION,
  type Manifest,
  readManifest,
  type ShardRecord,
  summarizeSplit,
  writeManifest,
} from "../lib/data/manifest.ts";
import { jsonHash } from "../lib/util/hash.ts";
import type { EpisodeData } from "../lib/data/tokenize.ts";
import { ACTION_NONE } from "../lib/data/types.ts";
import { type SplitName, SPLITS } from "../lib/data/split.ts";
import { havePythonNumpy } from "./support/python.ts";

/** Deterministic synthetic episodes: episode e has 2 + (e % 4) frames. */
function synthEpisodes(E: number, offset = 0, envs = 2): Episodes {
  const lens = Array.from({ length: E }, (_, e) => 2 + ((e + offset) % 4));
  const F = lens.reduce((a, b) => a + b, 0);
  const ep = emptyEpisodes(E, F);
  let f = 0;
  for (let e = 0; e < E; e++) {
    ep.episodeOffsets[e] = f;
    for (let t = 0; t < lens[e]; t++, f++) {
      for (let i = 0; i < 147; i++) {
        ep.images[f * 147 + i] = (f * 31 + i * 7 + offset) % (i % 3 === 0 ? 11 : 3);
      }
      ep.directions[f] = (f + e) % 4;
      const last = t === lens[e] - 1;
      ep.actions[f] = last ? ACTION_NONE : (f * 5) % 7;
      ep.rewards[f] = !last && t === lens[e] - 2 && e % 2 === 0 ? 1 - 0.9 * (t + 1) / 64 : 0;
      ep.terminated[f] = !last && t === lens[e] - 2 && e % 2 === 0 ? 1 : 0;
      ep.truncated[f] = !last && t === lens[e] - 2 && e % 2 === 1 ? 1 : 0;
    }
    ep.envIndex[e] = e % envs;
    ep.seeds[e] = 4 * (e + offset) + 1;
    ep.episodeIndex[e] = e + offset;
    ep.lengths[e] = lens[e] - 1;
    ep.returns[e] = ep.rewards.subarray(ep.episodeOffsets[e], f).reduce((a, b) => a + b, 0);
    ep.success[e] = e % 2 === 0 ? 1 : 0;
    ep.missions.push(`go to the red ball ${e + offset} "quoted"`);
  }
  ep.episodeOffsets[E] = f;
  return ep;
}

const ENV_IDS = ["BabyAI-GoToRedBall-v0", "BabyAI-Pickup-v0"];

/** Write a complete synthetic dataset: train 2 shards, val 1, test 1. */
async function writeSynthDataset(dir: string): Promise<Record<SplitName, Episodes>> {
  const hash = jsonHash({ test: true });
  const splitEps: Record<SplitName, Episodes[]> = {
    train: [synthEpisodes(5, 0), synthEpisodes(3, 5)],
    val: [synthEpisodes(4, 0)],
    test: [synthEpisodes(2, 0)],
  };
  const m: Manifest = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    dataset: "synth",
    status: "complete",
    config_hash: hash,
    data_config: { test: true },
    env_ids: ENV_IDS,
    train_envs: ENV_IDS,
    test_envs: ENV_IDS,
    shard_episodes: 5,
    splits: {},
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      workspace: "test",
    },
    created: new Date().toISOString(),
    arrays: {},
  };
  const out = {} as Record<SplitName, Episodes>;
  for (const split of SPLITS) {
    const shards: ShardRecord[] = [];
    let first = 0;
    for (const [i, ep] of splitEps[split].entries()) {
      const E = ep.envIndex.length;
      shards.push(
        await writeShard(dir, {
          split,
          index: i,
          configHash: hash,
          planRange: [first, first + E],
          skipped: [],
          envIds: ENV_IDS,
        }, ep),
      );
      first += E;
    }
    m.splits[split] = summarizeSplit(shards, ENV_IDS, 0, [0, 0]);
    out[split] = concatEpisodes(splitEps[split]);
  }
  await writeManifest(dir, m);
  return out;
}

function assertSameEpisodes(a: Episodes, b: Episodes) {
  for (const k of Object.keys(synthEpisodes(1)) as (keyof Episodes)[]) {
    assert.deepEqual(
      Array.from(a[k] as ArrayLike<unknown>),
      Array.from(b[k] as ArrayLike<unknown>),
      k,
    );
  }
}

Deno.test("store: write shards + manifest, load each split back unchanged", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const written = await writeSynthDataset(dir);
    for (const split of SPLITS) {
      const got = await loadDataset(dir, split);
      assertSameEpisodes(written[split], got);
      assert.equal(got.numEpisodes, written[split].envIndex.length);
      assert.deepEqual(got.envIds, ENV_IDS);
      // Assignable to the tokenizer's input type.
      const asTok: EpisodeData = got;
      assert.ok(asTok.images.length > 0);
    }
    const train = await loadDataset(dir, "train");
    assert.equal(train.numEpisodes, 8);
    assert.equal(train.episodeOffsets[5], (await loadDataset(dir, "train")).episodeOffsets[5]);
    // Env filter.
    const pickup: DatasetSplit = await loadDataset(dir, "train", { envs: ["BabyAI-Pickup-v0"] });
    assert.ok(pickup.numEpisodes > 0 && Array.from(pickup.envIndex).every((i) => i === 1));
    assertSameEpisodes(pickup, selectEpisodes(train, (e) => train.envIndex[e] === 1));
    await assert.rejects(
      () => loadDataset(dir, "train", { envs: ["Nope-v0"] }),
      /Nope-v0 is not in dataset/,
    );
    const report = await verifyDataset(dir);
    assert.ok(report.ok, report.problems.join("\n"));
    assert.equal(report.shardsChecked, 4);
    const m = await readManifest(dir);
    assert.equal(m.splits.train!.episodes, 8);
    assert.equal(
      m.splits.train!.shards[1].files["images.npy"].shape!.join(","),
      `${m.splits.train!.shards[1].frames},7,7,3`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: corrupted, truncated and missing shard files are reported by name and refused on load", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeSynthDataset(dir);
    const m = await readManifest(dir);
    const hash = m.config_hash;
    assert.ok(await completeShard(dir, "train", 1, hash));
    assert.equal(await completeShard(dir, "train", 1, "other-hash"), null);
    // 1. flip one byte of an image
    const img = `${dir}/train/shard-00001/images.npy`;
    const bytes = await Deno.readFile(img);
    bytes[bytes.length - 10] ^= 1;
    await Deno.writeFile(img, bytes);
    // 2. truncate val actions
    const act = `${dir}/val/shard-00000/actions.npy`;
    const ab = await Deno.readFile(act);
    await Deno.writeFile(act, ab.subarray(0, ab.length - 3));
    // 3. delete test missions
    await Deno.remove(`${dir}/test/shard-00000/missions.jsonl`);

    const report = await verifyDataset(dir);
    assert.equal(report.ok, false);
    assert.deepEqual(report.badShards, [
      "train/shard-00001",
      "val/shard-00000",
      "test/shard-00000",
    ]);
    const text = report.problems.join("\n");
    assert.match(text, /train\/shard-00001\/images\.npy: checksum mismatch/);
    assert.match(text, /val\/shard-00000\/actions\.npy: truncated/);
    assert.match(text, /test\/shard-00000\/missions\.jsonl: file is missing/);
    assert.equal(await completeShard(dir, "train", 1, hash), null);
    assert.ok(await completeShard(dir, "train", 0, hash));

    await assert.rejects(
      () => loadDataset(dir, "train"),
      /train\/shard-00001\/images\.npy: checksum mismatch/,
    );
    await assert.rejects(
      () => loadDataset(dir, "val"),
      /val\/shard-00000\/actions\.npy: truncated/,
    );
    await assert.rejects(
      () => loadDataset(dir, "test"),
      /test\/shard-00000\/missions\.jsonl: file is missing/,
    );
    // Even without checksum verification, a truncated array is an error, not garbage.
    await assert.rejects(
      () => loadDataset(dir, "val", { verify: false }),
      /actions\.npy: truncated data/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: missing or corrupted manifest, incomplete collection", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => loadDataset(dir, "train"), /no manifest: .* is not a dataset/);
    assert.match((await verifyDataset(dir)).problems[0], /no manifest/);
    await writeSynthDataset(dir);
    const m = await readManifest(dir);
    await writeManifest(dir, { ...m, status: "collecting" });
    await assert.rejects(() => loadDataset(dir, "train"), /not complete .* resume/);
    await Deno.writeTextFile(`${dir}/manifest.json`, "{ not json");
    await assert.rejects(() => loadDataset(dir, "train"), /corrupted manifest/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: writeShard refuses inconsistent episodes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ep = synthEpisodes(3);
    ep.actions[ep.episodeOffsets[1] - 1] = 2; // last frame of episode 0 must be ACTION_NONE
    await assert.rejects(
      () =>
        writeShard(dir, {
          split: "train",
          index: 0,
          configHash: "x",
          planRange: [0, 3],
          skipped: [],
          envIds: ENV_IDS,
        }, ep),
      /episode 0's last frame has action 2/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Whether the numpy interop check can run here (reported as ignored, not passed, when not). */
const NUMPY = await havePythonNumpy();

Deno.test({
  name: "store: numpy loads every stored array unchanged (needs python3 + numpy)",
  ignore: !NUMPY,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const written = await writeSynthDataset(dir);
      const train = written.train;
      const expect = {
        images: Array.from(train.images),
        directions: Array.from(train.directions),
        actions: Array.from(train.actions),
        rewards: Array.from(train.rewards),
        terminated: Array.from(train.terminated),
        truncated: Array.from(train.truncated),
        seeds: Array.from(train.seeds),
        env_index: Array.from(train.envIndex),
        lengths: Array.from(train.lengths),
        returns: Array.from(train.returns),
        success: Array.from(train.success),
        episode_index: Array.from(train.episodeIndex),
        episode_offsets: Array.from(train.episodeOffsets),
        missions: train.missions,
      };
      await Deno.writeTextFile(`${dir}/expect.json`, JSON.stringify(expect));
      const py = `
import json, sys, numpy as np
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
exp = json.load(open(d + "/expect.json"))
dtypes = {"images": "uint8", "directions": "uint8", "actions": "uint8", "rewards": "float64", "terminated": "bool",
  "truncated": "bool", "seeds": "int64", "env_index": "int32", "lengths": "int32", "returns": "float64", "success": "bool",
  "episode_index": "int64", "episode_offsets": "int64"}
shards = m["splits"]["train"]["shards"]
for name, dt in dtypes.items():
    parts = [np.load(d + "/" + s["path"] + "/" + name + ".npy", allow_pickle=False) for s in shards]
    for p, s in zip(parts, shards):
        assert p.dtype == np.dtype(dt), (name, p.dtype)
        assert list(p.shape) == s["files"][name + ".npy"]["shape"], (name, p.shape)
    if name == "episode_offsets":
        offs, base = [0], 0
        for p in parts:
            offs += [int(x) + base for x in p[1:]]
            base += int(p[-1])
        got = offs
    else:
        got = np.concatenate(parts).reshape(-1).tolist()
    want = exp[name]
    if dt == "bool":
        got = [1 if v else 0 for v in got]
    assert got == want, name
imgs = np.load(d + "/" + shards[0]["path"] + "/images.npy")
assert imgs.shape[1:] == (7, 7, 3)
missions = [json.loads(l)["mission"] for s in shards for l in open(d + "/" + s["path"] + "/missions.jsonl")]
assert missions == exp["missions"]
print("ok")
`;
      const out = await new Deno.Command("python3", {
        args: ["-c", py, dir],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout).trim(), "ok");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("store: `deno task data verify` exits 0 on a good dataset, 1 naming the bad shard file otherwise", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeSynthDataset(dir);
    const cli = new URL("../cli/data.ts", import.meta.url).pathname;
    const run = async () => {
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", cli, "verify", dir],
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      return {
        code: o.code,
        out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr),
      };
    };
    const good = await run();
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /^ok: .* 4 shards, 56 files verified/m);
    const p = `${dir}/val/shard-00000/seeds.npy`;
    const b = await Deno.readFile(p);
    b[b.length - 1] ^= 4;
    await Deno.writeFile(p, b);
    const bad = await run();
    assert.equal(bad.code, 1);
    assert.match(bad.out, /CORRUPTED/);
    assert.match(bad.out, /val\/shard-00000\/seeds\.npy: checksum mismatch/);
    assert.match(bad.out, /bad shards: val\/shard-00000/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
