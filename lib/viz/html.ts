/**
 * Plain HTML builders: escaping, tables, episode animations and standalone
 * report pages ({@link pageHtml}) with plotly.js embedded once.
 *
 * @module
 */

import { type Figure, figureHtml, fmtNum, plotlyScriptTag } from "./plotly.ts";
import { writeFileAtomic } from "../util/fs.ts";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  ).replace(/'/g, "&#39;");
}

/** A table cell value: text, a number (formatted), or raw HTML via `{ html }`. */
export type CellValue = string | number | boolean | null | undefined | { html: string };

/** Options of {@link tableHtml}. */
export interface TableOptions {
  /** Column order and headers; default: keys of the first row. */
  columns?: string[];
  /** Caption shown above the table. */
  caption?: string;
  /** Number formatter (default {@link fmtNum}). */
  format?: (v: number, column: string) => string;
}

function cellHtml(v: CellValue, col: string, fmt: (v: number, c: string) => string): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return escapeHtml(fmt(v, col));
  if (typeof v === "object") return v.html;
  return escapeHtml(String(v));
}

/** An HTML table of records (one object per row). Numbers are right-aligned. */
export function tableHtml(rows: Record<string, CellValue>[], opts: TableOptions = {}): string {
  const cols = opts.columns ?? (rows.length ? Object.keys(rows[0]) : []);
  const fmt = opts.format ?? ((v: number) => fmtNum(v));
  const head = cols.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows.map((r) =>
    "<tr>" +
    cols.map((c) => {
      const v = r[c];
      const num = typeof v === "number" ? ' style="text-align:right"' : ' style="text-align:left"';
      return `<td${num}>${cellHtml(v, c, fmt)}</td>`;
    }).join("") + "</tr>"
  ).join("\n");
  const cap = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  return `<table class="viz-table">${cap}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Styles for tables and animations; included by {@link pageHtml}, and once by the Jupyter display. */
export const VIZ_CSS = `
.viz-table{border-collapse:collapse;font:13px/1.4 system-ui,sans-serif;margin:8px 0}
.viz-table caption{text-align:left;font-weight:600;padding:4px 0}
.viz-table th,.viz-table td{border:1px solid #ccc;padding:3px 8px}
.viz-table th{background:#f3f3f3}
.viz-anim{display:inline-block;font:12px system-ui,sans-serif;margin:4px}
.viz-anim .viz-frame{display:none}.viz-anim .viz-frame.on{display:block}
.viz-anim button{margin:2px;font:12px system-ui,sans-serif}
.viz-row{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}
.viz-row figure{margin:0;text-align:center;font:12px system-ui,sans-serif}
`;

/** Options of {@link animationHtml}. */
export interface AnimationOptions {
  /** Frames per second when playing (default 3). */
  fps?: number;
  /** A caption per frame (e.g. "t=3 action=forward"). */
  labels?: string[];
  /** Start playing when shown (default false). */
  autoplay?: boolean;
  /** Title above the player. */
  title?: string;
}

let animCounter = 0;

/**
 * A small episode player: one element per frame (SVG or any HTML), shown one
 * at a time, with ◀ ▶ play/pause buttons and a slider. Works offline without plotly.
 */
export function animationHtml(frames: string[], opts: AnimationOptions = {}): string {
  if (frames.length === 0) throw new Error("lib/viz/html: animationHtml needs at least one frame");
  const id = `viz-anim-${Date.now().toString(36)}-${(animCounter++).toString(36)}`;
  const labels = opts.labels ?? frames.map((_, i) => `frame ${i}`);
  const fps = opts.fps ?? 3;
  const frameDivs = frames.map((f, i) =>
    `<div class="viz-frame${i === 0 ? " on" : ""}" data-label="${
      escapeHtml(labels[i] ?? "")
    }">${f}</div>`
  ).join("");
  const title = opts.title ? `<div><b>${escapeHtml(opts.title)}</b></div>` : "";
  const js = `(function(){var r=document.getElementById("${id}");if(!r)return;` +
    `var fr=r.querySelectorAll(".viz-frame"),lab=r.querySelector(".viz-label"),s=r.querySelector("input"),i=0,tm=null;` +
    `function show(k){i=(k+fr.length)%fr.length;for(var j=0;j<fr.length;j++)fr[j].className="viz-frame"+(j===i?" on":"");` +
    `lab.textContent=(i+1)+"/"+fr.length+"  "+fr[i].getAttribute("data-label");s.value=i;}` +
    `function play(){if(tm){clearInterval(tm);tm=null;return;}tm=setInterval(function(){show(i+1)},${
      Math.round(1000 / fps)
    });}` +
    `r.querySelector(".viz-prev").onclick=function(){show(i-1)};r.querySelector(".viz-next").onclick=function(){show(i+1)};` +
    `r.querySelector(".viz-play").onclick=play;s.oninput=function(){show(+s.value)};show(0);${
      opts.autoplay ? "play();" : ""
    }})();`;
  return `<div class="viz-anim" id="${id}">${title}${frameDivs}<div>` +
    `<button class="viz-prev">◀</button><button class="viz-play">▶/❚❚</button><button class="viz-next">▶</button>` +
    `<input type="range" min="0" max="${
      frames.length - 1
    }" value="0" style="vertical-align:middle">` +
    `<span class="viz-label"></span></div></div><script>${js}</script>`;
}

/** Lays out pictures (SVG/HTML) side by side with captions. */
export function rowHtml(items: { html: string; caption?: string }[]): string {
  return `<div class="viz-row">${
    items.map((it) =>
      `<figure>${it.html}${
        it.caption ? `<figcaption>${escapeHtml(it.caption)}</figcaption>` : ""
      }</figure>`
    ).join("")
  }</div>`;
}

/** One section of a report page: a heading plus any of text, figures, tables, raw HTML. */
export interface PageSection {
  /** Section heading. */
  title?: string;
  /** Paragraph text (escaped; blank lines separate paragraphs). */
  text?: string;
  /** Figures drawn in order. */
  figures?: Figure[];
  /** A table of records. */
  table?: { rows: Record<string, CellValue>[]; options?: TableOptions };
  /** Raw HTML appended last (SVG pictures, animations, ...). */
  html?: string;
}

/** Arguments of {@link pageHtml}. */
export interface PageOptions {
  /** Page title (`<title>` and `<h1>`). */
  title: string;
  /** A line under the title (e.g. run id, date, seeds). */
  subtitle?: string;
  /** Sections in order. */
  sections: PageSection[];
}

/**
 * A standalone, offline HTML page: title, sections of text / figures / tables,
 * plotly.js inlined once (only when the page has a figure).
 */
export function pageHtml(opts: PageOptions): string {
  let nFig = 0;
  const body = opts.sections.map((s) => {
    const parts: string[] = [];
    if (s.title) parts.push(`<h2>${escapeHtml(s.title)}</h2>`);
    if (s.text) {
      for (const p of s.text.split(/\n\s*\n/)) parts.push(`<p>${escapeHtml(p.trim())}</p>`);
    }
    for (const f of s.figures ?? []) {
      parts.push(figureHtml(f));
      nFig++;
    }
    if (s.table) parts.push(tableHtml(s.table.rows, s.table.options));
    if (s.html) parts.push(s.html);
    return `<section>${parts.join("\n")}</section>`;
  }).join("\n");
  const sub = opts.subtitle ? `<p class="sub">${escapeHtml(opts.subtitle)}</p>` : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}.sub{color:#666}${VIZ_CSS}</style>
${nFig > 0 ? plotlyScriptTag() : ""}
</head><body>
<h1>${escapeHtml(opts.title)}</h1>${sub}
${body}
</body></html>
`;
}

/** Writes a page atomically (temp file + rename), creating parent folders. */
export async function writePage(path: string, html: string): Promise<void> {
  await writeFileAtomic(path, html);
}
