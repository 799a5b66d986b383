/**
 * The tiny model on `webgpu` against `wasm`: same init, same batches, losses of
 * a few training steps equal to float tolerance. Runs only where a WebGPU
 * adapter exists (e.g. Debian's lavapipe: `apt-get install mesa-vulkan-drivers`);
 * otherwise the test is reported as ignored, not passed.
 */
import assert from "node:assert";
import { defaultDevice, init, tree } from "@jax-js/jax";
import {
  encodeInputs,
  initHostParams,
  inputsToDevice,
  paramsFromHost,
  predict,
  resolveModelConfig,
} from "../lib/model/transformer.ts";
import { hasWebGPUAdapter, selectDevice } from "../lib/model/device.ts";
import {
  encodeTargets,
  initOptState,
  makeStepper,
  syntheticBatch,
  syntheticMask,
  targetsToDevice,
} from "../lib/train/mod.ts";

const adapter = await hasWebGPUAdapter();
if (!adapter) {
  console.log(
    "webgpu_test: no WebGPU adapter; the wasm/webgpu comparison is IGNORED (install mesa-vulkan-drivers for lavapipe)",
  );
}

const K = 2, M = 4, B = 4;
const cfg = resolveModelConfig({ size: "tiny" }, { length: K, mission_len: M });
const optim = {
  lr: 3e-3,
  minLr: 3e-4,
  warmupSteps: 2,
  steps: 4,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.98,
  eps: 1e-8,
  clipNorm: 1,
};
const weights = { obj: 1, color: 1, state: 1, dir: 1, action: 1 };

async function run(device: "wasm" | "webgpu"): Promise<{ losses: number[]; logits: Float32Array }> {
  defaultDevice(device);
  const host = initHostParams(cfg, 0);
  let params = paramsFromHost(cfg, host);
  let opt = initOptState(params);
  const st = makeStepper(cfg, optim, weights);
  const losses: number[] = [];
  for (let s = 0; s < 4; s++) {
    const batch = syntheticBatch(B, K, M, s), mask = syntheticMask(batch, 0.3, s);
    const out = st.step(params, opt, s, [{
      inputs: inputsToDevice(cfg, encodeInputs(cfg, batch, mask)),
      targets: targetsToDevice(encodeTargets(batch, mask, "mean"), B, K),
    }]);
    params = out.params;
    opt = out.opt;
    losses.push((await out.loss.data())[0]);
    out.gnorm.dispose();
    out.aux.dispose();
  }
  const vb = syntheticBatch(B, K, M, 99);
  const logits = (await predict(params, cfg, vb, syntheticMask(vb, 0.3, 99))).obj;
  tree.dispose([params, opt]);
  st.dispose();
  return { losses, logits };
}

Deno.test({
  name: "webgpu trains the tiny model with the same losses as wasm (float tolerance)",
  ignore: !adapter,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await selectDevice("webgpu");
    await init("wasm");
    const w = await run("wasm");
    const g = await run("webgpu");
    console.log(
      `wasm losses ${w.losses.map((x) => x.toFixed(6))}; webgpu ${
        g.losses.map((x) => x.toFixed(6))
      }`,
    );
    for (let i = 0; i < w.losses.length; i++) {
      const rel = Math.abs(w.losses[i] - g.losses[i]) / Math.abs(w.losses[i]);
      assert(rel < 1e-3, `step ${i}: wasm ${w.losses[i]} vs webgpu ${g.losses[i]} (rel ${rel})`);
    }
    let md = 0;
    for (let i = 0; i < w.logits.length; i++) {
      md = Math.max(md, Math.abs(w.logits[i] - g.logits[i]));
    }
    assert(md < 5e-3, `logits differ by ${md}`);
    defaultDevice("wasm");
  },
});

Deno.test({
  name: "webgpu without an adapter fails with a clear error naming how to get one",
  ignore: adapter,
  fn: async () => {
    await assert.rejects(() => selectDevice("webgpu"), /mesa-vulkan-drivers/);
  },
});
