import { strict as assert } from "node:assert";
import { meanCi95, pairedDiff, tQuantile975, wilson95 } from "../lib/util/stats.ts";
import { meanCi } from "../lib/viz/summary.ts";

Deno.test("meanCi95 matches a hand computation", () => {
  // xs = 1..5: mean 3, sd sqrt(2.5), t(4) = 2.776 -> half width 2.776 * 1.5811 / 2.2361 = 1.9630
  const r = meanCi95([1, 2, 3, 4, 5]);
  assert.equal(r.mean, 3);
  assert.ok(Math.abs(r.sd - Math.sqrt(2.5)) < 1e-12);
  assert.ok(Math.abs(r.hi - 3 - 1.9630) < 1e-3, `hi ${r.hi}`);
  assert.ok(Math.abs(3 - r.lo - 1.9630) < 1e-3);
});

Deno.test("meanCi95 with one value has a zero-width interval, none is NaN", () => {
  assert.deepEqual(meanCi95([0.7]), { mean: 0.7, lo: 0.7, hi: 0.7, sd: 0, n: 1 });
  assert.ok(Number.isNaN(meanCi95([]).mean));
  assert.throws(() => meanCi95([1, NaN]), /non-finite/);
});

Deno.test("pairedDiff removes the shared seed effect", () => {
  const base = [0.5, 0.7, 0.9];
  const better = base.map((x) => x + 0.1);
  const d = pairedDiff(better, base);
  assert.ok(Math.abs(d.mean - 0.1) < 1e-12);
  assert.ok(Math.abs(d.hi - d.lo) < 1e-9, "a constant shift has no spread");
  assert.throws(() => pairedDiff([1], [1, 2]), /pair runs by seed/);
  assert.equal(tQuantile975(1), 12.706);
  assert.equal(tQuantile975(100), 1.96);
});

Deno.test("wilson95 matches hand computations and stays inside [0, 1]", () => {
  // 5/10: centre 0.5, half width 1.96 * sqrt(0.025 + 0.009604) / 1.38416 = 0.26340
  const h = wilson95(5, 10);
  assert.ok(Math.abs(h.lo - 0.2366) < 1e-4 && Math.abs(h.hi - 0.7634) < 1e-4, `${h.lo} ${h.hi}`);
  // 0/10: [0, 0.2775], not the zero-width interval of p +- 1.96 se
  const z = wilson95(0, 10);
  assert.equal(z.lo, 0);
  assert.ok(Math.abs(z.hi - 0.2775) < 1e-4);
  const one = wilson95(8, 8);
  assert.equal(one.hi, 1);
  assert.ok(one.lo > 0.6 && one.lo < 0.7, `${one.lo}`); // 8/8: [0.676, 1]
  assert.ok(Number.isNaN(wilson95(0, 0).p));
  assert.throws(() => wilson95(3, 2), /successes <= trials/);
});

Deno.test("one interval helper: viz meanCi is the Student-t meanCi95 over the finite values", () => {
  const xs = [0.2, 0.5, 0.4, NaN];
  const a = meanCi(xs), b = meanCi95([0.2, 0.5, 0.4]);
  assert.deepEqual([a.mean, a.lo, a.hi, a.n], [b.mean, b.lo, b.hi, b.n]);
});
