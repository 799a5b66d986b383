/**
 * Iteration order of CPython 3.11 `set` objects holding `(int, int)` tuples, as networkx's
 * connectivity code produces them (BFS `seen` sets, `set(iterable)` copies). The WFC env's node
 * order — and so which cells `permutation` picks for start and goal — follows these orders when
 * networkx iterates a subgraph through its node set. Modelled on the behaviour of CPython's
 * open-addressing set table (hash `& mask`, up to 9 linear probes, then the perturbed
 * `i*5 + 1 + perturb` jump; resize to the smallest power of two above 4x the used count when
 * the table is 60% filled) and of the xxHash-style tuple hash; no deletions are modelled.
 *
 * @module
 */

const M64 = 0xffffffffffffffffn;
const XXPRIME_1 = 11400714785074694791n;
const XXPRIME_2 = 14029467366897019727n;
const XXPRIME_5 = 2870177450012600261n;
const LINEAR_PROBES = 9;
const MIN_SIZE = 8;

/** CPython's `hash(int)` for a safe integer, as an unsigned 64-bit value. */
function intHashU64(v: number): bigint {
  if (!Number.isSafeInteger(v)) throw new RangeError(`pyTupleHash: ${v} is not a safe integer`);
  // hash(n) = n mod (2^61 - 1) keeping the sign; -1 maps to -2. Small ints hash to themselves.
  const P61 = (1n << 61n) - 1n;
  const b = BigInt(v);
  let h = b >= 0n ? b % P61 : -((-b) % P61);
  if (h === -1n) h = -2n;
  return BigInt.asUintN(64, h);
}

/** CPython's `hash((a, b))` for two integers, as an unsigned 64-bit value. */
export function pyTupleHash(a: number, b: number): bigint {
  let acc = XXPRIME_5;
  for (const lane of [intHashU64(a), intHashU64(b)]) {
    acc = (acc + lane * XXPRIME_2) & M64;
    acc = ((acc << 31n) | (acc >> 33n)) & M64;
    acc = (acc * XXPRIME_1) & M64;
  }
  acc = (acc + (2n ^ (XXPRIME_5 ^ 3527539n))) & M64;
  if (acc === M64) return 1546275796n;
  return acc;
}

/**
 * A CPython set of distinct keys, reduced to what decides its iteration order: each key's hash
 * and the order of insertion. Keys are caller-chosen integers (e.g. cell indices).
 */
export class PySetOrder {
  private mask = MIN_SIZE - 1;
  private keys: Int32Array = new Int32Array(MIN_SIZE).fill(-1);
  private hashes: bigint[] = new Array(MIN_SIZE).fill(0n);
  private fill = 0;

  /** Number of keys held. */
  get size(): number {
    return this.fill;
  }

  /** `set.add(key)` for a key not yet in the set, with its Python hash (unsigned 64-bit). */
  add(key: number, hash: bigint): void {
    if (key < 0) throw new RangeError(`PySetOrder.add: key must be >= 0, got ${key}`);
    const slot = this.findFree(this.keys, this.mask, hash);
    this.keys[slot] = key;
    this.hashes[slot] = hash;
    this.fill++;
    if (this.fill * 5 >= this.mask * 3) this.resize(this.fill * 4);
  }

  /** The keys in the order `for k in s` visits them. */
  order(): number[] {
    const out: number[] = [];
    for (let i = 0; i <= this.mask; i++) if (this.keys[i] >= 0) out.push(this.keys[i]);
    return out;
  }

  /** First free slot on the probe sequence of `hash` (no deleted entries exist). */
  private findFree(keys: Int32Array, mask: number, hash: bigint): number {
    const bmask = BigInt(mask);
    let perturb = hash;
    let i = Number(hash & bmask);
    for (;;) {
      if (keys[i] < 0) return i;
      if (i + LINEAR_PROBES <= mask) {
        for (let j = 1; j <= LINEAR_PROBES; j++) if (keys[i + j] < 0) return i + j;
      }
      perturb >>= 5n;
      i = Number((BigInt(i) * 5n + 1n + perturb) & bmask);
    }
  }

  /** Rebuild into a table of the smallest power of two > minUsed, visiting old slots in order. */
  private resize(minUsed: number): void {
    let size = MIN_SIZE;
    while (size <= minUsed) size *= 2;
    const keys = new Int32Array(size).fill(-1);
    const hashes: bigint[] = new Array(size).fill(0n);
    const mask = size - 1;
    for (let i = 0; i <= this.mask; i++) {
      if (this.keys[i] < 0) continue;
      const slot = this.findFree(keys, mask, this.hashes[i]);
      keys[slot] = this.keys[i];
      hashes[slot] = this.hashes[i];
    }
    this.keys = keys;
    this.hashes = hashes;
    this.mask = mask;
  }
}
