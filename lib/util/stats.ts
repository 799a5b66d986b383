/**
 * Statistics over seeds: mean with a 95% Student-t confidence interval, and
 * paired differences against a baseline (same seed, same data); Student-t and
 * normal distributions at any level, paired t-tests, the Holm step-down
 * correction, the minimum detectable effect of a paired t-test (exact, from the
 * noncentral t), and a seeded two-stage paired bootstrap over seeds and episodes.
 *
 * @module
 */

import { Rng } from "./prng.ts";

/** Mean and 95% confidence interval of a sample. */
export interface MeanCi {
  /** Sample mean. */
  mean: number;
  /** Lower end of the 95% interval (= mean when n < 2). */
  lo: number;
  /** Upper end of the 95% interval (= mean when n < 2). */
  hi: number;
  /** Sample standard deviation (0 when n < 2). */
  sd: number;
  /** Number of values. */
  n: number;
}

// Two-sided 97.5% quantiles of Student's t for df = 1..30.
const T975 = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.160,
  2.145,
  2.131,
  2.120,
  2.110,
  2.101,
  2.093,
  2.086,
  2.080,
  2.074,
  2.069,
  2.064,
  2.060,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/** The 0.975 quantile of Student's t with `df` degrees of freedom (normal 1.96 beyond 30). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) {
    throw new Error(`degrees of freedom must be >= 1, got ${df}`);
  }
  return df <= 30 ? T975[df - 1] : 1.96;
}

/** Mean and 95% CI of `xs` (NaN values are an error: a metric should never be NaN). */
export function meanCi95(xs: number[]): MeanCi {
  const n = xs.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, sd: 0, n: 0 };
  if (xs.some((x) => !Number.isFinite(x))) {
    throw new Error(`meanCi95: non-finite value in [${xs.join(", ")}]`);
  }
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, lo: mean, hi: mean, sd: 0, n };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = tQuantile975(n - 1) * sd / Math.sqrt(n);
  return { mean, lo: mean - half, hi: mean + half, sd, n };
}

/**
 * Paired difference `a - b` (same seeds in the same order) with its 95% CI.
 * Throws when the samples are not the same length.
 */
export function pairedDiff(a: number[], b: number[]): MeanCi {
  if (a.length !== b.length) {
    throw new Error(`pairedDiff: ${a.length} values against ${b.length}; pair runs by seed`);
  }
  return meanCi95(a.map((x, i) => x - b[i]));
}

/** A proportion with its Wilson score 95% interval. */
export interface Proportion {
  /** successes / trials (NaN when trials = 0). */
  p: number;
  /** Lower end of the 95% interval. */
  lo: number;
  /** Upper end of the 95% interval. */
  hi: number;
  /** Trials. */
  n: number;
}

/**
 * The Wilson score 95% interval of `successes` out of `trials` (z = 1.96). Unlike p ± 1.96·se it
 * stays inside [0, 1] and is not zero-width at 0 or n successes. NaN fields when trials = 0.
 */
export function wilson95(successes: number, trials: number): Proportion {
  if (
    !(Number.isInteger(successes) && Number.isInteger(trials) && successes >= 0 &&
      successes <= trials)
  ) {
    throw new Error(`wilson95: need integers 0 <= successes <= trials, got ${successes}/${trials}`);
  }
  if (trials === 0) return { p: NaN, lo: NaN, hi: NaN, n: 0 };
  const z = 1.96, n = trials, p = successes / n;
  const den = 1 + z * z / n;
  const centre = (p + z * z / (2 * n)) / den;
  const half = z * Math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den;
  return { p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half), n };
}

// ---------------------------------------------------------------------------------------------
// Distributions at any level.

/** Standard normal CDF (erfc with a Chebyshev fit, relative error below 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(
    -z * z - 1.26551223 +
      t * (1.00002368 +
          t * (0.37409196 +
              t * (0.09678418 +
                  t * (-0.18628806 +
                      t * (0.27886807 +
                          t *
                            (-1.13520398 +
                              t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? 1 - r / 2 : r / 2;
}

/** Quantile of a continuous increasing CDF on [lo, hi] by bisection. */
function bisect(cdf: (x: number) => number, p: number, lo: number, hi: number): number {
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function checkP(p: number, what: string): void {
  if (!(p > 0 && p < 1)) throw new Error(`${what}: probability must be in (0, 1), got ${p}`);
}

/** The `p` quantile of the standard normal (e.g. 0.975 -> 1.95996). */
export function normalQuantile(p: number): number {
  checkP(p, "normalQuantile");
  return bisect(normalCdf, p, -40, 40);
}

/** log Γ(x) for x > 0 (Lanczos, g = 7). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized incomplete beta I_x(a, b) (continued fraction, modified Lentz). */
export function regIncBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - regIncBeta(b, a, 1 - x);
  const front = Math.exp(
    lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  ) / a;
  const tiny = 1e-300;
  let f = 1, c = 1, d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    const num = i === 0
      ? 1
      : i % 2 === 0
      ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
      : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-14) break;
  }
  return front * (f - 1);
}

/** CDF of Student's t with `df` degrees of freedom (any real df > 0). */
export function tCdf(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`tCdf: degrees of freedom must be > 0, got ${df}`);
  const tail = 0.5 * regIncBeta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

/** The `p` quantile of Student's t with `df` degrees of freedom (e.g. (0.975, 2) -> 4.303). */
export function tQuantile(p: number, df: number): number {
  checkP(p, "tQuantile");
  if (!(df > 0)) throw new Error(`tQuantile: degrees of freedom must be > 0, got ${df}`);
  let hi = 10;
  while (tCdf(hi, df) < Math.max(p, 1 - p) && hi < 1e12) hi *= 4;
  return bisect((x) => tCdf(x, df), p, -hi, hi);
}

// ---------------------------------------------------------------------------------------------
// Tests, multiplicity, power.

/** A paired (one-sample) t-test of differences: mean, sd, n and the two-sided p-value. */
export interface TTest {
  /** Mean difference. */
  mean: number;
  /** Sample standard deviation of the differences (0 when n < 2). */
  sd: number;
  /** Number of differences. */
  n: number;
  /** Two-sided p-value of "mean = 0" (NaN when n < 2 or sd = 0 with mean 0; 0 when sd = 0). */
  p: number;
}

/** Two-sided one-sample t-test of `diffs` against 0 (non-finite values are an error). */
export function tTest(diffs: number[]): TTest {
  const m = meanCi95(diffs);
  if (m.n < 2) return { mean: m.mean, sd: 0, n: m.n, p: NaN };
  if (m.sd === 0) return { mean: m.mean, sd: 0, n: m.n, p: m.mean === 0 ? NaN : 0 };
  const t = m.mean / (m.sd / Math.sqrt(m.n));
  return { mean: m.mean, sd: m.sd, n: m.n, p: 2 * (1 - tCdf(Math.abs(t), m.n - 1)) };
}

/** Mean of `xs` with its two-sided Student-t interval at `level` (e.g. 0.99). */
export function meanCiAt(xs: number[], level: number): MeanCi {
  checkP(level, "meanCiAt level");
  const m = meanCi95(xs);
  if (m.n < 2) return m;
  const half = tQuantile(1 - (1 - level) / 2, m.n - 1) * m.sd / Math.sqrt(m.n);
  return { ...m, lo: m.mean - half, hi: m.mean + half };
}

/**
 * The Holm step-down correction of `ps` (two-sided p-values of one family; NaN entries take no
 * part): the adjusted p-values, and for each entry the confidence level whose interval agrees
 * with Holm's decision at `alpha`. Sorted ascending, step j (1-based, m tests) tests at
 * alpha / (m - j + 1) and stops at the first non-rejection; a rejected hypothesis gets the level
 * 1 - alpha / (m - j + 1) of its step, every hypothesis from the first non-rejected one on the
 * level of that step. An interval at its level excludes 0 exactly when Holm rejects (for a
 * p-value and an interval from the same distribution).
 */
export function holm(ps: number[], alpha = 0.05): { adjusted: number[]; level: number[] } {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p)).sort((a, b) =>
    a[0] - b[0]
  );
  const m = idx.length;
  const adjusted = ps.map(() => NaN), level = ps.map(() => 1 - alpha);
  let running = 0, stopped = -1;
  idx.forEach(([p, i], j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    adjusted[i] = running;
    if (stopped < 0 && p > alpha / (m - j)) stopped = j;
    level[i] = 1 - alpha / (m - (stopped < 0 ? j : stopped));
  });
  return { adjusted, level };
}

/**
 * Power of a two-sided paired t-test at `alpha` with `n` pairs against a true mean difference
 * of `d` standard deviations of the differences: P(|T| > t_c) for T noncentral t with n - 1
 * degrees of freedom and noncentrality d·√n, integrated over the chi distribution (Simpson).
 */
export function pairedTPower(d: number, n: number, alpha = 0.05): number {
  if (!(Number.isInteger(n) && n >= 2)) throw new Error(`pairedTPower: need n >= 2, got ${n}`);
  const df = n - 1, tc = tQuantile(1 - alpha / 2, df), delta = d * Math.sqrt(n);
  // W = sqrt(V), V ~ chi²(df): density 2 w^(df-1) e^(-w²/2) / (2^(df/2) Γ(df/2)).
  const logC = Math.log(2) - (df / 2) * Math.log(2) - lnGamma(df / 2);
  const wMax = Math.sqrt(df) + 12, N = 4000, h = wMax / N;
  let s = 0;
  for (let i = 0; i <= N; i++) {
    const w = i * h;
    const dens = w === 0 ? (df === 1 ? Math.exp(logC) : 0) : Math.exp(
      logC + (df - 1) * Math.log(w) - w * w / 2,
    );
    const c = tc * w / Math.sqrt(df);
    const f = dens * (normalCdf(delta - c) + normalCdf(-delta - c));
    s += f * (i === 0 || i === N ? 1 : i % 2 ? 4 : 2);
  }
  return Math.min(1, s * h / 3);
}

/**
 * Minimum detectable effect of a two-sided paired t-test with `n` pairs: the true mean
 * difference, in standard deviations of the per-pair difference, detected with probability
 * `power` at `alpha` (exact, {@link pairedTPower}). Multiply by the sd of the differences for the
 * metric's units. n = 3: about 3.26 at 80% power and 0.05 (the normal approximation
 * (z_0.975 + z_0.8)/√3 = 1.62 is far too optimistic at such n). NaN when n < 2.
 */
export function pairedMde(n: number, power = 0.8, alpha = 0.05): number {
  if (!(n >= 2)) return NaN;
  let lo = 0, hi = 1;
  while (pairedTPower(hi, n, alpha) < power && hi < 1e6) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (pairedTPower(mid, n, alpha) < power) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Minimum detectable effect of a normal (z) test whose estimate has standard error `se`. */
export function normalMde(se: number, power = 0.8, alpha = 0.05): number {
  return (normalQuantile(1 - alpha / 2) + normalQuantile(power)) * se;
}

/** A bootstrap estimate: point value, percentile interval, standard error and two-sided p. */
export interface BootstrapResult {
  /** Point estimate on the data. */
  mean: number;
  /** Lower end of the percentile interval at the requested level. */
  lo: number;
  /** Upper end of the percentile interval. */
  hi: number;
  /** Standard deviation of the bootstrap replicates. */
  se: number;
  /** Two-sided bootstrap p-value of "difference = 0" (twice the smaller tail at 0, at most 1). */
  p: number;
  /** Replicates drawn. */
  reps: number;
}

/** Options of {@link pairedClusterBootstrap}. */
export interface BootstrapOptions {
  /** Replicates (default 4000). */
  reps?: number;
  /** Seed of the resampling stream. */
  seed: number;
  /** Level of the percentile interval (default 0.95). */
  level?: number;
}

/** Tag of the bootstrap streams. */
const BOOT_TAG = 0x424f4f54;

/**
 * Paired two-stage (cluster) bootstrap of the mean difference `a - b` over seeds and episodes:
 * `a[s][e]` and `b[s][e]` are the outcomes (e.g. 1 = success) of the two policies on episode `e`
 * of seed `s`, the same episode for both. Each replicate draws seeds with replacement, then within
 * each drawn seed its episodes with replacement (the same draws for `a` and `b`, which keeps the
 * pairing), and takes the mean over seeds of the per-seed mean difference. With one seed only the
 * episodes are resampled. Deterministic from `seed`.
 */
export function pairedClusterBootstrap(
  a: number[][],
  b: number[][],
  opts: BootstrapOptions,
): BootstrapResult {
  if (a.length !== b.length || a.some((xs, s) => xs.length !== b[s].length)) {
    throw new Error("pairedClusterBootstrap: a and b must have the same seeds and episodes");
  }
  const reps = opts.reps ?? 4000, level = opts.level ?? 0.95;
  checkP(level, "pairedClusterBootstrap level");
  const S = a.length;
  const d = a.map((xs, s) => xs.map((x, e) => x - b[s][e]));
  const meanOf = (xs: number[]) => xs.reduce((p, q) => p + q, 0) / xs.length;
  const kept = d.filter((xs) => xs.length > 0);
  if (S === 0 || kept.length === 0) {
    return { mean: NaN, lo: NaN, hi: NaN, se: NaN, p: NaN, reps: 0 };
  }
  const point = meanOf(kept.map(meanOf));
  const rng = new Rng(opts.seed, BOOT_TAG);
  const out = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    let tot = 0;
    for (let i = 0; i < kept.length; i++) {
      const xs = kept.length === 1 ? kept[0] : kept[rng.int(kept.length)];
      let s = 0;
      for (let e = 0; e < xs.length; e++) s += xs[rng.int(xs.length)];
      tot += s / xs.length;
    }
    out[r] = tot / kept.length;
  }
  const sorted = Float64Array.from(out).sort();
  const q = (p: number) => sorted[Math.min(reps - 1, Math.max(0, Math.floor(p * reps)))];
  const m = meanOf(Array.from(out));
  const se = Math.sqrt(out.reduce((acc, x) => acc + (x - m) ** 2, 0) / Math.max(1, reps - 1));
  let below = 0, above = 0;
  for (const x of out) {
    if (x <= 0) below++;
    if (x >= 0) above++;
  }
  const p = se === 0 ? (point === 0 ? NaN : 0) : Math.min(1, (2 * Math.min(below, above)) / reps);
  return { mean: point, lo: q((1 - level) / 2), hi: q(1 - (1 - level) / 2), se, p, reps };
}

// ---------------------------------------------------------------------------------------------
// Rank correlation.

/** Mid-ranks of `xs` (ties share the mean of their ranks), 1-based. */
export function ranks(xs: number[]): number[] {
  const idx = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    for (let k = i; k <= j; k++) out[idx[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation of paired samples (NaN with fewer than 3 pairs or no spread). */
export function spearman(x: number[], y: number[]): number {
  if (x.length !== y.length) {
    throw new Error(`spearman: ${x.length} x values, ${y.length} y values`);
  }
  const n = x.length;
  if (n < 3) return NaN;
  const rx = ranks(x), ry = ranks(y);
  const mx = rx.reduce((a, b) => a + b, 0) / n, my = ry.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/**
 * Spearman's rho of points grouped in clusters (e.g. the checkpoints of one run), with a 95%
 * percentile interval from a seeded bootstrap that resamples whole clusters (points of one run
 * are not independent). Replicates whose rho is undefined (too few points, no spread) are
 * dropped; NaN interval when fewer than 2 clusters.
 */
export function clusterSpearman(
  points: { cluster: string; x: number; y: number }[],
  opts: { seed: number; reps?: number },
): { rho: number; lo: number; hi: number; n: number; clusters: number } {
  const ok = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const rho = spearman(ok.map((p) => p.x), ok.map((p) => p.y));
  const groups = [...new Set(ok.map((p) => p.cluster))].map((c) =>
    ok.filter((p) => p.cluster === c)
  );
  const base = { rho, n: ok.length, clusters: groups.length };
  if (groups.length < 2 || !Number.isFinite(rho)) return { ...base, lo: NaN, hi: NaN };
  const rng = new Rng(opts.seed, BOOT_TAG, 2);
  const reps = opts.reps ?? 2000;
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const xs: number[] = [], ys: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      for (const p of groups[rng.int(groups.length)]) {
        xs.push(p.x);
        ys.push(p.y);
      }
    }
    const s = spearman(xs, ys);
    if (Number.isFinite(s)) out.push(s);
  }
  if (out.length < reps / 2) return { ...base, lo: NaN, hi: NaN };
  out.sort((a, b) => a - b);
  const q = (p: number) => out[Math.min(out.length - 1, Math.max(0, Math.floor(p * out.length)))];
  return { ...base, lo: q(0.025), hi: q(0.975) };
}
