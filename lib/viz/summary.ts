/**
 * Small summaries for plotting (mean with a normal-approximation 95% band).
 * Reported comparisons should use lib/experiment's statistics; this is for pictures.
 *
 * @module
 */

/** Mean, spread and a 95% interval of a sample. */
export interface MeanCi {
  /** Sample size. */
  n: number;
  /** Mean (NaN when n = 0). */
  mean: number;
  /** Sample standard deviation (0 when n < 2). */
  sd: number;
  /** Lower end of mean ± z·sd/√n. */
  lo: number;
  /** Upper end. */
  hi: number;
}

/** Mean ± z·sd/√n (z = 1.96 by default) of the finite values. */
export function meanCi(values: ArrayLike<number>, z = 1.96): MeanCi {
  const v = Array.from(values).filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { n, mean: NaN, sd: 0, lo: NaN, hi: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const h = n > 1 ? (z * sd) / Math.sqrt(n) : 0;
  return { n, mean, sd, lo: mean - h, hi: mean + h };
}
