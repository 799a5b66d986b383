/**
 * `deno task export wandb`: the payload built from a run directory (history rows equal to the
 * scalars of metrics.jsonl, config, summary, files), the clear error when python3 cannot import
 * wandb, and, where wandb imports, an offline run read back from its `.wandb` file. No test
 * makes a network call: every wandb process runs with WANDB_MODE=offline and no login.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { init, tree } from "@jax-js/jax";
import {
  checkWandb,
  historyRows,
  offlineEnv,
  wandbImportError,
  wandbRunPayload,
} from "../cli/export.ts";
import { recordScalars } from "../lib/train/tensorboard.ts";
import { MetricsSink, readJsonl, train } from "../lib/train/mod.ts";
import { data, runConfig } from "./support/train_fixture.ts";

/** Null when python3 imports wandb, else why not (the export's own message). */
const WANDB_MISSING = await checkWandb("python3");

/** Runs `deno run -A cli/export.ts args...`; returns exit code and output. */
async function exportCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli/export.ts", import.meta.url).pathname, ...args],
    env: offlineEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** An ablation-style run directory (config.json, metrics.jsonl, result.json, study report). */
async function fakeAblationRun(root: string, steps = 8): Promise<string> {
  const dir = join(root, "_runs", "cell_p030-0123456789ab");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.mkdir(join(root, "exp1_mask_ratio"), { recursive: true });
  await Deno.writeTextFile(join(root, "exp1_mask_ratio", "report.md"), "# exp1\n");
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({ name: "cell_masking", seed: 3, train: { steps, lr: 1e-3 } }),
  );
  const sink = new MetricsSink(join(dir, "metrics.jsonl"), { tensorboard: false });
  await sink.reset();
  await sink.append([
    { kind: "val", step: 0, loss: 1.9, val_elbo: 2.5 },
    { kind: "train", step: 4, loss: 1.5, lr: 1e-3, loss_heads: { obj: 0.5 }, mask_nominal: null },
    { kind: "train", step: 8, loss: 1.25, lr: 5e-4, loss_heads: { obj: 0.25 } },
    { kind: "val", step: 8, loss: 1.3, val_elbo: 2.0 },
  ]);
  const metrics = { "obs.cell_acc": 0.625, nll: NaN };
  await sink.setEval(8, metrics);
  await Deno.writeTextFile(
    join(dir, "result.json"),
    JSON.stringify({
      study: "exp1_mask_ratio",
      variant: "cell_p030",
      seed: 3,
      hash: "0123456789ab",
      evalVersion: 9,
      metrics: { "obs.cell_acc": 0.625, nll: null },
    }),
  );
  return dir;
}

Deno.test("historyRows: one row per step holding every scalar of the records, steps increasing", () => {
  const recs = [
    { kind: "val", step: 0, loss: 2 },
    { kind: "train", step: 5, loss: 1.5, loss_heads: { obj: 0.5 } },
    { kind: "val", step: 5, loss: 1.75, note: "x" },
    { kind: "eval", step: 5, acc: 0.5, nll: null },
  ];
  const rows = historyRows(recs);
  assert.deepEqual(rows, [
    { step: 0, values: { "val/loss": 2 } },
    {
      step: 5,
      values: {
        "train/loss": 1.5,
        "train/loss_heads/obj": 0.5,
        "val/loss": 1.75,
        "eval/acc": 0.5,
      },
    },
  ]);
  // Every scalar of every record is in its step's row, under its TensorBoard tag.
  for (const r of recs) {
    for (const [tag, v] of recordScalars(r)) {
      assert.equal(rows.find((x) => x.step === r.step)!.values[tag], v, tag);
    }
  }
});

Deno.test("wandbRunPayload: config, history, summary and files of an ablation run", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = await fakeAblationRun(root);
    const p = wandbRunPayload(dir, { project: "p" });
    assert.equal(p.dir, dir);
    assert.equal(p.name, "cell_p030-0123456789ab");
    assert.match(p.id, /^cell_p030-0123456789ab-[0-9a-f]{8}$/);
    assert.equal(p.project, "p");
    assert.equal(p.group, "exp1_mask_ratio");
    assert.equal((p.config.train as Record<string, unknown>).lr, 1e-3);
    assert.equal(p.config._variant, "cell_p030");
    assert.equal(p.config._seed, 3);
    assert.deepEqual(p.history, historyRows(await readJsonl(join(dir, "metrics.jsonl"))));
    assert.deepEqual(p.history.map((r) => r.step), [0, 4, 8]);
    assert.equal(p.history[2].values["eval/obs.cell_acc"], 0.625);
    assert.deepEqual(p.summary, { "eval/obs.cell_acc": 0.625 });
    assert.deepEqual(p.files.map((f) => f.name), [
      "config.json",
      "metrics.jsonl",
      "result.json",
      "report.md",
    ]);
    assert.equal(p.files[3].path, join(root, "exp1_mask_ratio", "report.md"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("wandbRunPayload refuses a non-run folder and an unfinished run (unless partial)", async () => {
  const root = await Deno.makeTempDir();
  try {
    assert.throws(() => wandbRunPayload(root), /no metrics\.jsonl, so not a run directory/);
    const dir = await fakeAblationRun(root, 100);
    await Deno.remove(join(dir, "result.json"));
    assert.throws(
      () => wandbRunPayload(dir),
      /not finished \(last logged step 8 of train\.steps 100\).*--partial/,
    );
    assert.equal(wandbRunPayload(dir, { partial: true }).history.length, 3);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a wandb that does not import: the message names the missing package and the pip command", () => {
  // The error this machine's wandb 0.30.0 gives: its opentelemetry-sdk needs a package the local
  // pip index lacks.
  const stderr = `Traceback (most recent call last):
  File "<string>", line 1, in <module>
  File ".../opentelemetry/sdk/resources/__init__.py", line 80, in <module>
    from opentelemetry.semconv.resource import ResourceAttributes
ModuleNotFoundError: No module named 'opentelemetry.semconv'
`;
  const m = wandbImportError(stderr, "python3", false);
  assert.match(m, /No module named 'opentelemetry\.semconv'/);
  assert.match(m, /the package opentelemetry-semantic-conventions/);
  assert.match(m, /python3 -m pip install --user opentelemetry-semantic-conventions/);
  assert.match(
    wandbImportError("ModuleNotFoundError: No module named 'wandb'", "py", true),
    /the Python package wandb is not installed for py; install it: py -m pip install wandb$/,
  );
});

Deno.test("export wandb without a usable wandb stops with that message and writes nothing", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = await fakeAblationRun(root);
    // Where wandb imports, a Python that does not exist stands in for a missing one.
    const python = WANDB_MISSING ? [] : ["--python", "/nonexistent/python3"];
    const r = await exportCli(["wandb", dir, ...python]);
    assert.equal(r.code, 1, r.err);
    if (WANDB_MISSING) {
      assert.ok(r.err.includes(WANDB_MISSING), r.err);
      assert.match(r.err, /pip install/);
    } else assert.match(r.err, /cannot run \/nonexistent\/python3/);
    assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name === "wandb"), "wrote a wandb folder");
    const usage = await exportCli(["tensorboard", dir]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /unknown target 'tensorboard'.*tensorboard --logdir runs\//);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name:
    "a finished smoke run exported offline: wandb's records hold every scalar of metrics.jsonl" +
    (WANDB_MISSING ? ` (ignored: ${WANDB_MISSING})` : ""),
  ignore: WANDB_MISSING !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await init("wasm");
    const dir = await Deno.makeTempDir();
    try {
      const cfg = runConfig({ steps: 8, log_every: 4, eval_every: 4, ckpt_every: 8 });
      await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(cfg));
      const r = await train(cfg, { ...data(), runDir: dir });
      tree.dispose(r.params);
      await new MetricsSink(join(dir, "metrics.jsonl")).setEval(8, { "obs.cell_acc": 0.5 });
      const ex = await exportCli(["wandb", dir]);
      assert.equal(ex.code, 0, ex.err);
      const offline = [...Deno.readDirSync(join(dir, "wandb"))]
        .filter((e) => e.name.startsWith("offline-run-")).map((e) => join(dir, "wandb", e.name));
      assert.equal(offline.length, 1, "one offline run");
      assert.match(ex.out, new RegExp(`wandb sync ${offline[0]}`));
      // wandb's own CLI lists it as a run to sync (dry run: nothing is uploaded).
      const sync = await new Deno.Command("python3", {
        args: ["-m", "wandb", "sync", "--dry-run", offline[0]],
        env: offlineEnv(),
        stdout: "piped",
        stderr: "piped",
      }).output();
      const syncText = new TextDecoder().decode(sync.stdout) +
        new TextDecoder().decode(sync.stderr);
      assert.ok(sync.success, syncText);
      assert.match(syncText, /\.wandb/);
      // The records, decoded with wandb's protobuf schema.
      const read = await new Deno.Command("python3", {
        args: [new URL("../tools/wandb/read_offline.py", import.meta.url).pathname, offline[0]],
        env: offlineEnv(),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(read.success, new TextDecoder().decode(read.stderr));
      const got = JSON.parse(new TextDecoder().decode(read.stdout)) as {
        history: Record<string, unknown>[];
        summary: Record<string, unknown>;
      };
      const want = historyRows(await readJsonl(join(dir, "metrics.jsonl")));
      const rows = got.history.map((h) => ({
        step: h._step as number,
        values: Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith("_"))),
      }));
      assert.deepEqual(rows, want);
      assert.equal(got.summary["eval/obs.cell_acc"], 0.5);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
