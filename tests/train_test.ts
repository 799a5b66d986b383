import assert from "node:assert";
import v8 from "node:v8";
import vm from "node:vm";
import { defaultDevice, init, numpy as np, tree } from "@jax-js/jax";
import { encodeInputs, inputsToDevice } from "../lib/model/transformer.ts";
import { initHostParams, paramsFromHost, paramsToHost } from "../lib/model/params.ts";
import { resolveModelConfig } from "../lib/model/model_config.ts";
import { listCheckpoints, loadCheckpoint } from "../lib/model/checkpoint.ts";
import {
  adamwUpdate,
  biasCorrections,
  encodeTargets,
  initOptState,
  lrAt,
  makeStepper,
  type MetricsRecord,
  NonFiniteLossError,
  type OptimConfig,
  readJsonl,
  targetsToDevice,
  train,
  type TrainRunConfig,
} from "../lib/train/mod.ts";
import { syntheticBatch, syntheticMask } from "../lib/testing/synthetic.ts";
import { hasBlas } from "../lib/model/blas.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
import { data, K, M, runConfig } from "./support/train_fixture.ts";

const assertEquals = (a: unknown, b: unknown, msg?: string) => assert.deepStrictEqual(a, b, msg);
await init("wasm");
defaultDevice("wasm");

/** Counts live wasm buffers by wrapping the backend's malloc/incRef/decRef. */
async function liveBufferCounter(): Promise<() => number> {
  const url = new URL(
    "../node_modules/.deno/@jax-js+jax@0.1.25/node_modules/@jax-js/jax/dist/backend-CnjgxpXq.js",
    import.meta.url,
  );
  // deno-lint-ignore no-explicit-any
  const mod: any = await import(url.href);
  const be = mod.s("wasm");
  if (!be || be.type !== "wasm") {
    throw new Error("could not reach the jax-js wasm backend for counting buffers");
  }
  if (!be.__h4count) {
    const refs = new Map<number, number>();
    const om = be.malloc.bind(be), oi = be.incRef.bind(be), od = be.decRef.bind(be);
    be.malloc = (size: number, d?: Uint8Array) => {
      const s = om(size, d);
      refs.set(s, 1);
      return s;
    };
    be.incRef = (s: number) => {
      oi(s);
      refs.set(s, (refs.get(s) ?? 0) + 1);
    };
    be.decRef = (s: number) => {
      od(s);
      const r = (refs.get(s) ?? 0) - 1;
      if (r <= 0) refs.delete(s);
      else refs.set(s, r);
    };
    be.__h4count = () => refs.size;
  }
  return be.__h4count;
}

Deno.test("lr schedule: linear warmup then cosine to min_lr", () => {
  const c: OptimConfig = {
    lr: 1,
    minLr: 0.1,
    warmupSteps: 10,
    steps: 110,
    weightDecay: 0,
    beta1: 0.9,
    beta2: 0.99,
    eps: 1e-8,
    clipNorm: 1,
  };
  assert(Math.abs(lrAt(c, 0) - 0.1) < 1e-12);
  assert(Math.abs(lrAt(c, 9) - 1) < 1e-12);
  assert(Math.abs(lrAt(c, 10) - 1) < 1e-12);
  assert(Math.abs(lrAt(c, 60) - 0.55) < 1e-12);
  assert(Math.abs(lrAt(c, 110) - 0.1) < 1e-12);
  assert(Math.abs(lrAt(c, 500) - 0.1) < 1e-12);
});

Deno.test({
  name: "AdamW update matches a host reference (clipping, decay only on matrices)",
  ...opts,
  fn: async () => {
    const mc = resolveModelConfig({ size: "tiny" }, { length: 2, mission_len: 1 });
    const hp = initHostParams(mc, 1), hg = initHostParams(mc, 2);
    const c: OptimConfig = {
      lr: 0.01,
      minLr: 0,
      warmupSteps: 0,
      steps: 10,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.98,
      eps: 1e-8,
      clipNorm: 0.5,
    };
    const params = paramsFromHost(mc, hp), grads = paramsFromHost(mc, hg);
    const opt = initOptState(params);
    const [bc1, bc2] = biasCorrections(c, 0);
    const r = adamwUpdate(c, params, grads, opt, np.array(0.01), np.array(bc1), np.array(bc2));
    const newP = await paramsToHost(r.params);
    const gnorm = (await r.gnorm.data())[0];
    let sq = 0;
    for (const t of Object.values(hg)) for (const x of t.data) sq += x * x;
    assert(Math.abs(gnorm - Math.sqrt(sq)) / Math.sqrt(sq) < 1e-4);
    const scale = Math.min(1, 0.5 / Math.sqrt(sq));
    for (const name of ["tok", "blocks.0.ln1", "blocks.1.wqkv", "head"]) {
      const decay = name === "blocks.1.wqkv" || name === "head";
      for (let i = 0; i < 5; i++) {
        const g = hg[name].data[i] * scale, p = hp[name].data[i];
        const m = 0.1 * g * bc1, v = 0.02 * g * g * bc2;
        const want = p - 0.01 * (m / (Math.sqrt(v) + 1e-8) + (decay ? 0.1 * p : 0));
        assert(
          Math.abs(newP[name].data[i] - want) < 1e-5,
          `${name}[${i}]: ${newP[name].data[i]} vs ${want}`,
        );
      }
    }
    tree.dispose([r.params, r.opt]);
  },
});

Deno.test({
  name: "grad accumulation over two identical micro-batches equals one fused step",
  ...opts,
  fn: async () => {
    const mc = resolveModelConfig({ size: "tiny" }, { length: K, mission_len: M });
    const c: OptimConfig = {
      lr: 0.01,
      minLr: 0,
      warmupSteps: 0,
      steps: 10,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.98,
      eps: 1e-8,
      clipNorm: 1,
    };
    const st = makeStepper(mc, c, { obj: 1, color: 1, state: 0.5, dir: 1, action: 2 });
    const batch = syntheticBatch(4, K, M, 3), mask = syntheticMask(batch, 0.4, 3);
    const dev = () => ({
      inputs: inputsToDevice(mc, encodeInputs(mc, batch, mask)),
      targets: targetsToDevice(encodeTargets(batch, mask, "mean"), 4, K),
    });
    const host = initHostParams(mc, 4);
    const p1 = paramsFromHost(mc, host), p2 = paramsFromHost(mc, host);
    const a = st.step(p1, initOptState(p1), 0, [dev()]);
    const b = st.step(p2, initOptState(p2), 0, [dev(), dev()]);
    const la = (await a.loss.data())[0], lb = (await b.loss.data())[0];
    assert(Math.abs(la - lb) < 1e-5, `${la} vs ${lb}`);
    const ha = await paramsToHost(a.params), hb = await paramsToHost(b.params);
    let md = 0;
    for (const k of Object.keys(ha)) {
      for (let i = 0; i < ha[k].data.length; i++) {
        md = Math.max(md, Math.abs(ha[k].data[i] - hb[k].data[i]));
      }
    }
    assert(md < 1e-5, `max param diff ${md}`);
    tree.dispose([a.params, a.opt, b.params, b.opt]);
    st.dispose();
  },
});

Deno.test({
  name: "tiny model learns: training and validation loss fall; metrics and checkpoints written",
  ...opts,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const logs: MetricsRecord[] = [];
    const r = await train(runConfig({ steps: 60 }), {
      ...data(),
      runDir: dir,
      onLog: (x) => logs.push(x),
    });
    assertEquals(r.step, 60);
    const first = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert(last < 0.8 * first, `loss did not fall: ${first} -> ${last}`);
    const vals = logs.filter((x) => x.kind === "val");
    assertEquals(vals.map((v) => v.step), [0, 20, 40, 60]);
    assert(vals[3].loss < 0.85 * vals[0].loss, `val loss ${vals[0].loss} -> ${vals[3].loss}`);
    const recs = await readJsonl<MetricsRecord>(`${dir}/metrics.jsonl`);
    const tr = recs.filter((x) => x.kind === "train");
    assertEquals(tr.map((x) => x.step), [10, 20, 30, 40, 50, 60]);
    for (const k of ["loss", "acc", "lr", "grad_norm", "tokens_per_s", "mask_rate"] as const) {
      assert(Number.isFinite(tr[0][k]), `metrics field ${k} missing`);
    }
    assert(Math.abs(tr[0].mask_rate - 0.3) < 0.05, `mask rate ${tr[0].mask_rate}`);
    assertEquals(Object.keys(tr[0].loss_heads).sort(), ["action", "color", "dir", "obj", "state"]);
    assertEquals((await listCheckpoints(dir)).map((c) => c.step), [40, 60]);
    const best = await loadCheckpoint(`${dir}/checkpoints/best`);
    assertEquals(best.state.step, r.best!.step);
    tree.dispose(r.params);
  },
});

Deno.test({
  name: "resume is exact: losses after resuming equal an uninterrupted run",
  ...opts,
  fn: async () => {
    const cfg = runConfig({ steps: 16, ckpt_every: 8, eval_every: 8, log_every: 4 });
    const a = await train(cfg, { ...data(), runDir: await Deno.makeTempDir() });
    tree.dispose(a.params);
    const dir = await Deno.makeTempDir();
    const b1 = await train(cfg, { ...data(), runDir: dir, stopAtStep: 8 });
    assert(b1.interrupted);
    assertEquals(b1.step, 8);
    tree.dispose(b1.params);
    // Without --resume a populated run directory is refused.
    await assert.rejects(() => train(cfg, { ...data(), runDir: dir }), /--resume/);
    const b2 = await train(cfg, { ...data(), runDir: dir, resume: true });
    assertEquals(b2.startStep, 8);
    assertEquals(b2.losses, a.losses.slice(8));
    assertEquals(b1.losses, a.losses.slice(0, 8));
    const recs = await readJsonl<MetricsRecord>(`${dir}/metrics.jsonl`);
    assertEquals(recs.filter((x) => x.kind === "train").map((x) => x.step), [4, 8, 12, 16]);
    tree.dispose(b2.params);
  },
});

Deno.test({
  name: "non-finite loss stops with a message naming the step and the last good checkpoint",
  ...opts,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const cfg = runConfig({
      steps: 20,
      lr: 1e36,
      warmup_steps: 0,
      clip_norm: 0,
      ckpt_every: 1,
      eval_every: 0,
    });
    let err: unknown = null;
    try {
      await train(cfg, { ...data(), runDir: dir });
    } catch (e) {
      err = e;
    }
    assert(err instanceof NonFiniteLossError, `expected NonFiniteLossError, got ${err}`);
    const msg = (err as Error).message;
    assert(/training stopped at step \d+/.test(msg), msg);
    const cks = await listCheckpoints(dir);
    const s = (err as NonFiniteLossError).step;
    if (cks.length) {
      assert(msg.includes(cks[cks.length - 1].dir), msg);
      assertEquals(cks[cks.length - 1].step, s - 1);
    } else assert(msg.includes("No checkpoint"), msg);
  },
});

Deno.test({
  name: "no growth: live buffers and RSS equal after step 10 and step 200 (tiny)",
  ...opts,
  fn: async () => {
    const live = await liveBufferCounter();
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const dir = await Deno.makeTempDir();
    const at: Record<number, { live: number; rss: number }> = {};
    const r = await train(
      runConfig({
        steps: Number(Deno.env.get("H4_STEPS") ?? 210),
        eval_every: 50,
        ckpt_every: 100,
        log_every: 10,
      }),
      {
        ...data(4),
        runDir: dir,
        onLog: (x) => {
          if (x.kind !== "train") return;
          const n = live();
          gc(); // measure memory that is still reachable, not garbage waiting for V8's next major GC
          at[x.step] = { live: n, rss: Deno.memoryUsage().rss / 2 ** 20 };
        },
      },
    );
    tree.dispose(r.params);
    const a = at[10], b = at[200];
    console.log(Object.entries(at).map(([k, v]) => `${k}:${v.live}/${v.rss.toFixed(0)}`).join(" "));
    console.log(
      `live buffers step10=${a.live} step200=${b.live}; rss MiB step10=${
        a.rss.toFixed(1)
      } step200=${b.rss.toFixed(1)}`,
    );
    // A count taken mid-pipeline is off when a worker frees or allocates a buffer late (seen
    // both ways, by up to ~30 on a loaded machine: 180, 150, 175 at steps 10-30, then 182-185
    // from step 40 on); a leak raises every later count, so even the smallest of the five late
    // counts would exceed the largest of the five early ones, which reach the steady state.
    const counts = (lo: number, hi: number) =>
      Object.entries(at).filter(([k]) => +k >= lo && +k <= hi).map(([, v]) => v.live);
    const early = Math.max(...counts(10, 50)), late = Math.min(...counts(170, 210));
    assert(
      late <= early,
      `live buffers grew: max ${early} (steps 10-50) -> min ${late} (steps 170-210)`,
    );
    assert(b.rss - a.rss < 25, `RSS grew by ${(b.rss - a.rss).toFixed(1)} MiB from step 10 to 200`);
  },
});

Deno.test("a batch that cannot fit in the wasm device's memory gets a clear error with a suggestion", async () => {
  const { checkFitsInMemory } = await import("../lib/train/errors.ts");
  const base = resolveModelConfig({ size: "base" }, { length: 4, mission_len: 12 });
  checkFitsInMemory(base, 8);
  assert.throws(
    () => checkFitsInMemory(base, 128),
    (e: Error) =>
      /train\.batch_size=128/.test(e.message) && /grad_accum/.test(e.message) &&
      /GiB/.test(e.message),
  );
});

Deno.test({
  name: "every masking strategy trains through runTraining (real tokenizer, batches and masks)",
  ...opts,
  fn: async () => {
    const { runTraining } = await import("../lib/train/run.ts");
    const { tokenizeEpisodes } = await import("../lib/data/tokenize.ts");
    const { syntheticEpisodes } = await import("../lib/testing/synthetic.ts");
    const { STRATEGIES } = await import("../lib/masking/mod.ts");
    const window = { length: 3, stride: 1, mission_len: 8 };
    const datasets = {
      train: tokenizeEpisodes(syntheticEpisodes(12, 10, 1), window),
      val: tokenizeEpisodes(syntheticEpisodes(4, 10, 2), window),
    };
    for (const strategy of new Set(STRATEGIES)) {
      const base = runConfig({
        steps: 3,
        eval_every: 3,
        eval_batches: 1,
        log_every: 1,
        ckpt_every: 3,
      });
      const cfg = {
        ...base,
        window,
        data: { dataset: "synthetic" },
        masking: { strategy },
        train: {
          ...base.train,
          loss: strategy === "any_order" ? "elbo" as const : "mean" as const,
        },
      };
      const r = await runTraining(cfg, {
        runDir: await Deno.makeTempDir(),
        datasets,
        progress: false,
      });
      assertEquals(r.step, 3);
      assert(r.losses.every(Number.isFinite), `${strategy}: ${r.losses}`);
      assert(
        r.lastVal && Number.isFinite(r.lastVal.loss),
        `${strategy}: no finite validation loss`,
      );
      tree.dispose(r.params);
    }
  },
});

// ---- Validation comparable across variants, and curves over training (issue 15, item 6)

/** A runTraining config on synthetic windows (real tokenizer, batches and masks). */
async function syntheticRun(
  masking: Record<string, unknown>,
  train: Partial<TrainRunConfig["train"]>,
) {
  const { tokenizeEpisodes } = await import("../lib/data/tokenize.ts");
  const { syntheticEpisodes } = await import("../lib/testing/synthetic.ts");
  const window = { length: 3, stride: 1, mission_len: 8 };
  const base = runConfig(train);
  return {
    cfg: { ...base, window, data: { dataset: "synthetic" }, masking },
    datasets: {
      train: tokenizeEpisodes(syntheticEpisodes(12, 10, 1), window),
      val: tokenizeEpisodes(syntheticEpisodes(4, 10, 2), window),
    },
  };
}

Deno.test({
  name:
    "validation: every run logs the shared any-order ELBO on the same masks beside its own loss",
  ...opts,
  fn: async () => {
    const { runTraining } = await import("../lib/train/run.ts");
    const train = { steps: 4, eval_every: 2, eval_batches: 2, log_every: 2, ckpt_every: 4 };
    const vals: Record<string, MetricsRecord[]> = {};
    for (
      const [name, masking, loss] of [
        ["cell", { strategy: "cell", ratio: 0.15 }, "mean"],
        ["any_order", { strategy: "any_order" }, "elbo"],
        ["sft", { strategy: "next_action" }, "mean"],
      ] as const
    ) {
      const { cfg, datasets } = await syntheticRun(masking, { ...train, loss });
      const dir = await Deno.makeTempDir();
      const r = await runTraining(cfg, { runDir: dir, datasets, progress: false });
      tree.dispose(r.params);
      vals[name] = (await readJsonl<MetricsRecord>(`${dir}/metrics.jsonl`)).filter((x) =>
        x.kind === "val"
      );
      assertEquals(vals[name].map((v) => v.step), [0, 2, 4]);
      // The best checkpoint is chosen by the shared ELBO (comparable across steps and runs)
      // among the validations after a step (step 0 is the initialisation, never a candidate).
      const after = vals[name].slice(1), elbos = after.map((v) => v.val_elbo!);
      assertEquals(r.best!.loss, Math.min(...elbos));
      assertEquals(r.best!.step, after[elbos.indexOf(Math.min(...elbos))].step);
      for (const v of vals[name]) {
        for (
          const k of [
            "loss",
            "val_elbo",
            "next_frame_cell_acc",
            "next_frame_changed_acc",
            "next_action_acc",
            "mask_rate",
          ] as const
        ) assert(Number.isFinite(v[k]), `${name} step ${v.step}: ${k} = ${v[k]}`);
      }
    }
    // Same initial parameters, same validation windows: the shared figures agree exactly at
    // step 0 while each run's own objective differs.
    const at0 = (n: string) => vals[n][0];
    for (const n of ["any_order", "sft"]) {
      assertEquals(at0(n).val_elbo, at0("cell").val_elbo);
      assertEquals(at0(n).next_frame_cell_acc, at0("cell").next_frame_cell_acc);
      assertEquals(at0(n).next_action_acc, at0("cell").next_action_acc);
      assert(at0(n).loss !== at0("cell").loss, `${n}: own loss equals cell's`);
    }
    assertEquals(at0("cell").mask_nominal, 0.15);
    assertEquals(at0("any_order").mask_nominal, (1 + 0.001) / 2);
    assertEquals(at0("sft").mask_nominal, null);
    // A fixed-ratio run keeps its own validation masks: the same measured rate every time.
    const rates = vals.cell.map((v) => v.mask_rate);
    assert(rates.every((x) => x === rates[0]), `cell val mask rates ${rates}`);
  },
});

Deno.test({
  name: "scheduled run: the logged mask rate (nominal and measured) rises over training",
  ...opts,
  fn: async () => {
    const { runTraining } = await import("../lib/train/run.ts");
    const masking = {
      strategy: "scheduled",
      mask_dir_action: true,
      schedule: { base: "cell", from: 0.1, to: 0.6, over: 20, unit: "step", shape: "linear" },
    };
    const { cfg, datasets } = await syntheticRun(masking, {
      steps: 20,
      eval_every: 10,
      eval_batches: 2,
      log_every: 5,
      ckpt_every: 20,
    });
    const dir = await Deno.makeTempDir();
    const r = await runTraining(cfg, { runDir: dir, datasets, progress: false });
    tree.dispose(r.params);
    const recs = await readJsonl<MetricsRecord>(`${dir}/metrics.jsonl`);
    const tr = recs.filter((x) => x.kind === "train"), val = recs.filter((x) => x.kind === "val");
    assertEquals(tr.map((x) => x.step), [5, 10, 15, 20]);
    // Train records: nominal = mean of the schedule over the interval's steps (0-4, 5-9, ...).
    const want = [2, 7, 12, 17].map((s) => 0.1 + 0.5 * (s / 20));
    tr.forEach((x, i) =>
      assert(Math.abs(x.mask_nominal! - want[i]) < 1e-12, `step ${x.step}: ${x.mask_nominal}`)
    );
    for (let i = 1; i < tr.length; i++) {
      assert(tr[i].mask_rate > tr[i - 1].mask_rate, `measured train rate fell at ${tr[i].step}`);
    }
    for (const x of tr) {
      assert(Math.abs(x.mask_rate - x.mask_nominal!) < 0.05, `step ${x.step}: ${x.mask_rate}`);
    }
    // Val records: the run's own validation masks follow the schedule at the validation's step.
    assertEquals(val.map((x) => x.step), [0, 10, 20]);
    assertEquals(val.map((x) => x.mask_nominal), [0.1, 0.35, 0.6]);
    for (let i = 1; i < val.length; i++) {
      assert(
        val[i].mask_rate > val[i - 1].mask_rate + 0.1,
        `val rates ${val.map((x) => x.mask_rate)}`,
      );
    }
  },
});

Deno.test({
  name:
    "shared validation ELBO: t strata over windows, the 1/t-weighted cross-entropy of the hidden slots, per scorable slot",
  ...opts,
  fn: async () => {
    const { UNIT_HEAD_WEIGHTS } = await import("../lib/testing/synthetic.ts");
    const { commonValidation, scoreCommonValidation, VAL_ELBO_TS, jaxEngine } = await import(
      "../lib/train/mod.ts"
    );
    const { splitLogits } = await import("../lib/model/decode.ts");
    const { ACTION_NONE, CELLS } = await import("../lib/data/types.ts");
    const mc = resolveModelConfig({ size: "tiny" }, { length: K, mission_len: M });
    const batches = [syntheticBatch(6, K, M, 7), syntheticBatch(6, K, M, 8)];
    const cv = commonValidation(mc, batches);
    assertEquals(cv.elbo.length, batches.length);
    // Window b of batch i is masked at t = VAL_ELBO_TS[(b + i) % 4]; the masks depend only on
    // the batches (a second build gives the same bytes).
    assertEquals(Array.from(cv.elbo[1].rowT), [0.375, 0.625, 0.875, 0.125, 0.375, 0.625]);
    assertEquals(commonValidation(mc, batches).elbo[0].mask, cv.elbo[0].mask);
    assertEquals(VAL_ELBO_TS, [0.125, 0.375, 0.625, 0.875]);
    const p = initHostParams(mc, 3);
    const optim = runConfig().train;
    const { optimConfigFrom } = await import("../lib/train/optim.ts");
    const engine = jaxEngine(mc, optimConfigFrom(optim), UNIT_HEAD_WEIGHTS, {
      params: p,
      m: p,
      v: p,
    });
    try {
      const got = await scoreCommonValidation(engine, cv);
      // Reference: softmax cross-entropy of every hidden slot from the logits, weighted 1/t;
      // "none" actions (episode ends) are not decisions: neither scored nor counted.
      const lse = (x: Float32Array, o: number, V: number, y: number) => {
        let mx = -Infinity;
        for (let v = 0; v < V; v++) mx = Math.max(mx, x[o + v]);
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(x[o + v] - mx);
        return Math.log(z) + mx - x[o + y];
      };
      let sum = 0, slots = 0;
      for (const [i, e] of cv.elbo.entries()) {
        const batch = batches[i];
        assert(batch === e.batch);
        const lg = splitLogits(batch.B, batch.K, await engine.logits(e.inputs));
        const m = e.mask;
        for (let f = 0; f < batch.B * batch.K; f++) {
          if (!batch.frameValid[f]) continue;
          let ce = 0;
          for (let c = 0; c < CELLS; c++) {
            for (
              const [a, x, V] of [[0, lg.obj, 11], [1, lg.color, 6], [2, lg.state, 3]] as const
            ) {
              const j = (f * CELLS + c) * 3 + a;
              if (m.cells[j]) ce += lse(x, (f * CELLS + c) * V, V, batch.cells[j]);
            }
          }
          if (m.dirs[f]) ce += lse(lg.dir, f * 4, 4, batch.dirs[f]);
          if (m.actions[f] && batch.actions[f] !== ACTION_NONE) {
            ce += lse(lg.action, f * 8, 8, batch.actions[f]);
          }
          sum += ce / e.rowT[Math.floor(f / batch.K)];
        }
      }
      for (const b of batches) {
        b.frameValid.forEach((
          v,
          f,
        ) => (slots += v ? (b.actions[f] === ACTION_NONE ? 148 : 149) : 0));
      }
      assertEquals(cv.slots, slots);
      const want = sum / slots;
      assert(Math.abs(got.val_elbo - want) < 1e-4 * want, `${got.val_elbo} vs ${want}`);
      assert(got.val_elbo > 0);
    } finally {
      engine.dispose();
    }
  },
});

Deno.test({
  name: "both engines (jax-js wasm, blas) give the same shared validation figures",
  ...opts,
  ignore: !hasBlas(), // needs OpenBLAS (deno task setup installs it)
  fn: async () => {
    const { UNIT_HEAD_WEIGHTS } = await import("../lib/testing/synthetic.ts");
    const { commonValidation, scoreCommonValidation, makeEngine, zeroMoments } = await import(
      "../lib/train/mod.ts"
    );
    const { optimConfigFrom } = await import("../lib/train/optim.ts");
    const mc = resolveModelConfig({ size: "tiny" }, { length: K, mission_len: M });
    const optim = optimConfigFrom(runConfig().train);
    const p0 = initHostParams(mc, 5);
    // Windows of synthetic episodes: cells change and actions other than "none" are targets.
    const { fillBatch, tokenizeEpisodes } = await import("../lib/data/tokenize.ts");
    const { syntheticEpisodes } = await import("../lib/testing/synthetic.ts");
    const ds = tokenizeEpisodes(syntheticEpisodes(6, 10, 3), {
      length: K,
      stride: 1,
      mission_len: M,
    });
    const batches = [0, 8].map((o) =>
      fillBatch(ds, Array.from({ length: 8 }, (_, i) => (o + i) % ds.numWindows))
    );
    // A few wasm steps first, so the logits are not the near-uniform ones of the init.
    const jax = makeEngine("wasm", mc, optim, UNIT_HEAD_WEIGHTS, {
      params: p0,
      m: zeroMoments(p0),
      v: zeroMoments(p0),
    });
    const cv = commonValidation(mc, batches);
    let blas;
    try {
      for (let s = 0; s < 12; s++) {
        const b = fillBatch(ds, Array.from({ length: 8 }, (_, i) => (s * 5 + i) % ds.numWindows));
        const mask = syntheticMask(b, 0.3, s);
        await jax.step(s, [{
          inputs: encodeInputs(mc, b, mask),
          targets: encodeTargets(b, mask, "mean"),
          K,
        }]);
      }
      blas = makeEngine("blas", mc, optim, UNIT_HEAD_WEIGHTS, await jax.state());
      const a = await scoreCommonValidation(jax, cv), b = await scoreCommonValidation(blas, cv);
      console.log(JSON.stringify({ wasm: a, blas: b }));
      assert(
        Math.abs(a.val_elbo - b.val_elbo) < 1e-4 * a.val_elbo,
        `${a.val_elbo} vs ${b.val_elbo}`,
      );
      for (
        const k of ["next_frame_cell_acc", "next_frame_changed_acc", "next_action_acc"] as const
      ) {
        assert(
          Number.isFinite(a[k]) && Math.abs(a[k] - b[k]) < 0.02,
          `${k}: wasm ${a[k]} vs blas ${b[k]}`,
        );
      }
    } finally {
      jax.dispose();
      blas?.dispose();
    }
  },
});

Deno.test({
  name: "train records count the steps whose gradient was clipped; the report reads the count",
  ...opts,
  fn: async () => {
    const { clipRate } = await import("../lib/experiment/diagnostics.ts");
    const { clipScale } = await import("../lib/train/optim.ts");
    const run = async (clip: number, logEvery: number) => {
      const dir = await Deno.makeTempDir();
      const cfg = runConfig({ steps: 6, log_every: logEvery, eval_every: 0, clip_norm: clip });
      const r = await train(cfg, { ...data(), runDir: dir });
      tree.dispose(r.params);
      const tr = (await readJsonl<MetricsRecord>(`${dir}/metrics.jsonl`))
        .filter((x) => x.kind === "train");
      return { dir, tr };
    };
    // One step per record: clipped is 1 exactly where that step's norm is above the threshold.
    const off = await run(0, 1);
    assertEquals(off.tr.map((x) => [x.steps, x.clipped]), Array(6).fill([1, 0]));
    const norms = off.tr.map((x) => x.grad_norm!).sort((a, b) => a - b);
    const mid = (norms[2] + norms[3]) / 2; // between the norms: some steps clip, some do not
    const some = await run(mid, 1);
    for (const x of some.tr) {
      assertEquals(x.clipped, clipScale(mid, x.grad_norm!) < 1 ? 1 : 0, `step ${x.step}`);
    }
    // Three steps per record: the count is of steps, not of records.
    const all = await run(1e-6, 3);
    assertEquals(all.tr.map((x) => [x.steps, x.clipped]), [[3, 3], [3, 3]]);
    const none = await run(1e9, 3);
    assertEquals(none.tr.map((x) => [x.steps, x.clipped]), [[3, 0], [3, 0]]);
    const result = (runDir: string) => ({ runDir } as Parameters<typeof clipRate>[0]);
    assertEquals(clipRate(result(all.dir)), { rate: 1, exact: true, records: 2 });
    assertEquals(clipRate(result(none.dir)), { rate: 0, exact: true, records: 2 });
    const n = some.tr.filter((x) => x.clipped === 1).length;
    assert(n > 0 && n < 6, `a threshold between the norms clips some steps, not all: ${n} of 6`);
    assertEquals(clipRate(result(some.dir)), { rate: n / 6, exact: true, records: 6 });
  },
});
