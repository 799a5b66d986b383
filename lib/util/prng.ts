/**
 * A small, fast, exactly reproducible PRNG for masks and shuffles: xoshiro128** seeded from a
 * hash of integer keys (e.g. `(seed, epoch, step, batchIndex)`). Pure 32-bit integer arithmetic,
 * no BigInt, no allocation per draw; the same keys give the same stream on every platform.
 *
 * Not numpy-compatible (that is `lib/env/rng.ts`, for the environments); this one only has to be
 * deterministic and well mixed.
 *
 * @module
 */

/** Murmur3's 32-bit finaliser: a bijective mix of one uint32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hash a list of integer keys into one uint32. Each key may be any safe integer (negative and
 * values above 2^32 are split into two 32-bit words), so `(seed, epoch, step, batch)` tuples that
 * differ in any key give unrelated hashes.
 */
export function hashKeys(keys: readonly number[]): number {
  let h = 0x9e3779b9 ^ keys.length;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (!Number.isSafeInteger(k)) {
      throw new Error(
        `hashKeys: key ${i} is ${k}; keys must be safe integers (seed, epoch, step, ...)`,
      );
    }
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    h = fmix32((h ^ fmix32(lo + 0x7f4a7c15)) + Math.imul(i + 1, 0x61c88647));
    h = fmix32((h ^ fmix32(hi ^ 0x2545f491)) + 0x3c6ef372);
  }
  return h >>> 0;
}

/** xoshiro128** keyed by integers; see the module doc. */
export class Rng {
  #a = 0;
  #b = 0;
  #c = 0;
  #d = 0;

  /** A stream determined by `keys` (any number of safe integers). */
  constructor(...keys: number[]) {
    let x = hashKeys(keys);
    // splitmix32 to fill the 128-bit state (never all zero: the outputs of a bijection of
    // four distinct counters cannot all be 0).
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return fmix32(x);
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
  }

  /** Next uint32. */
  nextU32(): number {
    const b = this.#b;
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.#c ^= this.#a;
    this.#d ^= b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return r;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), n >= 1 (n below 2^32; bias at most n / 2^32). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
