/**
 * Bit-exact port of numpy's `SeedSequence` + `PCG64` + the `Generator` methods MiniGrid uses
 * (`integers` with Lemire rejection and the buffered 32-bit half, `random`/`uniform`, `shuffle`,
 * scalar `choice`; for the WFC envs `choice` with `p` and `permutation`). The 128-bit PCG64
 * state lives in eight 16-bit limbs so that a draw needs no BigInt (BigInt is only used for the
 * rare 64-bit-range `integers` path and for state export).
 *
 * Reference: numpy 2.4.6 `numpy/random/bit_generator.pyx`, `_pcg64.pyx`, `distributions.c`; see
 * `tests/fixtures/minigrid/RNG_NOTES.md` for the algorithms and test vectors.
 *
 * @module
 */

const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;

/** numpy's `SeedSequence` for an integer entropy value (no spawn key, pool size 4). */
export class SeedSequence {
  /** The mixed entropy pool, four uint32 words. */
  readonly pool: Uint32Array = new Uint32Array(4);

  /** Build the pool from a non-negative integer seed (number up to 2^53, or bigint). */
  constructor(entropy: number | bigint) {
    const words = entropyWords(entropy);
    const pool = this.pool;
    let hc = INIT_A;
    const hashmix = (v: number): number => {
      v = (v ^ hc) >>> 0;
      hc = Math.imul(hc, MULT_A) >>> 0;
      v = Math.imul(v, hc) >>> 0;
      return (v ^ (v >>> 16)) >>> 0;
    };
    const mix = (x: number, y: number): number => {
      const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
      return (r ^ (r >>> 16)) >>> 0;
    };
    for (let i = 0; i < 4; i++) pool[i] = hashmix(i < words.length ? words[i] : 0);
    for (let src = 0; src < 4; src++) {
      for (let dst = 0; dst < 4; dst++) {
        if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
      }
    }
    for (let src = 4; src < words.length; src++) {
      for (let dst = 0; dst < 4; dst++) pool[dst] = mix(pool[dst], hashmix(words[src]));
    }
  }

  /** `generate_state(n, uint32)`: n uint32 words. (For uint64, pair words little-endian.) */
  generateState(n: number): Uint32Array {
    const out = new Uint32Array(n);
    let hc = INIT_B;
    for (let i = 0; i < n; i++) {
      let v = (this.pool[i & 3] ^ hc) >>> 0;
      hc = Math.imul(hc, MULT_B) >>> 0;
      v = Math.imul(v, hc) >>> 0;
      out[i] = (v ^ (v >>> 16)) >>> 0;
    }
    return out;
  }
}

/** Little-endian uint32 words of a non-negative integer (0 gives [0]), as numpy does. */
function entropyWords(entropy: number | bigint): number[] {
  if (typeof entropy === "bigint") {
    if (entropy < 0n) throw new RangeError(`seed must be >= 0, got ${entropy}`);
    const out: number[] = [];
    let e = entropy;
    do {
      out.push(Number(e & 0xffffffffn));
      e >>= 32n;
    } while (e > 0n);
    return out;
  }
  if (!Number.isSafeInteger(entropy) || entropy < 0) {
    throw new RangeError(
      `seed must be a non-negative safe integer (or bigint), got ${entropy}`,
    );
  }
  const out: number[] = [];
  let e = entropy;
  do {
    out.push(e % 4294967296);
    e = Math.floor(e / 4294967296);
  } while (e > 0);
  return out;
}

// PCG64 multiplier 0x2360ed051fc65da44385df649fccf645 as 16-bit limbs, least significant first.
const MULT16 = [0xf645, 0x9fcc, 0xdf64, 0x4385, 0x5da4, 0x1fc6, 0xed05, 0x2360];
const M0 = MULT16[0], M1 = MULT16[1], M2 = MULT16[2], M3 = MULT16[3];
const M4 = MULT16[4], M5 = MULT16[5], M6 = MULT16[6], M7 = MULT16[7];
const TWO16 = 65536;
const TWO32 = 4294967296;

const SCRATCH_A = new Float64Array(8);
const SCRATCH_B = new Float64Array(8);
const FAST_WORDS = new Uint32Array(8);
const FAST_POOL = new Uint32Array(4);

/**
 * SeedSequence(seed).generate_state(8) for a seed < 2^32 (one entropy word), into a shared
 * scratch array (no allocation). Same algorithm as the SeedSequence class.
 */
function seedWordsFast(seed: number): Uint32Array {
  const pool = FAST_POOL;
  let hc = INIT_A;
  for (let i = 0; i < 4; i++) {
    let v = ((i === 0 ? seed : 0) ^ hc) >>> 0;
    hc = Math.imul(hc, MULT_A) >>> 0;
    v = Math.imul(v, hc) >>> 0;
    pool[i] = (v ^ (v >>> 16)) >>> 0;
  }
  for (let src = 0; src < 4; src++) {
    for (let dst = 0; dst < 4; dst++) {
      if (src === dst) continue;
      let v = (pool[src] ^ hc) >>> 0;
      hc = Math.imul(hc, MULT_A) >>> 0;
      v = Math.imul(v, hc) >>> 0;
      v = (v ^ (v >>> 16)) >>> 0;
      const r = (Math.imul(MIX_MULT_L, pool[dst]) - Math.imul(MIX_MULT_R, v)) >>> 0;
      pool[dst] = (r ^ (r >>> 16)) >>> 0;
    }
  }
  let hb = INIT_B;
  const out = FAST_WORDS;
  for (let i = 0; i < 8; i++) {
    let v = (pool[i & 3] ^ hb) >>> 0;
    hb = Math.imul(hb, MULT_B) >>> 0;
    v = Math.imul(v, hb) >>> 0;
    out[i] = (v ^ (v >>> 16)) >>> 0;
  }
  return out;
}

/** Serializable PCG64 state (as in numpy's `bit_generator.state`). */
export interface PCG64State {
  /** 128-bit LCG state. */
  state: bigint;
  /** 128-bit increment (odd). */
  inc: bigint;
  /** Whether a buffered upper 32-bit half is pending. */
  hasUint32: boolean;
  /** The buffered upper half (meaningful only when hasUint32). */
  uinteger: number;
}

/** numpy's PCG64 bit generator (XSL-RR 128/64) with the buffered `next_uint32`. */
export class PCG64 {
  /** State limbs (16-bit each, least significant first). */
  private s = new Float64Array(8);
  /** Increment limbs. */
  private inc = new Float64Array(8);
  /** Pending upper 32-bit half for next_uint32. */
  hasUint32 = false;
  /** Buffered upper 32 bits of the last u64 drawn by next_uint32. */
  uinteger = 0;
  /** Number of 64-bit outputs consumed since seeding. */
  draws = 0;
  /** High 32 bits of the last 64-bit output. */
  outHi = 0;
  /** Low 32 bits of the last 64-bit output. */
  outLo = 0;

  /** Seed from a SeedSequence (or an integer seed, which builds one). */
  constructor(seed: SeedSequence | number | bigint = 0) {
    this.seed(seed);
  }

  /** Re-seed in place exactly as `PCG64(SeedSequence(seed))`. */
  seed(seed: SeedSequence | number | bigint): void {
    let w: Uint32Array;
    if (typeof seed === "number" && seed >= 0 && seed <= 0xffffffff && Number.isInteger(seed)) {
      w = seedWordsFast(seed);
    } else {
      const ss = seed instanceof SeedSequence ? seed : new SeedSequence(seed);
      w = ss.generateState(8);
    }
    // val[k] = w[2k] | w[2k+1] << 32; initstate = val0 << 64 | val1; initseq = val2 << 64 | val3
    const st16 = SCRATCH_A, sq16 = SCRATCH_B;
    // initstate words (least significant first): w2, w3, w0, w1; initseq: w6, w7, w4, w5
    st16[0] = w[2] & 0xffff;
    st16[1] = w[2] >>> 16;
    st16[2] = w[3] & 0xffff;
    st16[3] = w[3] >>> 16;
    st16[4] = w[0] & 0xffff;
    st16[5] = w[0] >>> 16;
    st16[6] = w[1] & 0xffff;
    st16[7] = w[1] >>> 16;
    sq16[0] = w[6] & 0xffff;
    sq16[1] = w[6] >>> 16;
    sq16[2] = w[7] & 0xffff;
    sq16[3] = w[7] >>> 16;
    sq16[4] = w[4] & 0xffff;
    sq16[5] = w[4] >>> 16;
    sq16[6] = w[5] & 0xffff;
    sq16[7] = w[5] >>> 16;
    // inc = (initseq << 1) | 1
    for (let k = 7; k >= 0; k--) {
      const lowBit = k > 0 ? sq16[k - 1] >>> 15 : 1;
      this.inc[k] = ((sq16[k] << 1) & 0xffff) | lowBit;
    }
    this.s.fill(0);
    this.step();
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      const v = this.s[k] + st16[k] + carry;
      this.s[k] = v & 0xffff;
      carry = v >>> 16;
    }
    this.step();
    this.hasUint32 = false;
    this.uinteger = 0;
    this.draws = 0;
  }

  /** state = state * MULT + inc (mod 2^128). */
  private step(): void {
    const s = this.s, c = this.inc;
    const s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5], s6 = s[6], s7 = s[7];
    let acc = c[0] + s0 * M0;
    let carry = Math.floor(acc / TWO16);
    s[0] = acc - carry * TWO16;
    acc = carry + c[1] + s0 * M1 + s1 * M0;
    carry = Math.floor(acc / TWO16);
    s[1] = acc - carry * TWO16;
    acc = carry + c[2] + s0 * M2 + s1 * M1 + s2 * M0;
    carry = Math.floor(acc / TWO16);
    s[2] = acc - carry * TWO16;
    acc = carry + c[3] + s0 * M3 + s1 * M2 + s2 * M1 + s3 * M0;
    carry = Math.floor(acc / TWO16);
    s[3] = acc - carry * TWO16;
    acc = carry + c[4] + s0 * M4 + s1 * M3 + s2 * M2 + s3 * M1 + s4 * M0;
    carry = Math.floor(acc / TWO16);
    s[4] = acc - carry * TWO16;
    acc = carry + c[5] + s0 * M5 + s1 * M4 + s2 * M3 + s3 * M2 + s4 * M1 + s5 * M0;
    carry = Math.floor(acc / TWO16);
    s[5] = acc - carry * TWO16;
    acc = carry + c[6] + s0 * M6 + s1 * M5 + s2 * M4 + s3 * M3 + s4 * M2 + s5 * M1 + s6 * M0;
    carry = Math.floor(acc / TWO16);
    s[6] = acc - carry * TWO16;
    acc = carry + c[7] + s0 * M7 + s1 * M6 + s2 * M5 + s3 * M4 + s4 * M3 + s5 * M2 + s6 * M1 +
      s7 * M0;
    carry = Math.floor(acc / TWO16);
    s[7] = acc - carry * TWO16;
  }

  /** Draw one 64-bit output; its halves are left in `outHi` / `outLo` (uint32 numbers). */
  nextUint64Parts(): void {
    this.step();
    this.draws++;
    const s = this.s;
    let xh = (((s[7] << 16) | s[6]) ^ ((s[3] << 16) | s[2])) >>> 0;
    let xl = (((s[5] << 16) | s[4]) ^ ((s[1] << 16) | s[0])) >>> 0;
    let rot = s[7] >>> 10;
    if (rot >= 32) {
      const t = xh;
      xh = xl;
      xl = t;
      rot -= 32;
    }
    if (rot > 0) {
      const nl = ((xl >>> rot) | (xh << (32 - rot))) >>> 0;
      const nh = ((xh >>> rot) | (xl << (32 - rot))) >>> 0;
      xl = nl;
      xh = nh;
    }
    this.outHi = xh;
    this.outLo = xl;
  }

  /** One 64-bit output as a bigint (`random_raw`). */
  nextUint64(): bigint {
    this.nextUint64Parts();
    return (BigInt(this.outHi) << 32n) | BigInt(this.outLo);
  }

  /** numpy's buffered `next_uint32`: low half of a fresh u64 first, then its high half. */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    this.nextUint64Parts();
    this.uinteger = this.outHi;
    this.hasUint32 = true;
    return this.outLo;
  }

  /** `next_double`: (u64 >> 11) * 2^-53. */
  nextDouble(): number {
    this.nextUint64Parts();
    return (this.outHi * 2097152 + (this.outLo >>> 11)) / 9007199254740992;
  }

  /** Current state, as numpy's `bit_generator.state` reports it. */
  getState(): PCG64State {
    return {
      state: limbsToBig(this.s),
      inc: limbsToBig(this.inc),
      hasUint32: this.hasUint32,
      uinteger: this.uinteger,
    };
  }

  /** Restore a state captured by getState (draw counter is left unchanged). */
  setState(st: PCG64State): void {
    bigToLimbs(st.state, this.s);
    bigToLimbs(st.inc, this.inc);
    this.hasUint32 = st.hasUint32;
    this.uinteger = st.uinteger >>> 0;
  }
}

function limbsToBig(l: Float64Array): bigint {
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 16n) | BigInt(l[k]);
  return v;
}

function bigToLimbs(v: bigint, out: Float64Array): void {
  for (let k = 0; k < 8; k++) {
    out[k] = Number(v & 0xffffn);
    v >>= 16n;
  }
}

/** numpy's `Generator` over PCG64, with the methods MiniGrid calls. */
export class Generator {
  /** The underlying bit generator. */
  readonly bitGenerator: PCG64;

  /** `np.random.default_rng(seed)` equivalent (`Generator(PCG64(SeedSequence(seed)))`). */
  constructor(seed: number | bigint | PCG64 = 0) {
    this.bitGenerator = seed instanceof PCG64 ? seed : new PCG64(seed);
  }

  /** Re-seed in place (same as constructing a new Generator with this seed). */
  seed(seed: number | bigint): void {
    this.bitGenerator.seed(seed);
  }

  /** Number of 64-bit outputs consumed since seeding. */
  get draws(): number {
    return this.bitGenerator.draws;
  }

  /**
   * `integers(low, high)` scalar int64, high exclusive (Lemire, buffered 32-bit path).
   * Requires safe integers with low < high.
   */
  integers(low: number, high: number): number {
    if (!(high > low)) {
      throw new RangeError(`integers(low=${low}, high=${high}): need low < high`);
    }
    const rng = high - 1 - low;
    if (rng === 0) return low;
    const bg = this.bitGenerator;
    if (rng < 0xffffffff) {
      const n = rng + 1;
      if (n < 2097152) {
        let m = bg.nextUint32() * n;
        let hi = Math.floor(m / TWO32);
        let lo = m - hi * TWO32;
        if (lo < n) {
          const threshold = (TWO32 - n) % n;
          while (lo < threshold) {
            m = bg.nextUint32() * n;
            hi = Math.floor(m / TWO32);
            lo = m - hi * TWO32;
          }
        }
        return low + hi;
      }
      const nb = BigInt(n);
      let m = BigInt(bg.nextUint32()) * nb;
      let lo = m & 0xffffffffn;
      if (lo < nb) {
        const threshold = (4294967296n - nb) % nb;
        while (lo < threshold) {
          m = BigInt(bg.nextUint32()) * nb;
          lo = m & 0xffffffffn;
        }
      }
      return low + Number(m >> 32n);
    }
    if (rng === 0xffffffff) return low + bg.nextUint32();
    // 64-bit Lemire (rare).
    const rb = BigInt(rng);
    const mask64 = 0xffffffffffffffffn;
    if (rb === mask64) return low + Number(bg.nextUint64());
    const nb = rb + 1n;
    let m = bg.nextUint64() * nb;
    let lo = m & mask64;
    if (lo < nb) {
      const threshold = (mask64 - rb) % nb;
      while (lo < threshold) {
        m = bg.nextUint64() * nb;
        lo = m & mask64;
      }
    }
    return low + Number(m >> 64n);
  }

  /** `random()`: a float64 in [0, 1). */
  random(): number {
    return this.bitGenerator.nextDouble();
  }

  /** `uniform(low, high)`: low + (high - low) * next_double(). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.bitGenerator.nextDouble();
  }

  /** numpy's `random_interval(max)`: masked rejection in [0, max]. */
  randomInterval(max: number): number {
    if (max === 0) return 0;
    const bg = this.bitGenerator;
    if (max <= 0xffffffff) {
      let mask = max;
      mask |= mask >>> 1;
      mask |= mask >>> 2;
      mask |= mask >>> 4;
      mask |= mask >>> 8;
      mask |= mask >>> 16;
      mask >>>= 0;
      let v: number;
      do {
        v = (bg.nextUint32() & mask) >>> 0;
      } while (v > max);
      return v;
    }
    let mask = BigInt(max);
    for (const sh of [1n, 2n, 4n, 8n, 16n, 32n]) mask |= mask >> sh;
    let v: bigint;
    do {
      v = bg.nextUint64() & mask;
    } while (v > BigInt(max));
    return Number(v);
  }

  /** In-place `shuffle(list)` (Fisher-Yates from the end, `random_interval`). */
  shuffle<T>(arr: T[]): void {
    for (let i = arr.length - 1; i >= 1; i--) {
      const j = this.randomInterval(i);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
  }

  /** Scalar `choice(a)` with replacement and no p: `a[integers(0, len(a))]`. */
  choice<T>(arr: ArrayLike<T>): T {
    if (arr.length === 0) throw new RangeError("choice: cannot choose from an empty sequence");
    return arr[this.integers(0, arr.length)];
  }

  /** `choice(range(lo, hi))`: lo + integers(0, hi - lo). */
  choiceRange(lo: number, hi: number): number {
    if (hi <= lo) throw new RangeError(`choice(range(${lo}, ${hi})): empty range`);
    return lo + this.integers(0, hi - lo);
  }

  /**
   * Scalar `choice(p.length, p=p)` (with replacement): numpy checks p (no NaN, non-negative,
   * Kahan sum within sqrt(eps) of 1), takes the running float64 sum of p from the left,
   * divides it by its last entry and returns how many entries are <= one `random()` draw
   * (`searchsorted(..., side="right")`).
   */
  choiceP(p: ArrayLike<number>): number {
    const n = p.length;
    if (n === 0) throw new RangeError("choice: a cannot be empty unless no samples are taken");
    let sum = 0, comp = 0;
    for (let i = 0; i < n; i++) {
      const v = p[i];
      if (Number.isNaN(v)) throw new RangeError("choice: probabilities contain NaN");
      if (v < 0) throw new RangeError("choice: probabilities are not non-negative");
      const y = v - comp;
      const t = sum + y;
      comp = (t - sum) - y;
      sum = t;
    }
    if (Math.abs(sum - 1) > Math.sqrt(Number.EPSILON)) {
      throw new RangeError(`choice: probabilities do not sum to 1 (sum ${sum})`);
    }
    const cdf = new Float64Array(n);
    let acc = 0;
    for (let i = 0; i < n; i++) cdf[i] = acc = i === 0 ? p[0] : acc + p[i];
    const last = cdf[n - 1];
    for (let i = 0; i < n; i++) cdf[i] = cdf[i] / last;
    const u = this.bitGenerator.nextDouble();
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** `permutation(n)`: `arange(n)` shuffled in place by `shuffle` (same draws). */
  permutation(n: number): number[] {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`permutation: n must be a non-negative integer, got ${n}`);
    }
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(i);
    this.shuffle(out);
    return out;
  }

  /** PCG64 state snapshot (see PCG64.getState). */
  getState(): PCG64State {
    return this.bitGenerator.getState();
  }
}

/** `np.random.default_rng(seed)`. */
export function defaultRng(seed: number | bigint): Generator {
  return new Generator(seed);
}
