import { strict as assert } from "node:assert";
import {
  clusterSpearman,
  holm,
  meanCi95,
  meanCiAt,
  normalQuantile,
  pairedClusterBootstrap,
  pairedDiff,
  pairedMde,
  pairedTPower,
  ranks,
  spearman,
  tCdf,
  tQuantile,
  tQuantile975,
  tTest,
  wilson95,
} from "../lib/util/stats.ts";
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

Deno.test("tQuantile and tCdf agree with the published table and with each other", () => {
  for (let df = 1; df <= 30; df++) {
    assert.ok(Math.abs(tQuantile(0.975, df) - tQuantile975(df)) < 2e-3, `df ${df}`);
  }
  assert.ok(Math.abs(tCdf(2, 5) - 0.94903) < 1e-4);
  assert.ok(Math.abs(tCdf(-2, 5) - 0.05097) < 1e-4);
  assert.ok(Math.abs(tQuantile(0.995, 4) - 4.604) < 1e-3);
  assert.ok(Math.abs(normalQuantile(0.975) - 1.95996) < 1e-4);
  assert.ok(Math.abs(normalQuantile(0.8) - 0.84162) < 1e-4);
});

Deno.test("tTest: p of a hand case, and a wider interval at a higher level", () => {
  // diffs 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 3.4641, df 2 -> p = 0.0742
  const t = tTest([1, 2, 3]);
  assert.ok(Math.abs(t.p - 0.0742) < 1e-3, `p ${t.p}`);
  const a = meanCiAt([1, 2, 3], 0.95), b = meanCiAt([1, 2, 3], 0.99);
  assert.ok(Math.abs(a.hi - meanCi95([1, 2, 3]).hi) < 1e-3);
  assert.ok(b.hi > a.hi && b.lo < a.lo);
  assert.ok(Number.isNaN(tTest([1]).p));
});

Deno.test("holm: adjusted p-values and levels that agree with the step-down decisions", () => {
  const { adjusted, level } = holm([0.01, 0.04, 0.03, NaN, 0.5]);
  assert.deepEqual(adjusted.map((x) => Number.isNaN(x) ? null : +x.toFixed(6)), [
    0.04,
    0.09,
    0.09,
    null,
    0.5,
  ]);
  assert.ok(Math.abs(level[0] - (1 - 0.05 / 4)) < 1e-12, "the first step tests at alpha / m");
  assert.ok(Math.abs(level[2] - (1 - 0.05 / 3)) < 1e-12, "the first non-rejected step's level");
  assert.equal(level[1], level[2]);
  // Everything below alpha / m: all rejected, each at its own step's level.
  const all = holm([0.001, 0.002]);
  assert.ok(Math.abs(all.level[0] - (1 - 0.025)) < 1e-12 && Math.abs(all.level[1] - 0.95) < 1e-12);
});

Deno.test("pairedMde: 3 seeds need about 3.3 sd; power is alpha at no effect", () => {
  assert.ok(Math.abs(pairedMde(3) - 3.26) < 0.03, `mde ${pairedMde(3)}`);
  assert.ok(pairedMde(5) < pairedMde(3) && pairedMde(10) < pairedMde(5));
  assert.ok(Math.abs(pairedTPower(0, 5) - 0.05) < 1e-3);
  assert.ok(Math.abs(pairedTPower(pairedMde(5), 5) - 0.8) < 1e-3);
  // Large n: close to the normal approximation (1.96 + 0.84) / sqrt(n).
  assert.ok(Math.abs(pairedMde(200) - 2.8016 / Math.sqrt(200)) < 0.005);
  assert.ok(Number.isNaN(pairedMde(1)));
});

Deno.test("pairedClusterBootstrap: seeded and paired by episode", () => {
  // Two seeds x 40 episodes; a wins 6 more episodes per seed than b, on the same episodes.
  const a = [0, 1].map((s) =>
    Array.from({ length: 40 }, (_, e) => (e + s) % 4 === 0 || e < 6 ? 1 : 0)
  );
  const b = a.map((xs) => xs.map((x, e) => (e < 6 ? 0 : x)));
  const r1 = pairedClusterBootstrap(a, b, { seed: 1, reps: 2000 });
  const r2 = pairedClusterBootstrap(a, b, { seed: 1, reps: 2000 });
  assert.deepEqual(r1, r2, "same seed, same result");
  assert.ok(Math.abs(r1.mean - 6 / 40) < 1e-12);
  assert.ok(r1.lo > 0 && r1.hi < 0.3, `[${r1.lo}, ${r1.hi}]`);
  assert.ok(r1.p < 0.05);
  // Identical policies: zero difference, no interval width.
  const same = pairedClusterBootstrap(a, a, { seed: 2, reps: 500 });
  assert.equal(same.mean, 0);
  assert.equal(same.hi - same.lo, 0);
  assert.throws(() => pairedClusterBootstrap(a, [b[0]], { seed: 1 }), /same seeds/);
});

Deno.test("spearman: ranks with ties, perfect and reversed orders; cluster bootstrap", () => {
  assert.deepEqual(ranks([3, 1, 3, 2]), [3.5, 1, 3.5, 2]);
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // Hand case: x 1..5, y 2 1 4 3 5 -> d = 1 1 1 1 0, rho = 1 - 6*4 / (5*24) = 0.8
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12);
  assert.ok(Number.isNaN(spearman([1, 2], [1, 2])));
  const pts = Array.from(
    { length: 5 },
    (_, run) =>
      Array.from(
        { length: 5 },
        (_, k) => ({ cluster: `r${run}`, x: k + run, y: -(k + run) + (k % 2) * 0.1 }),
      ),
  ).flat();
  const a = clusterSpearman(pts, { seed: 1, reps: 500 });
  assert.deepEqual(clusterSpearman(pts, { seed: 1, reps: 500 }), a, "seeded");
  assert.ok(a.rho < -0.9 && a.hi < 0 && a.lo >= -1, JSON.stringify(a));
  assert.equal(a.clusters, 5);
  assert.ok(Number.isNaN(clusterSpearman(pts.filter((p) => p.cluster === "r0"), { seed: 1 }).lo));
});
