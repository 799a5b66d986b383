/**
 * Child process of tests/webgpu_test.ts: trains the tiny model for 4 steps on
 * `wasm` and on `webgpu` from the same init and batches, and prints one JSON
 * line `{adapter, wasm: {losses, logits}, webgpu: {...}}`. It runs apart from
 * the test runner so that the native Vulkan driver (lavapipe) is loaded and
 * torn down in its own process, never in the process that prints the summary.
 *
 *   deno run -A tests/support/webgpu_compare.ts
 */
import { defaultDevice, init, tree } from "@jax-js/jax";
import { encodeInputs, inputsToDevice } from "../../lib/model/transformer.ts";
import { initHostParams, paramsFromHost } from "../../lib/model/params.ts";
import { predict } from "../../lib/model/decode.ts";
import { resolveModelConfig } from "../../lib/model/model_config.ts";
import { hasWebGPUAdapter, selectDevice } from "../../lib/model/device.ts";
import { encodeTargets, initOptState, makeStepper, targetsToDevice } from "../../lib/train/mod.ts";
import { syntheticBatch, syntheticMask } from "../../lib/testing/synthetic.ts";

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

const adapter = await hasWebGPUAdapter();
if (!adapter) {
  console.log(JSON.stringify({ adapter: false }));
} else {
  await selectDevice("webgpu");
  await init("wasm");
  const w = await run("wasm");
  const g = await run("webgpu");
  defaultDevice("wasm");
  console.log(JSON.stringify({
    adapter: true,
    wasm: { losses: w.losses, logits: Array.from(w.logits) },
    webgpu: { losses: g.losses, logits: Array.from(g.logits) },
  }));
}
// The wasm device's worker threads keep the event loop alive: exit explicitly.
Deno.exit(0);
