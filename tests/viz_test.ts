import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import {
  animationHtml,
  barFigure,
  figureHtml,
  heatmapFigure,
  lineFigure,
  liveProgress,
  maskCellFrequency,
  meanCi,
  obsSvg,
  pageHtml,
  plotlyScriptTag,
  predictedBatch,
  replayEpisode,
  slotAccuracy,
  tableHtml,
  TRAINING_CURVE_PANELS,
  trainingCurvesFigure,
  writePage,
} from "../lib/viz/mod.ts";
import { checkPages } from "../lib/viz/check_html.ts";
import { findChromium, offlineHtml } from "../lib/viz/notebook.ts";

const count = (s: string, sub: string) => s.split(sub).length - 1;

Deno.test("lineFigure: CI band trace before the line, NaN becomes a gap, lengths checked", () => {
  const f = lineFigure([{ name: "a", x: [0, 1, 2], y: [1, NaN, 3], lo: [0, 0, 2], hi: [2, 2, 4] }]);
  assertEquals(f.data.length, 2);
  assertEquals(f.data[0].fill, "toself");
  assertEquals(f.data[0].y, [2, 2, 4, 2, 0, 0]);
  assertEquals(f.data[1].y, [1, null, 3]);
  assertThrows(() => lineFigure([{ name: "b", x: [0, 1], y: [1] }]), /length 1, expected 2/);
});

Deno.test("barFigure: symmetric and asymmetric error bars", () => {
  const f = barFigure([
    { name: "s", x: ["a", "b"], y: [1, 2], err: [0.1, 0.2] },
    { name: "t", x: ["a", "b"], y: [1, 2], lo: [0.5, 1.0], hi: [2, 2.5] },
  ]);
  assertEquals((f.data[0].error_y as { array: number[] }).array, [0.1, 0.2]);
  const e = f.data[1].error_y as { array: number[]; arrayminus: number[] };
  assertEquals(e.array, [1, 0.5]);
  assertEquals(e.arrayminus, [0.5, 1]);
});

Deno.test("heatmapFigure: annotated small matrix with labels", () => {
  const f = heatmapFigure([[1, 2], [3, 4.5678]], { xLabels: ["x0", "x1"], yLabels: [0, 1] });
  assertEquals(f.data[0].text, [["1", "2"], ["3", "4.57"]]);
  assertEquals(f.data[0].y, ["0", "1"]);
});

Deno.test("figureHtml: no plotly inlined by default, script-safe JSON, unique ids", () => {
  const f = lineFigure([{ name: "</script><script>alert(1)</script>", x: [0], y: [1] }]);
  const a = figureHtml(f), b = figureHtml(f);
  assertEquals(count(a, "data-viz-plotly="), 0);
  assertEquals(count(a, "data-viz-figure="), 1);
  assert(!a.includes("</script><script>alert"), "a trace name must not close the script element");
  const idA = /id="([^"]+)"/.exec(a)![1], idB = /id="([^"]+)"/.exec(b)![1];
  assert(idA !== idB);
  assertThrows(() => figureHtml(f, { id: "1bad id" }), /must be a letter/);
  assertEquals(count(figureHtml(f, { includePlotly: true }), "data-viz-plotly="), 1);
});

Deno.test("pageHtml: plotly.js embedded exactly once for several figures, none without figures", () => {
  const fig = lineFigure([{ name: "a", x: [0, 1], y: [1, 2] }]);
  const html = pageHtml({
    title: "T <&>",
    sections: [
      { title: "one", text: "p1\n\np2", figures: [fig, fig] },
      { figures: [barFigure([{ name: "b", x: ["u"], y: [1] }])], table: { rows: [{ k: "<i>" }] } },
    ],
  });
  assertEquals(count(html, "data-viz-plotly="), 1);
  assertEquals(count(html, "* plotly.js v"), 1, "the plotly.js source appears once");
  assertEquals(count(html, "data-viz-figure="), 3);
  assertMatch(html, /<title>T &lt;&amp;&gt;<\/title>/);
  assertMatch(html, /<p>p1<\/p><p>p2<\/p>|<p>p1<\/p>\n<p>p2<\/p>/);
  assert(html.includes("&lt;i&gt;"));
  const plain = pageHtml({ title: "x", sections: [{ text: "no figures" }] });
  assertEquals(count(plain, "data-viz-plotly="), 0);
  assert(plotlyScriptTag().length > 1_000_000, "plotly.js is inlined, not linked");
});

Deno.test("tableHtml and animationHtml", () => {
  const t = tableHtml([{ a: 1.23456, b: "x" }, { a: 2, b: { html: "<b>y</b>" } }], {
    caption: "c",
  });
  assert(t.includes('<td style="text-align:right">1.23</td>'));
  assert(t.includes("<b>y</b>"));
  const an = animationHtml(["<svg></svg>", "<svg></svg>", "<svg></svg>"], {
    labels: ["a", "b", "c"],
  });
  assertEquals(count(an, 'class="viz-frame'), 3);
  assertThrows(() => animationHtml([]), /at least one frame/);
});

Deno.test("liveProgress outside Jupyter records history", async () => {
  const p = liveProgress({ title: "t", total: 3, intervalMs: 1e9 });
  const orig = console.error;
  const lines: string[] = [];
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    for (let s = 1; s <= 3; s++) await p.update(s, { loss: 3 - s });
    await p.done();
  } finally {
    console.error = orig;
  }
  assertEquals(p.history.get("loss")!.map((h) => h.value), [2, 1, 0]);
  assert(lines.at(-1)!.includes("step 3/3"));
});

Deno.test("offlineHtml drops CDN scripts", () => {
  const h = '<script src="https://cdn.x/require.js"></script><script>ok()</script>' +
    "<!-- Load mathjax --><script>m</script><!-- End of mathjax configuration -->";
  assertEquals(offlineHtml(h), "<script>ok()</script>");
});

const chromium = await findChromium();

Deno.test({
  name: "checkPages: a good page passes with figures drawn, a broken one fails",
  ignore: !chromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "viz-test-" });
    try {
      const fig = lineFigure([{ name: "a", x: [0, 1, 2], y: [1, 3, 2] }]);
      const good = pageHtml({ title: "good", sections: [{ figures: [fig, fig] }] });
      await writePage(`${dir}/good.html`, good);
      await writePage(`${dir}/bad.html`, good.replaceAll("Plotly.newPlot(el", "Plotly.nope(el"));
      const [g, b] = await checkPages([`${dir}/good.html`, `${dir}/bad.html`], { timeoutMs: 8000 });
      assert(g.ok, g.problems.join("; "));
      assertEquals([g.figures, g.plotted], [2, 2]);
      assert((await Deno.stat(g.screenshot!)).size > 5000, "screenshot written");
      assert(!b.ok);
      assertEquals(b.plotted, 0);
      assert(b.jsErrors.some((e) => e.includes("nope")), b.jsErrors.join("; "));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("obsSvg marks hidden cells and attributes; rejects wrong sizes", async () => {
  const { make } = await import("../lib/env/mod.ts");
  const env = make("MiniGrid-DoorKey-8x8-v0");
  const { obs } = env.reset({ seed: 0 });
  const plain = obsSvg(obs.image);
  const mask = new Uint8Array(147);
  mask.fill(1, 0, 6); // cells 0 and 1 fully hidden
  mask[3 * 10 + 1] = 1; // cell 10: colour only
  const masked = obsSvg(obs.image, { mask });
  assertEquals(count(masked, ">?</text>"), 2);
  assert(masked.includes(">c</text>"), "a colour-only hidden cell is lettered c");
  assert(masked.length > plain.length && masked.endsWith("</svg>"));
  assertThrows(() => obsSvg(new Uint8Array(10)), /147 values/);
});

Deno.test("replayEpisode replays a bot demonstration to success", async () => {
  const { make } = await import("../lib/env/mod.ts");
  const { botEpisode } = await import("../lib/env/babyai/mod.ts");
  const id = "BabyAI-GoToRedBallGrey-v0";
  // deno-lint-ignore no-explicit-any
  const demo = botEpisode(make(id) as any, 3);
  const ep = replayEpisode(id, 3, demo.actions);
  assert(ep.success && demo.success);
  assertEquals(ep.frames.length, demo.actions.length + 1);
  assert(ep.frames[0].startsWith('<img src="data:image/png;base64,'));
});

Deno.test("predictedBatch, slotAccuracy and maskCellFrequency on a hand-built batch", () => {
  const B = 1, K = 2, M = 1;
  const batch = {
    B,
    K,
    M,
    cells: new Int32Array(B * K * 147).fill(1),
    dirs: Int32Array.from([0, 1]),
    actions: Int32Array.from([2, 7]),
    mission: new Int32Array(1),
    frameValid: Uint8Array.from([1, 1]),
  };
  const mask = {
    cells: new Uint8Array(B * K * 147),
    dirs: Uint8Array.from([0, 1]),
    actions: Uint8Array.from([1, 0]),
    weight: Float32Array.from([1]),
  };
  mask.cells[0] = 1; // frame 0, cell 0, object
  mask.cells[147 + 5 * 3 + 1] = 1; // frame 1, cell 5, colour
  const logits = {
    obj: new Float32Array(K * 49 * 11),
    color: new Float32Array(K * 49 * 6),
    state: new Float32Array(K * 49 * 3),
    dir: new Float32Array(K * 4),
    action: new Float32Array(K * 8),
  };
  logits.obj[0 * 11 + 1] = 5; // right: object 1
  logits.color[(49 + 5) * 6 + 3] = 5; // wrong: colour 3 (truth 1)
  logits.dir[1 * 4 + 1] = 5; // right
  logits.action[0 * 8 + 4] = 5; // wrong: 4 (truth 2)
  const p = predictedBatch(batch, mask, logits);
  assertEquals(p.cells[147 + 16], 3);
  assertEquals(p.cells[1], 1, "visible slots keep their values");
  const acc = slotAccuracy(batch, p, mask);
  assertEquals([acc.cells, acc.dirs, acc.actions, acc.hidden], [0.5, 1, 0, 4]);
  assertEquals(acc.all, 0.5);
  const freq = maskCellFrequency(mask, batch);
  assertEquals(freq[0][0], 0.5); // cell 0 = (vx 0, vy 0), hidden in 1 of 2 frames
  assertEquals(freq[5][0], 0.5); // cell 5 = (vx 0, vy 5)
  assertEquals(freq[1][1], 0);
});

Deno.test("meanCi: known values", () => {
  const r = meanCi([1, 2, 3, 4]);
  assertEquals(r.mean, 2.5);
  assert(Math.abs(r.sd - 1.2909944) < 1e-6);
  assert(Math.abs(r.hi - (2.5 + (3.182 * 1.2909944) / 2)) < 1e-6); // Student t, df 3
  assertEquals(meanCi([NaN]).n, 0);
});

Deno.test("trainingCurvesFigure: stacked panels on one step axis, a colour per run, gaps for missing values", () => {
  const a = [
    { kind: "train", step: 10, loss: 2, mask_rate: 0.16, mask_nominal: 0.15 },
    {
      kind: "val",
      step: 0,
      loss: 2.5,
      val_elbo: 3,
      next_frame_cell_acc: 0.1,
      next_action_acc: 0.2,
    },
    { kind: "train", step: 20, loss: 1.5, mask_rate: 0.31, mask_nominal: 0.3 },
    {
      kind: "val",
      step: 20,
      loss: 1.2,
      val_elbo: 2,
      next_frame_cell_acc: 0.5,
      next_action_acc: 0.6,
    },
  ];
  // An older run: no shared validation keys; a target-only strategy has no nominal ratio.
  const b = [
    { kind: "train", step: 10, loss: 1, mask_rate: 0.01, mask_nominal: null },
    { kind: "val", step: 0, loss: 1.1 },
    { kind: "val", step: 20, loss: 0.9 },
  ];
  const f = trainingCurvesFigure([{ name: "sched", records: a }, { name: "sft", records: b }]);
  const keys = TRAINING_CURVE_PANELS.flatMap((p) => p.keys);
  assertEquals(f.data.length, 2 * keys.length);
  const trace = (run: string, yaxis: string, i = 0) =>
    f.data.filter((t) => t.name === run && t.yaxis === yaxis)[i];
  assertEquals(trace("sched", "y").x, [0, 20]);
  assertEquals(trace("sched", "y").y, [2.5, 1.2]);
  assertEquals(trace("sched", "y2").y, [3, 2]);
  assertEquals(trace("sched", "y3", 0).y, [0.16, 0.31]);
  assertEquals(trace("sched", "y3", 1).y, [0.15, 0.3]);
  assertEquals((trace("sched", "y3", 1).line as { dash: string }).dash, "dash");
  assertEquals(trace("sft", "y2").x, []);
  assertEquals(trace("sft", "y3", 1).y, [null]);
  // One legend entry per run; one colour per run in every panel.
  assertEquals(f.data.filter((t) => t.showlegend).map((t) => t.name), ["sched", "sft"]);
  const colors = (run: string) =>
    new Set(f.data.filter((t) => t.name === run).map((t) => (t.line as { color: string }).color));
  assertEquals(colors("sched").size, 1);
  assert(![...colors("sched")].some((c) => colors("sft").has(c)));
  const lay = f.layout as Record<string, { domain?: number[]; matches?: string }>;
  assertEquals(lay.xaxis4.matches, "x");
  assert(lay.yaxis.domain![0] > lay.yaxis2.domain![1], "panels stacked top to bottom");
  assertThrows(() => trainingCurvesFigure([], { panels: [] }), /needs a panel/);
});
