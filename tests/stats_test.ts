import { strict as assert } from "node:assert";
import { meanCi95, pairedDiff, tQuantile975 } from "../lib/experiment/stats.ts";

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
