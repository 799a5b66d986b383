import assert from "node:assert/strict";
import { collectDataset, type DataConfig } from "../lib/data/collect.ts";
import { type DatasetSplit, loadDataset } from "../lib/data/store.ts";
import { readManifest } from "../lib/data/manifest.ts";
import { SPLITS } from "../lib/data/split.ts";
import { readJsonl } from "../lib/util/jsonl.ts";
import { sha256Hex } from "../lib/util/hash.ts";
import { textToFlat } from "../lib/data/flat.ts";
import {
  ACTION_STRINGS,
  missionLine,
  observationText,
  observationTokens,
  parseAction,
} from "../lib/data/text.ts";
import {
  type AomtRecord,
  type ConversationRecord,
  exportLladaDataset,
  type ExportManifest,
  LLADA_FORMAT_VERSION,
  type LladaRecord,
  lladaRecords,
} from "../lib/experiment/export_llada.ts";
import { main as exportMain } from "../cli/export.ts";
import { loadTextFixture, type TextFixtureEpisode } from "./support/text_fixture.ts";

// The episodes of this dataset are the first twelve of tools/fixtures/gen_babyai_text.py.
const TEXT: DataConfig = {
  dataset: "text",
  envs: ["BabyAI-GoToRedBall-v0", "BabyAI-UnlockLocal-v0", "BabyAI-PutNextLocal-v0"],
  policy: "bot",
  episodes: { train: 2, val: 1, test: 1 },
  seed: 0,
};

const root = await Deno.makeTempDir({ prefix: "export_llada_test_" });
const dataDir = `${root}/data`;
const { dir: datasetDir } = await collectDataset(TEXT, { dataDir, workers: 0, warn: false });
const splits = new Map<string, DatasetSplit>();
for (const s of SPLITS) splits.set(s, await loadDataset(datasetDir, s));
const fixture = new Map<string, TextFixtureEpisode>(
  loadTextFixture().map((e) => [`${e.env_id}/${e.seed}`, e]),
);

/** The fixture episode of episode e of a split (every one must be there). */
function fixtureOf(d: DatasetSplit, e: number): TextFixtureEpisode {
  const key = `${d.envIds[d.envIndex[e]]}/${d.seeds[e]}`;
  const fx = fixture.get(key);
  assert.ok(
    fx,
    `episode ${key} is not in tests/fixtures/babyai_text: the split plan changed; put the new ` +
      "seeds in BOT_EPISODES of tools/fixtures/gen_babyai_text.py and regenerate",
  );
  return fx;
}

/** Run `deno task export llada ...` in this process; returns the exit code. */
async function llada(...args: string[]): Promise<number> {
  return await exportMain(["llada", ...args, "--data-dir", dataDir]);
}

/** Entries of a folder (empty when it does not exist). */
function entries(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

Deno.test({
  name: "export llada: the deno task writes the aomt files; they read back as the fixture texts",
  sanitizeResources: false,
  async fn() {
    const out = `${root}/out-aomt`;
    const p = await new Deno.Command(Deno.execPath(), {
      args: ["task", "export", "llada", "text", "--data-dir", dataDir, "--out", out],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(p.stderr);
    assert.equal(p.code, 0, stderr);
    assert.match(new TextDecoder().decode(p.stdout), /wrote .*out-aomt/);
    assert.deepEqual(entries(out), ["manifest.json", "test", "train", "val"]);
    const m: ExportManifest = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
    const dm = await readManifest(datasetDir);
    assert.equal(m.format_version, LLADA_FORMAT_VERSION);
    assert.equal(m.export_format, "aomt");
    assert.equal(m.obs, "text");
    assert.equal(m.dataset_hash, dm.config_hash);
    assert.deepEqual(m.split, ["train", "val", "test"]);
    assert.match(m.command, /^deno task export llada text --data-dir \S+ --out \S+out-aomt$/);

    let episodesSeen = 0;
    for (const s of SPLITS) {
      const d = splits.get(s)!;
      assert.deepEqual(entries(`${out}/${s}`), [
        "aomt.jsonl",
        "prefix_sft_s1.jsonl",
        "sft_standard.jsonl",
      ]);
      const sft = await readJsonl<ConversationRecord>(`${out}/${s}/sft_standard.jsonl`);
      const pre = await readJsonl<ConversationRecord>(`${out}/${s}/prefix_sft_s1.jsonl`);
      const aomt = await readJsonl<AomtRecord>(`${out}/${s}/aomt.jsonl`);
      const steps = d.numFrames - d.numEpisodes;
      assert.equal(sft.length, steps, `${s}: one sft_standard record per step`);
      assert.equal(pre.length, steps, `${s}: one prefix_sft_s1 record per step`);
      assert.equal(aomt.length, d.numEpisodes, `${s}: one aomt record per episode`);
      const obsUnits = aomt.reduce((a, r) => a + r.unit_types.filter((t) => t === "obs").length, 0);
      assert.equal(obsUnits, d.numFrames, `${s}: one observation unit per frame`);
      const ms = m.splits[s]!;
      assert.deepEqual(
        [ms.episodes, ms.frames, ms.steps],
        [d.numEpisodes, d.numFrames, steps],
      );
      assert.equal(ms.files["sft_standard.jsonl"].records, steps);
      assert.equal(ms.files["aomt.jsonl"].records, d.numEpisodes);
      for (const [name, rec] of Object.entries(ms.files)) {
        const bytes = await Deno.readFile(`${out}/${s}/${name}`);
        assert.equal(rec.bytes, bytes.length, name);
        assert.equal(rec.sha256, sha256Hex(bytes), name);
      }

      let k = 0; // record index in sft / prefix
      for (let e = 0; e < d.numEpisodes; e++) {
        const fx = fixtureOf(d, e);
        const a = d.episodeOffsets[e], b = d.episodeOffsets[e + 1];
        assert.equal(fx.images.length, b - a, `${fx.env_id}/${fx.seed}: frames`);
        assert.deepEqual(Array.from(d.actions.subarray(a, b - 1)), fx.actions);
        const obs = fx.descriptions.map(observationText);
        const acts = fx.actions.map((x) => ACTION_STRINGS[x]);
        const task = missionLine(fx.mission);
        // aomt: obs/act alternating, starting and ending with obs, the task line first
        const r = aomt[e];
        assert.equal(r.unit_texts.length, 2 * fx.actions.length + 1);
        assert.deepEqual(r.unit_types, r.unit_texts.map((_, i) => (i % 2 === 0 ? "obs" : "act")));
        assert.equal(r.unit_texts[0], `${task}\n${obs[0]}`);
        for (let t = 1; t < obs.length; t++) assert.equal(r.unit_texts[2 * t], obs[t]);
        for (let t = 0; t < acts.length; t++) assert.equal(r.unit_texts[2 * t + 1], acts[t]);
        for (let t = 0; t < acts.length; t++, k++) {
          // sft_standard: user = task line + the whole history up to O_t, assistant = A_t
          const [u, ans] = sft[k].messages;
          assert.equal(sft[k].messages.length, 2);
          assert.deepEqual([u.role, ans.role], ["user", "assistant"]);
          assert.equal(parseAction(ans.content), fx.actions[t]);
          assert.equal(ans.content, acts[t], "exactly one action string");
          const history = [task];
          for (let j = 0; j <= t; j++) history.push(obs[j], ...(j < t ? [acts[j]] : []));
          assert.equal(u.content, history.join("\n"), `${s} episode ${e} step ${t}`);
          assert.equal(u.content, r.unit_texts.slice(0, 2 * t + 1).join("\n"));
          // prefix_sft_s1: exactly one observation and one action, then the next observation
          const [pu, pa] = pre[k].messages;
          assert.equal(pre[k].messages.length, 2);
          assert.deepEqual([pu.role, pa.role], ["user", "assistant"]);
          const lines = pu.content.split("\n");
          assert.equal(lines.length, 2, "one observation line and one action line");
          assert.equal(lines[0], obs[t]);
          assert.equal(parseAction(lines[1]), fx.actions[t]);
          assert.equal(pa.content, obs[t + 1]);
        }
        episodesSeen++;
      }
    }
    assert.equal(episodesSeen, 12);
  },
});

Deno.test("export llada: dfactory writes the history as chat turns", async () => {
  const out = `${root}/out-dfactory`;
  assert.equal(await llada("text", "--format", "dfactory", "--split", "val", "--out", out), 0);
  assert.deepEqual(entries(out), ["manifest.json", "val"]);
  assert.deepEqual(entries(`${out}/val`), ["prefix_sft_s1.jsonl", "sft_standard.jsonl"]);
  const d = splits.get("val")!;
  const sft = await readJsonl<ConversationRecord>(`${out}/val/sft_standard.jsonl`);
  assert.equal(sft.length, d.numFrames - d.numEpisodes);
  let k = 0;
  for (let e = 0; e < d.numEpisodes; e++) {
    const fx = fixtureOf(d, e);
    for (let t = 0; t < fx.actions.length; t++, k++) {
      const msgs = sft[k].messages;
      assert.equal(msgs.length, 2 * t + 2);
      msgs.forEach((x, i) => assert.equal(x.role, i % 2 === 0 ? "user" : "assistant"));
      assert.equal(
        msgs[0].content,
        `${missionLine(fx.mission)}\n${observationText(fx.descriptions[0])}`,
      );
      for (let j = 1; j <= t; j++) {
        assert.equal(msgs[2 * j].content, observationText(fx.descriptions[j]));
      }
      for (let j = 0; j <= t; j++) {
        assert.equal(parseAction(msgs[2 * j + 1].content), fx.actions[j]);
      }
    }
  }
});

Deno.test("export llada: --obs tokens writes each frame's cell tokens", async () => {
  const out = `${root}/out-obs-tokens`;
  assert.equal(await llada("text", "--obs", "tokens", "--split", "test", "--out", out), 0);
  const d = splits.get("test")!;
  const aomt = await readJsonl<AomtRecord>(`${out}/test/aomt.jsonl`);
  for (let e = 0; e < d.numEpisodes; e++) {
    const a = d.episodeOffsets[e];
    const units = aomt[e].unit_texts.filter((_, i) => i % 2 === 0);
    assert.equal(units.length, d.episodeOffsets[e + 1] - a);
    units.forEach((u, t) => {
      const want = observationTokens(d.images, (a + t) * 147, d.directions[a + t]);
      assert.equal(t === 0 ? u.split("\n")[1] : u, want);
    });
  }
  const m: ExportManifest = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
  assert.equal(m.obs, "tokens");
});

Deno.test("export llada: --format tokens writes the flat token windows", async () => {
  const out = `${root}/out-tokens`;
  assert.equal(
    await llada(
      "text",
      "--format",
      "tokens",
      "--split",
      "train",
      "--k",
      "2",
      "--ids",
      "--out",
      out,
    ),
    0,
  );
  const got = await readJsonl<LladaRecord>(`${out}/train/windows.jsonl`);
  const want = [...lladaRecords(splits.get("train")!, {
    window: { length: 2, stride: 1, mission_len: 12 },
    split: "train",
    ids: true,
  })];
  assert.ok(got.length > 10);
  assert.deepEqual(got, JSON.parse(JSON.stringify(want)));
  for (const r of got) {
    assert.deepEqual(textToFlat(r.prompt), Int32Array.from(r.prompt_ids!));
    assert.match(r.response, /^a[0-7]$/); // a7: the window ends its episode
  }
});

Deno.test("export llada: bad input exits 2 and writes nothing", async (t) => {
  const out = `${root}/bad/out`;
  const errors: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  const expect2 = async (re: RegExp, ...args: string[]) => {
    errors.length = 0;
    assert.equal(await llada(...args), 2, args.join(" "));
    assert.match(errors.join("\n"), re, args.join(" "));
  };
  try {
    await t.step("unknown dataset, split, format, obs", async () => {
      await expect2(/no dataset "nope".*deno task collect --config configs\/base\.yaml/, "nope");
      await expect2(
        /unknown split "dev"; use train, val, test/,
        "text",
        "--split",
        "dev",
        "--out",
        out,
      );
      await expect2(
        /unknown --format "csv"; use one of aomt, dfactory, tokens/,
        "text",
        "--format",
        "csv",
        "--out",
        out,
      );
      await expect2(/unknown --obs "pixels"/, "text", "--obs", "pixels", "--out", out);
      await expect2(/--k applies to --format tokens only/, "text", "--k", "3", "--out", out);
      await expect2(/missing <dataset>/);
      await expect2(/would replace the dataset/, "text", "--out", dataDir, "--overwrite");
      assert.ok(entries(datasetDir).includes("manifest.json"), "the dataset is untouched");
      assert.deepEqual(entries(`${root}/bad`), []);
    });
    await t.step("an output folder that exists is kept unless --overwrite", async () => {
      await Deno.mkdir(out, { recursive: true });
      await Deno.writeTextFile(`${out}/mine.txt`, "keep me");
      await expect2(/output folder .* exists; pass --overwrite/, "text", "--out", out);
      assert.deepEqual(entries(out), ["mine.txt"]);
      assert.equal(await llada("text", "--split", "val", "--out", out, "--overwrite"), 0);
      assert.deepEqual(entries(out), ["manifest.json", "val"]);
      assert.deepEqual(entries(`${root}/bad`), ["out"], "no temporary folder left beside it");
    });
    await t.step("a dataset that fails its checksums", async () => {
      const copy = `${dataDir}/broken`;
      await new Deno.Command("cp", { args: ["-r", datasetDir, copy] }).output();
      const f = `${copy}/val/shard-00000/images.npy`;
      const bytes = await Deno.readFile(f);
      bytes[bytes.length - 1] ^= 1;
      await Deno.writeFile(f, bytes);
      const out2 = `${root}/bad/broken-out`;
      await expect2(/checksum mismatch.*deno task data verify/, "broken", "--out", out2);
      assert.deepEqual(entries(`${root}/bad`), ["out"], "nothing written for the broken dataset");
    });
  } finally {
    console.error = orig;
  }
});

Deno.test("export llada: a failure while writing leaves no folder behind", async () => {
  const parent = `${root}/midway`;
  await Deno.mkdir(parent);
  await assert.rejects(
    () =>
      exportLladaDataset(datasetDir, {
        format: "tokens",
        out: `${parent}/out`,
        tokenOptions: { window: { length: 0, stride: 1, mission_len: 12 } }, // fails in the tokenizer
      }),
    /export to .*midway\/out failed/,
  );
  assert.deepEqual(entries(parent), [], "neither the output nor its temporary folder is left");
});

Deno.test({
  name: "export llada: cleanup",
  sanitizeResources: false,
  async fn() {
    await Deno.remove(root, { recursive: true });
  },
});
