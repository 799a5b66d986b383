import assert from "node:assert/strict";
import { fillBatch, tokenizeEpisodes } from "../lib/data/tokenize.ts";
import { syntheticEpisodes } from "../lib/testing/synthetic.ts";
import { ATTRS, type Batch, CELLS, type Mask, MASK_ID } from "../lib/data/types.ts";
import {
  applyEvalMask,
  DEFAULT_MASKING,
  drawMask,
  hideObservedCells,
  maskCounts,
  maskedInput,
  type MaskingConfig,
  maskRate,
  scheduledRatio,
  STRATEGIES,
} from "../lib/masking/mod.ts";

// 600 episodes of 1..7 frames with K = 4: many windows start with padding (left-padded).
const ds = tokenizeEpisodes(syntheticEpisodes(600, 7, 1), {
  length: 4,
  stride: 1,
  mission_len: 12,
});
const all: Batch = fillBatch(ds, Array.from({ length: ds.numWindows }, (_, i) => i));
const { B, K } = all;
const ctx = { step: 5, epoch: 2, seed: 9, batchIndex: 3 };
const cfg = (over: Partial<MaskingConfig>): MaskingConfig => ({ ...DEFAULT_MASKING, ...over });

function lastValid(b: number): number {
  let k = K - 1;
  while (!all.frameValid[b * K + k]) k--;
  return k;
}

function hiddenInRow(m: Mask, b: number): number {
  let n = 0;
  for (let i = b * K * CELLS * ATTRS; i < (b + 1) * K * CELLS * ATTRS; i++) n += m.cells[i];
  for (let k = 0; k < K; k++) n += m.dirs[b * K + k] + m.actions[b * K + k];
  return n;
}

function assertNoPaddingHidden(m: Mask, name: string): void {
  for (let j = 0; j < B * K; j++) {
    if (all.frameValid[j]) continue;
    assert.equal(m.dirs[j] + m.actions[j], 0, `${name}: padding dir/action hidden`);
    for (let i = j * CELLS * ATTRS; i < (j + 1) * CELLS * ATTRS; i++) {
      assert.equal(m.cells[i], 0, `${name}: padding cell hidden`);
    }
  }
}

function assertCellsWhole(m: Mask, name: string): void {
  for (let i = 0; i < m.cells.length; i += 3) {
    const s = m.cells[i] + m.cells[i + 1] + m.cells[i + 2];
    assert.ok(s === 0 || s === 3, `${name}: cell ${i / 3} has ${s} of 3 attributes hidden`);
  }
}

Deno.test("masking: every strategy hides no padding and at least one slot per window", () => {
  assert.ok(all.frameValid.some((v) => v === 0), "the test batch has padding");
  for (const strategy of STRATEGIES) {
    for (const ratio of [1e-6, 0.3, 1]) {
      const m = drawMask(cfg({ strategy, ratio }), all, ctx);
      assertNoPaddingHidden(m, strategy);
      for (let b = 0; b < B; b++) {
        assert.ok(hiddenInRow(m, b) >= 1, `${strategy} p=${ratio}: row ${b} empty`);
      }
    }
  }
});

Deno.test("masking: empirical rates of cell and attribute masking match p", () => {
  for (const strategy of ["cell", "attribute"] as const) {
    for (const ratio of [0.15, 0.3, 0.5]) {
      const m = drawMask(cfg({ strategy, ratio }), all, ctx);
      const rate = maskRate(m, all);
      assert.ok(Math.abs(rate - ratio) < 0.01, `${strategy} p=${ratio}: rate ${rate}`);
      const c = maskCounts(m, all);
      assert.ok(Math.abs(c.dirs / c.validFrames - ratio) < 0.03, `${strategy}: dir rate`);
      assert.ok(Math.abs(c.actions / c.validFrames - ratio) < 0.03, `${strategy}: action rate`);
    }
  }
  const noDA = drawMask(cfg({ strategy: "cell", ratio: 0.3, mask_dir_action: false }), all, ctx);
  const c = maskCounts(noDA, all);
  assert.equal(c.dirs + c.actions, 0);
  assert.ok(Math.abs(c.cells / (c.validFrames * CELLS) - 0.3) < 0.01);
});

Deno.test("masking: cell masking always hides object, colour and state together; attribute does not", () => {
  for (const strategy of ["cell", "scheduled", "any_order", "forward_dynamics"] as const) {
    assertCellsWhole(drawMask(cfg({ strategy, ratio: 0.4 }), all, ctx), strategy);
  }
  assertCellsWhole(
    applyEvalMask(all, { kind: "random_cells", ratio: 0.3 }, { seed: 1, batchIndex: 0 }),
    "eval",
  );
  const attr = drawMask(cfg({ strategy: "attribute", ratio: 0.4 }), all, ctx);
  let partial = 0;
  for (let i = 0; i < attr.cells.length; i += 3) {
    const s = attr.cells[i] + attr.cells[i + 1] + attr.cells[i + 2];
    if (s === 1 || s === 2) partial++;
  }
  assert.ok(
    partial > 1000,
    `attribute masking hides attributes separately (${partial} partial cells)`,
  );
});

Deno.test("masking: next_action (SFT) hides exactly the last valid action and nothing else", () => {
  const m = drawMask(cfg({ strategy: "next_action" }), all, ctx);
  assert.equal(m.cells.reduce((a, v) => a + v, 0), 0, "no cell hidden");
  assert.equal(m.dirs.reduce((a, v) => a + v, 0), 0, "no direction hidden");
  for (let b = 0; b < B; b++) {
    assert.equal(lastValid(b), K - 1, "left padding: the current frame is slot K-1");
    for (let k = 0; k < K; k++) assert.equal(m.actions[b * K + k], k === K - 1 ? 1 : 0);
    assert.equal(m.weight[b], 1);
  }
  // the model input never shows the target
  const inp = maskedInput(all, m);
  for (let b = 0; b < B; b++) {
    const j = b * K + lastValid(b);
    assert.equal(inp.actions[j], MASK_ID.action);
  }
});

Deno.test("masking: forward and inverse dynamics hide exactly their targets", () => {
  const fd = drawMask(cfg({ strategy: "forward_dynamics" }), all, ctx);
  const inv = drawMask(cfg({ strategy: "inverse_dynamics" }), all, ctx);
  for (let b = 0; b < B; b++) {
    const last = lastValid(b);
    for (let k = 0; k < K; k++) {
      const j = b * K + k;
      const o = j * CELLS * ATTRS;
      const cellsHidden = fd.cells.subarray(o, o + CELLS * ATTRS).reduce((a, v) => a + v, 0);
      assert.equal(cellsHidden, k === last ? CELLS * ATTRS : 0);
      assert.equal(fd.dirs[j], k === last ? 1 : 0);
      assert.equal(fd.actions[j], k === last ? 1 : 0); // the target frame's action is hidden too
      // the action before the last frame; a one-frame window (left padding) falls back to its own
      const target = last >= 1 && all.frameValid[b * K + last - 1] ? last - 1 : last;
      assert.equal(inv.actions[j], k === target ? 1 : 0);
      assert.equal(inv.dirs[j], 0);
    }
  }
  assert.equal(inv.cells.reduce((a, v) => a + v, 0), 0);
});

Deno.test("masking: any_order hides with t ~ U(eps,1) per window and weights by 1/t", () => {
  const m = drawMask(cfg({ strategy: "any_order", eps: 0.001 }), all, ctx);
  assert.ok(Math.abs(maskRate(m, all) - 0.5) < 0.03, `mean rate ${maskRate(m, all)}`);
  // per window: the hidden fraction of units tracks t = 1/weight
  let err = 0, n = 0;
  for (let b = 0; b < B; b++) {
    const w = m.weight[b];
    assert.ok(w >= 1 && w <= 1000, `weight ${w}`);
    let units = 0, hidden = 0;
    for (let k = 0; k < K; k++) {
      const j = b * K + k;
      if (!all.frameValid[j]) continue;
      units += CELLS + 2;
      hidden += m.dirs[j] + m.actions[j];
      for (let c = 0; c < CELLS; c++) hidden += m.cells[(j * CELLS + c) * 3];
    }
    if (units >= 4 * 51 && 1 / w > 0.05) {
      err += Math.abs(hidden / units - 1 / w);
      n++;
    }
  }
  assert.ok(err / n < 0.05, `mean |rate - t| = ${err / n}`);
});

Deno.test("masking: scheduled ratio follows the shape and the drawn rate follows it", () => {
  const s = {
    base: "cell" as const,
    from: 0.15,
    to: 0.5,
    over: 100,
    unit: "step" as const,
    shape: "linear" as const,
  };
  assert.equal(scheduledRatio(s, 0, 0), 0.15);
  assert.ok(Math.abs(scheduledRatio(s, 50, 0) - 0.325) < 1e-12);
  assert.equal(scheduledRatio(s, 1000, 0), 0.5);
  assert.ok(Math.abs(scheduledRatio({ ...s, shape: "cosine" }, 50, 0) - 0.325) < 1e-12);
  assert.ok(scheduledRatio({ ...s, shape: "cosine" }, 10, 0) < scheduledRatio(s, 10, 0));
  assert.equal(scheduledRatio({ ...s, shape: "step" }, 99, 0), 0.15);
  assert.equal(scheduledRatio({ ...s, shape: "step" }, 100, 0), 0.5);
  assert.ok(Math.abs(scheduledRatio({ ...s, unit: "epoch" }, 1000, 50) - 0.325) < 1e-12);
  const c = cfg({ strategy: "scheduled", schedule: s });
  const r0 = maskRate(drawMask(c, all, { ...ctx, step: 0 }), all);
  const r1 = maskRate(drawMask(c, all, { ...ctx, step: 100 }), all);
  assert.ok(Math.abs(r0 - 0.15) < 0.01 && Math.abs(r1 - 0.5) < 0.01, `${r0} ${r1}`);
  const a = drawMask({ ...c, schedule: { ...s, base: "attribute" } }, all, { ...ctx, step: 50 });
  assert.ok(Math.abs(maskRate(a, all) - 0.325) < 0.01);
});

Deno.test("masking: mixture draws a component per window with the given weights", () => {
  const c = cfg({
    strategy: "mixture",
    mixture: [{ strategy: "next_action", weight: 3 }, { strategy: "cell", weight: 1, ratio: 0.5 }],
  });
  const m = drawMask(c, all, ctx);
  let sft = 0;
  for (let b = 0; b < B; b++) if (hiddenInRow(m, b) === 1 && m.actions[b * K + lastValid(b)]) sft++;
  // a cell window at p = 0.5 is almost never a single hidden action
  assert.ok(Math.abs(sft / B - 0.75) < 0.03, `next_action share ${sft / B}`);
});

Deno.test("masking: masks are reproducible from (seed, epoch, step, batchIndex) and differ otherwise", () => {
  for (const strategy of ["cell", "attribute", "any_order", "mixture"] as const) {
    const c = cfg({ strategy });
    assert.deepEqual(drawMask(c, all, ctx), drawMask(c, all, { ...ctx }));
    for (const key of ["seed", "epoch", "step", "batchIndex"] as const) {
      assert.notDeepEqual(
        drawMask(c, all, ctx).cells,
        drawMask(c, all, { ...ctx, [key]: ctx[key] + 1 }).cells,
      );
    }
  }
});

Deno.test("masking: evaluation masks and observed-cell corruption", () => {
  const nf = applyEvalMask(all, { kind: "next_frame" });
  assert.deepEqual(nf, drawMask(cfg({ strategy: "forward_dynamics" }), all, ctx));
  const rc = applyEvalMask(all, { kind: "random_cells", ratio: 0.3 }, { seed: 4, batchIndex: 1 });
  const cc = maskCounts(rc, all);
  assert.equal(cc.dirs + cc.actions, 0);
  assert.ok(Math.abs(cc.cells / (cc.validFrames * CELLS) - 0.3) < 0.01);
  assert.deepEqual(
    rc,
    applyEvalMask(all, { kind: "random_cells", ratio: 0.3 }, { seed: 4, batchIndex: 1 }),
  );
  const t = applyEvalMask(all, { kind: "any_order_t", t: 0.25 }, { seed: 4, batchIndex: 1 });
  assert.ok(t.weight.every((w) => w === 4));

  for (const q of [0, 0.3]) {
    const asMask = hideObservedCells(all, nf, { q, mode: "mask", seed: 2 });
    const asUnseen = hideObservedCells(all, nf, { q, mode: "unseen", seed: 2 });
    assert.equal(asMask.hidden, asUnseen.hidden);
    if (q === 0) assert.equal(asMask.hidden, 0);
    else assert.ok(Math.abs(asMask.hidden / asMask.eligible - q) < 0.01);
    assert.deepEqual(asUnseen.inputMask, nf, "unseen mode leaves the mask");
    assert.equal(asMask.batch, all, "mask mode leaves the batch");
    let extra = 0;
    for (let i = 0; i < all.cells.length; i += 3) {
      if (nf.cells[i]) assert.equal(asMask.inputMask.cells[i], 1, "targets stay hidden");
      const added = asMask.inputMask.cells[i] && !nf.cells[i];
      const zeroed = asUnseen.batch.cells[i] !== all.cells[i] ||
        asUnseen.batch.cells[i + 1] !== all.cells[i + 1] ||
        asUnseen.batch.cells[i + 2] !== all.cells[i + 2];
      if (added) {
        extra++;
        assert.notEqual(all.cells[i], 0, "only observed cells are hidden");
        assert.deepEqual([...asUnseen.batch.cells.subarray(i, i + 3)], [0, 0, 0]);
      } else assert.ok(!zeroed, "the same cells in both modes");
    }
    assert.equal(extra, asMask.hidden);
  }
});

Deno.test("masking: bad configs give clear errors", () => {
  assert.throws(
    () => drawMask(cfg({ strategy: "bogus" as never }), all, ctx),
    /unknown masking strategy "bogus"/,
  );
  assert.throws(() => drawMask(cfg({ strategy: "cell", ratio: 1.5 }), all, ctx), /masking.ratio/);
  assert.throws(
    () =>
      drawMask(
        cfg({ strategy: "mixture", mixture: [{ strategy: "mixture" as never, weight: 1 }] }),
        all,
        ctx,
      ),
    /mixture\[0\].*cannot contain another mixture/,
  );
  assert.throws(
    () => drawMask(cfg({ strategy: "mixture", mixture: [] }), all, ctx),
    /mixture is empty/,
  );
  assert.throws(() => drawMask(cfg({ strategy: "any_order", eps: 0 }), all, ctx), /masking.eps/);
});

Deno.test("masking: missing config keys take the defaults", () => {
  assert.deepEqual(drawMask({ strategy: "cell" }, all, ctx), drawMask(DEFAULT_MASKING, all, ctx));
  const partial = drawMask({ strategy: "scheduled", schedule: { to: 0.9 } as never }, all, {
    ...ctx,
    step: 1e6,
  });
  assert.ok(Math.abs(maskRate(partial, all) - 0.9) < 0.01);
});
