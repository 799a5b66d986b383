/**
 * Visualisation: plotly figure specs, standalone HTML pages, tables,
 * episode animations, Jupyter display helpers (Deno kernel), notebook
 * execution/export, and the headless-Chromium page check.
 *
 * Report pages (e.g. runs/<exp>/report.html): build figures with
 * {@link lineFigure} / {@link barFigure} / {@link heatmapFigure} and write
 * `pageHtml({ title, sections })` with {@link writePage}. For a custom page,
 * put {@link plotlyScriptTag} once in it and {@link figureHtml} per figure.
 *
 * @module
 */

export * from "./plotly.ts";
export * from "./html.ts";
export * from "./display.ts";
export * from "./pictures.ts";
export * from "./summary.ts";
