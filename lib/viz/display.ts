/**
 * Display helpers for notebooks running on the Deno Jupyter kernel.
 *
 * `display(x)` shows a figure, HTML, SVG or table inline. plotly.js is sent
 * once per kernel session (with the first figure, or by {@link setupNotebook}
 * in a notebook's first cell), so a notebook and its exported HTML carry it
 * once, not per figure. Outside Jupyter (plain `deno run`), the helpers print
 * a short text fallback instead.
 *
 * @module
 */

import { type Figure, figureHtml, plotlyScriptTag } from "./plotly.ts";
import {
  type CellValue,
  escapeHtml,
  type PageSection,
  tableHtml,
  type TableOptions,
  VIZ_CSS,
} from "./html.ts";
import { formatDuration } from "../util/format.ts";

interface JupyterApi {
  broadcast(
    msgType: string,
    content: Record<string, unknown>,
    extra?: { metadata?: Record<string, unknown> },
  ): Promise<void> | void;
}

function jupyter(): JupyterApi | undefined {
  try {
    // The getter throws outside `deno jupyter`.
    // deno-lint-ignore no-explicit-any
    const j = (Deno as any).jupyter;
    return j && typeof j.broadcast === "function" ? j as JupyterApi : undefined;
  } catch {
    return undefined;
  }
}

/** True when running inside the Deno Jupyter kernel. */
export function inJupyter(): boolean {
  return jupyter() !== undefined;
}

let plotlySent = false;

/** A MIME bundle: `{ "text/html": ..., "text/plain": ... }`. */
export type MimeBundle = Record<string, string>;

/**
 * Sends a MIME bundle as a Jupyter `display_data` (or `update_display_data`
 * when `update` is set for an existing `displayId`). Outside Jupyter it prints
 * the bundle's `text/plain`.
 */
export async function displayBundle(
  bundle: MimeBundle,
  opts: { displayId?: string; update?: boolean } = {},
): Promise<void> {
  const j = jupyter();
  if (!j) {
    if (bundle["text/plain"]) console.log(bundle["text/plain"]);
    return;
  }
  await j.broadcast(opts.update ? "update_display_data" : "display_data", {
    data: bundle,
    metadata: {},
    transient: opts.displayId ? { display_id: opts.displayId } : {},
  });
  // The Deno kernel forwards broadcasts asynchronously (measured: ~1.5 MB/s);
  // messages sent faster are dropped or arrive after the cell is idle (and are
  // then attributed to the next cell). Pace every message by its size.
  let size = 0;
  for (const v of Object.values(bundle)) size += v.length;
  await new Promise((r) => setTimeout(r, 30 + Math.ceil(size / 2000)));
}

/**
 * Call in a notebook's first code cell: sends plotly.js (~4.8 MB) and the viz
 * CSS once for the notebook; later figures reference `window.Plotly`.
 * Re-running the cell sends it again (use after clearing outputs in the browser).
 *
 * The Deno kernel forwards display messages asynchronously and drops some when
 * they are sent faster than it forwards them (~1.5 MB/s measured), so this
 * waits ~2.5 s after sending (see {@link displayBundle}).
 *
 * @example
 * import * as viz from "../lib/viz/mod.ts";
 * await viz.setupNotebook();
 */
export async function setupNotebook(): Promise<void> {
  plotlySent = true;
  await displayBundle({
    "text/html": `<style>${VIZ_CSS}</style>${plotlyScriptTag()}`,
    "text/plain": "(plotly.js and styles loaded)",
  });
}

/** Shows HTML inline. */
export async function displayHtml(html: string, plain = "(html)"): Promise<void> {
  await displayBundle({ "text/html": html, "text/plain": plain });
}

/** Shows a plotly figure inline; sends plotly.js first if this session has not yet. */
export async function displayFigure(fig: Figure): Promise<void> {
  const title = (fig.layout?.title as { text?: string } | undefined)?.text ?? "";
  let html = figureHtml(fig);
  if (!plotlySent && inJupyter()) {
    html = `<style>${VIZ_CSS}</style>${plotlyScriptTag()}${html}`;
    plotlySent = true;
  }
  await displayBundle({ "text/html": html, "text/plain": `[figure${title ? `: ${title}` : ""}]` });
}

/** Shows a table of records inline (text fallback: tab-separated). */
export async function displayTable(
  rows: Record<string, CellValue>[],
  opts: TableOptions = {},
): Promise<void> {
  const cols = opts.columns ?? (rows.length ? Object.keys(rows[0]) : []);
  const plain = [cols.join("\t"), ...rows.map((r) => cols.map((c) => fmtPlain(r[c])).join("\t"))]
    .join("\n");
  await displayBundle({ "text/html": tableHtml(rows, opts), "text/plain": plain });
}

function fmtPlain(v: CellValue): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return "(html)";
  return String(v);
}

/** Anything {@link display} can show. */
export type Displayable =
  | Figure
  | { html: string }
  | { svg: string }
  | { rows: Record<string, CellValue>[]; options?: TableOptions }
  | string;

/**
 * Shows a figure, `{html}`, `{svg}`, `{rows}` (table) or text inline.
 * A string that starts with `<` is shown as HTML, any other string as text.
 */
export async function display(x: Displayable): Promise<void> {
  if (typeof x === "string") {
    if (x.trimStart().startsWith("<")) return await displayHtml(x);
    return await displayBundle({ "text/plain": x, "text/html": `<pre>${escapeHtml(x)}</pre>` });
  }
  if ("data" in x && Array.isArray(x.data)) return await displayFigure(x as Figure);
  if ("html" in x) return await displayHtml(x.html);
  if ("svg" in x) return await displayBundle({ "image/svg+xml": x.svg, "text/plain": "(svg)" });
  if ("rows" in x) return await displayTable(x.rows, x.options);
  throw new Error(
    "lib/viz/display: display() got an object that is not a figure, html, svg or table",
  );
}

/** Options of {@link liveProgress}. */
export interface ProgressOptions {
  /** Title shown above the bar. */
  title?: string;
  /** Total steps (for the bar and the ETA); omit for an open-ended run. */
  total?: number;
  /** Minimum milliseconds between redraws (default 500 in Jupyter, 2000 in a terminal). */
  intervalMs?: number;
  /** Metrics to draw as sparklines (default: every numeric metric seen). */
  plot?: string[];
}

/** A live training progress display; see {@link liveProgress}. */
export interface LiveProgress {
  /** Records metrics for a step (synchronously) and redraws when the interval has passed; safe to call without awaiting. */
  update(step: number, metrics?: Record<string, number>): Promise<void>;
  /** Final redraw (always drawn). */
  done(note?: string): Promise<void>;
  /** Metric history so far (step → value per metric). */
  readonly history: Map<string, { step: number; value: number }[]>;
}

let progressCounter = 0;

/** An inline SVG sparkline of a series. */
export function sparklineSvg(values: number[], width = 220, height = 48): string {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 2) return `<svg width="${width}" height="${height}"></svg>`;
  const lo = Math.min(...v), hi = Math.max(...v), span = hi - lo || 1;
  const pts = v.map((y, i) =>
    `${((i / (v.length - 1)) * (width - 4) + 2).toFixed(1)},${
      (height - 2 - ((y - lo) / span) * (height - 4)).toFixed(1)
    }`
  ).join(" ");
  return `<svg width="${width}" height="${height}" style="background:#fafafa;border:1px solid #eee">` +
    `<polyline fill="none" stroke="#0072B2" stroke-width="1.5" points="${pts}"/></svg>`;
}

/**
 * A live progress display for long loops (training). In Jupyter it is one
 * output updated in place (bar, ETA, latest metrics, sparklines); in a
 * terminal it logs a line to stderr every few seconds.
 *
 * @example
 * const p = liveProgress({ title: "train", total: 200 });
 * for (let s = 1; s <= 200; s++) await p.update(s, { loss });
 * await p.done();
 */
export function liveProgress(opts: ProgressOptions = {}): LiveProgress {
  const jup = inJupyter();
  const interval = opts.intervalMs ?? (jup ? 500 : 2000);
  const id = `viz-progress-${Date.now().toString(36)}-${progressCounter++}`;
  const history = new Map<string, { step: number; value: number }[]>();
  const t0 = performance.now();
  let last = -Infinity;
  let lastStep = 0;
  let shown = false;

  const render = (note?: string): MimeBundle => {
    const el = (performance.now() - t0) / 1000;
    const frac = opts.total ? Math.min(1, lastStep / opts.total) : 0;
    const eta = opts.total && lastStep > 0 ? (el / lastStep) * (opts.total - lastStep) : NaN;
    const latest = [...history].map(([k, h]) => `${k}=${fmt(h[h.length - 1].value)}`).join("  ");
    const head =
      `${opts.title ?? "progress"}: step ${lastStep}${opts.total ? `/${opts.total}` : ""}` +
      `  ${el.toFixed(1)}s${Number.isFinite(eta) ? `  eta ${formatDuration(eta)}` : ""}`;
    const names = opts.plot ?? [...history.keys()];
    const sparks = names.filter((k) => history.has(k)).map((k) =>
      `<figure style="margin:0">${sparklineSvg(history.get(k)!.map((p) => p.value))}` +
      `<figcaption>${escapeHtml(k)} (${fmt(history.get(k)!.at(-1)!.value)})</figcaption></figure>`
    ).join("");
    const bar = opts.total
      ? `<div style="width:320px;height:10px;background:#eee;border-radius:3px"><div style="width:${
        (frac * 100).toFixed(1)
      }%;height:10px;background:#0072B2;border-radius:3px"></div></div>`
      : "";
    const html = `<div class="viz-progress" style="font:12px system-ui,sans-serif">` +
      `<div><b>${escapeHtml(head)}</b></div>${bar}<div>${escapeHtml(latest)}</div>` +
      `<div class="viz-row">${sparks}</div>${note ? `<div>${escapeHtml(note)}</div>` : ""}</div>`;
    return { "text/html": html, "text/plain": `${head}  ${latest}${note ? `  ${note}` : ""}` };
  };

  const draw = async (note?: string) => {
    last = performance.now();
    const b = render(note);
    if (jup) {
      await displayBundle(b, { displayId: id, update: shown });
      shown = true;
    } else {
      console.error(b["text/plain"]);
    }
  };

  // Draws are chained so that un-awaited updates (e.g. from a synchronous
  // training callback) never overlap; done() waits for all of them.
  let queue: Promise<void> = Promise.resolve();
  return {
    history,
    update(step, metrics = {}) {
      lastStep = step;
      for (const [k, v] of Object.entries(metrics)) {
        if (typeof v !== "number") continue;
        if (!history.has(k)) history.set(k, []);
        history.get(k)!.push({ step, value: v });
      }
      if (performance.now() - last >= interval) {
        last = performance.now();
        queue = queue.then(() => draw());
      }
      return queue;
    },
    done(note) {
      queue = queue.then(() => draw(note ?? "done"));
      return queue;
    },
  };
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toPrecision(4);
}

/**
 * Shows report sections inline (the same {@link PageSection}s a report page is
 * built from with `pageHtml`): heading, text, figures, table, HTML, in order.
 * A notebook and a report.html thereby show the same figures.
 */
export async function displaySections(sections: PageSection[]): Promise<void> {
  for (const s of sections) {
    const head = s.title ? `<h3>${escapeHtml(s.title)}</h3>` : "";
    const text = s.text
      ? s.text.split(/\n\s*\n/).map((p) => `<p>${escapeHtml(p.trim())}</p>`).join("")
      : "";
    if (head || text) await displayHtml(head + text, s.title ?? "");
    for (const f of s.figures ?? []) await displayFigure(f);
    if (s.table) await displayTable(s.table.rows, s.table.options);
    if (s.html) await displayHtml(s.html);
  }
}
