/**
 * A flat, single-vocabulary serialization of windows: one token per attribute, for models with one
 * embedding table (e.g. a pretrained masked-diffusion LM such as LLaDA fine-tuned elsewhere).
 *
 * Vocabulary ({@link FLAT_VOCAB}; the id of a token is its index, its text is the string):
 *
 * | ids | text | meaning |
 * |---|---|---|
 * | 0..7 | `<pad> <mask> <bos> <eos> <mission> </mission> <frame> <sep>` | special tokens |
 * | 8..18 | `o0`..`o10` | cell object id |
 * | 19..24 | `c0`..`c5` | cell colour id |
 * | 25..27 | `s0`..`s2` | cell state id |
 * | 28..31 | `d0`..`d3` | agent direction |
 * | 32..39 | `a0`..`a7` | action (`a7` = none: the episode's last frame) |
 * | 40.. | the mission words | `FLAT_OFFSET.word + id` of `MISSION_VOCAB` (id 0, `<pad>`, unused) |
 *
 * Mission words come last, so appending words to the mission vocabulary never moves other ids.
 *
 * A window (batch row) is serialized as
 * `<bos> <mission> w… </mission>` then, per valid frame,
 * `<frame> o c s (49 cells in index order vx*7+vy) d a`, then `<eos>`: 150 tokens per frame.
 * Padding frames are not written. A hidden slot (mask = 1) is written as `<mask>`. The text form
 * joins token strings with single spaces.
 *
 * @module
 */

import { ATTRS, type Batch, CELLS, type Mask } from "./types.ts";
import { MISSION_VOCAB } from "../env/babyai/vocab.ts";

/** Special tokens, id = index. */
export const FLAT_SPECIALS = [
  "<pad>",
  "<mask>",
  "<bos>",
  "<eos>",
  "<mission>",
  "</mission>",
  "<frame>",
  "<sep>",
] as const;

/** Ids of the special tokens. */
export const FLAT = {
  pad: 0,
  mask: 1,
  bos: 2,
  eos: 3,
  mission: 4,
  missionEnd: 5,
  frame: 6,
  sep: 7,
} as const;

/** First id of each field. */
export const FLAT_OFFSET = {
  obj: 8,
  color: 19,
  state: 25,
  dir: 28,
  action: 32,
  word: 40,
} as const;

/** Flat tokens per valid frame: `<frame>`, 147 cell attributes, direction, action. */
export const FLAT_TOKENS_PER_FRAME = 1 + CELLS * ATTRS + 2;

function buildVocab(): string[] {
  const v: string[] = [...FLAT_SPECIALS];
  const field = (prefix: string, n: number) => {
    for (let i = 0; i < n; i++) v.push(`${prefix}${i}`);
  };
  field("o", 11);
  field("c", 6);
  field("s", 3);
  field("d", 4);
  field("a", 8);
  if (v.length !== FLAT_OFFSET.word) throw new Error("flat vocabulary offsets are inconsistent");
  for (const w of MISSION_VOCAB) v.push(w);
  return v;
}

/** Every token string; index = flat id. */
export const FLAT_VOCAB: readonly string[] = Object.freeze(buildVocab());
/** Size of the flat vocabulary. */
export const FLAT_VOCAB_SIZE: number = FLAT_VOCAB.length;

const TEXT_TO_ID: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  FLAT_VOCAB.forEach((t, i) => {
    if (i === FLAT_OFFSET.word) return; // the mission vocabulary's own <pad>: use the special
    if (m.has(t)) {
      throw new Error(`flat vocabulary: token "${t}" appears twice (ids ${m.get(t)}, ${i})`);
    }
    m.set(t, i);
  });
  return m;
})();

const ATTR_OFFSET = [FLAT_OFFSET.obj, FLAT_OFFSET.color, FLAT_OFFSET.state];

/** Number of valid frames of row `b`: its last slots (windows are padded on the left). */
function rowFrames(batch: Batch, b: number): number {
  let n = 0;
  while (n < batch.K && batch.frameValid[b * batch.K + batch.K - 1 - n]) n++;
  return n;
}

/** Flat ids of batch row `b`; slots hidden by `mask` become `<mask>`. */
export function encodeWindowFlat(batch: Batch, b: number, mask?: Mask): Int32Array {
  const { K, M } = batch;
  let m = 0;
  while (m < M && batch.mission[b * M + m] !== 0) m++;
  const frames = rowFrames(batch, b);
  const out = new Int32Array(2 + m + 1 + frames * FLAT_TOKENS_PER_FRAME + 1);
  let p = 0;
  out[p++] = FLAT.bos;
  out[p++] = FLAT.mission;
  for (let i = 0; i < m; i++) out[p++] = FLAT_OFFSET.word + batch.mission[b * M + i];
  out[p++] = FLAT.missionEnd;
  for (let k = K - frames; k < K; k++) {
    const j = b * K + k;
    out[p++] = FLAT.frame;
    const o = j * CELLS * ATTRS;
    for (let i = 0; i < CELLS * ATTRS; i++) {
      out[p++] = mask?.cells[o + i] ? FLAT.mask : ATTR_OFFSET[i % 3] + batch.cells[o + i];
    }
    out[p++] = mask?.dirs[j] ? FLAT.mask : FLAT_OFFSET.dir + batch.dirs[j];
    out[p++] = mask?.actions[j] ? FLAT.mask : FLAT_OFFSET.action + batch.actions[j];
  }
  out[p++] = FLAT.eos;
  return out;
}

/**
 * The true flat ids of the slots of row `b` hidden by `mask`, in the order their `<mask>` tokens
 * appear in {@link encodeWindowFlat} (the i-th `<mask>` of the prompt is the i-th target).
 */
export function maskedTargetsFlat(batch: Batch, b: number, mask: Mask): Int32Array {
  const K = batch.K;
  const frames = rowFrames(batch, b);
  const out: number[] = [];
  for (let k = K - frames; k < K; k++) {
    const j = b * K + k;
    const o = j * CELLS * ATTRS;
    for (let i = 0; i < CELLS * ATTRS; i++) {
      if (mask.cells[o + i]) out.push(ATTR_OFFSET[i % 3] + batch.cells[o + i]);
    }
    if (mask.dirs[j]) out.push(FLAT_OFFSET.dir + batch.dirs[j]);
    if (mask.actions[j]) out.push(FLAT_OFFSET.action + batch.actions[j]);
  }
  return Int32Array.from(out);
}

/** A window decoded from flat ids; hidden (`<mask>`) values are -1. */
export interface FlatWindow {
  /** Frames. */
  frames: number;
  /** [frames, 49, 3] attribute ids (-1 = hidden). */
  cells: Int32Array;
  /** [frames] directions (-1 = hidden). */
  dirs: Int32Array;
  /** [frames] actions (-1 = hidden). */
  actions: Int32Array;
  /** Mission word ids (MISSION_VOCAB ids, no padding). */
  mission: Int32Array;
}

/** Decode ids written by {@link encodeWindowFlat}; errors name the position and what was expected. */
export function decodeWindowFlat(ids: ArrayLike<number>): FlatWindow {
  let p = 0;
  const expect = (id: number, what: string) => {
    if (ids[p] !== id) {
      throw new Error(
        `flat decode: expected ${what} (${FLAT_VOCAB[id]}) at position ${p}, got ` +
          `${ids[p] === undefined ? "end of input" : `${ids[p]} (${FLAT_VOCAB[ids[p]] ?? "?"})`}`,
      );
    }
    p++;
  };
  const field = (offset: number, size: number, what: string): number => {
    const id = ids[p];
    if (id === FLAT.mask) {
      p++;
      return -1;
    }
    if (!(id >= offset && id < offset + size)) {
      throw new Error(
        `flat decode: expected ${what} or <mask> at position ${p}, got ${id} (${
          FLAT_VOCAB[id] ?? "?"
        })`,
      );
    }
    p++;
    return id - offset;
  };
  expect(FLAT.bos, "<bos>");
  expect(FLAT.mission, "<mission>");
  const mission: number[] = [];
  while (p < ids.length && ids[p] !== FLAT.missionEnd) {
    const id = ids[p];
    if (!(id > FLAT_OFFSET.word && id < FLAT_VOCAB_SIZE)) {
      throw new Error(`flat decode: expected a mission word at position ${p}, got ${id}`);
    }
    mission.push(id - FLAT_OFFSET.word);
    p++;
  }
  expect(FLAT.missionEnd, "</mission>");
  const cells: number[] = [], dirs: number[] = [], actions: number[] = [];
  const sizes = [11, 6, 3], names = ["an object", "a colour", "a state"];
  while (ids[p] === FLAT.frame) {
    p++;
    for (let i = 0; i < CELLS * ATTRS; i++) {
      cells.push(field(ATTR_OFFSET[i % 3], sizes[i % 3], names[i % 3]));
    }
    dirs.push(field(FLAT_OFFSET.dir, 4, "a direction"));
    actions.push(field(FLAT_OFFSET.action, 8, "an action"));
  }
  expect(FLAT.eos, "<eos> or <frame>");
  if (p !== ids.length) throw new Error(`flat decode: ${ids.length - p} tokens after <eos>`);
  return {
    frames: dirs.length,
    cells: Int32Array.from(cells),
    dirs: Int32Array.from(dirs),
    actions: Int32Array.from(actions),
    mission: Int32Array.from(mission),
  };
}

/** Text form of flat ids: token strings joined by single spaces. */
export function flatToText(ids: ArrayLike<number>): string {
  const parts: string[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const t = FLAT_VOCAB[ids[i]];
    if (t === undefined) {
      throw new Error(`flat id ${ids[i]} at position ${i} is outside the vocabulary`);
    }
    parts[i] = t;
  }
  return parts.join(" ");
}

/** Parse the text form back to ids; an unknown token is an error naming it and its position. */
export function textToFlat(text: string): Int32Array {
  const toks = text.split(" ").filter((t) => t.length > 0);
  const out = new Int32Array(toks.length);
  for (let i = 0; i < toks.length; i++) {
    const id = TEXT_TO_ID.get(toks[i]);
    if (id === undefined) {
      throw new Error(`flat text: unknown token ${JSON.stringify(toks[i])} at position ${i}`);
    }
    out[i] = id;
  }
  return out;
}

/** Fixed flat length of a window of `K` frames with an `M`-word mission prefix (no padding). */
export function flatLength(K: number, M: number): number {
  return 4 + M + K * FLAT_TOKENS_PER_FRAME;
}

/**
 * A whole batch as a `[B, L]` int32 tensor of flat ids, `L = flatLength(K, M)`, each row
 * {@link encodeWindowFlat} followed by `<pad>` up to `L` (for single-vocabulary models).
 */
export function encodeBatchFlat(batch: Batch, mask?: Mask): { ids: Int32Array; L: number } {
  const L = flatLength(batch.K, batch.M);
  const ids = new Int32Array(batch.B * L); // <pad> = 0
  for (let b = 0; b < batch.B; b++) ids.set(encodeWindowFlat(batch, b, mask), b * L);
  return { ids, L };
}
