/**
 * Unit-level strategies (lib/masking/units.ts), stratified any-order t, the any-order weight cap
 * and context dropping (lib/masking/core.ts dropContext).
 */

import assert from "node:assert";
import { ACTION_NONE, type Batch, CELLS, type Mask } from "../lib/data/types.ts";
import { drawMask, dropContext, maskCounts } from "../lib/masking/mod.ts";
import { syntheticBatch } from "../lib/testing/synthetic.ts";

const K = 4, M = 3;

/** A left-padded batch (valid frames are each row's suffix), as the tokenizer builds them. */
function leftPadded(B: number, seed: number): Batch {
  const b = syntheticBatch(B, K, M, seed);
  for (let r = 0; r < B; r++) {
    const valid = 1 + (r % K); // 1..K valid frames
    for (let k = 0; k < K; k++) b.frameValid[r * K + k] = k >= K - valid ? 1 : 0;
  }
  return b;
}

/** Per frame: how many of its 147 cell attributes and its direction are hidden. */
function obsHidden(mask: Mask, f: number): number {
  let n = mask.dirs[f];
  for (let i = 0; i < CELLS * 3; i++) n += mask.cells[f * CELLS * 3 + i];
  return n;
}

const ctx = (step: number) => ({ step, epoch: 0, seed: 5, batchIndex: 0 });

Deno.test("unit: never hides part of a frame's observation, at least one unit per window", () => {
  let wholeObs = 0, actions = 0;
  for (let step = 0; step < 40; step++) {
    const batch = leftPadded(16, step);
    const mask = drawMask({ strategy: "unit", ratio: 0.25 }, batch, ctx(step));
    for (let r = 0; r < batch.B; r++) {
      let units = 0;
      for (let k = 0; k < K; k++) {
        const f = r * K + k;
        const h = obsHidden(mask, f);
        assert.ok(
          h === 0 || h === CELLS * 3 + 1,
          `frame ${f}: ${h} of 148 observation slots hidden`,
        );
        if (!batch.frameValid[f]) assert.equal(h + mask.actions[f], 0, "padding hidden");
        if (h) (wholeObs++, units++);
        if (mask.actions[f]) (actions++, units++);
      }
      assert.ok(units >= 1, `window ${r} hides no unit`);
    }
  }
  // both kinds of unit are drawn, at similar rates
  assert.ok(wholeObs > 100 && actions > 100, `obs ${wholeObs}, actions ${actions}`);
  assert.ok(Math.abs(wholeObs - actions) < 0.25 * (wholeObs + actions));
});

Deno.test("unit_action: never hides an observation, hides actions with ratio p", () => {
  let hidden = 0, valid = 0;
  for (let step = 0; step < 40; step++) {
    const batch = leftPadded(16, 100 + step);
    const mask = drawMask({ strategy: "unit_action", ratio: 0.4 }, batch, ctx(step));
    const c = maskCounts(mask, batch);
    assert.equal(c.cellAttrs, 0);
    assert.equal(c.dirs, 0);
    for (let r = 0; r < batch.B; r++) {
      let n = 0;
      for (let k = 0; k < K; k++) n += mask.actions[r * K + k];
      assert.ok(n >= 1, `window ${r} hides no action`);
    }
    hidden += c.actions;
    valid += c.validFrames;
  }
  // p = 0.4 plus the at-least-one rule on 1-frame windows
  const rate = hidden / valid;
  assert.ok(rate > 0.4 && rate < 0.55, `action rate ${rate}`);
});

Deno.test("mtm: every unit after the drawn position hidden, the decision query in action mode", () => {
  let decisions = 0, frames = 0;
  for (let step = 0; step < 40; step++) {
    const batch = leftPadded(16, 200 + step);
    const mask = drawMask(
      { strategy: "mtm", mtm: { action_share: 0.75, past_ratio: 0 } },
      batch,
      ctx(step),
    );
    for (let r = 0; r < batch.B; r++) {
      const valid = [...Array(K).keys()].filter((k) => batch.frameValid[r * K + k]);
      // the first frame with a hidden action is r; after it everything is hidden, before it nothing
      const first = valid.findIndex((k) => mask.actions[r * K + k] === 1);
      assert.ok(first >= 0, `window ${r}: no hidden action`);
      for (const [i, k] of valid.entries()) {
        const f = r * K + k, h = obsHidden(mask, f);
        if (i < first) assert.equal(h + mask.actions[f], 0, `window ${r}: past frame ${k} hidden`);
        if (i > first) assert.equal(h + mask.actions[f], CELLS * 3 + 2);
        if (i === first) {
          assert.ok(h === 0 || h === CELLS * 3 + 1);
          if (h === 0) decisions++;
          else frames++;
        }
      }
    }
  }
  const share = decisions / (decisions + frames);
  assert.ok(share > 0.68 && share < 0.82, `action-mode share ${share}`);
});

Deno.test("any_order: stratified t spans the batch, weights capped at the slot count", () => {
  const B = 32;
  const batch = leftPadded(B, 7);
  batch.frameValid.fill(1);
  const strat = drawMask({ strategy: "any_order", t_sampling: "stratified" }, batch, ctx(3));
  // window b's t lies in the b-th stratum: its weight 1/t in [B/(b+1), B/b]
  for (let b = 1; b < B; b++) {
    const t = 1 / strat.weight[b];
    assert.ok(t >= b / B - 1e-3 && t <= (b + 1) / B + 1e-3, `window ${b}: t ${t}`);
    assert.equal(strat.elbo![b], 1);
  }
  const slots = K * (CELLS + 2);
  for (let step = 0; step < 50; step++) {
    const m = drawMask({ strategy: "any_order", eps: 0.001 }, batch, ctx(step));
    for (let b = 0; b < B; b++) assert.ok(m.weight[b] <= slots + 1e-3, `weight ${m.weight[b]}`);
  }
});

Deno.test("dropContext: keeps the last n + 1 valid frames, the rest become padding", () => {
  const batch = leftPadded(8, 9);
  const out = dropContext(batch, 1);
  for (let r = 0; r < batch.B; r++) {
    const valid = [...Array(K).keys()].filter((k) => batch.frameValid[r * K + k]);
    const kept = valid.slice(-2);
    for (let k = 0; k < K; k++) {
      const j = r * K + k;
      assert.equal(out.frameValid[j], kept.includes(k) ? 1 : 0);
      if (kept.includes(k)) {
        assert.equal(out.actions[j], batch.actions[j]);
        assert.equal(out.cells[j * CELLS * 3 + 4], batch.cells[j * CELLS * 3 + 4]);
      } else if (valid.includes(k)) {
        assert.equal(out.actions[j], ACTION_NONE);
        assert.equal(out.cells[j * CELLS * 3 + 4], 0);
      }
    }
  }
  assert.equal(batch.frameValid.filter((v) => v).length, 20, "input unchanged");
  // forward dynamics over the dropped context scores only the last frame's (O, A) -> O'
  const mask = drawMask({ strategy: "forward_dynamics" }, out, ctx(0));
  assert.equal(maskCounts(mask, out).validFrames, 14);
});
