/**
 * Plotly figure specs as plain data, and the HTML that draws them offline.
 *
 * A {@link Figure} is the JSON plotly.js takes (`data`, `layout`, `config`).
 * The builders here ({@link lineFigure}, {@link barFigure},
 * {@link heatmapFigure}) return such specs; {@link figureHtml} turns one into
 * a `<div>` plus a small script that plots it. plotly.js itself (the npm
 * package `plotly.js-dist-min`, ~4.8 MB) is inlined by
 * {@link plotlyScriptTag}: put it ONCE in a page (or a notebook), before or
 * after the figures — figures queued before plotly.js arrives are drawn when
 * it loads.
 *
 * @module
 */

import { createRequire } from "node:module";

/** One plotly trace (scatter, bar, heatmap, ...): plain JSON. */
export type Trace = Record<string, unknown>;

/** A plotly figure: the arguments of `Plotly.newPlot` as plain JSON. */
export interface Figure {
  /** Traces. */
  data: Trace[];
  /** Layout (title, axes, size, ...). */
  layout?: Record<string, unknown>;
  /** Config (responsive, displaylogo, ...). */
  config?: Record<string, unknown>;
}

/** A series of a line chart, optionally with a confidence band. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  /** X values. */
  x: ArrayLike<number>;
  /** Y values (e.g. the mean over seeds). */
  y: ArrayLike<number>;
  /** Lower edge of the band (e.g. a 95% CI), same length as y. */
  lo?: ArrayLike<number>;
  /** Upper edge of the band, same length as y. */
  hi?: ArrayLike<number>;
  /** CSS colour; defaults to the palette. */
  color?: string;
  /** Dash style ("solid", "dash", "dot"). */
  dash?: string;
}

/** A series of a bar chart, optionally with error bars. */
export interface BarSeries {
  /** Legend name. */
  name: string;
  /** Category labels. */
  x: string[];
  /** Bar heights. */
  y: ArrayLike<number>;
  /** Symmetric error (half-width), or use lo/hi. */
  err?: ArrayLike<number>;
  /** Lower ends of asymmetric error bars (absolute values, not offsets). */
  lo?: ArrayLike<number>;
  /** Upper ends of asymmetric error bars (absolute values, not offsets). */
  hi?: ArrayLike<number>;
  /** CSS colour; defaults to the palette. */
  color?: string;
}

/** Axis and size options shared by the builders. */
export interface FigureOptions {
  /** Figure title. */
  title?: string;
  /** X axis title. */
  xTitle?: string;
  /** Y axis title. */
  yTitle?: string;
  /** Log-scale x axis. */
  logX?: boolean;
  /** Log-scale y axis. */
  logY?: boolean;
  /** Height in px (default 360). */
  height?: number;
  /** Width in px (default: responsive). */
  width?: number;
}

/** The default colour cycle (colour-blind friendly, Okabe–Ito). */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#F0E442",
  "#000000",
];

function arr(a: ArrayLike<number> | undefined, what: string, n?: number): number[] | undefined {
  if (a === undefined) return undefined;
  const out = Array.from(a, (v) => (Number.isFinite(v) ? v : NaN));
  if (n !== undefined && out.length !== n) {
    throw new Error(`lib/viz/plotly: ${what} has length ${out.length}, expected ${n}`);
  }
  // JSON has no NaN: plotly treats null as a gap.
  return out.map((v) => (Number.isNaN(v) ? (null as unknown as number) : v));
}

/** Converts a CSS hex colour to an rgba() string with the given alpha. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const v = parseInt(m[1], 16);
  return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
}

function baseLayout(o: FigureOptions): Record<string, unknown> {
  const layout: Record<string, unknown> = {
    height: o.height ?? 360,
    margin: { l: 60, r: 20, t: o.title ? 50 : 20, b: 50 },
    xaxis: { title: { text: o.xTitle ?? "" }, type: o.logX ? "log" : undefined, zeroline: false },
    yaxis: { title: { text: o.yTitle ?? "" }, type: o.logY ? "log" : undefined, zeroline: false },
    legend: { orientation: "h", y: -0.2 },
    template: undefined,
  };
  if (o.title) layout.title = { text: o.title };
  if (o.width) layout.width = o.width;
  return layout;
}

/**
 * A line chart; series with `lo`/`hi` get a shaded band (e.g. a 95% CI over seeds).
 *
 * @example lineFigure([{ name: "loss", x: [0, 1, 2], y: [3, 2, 1.5] }], { yTitle: "loss" })
 */
export function lineFigure(series: LineSeries[], opts: FigureOptions = {}): Figure {
  const data: Trace[] = [];
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const x = arr(s.x, `series "${s.name}" x`)!;
    const y = arr(s.y, `series "${s.name}" y`, x.length)!;
    const lo = arr(s.lo, `series "${s.name}" lo`, x.length);
    const hi = arr(s.hi, `series "${s.name}" hi`, x.length);
    if (lo && hi) {
      data.push({
        type: "scatter",
        x: [...x, ...x.slice().reverse()],
        y: [...hi, ...lo.slice().reverse()],
        mode: "lines",
        fill: "toself",
        fillcolor: withAlpha(color, 0.2),
        line: { width: 0 },
        hoverinfo: "skip",
        showlegend: false,
        legendgroup: s.name,
        name: `${s.name} CI`,
      });
    }
    data.push({
      type: "scatter",
      mode: x.length > 40 ? "lines" : "lines+markers",
      x,
      y,
      name: s.name,
      legendgroup: s.name,
      line: { color, dash: s.dash ?? "solid", width: 2 },
    });
  });
  return { data, layout: baseLayout(opts), config: { responsive: true, displaylogo: false } };
}

/** A grouped bar chart with optional error bars (symmetric `err` or absolute `lo`/`hi`). */
export function barFigure(series: BarSeries[], opts: FigureOptions = {}): Figure {
  const data: Trace[] = series.map((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const y = arr(s.y, `series "${s.name}" y`, s.x.length)!;
    const t: Trace = { type: "bar", name: s.name, x: s.x, y, marker: { color } };
    const err = arr(s.err, `series "${s.name}" err`, y.length);
    const lo = arr(s.lo, `series "${s.name}" lo`, y.length);
    const hi = arr(s.hi, `series "${s.name}" hi`, y.length);
    if (err) t.error_y = { type: "data", array: err, visible: true };
    else if (lo && hi) {
      t.error_y = {
        type: "data",
        symmetric: false,
        array: hi.map((h, j) => (h === null || y[j] === null ? null : h - y[j])),
        arrayminus: lo.map((l, j) => (l === null || y[j] === null ? null : y[j] - l)),
        visible: true,
      };
    }
    return t;
  });
  const layout = baseLayout(opts);
  layout.barmode = "group";
  return { data, layout, config: { responsive: true, displaylogo: false } };
}

/** Options of {@link heatmapFigure}. */
export interface HeatmapOptions extends FigureOptions {
  /** Column labels (x). */
  xLabels?: (string | number)[];
  /** Row labels (y). */
  yLabels?: (string | number)[];
  /** Plotly colourscale name (default "Viridis"). */
  colorscale?: string;
  /** Write each value in its cell (default: when the grid has ≤ 150 cells). */
  annotate?: boolean;
  /** Colour range. */
  zmin?: number;
  /** Colour range. */
  zmax?: number;
  /** Put row 0 at the top (default true, like a matrix or image). */
  rowsTopDown?: boolean;
}

/** A heatmap of a matrix given as rows (`z[row][col]`). */
export function heatmapFigure(z: ArrayLike<number>[], opts: HeatmapOptions = {}): Figure {
  const rows = z.map((r, i) => arr(r, `heatmap row ${i}`)!);
  const nCells = rows.reduce((n, r) => n + r.length, 0);
  const annotate = opts.annotate ?? nCells <= 150;
  const t: Trace = {
    type: "heatmap",
    z: rows,
    colorscale: opts.colorscale ?? "Viridis",
    zmin: opts.zmin,
    zmax: opts.zmax,
  };
  if (opts.xLabels) t.x = opts.xLabels.map(String);
  if (opts.yLabels) t.y = opts.yLabels.map(String);
  if (annotate) {
    t.text = rows.map((r) => r.map((v) => (v === null ? "" : fmtNum(v))));
    t.texttemplate = "%{text}";
    t.hovertemplate = "%{y}, %{x}: %{z}<extra></extra>";
  }
  const layout = baseLayout({ height: opts.height ?? 420, ...opts });
  if (opts.rowsTopDown ?? true) (layout.yaxis as Record<string, unknown>).autorange = "reversed";
  layout.xaxis = { ...(layout.xaxis as object), type: "category" };
  layout.yaxis = { ...(layout.yaxis as object), type: "category" };
  return { data: [t], layout, config: { responsive: true, displaylogo: false } };
}

/** Formats a number compactly for labels (3 significant digits). */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(3)).toString();
}

let plotlySource: string | undefined;

/** Absolute path of `plotly.min.js` from the npm package `plotly.js-dist-min`. */
export function plotlyJsPath(): string {
  try {
    return createRequire(import.meta.url).resolve("plotly.js-dist-min");
  } catch (e) {
    throw new Error(
      `lib/viz/plotly: cannot find the npm package plotly.js-dist-min (${(e as Error).message}). ` +
        `Run \`deno install\` (or \`deno task setup\`) in the repository root to fetch it.`,
    );
  }
}

/** The text of plotly.min.js (read once, then cached). */
export function plotlyJs(): string {
  if (plotlySource === undefined) {
    const src = Deno.readTextFileSync(plotlyJsPath());
    if (/<\/script/i.test(src)) {
      throw new Error("lib/viz/plotly: plotly.min.js contains '</script' and cannot be inlined");
    }
    plotlySource = src;
  }
  return plotlySource;
}

/**
 * A `<script>` tag with plotly.js inlined, plus a loader that draws every
 * figure queued by {@link figureHtml} before it arrived. Include it exactly once per page.
 */
export function plotlyScriptTag(): string {
  return `<script data-viz-plotly="1">${plotlyJs()}\n;(function(){var q=window.__vizPlotlyQueue||[];` +
    `window.__vizPlotlyQueue=[];for(var i=0;i<q.length;i++){try{q[i]()}catch(e){console.error(e)}}})();</script>`;
}

/** Serialises JSON so that it is safe inside a `<script>` element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
}

let figCounter = 0;

/** Options of {@link figureHtml}. */
export interface FigureHtmlOptions {
  /** Element id (default: a fresh unique id). */
  id?: string;
  /** Inline plotly.js before the figure (for a standalone snippet). Default false. */
  includePlotly?: boolean;
}

/**
 * HTML for one figure: a `<div class="viz-figure" data-viz-figure>` plus a
 * script that calls `Plotly.newPlot` — at once if `window.Plotly` exists,
 * otherwise when {@link plotlyScriptTag}'s script runs.
 */
export function figureHtml(fig: Figure, opts: FigureHtmlOptions = {}): string {
  const id = opts.id ?? `viz-fig-${Date.now().toString(36)}-${(figCounter++).toString(36)}`;
  if (!/^[A-Za-z][\w-]*$/.test(id)) {
    throw new Error(`lib/viz/plotly: figure id "${id}" must be a letter followed by [A-Za-z0-9_-]`);
  }
  const h = (fig.layout?.height as number | undefined) ?? 360;
  const spec = scriptJson({ data: fig.data, layout: fig.layout ?? {}, config: fig.config ?? {} });
  // The retry covers front ends that run the script before the element is attached.
  const script =
    `(function(){var f=${spec},n=0;function go(){var el=document.getElementById(${
      JSON.stringify(id)
    });if(el)window.Plotly.newPlot(el,f.data,f.layout,f.config);else if(n++<100)setTimeout(go,50);}` +
    `if(window.Plotly)go();else(window.__vizPlotlyQueue=window.__vizPlotlyQueue||[]).push(go);})();`;
  return (opts.includePlotly ? plotlyScriptTag() : "") +
    `<div id="${id}" class="viz-figure" data-viz-figure="1" style="width:100%;min-height:${h}px"></div>` +
    `<script>${script}</script>`;
}

/** One run's metrics records (`metrics.jsonl` of lib/train) for {@link trainingCurvesFigure}. */
export interface RunCurves {
  /** Legend name (e.g. `variant s0`). */
  name: string;
  /** The records, as read from the run's metrics.jsonl (train and val). */
  records: Record<string, unknown>[];
}

/** One series of a {@link CurvePanel}: a numeric key of the records of one kind. */
export interface CurveKey {
  /** Record key, e.g. `val_elbo`. */
  key: string;
  /** Which records carry it. */
  kind: "train" | "val";
  /** Label in the hover text (default: the key). */
  label?: string;
  /** Dash style ("solid", "dash", "dot"). */
  dash?: string;
}

/** One stacked panel of {@link trainingCurvesFigure}: its y axis title and its series. */
export interface CurvePanel {
  /** Y axis title. */
  title: string;
  /** Series drawn for every run (one colour per run, one dash style per key). */
  keys: CurveKey[];
}

/**
 * The default panels: both validation losses (each run's own objective, and the any-order
 * ELBO every run shares), the nominal (dashed) and measured (solid) mask ratio of the training
 * masks, and the shared next-frame cell and next-action accuracies.
 */
export const TRAINING_CURVE_PANELS: readonly CurvePanel[] = [
  { title: "val loss (own objective)", keys: [{ key: "loss", kind: "val" }] },
  { title: "val ELBO (shared, nats/slot)", keys: [{ key: "val_elbo", kind: "val" }] },
  {
    title: "mask ratio (train)",
    keys: [
      { key: "mask_rate", kind: "train", label: "measured" },
      { key: "mask_nominal", kind: "train", label: "nominal", dash: "dash" },
    ],
  },
  {
    title: "val accuracy",
    keys: [
      { key: "next_frame_cell_acc", kind: "val", label: "next-frame cells" },
      { key: "next_action_acc", kind: "val", label: "next action", dash: "dot" },
    ],
  },
];

/**
 * Curves over training of several runs, one panel per {@link CurvePanel} stacked over a shared
 * step axis: one colour per run (the legend toggles a run in every panel), one dash style per
 * key. Records without a key (older runs) or with a null/non-finite value leave a gap.
 *
 * @example trainingCurvesFigure([{ name: "cell_p030 s0", records: readMetrics(runDir) }])
 */
export function trainingCurvesFigure(
  runs: RunCurves[],
  opts: FigureOptions & { panels?: readonly CurvePanel[] } = {},
): Figure {
  const panels = opts.panels ?? TRAINING_CURVE_PANELS;
  if (panels.length === 0) throw new Error("lib/viz/plotly: trainingCurvesFigure needs a panel");
  const n = panels.length, gap = 0.04, h = (1 - gap * (n - 1)) / n;
  const data: Trace[] = [];
  const layout = baseLayout({ height: opts.height ?? 220 * n + 80, ...opts });
  layout.legend = { orientation: "h", y: -0.06 };
  panels.forEach((panel, p) => {
    const ax = p === 0 ? "" : String(p + 1);
    const top = 1 - p * (h + gap);
    layout[`yaxis${ax}`] = {
      title: { text: panel.title },
      domain: [Math.max(0, top - h), top],
      anchor: `x${ax}`,
      zeroline: false,
    };
    layout[`xaxis${ax}`] = {
      anchor: `y${ax}`,
      matches: p === 0 ? undefined : "x",
      showticklabels: p === n - 1,
      title: { text: p === n - 1 ? (opts.xTitle ?? "step") : "" },
      zeroline: false,
    };
    runs.forEach((run, r) => {
      const color = PALETTE[r % PALETTE.length];
      for (const k of panel.keys) {
        const recs = run.records.filter((x) => x.kind === k.kind && k.key in x);
        const x = recs.map((rec) => Number(rec.step));
        const y = arr(
          recs.map((rec) => (typeof rec[k.key] === "number" ? rec[k.key] : NaN) as number),
          `${run.name} ${k.key}`,
          x.length,
        )!;
        data.push({
          type: "scatter",
          mode: x.length > 40 ? "lines" : "lines+markers",
          x,
          y,
          xaxis: `x${ax}`,
          yaxis: `y${ax}`,
          name: run.name,
          legendgroup: run.name,
          showlegend: p === 0 && k === panel.keys[0],
          hovertemplate: `${run.name} ${k.label ?? k.key}: %{y}<extra>step %{x}</extra>`,
          line: { color, dash: k.dash ?? "solid", width: 2 },
        });
      }
    });
  });
  return { data, layout, config: { responsive: true, displaylogo: false } };
}
