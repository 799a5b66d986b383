/** Run directories: layout, contents, atomic files, metrics, lookup by hash. */
import { hasBlas } from "../lib/model/blas.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import {
  appendMetrics,
  configHash,
  createRunDir,
  findRunDir,
  findRunDirs,
  loadConfig,
  readMetrics,
  resolveConfig,
  runTimestamp,
} from "../lib/experiment/mod.ts";

const CELL = decodeURIComponent(
  new URL("../configs/experiments/cell_masking.yaml", import.meta.url).pathname,
);

Deno.test("createRunDir writes runs/<experiment>/<timestamp>-<hash>/ with config, hash, env, metrics", () => {
  const root = Deno.makeTempDirSync({ prefix: "h3runs_" });
  try {
    const cfg = loadConfig(CELL, { profile: "smoke", overrides: ["seed=7"] });
    const time = new Date("2026-01-02T03:04:05.678Z");
    const run = createRunDir(cfg, { root, time });
    const hash = configHash(cfg);
    assert.equal(run.path, join(root, "cell_masking", `20260102T030405Z-${hash}`));
    assert.equal(runTimestamp(time), "20260102T030405Z");
    const names = [...Deno.readDirSync(run.path)].map((e) => e.name).sort();
    assert.deepEqual(names, ["config.hash", "config.yaml", "env.json", "metrics.jsonl"]);
    assert.equal(Deno.readTextFileSync(join(run.path, "config.hash")).trim(), hash);
    // the written config is the resolved one and resolves to the same hash
    const text = Deno.readTextFileSync(join(run.path, "config.yaml"));
    assert.match(text, new RegExp(`hash: ${hash}`));
    const back = resolveConfig(parseYaml(text), "config.yaml");
    assert.deepEqual(back, cfg);
    assert.equal(configHash(back), hash);
    const env = JSON.parse(Deno.readTextFileSync(join(run.path, "env.json")));
    assert.equal(env.deno, Deno.version.deno);
    assert.equal(env.seed, 7);
    // train.device auto: the device that trains, and OpenBLAS's build when that is blas
    assert.equal(env.backend, hasBlas() ? "blas" : "wasm");
    if (env.backend === "blas") assert.match(env.blas, /OpenBLAS/);
    else assert.equal(env.blas, null);
    assert.match(env.jax, /^\d+\.\d+\.\d+/);
    assert.equal(env.config_hash, hash);
    assert.ok(env.cpus >= 1);
    assert.ok(typeof env.hostname === "string");
    assert.ok(env.git_commit === null || /^[0-9a-f]{40}(-dirty)?$/.test(env.git_commit));
    // same config, same second: a second directory, never shared
    const run2 = createRunDir(cfg, { root, time });
    assert.equal(run2.path, run.path + "-2");
    // no temp files left behind
    assert.ok(![...Deno.readDirSync(run.path)].some((e) => e.name.endsWith(".tmp")));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("metrics.jsonl: append and read back; a torn last line is skipped", () => {
  const root = Deno.makeTempDirSync({ prefix: "h3runs_" });
  try {
    const cfg = loadConfig(CELL, { profile: "smoke" });
    const run = createRunDir(cfg, { root });
    assert.deepEqual(readMetrics(run), []);
    appendMetrics(run, { step: 1, loss: 2.5 });
    appendMetrics(run.path, { step: 2, loss: 2.0 }, { step: 2, split: "val", loss: 2.1 });
    Deno.writeTextFileSync(run.metricsPath, '{"step": 3, "lo', { append: true });
    assert.deepEqual(readMetrics(run), [
      { step: 1, loss: 2.5 },
      { step: 2, loss: 2.0 },
      { step: 2, split: "val", loss: 2.1 },
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("findRunDir finds the newest run of a config by hash, and only that config", () => {
  const root = Deno.makeTempDirSync({ prefix: "h3runs_" });
  try {
    const a = loadConfig(CELL, { profile: "smoke" });
    const b = loadConfig(CELL, { profile: "smoke", overrides: ["masking.ratio=0.5"] });
    assert.equal(findRunDir(a, root), null);
    const old = createRunDir(a, { root, time: new Date("2026-01-01T00:00:00Z") });
    const neu = createRunDir(a, { root, time: new Date("2026-01-03T00:00:00Z") });
    createRunDir(b, { root, time: new Date("2026-01-05T00:00:00Z") });
    assert.equal(findRunDir(a, root), neu.path);
    assert.deepEqual(findRunDirs(a.name, configHash(a), root), [neu.path, old.path]);
    assert.equal(findRunDirs(b.name, configHash(b), root).length, 1);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
