import assert from "node:assert/strict";
import {
  crc32c,
  frameRecord,
  maskedCrc32c,
  recordScalars,
  TensorBoardWriter,
} from "../lib/train/tensorboard.ts";

/** Whether python3 can import the `tensorboard` package (its own event reader checks our files). */
function hasPythonTensorboard(): boolean {
  try {
    const r = new Deno.Command("python3", {
      args: ["-c", "import tensorboard"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return r.success;
  } catch {
    return false;
  }
}

/** Read every scalar of an event directory with tensorboard's EventAccumulator: tag -> [step, value][]. */
async function readWithTensorboard(dir: string): Promise<Record<string, [number, number][]>> {
  const script = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
ea = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0}); ea.Reload()
print(json.dumps({t: [[e.step, e.value] for e in ea.Scalars(t)] for t in ea.Tags()["scalars"]}))
`;
  const r = await new Deno.Command("python3", { args: ["-c", script, dir] }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

Deno.test("crc32c matches the published check value and the TFRecord mask", () => {
  // CRC-32C of "123456789" is 0xe3069283 (RFC 3720 check value).
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  const empty = new Uint8Array(0);
  assert.equal(crc32c(empty), 0);
  assert.equal(maskedCrc32c(empty), 0xa282ead8);
  const rec = frameRecord(new Uint8Array([1, 2, 3]));
  assert.equal(rec.length, 12 + 3 + 4);
  assert.equal(new DataView(rec.buffer).getBigUint64(0, true), 3n);
});

Deno.test("recordScalars flattens nested maps and skips step, kind and non-numbers", () => {
  const s = recordScalars({
    kind: "val",
    step: 5,
    loss: 1.5,
    loss_heads: { obj: 0.5, dir: NaN },
    note: "x",
  });
  assert.deepEqual(s, [["val/loss", 1.5], ["val/loss_heads/obj", 0.5]]);
});

const TB = hasPythonTensorboard();
Deno.test({
  name: "tensorboard's own reader returns every scalar written, equal to the records" +
    (TB ? "" : " (ignored: python3 lacks the tensorboard package; deno task setup --tensorboard)"),
  ignore: !TB,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const w = await TensorBoardWriter.create(dir, { suffix: "test" });
      const recs = [
        { kind: "train", step: 10, loss: 1.5, lr: 1e-3, loss_heads: { obj: 0.25 } },
        { kind: "val", step: 10, loss: 1.25, val_elbo: 2.5 },
        { kind: "train", step: 20, loss: 0.75, lr: 5e-4, loss_heads: { obj: 0.125 } },
      ];
      await w.write(recs.slice(0, 2));
      await w.write(recs.slice(2));
      const got = await readWithTensorboard(dir);
      const want: Record<string, [number, number][]> = {};
      for (const r of recs) {
        for (const [tag, v] of recordScalars(r)) (want[tag] ??= []).push([r.step, v]);
      }
      assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
      for (const [tag, pts] of Object.entries(want)) {
        assert.equal(got[tag].length, pts.length, tag);
        for (let i = 0; i < pts.length; i++) {
          assert.equal(got[tag][i][0], pts[i][0], `${tag} step`);
          assert.equal(got[tag][i][1], Math.fround(pts[i][1]), `${tag} value`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a writer that cannot write reports once and never throws", async () => {
  const errors: unknown[] = [];
  const w = await TensorBoardWriter.create("/nonexistent-dir-for-tb-test", {
    onError: (e) => errors.push(e),
  });
  await w.write([{ kind: "train", step: 1, loss: 1 }]);
  await w.write([{ kind: "train", step: 2, loss: 1 }]);
  assert.equal(errors.length, 1);
  assert.ok(w.disabled);
});

Deno.test("fresh: a corrupt older event file is replaced, not read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/events.out.tfevents.1.old`, new Uint8Array([1, 2, 3]));
    const w = await TensorBoardWriter.create(dir, { fresh: true, suffix: "new" });
    await w.write([{ kind: "train", step: 1, loss: 1 }]);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names.length, 1);
    assert.ok(names[0].endsWith(".new"));
    assert.ok(!w.disabled);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
