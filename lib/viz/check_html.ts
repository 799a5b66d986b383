/**
 * Checks rendered HTML pages the way a reader sees them: headless Chromium
 * (driven over the DevTools protocol) loads each page offline, collects
 * JavaScript errors and failed loads, counts the plotly figures that were
 * declared (`data-viz-figure`) and those actually drawn (`.js-plotly-plot`
 * with an SVG inside), and saves a PNG screenshot next to the page.
 *
 * @module
 */

import { findChromium } from "./notebook.ts";
import { writeFileAtomic } from "../util/fs.ts";

/** Result of checking one page. */
export interface PageCheck {
  /** The HTML file. */
  path: string;
  /** No problems. */
  ok: boolean;
  /** Figures declared in the page (`[data-viz-figure]`). */
  figures: number;
  /** Figures drawn by plotly. */
  plotted: number;
  /** JavaScript exceptions and console errors. */
  jsErrors: string[];
  /** Human-readable problems (empty when ok). */
  problems: string[];
  /** Path of the PNG screenshot, when taken. */
  screenshot?: string;
}

/** Options of {@link checkPages}. */
export interface CheckOptions {
  /** Chromium binary (default: found on PATH, or $CHROMIUM). */
  chromium?: string;
  /** Take a screenshot next to each page (default true). */
  screenshot?: boolean;
  /** Viewport width (default 1200). */
  width?: number;
  /** Screenshot height cap in px (default 6000). */
  maxHeight?: number;
  /** Fail a page that declares no figure (default false). */
  requireFigures?: boolean;
  /** Milliseconds to wait for figures to be drawn after load (default 20000). */
  timeoutMs?: number;
}

type Json = Record<string, unknown>;

class Cdp {
  #ws: WebSocket;
  #id = 0;
  #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  #listeners: ((method: string, params: Json, sessionId?: string) => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`CDP: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      } else if (msg.method) {
        for (const l of this.#listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    };
  }

  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`cannot connect to Chromium DevTools at ${url}`));
    });
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(l: (method: string, params: Json, sessionId?: string) => void): () => void {
    this.#listeners.push(l);
    return () => {
      this.#listeners = this.#listeners.filter((x) => x !== l);
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#ws.readyState === WebSocket.CLOSED) return resolve();
      this.#ws.onclose = () => resolve();
      this.#ws.close();
    });
  }
}

async function startChromium(bin: string, width: number) {
  const userDir = await Deno.makeTempDir({ prefix: "check-render-" });
  const child = new Deno.Command(bin, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--allow-file-access-from-files",
      `--user-data-dir=${userDir}`,
      "--remote-debugging-port=0",
      `--window-size=${width},900`,
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = Date.now() + 30000;
  while (true) {
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(buf);
    if (m) {
      // keep draining stderr so Chromium never blocks on a full pipe
      (async () => {
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch { /* closed */ }
      })();
      return { child, wsUrl: m[1], userDir };
    }
    if (Date.now() > deadline) break;
    const r = await reader.read();
    if (r.done) break;
    buf += r.value;
  }
  try {
    child.kill("SIGKILL");
  } catch { /* gone */ }
  throw new Error(`Chromium (${bin}) did not start its DevTools endpoint:\n${buf.slice(-2000)}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Loads each page in headless Chromium, waits for its figures, screenshots it
 * (`page.png` next to `page.html`) and reports JS errors and undrawn figures.
 */
export async function checkPages(paths: string[], opts: CheckOptions = {}): Promise<PageCheck[]> {
  const bin = opts.chromium ?? await findChromium();
  if (!bin) {
    throw new Error("Chromium not found: install it (apt-get install chromium) or set $CHROMIUM.");
  }
  const width = opts.width ?? 1200;
  const { child, wsUrl, userDir } = await startChromium(bin, width);
  const cdp = await Cdp.connect(wsUrl);
  const results: PageCheck[] = [];
  try {
    for (const path of paths) results.push(await checkOne(cdp, path, width, opts));
    await cdp.send("Browser.close").catch(() => {});
  } finally {
    await cdp.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await Deno.remove(userDir, { recursive: true }).catch(() => {});
  }
  return results;
}

async function checkOne(
  cdp: Cdp,
  path: string,
  width: number,
  opts: CheckOptions,
): Promise<PageCheck> {
  const abs = await Deno.realPath(path);
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" }) as {
    targetId: string;
  };
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true }) as {
    sessionId: string;
  };
  const jsErrors: string[] = [];
  let loaded = false;
  const off = cdp.on((method, p, sid) => {
    if (sid !== sessionId) return;
    if (method === "Runtime.exceptionThrown") {
      const d = p.exceptionDetails as Json;
      const ex = d.exception as Json | undefined;
      jsErrors.push(`${ex?.description ?? d.text} (line ${d.lineNumber})`.slice(0, 500));
    } else if (method === "Runtime.consoleAPICalled" && p.type === "error") {
      const args = (p.args as Json[]).map((a) => a.value ?? a.description ?? "").join(" ");
      jsErrors.push(`console.error: ${args}`.slice(0, 500));
    } else if (method === "Log.entryAdded") {
      const e = p.entry as Json;
      if (e.level === "error") jsErrors.push(`${e.source}: ${e.text} ${e.url ?? ""}`.slice(0, 500));
    } else if (method === "Page.loadEventFired") loaded = true;
  });
  const s = (m: string, params: Json = {}) => cdp.send(m, params, sessionId);
  const evaluate = async <T>(expr: string): Promise<T> => {
    const r = await s("Runtime.evaluate", { expression: expr, returnByValue: true }) as {
      result: { value: T };
    };
    return r.result.value;
  };
  const problems: string[] = [];
  let figures = 0, plotted = 0;
  let screenshot: string | undefined;
  try {
    await s("Runtime.enable");
    await s("Log.enable");
    await s("Page.enable");
    await s("Emulation.setDeviceMetricsOverride", {
      width,
      height: 900,
      deviceScaleFactor: 1,
      mobile: false,
    });
    await s("Page.navigate", { url: `file://${abs}` });
    const timeout = opts.timeoutMs ?? 20000;
    const t0 = Date.now();
    while (!loaded && Date.now() - t0 < timeout) await sleep(100);
    if (!loaded) problems.push(`page did not finish loading within ${timeout} ms`);
    const countExpr = `(()=>{const f=[...document.querySelectorAll('[data-viz-figure]')];` +
      `return [f.length,f.filter(e=>e.classList.contains('js-plotly-plot')&&e.querySelector('svg.main-svg')).length]})()`;
    let stable = 0;
    while (Date.now() - t0 < timeout) {
      [figures, plotted] = await evaluate<[number, number]>(countExpr);
      if (plotted >= figures) {
        if (++stable >= 3) break;
      } else stable = 0;
      await sleep(200);
    }
    if (plotted < figures) problems.push(`${figures - plotted} of ${figures} figure(s) not drawn`);
    if (opts.requireFigures && figures === 0) problems.push("no figure in the page");
    if (opts.screenshot ?? true) {
      const h = await evaluate<number>("document.documentElement.scrollHeight");
      const height = Math.max(300, Math.min(h, opts.maxHeight ?? 6000));
      await s("Emulation.setDeviceMetricsOverride", {
        width,
        height,
        deviceScaleFactor: 1,
        mobile: false,
      });
      await sleep(400); // let responsive plots re-layout
      const shot = await s("Page.captureScreenshot", { format: "png" }) as { data: string };
      screenshot = path.replace(/\.html?$/i, "") + ".png";
      const bytes = Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0));
      await writeFileAtomic(screenshot, bytes);
    }
  } catch (e) {
    problems.push(`check failed: ${(e as Error).message}`);
  } finally {
    off();
    await cdp.send("Target.closeTarget", { targetId }).catch(() => {});
  }
  for (const e of jsErrors) problems.push(`JS error: ${e}`);
  return { path, ok: problems.length === 0, figures, plotted, jsErrors, problems, screenshot };
}
