import assert from "node:assert/strict";
import { BatchIterator, epochPermutation } from "../lib/data/batch.ts";
import { syntheticEpisodes } from "../lib/testing/synthetic.ts";
import { tokenizeEpisodes } from "../lib/data/tokenize.ts";

const ds = tokenizeEpisodes(syntheticEpisodes(50, 10, 7), {
  length: 4,
  stride: 1,
  mission_len: 12,
});

Deno.test("batch: epoch permutation is a deterministic permutation, different per epoch and seed", () => {
  const n = 1000;
  const a = epochPermutation(n, 1, 0);
  assert.deepEqual(a, epochPermutation(n, 1, 0));
  assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i));
  assert.notDeepEqual(a, epochPermutation(n, 1, 1));
  assert.notDeepEqual(a, epochPermutation(n, 2, 0));
});

Deno.test("batch: drop-last epochs have full batches of distinct windows", () => {
  const it = new BatchIterator(ds, { batchSize: 16, seed: 3 });
  assert.equal(it.batchesPerEpoch, Math.floor(ds.numWindows / 16));
  const seen = new Set<number>();
  for (let i = 0; i < it.batchesPerEpoch; i++) {
    const { batch, position, windowIds } = it.next();
    assert.deepEqual(position, { epoch: 0, index: i });
    assert.equal(batch.B, 16);
    for (const w of windowIds) seen.add(w);
  }
  assert.equal(seen.size, it.batchesPerEpoch * 16);
  assert.deepEqual(it.position, { epoch: 1, index: 0 });
  assert.equal(it.next().position.epoch, 1);
});

Deno.test("batch: no drop-last visits every window once, last batch smaller", () => {
  const it = new BatchIterator(ds, { batchSize: 16, seed: 0, shuffle: false, dropLast: false });
  const ids: number[] = [];
  let last = 0;
  for (const item of it.epochBatches(0)) {
    ids.push(...item.windowIds);
    last = item.batch.B;
  }
  assert.deepEqual(ids, Array.from({ length: ds.numWindows }, (_, i) => i));
  assert.equal(last, ds.numWindows % 16 || 16);
});

Deno.test("batch: resuming at a position gives exactly the same batches", () => {
  const a = new BatchIterator(ds, { batchSize: 8, seed: 11 });
  const ref = [];
  for (let i = 0; i < 3 * a.batchesPerEpoch + 2; i++) ref.push(a.next());
  const cut = a.batchesPerEpoch + 3;
  const b = new BatchIterator(ds, { batchSize: 8, seed: 11 });
  for (let i = 0; i < cut; i++) b.next();
  const pos = b.position;
  const c = new BatchIterator(ds, { batchSize: 8, seed: 11, position: pos, reuse: true });
  for (let i = cut; i < ref.length; i++) {
    const x = c.next();
    assert.deepEqual(x.position, ref[i].position);
    assert.deepEqual(x.windowIds, ref[i].windowIds);
    assert.deepEqual(x.batch, ref[i].batch);
  }
});

Deno.test("batch: bad sizes and positions are refused with clear errors", () => {
  assert.throws(
    () => new BatchIterator(ds, { batchSize: ds.numWindows + 1, seed: 0 }),
    /no full batch/,
  );
  assert.throws(
    () => new BatchIterator(ds, { batchSize: 8, seed: 0, position: { epoch: 0, index: 1e6 } }),
    /resume position/,
  );
});
