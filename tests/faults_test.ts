/**
 * The fault suite: runs that survive their users. Smoke-sized and deterministic; every kill is a
 * real SIGKILL, sent by the process to itself at a named point (lib/util/fault.ts `FAULT_KILL`),
 * so the place of each crash is known:
 *
 * - a training killed three times (between steps, inside a checkpoint write, while `best` is
 *   being replaced), then resumed, equals an uninterrupted one (metrics and final weights);
 * - an ablation killed inside a checkpoint write, after training and after evaluation, then
 *   rerun, writes the lone run's `results.jsonl`;
 * - two ablations of one study at once write the lone run's `results.jsonl`, one waits;
 *   `--no-wait` stops at once naming the holder;
 * - a flipped byte in any checkpoint file is named on load (with the retrain command) and on
 *   resume (which falls back to the previous checkpoint and still ends equal);
 * - a full disk (a 3 MB tmpfs; root only) gives a clear error, leaves no temporary file and
 *   whole JSONL files, and the run resumes once there is space;
 * - parity reads fixture files that are symlinks.
 *
 * Children run with one BLAS / jax thread each (deterministic and light on a shared machine).
 */
import { strict as assert } from "node:assert";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  CheckpointError,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from "../lib/model/checkpoint.ts";
import { acquireLock } from "../lib/util/lock.ts";
import { parseJsonl } from "../lib/util/jsonl.ts";
import { REPO_ROOT } from "../lib/experiment/rundir.ts";
import { writeStudyFile } from "./support/study_file.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const ROOT = Deno.makeTempDirSync({ prefix: "faults-test-" });
const DATA = join(ROOT, "data");
const STUDIES = join(ROOT, "ablations");
const CONFIG = join(REPO_ROOT, "configs", "experiments", "cell_masking.yaml");
/** 12 steps with a checkpoint and a validation every 3: many places to crash in a few seconds. */
const TRAIN_SET = [
  "--set",
  "train.steps=12",
  "--set",
  "train.ckpt_every=3",
  "--set",
  "train.eval_every=3",
  "--set",
  "train.log_every=1",
];

Deno.mkdirSync(STUDIES);
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(ROOT, { recursive: true });
  } catch { /* a tmpfs still mounted, or already gone */ }
});
writeStudyFile(STUDIES, {
  name: "expz_faults",
  title: "Fault suite study",
  description: "two variants of cell masking, on the smoke data",
  base: "cell_masking.yaml",
  baseline: "sft",
  variants: [
    "  - { name: cell_p030, set: { masking.ratio: 0.3 } }",
    "  - { name: sft, set: { masking.strategy: next_action } }",
  ],
});

interface Out {
  pid: number;
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** `deno run -A <script> ...args` in the repo, one thread per engine, optionally with FAULT_KILL. */
function spawn(
  args: string[],
  fault?: string,
  more: Record<string, string> = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: REPO_ROOT,
    env: {
      BLAS_THREADS: "1",
      OPENBLAS_NUM_THREADS: "1",
      JAXJS_WORKERS: "1",
      FAULT_KILL: fault ?? "",
      ...more,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(c: Deno.ChildProcess): Promise<Out> {
  const o = await c.output();
  const dec = new TextDecoder();
  return {
    pid: c.pid,
    code: o.code,
    signal: o.signal,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
  };
}

const run = (args: string[], fault?: string) => finish(spawn(args, fault));

function trainArgs(runDir: string, ...more: string[]): string[] {
  return [
    "cli/train.ts",
    "--config",
    CONFIG,
    "--profile",
    "smoke",
    "--data-dir",
    DATA,
    "--run-dir",
    runDir,
    "--quiet",
    ...TRAIN_SET,
    ...more,
  ];
}

function ablateArgs(runsRoot: string, ...more: string[]): string[] {
  return [
    "cli/ablate.ts",
    "expz",
    "--profile",
    "smoke",
    "--runs-root",
    runsRoot,
    "--data-root",
    DATA,
    "--ablations-dir",
    STUDIES,
    ...more,
  ];
}

function assertOk(o: Out, what: string): void {
  assert.equal(o.code, 0, `${what} failed (code ${o.code}, signal ${o.signal}):\n${o.stderr}`);
}

function assertKilled(o: Out, what: string): void {
  assert.equal(o.signal, "SIGKILL", `${what} was not killed at its fault point:\n${o.stderr}`);
}

/** Every path under `dir` (relative), sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(join(d, e.name), r);
    }
  };
  walk(dir, "");
  return out.sort();
}

/** Temporary files, moved-aside checkpoints and locks left anywhere under `dir`. */
function leftovers(dir: string): string[] {
  return tree(dir).filter((p) => /\.tmp-|\.old-|\.stale-|\.lock$/.test(p));
}

/** The metrics of a run with the wall-clock fields dropped (they differ between any two runs). */
function metricsOf(runDir: string): Record<string, unknown>[] {
  const text = readFileSync(join(runDir, "metrics.jsonl"), "utf8");
  return parseJsonl(text, join(runDir, "metrics.jsonl")).map((r) => {
    const { elapsed_s: _e, rss_mb: _r, tokens_per_s: _t, ms_per_step: _m, ...rest } = r;
    return rest;
  });
}

function bytesOf(path: string): Uint8Array {
  return Deno.readFileSync(path);
}

/** Flips the bits of one byte of `path` (at a fixed, in-range offset: its middle). */
function flipByte(path: string): void {
  const b = Deno.readFileSync(path);
  b[Math.floor(b.length / 2)] ^= 0xff;
  Deno.writeFileSync(path, b);
}

function copyDir(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyDir(join(from, e.name), join(to, e.name));
    else copyFileSync(join(from, e.name), join(to, e.name));
  }
}

// ---- shared baselines, made once: the dataset, an uninterrupted training, a lone ablation
let baseline:
  | Promise<{ trainDir: string; trainOut: Out; results: string; loneRoot: string }>
  | null = null;
function baselines() {
  baseline ??= (async () => {
    const collect = await run(ablateArgs(join(ROOT, "collect-runs"), "--collect-only"));
    assertOk(collect, "collecting the smoke dataset");
    const trainDir = join(ROOT, "train-uninterrupted");
    const [trainOut, lone] = await Promise.all([
      run(trainArgs(trainDir)),
      run(ablateArgs(join(ROOT, "lone"))),
    ]);
    assertOk(trainOut, "the uninterrupted training");
    assertOk(lone, "the lone ablation");
    const results = readFileSync(
      join(ROOT, "lone", "ablations", "expz_faults", "results.jsonl"),
      "utf8",
    );
    assert.ok(results.split("\n").length > 100, "the lone study has its results");
    return { trainDir, trainOut, results, loneRoot: join(ROOT, "lone") };
  })();
  return baseline;
}

function assertSameTraining(dir: string, base: string): void {
  assert.deepEqual(metricsOf(dir), metricsOf(base), `${dir}: metrics differ from ${base}`);
  for (const ck of ["step_0000012", "best"]) {
    for (const f of ["model.safetensors", "optim.safetensors", "state.json"]) {
      assert.deepEqual(
        bytesOf(join(dir, "checkpoints", ck, f)),
        bytesOf(join(base, "checkpoints", ck, f)),
        `${ck}/${f} differs from the uninterrupted run's`,
      );
    }
  }
}

Deno.test({
  name: "faults: kill -9 three times during training (between steps, inside a checkpoint write, " +
    "while best is replaced), then resume: equal to an uninterrupted run",
  ...opts,
  fn: async () => {
    const { trainDir, trainOut } = await baselines();
    const dir = join(ROOT, "train-killed");
    const k1 = await run(trainArgs(dir), "step@5");
    assertKilled(k1, "the first training");
    assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [3]);

    const k2 = await run(trainArgs(dir, "--resume"), "checkpoint-write@2");
    assertKilled(k2, "the second training");
    assert.match(
      k2.stderr,
      new RegExp(`lock: taking over run directory ${dir}: its holder pid ${k1.pid} .* is gone`),
    );
    const half = tree(join(dir, "checkpoints")).filter((p) => p.includes(".tmp-"));
    assert.ok(half.length > 0, "a half-written checkpoint is left by the kill");
    assert.ok(existsSync(join(dir, "metrics.jsonl")));

    const k3 = await run(trainArgs(dir, "--resume"), "checkpoint-replace@1");
    assertKilled(k3, "the third training");
    const aside = tree(join(dir, "checkpoints")).filter((p) =>
      !p.includes("/") && p.includes(".old-")
    );
    assert.deepEqual(aside.map((p) => p.replace(/-\d+$/, "")), ["best.old"]);
    assert.ok(!existsSync(join(dir, "checkpoints", "best")), "best was moved aside when killed");

    // A temporary of an atomic write that a killed process left beside the run's files.
    const stray = join(dir, `metrics.jsonl.tmp-${k3.pid}-0badf00d`);
    Deno.writeTextFileSync(stray, "{half");
    const last = await run(trainArgs(dir, "--resume"));
    assertOk(last, "the resumed training");
    assert.ok(!existsSync(stray), "the stray temporary is removed on start");
    assert.equal(JSON.parse(last.stdout).last_val_loss, JSON.parse(trainOut.stdout).last_val_loss);
    assertSameTraining(dir, trainDir);
    assert.deepEqual(leftovers(ROOT).filter((p) => p.startsWith("train-killed")), []);
  },
});

Deno.test({
  name: "faults: kill -9 an ablation inside a checkpoint write, after training and after " +
    "evaluation, then rerun: the lone run's results.jsonl",
  ...opts,
  fn: async () => {
    const { results } = await baselines();
    const root = join(ROOT, "ablate-killed");
    const runs = join(root, "ablations", "_runs");
    assertKilled(await run(ablateArgs(root, "--jobs", "1"), "checkpoint-write@2"), "ablate 1");
    assertKilled(await run(ablateArgs(root, "--jobs", "1"), "run-trained@1"), "ablate 2");
    assertKilled(await run(ablateArgs(root, "--jobs", "1"), "run-evaluated@2"), "ablate 3");
    // The first run finished in the third invocation, the second was evaluated but not recorded.
    const done = readdirSync(runs).filter((d) => existsSync(join(runs, d, "result.json")));
    assert.equal(done.length, 1, `finished runs: ${done}`);
    const again = await run(ablateArgs(root, "--jobs", "1"));
    assertOk(again, "the rerun ablation");
    assert.equal(
      readFileSync(join(root, "ablations", "expz_faults", "results.jsonl"), "utf8"),
      results,
    );
    assert.deepEqual(leftovers(root), []);
  },
});

/** A child whose stderr is read as it comes (`text()` so far), and its whole output at the end. */
function watch(c: Deno.ChildProcess): { text: () => string; done: Promise<Out> } {
  const dec = new TextDecoder();
  let err = "";
  const errDone = (async () => {
    for await (const chunk of c.stderr) err += dec.decode(chunk, { stream: true });
  })();
  const done = (async () => {
    const [out] = await Promise.all([
      new Response(c.stdout).text(),
      errDone,
    ]);
    const st = await c.status;
    return { pid: c.pid, code: st.code, signal: st.signal, stdout: out, stderr: err };
  })();
  return { text: () => err, done };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

Deno.test({
  name: "faults: two ablations of one study at once write the lone run's results; one waits",
  ...opts,
  fn: async () => {
    const { results } = await baselines();
    const root = join(ROOT, "concurrent");
    // A stops inside each run (after training, holding the run's lock) until `release` exists,
    // so B is known to meet a held lock, however slowly either process starts.
    const release = join(ROOT, "concurrent-release");
    const a = watch(
      spawn(ablateArgs(root, "--jobs", "2"), "", {
        FAULT_STALL: "run-trained@1",
        FAULT_RELEASE: release,
      }),
    );
    assert.ok(await until(() => /\[pool\] 2\/2 /.test(a.text()), 120_000), a.text());
    const b = watch(spawn(ablateArgs(root, "--jobs", "1")));
    const met = await until(() => /waiting for /.test(a.text() + b.text()), 90_000);
    Deno.writeTextFileSync(release, "");
    const [oa, ob] = await Promise.all([a.done, b.done]);
    assert.ok(met, "neither ablation waited for the other:\n" + oa.stderr + ob.stderr);
    assertOk(oa, "ablation A");
    assertOk(ob, "ablation B");
    assert.equal(
      readFileSync(join(root, "ablations", "expz_faults", "results.jsonl"), "utf8"),
      results,
    );
    assert.match(oa.stderr + ob.stderr, /reused after waiting for pid \d+ on host /);
    assert.deepEqual(leftovers(root), []);
  },
});

Deno.test({
  name: "faults: --no-wait stops at once naming the holder (train and ablate)",
  ...opts,
  fn: async () => {
    const { trainDir, loneRoot } = await baselines();
    const dir = join(ROOT, "held");
    copyDir(trainDir, dir);
    const lock = await acquireLock(dir, { log: () => {} });
    try {
      const t = await run(trainArgs(dir, "--resume", "--no-wait"));
      assert.notEqual(t.code, 0);
      assert.match(t.stderr, new RegExp(`in use by pid ${Deno.pid} on host `));
    } finally {
      lock.release();
    }
    const root = join(ROOT, "held-study");
    copyDir(loneRoot, root);
    const runs = join(root, "ablations", "_runs");
    const first = readdirSync(runs).sort()[0];
    Deno.removeSync(join(runs, first, "result.json"));
    const l2 = await acquireLock(join(runs, first), { log: () => {} });
    try {
      const o = await run(ablateArgs(root, "--jobs", "1", "--no-wait"));
      assert.equal(o.code, 1, o.stderr);
      assert.match(o.stderr, new RegExp(`FAILED: run .*${first} is in use by pid ${Deno.pid}`));
    } finally {
      l2.release();
    }
  },
});

Deno.test({
  name: "faults: a flipped byte in any checkpoint file is named on load, with the retrain command",
  ...opts,
  fn: async () => {
    const { trainDir, loneRoot } = await baselines();
    await loadCheckpoint(join(trainDir, "checkpoints", "step_0000012")); // intact: loads
    for (const f of ["model.safetensors", "optim.safetensors", "state.json", "checksums.json"]) {
      for (const ck of ["step_0000012", "best"]) {
        const dir = join(ROOT, `flip-${f}-${ck}`);
        copyDir(trainDir, dir);
        const file = join(dir, "checkpoints", ck, f);
        flipByte(file);
        await assert.rejects(() => loadCheckpoint(join(dir, "checkpoints", ck)), (e: Error) => {
          assert.ok(e instanceof CheckpointError, String(e));
          assert.equal(e.file, file);
          assert.ok(e.message.includes(file), e.message);
          assert.ok(
            e.message.includes(
              `retrain with \`deno task train --config ${dir}/config.yaml --resume --run-dir ${dir} ` +
                `--data-dir ${DATA}\``,
            ),
            e.message,
          );
          return true;
        });
      }
    }
    // A study's run names the ablate command that retrains it.
    const runs = join(loneRoot, "ablations", "_runs");
    const one = join(ROOT, "flip-study-run");
    copyDir(join(runs, readdirSync(runs).sort()[0]), one);
    flipByte(join(one, "checkpoints", "step_0000010", "model.safetensors"));
    await assert.rejects(
      () => loadCheckpoint(join(one, "checkpoints", "step_0000010")),
      /model\.safetensors fails its checksum .*retrain with `deno task ablate (--run-one expz_faults|expz)/,
    );
  },
});

Deno.test({
  name: "faults: a checkpoint holding NaN (with matching checksums) is refused naming the tensor",
  ...opts,
  fn: async () => {
    const { trainDir } = await baselines();
    const ck = await loadCheckpoint(join(trainDir, "checkpoints", "step_0000012"));
    const bad = structuredClone(ck);
    bad.params["blocks.0.wqkv"].data[7] = NaN;
    const dir = join(ROOT, "nan-weights", "checkpoints", "step_0000012");
    await saveCheckpoint(dir, bad);
    await assert.rejects(() => loadCheckpoint(dir), (e: Error) => {
      assert.ok(e instanceof CheckpointError, String(e));
      assert.equal(e.file, join(dir, "model.safetensors"));
      assert.match(e.message, /non-finite value \(NaN\) in tensor 'blocks\.0\.wqkv' at index 7/);
      assert.match(e.message, /training had diverged/);
      return true;
    });
  },
});

Deno.test({
  name: "faults: a resume whose newest checkpoint is damaged falls back, loudly, and ends equal",
  ...opts,
  fn: async () => {
    const { trainDir } = await baselines();
    const dir = join(ROOT, "flip-resume");
    copyDir(trainDir, dir);
    const bad = join(dir, "checkpoints", "step_0000012", "model.safetensors");
    flipByte(bad);
    const o = await run(trainArgs(dir, "--resume"));
    assertOk(o, "the resume");
    assert.match(o.stderr, /WARNING: resume: .*fails its checksum/);
    assert.ok(o.stderr.includes(bad), o.stderr);
    assert.ok(o.stderr.includes(`falling back to ${join(dir, "checkpoints", "step_0000009")}`));
    assert.equal(JSON.parse(o.stdout).resumed_from, 9);
    assert.ok(existsSync(join(dir, "checkpoints", "step_0000012.damaged")));
    assertSameTraining(dir, trainDir);
  },
});

Deno.test({
  name: "faults: an ablation re-evaluating a run with a damaged checkpoint names it and retrains",
  ...opts,
  fn: async () => {
    const { results, loneRoot } = await baselines();
    const root = join(ROOT, "flip-study");
    copyDir(loneRoot, root);
    const runs = join(root, "ablations", "_runs");
    const first = readdirSync(runs).sort()[0];
    Deno.removeSync(join(runs, first, "result.json"));
    const bad = join(runs, first, "checkpoints", "step_0000010", "optim.safetensors");
    flipByte(bad);
    const o = await run(ablateArgs(root, "--jobs", "1"));
    assertOk(o, "the ablation");
    assert.ok(o.stderr.includes(bad), o.stderr);
    assert.equal(
      readFileSync(join(root, "ablations", "expz_faults", "results.jsonl"), "utf8"),
      results,
    );
  },
});

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN). */
function canMount(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const probe = Deno.makeTempDirSync({ prefix: "faults-mount-probe-" });
  try {
    const m = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    if (!m.success) return false;
    new Deno.Command("umount", { args: [probe] }).outputSync();
    return true;
  } catch {
    return false;
  } finally {
    Deno.removeSync(probe, { recursive: true });
  }
}

const MOUNT = canMount();

Deno.test({
  name: "faults: a full disk (3 MB tmpfs) is a clear error naming the file; no temporary file, " +
    "whole JSONL files; the run resumes when there is space" +
    (MOUNT ? "" : " (ignored: needs root that may mount a tmpfs)"),
  ignore: !MOUNT,
  ...opts,
  fn: async () => {
    const { trainDir } = await baselines();
    const mnt = join(ROOT, "tmpfs");
    Deno.mkdirSync(mnt);
    const m = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt],
    }).output();
    assert.ok(m.success, "mount -t tmpfs failed");
    try {
      // Leave room for the run's files and about one checkpoint (each is ~330 KB).
      const free = 600 * 1024;
      const filler = join(mnt, "filler");
      Deno.writeFileSync(filler, new Uint8Array(3 * 1024 * 1024 - free - 64 * 1024));
      const dir = join(mnt, "run");
      const o = await run(trainArgs(dir));
      assert.notEqual(o.code, 0, "the run should fail on the full disk");
      assert.equal(o.signal, null);
      assert.match(o.stderr, /No space left on device/);
      assert.match(o.stderr, new RegExp(`${dir}/\\S+`), "the error names a file of the run");
      assert.deepEqual(leftovers(mnt), [], "no temporary file or lock is left");
      for (const f of tree(dir).filter((p) => p.endsWith(".jsonl"))) {
        const text = readFileSync(join(dir, f), "utf8");
        assert.ok(text === "" || text.endsWith("\n"), `${f} ends inside a record`);
        parseJsonl(text, f); // every line a whole record
      }
      Deno.removeSync(filler);
      const again = await run(trainArgs(dir, "--resume"));
      assertOk(again, "the resume after freeing space");
      assertSameTraining(dir, trainDir);
      assert.ok(statSync(join(dir, "metrics.jsonl")).size > 0);
    } finally {
      await new Deno.Command("umount", { args: [mnt] }).output();
    }
  },
});

Deno.test("faults: parity reads fixture files that are symlinks", async () => {
  const dir = join(ROOT, "fixture-links");
  Deno.mkdirSync(dir);
  const name = "MiniGrid-Empty-5x5-v0.json.gz";
  Deno.symlinkSync(join(REPO_ROOT, "tests", "fixtures", "minigrid", name), join(dir, name));
  const o = await run(["cli/parity.ts", "--fixtures", dir]);
  assertOk(o, "parity over a folder of links");
  assert.match(o.stdout, /MiniGrid-Empty-5x5-v0 .* ok/);
  assert.match(o.stdout, /covered by .*: 1\//);
  Deno.symlinkSync(join(dir, "missing.json"), join(dir, "Gone-v0.json"));
  const bad = await run(["cli/parity.ts", "--fixtures", dir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Gone-v0\.json is a symlink to .*missing\.json, which cannot be read/);
});
