/**
 * Statistics over seeds: mean with a 95% Student-t confidence interval, and
 * paired differences against a baseline (same seed, same data).
 *
 * @module
 */

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
