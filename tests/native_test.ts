/**
 * The `blas` device (lib/model/native.ts) against the jax-js reference model:
 * logits, loss, per-head statistics and every gradient of `lossFn` on the wasm
 * device, and a few AdamW steps of both trainers, to float32 tolerance.
 * Skipped (reported as ignored) where OpenBLAS is not installed.
 */
import assert from "node:assert";
import { defaultDevice, init, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { hasBlas } from "../lib/model/blas.ts";
import { NativeModel, type NamedArrays, zerosLike } from "../lib/model/native.ts";
import {
  encodeInputs,
  forward,
  initHostParams,
  inputsToDevice,
  type ModelConfig,
  paramsFromHost,
  paramsToHost,
  resolveModelConfig,
} from "../lib/model/transformer.ts";
import {
  adamwUpdateHost,
  BENCH_OPTIM,
  encodeTargets,
  type HeadWeights,
  initOptState,
  lossFn,
  makeStepper,
  syntheticBatch,
  syntheticMask,
  targetsToDevice,
} from "../lib/train/mod.ts";

const ignore = !hasBlas();
const opts = { sanitizeOps: false, sanitizeResources: false, ignore };
if (!ignore) {
  await init("wasm");
  defaultDevice("wasm");
}

const K = 3, M = 5, B = 6;
const cfg: ModelConfig = resolveModelConfig(
  { size: "tiny", d_model: 32, n_heads: 4, d_ff: 48, n_layers: 2 },
  { length: K, mission_len: M },
);
const weights: HeadWeights = { obj: 1, color: 0.5, state: 2, dir: 1, action: 1.5 };

function named(seed: number): NamedArrays {
  const h = initHostParams(cfg, seed);
  // Non-trivial norm gains so their gradients are exercised.
  const out: NamedArrays = {};
  for (const [k, v] of Object.entries(h)) {
    out[k] = v.data.slice();
    if (/ln|lnf/.test(k)) for (let i = 0; i < out[k].length; i++) out[k][i] = 1 + 0.1 * Math.sin(i + seed);
  }
  return out;
}
const toHost = (p: NamedArrays) => {
  const h = initHostParams(cfg, 0);
  for (const k of Object.keys(h)) h[k].data = p[k].slice();
  return h;
};

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-12);
}

Deno.test("native: logits, loss, statistics and gradients equal the jax-js model's", opts, async () => {
  for (const [mode, seed] of [["mean", 1], ["elbo", 2]] as const) {
    const batch = syntheticBatch(B, K, M, seed);
    const mask = syntheticMask(batch, 0.4, seed, mode === "elbo");
    const p = named(seed);
    const hin = encodeInputs(cfg, batch, mask);
    const ht = encodeTargets(batch, mask, mode);
    const nat = new NativeModel(cfg, weights);
    const logitsN = nat.logits(p, hin);
    const logitsJ = new Float32Array(
      await forward(cfg, paramsFromHost(cfg, toHost(p)), inputsToDevice(cfg, hin)).data() as Float32Array,
    );
    assert.ok(maxRelErr(logitsN, logitsJ) < 1e-5, `logits rel err ${maxRelErr(logitsN, logitsJ)}`);

    const grads = zerosLike(p);
    const r = nat.run(p, hin, ht, grads);
    const vg = valueAndGrad(
      (pp, inp, t) => lossFn(cfg, weights, pp, inp, t),
      { hasAux: true },
    );
    const [[l, aux], gj] = vg(
      paramsFromHost(cfg, toHost(p)),
      inputsToDevice(cfg, hin),
      targetsToDevice(ht, B, K),
    );
    const lossJ = (await l.data())[0];
    const auxJ = await aux.data();
    assert.ok(Math.abs(r.loss - lossJ) < 1e-5 * Math.abs(lossJ), `${mode}: loss ${r.loss} vs ${lossJ}`);
    for (let i = 0; i < 10; i++) {
      assert.ok(Math.abs(r.aux[i] - auxJ[i]) <= 1e-4 * Math.max(1, Math.abs(auxJ[i])), `aux[${i}] ${r.aux[i]} vs ${auxJ[i]}`);
    }
    const gh = await paramsToHost(gj);
    tree.dispose(gj);
    for (const [name, { data }] of Object.entries(gh)) {
      const e = maxRelErr(grads[name], data);
      assert.ok(e < 2e-5, `${mode}: gradient of ${name}: max error ${e} of its largest entry`);
    }
  }
});

Deno.test("native: five AdamW steps follow the jax-js trainer's losses", opts, async () => {
  const optim = { ...BENCH_OPTIM, warmupSteps: 2, steps: 5, lr: 3e-3 };
  const p = named(7);
  const m = zerosLike(p), v = zerosLike(p);
  const nat = new NativeModel(cfg, weights);
  let params = paramsFromHost(cfg, toHost(p));
  let opt = initOptState(params);
  const stepper = makeStepper(cfg, optim, weights);
  for (let s = 0; s < 5; s++) {
    const batch = syntheticBatch(B, K, M, 100 + s);
    const mask = syntheticMask(batch, 0.3, s);
    const hin = encodeInputs(cfg, batch, mask);
    const ht = encodeTargets(batch, mask, "mean");
    const grads = zerosLike(p);
    const rn = nat.run(p, hin, ht, grads);
    const gnN = adamwUpdateHost(optim, p, grads, m, v, s);
    const out = stepper.step(params, opt, s, [{ inputs: inputsToDevice(cfg, hin), targets: targetsToDevice(ht, B, K) }]);
    params = out.params;
    opt = out.opt;
    const lossJ = (await out.loss.data())[0], gnJ = (await out.gnorm.data())[0];
    out.aux.dispose();
    assert.ok(Math.abs(rn.loss - lossJ) < 1e-4 * lossJ, `step ${s}: loss ${rn.loss} vs ${lossJ}`);
    assert.ok(Math.abs(gnN - gnJ) < 1e-3 * gnJ, `step ${s}: grad norm ${gnN} vs ${gnJ}`);
  }
  const after = await paramsToHost(params);
  for (const [name, { data }] of Object.entries(after)) {
    assert.ok(maxRelErr(p[name], data) < 1e-3, `${name} after 5 steps: ${maxRelErr(p[name], data)}`);
  }
  stepper.dispose();
});
