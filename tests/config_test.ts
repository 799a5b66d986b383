/**
 * Config loader: extends chains, merge semantics, profiles, typed overrides,
 * and every error case (message names file, line:col and key path; the CLI
 * exits 2 and writes nothing).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  applyOverrides,
  ConfigError,
  configHash,
  deepMerge,
  loadAblation,
  loadConfig,
  modelDims,
  parseConfigText,
  resolveConfig,
  SCHEMA,
  schemaDefault,
  type SchemaNode,
} from "../lib/experiment/mod.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);

const TMP_DIRS: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of TMP_DIRS) Deno.removeSync(d, { recursive: true });
});

/** Writes files into a fresh temp dir (removed when the tests end); returns its path. */
function tmpFiles(files: Record<string, string>): string {
  const dir = Deno.makeTempDirSync({ prefix: "h3cfg_" });
  TMP_DIRS.push(dir);
  for (const [name, text] of Object.entries(files)) {
    Deno.mkdirSync(join(dir, name, ".."), { recursive: true });
    Deno.writeTextFileSync(join(dir, name), text);
  }
  return dir;
}

/** Runs `fn`, expects a ConfigError; returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail("expected a ConfigError");
}

/** Asserts the message names `file:line:col` and the key path. */
function assertWhere(e: ConfigError, file: string, line: number, col: number, key: string) {
  assert.ok(
    e.message.includes(`${file}:${line}:${col}`),
    `expected ${file}:${line}:${col} in:\n${e.message}`,
  );
  assert.ok(e.message.includes(key), `expected key ${key} in:\n${e.message}`);
  assert.equal(e.loc.line, line);
  assert.equal(e.loc.col, col);
}

const PARENT = `name: parent
seed: 1
data:
  envs: [BabyAI-GoToRedBall-v0, BabyAI-GoToObj-v0]
  episodes: {train: 20, val: 5, test: 5}
train:
  lr: 0.002
  head_weights: {obj: 2, action: 3}
profiles:
  smoke:
    train: {steps: 7}
`;

Deno.test("extends chain: maps merge key by key, lists replace, child wins", () => {
  const dir = tmpFiles({
    "a/parent.yaml": PARENT,
    "b/mid.yaml": "extends: ../a/parent.yaml\ntrain: {batch_size: 8}\n",
    "c/child.yaml": `extends: ../b/mid.yaml
name: child
data:
  envs: [BabyAI-GoToLocal-v0]
train:
  head_weights: {obj: 5}
`,
  });
  const cfg = loadConfig(join(dir, "c/child.yaml"), { profile: null });
  assert.equal(cfg.name, "child");
  assert.equal(cfg.seed, 1); // from the grandparent
  assert.deepEqual(cfg.data.envs, ["BabyAI-GoToLocal-v0"]); // list replaced, not concatenated
  assert.deepEqual(cfg.data.episodes, { train: 20, val: 5, test: 5 });
  assert.equal(cfg.train.lr, 0.002);
  assert.equal(cfg.train.batch_size, 8);
  // nested map merged: obj from child, action from parent, the rest schema defaults
  assert.deepEqual(cfg.train.head_weights, { obj: 5, color: 1, state: 1, dir: 1, action: 3 });
  assert.equal(cfg.train.steps, 2000); // no profile applied
  assert.equal(cfg.profile, null);
  assert.ok(!("extends" in cfg) && !("profiles" in cfg));
});

Deno.test("deepMerge: maps merge, lists and scalars replace, inputs untouched", () => {
  const a = { x: { y: 1, z: [1, 2, 3] }, k: 1 };
  const b = { x: { z: [9] }, k: null };
  const m = deepMerge(a, b);
  assert.deepEqual(m, { x: { y: 1, z: [9] }, k: null });
  assert.deepEqual(a, { x: { y: 1, z: [1, 2, 3] }, k: 1 });
});

Deno.test("profiles: the file's profile, an explicit one, and none", () => {
  const dir = tmpFiles({ "p.yaml": PARENT + "profile: smoke\n" });
  assert.equal(loadConfig(join(dir, "p.yaml")).train.steps, 7);
  assert.equal(loadConfig(join(dir, "p.yaml"), { profile: null }).train.steps, 2000);
  const viaSet = loadConfig(join(dir, "p.yaml"), { overrides: ["profile=full"] });
  assert.equal(viaSet.profile, "full");
  assert.equal(viaSet.train.steps, 2000); // full overlay not defined here: nothing applied
});

Deno.test("{profile} in data.dataset names one dataset per profile", () => {
  const cfg = loadConfig(join(REPO, "configs/experiments/cell_masking.yaml"), { profile: "smoke" });
  assert.equal(cfg.data.dataset, "gotoredball-smoke");
});

Deno.test("overrides are typed by the schema (CLI strings and records)", () => {
  const dir = tmpFiles({ "p.yaml": PARENT });
  const cfg = loadConfig(join(dir, "p.yaml"), {
    profile: null,
    overrides: [
      "train.lr=3e-4",
      "masking.mask_dir_action=false",
      "data.dataset=123",
      "model.d_model=64",
      "data.max_steps=null",
      "eval.elbo_ts=[0.2, 0.4]",
      "data.test_envs=BabyAI-GoToLocal-v0,BabyAI-GoToObj-v0",
      "masking.mixture.1.weight=2",
    ],
  });
  assert.equal(cfg.train.lr, 3e-4);
  assert.equal(cfg.masking.mask_dir_action, false);
  assert.equal(cfg.data.dataset, "123"); // string target stays a string
  assert.equal(cfg.model.d_model, 64);
  assert.equal(cfg.data.max_steps, null);
  assert.deepEqual(cfg.eval.elbo_ts, [0.2, 0.4]);
  assert.deepEqual(cfg.data.test_envs, ["BabyAI-GoToLocal-v0", "BabyAI-GoToObj-v0"]);
  assert.equal(cfg.masking.mixture[1].weight, 2);
  assert.equal(cfg.masking.mixture[0].weight, 0.5);
  const rec = loadConfig(join(dir, "p.yaml"), {
    profile: null,
    overrides: { "train.batch_size": "12", "masking.strategy": "attribute", "seed": 5 },
  });
  assert.equal(rec.train.batch_size, 12);
  assert.equal(rec.masking.strategy, "attribute");
  assert.equal(rec.seed, 5);
  // `set` is an alias (cli/collect.ts passes it)
  assert.equal(loadConfig(join(dir, "p.yaml"), { set: ["seed=9"] }).seed, 9);
});

Deno.test("applyOverrides re-validates a resolved config; configHash is stable and key-order free", () => {
  const cfg = loadConfig(join(REPO, "configs/experiments/cell_masking.yaml"));
  const again = loadConfig(join(REPO, "configs/experiments/cell_masking.yaml"));
  assert.equal(configHash(cfg), configHash(again));
  assert.match(configHash(cfg), /^[0-9a-f]{12}$/);
  const reordered = Object.fromEntries(Object.entries(cfg).reverse());
  assert.equal(configHash(reordered), configHash(cfg));
  const c2 = applyOverrides(cfg, { "masking.ratio": 0.5 });
  assert.equal(c2.masking.ratio, 0.5);
  assert.equal(cfg.masking.ratio, 0.3); // input untouched
  assert.notEqual(configHash(c2), configHash(cfg));
  // resolving a resolved config is the identity
  assert.deepEqual(applyOverrides(cfg, {}), cfg);
  assert.throws(() => applyOverrides(cfg, ["masking.ratio=2"]), /masking\.ratio/);
});

Deno.test("model presets fill the sizes; explicit keys override", () => {
  const tiny = resolveConfig({ model: { size: "tiny" } }, "<t>", { profile: null });
  assert.deepEqual(modelDims(tiny.model), { d_model: 32, n_layers: 2, n_heads: 2, d_ff: 64 });
  const small = resolveConfig({}, "<t>", { profile: null });
  assert.deepEqual(modelDims(small.model), { d_model: 128, n_layers: 4, n_heads: 4, d_ff: 512 });
  const custom = resolveConfig({ model: { size: "base", d_ff: 100 } }, "<t>", { profile: null });
  assert.equal(modelDims(custom.model).d_ff, 100);
  assert.equal(modelDims(custom.model).d_model, 192);
});

Deno.test("schema defaults equal configs/base.yaml (without profile)", () => {
  const base = loadConfig(join(REPO, "configs/base.yaml"), { profile: null });
  const defaults = resolveConfig(
    { ...(schemaDefault(SCHEMA) as Record<string, unknown>), name: "base" },
    "<defaults>",
    { profile: null },
  );
  assert.deepEqual(base, defaults);
});

Deno.test("error: malformed YAML names file, line and column", () => {
  const dir = tmpFiles({ "bad.yaml": "name: x\ntrain:\n  lr: [1, 2\n  steps: 3\n" });
  const e = configError(() => loadConfig(join(dir, "bad.yaml")));
  assert.match(e.message, /bad\.yaml:\d+:\d+: invalid YAML/);
  const dup = tmpFiles({ "dup.yaml": "seed: 1\nseed: 2\n" });
  const e2 = configError(() => loadConfig(join(dup, "dup.yaml")));
  assert.match(e2.message, /dup\.yaml:2:1: invalid YAML/);
});

Deno.test("error: missing extends target points at the extends line", () => {
  const dir = tmpFiles({ "c.yaml": "name: c\nextends: nowhere/parent.yaml\n" });
  const e = configError(() => loadConfig(join(dir, "c.yaml")));
  assertWhere(e, "c.yaml", 2, 10, "extends");
  assert.match(e.message, /nowhere\/parent\.yaml: file not found/);
});

Deno.test("error: extends cycle shows the cycle", () => {
  const dir = tmpFiles({
    "a.yaml": "extends: b.yaml\n",
    "b.yaml": "seed: 1\nextends: c.yaml\n",
    "c.yaml": "extends: a.yaml\n",
  });
  const e = configError(() => loadConfig(join(dir, "a.yaml")));
  assertWhere(e, "c.yaml", 1, 10, "extends");
  assert.match(e.message, /a\.yaml -> .*b\.yaml -> .*c\.yaml -> .*a\.yaml/);
  const self = tmpFiles({ "s.yaml": "extends: s.yaml\n" });
  assert.match(configError(() => loadConfig(join(self, "s.yaml"))).message, /cycle/);
});

Deno.test("error: unknown key with a did-you-mean hint, in the file that has it", () => {
  const dir = tmpFiles({
    "p.yaml": PARENT,
    "c.yaml": "extends: p.yaml\ntrain:\n  lr: 0.1\n  batchsize: 4\n",
  });
  const e = configError(() => loadConfig(join(dir, "c.yaml")));
  assertWhere(e, "c.yaml", 4, 3, "train.batchsize");
  assert.match(e.message, /did you mean 'train\.batch_size'/);
  const e2 = configError(() =>
    parseConfigText("masking:\n  strategy: cell\ntrain:\n  ratio: 0.2\n", "x.yaml")
  );
  assertWhere(e2, "x.yaml", 4, 3, "train.ratio");
  assert.match(e2.message, /did you mean 'masking\.ratio'/);
  const e3 = configError(() => parseConfigText("trian: {lr: 1}\n", "y.yaml"));
  assertWhere(e3, "y.yaml", 1, 1, "trian");
  assert.match(e3.message, /did you mean 'train'/);
});

Deno.test("error: wrong type names the value's position and what is expected", () => {
  const e = configError(() => parseConfigText("seed: 0\ntrain:\n  steps: lots\n", "t.yaml"));
  assertWhere(e, "t.yaml", 3, 10, "train.steps");
  assert.match(e.message, /expected an integer >= 1, got "lots"/);
  const e2 = configError(() => parseConfigText("masking: {strategy: cel}\n", "s.yaml"));
  assertWhere(e2, "s.yaml", 1, 21, "masking.strategy");
  assert.match(e2.message, /one of cell \| attribute/);
  assert.match(e2.message, /did you mean 'cell'/);
  const e3 = configError(() => parseConfigText("data: [1]\n", "d.yaml"));
  assertWhere(e3, "d.yaml", 1, 7, "data");
});

Deno.test("error: out-of-range values (mask ratio 1.5)", () => {
  const e = configError(() => parseConfigText("masking:\n  ratio: 1.5\n", "r.yaml"));
  assertWhere(e, "r.yaml", 2, 10, "masking.ratio");
  assert.match(e.message, /1\.5 is out of range: expected a number in \[0, 1\]/);
  const e2 = configError(() => parseConfigText("model: {size: tiny, n_heads: 3}\n", "m.yaml"));
  assertWhere(e2, "m.yaml", 1, 30, "model.n_heads");
  assert.match(e2.message, /not divisible/);
  const e3 = configError(() =>
    parseConfigText("data:\n  envs: [BabyAI-GoToRedBal-v0]\n", "e.yaml")
  );
  assertWhere(e3, "e.yaml", 2, 10, "data.envs.0");
  assert.match(e3.message, /did you mean 'BabyAI-GoToRedBall-v0'/);
});

Deno.test("error: a bad value inside a profile is reported even when that profile is not selected", () => {
  const e = configError(() =>
    parseConfigText("profile: quick\nprofiles:\n  smoke:\n    train: {stepz: 3}\n", "pr.yaml")
  );
  assertWhere(e, "pr.yaml", 4, 13, "profiles.smoke.train.stepz");
  assert.match(e.message, /did you mean 'train\.steps'/);
  const e2 = configError(() => parseConfigText("profiles:\n  quik: {}\n", "pq.yaml"));
  assertWhere(e2, "pq.yaml", 2, 3, "profiles.quik");
});

Deno.test("error: a value from the selected profile points into the profile", () => {
  const e = configError(() =>
    parseConfigText("profile: smoke\nprofiles:\n  smoke:\n    masking: {ratio: 2}\n", "ps.yaml")
  );
  assert.match(
    e.message,
    /^ps\.yaml:4:22: profiles\.smoke\.masking\.ratio: 2 is out of range[^\n]*$/,
  );
});

Deno.test("error: bad --set path or value names the override", () => {
  const dir = tmpFiles({ "p.yaml": PARENT });
  const f = join(dir, "p.yaml");
  const e1 = configError(() => loadConfig(f, { overrides: ["train.lrr=1"] }));
  assert.match(
    e1.message,
    /^--set train\.lrr=1: train\.lrr: unknown key 'train\.lrr' \(did you mean 'train\.lr'\?\)/,
  );
  const e2 = configError(() => loadConfig(f, { overrides: ["train.lr=fast"] }));
  assert.match(e2.message, /--set train\.lr=fast: train\.lr: expected a number > 0, got "fast"/);
  const e3 = configError(() => loadConfig(f, { overrides: ["masking.ratio=1.5"] }));
  assert.match(e3.message, /--set masking\.ratio=1\.5: masking\.ratio: 1\.5 is out of range/);
  const e4 = configError(() => loadConfig(f, { overrides: ["train.lr"] }));
  assert.match(e4.message, /expected key=value/);
  const e5 = configError(() => loadConfig(f, { overrides: ["train.lr.x=1"] }));
  assert.match(e5.message, /train\.lr.*has no key 'x'/);
  const e6 = configError(() => loadConfig(f, { overrides: { "masking.strategy": "celll" } }));
  assert.match(e6.message, /override masking\.strategy: masking\.strategy: expected one of/);
});

Deno.test("error: missing top-level file", () => {
  const e = configError(() => loadConfig("/nonexistent/dir/x.yaml"));
  assert.match(e.message, /x\.yaml: cannot read config: file not found/);
});

Deno.test("loadAblation: variants resolved and validated against the experiment schema", () => {
  const dir = tmpFiles({
    "exp/base.yaml": PARENT,
    "abl/a.yaml": `ablation: t
title: test
base: ../exp/base.yaml
seeds: 3
baseline: lo
variants:
  - {name: lo, set: {masking.ratio: 0.1}}
  - {name: hi, set: {masking.ratio: "0.9", train.loss: elbo}}
`,
    "abl/bad.yaml": `ablation: t
base: ../exp/base.yaml
baseline: lo
variants:
  - {name: lo, set: {masking.ratio: 0.1}}
  - {name: hi, set: {masking.ratoi: 0.9}}
`,
    "abl/range.yaml": `ablation: t
base: ../exp/base.yaml
baseline: lo
variants:
  - name: lo
    set:
      masking.ratio: 1.5
`,
    "abl/nobase.yaml": "ablation: t\nbase: ../nope.yaml\nbaseline: a\nvariants: [{name: a}]\n",
    "abl/baseline.yaml":
      "ablation: t\nbase: ../exp/base.yaml\nbaseline: zz\nvariants: [{name: a}]\n",
  });
  const a = loadAblation(join(dir, "abl/a.yaml"), { profile: "smoke" });
  assert.equal(a.seeds, 3);
  assert.equal(a.baseline, "lo");
  assert.deepEqual(a.variants.map((v) => v.name), ["lo", "hi"]);
  assert.equal(a.variants[0].config.masking.ratio, 0.1);
  assert.equal(a.variants[1].config.masking.ratio, 0.9); // string typed by the schema
  assert.equal(a.variants[1].config.train.loss, "elbo");
  assert.equal(a.variants[1].config.train.steps, 7); // smoke profile of the base
  assert.equal(a.variants[0].hash, configHash(a.variants[0].config));
  const e = configError(() => loadAblation(join(dir, "abl/bad.yaml")));
  assertWhere(e, "bad.yaml", 6, 22, "masking.ratoi");
  assert.match(e.message, /did you mean 'masking\.ratio'/);
  const e2 = configError(() => loadAblation(join(dir, "abl/range.yaml")));
  assertWhere(e2, "range.yaml", 7, 22, "masking.ratio");
  const e3 = configError(() => loadAblation(join(dir, "abl/nobase.yaml")));
  assertWhere(e3, "nobase.yaml", 2, 7, "base");
  const e4 = configError(() => loadAblation(join(dir, "abl/baseline.yaml")));
  assertWhere(e4, "baseline.yaml", 3, 11, "baseline");
});

Deno.test("deno task config: exit 0 with the resolved config, exit 2 with the error, nothing written", async () => {
  // A fresh clone has no runs/ folder: that is an empty listing, and must stay one.
  const runsNow = () => {
    try {
      return [...Deno.readDirSync(join(REPO, "runs"))].map((e) => e.name).sort();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
  };
  const runsBefore = runsNow();
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(REPO, "cli/config.ts"), ...args],
      cwd: REPO,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  const ok = await run("configs/experiments/cell_masking.yaml", "--set", "train.lr=3e-4");
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /lr: 0\.0003/);
  assert.match(ok.stdout, /# hash: [0-9a-f]{12}/);
  const bad = await run("configs/experiments/cell_masking.yaml", "--set", "masking.ratio=1.5");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /masking\.ratio: 1\.5 is out of range/);
  const dir = tmpFiles({
    "u.yaml": "extends: " + join(REPO, "configs/base.yaml") + "\ntrain: {lrr: 1}\n",
  });
  const unk = await run(join(dir, "u.yaml"));
  assert.equal(unk.code, 2);
  assert.match(unk.stderr, /u\.yaml:2:9: train\.lrr: unknown key \(did you mean 'train\.lr'\?\)/);
  const abl = await run("configs/ablations/exp1_mask_ratio.yaml", "--profile", "smoke");
  assert.equal(abl.code, 0, abl.stderr);
  assert.match(abl.stdout, /cell_p015 +[0-9a-f]{12}/);
  const runsAfter = runsNow();
  assert.deepEqual(runsAfter, runsBefore);
});

Deno.test("precedence: a key in the user's file beats the profile of the file it extends", () => {
  const dir = tmpFiles({
    "exp.yaml": `extends: ${
      join(REPO, "configs/base.yaml")
    }\nname: mine\ntrain: { lr: 0.5, steps: 77 }\n`,
  });
  const f = join(dir, "exp.yaml");
  for (const profile of [undefined, "quick", "smoke", "full"] as const) {
    const cfg = loadConfig(f, profile === undefined ? {} : { profile });
    assert.equal(cfg.train.lr, 0.5, `profile ${profile}: train.lr`);
    assert.equal(cfg.train.steps, 77, `profile ${profile}: train.steps`);
    // keys the user did not write still come from the profile
    if (profile !== "full") assert.equal(cfg.model.size, "tiny");
    if (profile !== "full") assert.equal(cfg.train.min_lr, 0.0003);
  }
  // --set beats both
  const viaSet = loadConfig(f, { overrides: ["train.steps=5"], profile: "smoke" });
  assert.equal(viaSet.train.steps, 5);
  assert.equal(viaSet.train.lr, 0.5);
});

Deno.test("precedence: defaults < profile < the user's files (each with its own profiles) < --set", () => {
  const dir = tmpFiles({
    "base.yaml": `name: b
train: { lr: 0.001, steps: 1000, batch_size: 32 }
eval: { finetune_demos: [0, 10] }
profiles:
  quick:
    train: { lr: 0.003, steps: 800, batch_size: 16 }
    eval: { decode_steps: 2 }
`,
    "mid.yaml": `extends: base.yaml
train: { steps: 300 }
eval: { finetune_demos: [0, 10, 50] }
profiles:
  quick:
    eval: { finetune_demos: [0, 5] }
`,
    "leaf.yaml": "extends: mid.yaml\ntrain: { batch_size: 8 }\n",
  });
  const cfg = loadConfig(join(dir, "leaf.yaml"), { profile: "quick" });
  assert.equal(cfg.train.lr, 0.003); // base default < base's quick profile
  assert.equal(cfg.train.steps, 300); // base's quick profile < mid.yaml's own key
  assert.equal(cfg.train.batch_size, 8); // < leaf.yaml's own key
  assert.deepEqual(cfg.eval.finetune_demos, [0, 5]); // mid's key < mid's own quick profile
  assert.equal(cfg.eval.decode_steps, 2);
  const full = loadConfig(join(dir, "leaf.yaml"), { profile: "full" });
  assert.deepEqual(full.eval.finetune_demos, [0, 10, 50]);
  assert.equal(full.train.lr, 0.001);
  const set = loadConfig(join(dir, "leaf.yaml"), {
    profile: "quick",
    overrides: ["eval.finetune_demos=[1]", "train.lr=0.01"],
  });
  assert.deepEqual(set.eval.finetune_demos, [1]);
  assert.equal(set.train.lr, 0.01);
});

Deno.test("error: an out-of-range key in the user's file is reported there, whatever the profile", () => {
  const dir = tmpFiles({
    "exp.yaml": `extends: ${join(REPO, "configs/base.yaml")}\nname: mine\ntrain:\n  lr: -1\n`,
  });
  for (const profile of ["quick", "smoke", "full"]) {
    const e = configError(() => loadConfig(join(dir, "exp.yaml"), { profile }));
    assertWhere(e, "exp.yaml", 4, 7, "train.lr");
    assert.match(e.message, /train\.lr: -1 is out of range: expected a number > 0/);
  }
});

Deno.test("every numeric key has a range; steps >= 1, learning rates > 0, probabilities in [0, 1]", () => {
  type Node = SchemaNode;
  const numeric: string[] = [];
  const walk = (n: Node, path: string) => {
    if (n.kind === "nullable") return walk(n.inner, path);
    if (n.kind === "array") return walk(n.item, `${path}.0`);
    if (n.kind === "object") {
      for (const [k, f] of Object.entries(n.fields)) walk(f, path ? `${path}.${k}` : k);
      return;
    }
    if (n.kind !== "number") return;
    numeric.push(path);
    assert.ok(n.min !== undefined || n.gt !== undefined, `${path}: no lower bound`);
  };
  walk(SCHEMA, "");
  assert.ok(numeric.length > 40, `${numeric.length} numeric keys`);
  const bad: [string, string][] = [
    ["train.steps=0", "train.steps: 0 is out of range: expected an integer >= 1"],
    ["train.lr=0", "train.lr: 0 is out of range: expected a number > 0"],
    ["train.min_lr=-0.1", "train.min_lr: -0.1 is out of range"],
    ["train.batch_size=0", "train.batch_size: 0 is out of range"],
    ["train.warmup_steps=-1", "train.warmup_steps: -1 is out of range"],
    ["train.beta2=1", "train.beta2: 1 is out of range"],
    ["data.epsilon=1.5", "data.epsilon: 1.5 is out of range: expected a number in [0, 1]"],
    ["masking.schedule.to=-0.1", "masking.schedule.to: -0.1 is out of range"],
    ["eval.robustness_q=[0.2,1.2]", "eval.robustness_q.1: 1.2 is out of range"],
    ["eval.closed_loop.episodes=-1", "eval.closed_loop.episodes: -1 is out of range"],
    ["data.episodes.train=2.5", "data.episodes.train: 2.5 is out of range: expected an integer"],
  ];
  for (const [set, msg] of bad) {
    const e = configError(() => resolveConfig({}, "<t>", { profile: null, overrides: [set] }));
    assert.ok(e.message.startsWith(`--set ${set}: ${msg}`), `${set}:\n${e.message}`);
  }
});
