/**
 * The loss modes' normalisation (lib/train/loss.ts): under `balanced`, each head's share of a
 * window's loss weight is its head weight's share, whatever its slot count; any-order windows keep
 * the 1/t weighting within each head; the traced loss equals the per-window, per-head means
 * computed here from the logits.
 */

import assert from "node:assert";
import { init } from "@jax-js/jax";
import { CELLS, type Mask } from "../lib/data/types.ts";
import { allocMask } from "../lib/masking/core.ts";
import { encodeInputs, forward, inputsToDevice } from "../lib/model/transformer.ts";
import { initHostParams, paramsFromHost } from "../lib/model/params.ts";
import { HEAD_COLS, OUT_COLS, resolveModelConfig } from "../lib/model/model_config.ts";
import { encodeTargets, HEADS, lossFn, N_HEADS, targetsToDevice } from "../lib/train/loss.ts";
import type { HeadWeights } from "../lib/config/schema.ts";
import { syntheticBatch } from "../lib/testing/synthetic.ts";

await init("wasm");

const B = 4, K = 3, M = 5;
const batch = syntheticBatch(B, K, M, 11);
batch.frameValid.fill(1);
batch.frameValid[3 * K] = 0; // window 3: one padding frame first

/** Window 0: many cells + one action; 1: only the action; 2: nothing; 3: any-order at t = 0.5. */
function testMask(): Mask {
  const m = allocMask(B, K);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < 30; c++) for (let a = 0; a < 3; a++) m.cells[((k * CELLS) + c) * 3 + a] = 1;
  }
  m.actions[K - 1] = 1;
  m.actions[1 * K + K - 1] = 1;
  // window 3 (frames 1..2 valid): a few cells, the direction of frame 2, weight 1/t
  for (let c = 0; c < 5; c++) m.cells[((3 * K + 2) * CELLS + c) * 3] = 1;
  m.dirs[3 * K + 2] = 1;
  m.weight[3] = 2;
  m.elbo = new Uint8Array(B);
  m.elbo[3] = 1;
  return m;
}

/** Sum over the hidden slots of (window b, head h) of the loss factor (its weight in the loss). */
function headMass(mask: Mask, winW: Float32Array, b: number, h: number): number {
  let hidden = 0;
  for (let k = 0; k < K; k++) {
    const f = b * K + k;
    if (!batch.frameValid[f]) continue;
    if (h < 3) { for (let c = 0; c < CELLS; c++) hidden += mask.cells[(f * CELLS + c) * 3 + h]; }
    else if (h === 3) hidden += mask.dirs[f];
    else hidden += mask.actions[f];
  }
  return hidden * winW[b * N_HEADS + h];
}

Deno.test("loss balanced: each head of a window weighs its head weight, whatever its slots", () => {
  const mask = testMask();
  const t = encodeTargets(batch, mask, "balanced");
  assert.equal(t.winW.length, B * N_HEADS);
  const windows = 3; // window 2 hides nothing
  // window 0: 90 hidden cells per attribute head and 1 action: every head gets the same mass
  for (let h = 0; h < N_HEADS; h++) {
    const want = h === 3 ? 0 : 1 / windows;
    assert.ok(
      Math.abs(headMass(mask, t.winW, 0, h) - want) < 1e-7,
      `window 0 head ${HEADS[h]}: ${headMass(mask, t.winW, 0, h)} vs ${want}`,
    );
  }
  // window 1: the action alone carries the window's whole weight (as under SFT)
  assert.ok(Math.abs(headMass(mask, t.winW, 1, 4) - 1 / windows) < 1e-7);
  for (const h of [0, 1, 2, 3]) assert.equal(headMass(mask, t.winW, 1, h), 0);
  for (let h = 0; h < N_HEADS; h++) assert.equal(t.winW[2 * N_HEADS + h], 0);
  // window 3 is an any-order window: 1/t over the head's valid slots (2 valid frames)
  assert.ok(Math.abs(t.winW[3 * N_HEADS] - 2 / windows / (2 * CELLS)) < 1e-7);
  assert.ok(Math.abs(t.winW[3 * N_HEADS + 3] - 2 / windows / 2) < 1e-7);
  // under `mean` the action's share of window 0 is its share of the hidden slots (1 of 271)
  const tm = encodeTargets(batch, mask, "mean");
  const total = 90 * 3 + 1 + 1 + 5 + 1; // every hidden slot of the batch
  assert.ok(Math.abs(headMass(mask, tm.winW, 0, 4) - 1 / total) < 1e-7);
});

Deno.test("loss balanced: the traced loss is the weighted sum of per-window head means", async () => {
  const cfg = resolveModelConfig(
    { size: "tiny", d_model: 16, n_heads: 2, d_ff: 24, n_layers: 1 },
    { length: K, mission_len: M },
  );
  const weights: HeadWeights = { obj: 1, color: 0.5, state: 2, dir: 3, action: 5 };
  const mask = testMask();
  const host = initHostParams(cfg, 3);
  const inputs = encodeInputs(cfg, batch, mask);
  const logits = new Float32Array(
    await forward(cfg, paramsFromHost(cfg, host), inputsToDevice(cfg, inputs))
      .data() as Float32Array,
  );
  const t = encodeTargets(batch, mask, "balanced");
  const [loss, aux] = lossFn(cfg, weights, paramsFromHost(cfg, host), inputsToDevice(cfg, inputs), {
    ...targetsToDevice(t, B, K),
  });
  const got = (await loss.data())[0];
  aux.dispose();
  // the same loss written out: per window, per head, mean CE over its hidden slots (the
  // any-order window: 1/t times the sum over its valid slots), weighted, summed, mean over windows
  const S = CELLS + 2;
  const ce = (row: number, head: keyof typeof HEAD_COLS, target: number) => {
    const [lo, hi] = HEAD_COLS[head];
    const o = row * OUT_COLS;
    let mx = -Infinity;
    for (let c = lo; c < hi; c++) mx = Math.max(mx, logits[o + c]);
    let z = 0;
    for (let c = lo; c < hi; c++) z += Math.exp(logits[o + c] - mx);
    return mx + Math.log(z) - logits[o + lo + target];
  };
  let want = 0, windows = 0;
  for (let b = 0; b < B; b++) {
    const sums = new Array(N_HEADS).fill(0), counts = new Array(N_HEADS).fill(0);
    const valid = new Array(N_HEADS).fill(0);
    for (let k = 0; k < K; k++) {
      const f = b * K + k;
      if (!batch.frameValid[f]) continue;
      for (let c = 0; c < CELLS; c++) {
        for (let a = 0; a < 3; a++) {
          valid[a]++;
          if (!mask.cells[(f * CELLS + c) * 3 + a]) continue;
          sums[a] += ce(f * S + c, HEADS[a] as "obj", batch.cells[(f * CELLS + c) * 3 + a]);
          counts[a]++;
        }
      }
      valid[3]++, valid[4]++;
      if (mask.dirs[f]) (sums[3] += ce(f * S + CELLS, "dir", batch.dirs[f]), counts[3]++);
      if (mask.actions[f]) {
        sums[4] += ce(f * S + CELLS + 1, "action", batch.actions[f]);
        counts[4]++;
      }
    }
    if (counts.every((c) => c === 0)) continue;
    windows++;
    for (let h = 0; h < N_HEADS; h++) {
      if (counts[h] === 0) continue;
      const norm = mask.elbo![b] ? valid[h] / mask.weight[b] : counts[h];
      want += weights[HEADS[h]] * sums[h] / norm;
    }
  }
  want /= windows;
  assert.ok(Math.abs(got - want) < 1e-4 * Math.abs(want), `loss ${got} vs ${want}`);
});
