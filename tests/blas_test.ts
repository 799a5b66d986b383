/**
 * The BLAS search of the `blas` device (lib/model/blas.ts): candidate order,
 * numpy's bundled OpenBLAS (ILP64, renamed symbols) found without the system
 * library, the self-check, every found library against a plain matmul, the
 * jax-js equality tests of tests/native_test.ts on numpy's library
 * (`BLAS_SKIP_SYSTEM=1`), and Apple Accelerate where it exists.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ACCELERATE_PATH,
  type Blas,
  blasCandidates,
  describeBlas,
  expandPattern,
  flavourOf,
  hasBlas,
  loadBlas,
  numpyBundles,
  openBlas,
  selfCheck,
} from "../lib/model/blas.ts";

const here = (p: string) => decodeURIComponent(new URL(p, import.meta.url).pathname);
const numpyLibs = numpyBundles().filter((p) => /numpy/.test(p));
const noNumpy = numpyLibs.length === 0;
/** Environment of a child that must not find the system, conda or LD_LIBRARY_PATH builds. */
const SKIP_ENV = { BLAS_SKIP_SYSTEM: "1", BLAS_LIBRARY: "", CONDA_PREFIX: "", LD_LIBRARY_PATH: "" };

/** Run TypeScript in a child Deno with `env` added; returns stdout (throws with stderr on failure). */
async function child(code: string, env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`child failed: ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

/** Temporarily set environment variables (undefined deletes) around `fn`. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const set = (k: string, v: string | undefined) =>
    v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  try {
    for (const [k, v] of Object.entries(vars)) set(k, v);
    return fn();
  } finally {
    for (const [k, v] of Object.entries(old)) set(k, v);
  }
}

/** Row-major reference of op(A) @ op(B) in float64. */
function naive(
  ta: boolean,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Max abs error of `blas` against {@link naive} over the four transpose cases of odd sizes. */
function gemmError(blas: Blas): number {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const [m, n, k] = [37, 29, 53];
  let worst = 0;
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const a = Float32Array.from({ length: m * k }, rnd);
      const b = Float32Array.from({ length: k * n }, rnd);
      const c = new Float32Array(m * n);
      blas.sgemm(ta, tb, m, n, k, 1, a, 0, ta ? m : k, b, 0, tb ? k : n, 0, c, 0, n);
      const want = naive(ta, tb, m, n, k, a, b);
      for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i] - want[i]));
    }
  }
  return worst;
}

Deno.test("expandPattern expands * per path segment, newest version first", () => {
  const root = Deno.makeTempDirSync({ prefix: "blas_glob_" });
  try {
    for (const v of ["python3.9", "python3.12", "python3.11"]) {
      Deno.mkdirSync(join(root, "lib", v, "site-packages"), { recursive: true });
    }
    Deno.mkdirSync(join(root, "lib", "python2.7", "site-packages"), { recursive: true });
    assert.deepEqual(
      expandPattern(`${root}/lib/python3*/site-packages`),
      ["python3.12", "python3.11", "python3.9"].map((v) => join(root, "lib", v, "site-packages")),
    );
    assert.deepEqual(expandPattern(`${root}/nothing/*/here`), []);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("flavourOf tells numpy, scipy, conda, system and Accelerate paths apart", () => {
  withEnv({ CONDA_PREFIX: "/home/u/miniforge3/envs/x" }, () => {
    assert.equal(flavourOf("/x/site-packages/numpy.libs/libscipy_openblas64_-ab.so"), "numpy");
    assert.equal(flavourOf("/x/site-packages/numpy/.dylibs/libscipy_openblas64_.dylib"), "numpy");
    assert.equal(flavourOf("/x/site-packages/scipy.libs/libscipy_openblas-cd.so"), "numpy");
    assert.equal(flavourOf("/home/u/miniforge3/envs/x/lib/libopenblas.so.0"), "conda");
    assert.equal(flavourOf("/usr/lib/x86_64-linux-gnu/libopenblas.so.0"), "system");
    assert.equal(flavourOf(ACCELERATE_PATH), "accelerate");
    assert.equal(flavourOf("/opt/mine/libopenblas.so"), "custom");
  });
});

Deno.test("search order: BLAS_LIBRARY alone; else system, conda, LD_LIBRARY_PATH, numpy", () => {
  const root = Deno.makeTempDirSync({ prefix: "blas_order_" });
  try {
    const conda = join(root, "conda"), ld = join(root, "modules"), venv = join(root, "venv");
    const npDir = join(venv, "lib", "python3.11", "site-packages", "numpy.libs");
    for (const d of [join(conda, "lib"), ld, npDir]) Deno.mkdirSync(d, { recursive: true });
    for (
      const f of [
        join(conda, "lib", "libopenblas.so.0"),
        join(ld, "libopenblas.so"),
        join(npDir, "libscipy_openblas64_-x.so"),
      ]
    ) {
      Deno.writeTextFileSync(f, "not a library");
    }
    const vars = { CONDA_PREFIX: conda, LD_LIBRARY_PATH: `/nonexistent:${ld}`, VIRTUAL_ENV: venv };
    withEnv({ ...vars, BLAS_LIBRARY: "/opt/x/libopenblas.so", BLAS_SKIP_SYSTEM: undefined }, () => {
      assert.deepEqual(blasCandidates(), [{ path: "/opt/x/libopenblas.so", flavour: "custom" }]);
    });
    const ours = (skip: string | undefined) =>
      withEnv({ ...vars, BLAS_LIBRARY: undefined, BLAS_SKIP_SYSTEM: skip }, () => blasCandidates());
    const all = ours(undefined);
    const idx = (p: string) => all.findIndex((c) => c.path === p);
    const c = idx(join(conda, "lib", "libopenblas.so.0"));
    const l = idx(join(ld, "libopenblas.so"));
    const n = idx(join(npDir, "libscipy_openblas64_-x.so"));
    assert.ok(c >= 0 && l > c && n > l, JSON.stringify(all));
    assert.equal(all[c].flavour, "conda");
    assert.equal(all[l].flavour, "ld_library_path");
    assert.equal(all[n].flavour, "numpy");
    const sys = all.slice(0, c).map((x) => x.flavour);
    assert.ok(sys.every((f) => f === "system" || f === "homebrew"), JSON.stringify(all));
    // The test switch leaves out every system path, nothing else.
    const skipped = ours("1");
    assert.ok(skipped.every((x) => x.flavour !== "system" && x.flavour !== "homebrew"));
    assert.deepEqual(skipped.slice(0, 3).map((x) => x.flavour), [
      "conda",
      "ld_library_path",
      "numpy",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a file that is no BLAS is rejected with the reason; the error lists it and the non-root ways", async () => {
  const root = Deno.makeTempDirSync({ prefix: "blas_bad_" });
  try {
    const bad = join(root, "libopenblas.so.0");
    Deno.writeTextFileSync(bad, "not a library");
    assert.throws(() => openBlas({ path: bad, flavour: "custom" }), /libopenblas\.so\.0/);
    const text = await child(
      `import { loadBlas } from "${new URL("../lib/model/blas.ts", import.meta.url).href}";
       try { loadBlas(); console.log("loaded"); } catch (e) { console.log(String(e)); }`,
      { BLAS_LIBRARY: bad },
    );
    assert.match(text, /OpenBLAS could not be loaded \(tried .*libopenblas\.so\.0: /);
    assert.match(text, /python3 -m pip install --user numpy/);
    assert.match(text, /conda install -c conda-forge openblas/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("the self-check rejects a GEMM that ignores offsets, strides or beta", () => {
  const fake = (bug: "offset" | "beta"): Blas => ({
    library: "fake",
    flavour: "custom",
    config: "fake",
    version: null,
    int64: false,
    sgemmSymbol: "fake",
    threads: () => 1,
    setThreads: () => {},
    sgemm(ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) {
            const ai = bug === "offset" ? i * lda + p : offA + (ta ? p * lda + i : i * lda + p);
            s += a[ai] * b[offB + (tb ? j * ldb + p : p * ldb + j)];
          }
          const ci = offC + i * ldc + j;
          c[ci] = alpha * s + (bug === "beta" ? 0 : beta * c[ci]);
        }
      }
    },
  });
  assert.equal(selfCheck(fake("offset")), false);
  assert.equal(selfCheck(fake("beta")), false);
});

Deno.test(
  "every BLAS found on this machine passes the self-check and matches a plain matmul" +
    (hasBlas() ? "" : " [ignored: no BLAS on this machine]"),
  { ignore: !hasBlas() },
  () => {
    const found: string[] = [];
    for (const c of blasCandidates()) {
      let blas: Blas;
      try {
        blas = openBlas(c);
      } catch {
        continue; // a candidate that does not load is skipped by the search as well
      }
      assert.ok(selfCheck(blas), describeBlas(blas));
      const err = gemmError(blas);
      assert.ok(err < 1e-5, `${describeBlas(blas)}: max error ${err}`);
      found.push(c.flavour);
    }
    assert.ok(found.length >= 1);
    assert.ok(selfCheck(loadBlas()));
  },
);

/** Why the numpy tests are ignored here (shown in their names), or "". */
const noNumpyWhy = noNumpy
  ? " [ignored: numpy's wheel, which bundles OpenBLAS, is not installed; python3 -m pip install --user numpy]"
  : "";

Deno.test(
  "BLAS_SKIP_SYSTEM=1: the device resolves to numpy's bundled OpenBLAS (ILP64) and env.json says so" +
    noNumpyWhy,
  { ignore: noNumpy },
  async () => {
    const lib = (p: string) => new URL(p, import.meta.url).href;
    const text = await child(
      `import { blasInfo, loadBlas } from "${lib("../lib/model/blas.ts")}";
       import { resolveDevice } from "${lib("../lib/model/device.ts")}";
       import { envRecord, loadConfig } from "${lib("../lib/experiment/mod.ts")}";
       const cfg = loadConfig("${
        here("../configs/experiments/cell_masking.yaml")
      }", { profile: "smoke" });
       const b = loadBlas();
       b.setThreads(1);
       const t1 = b.threads();
       console.log(JSON.stringify({ auto: resolveDevice("auto"), info: blasInfo(b), t1, env: envRecord(cfg) }));`,
      SKIP_ENV,
    );
    const r = JSON.parse(text.trim().split("\n").pop()!);
    assert.equal(r.auto, "blas");
    assert.equal(r.info.flavour, "numpy");
    assert.match(r.info.path, /numpy\.libs\/libscipy_openblas64_|numpy\/\.dylibs\//);
    assert.equal(r.info.sgemm_symbol, "scipy_cblas_sgemm64_");
    assert.equal(r.info.int64, true);
    assert.match(r.info.version, /^\d+\.\d+\.\d+/);
    assert.equal(r.t1, 1, "scipy_openblas_set_num_threads64_ did not take effect");
    assert.equal(r.env.backend, "blas");
    assert.deepEqual(r.env.blas_library, r.info);
    assert.match(r.env.blas, /USE64BITINT/);
  },
);

Deno.test(
  "BLAS_SKIP_SYSTEM=1: the jax-js equality tests of tests/native_test.ts pass on numpy's OpenBLAS" +
    noNumpyWhy,
  { ignore: noNumpy, sanitizeResources: false },
  async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--filter", "/jax-js|bit for bit/", here("./native_test.ts")],
      env: { ...SKIP_ENV, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const m = /ok \| (\d+) passed \| 0 failed/.exec(text);
    assert.ok(out.success && m, text.slice(-3000));
    assert.ok(
      Number(m![1]) >= 3,
      `only ${m![1]} passed (were they ignored?):\n${text.slice(-2000)}`,
    );
    assert.doesNotMatch(text, /ignored/);
  },
);

Deno.test(
  "macOS: Apple Accelerate loads, passes the self-check and matches a plain matmul" +
    (Deno.build.os === "darwin" ? "" : " [ignored: Accelerate exists only on macOS]"),
  { ignore: Deno.build.os !== "darwin" },
  () => {
    const blas = openBlas({ path: ACCELERATE_PATH, flavour: "accelerate" });
    assert.equal(blas.sgemmSymbol, "cblas_sgemm");
    assert.equal(blas.int64, false);
    assert.equal(blas.threads(), 1);
    const err = gemmError(blas);
    assert.ok(err < 1e-5, `max error ${err}`);
  },
);

Deno.test("auto falling back to wasm says what it costs and the one command that restores blas", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--ext=ts",
      `import { selectDevice } from "${new URL("../lib/model/device.ts", import.meta.url).href}";
       console.log("device=" + await selectDevice("auto"));`,
    ],
    env: { BLAS_LIBRARY: "/nonexistent/libopenblas.so.0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.match(new TextDecoder().decode(out.stdout), /device=wasm/);
  const err = new TextDecoder().decode(out.stderr);
  assert.match(err, /falls back to wasm: .*about 4x slower/);
  assert.match(err, /Run `unset BLAS_LIBRARY` to restore the fast blas device/);
  assert.equal(err.match(/falls back to wasm/g)?.length, 1);
});
