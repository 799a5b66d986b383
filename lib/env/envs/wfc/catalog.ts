/**
 * Pattern catalog of the overlapping WFC model, as MiniGrid 3.1.0's `wfclogic` builds it from a
 * preset bitmap: tile codes, the patterns seen under the 8 symmetries of the (wrapped) input,
 * their order and weights, and which pattern may sit next to which in each direction.
 *
 * The reference names tiles and patterns by an int64 hash (`hash_downto`: the dot product of the
 * flattened contents with a fixed vector from `np.random.RandomState(0)`, wrapping mod 2^64) and
 * numbers patterns in ascending order of that hash, which fixes what each `choice` draw picks.
 * The same hashes are computed here with BigInt.
 *
 * @module
 */

import { PIXEL_RGB, type WfcPreset } from "./presets.ts";

/**
 * `np.random.RandomState(0).randint(1 - 2**63, 2**63, n, dtype=np.int64)` for n = 9; numpy's
 * draws for n = 3 and n = 4 are the first 3 and 4 of these (checked against numpy 2.4.6).
 */
const HASH_VECTOR: readonly bigint[] = [
  900450186894289456n,
  3969543146641149121n,
  1895649597198586620n,
  827948490035658088n,
  -1408320422220276012n,
  2691271404617651955n,
  -1151312763198686632n,
  7226936298635050457n,
  8553068346248842637n,
];

/** Directions in the reference's order, as (dx, dy) offsets. */
export const DIRECTIONS: readonly (readonly [number, number])[] = [[0, -1], [1, 0], [0, 1], [
  -1,
  0,
]];

/** What the solver needs about a preset's patterns. */
export interface PatternCatalog {
  /** Number of patterns. */
  count: number;
  /** The int64 code of each pattern, ascending (pattern i has codes[i]). */
  codes: bigint[];
  /** How many of the 8 symmetric copies of the input contain each pattern. */
  weights: Float64Array;
  /** 1 where the pattern's top-left pixel has red channel 0 (the env turns it into a wall). */
  wall: Uint8Array;
  /** 32-bit words per pattern bitset. */
  words: number;
  /**
   * `adj[d][q * words + w]`: bitset of the patterns p allowed at offset DIRECTIONS[d] from q
   * (the reference's `adjacency_list[d][q]`).
   */
  adj: Uint32Array[];
  /** 1 where q has at least one allowed neighbour in direction d (`anyAdj[d][q]`). */
  anyAdj: Uint8Array[];
}

/** int64 dot product of a flat list with the hash vector (numpy `np.inner`, wrapping). */
function hashOf(values: readonly bigint[]): bigint {
  let acc = 0n;
  for (let i = 0; i < values.length; i++) acc += values[i] * HASH_VECTOR[i];
  return BigInt.asIntN(64, acc);
}

type Mat = bigint[][];

/** `np.fliplr`. */
function flipLR(m: Mat): Mat {
  return m.map((row) => [...row].reverse());
}

/** `np.rot90(m, axes=(1, 0))` (a quarter turn clockwise): out[i][j] = m[H - 1 - j][i]. */
function rotateCW(m: Mat): Mat {
  const h = m.length, w = m[0].length;
  const out: Mat = [];
  for (let i = 0; i < w; i++) {
    const row: bigint[] = [];
    for (let j = 0; j < h; j++) row.push(m[h - 1 - j][i]);
    out.push(row);
  }
  return out;
}

const cache = new Map<string, PatternCatalog>();

/** The catalog of a preset (computed once per process). */
export function patternCatalog(preset: WfcPreset): PatternCatalog {
  const key = `${preset.rows.join("/")}|${preset.patternWidth}`;
  let cat = cache.get(key);
  if (cat === undefined) {
    cat = buildCatalog(preset);
    cache.set(key, cat);
  }
  return cat;
}

function buildCatalog(preset: WfcPreset): PatternCatalog {
  const k = preset.patternWidth;
  if (!Number.isInteger(k) || k < 1 || k * k > HASH_VECTOR.length) {
    throw new RangeError(`WFC preset ${preset.name}: patternWidth must be 1..3, got ${k}`);
  }
  // Tiles are single pixels: code = hash of (r, g, b).
  const tileRed = new Map<bigint, number>();
  const grid: Mat = preset.rows.map((row, r) =>
    [...row].map((ch, c) => {
      const rgb = PIXEL_RGB[ch];
      if (rgb === undefined) {
        throw new Error(`WFC preset ${preset.name}: bad pixel "${ch}" at row ${r}, col ${c}`);
      }
      const code = hashOf(rgb.map(BigInt));
      tileRed.set(code, rgb[0]);
      return code;
    })
  );
  // The 8 symmetries in the reference's order: identity, then alternately mirror and rotate.
  const ops = [null, flipLR, rotateCW, flipLR, rotateCW, flipLR, rotateCW, flipLR];
  const contents = new Map<bigint, bigint[]>();
  const weight = new Map<bigint, number>();
  let g = grid;
  for (const op of ops) {
    if (op !== null) g = op(g);
    const h = g.length, w = g[0].length;
    const seen = new Set<bigint>();
    for (let x = 0; x < h; x++) {
      for (let y = 0; y < w; y++) {
        const patch: bigint[] = [];
        for (let r = 0; r < k; r++) {
          for (let c = 0; c < k; c++) patch.push(g[(x + r) % h][(y + c) % w]);
        }
        const code = hashOf(patch);
        if (seen.has(code)) continue;
        seen.add(code);
        if (!contents.has(code)) contents.set(code, patch);
        weight.set(code, (weight.get(code) ?? 0) + 1);
      }
    }
  }
  const codes = [...contents.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const count = codes.length;
  // Small tile ids for the overlap comparisons.
  const tileId = new Map<bigint, number>();
  const pats = codes.map((c) =>
    contents.get(c)!.map((t) => {
      let id = tileId.get(t);
      if (id === undefined) tileId.set(t, id = tileId.size);
      return id;
    })
  );
  const words = Math.ceil(count / 32);
  const adj: Uint32Array[] = [];
  const anyAdj: Uint8Array[] = [];
  for (const [dx, dy] of DIRECTIONS) {
    const bits = new Uint32Array(count * words);
    const any = new Uint8Array(count);
    const top = Math.max(0, dy), bottom = Math.min(k, k + dy);
    const left = Math.max(0, dx), right = Math.min(k, k + dx);
    for (let q = 0; q < count; q++) {
      for (let p = 0; p < count; p++) {
        let ok = true;
        for (let r = top; r < bottom && ok; r++) {
          for (let c = left; c < right; c++) {
            if (pats[q][r * k + c] !== pats[p][(r - dy) * k + (c - dx)]) {
              ok = false;
              break;
            }
          }
        }
        if (ok) {
          bits[q * words + (p >>> 5)] |= 1 << (p & 31);
          any[q] = 1;
        }
      }
    }
    adj.push(bits);
    anyAdj.push(any);
  }
  return {
    count,
    codes,
    weights: Float64Array.from(codes, (c) => weight.get(c)!),
    wall: Uint8Array.from(codes, (c) => (tileRed.get(contents.get(c)![0]) === 0 ? 1 : 0)),
    words,
    adj,
    anyAdj,
  };
}
