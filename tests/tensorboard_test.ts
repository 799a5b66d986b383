import assert from "node:assert/strict";
import { init, tree } from "@jax-js/jax";
import { listCheckpoints } from "../lib/model/checkpoint.ts";
import { type MetricsRecord, MetricsSink, readJsonl, train } from "../lib/train/mod.ts";
import { data, runConfig } from "./support/train_fixture.ts";
import { EXTRAS, pipCommand } from "../cli/setup.ts";
import {
  crc32c,
  frameRecord,
  maskedCrc32c,
  recordScalars,
  TensorBoardWriter,
} from "../lib/train/tensorboard.ts";
import { havePythonModule } from "./support/python.ts";

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

const TB = await havePythonModule("tensorboard");
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

// ---- every training run writes its metrics.jsonl scalars to an event file beside it

/** Every scalar of a run's metrics.jsonl as tensorboard should hold it: tag -> [step, float32][]. */
async function jsonlScalars(dir: string): Promise<Record<string, [number, number][]>> {
  const want: Record<string, [number, number][]> = {};
  for (const r of await readJsonl(`${dir}/metrics.jsonl`)) {
    for (const [tag, v] of recordScalars(r)) {
      (want[tag] ??= []).push([Number(r.step), Math.fround(v)]);
    }
  }
  return want;
}

/** The event files of a run directory. */
function eventFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("events.out.tfevents."))
    .map((e) => e.name);
}

/** Asserts tensorboard's reader returns exactly the scalars of the run's metrics.jsonl. */
async function assertEventsEqualJsonl(dir: string): Promise<number> {
  assert.equal(eventFiles(dir).length, 1, `one event file in ${dir}`);
  const got = await readWithTensorboard(dir);
  const want = await jsonlScalars(dir);
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  let n = 0;
  for (const [tag, pts] of Object.entries(want)) {
    assert.deepEqual(got[tag], pts, tag);
    n += pts.length;
  }
  return n;
}

const trainOpts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "a smoke run, then interrupted past its checkpoint, event file torn, resumed: " +
    "tensorboard's reader returns every scalar of metrics.jsonl" +
    (TB ? "" : " (ignored: python3 lacks the tensorboard package; deno task setup --tensorboard)"),
  ignore: !TB,
  ...trainOpts,
  fn: async () => {
    await init("wasm");
    const dir = await Deno.makeTempDir();
    try {
      const cfg = runConfig({ steps: 16, log_every: 4, eval_every: 8, ckpt_every: 8 });
      const a = await train(cfg, { ...data(), runDir: dir, stopAtStep: 12 });
      tree.dispose(a.params);
      const n = await assertEventsEqualJsonl(dir);
      const tags = Object.keys(await jsonlScalars(dir));
      for (
        const t of [
          "train/loss",
          "train/lr",
          "train/grad_norm",
          "train/mask_rate",
          "train/ms_per_step",
          "val/loss",
          "val/val_elbo",
          "val/loss_heads/obj",
        ]
      ) assert.ok(tags.includes(t), `${t} among ${tags.join(", ")}`);
      assert.ok(n > 50, `only ${n} scalars`);
      // A crash after step 12 was logged but before its checkpoint: drop the step-12 checkpoint,
      // so the resume starts at 8 and must discard the logged step 12 from both files.
      const cks = await listCheckpoints(dir);
      assert.deepEqual(cks.map((c) => c.step), [8, 12]);
      await Deno.remove(cks[1].dir, { recursive: true });
      const before = await readJsonl<MetricsRecord>(`${dir}/metrics.jsonl`);
      assert.ok(before.some((x) => x.kind === "train" && x.step === 12));
      // ...and a torn event file (half its bytes): it must neither stop training nor survive.
      const ev = `${dir}/${eventFiles(dir)[0]}`;
      const bytes = await Deno.readFile(ev);
      await Deno.writeFile(ev, bytes.subarray(0, bytes.length >> 1));
      const b = await train(cfg, { ...data(), runDir: dir, resume: true });
      assert.equal(b.startStep, 8);
      tree.dispose(b.params);
      const recs = await readJsonl<MetricsRecord>(`${dir}/metrics.jsonl`);
      assert.deepEqual(recs.filter((x) => x.kind === "train").map((x) => x.step), [4, 8, 12, 16]);
      await assertEventsEqualJsonl(dir);
      // The final evaluation (lib/experiment/ablate.ts): eval/<metric> at the last step, in both.
      const sink = new MetricsSink(`${dir}/metrics.jsonl`);
      await sink.setEval(16, { "obs.cell_acc": 0.5, nll: NaN });
      await sink.setEval(16, { "obs.cell_acc": 0.625, nll: 1.25 }); // re-evaluated: replaces
      const evals = (await readJsonl(`${dir}/metrics.jsonl`)).filter((x) => x.kind === "eval");
      assert.deepEqual(evals, [{ kind: "eval", step: 16, "obs.cell_acc": 0.625, nll: 1.25 }]);
      await assertEventsEqualJsonl(dir);
      const got = await readWithTensorboard(dir);
      assert.deepEqual(got["eval/obs.cell_acc"], [[16, 0.625]]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("MetricsSink: a NaN metric is null in metrics.jsonl and no scalar; names step/kind refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sink = new MetricsSink(`${dir}/metrics.jsonl`, { tensorboard: false });
    await sink.reset();
    await sink.append([{ kind: "train", step: 1, loss: 2 }]);
    await sink.setEval(1, { acc: NaN, nll: 0.5 });
    const recs = await readJsonl(`${dir}/metrics.jsonl`);
    assert.deepEqual(recs[1], { kind: "eval", step: 1, acc: null, nll: 0.5 });
    assert.deepEqual(recordScalars(recs[1]), [["eval/nll", 0.5]]);
    assert.deepEqual(eventFiles(dir), [], "tensorboard: false writes no event file");
    await assert.rejects(() => sink.setEval(1, { step: 3 }), /may not be named 'step'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setup --tensorboard: pip for the python3 on PATH, --user unless root; --check reports it", async () => {
  assert.equal(pipCommand(["tensorboard"], true), "python3 -m pip install tensorboard");
  assert.equal(pipCommand(["tensorboard"], false), "python3 -m pip install --user tensorboard");
  assert.deepEqual(EXTRAS.tensorboard.pip, ["tensorboard"]);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../cli/setup.ts", import.meta.url).pathname,
      "--check",
      "--tensorboard",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (TB) assert.match(text, /setup: ok: TensorBoard/);
  // Every line setup prints starts with "setup: "; the install command is indented below it.
  else {
    assert.match(
      text,
      /setup: missing: TensorBoard[^\n]*\nsetup: {3}install: python3 -m pip install (--user )?tensorboard\n/,
    );
  }
});
