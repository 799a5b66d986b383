import assert from "node:assert/strict";
import { fillBatch, tokenizeEpisodes, windowInfo } from "../lib/data/tokenize.ts";
import { syntheticEpisodes } from "../lib/testing/synthetic.ts";
import {
  decodeWindowFlat,
  encodeBatchFlat,
  encodeWindowFlat,
  FLAT,
  FLAT_TOKENS_PER_FRAME,
  FLAT_VOCAB,
  FLAT_VOCAB_SIZE,
  flatToText,
  maskedTargetsFlat,
  textToFlat,
} from "../lib/data/flat.ts";
import { lladaRecords } from "../lib/experiment/export_llada.ts";
import { DEFAULT_MASKING, drawMask } from "../lib/masking/mod.ts";
import { MISSION_VOCAB } from "../lib/env/babyai/vocab.ts";

const W = { length: 4, stride: 1, mission_len: 12 };
const data = syntheticEpisodes(60, 7, 4);
const ds = tokenizeEpisodes(data, W);
const batch = fillBatch(ds, Array.from({ length: ds.numWindows }, (_, i) => i));

Deno.test("flat: vocabulary is unique and holds every field and mission word", () => {
  assert.equal(FLAT_VOCAB_SIZE, 40 + MISSION_VOCAB.length);
  assert.equal(new Set(FLAT_VOCAB.slice(0, 40)).size, 40);
  assert.equal(FLAT_VOCAB[8], "o0");
  assert.equal(FLAT_VOCAB[39], "a7");
});

Deno.test("flat: encode -> text -> ids -> decode round trip, with and without a mask", () => {
  const mask = drawMask({ ...DEFAULT_MASKING, strategy: "attribute", ratio: 0.3 }, batch, {
    seed: 1,
    epoch: 0,
    step: 0,
    batchIndex: 0,
  });
  for (let b = 0; b < batch.B; b++) {
    const info = windowInfo(ds, b);
    const ids = encodeWindowFlat(batch, b);
    const m = batch.M;
    let words = 0;
    while (words < m && batch.mission[b * m + words]) words++;
    assert.equal(ids.length, 4 + words + info.frames * FLAT_TOKENS_PER_FRAME);
    assert.deepEqual(textToFlat(flatToText(ids)), ids);
    const d = decodeWindowFlat(ids);
    assert.equal(d.frames, info.frames);
    const K = batch.K, n = info.frames, j0 = b * K + K - n; // valid frames: the last n slots
    assert.deepEqual(d.cells, batch.cells.slice(j0 * 147, (j0 + n) * 147));
    assert.deepEqual(d.dirs, batch.dirs.slice(j0, j0 + n));
    assert.deepEqual(d.actions, batch.actions.slice(j0, j0 + n));
    assert.deepEqual(d.mission, batch.mission.slice(b * m, b * m + words));

    // masked: <mask> exactly where hidden, and the targets fill them back in order
    const mids = encodeWindowFlat(batch, b, mask);
    const targets = maskedTargetsFlat(batch, b, mask);
    const holes = mids.reduce((a, v) => a + (v === FLAT.mask ? 1 : 0), 0);
    assert.equal(holes, targets.length);
    const filled = mids.slice();
    let t = 0;
    for (let i = 0; i < filled.length; i++) if (filled[i] === FLAT.mask) filled[i] = targets[t++];
    assert.deepEqual(filled, ids);
    const dm = decodeWindowFlat(mids);
    for (let i = 0; i < n * 147; i++) {
      assert.equal(dm.cells[i] === -1, mask.cells[j0 * 147 + i] === 1);
    }
  }
});

Deno.test("flat: decode and text parse errors name the position", () => {
  const ids = encodeWindowFlat(batch, 0);
  const bad = ids.slice();
  bad[20] = FLAT.bos;
  assert.throws(() => decodeWindowFlat(bad), /position 20/);
  assert.throws(() => textToFlat("<bos> <mission> zebra"), /unknown token "zebra" at position 2/);
});

Deno.test("export: next_action records hide exactly the last action; the response is its token", () => {
  const recs = [...lladaRecords(data, { window: W, split: "train" })];
  assert.equal(recs.length, ds.numWindows);
  for (const [w, r] of recs.entries()) {
    const info = windowInfo(ds, w);
    assert.equal(r.id, `train/${info.episode}/${info.start}`);
    assert.equal(r.strategy, "next_action");
    const toks = r.prompt.split(" ");
    assert.equal(toks.filter((t) => t === "<mask>").length, 1);
    // the <mask> is the last frame's action slot, just before <eos>
    assert.equal(toks[toks.length - 2], "<mask>");
    const K = batch.K;
    const lastAction = batch.actions[w * K + K - 1];
    assert.equal(r.response, `a${lastAction}`);
    assert.ok(r.prompt.includes(`<mission> ${data.missions[info.episode]} </mission>`));
  }
});

Deno.test("flat: batch tensor rows are the windows padded with <pad>", () => {
  const { ids, L } = encodeBatchFlat(batch);
  assert.equal(ids.length, batch.B * L);
  for (const b of [0, 1, batch.B - 1]) {
    const row = encodeWindowFlat(batch, b);
    assert.deepEqual(ids.subarray(b * L, b * L + row.length), row);
    assert.ok(ids.subarray(b * L + row.length, (b + 1) * L).every((v) => v === FLAT.pad));
  }
});
