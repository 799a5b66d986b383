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
