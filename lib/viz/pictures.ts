/**
 * Pictures of grids, observations and masks for notebooks and reports, built
 * on lib/env's renderer (`svgFromEncoding`, `renderRgb`, `encodePng`).
 *
 * - {@link obsSvg}: a 7x7 egocentric observation (`obs.image` layout), with an
 *   optional {@link Mask} overlay (hidden cells dark with "?", hidden single
 *   attributes as letters o/c/s on an orange frame).
 * - {@link windowStripHtml}: the K frames of one tokenized window side by side,
 *   with direction/action captions and hidden slots marked; {@link windowStripSvg}: the same as
 *   one standalone SVG (the README's picture, tools/readme_picture.ts).
 * - {@link envImgHtml}: the full grid (or agent view) of an env as a compact PNG `<img>`.
 * - {@link replayEpisode} / {@link episodeAnimationHtml}: replay actions on a
 *   fresh env and show them as a small player (PNG frames).
 *
 * @module
 */

import {
  ACTION_NAMES,
  encodePng,
  make,
  type MiniGridEnv,
  renderRgb,
  svgFromEncoding,
} from "../env/mod.ts";
import {
  ACTION_NONE,
  ACTION_VOCAB,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Logits,
  type Mask,
  OBJ_VOCAB,
  STATE_VOCAB,
} from "../data/types.ts";
import { animationHtml, escapeHtml, rowHtml } from "./html.ts";

/** Base64 of bytes (no external dependency). */
export function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** An `<img>` with PNG bytes inlined as a data URL. */
export function pngImgHtml(png: Uint8Array, opts: { title?: string; width?: number } = {}): string {
  const w = opts.width ? ` width="${opts.width}"` : "";
  const t = opts.title ? ` title="${escapeHtml(opts.title)}" alt="${escapeHtml(opts.title)}"` : "";
  return `<img src="data:image/png;base64,${
    base64(png)
  }"${w}${t} style="image-rendering:pixelated">`;
}

/** Options of {@link envImgHtml}. */
export interface EnvImgOptions {
  /** "full" grid (default) or the agent's "agent" view. */
  view?: "full" | "agent";
  /** Pixels per tile (default 16 full, 24 agent). */
  tileSize?: number;
  /** Tooltip / alt text. */
  title?: string;
}

/** The env (after reset) as a compact PNG `<img>`. */
export function envImgHtml(env: MiniGridEnv, opts: EnvImgOptions = {}): string {
  const view = opts.view ?? "full";
  const img = renderRgb(env, { view, tileSize: opts.tileSize ?? (view === "full" ? 16 : 24) });
  return pngImgHtml(encodePng(img), { title: opts.title });
}

/** Which attributes of each of the 49 cells are hidden: [49 * 3], 1 = hidden. */
export type CellMask = Uint8Array;

/** Options of {@link obsSvg}. */
export interface ObsSvgOptions {
  /** Pixels per tile (default 20). */
  tileSize?: number;
  /** Hidden attributes per cell ([49 * 3], cell order `vx * 7 + vy`). */
  mask?: CellMask;
  /** Draw the agent at the bottom centre (default true). */
  agent?: boolean;
}

const ATTR_LETTER = ["o", "c", "s"];

/**
 * A 7x7 observation (`obs.image`, [7, 7, 3] with cell (vx, vy) at `(vx * 7 + vy) * 3`)
 * as SVG, optionally with hidden cells / attributes marked.
 */
export function obsSvg(image: Uint8Array, opts: ObsSvgOptions = {}): string {
  if (image.length !== CELLS * 3) {
    throw new Error(
      `lib/viz/pictures: obsSvg needs a 7x7x3 image (147 values), got ${image.length}`,
    );
  }
  const ts = opts.tileSize ?? 20;
  const svg = svgFromEncoding(image, 7, 7, {
    tileSize: ts,
    agent: (opts.agent ?? true) ? { x: 3, y: 6, dir: 3 } : null,
  });
  if (!opts.mask) return svg;
  const m = opts.mask;
  if (m.length !== CELLS * 3) {
    throw new Error(`lib/viz/pictures: obsSvg mask needs 147 values, got ${m.length}`);
  }
  const over: string[] = [];
  const fs = Math.max(7, Math.round(ts * 0.45));
  for (let c = 0; c < CELLS; c++) {
    const vx = Math.floor(c / 7), vy = c % 7;
    const h = [m[c * 3], m[c * 3 + 1], m[c * 3 + 2]];
    const n = h[0] + h[1] + h[2];
    if (!n) continue;
    const x = vx * ts, y = vy * ts;
    if (n === 3) {
      over.push(
        `<rect x="${x}" y="${y}" width="${ts}" height="${ts}" fill="rgb(60,60,70)" fill-opacity="0.88"/>` +
          `<text x="${x + ts / 2}" y="${
            y + ts / 2 + fs / 3
          }" font-size="${fs}" text-anchor="middle" fill="#ffd54f" font-family="sans-serif">?</text>`,
      );
    } else {
      const letters = ATTR_LETTER.filter((_, a) => h[a]).join("");
      over.push(
        `<rect x="${x + 1}" y="${y + 1}" width="${ts - 2}" height="${
          ts - 2
        }" fill="none" stroke="#ff9800" stroke-width="2"/>` +
          `<text x="${x + ts / 2}" y="${
            y + ts / 2 + fs / 3
          }" font-size="${fs}" text-anchor="middle" fill="#ff9800" font-family="sans-serif" font-weight="bold">${letters}</text>`,
      );
    }
  }
  return svg.replace(/<\/svg>\s*$/, `${over.join("")}</svg>`);
}

/** Options of {@link windowStripHtml}. */
export interface WindowStripOptions {
  /** Pixels per tile (default 12). */
  tileSize?: number;
  /** Mask to overlay (same B, K as the batch). */
  mask?: Mask;
  /** Show at most this many frames (default all valid ones). */
  maxFrames?: number;
}

const DIR_ARROW = ["→", "↓", "←", "↑"];

/**
 * The frames of batch row `b` side by side: observation, direction and action
 * under each; hidden cells/attributes marked, hidden direction/action shown as "?".
 */
export function windowStripHtml(batch: Batch, b: number, opts: WindowStripOptions = {}): string {
  const { K } = batch;
  const items: { html: string; caption?: string }[] = [];
  const ts = opts.tileSize ?? 12;
  for (let k = 0; k < K && items.length < (opts.maxFrames ?? K); k++) {
    if (!batch.frameValid[b * K + k]) continue; // left padding
    const off = (b * K + k) * CELLS * 3;
    const image = Uint8Array.from(batch.cells.subarray(off, off + CELLS * 3));
    const mask = opts.mask ? opts.mask.cells.subarray(off, off + CELLS * 3) : undefined;
    const dHidden = opts.mask?.dirs[b * K + k];
    const aHidden = opts.mask?.actions[b * K + k];
    const a = batch.actions[b * K + k];
    const act = a === ACTION_NONE ? "–" : (ACTION_NAMES[a] ?? String(a));
    const dir = DIR_ARROW[batch.dirs[b * K + k]] ?? "?";
    items.push({
      html: obsSvg(image, { tileSize: ts, mask }),
      caption: `t${k} ${dHidden ? "?" : dir} ${aHidden ? "?" : act}`,
    });
  }
  return rowHtml(items);
}

/**
 * The frames of batch row `b` as one standalone SVG (for a README or a paper): the same
 * observations, hidden cells and captions as {@link windowStripHtml}, frames left to right, with
 * `title` above them when given.
 */
export function windowStripSvg(
  batch: Batch,
  b: number,
  opts: WindowStripOptions & { title?: string } = {},
): string {
  const { K } = batch;
  const ts = opts.tileSize ?? 20, gap = ts, side = 7 * ts;
  const top = opts.title ? Math.round(ts * 1.4) : 0, captionH = Math.round(ts * 1.3);
  const fs = Math.max(10, Math.round(ts * 0.6));
  const parts: string[] = [];
  let n = 0;
  for (let k = 0; k < K && n < (opts.maxFrames ?? K); k++) {
    if (!batch.frameValid[b * K + k]) continue; // left padding
    const off = (b * K + k) * CELLS * 3;
    const image = Uint8Array.from(batch.cells.subarray(off, off + CELLS * 3));
    const mask = opts.mask ? opts.mask.cells.subarray(off, off + CELLS * 3) : undefined;
    const a = batch.actions[b * K + k];
    const act = opts.mask?.actions[b * K + k]
      ? "?"
      : a === ACTION_NONE
      ? "–"
      : (ACTION_NAMES[a] ?? String(a));
    const dir = opts.mask?.dirs[b * K + k] ? "?" : (DIR_ARROW[batch.dirs[b * K + k]] ?? "?");
    const x = n * (side + gap);
    parts.push(obsSvg(image, { tileSize: ts, mask }).replace("<svg ", `<svg x="${x}" y="${top}" `));
    parts.push(
      `<text x="${x + side / 2}" y="${top + side + captionH - fs / 3}" font-size="${fs}" ` +
        `text-anchor="middle" font-family="sans-serif">${
          escapeHtml(`t${k}  dir ${dir}  action ${act}`)
        }</text>`,
    );
    n++;
  }
  const width = Math.max(1, n * (side + gap) - gap), height = top + side + captionH;
  const title = opts.title
    ? `<text x="0" y="${top - fs / 2}" font-size="${fs}" font-family="sans-serif" ` +
      `font-weight="bold">${escapeHtml(opts.title)}</text>`
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="white"/>` +
    `${title}${parts.join("")}</svg>\n`;
}

/** A replayed episode as pictures. */
export interface ReplayedEpisode {
  /** One `<img>` (PNG) per frame: the reset state, then the state after each action. */
  frames: string[];
  /** A caption per frame ("t=3 after forward"). */
  labels: string[];
  /** The mission text. */
  mission: string;
  /** Total reward. */
  totalReward: number;
  /** Whether the episode terminated with a positive reward. */
  success: boolean;
}

/** Options of {@link replayEpisode}. */
export interface ReplayOptions {
  /** "full" grid (default) or "agent" view. */
  view?: "full" | "agent";
  /** Pixels per tile (default 12 full, 20 agent). */
  tileSize?: number;
  /** At most this many frames (default 80); the rest are skipped. */
  maxFrames?: number;
  /** Env kwargs for `make`. */
  kwargs?: Record<string, unknown>;
}

/** Replays `actions` on `make(envId)` reset with `seed`, rendering each state as a PNG. */
export function replayEpisode(
  envId: string,
  seed: number,
  actions: ArrayLike<number>,
  opts: ReplayOptions = {},
): ReplayedEpisode {
  const env = make(envId, opts.kwargs);
  const { obs } = env.reset({ seed });
  const view = opts.view ?? "full";
  const ts = opts.tileSize ?? (view === "full" ? 12 : 20);
  const pic = () => pngImgHtml(encodePng(renderRgb(env, { view, tileSize: ts })));
  const max = opts.maxFrames ?? 80;
  const frames = [pic()], labels = ["t=0 (reset)"];
  let total = 0, success = false;
  for (let t = 0; t < actions.length; t++) {
    const a = actions[t];
    const r = env.step(a);
    total += r.reward;
    if (frames.length < max) {
      frames.push(pic());
      labels.push(
        `t=${t + 1} after ${ACTION_NAMES[a] ?? a}${
          r.reward > 0 ? `  reward ${r.reward.toFixed(3)}` : ""
        }`,
      );
    }
    if (r.terminated || r.truncated) {
      success = r.terminated && r.reward > 0;
      break;
    }
  }
  return { frames, labels, mission: obs.mission, totalReward: total, success };
}

/** {@link replayEpisode} shown as a player with the mission as its title. */
export function episodeAnimationHtml(
  envId: string,
  seed: number,
  actions: ArrayLike<number>,
  opts: ReplayOptions & { fps?: number } = {},
): string {
  const ep = replayEpisode(envId, seed, actions, opts);
  return animationHtml(ep.frames, {
    labels: ep.labels,
    fps: opts.fps ?? 4,
    title: `${envId} seed ${seed}: "${ep.mission}" (${ep.success ? "success" : "no success"})`,
  });
}

/**
 * The batch with every hidden slot replaced by the model's argmax (for
 * pictures of predictions next to the truth). Visible slots keep their values.
 */
export function predictedBatch(batch: Batch, mask: Mask, logits: Logits): Batch {
  const cells = batch.cells.slice(), dirs = batch.dirs.slice(), actions = batch.actions.slice();
  const heads: [Float32Array, number][] = [
    [logits.obj, OBJ_VOCAB],
    [logits.color, COLOR_VOCAB],
    [logits.state, STATE_VOCAB],
  ];
  const argmax = (lg: Float32Array, i: number, V: number) => {
    let best = 0;
    for (let v = 1; v < V; v++) if (lg[i * V + v] > lg[i * V + best]) best = v;
    return best;
  };
  for (let i = 0; i < cells.length; i++) {
    if (!mask.cells[i]) continue;
    const [lg, V] = heads[i % 3];
    cells[i] = argmax(lg, Math.floor(i / 3), V);
  }
  for (let j = 0; j < dirs.length; j++) {
    if (mask.dirs[j]) dirs[j] = argmax(logits.dir, j, DIR_VOCAB);
    if (mask.actions[j]) actions[j] = argmax(logits.action, j, ACTION_VOCAB);
  }
  return { ...batch, cells, dirs, actions };
}
