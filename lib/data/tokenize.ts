/**
 * Episodes → windows → {@link Batch} tensors, and back.
 *
 * A window is the `K` frames of one episode that END at frame `t`, identified by `(episode, t)`:
 * frames `t-K+1 .. t`. A window may start before the episode's first frame; the missing frames
 * are padding and come FIRST, so the valid frames are always a suffix of the window and the
 * window's last slot `K-1` is always frame `t` (there is never padding after a valid frame).
 * Padding frames have `frameValid = 0`, cells `[0,0,0]`, direction 0 and action
 * {@link ACTION_NONE}.
 *
 * Window ends of an episode of `L` frames (see {@link windowEnds}): every `stride`-th frame
 * counted back from the last one, `L-1, L-1-stride, …` down to `>= 0`, in increasing order. The
 * last frame always ends a window; with `stride = 1` every frame `0 .. L-1` ends exactly one
 * window (the layout evaluation needs: {@link evalWindowConfig}, {@link windowIdAt}).
 *
 * This is also the layout of closed-loop decisions: at step `t` the policy sees the window ending
 * at the current frame `t`, its action hidden ({@link fillWindow} builds both, so a decision at
 * step `t` sees exactly the tokens of the training window ending at `t`, for every `t` including
 * the first `K-1`).
 *
 * Cells keep MiniGrid's `obs["image"]` layout: frame `f` of the stored images is
 * `images[f*147 + (vx*7 + vy)*3 + attr]`, exactly the `[K, 49, 3]` block of a batch row, so filling
 * a batch is a widening copy of 147 bytes per frame (no per-cell allocation, no reshuffling).
 *
 * Missions are encoded once per episode (`encodeMission` from `lib/env/babyai/vocab.ts`, 0 =
 * padding) into `M = window.mission_len` positions; a mission with more words than `M` is an
 * error naming the mission and the episode.
 *
 * @module
 */

import type { WindowConfig } from "../config/schema.ts";
import {
  ACTION_NONE,
  ACTION_VOCAB,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  OBJ_VOCAB,
  STATE_VOCAB,
} from "./types.ts";
import { encodeMission as babyaiEncodeMission } from "../env/babyai/vocab.ts";

/** Values per stored frame image: 7 × 7 cells × 3 attributes. */
export const FRAME_SIZE = CELLS * 3;

/**
 * Episode data of one split as stored (see `lib/data/store.ts`): frames of all episodes
 * concatenated, with offsets.
 */
export interface EpisodeData {
  /** [F, 7, 7, 3] uint8, numpy `obs["image"]` layout (cell index `vx*7 + vy`). */
  images: Uint8Array;
  /** [F] agent direction 0..3. */
  directions: Uint8Array;
  /** [F] action taken after the frame; {@link ACTION_NONE} on each episode's final frame. */
  actions: Uint8Array;
  /** [E+1] frame offsets: episode `e` is frames `episodeOffsets[e] .. episodeOffsets[e+1]-1`. */
  episodeOffsets: Int32Array | BigInt64Array | ArrayLike<number>;
  /** [E] mission strings. */
  missions: readonly string[];
}

/** The `window` section of the config (the schema's, lib/config/schema.ts). */
export type { WindowConfig };

/** Encodes a mission into word ids (0 = padding). Signature of `encodeMission` in vocab.ts. */
export type MissionEncoder = (text: string, maxLen?: number) => Int32Array;

/** Options of {@link tokenizeEpisodes}. */
export interface TokenizeOptions {
  /** Mission encoder; defaults to the BabyAI vocabulary's `encodeMission`. */
  encodeMission?: MissionEncoder;
  /** Check every stored value against the vocabulary sizes (default true; O(frames)). */
  validate?: boolean;
  /** Name used in error messages (e.g. `data/gotoredball/train`). */
  name?: string;
}

/** Episodes cut into windows, ready to fill batches. Holds references to the episode arrays. */
export interface WindowedDataset {
  /** The episode data (not copied). */
  data: EpisodeData;
  /** Frames per window. */
  K: number;
  /** Mission positions. */
  M: number;
  /** Stride between window ends. */
  stride: number;
  /** Number of episodes. */
  numEpisodes: number;
  /** Number of windows. */
  numWindows: number;
  /** [E+1] frame offsets as int32. */
  offsets: Int32Array;
  /** [E, M] encoded missions. */
  missionIds: Int32Array;
  /** [numWindows] episode of each window. */
  winEpisode: Int32Array;
  /** [numWindows] last frame of each window (slot `K-1`), relative to its episode. */
  winEnd: Int32Array;
  /**
   * [E+1] window offsets: the windows of episode `e` are ids `episodeWindows[e] ..
   * episodeWindows[e+1]-1`, in increasing end frame (with stride 1, id `episodeWindows[e] + t`
   * ends at frame `t`).
   */
  episodeWindows: Int32Array;
}

function normalizeOffsets(raw: EpisodeData["episodeOffsets"], name: string): Int32Array {
  const n = raw.length;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number((raw as ArrayLike<number | bigint>)[i]);
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new Error(`${name}: episodeOffsets[${i}] = ${v} is not a valid frame offset`);
    }
    out[i] = v;
  }
  return out;
}

/** Number of windows of an episode of `len >= 1` frames: `floor((len-1) / stride) + 1`. */
function windowCount(len: number, stride: number): number {
  return Math.floor((len - 1) / stride) + 1;
}

/**
 * End frames of the windows of an episode of `len` frames, in increasing order: `len-1`,
 * `len-1-stride`, … down to `>= 0` (see the module doc). With `stride = 1`: `0 .. len-1`.
 */
export function windowEnds(len: number, stride: number): number[] {
  if (!Number.isInteger(len) || len < 1) {
    throw new Error(`windowEnds: episode length must be an integer >= 1, got ${len}`);
  }
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`windowEnds: stride must be an integer >= 1, got ${stride}`);
  }
  const n = windowCount(len, stride);
  const first = (len - 1) % stride;
  return Array.from({ length: n }, (_, i) => first + i * stride);
}

/**
 * `window` with stride 1: one window ending at every frame of every episode. Evaluation
 * tokenizes the test split with it whatever `window.stride` training used, so that every
 * decision and every next frame is scored (`tokenizeEpisodes(data, evalWindowConfig(cfg.window))`).
 */
export function evalWindowConfig(window: WindowConfig): WindowConfig {
  return { ...window, stride: 1 };
}

/**
 * Id of the window of episode `episode` that ends at frame `t` (relative to the episode), or -1
 * when the stride skips `t`. With stride 1 every `t` in `0 .. L-1` has one. Throws when the
 * episode or frame is out of range.
 */
export function windowIdAt(ds: WindowedDataset, episode: number, t: number): number {
  if (!(Number.isInteger(episode) && episode >= 0 && episode < ds.numEpisodes)) {
    throw new Error(`windowIdAt: episode ${episode} out of range 0..${ds.numEpisodes - 1}`);
  }
  const len = ds.offsets[episode + 1] - ds.offsets[episode];
  if (!(Number.isInteger(t) && t >= 0 && t < len)) {
    throw new Error(`windowIdAt: frame ${t} out of range 0..${len - 1} of episode ${episode}`);
  }
  const back = len - 1 - t;
  if (back % ds.stride !== 0) return -1;
  return ds.episodeWindows[episode + 1] - 1 - back / ds.stride;
}

/**
 * Cut episodes into windows and encode missions. Validates shapes and (by default) value ranges,
 * with errors naming the array, the index and what to do.
 */
export function tokenizeEpisodes(
  data: EpisodeData,
  window: WindowConfig,
  opts: TokenizeOptions = {},
): WindowedDataset {
  const name = opts.name ?? "episode data";
  const K = window.length, stride = window.stride, M = window.mission_len;
  if (!Number.isInteger(K) || K < 1) {
    throw new Error(`window.length must be an integer >= 1, got ${K}`);
  }
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`window.stride must be an integer >= 1, got ${stride}`);
  }
  if (!Number.isInteger(M) || M < 1) {
    throw new Error(`window.mission_len must be an integer >= 1, got ${M}`);
  }
  const offsets = normalizeOffsets(data.episodeOffsets, name);
  const E = offsets.length - 1;
  if (E < 1) throw new Error(`${name}: no episodes (episodeOffsets has length ${offsets.length})`);
  const F = data.directions.length;
  if (offsets[0] !== 0 || offsets[E] !== F) {
    throw new Error(
      `${name}: episodeOffsets must start at 0 and end at the frame count ${F}, ` +
        `got ${offsets[0]} .. ${offsets[E]}`,
    );
  }
  if (data.images.length !== F * FRAME_SIZE) {
    throw new Error(
      `${name}: images has ${data.images.length} values, expected ${F} frames × ${FRAME_SIZE}`,
    );
  }
  if (data.actions.length !== F) {
    throw new Error(`${name}: actions has ${data.actions.length} values, expected ${F}`);
  }
  if (data.missions.length !== E) {
    throw new Error(`${name}: ${data.missions.length} missions for ${E} episodes`);
  }
  for (let e = 0; e < E; e++) {
    if (offsets[e + 1] <= offsets[e]) {
      throw new Error(
        `${name}: episode ${e} is empty or offsets decrease (${offsets[e]} -> ${offsets[e + 1]})`,
      );
    }
  }
  if (opts.validate ?? true) validateValues(data, name);

  const encode = opts.encodeMission ?? babyaiEncodeMission;
  const missionIds = new Int32Array(E * M);
  const cache = new Map<string, Int32Array>();
  for (let e = 0; e < E; e++) {
    const text = data.missions[e];
    let ids = cache.get(text);
    if (!ids) {
      const raw = encode(text);
      let n = raw.length;
      while (n > 0 && raw[n - 1] === 0) n--;
      if (n > M) {
        throw new Error(
          `${name}: mission of episode ${e} has ${n} words, more than window.mission_len = ${M}: ` +
            `"${text}". Raise window.mission_len in the config.`,
        );
      }
      ids = raw.subarray(0, n);
      cache.set(text, ids);
    }
    missionIds.set(ids, e * M);
  }

  const episodeWindows = new Int32Array(E + 1);
  for (let e = 0; e < E; e++) {
    episodeWindows[e + 1] = episodeWindows[e] + windowCount(offsets[e + 1] - offsets[e], stride);
  }
  const count = episodeWindows[E];
  const winEpisode = new Int32Array(count);
  const winEnd = new Int32Array(count);
  for (let e = 0; e < E; e++) {
    const len = offsets[e + 1] - offsets[e];
    for (let w = episodeWindows[e], t = (len - 1) % stride; w < episodeWindows[e + 1]; w++) {
      winEpisode[w] = e;
      winEnd[w] = t;
      t += stride;
    }
  }
  return {
    data,
    K,
    M,
    stride,
    numEpisodes: E,
    numWindows: count,
    offsets,
    missionIds,
    winEpisode,
    winEnd,
    episodeWindows,
  };
}

function validateValues(data: EpisodeData, name: string): void {
  const img = data.images;
  const limits = [OBJ_VOCAB, COLOR_VOCAB, STATE_VOCAB];
  for (let i = 0; i < img.length; i++) {
    const a = i % 3;
    if (img[i] >= limits[a]) {
      const f = Math.floor(i / FRAME_SIZE), c = Math.floor((i % FRAME_SIZE) / 3);
      throw new Error(
        `${name}: images frame ${f} cell ${c} (vx=${Math.floor(c / 7)}, vy=${c % 7}) ` +
          `${["object", "colour", "state"][a]} = ${img[i]} is outside 0..${limits[a] - 1}`,
      );
    }
  }
  for (let f = 0; f < data.directions.length; f++) {
    if (data.directions[f] >= DIR_VOCAB) {
      throw new Error(`${name}: directions[${f}] = ${data.directions[f]} is outside 0..3`);
    }
    if (data.actions[f] >= ACTION_VOCAB) {
      throw new Error(
        `${name}: actions[${f}] = ${data.actions[f]} is outside 0..${ACTION_VOCAB - 1}`,
      );
    }
  }
}

/** A zero-filled batch of `B` windows. */
export function allocBatch(B: number, K: number, M: number): Batch {
  return {
    B,
    K,
    M,
    cells: new Int32Array(B * K * FRAME_SIZE),
    dirs: new Int32Array(B * K),
    actions: new Int32Array(B * K),
    mission: new Int32Array(B * M),
    frameValid: new Uint8Array(B * K),
  };
}

/** The frame arrays {@link fillWindow} reads: an episode (or its prefix) at some frame offset. */
export interface WindowSource {
  /** [F, 7, 7, 3] uint8 images, numpy `obs["image"]` layout. */
  images: Uint8Array;
  /** [F] directions. */
  directions: ArrayLike<number>;
  /** [F] action taken after each frame ({@link ACTION_NONE} where none is known yet). */
  actions: ArrayLike<number>;
}

/**
 * Fill batch row `b` with the window that ends at frame `end` of an episode whose frame 0 is
 * frame `first` of `src` (frames `first .. first+end` must exist in `src`), and the mission ids
 * `mission` (`batch.M` values; missing trailing ones are padding 0). Slots before the episode's
 * first frame are padding (see the module doc). Every slot of the row is overwritten.
 *
 * The one window builder: {@link fillBatch} calls it for stored episodes, and the closed-loop
 * policy (`lib/eval/rollout.ts`) for the episode it is playing, so training and closed-loop
 * windows have the same layout by construction.
 */
export function fillWindow(
  batch: Batch,
  b: number,
  src: WindowSource,
  first: number,
  end: number,
  mission: ArrayLike<number>,
): void {
  const { K, M } = batch;
  if (!(b >= 0 && b < batch.B)) {
    throw new Error(`fillWindow: row ${b} out of range 0..${batch.B - 1}`);
  }
  if (!(Number.isInteger(end) && end >= 0 && first >= 0 && first + end < src.directions.length)) {
    throw new Error(
      `fillWindow: window end ${end} (episode at frame ${first}) is outside the ` +
        `${src.directions.length} source frames`,
    );
  }
  const nValid = Math.min(K, end + 1);
  const pad = K - nValid;
  const f0 = first + end - nValid + 1; // first valid frame, in src
  const { images, directions, actions } = src;
  const { cells, dirs, actions: acts, frameValid } = batch;
  // cells: zero padding, then a contiguous copy with widening (uint8 -> int32)
  const dst0 = b * K * FRAME_SIZE, dstValid = dst0 + pad * FRAME_SIZE;
  cells.fill(0, dst0, dstValid);
  const src0 = f0 * FRAME_SIZE, n = nValid * FRAME_SIZE;
  for (let i = 0; i < n; i++) cells[dstValid + i] = images[src0 + i];
  for (let k = 0; k < K; k++) {
    const j = b * K + k;
    if (k < pad) {
      dirs[j] = 0;
      acts[j] = ACTION_NONE;
      frameValid[j] = 0;
    } else {
      dirs[j] = directions[f0 + k - pad];
      acts[j] = actions[f0 + k - pad];
      frameValid[j] = 1;
    }
  }
  const m = Math.min(M, mission.length);
  for (let i = 0; i < m; i++) batch.mission[b * M + i] = mission[i];
  batch.mission.fill(0, b * M + m, b * M + M);
}

/**
 * Fill `out` (or a new batch) with the windows `windowIds[from .. from+count)`. `out.B` must equal
 * `count`; `out.K`/`out.M` must match the dataset. Every slot of `out` is overwritten.
 */
export function fillBatch(
  ds: WindowedDataset,
  windowIds: ArrayLike<number>,
  out?: Batch,
  from = 0,
  count = windowIds.length - from,
): Batch {
  const { K, M } = ds;
  const batch = out ?? allocBatch(count, K, M);
  if (batch.B !== count || batch.K !== K || batch.M !== M) {
    throw new Error(
      `fillBatch: batch is [B=${batch.B}, K=${batch.K}, M=${batch.M}] but ${count} windows of ` +
        `K=${K}, M=${M} were requested`,
    );
  }
  for (let b = 0; b < count; b++) {
    const w = windowIds[from + b];
    if (!(w >= 0 && w < ds.numWindows)) {
      throw new Error(`fillBatch: window id ${w} out of range 0..${ds.numWindows - 1}`);
    }
    const e = ds.winEpisode[w];
    fillWindow(
      batch,
      b,
      ds.data,
      ds.offsets[e],
      ds.winEnd[w],
      ds.missionIds.subarray(e * M, e * M + M),
    );
  }
  return batch;
}

/** Frames recovered from one batch row (valid frames only). */
export interface DetokenizedWindow {
  /** Valid frames in the window. */
  frames: number;
  /** [frames, 7, 7, 3] uint8 in numpy `obs["image"]` layout. */
  images: Uint8Array;
  /** [frames] directions. */
  directions: Uint8Array;
  /** [frames] actions. */
  actions: Uint8Array;
  /** Mission word ids without trailing padding. */
  mission: Int32Array;
}

/**
 * Recover the frames of batch row `b` (the inverse of {@link fillBatch} for one window): its
 * valid frames, which are the row's last `frames` slots. Throws when a padding slot follows a
 * valid one (a row not built by {@link fillWindow}).
 */
export function detokenize(batch: Batch, b: number): DetokenizedWindow {
  const { K, M } = batch;
  if (!(b >= 0 && b < batch.B)) {
    throw new Error(`detokenize: row ${b} out of range 0..${batch.B - 1}`);
  }
  let frames = 0;
  while (frames < K && batch.frameValid[b * K + K - 1 - frames]) frames++;
  for (let k = 0; k < K - frames; k++) {
    if (batch.frameValid[b * K + k]) {
      throw new Error(
        `detokenize: row ${b} has a valid frame in slot ${k} before padding in slot ${
          K - frames - 1
        }; ` +
          `windows are padded on the left (valid frames are the last slots)`,
      );
    }
  }
  const pad = K - frames;
  const src0 = (b * K + pad) * FRAME_SIZE;
  const images = new Uint8Array(frames * FRAME_SIZE);
  for (let i = 0; i < images.length; i++) images[i] = batch.cells[src0 + i];
  const directions = new Uint8Array(frames), actions = new Uint8Array(frames);
  for (let k = 0; k < frames; k++) {
    directions[k] = batch.dirs[b * K + pad + k];
    actions[k] = batch.actions[b * K + pad + k];
  }
  let m = M;
  while (m > 0 && batch.mission[b * M + m - 1] === 0) m--;
  const mission = batch.mission.slice(b * M, b * M + m);
  return { frames, images, directions, actions, mission };
}

/** Where window `w` lies in its episode (see {@link windowInfo}). */
export interface WindowInfo {
  /** Episode index. */
  episode: number;
  /**
   * Episode frame of slot 0: `end - K + 1`, negative when the window starts before the
   * episode (its first `-start` slots are padding). Unique per window of an episode.
   */
  start: number;
  /** Episode frame of slot `K-1`, the window's last (always valid) frame. */
  end: number;
  /** Valid frames: `min(K, end + 1)`; they are slots `K-frames .. K-1`, frames `end-frames+1 .. end`. */
  frames: number;
}

/** Episode, first-slot frame, last frame and valid-frame count of window `w`. */
export function windowInfo(ds: WindowedDataset, w: number): WindowInfo {
  if (!(w >= 0 && w < ds.numWindows)) {
    throw new Error(`windowInfo: window id ${w} out of range 0..${ds.numWindows - 1}`);
  }
  const end = ds.winEnd[w];
  return {
    episode: ds.winEpisode[w],
    start: end - ds.K + 1,
    end,
    frames: Math.min(ds.K, end + 1),
  };
}
