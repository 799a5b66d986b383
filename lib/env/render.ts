/**
 * Rendering of MiniGrid states for notebooks, reports and terminals: the full grid or the
 * agent's egocentric view as SVG (vector), PNG (rasterised like MiniGrid's `rgb_array`: tiles
 * drawn at 3x and box-downsampled, visible cells highlighted) and ASCII text.
 *
 * The core functions work on encodings (`[W, H, 3]` numpy layout, the same as `Grid.encode()`
 * and as an observation image), so datasets and model predictions can be drawn too.
 *
 * @module
 */

import { deflateSync } from "node:zlib";
import { COLORS, IDX_TO_COLOR, OBJECT_TO_IDX } from "./constants.ts";
import type { MiniGridEnv } from "./minigrid.ts";

/** Agent overlay: position and direction (0 right, 1 down, 2 left, 3 up). */
export interface AgentMark {
  /** Column. */
  x: number;
  /** Row. */
  y: number;
  /** Direction. */
  dir: number;
}

/** Options for drawing an encoding. */
export interface DrawOptions {
  /** Pixels per tile (default 32). */
  tileSize?: number;
  /** Agent to draw (none if omitted). */
  agent?: AgentMark | null;
  /** Cells to highlight (index x * H + y, non-zero = highlighted). */
  highlight?: Uint8Array | null;
}

/** An RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Pixels (row-major RGB). */
  data: Uint8Array;
}

/** Which picture of an env to draw. */
export interface EnvRenderOptions {
  /** "full" grid (default) or the agent's egocentric "agent" view. */
  view?: "full" | "agent";
  /** Pixels per tile (default 32). */
  tileSize?: number;
  /** Highlight the cells the agent sees (default true). */
  highlight?: boolean;
}

type Rgb = readonly [number, number, number];
type Shape =
  | { k: "rect"; x0: number; x1: number; y0: number; y1: number; c: Rgb }
  | { k: "circle"; cx: number; cy: number; r: number; c: Rgb }
  | { k: "line"; x0: number; y0: number; x1: number; y1: number; r: number; c: Rgb };

const BLACK: Rgb = [0, 0, 0];
const GRID_LINE: Rgb = [100, 100, 100];

function checkEncoding(enc: Uint8Array, w: number, h: number): void {
  if (enc.length < w * h * 3) {
    throw new RangeError(
      `render: encoding has ${enc.length} bytes, need ${w}x${h}x3 = ${w * h * 3}`,
    );
  }
}

/** The vector shapes (in unit tile coordinates) MiniGrid draws for one encoded cell. */
function cellShapes(t: number, ci: number, state: number): Shape[] {
  const c = COLORS[IDX_TO_COLOR[ci] ?? "grey"];
  const rect = (x0: number, x1: number, y0: number, y1: number, col: Rgb): Shape => ({
    k: "rect",
    x0,
    x1,
    y0,
    y1,
    c: col,
  });
  const circ = (cx: number, cy: number, r: number, col: Rgb): Shape => ({
    k: "circle",
    cx,
    cy,
    r,
    c: col,
  });
  switch (t) {
    case OBJECT_TO_IDX.wall:
    case OBJECT_TO_IDX.goal:
      return [rect(0, 1, 0, 1, c)];
    case OBJECT_TO_IDX.floor:
      return [rect(0.031, 1, 0.031, 1, [c[0] / 2, c[1] / 2, c[2] / 2])];
    case OBJECT_TO_IDX.door:
      if (state === 0) return [rect(0.88, 1, 0, 1, c), rect(0.92, 0.96, 0.04, 0.96, BLACK)];
      if (state === 2) {
        return [
          rect(0, 1, 0, 1, c),
          rect(0.06, 0.94, 0.06, 0.94, [0.45 * c[0], 0.45 * c[1], 0.45 * c[2]]),
          rect(0.52, 0.75, 0.5, 0.56, c),
        ];
      }
      return [
        rect(0, 1, 0, 1, c),
        rect(0.04, 0.96, 0.04, 0.96, BLACK),
        rect(0.08, 0.92, 0.08, 0.92, c),
        rect(0.12, 0.88, 0.12, 0.88, BLACK),
        circ(0.75, 0.5, 0.08, c),
      ];
    case OBJECT_TO_IDX.key:
      return [
        rect(0.5, 0.63, 0.31, 0.88, c),
        rect(0.38, 0.5, 0.59, 0.66, c),
        rect(0.38, 0.5, 0.81, 0.88, c),
        circ(0.56, 0.28, 0.19, c),
        circ(0.56, 0.28, 0.064, BLACK),
      ];
    case OBJECT_TO_IDX.ball:
      return [circ(0.5, 0.5, 0.31, c)];
    case OBJECT_TO_IDX.box:
      return [
        rect(0.12, 0.88, 0.12, 0.88, c),
        rect(0.18, 0.82, 0.18, 0.82, BLACK),
        rect(0.16, 0.84, 0.47, 0.53, c),
      ];
    case OBJECT_TO_IDX.lava: {
      const out: Shape[] = [rect(0, 1, 0, 1, [255, 128, 0])];
      for (let i = 0; i < 3; i++) {
        const ylo = 0.3 + 0.2 * i, yhi = 0.4 + 0.2 * i;
        out.push({ k: "line", x0: 0.1, y0: ylo, x1: 0.3, y1: yhi, r: 0.03, c: BLACK });
        out.push({ k: "line", x0: 0.3, y0: yhi, x1: 0.5, y1: ylo, r: 0.03, c: BLACK });
        out.push({ k: "line", x0: 0.5, y0: ylo, x1: 0.7, y1: yhi, r: 0.03, c: BLACK });
        out.push({ k: "line", x0: 0.7, y0: yhi, x1: 0.9, y1: ylo, r: 0.03, c: BLACK });
      }
      return out;
    }
    default:
      return [];
  }
}

function inShape(s: Shape, x: number, y: number): boolean {
  if (s.k === "rect") return x >= s.x0 && x <= s.x1 && y >= s.y0 && y <= s.y1;
  if (s.k === "circle") return (x - s.cx) ** 2 + (y - s.cy) ** 2 <= s.r * s.r;
  const xmin = Math.min(s.x0, s.x1) - s.r, xmax = Math.max(s.x0, s.x1) + s.r;
  const ymin = Math.min(s.y0, s.y1) - s.r, ymax = Math.max(s.y0, s.y1) + s.r;
  if (x < xmin || x > xmax || y < ymin || y > ymax) return false;
  const dx = s.x1 - s.x0, dy = s.y1 - s.y0;
  const dist = Math.hypot(dx, dy);
  const ux = dx / dist, uy = dy / dist;
  const a = Math.min(Math.max((x - s.x0) * ux + (y - s.y0) * uy, 0), dist);
  return Math.hypot(x - (s.x0 + a * ux), y - (s.y0 + a * uy)) <= s.r;
}

const TRI: [number, number][] = [[0.12, 0.19], [0.87, 0.5], [0.12, 0.81]];

function inAgent(dir: number, x: number, y: number): boolean {
  // Rotate the query point by -theta about the centre (MiniGrid's rotate_fn), then test.
  const th = 0.5 * Math.PI * dir;
  const px = x - 0.5, py = y - 0.5;
  const x2 = 0.5 + px * Math.cos(-th) - py * Math.sin(-th);
  const y2 = 0.5 + py * Math.cos(-th) + px * Math.sin(-th);
  const [a, b, c] = TRI;
  const v0x = c[0] - a[0], v0y = c[1] - a[1], v1x = b[0] - a[0], v1y = b[1] - a[1];
  const v2x = x2 - a[0], v2y = y2 - a[1];
  const d00 = v0x * v0x + v0y * v0y, d01 = v0x * v1x + v0y * v1y, d02 = v0x * v2x + v0y * v2y;
  const d11 = v1x * v1x + v1y * v1y, d12 = v1x * v2x + v1y * v2y;
  const inv = 1 / (d00 * d11 - d01 * d01);
  const u = (d11 * d02 - d01 * d12) * inv, v = (d00 * d12 - d01 * d02) * inv;
  return u >= 0 && v >= 0 && u + v < 1;
}

const tileCache = new Map<string, Uint8Array>();

/** One rendered tile (tileSize x tileSize RGB), MiniGrid-style (3x supersampling). */
function renderTile(
  t: number,
  c: number,
  s: number,
  agentDir: number | null,
  hl: boolean,
  ts: number,
): Uint8Array {
  const key = `${t},${c},${s},${agentDir},${hl},${ts}`;
  const hit = tileCache.get(key);
  if (hit) return hit;
  const sub = 3, n = ts * sub;
  const big = new Float64Array(n * n * 3);
  const fill = (test: (x: number, y: number) => boolean, col: Rgb) => {
    for (let y = 0; y < n; y++) {
      const yf = (y + 0.5) / n;
      for (let x = 0; x < n; x++) {
        const xf = (x + 0.5) / n;
        if (test(xf, yf)) {
          const o = (y * n + x) * 3;
          big[o] = Math.trunc(col[0]);
          big[o + 1] = Math.trunc(col[1]);
          big[o + 2] = Math.trunc(col[2]);
        }
      }
    }
  };
  fill((x, y) => x >= 0 && x <= 0.031 && y >= 0 && y <= 1, GRID_LINE);
  fill((x, y) => x >= 0 && x <= 1 && y >= 0 && y <= 0.031, GRID_LINE);
  for (const sh of cellShapes(t, c, s)) fill((x, y) => inShape(sh, x, y), sh.c);
  if (agentDir !== null) fill((x, y) => inAgent(agentDir, x, y), [255, 0, 0]);
  if (hl) {
    for (let i = 0; i < big.length; i++) {
      big[i] = Math.min(255, Math.trunc(big[i] + 0.3 * (255 - big[i])));
    }
  }
  const out = new Uint8Array(ts * ts * 3);
  for (let y = 0; y < ts; y++) {
    for (let x = 0; x < ts; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        for (let dy = 0; dy < sub; dy++) {
          for (let dx = 0; dx < sub; dx++) acc += big[((y * sub + dy) * n + x * sub + dx) * 3 + ch];
        }
        out[(y * ts + x) * 3 + ch] = Math.trunc(acc / (sub * sub));
      }
    }
  }
  tileCache.set(key, out);
  return out;
}

/** Rasterise an encoding [W, H, 3] (plus optional agent and highlight) to RGB. */
export function rasterize(enc: Uint8Array, w: number, h: number, opts: DrawOptions = {}): RgbImage {
  checkEncoding(enc, w, h);
  const ts = opts.tileSize ?? 32;
  if (!Number.isInteger(ts) || ts < 1) {
    throw new RangeError(`rasterize: tileSize must be a positive integer, got ${ts}`);
  }
  const W = w * ts, H = h * ts;
  const data = new Uint8Array(W * H * 3);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const o = (x * h + y) * 3;
      const ag = opts.agent && opts.agent.x === x && opts.agent.y === y ? opts.agent.dir : null;
      const hl = !!opts.highlight && opts.highlight[x * h + y] !== 0;
      const tile = renderTile(enc[o], enc[o + 1], enc[o + 2], ag, hl, ts);
      for (let ty = 0; ty < ts; ty++) {
        data.set(tile.subarray(ty * ts * 3, (ty + 1) * ts * 3), ((y * ts + ty) * W + x * ts) * 3);
      }
    }
  }
  return { width: W, height: H, data };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Encode an RGB image as a PNG file (8-bit truecolour, zlib via node:zlib). */
export function encodePng(img: RgbImage): Uint8Array {
  const { width, height, data } = img;
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `encodePng: ${data.length} bytes for ${width}x${height} RGB (need ${width * height * 3})`,
    );
  }
  const raw = new Uint8Array((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    raw.set(data.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  const idat = new Uint8Array(deflateSync(raw));
  const chunk = (type: string, body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(12 + body.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, body.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(body, 8);
    dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array(0)),
  ];
  const total = parts.reduce((a, p) => a + p.length, 0);
  const png = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    png.set(p, off);
    off += p.length;
  }
  return png;
}

const rgbStr = (c: Rgb) => `rgb(${Math.trunc(c[0])},${Math.trunc(c[1])},${Math.trunc(c[2])})`;
const f3 = (v: number) => +v.toFixed(3);

/** Draw an encoding [W, H, 3] as an SVG document string. */
export function svgFromEncoding(
  enc: Uint8Array,
  w: number,
  h: number,
  opts: DrawOptions = {},
): string {
  checkEncoding(enc, w, h);
  const ts = opts.tileSize ?? 32;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w * ts}" height="${h * ts}" viewBox="0 0 ${
      w * ts
    } ${h * ts}">`,
  );
  parts.push(`<rect x="0" y="0" width="${w * ts}" height="${h * ts}" fill="black"/>`);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const o = (x * h + y) * 3;
      const ox = x * ts, oy = y * ts;
      parts.push(`<g transform="translate(${ox},${oy})">`);
      for (const s of cellShapes(enc[o], enc[o + 1], enc[o + 2])) {
        if (s.k === "rect") {
          parts.push(
            `<rect x="${f3(s.x0 * ts)}" y="${f3(s.y0 * ts)}" width="${
              f3((s.x1 - s.x0) * ts)
            }" height="${f3((s.y1 - s.y0) * ts)}" fill="${rgbStr(s.c)}"/>`,
          );
        } else if (s.k === "circle") {
          parts.push(
            `<circle cx="${f3(s.cx * ts)}" cy="${f3(s.cy * ts)}" r="${f3(s.r * ts)}" fill="${
              rgbStr(s.c)
            }"/>`,
          );
        } else {
          parts.push(
            `<line x1="${f3(s.x0 * ts)}" y1="${f3(s.y0 * ts)}" x2="${f3(s.x1 * ts)}" y2="${
              f3(s.y1 * ts)
            }" stroke="${rgbStr(s.c)}" stroke-width="${f3(2 * s.r * ts)}" stroke-linecap="round"/>`,
          );
        }
      }
      if (opts.agent && opts.agent.x === x && opts.agent.y === y) {
        const pts = TRI.map(([px, py]) => `${f3(px * ts)},${f3(py * ts)}`).join(" ");
        parts.push(
          `<polygon points="${pts}" fill="rgb(255,0,0)" transform="rotate(${90 * opts.agent.dir} ${
            ts / 2
          } ${ts / 2})"/>`,
        );
      }
      if (opts.highlight && opts.highlight[x * h + y]) {
        parts.push(
          `<rect x="0" y="0" width="${ts}" height="${ts}" fill="white" fill-opacity="0.3"/>`,
        );
      }
      parts.push(
        `<rect x="0" y="0" width="${ts}" height="${ts}" fill="none" stroke="rgb(100,100,100)" stroke-width="${
          f3(Math.max(1, 0.031 * ts))
        }"/>`,
      );
      parts.push(`</g>`);
    }
  }
  parts.push(`</svg>`);
  return parts.join("");
}

const OBJ_CHAR: Record<number, string> = {
  [OBJECT_TO_IDX.wall]: "W",
  [OBJECT_TO_IDX.floor]: "F",
  [OBJECT_TO_IDX.door]: "D",
  [OBJECT_TO_IDX.key]: "K",
  [OBJECT_TO_IDX.ball]: "A",
  [OBJECT_TO_IDX.box]: "B",
  [OBJECT_TO_IDX.goal]: "G",
  [OBJECT_TO_IDX.lava]: "V",
};
const AGENT_CHAR = [">", "V", "<", "^"];

/**
 * Text picture of an encoding, two characters per cell as MiniGrid's `pprint_grid`:
 * object letter + colour initial (doors: `__` open, `L`+colour locked, `D`+colour closed),
 * `  ` empty, `..` unseen, the agent as `>>`, `VV`, `<<`, `^^`.
 */
export function asciiFromEncoding(
  enc: Uint8Array,
  w: number,
  h: number,
  agent: AgentMark | null = null,
): string {
  checkEncoding(enc, w, h);
  const rows: string[] = [];
  for (let y = 0; y < h; y++) {
    let row = "";
    for (let x = 0; x < w; x++) {
      if (agent && agent.x === x && agent.y === y) {
        row += AGENT_CHAR[agent.dir].repeat(2);
        continue;
      }
      const o = (x * h + y) * 3;
      const t = enc[o];
      const ci = (IDX_TO_COLOR[enc[o + 1]] ?? "?")[0].toUpperCase();
      if (t === OBJECT_TO_IDX.unseen) row += "..";
      else if (t === OBJECT_TO_IDX.empty) row += "  ";
      else if (t === OBJECT_TO_IDX.door) {
        row += enc[o + 2] === 0 ? "__" : (enc[o + 2] === 2 ? "L" : "D") + ci;
      } else row += (OBJ_CHAR[t] ?? "?") + ci;
    }
    rows.push(row);
  }
  return rows.join("\n");
}

interface Picture {
  enc: Uint8Array;
  w: number;
  h: number;
  agent: AgentMark;
  highlight: Uint8Array | null;
}

function envPicture(env: MiniGridEnv, opts: EnvRenderOptions): Picture {
  if (env.agentDir < 0) {
    throw new Error("render: the env has not been reset yet (call reset({ seed }) first)");
  }
  const view = opts.view ?? "full";
  const hl = opts.highlight ?? true;
  if (view === "full") {
    return {
      enc: env.encodeGrid(),
      w: env.width,
      h: env.height,
      agent: { x: env.agentX, y: env.agentY, dir: env.agentDir },
      highlight: hl ? env.worldVisibility() : null,
    };
  }
  if (view !== "agent") throw new Error(`render: view must be "full" or "agent", got "${view}"`);
  const vs = env.agentViewSize;
  const enc = env.genObsImage(new Uint8Array(vs * vs * 3), 0);
  return {
    enc,
    w: vs,
    h: vs,
    agent: { x: vs >> 1, y: vs - 1, dir: 3 },
    highlight: hl ? env.viewVisibility() : null,
  };
}

/** The env (full grid or agent view) as an SVG document string. */
export function renderSvg(env: MiniGridEnv, opts: EnvRenderOptions = {}): string {
  const p = envPicture(env, opts);
  return svgFromEncoding(p.enc, p.w, p.h, {
    tileSize: opts.tileSize,
    agent: p.agent,
    highlight: p.highlight,
  });
}

/** The env as an RGB image (like MiniGrid's `render()` in rgb_array mode). */
export function renderRgb(env: MiniGridEnv, opts: EnvRenderOptions = {}): RgbImage {
  const p = envPicture(env, opts);
  return rasterize(p.enc, p.w, p.h, {
    tileSize: opts.tileSize,
    agent: p.agent,
    highlight: p.highlight,
  });
}

/** The env as PNG file bytes. */
export function renderPng(env: MiniGridEnv, opts: EnvRenderOptions = {}): Uint8Array {
  return encodePng(renderRgb(env, opts));
}

/** The env as text (see asciiFromEncoding); the mission is not included. */
export function renderAscii(env: MiniGridEnv, opts: EnvRenderOptions = {}): string {
  const p = envPicture(env, opts);
  return asciiFromEncoding(p.enc, p.w, p.h, p.agent);
}
