/**
 * A BLAS through Deno FFI: single-precision GEMM (and OpenBLAS's thread-count
 * calls) for the `blas` training device (lib/model/native.ts).
 *
 * Most machines already hold an OpenBLAS a user can load without root, so the
 * library is searched for in this order, and the first one that loads and
 * passes a tiny sgemm self-check wins:
 *
 * 1. `BLAS_LIBRARY=/path` (only that file is tried);
 * 2. the system's OpenBLAS (Debian/Ubuntu `libopenblas0-pthread`, Fedora, Arch,
 *    `/usr/local`, Homebrew on macOS);
 * 3. a conda/mamba environment (`$CONDA_PREFIX/lib`, then the usual
 *    `~/miniconda3`-style installs) and the directories on `LD_LIBRARY_PATH`
 *    (`DYLD_LIBRARY_PATH` on macOS; cluster modules put OpenBLAS there);
 * 4. the OpenBLAS bundled in numpy's wheel (`numpy.libs/libscipy_openblas64_-*.so`
 *    on Linux, `numpy/.dylibs/` on macOS) in the usual site-packages folders
 *    (virtualenv, conda, `~/.local`, pyenv, `/usr/local`, Homebrew, python.org);
 *    `python3` is asked where numpy lives only when none of those holds one (a
 *    pyenv shim costs ~0.5 s);
 * 5. Apple's Accelerate framework (macOS only: `cblas_sgemm`, no thread calls).
 *
 * `BLAS_SKIP_SYSTEM=1` leaves out step 2 (a test switch: it shows what a user
 * without the system library gets).
 *
 * numpy's build renames its symbols (`scipy_cblas_sgemm64_`,
 * `scipy_openblas_set_num_threads64_`: a `scipy_` prefix, a `64_` suffix) and
 * takes 64-bit integer sizes (ILP64); those are bound with i64 parameters. For
 * unrenamed builds the integer width comes from `openblas_get_config()`
 * (`USE64BITINT`).
 *
 * Row-major throughout. `sgemm` takes typed arrays plus element offsets, so a
 * head's slice of a fused [N, 3D] projection is passed as (array, offset, ld)
 * without copying.
 *
 * @module
 */

/** The ways to get a BLAS without root, printed when none is found. */
export const BLAS_NONROOT_HINT =
  "without root: `python3 -m pip install --user numpy` (its wheel bundles OpenBLAS, found automatically), " +
  "or `conda install -c conda-forge openblas` (found through $CONDA_PREFIX), or `brew install openblas` " +
  "on macOS; or a cluster module that puts libopenblas.so on LD_LIBRARY_PATH";

/** How to get OpenBLAS, printed when it cannot be loaded. */
export const BLAS_HINT =
  "train.device 'blas' needs OpenBLAS: on Debian/Ubuntu `apt-get install -y libopenblas0-pthread` " +
  `(or \`deno task setup\`, which installs it when root); ${BLAS_NONROOT_HINT}; ` +
  "or set BLAS_LIBRARY=/path/to/libopenblas.so, or use train.device: wasm";

/** Where a BLAS library came from. */
export type BlasFlavour =
  | "custom"
  | "system"
  | "homebrew"
  | "conda"
  | "ld_library_path"
  | "numpy"
  | "accelerate";

/** A library file (or loader name) the search will try. */
export interface BlasCandidate {
  /** Path (or a bare name the dynamic loader resolves). */
  path: string;
  /** Where it came from. */
  flavour: BlasFlavour;
}

/** What is recorded about a loaded BLAS (env.json, `deno task setup`, benches). */
export interface BlasInfo {
  /** Path or name the library was loaded from. */
  path: string;
  /** Where it came from. */
  flavour: BlasFlavour;
  /** OpenBLAS version (e.g. "0.3.21"), or null when the library does not say (Accelerate). */
  version: string | null;
  /** Build string (`openblas_get_config()`), or a short description for Accelerate. */
  config: string;
  /** Whether sizes are 64-bit integers (ILP64, e.g. numpy's bundle). */
  int64: boolean;
  /** The GEMM symbol that was bound (e.g. `cblas_sgemm`, `scipy_cblas_sgemm64_`). */
  sgemm_symbol: string;
}

/** A loaded BLAS. */
export interface Blas {
  /** Path or name the library was loaded from. */
  library: string;
  /** Where it came from. */
  flavour: BlasFlavour;
  /** OpenBLAS build string (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen MAX_THREADS=64"). */
  config: string;
  /** OpenBLAS version, or null when unknown. */
  version: string | null;
  /** Whether sizes are bound as 64-bit integers. */
  int64: boolean;
  /** The GEMM symbol that was bound. */
  sgemmSymbol: string;
  /** Threads the library uses (1 where it cannot be told, e.g. Accelerate). */
  threads(): number;
  /** Set the thread count (results are deterministic for a fixed count); a no-op for Accelerate. */
  setThreads(n: number): void;
  /**
   * C[offC..] = alpha * op(A) @ op(B) + beta * C, row-major; op(A) is [m, k],
   * op(B) is [k, n]; `lda`/`ldb`/`ldc` are row strides in elements.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    offA: number,
    lda: number,
    b: Float32Array,
    offB: number,
    ldb: number,
    beta: number,
    c: Float32Array,
    offC: number,
    ldc: number,
  ): void;
}

/** Accelerate's loader path (served from the dyld shared cache; not a file on disk). */
export const ACCELERATE_PATH = "/System/Library/Frameworks/Accelerate.framework/Accelerate";

const LINUX_SYSTEM = [
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "/usr/lib64/libopenblas.so.0",
  "/usr/lib64/libopenblasp.so.0",
  "/usr/lib/libopenblas.so.0",
  "/usr/local/lib/libopenblas.so.0",
  "/usr/local/lib/libopenblas.so",
];
const HOMEBREW = [
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];
const LIB_NAMES = [
  "libopenblas.so.0",
  "libopenblas.so",
  "libopenblas.0.dylib",
  "libopenblas.dylib",
];
const CONDA_BASES = ["miniconda3", "anaconda3", "miniforge3", "mambaforge", "micromamba", ".conda"];

/** Symbol naming of a build: `<prefix>cblas_sgemm<suffix>`. */
interface Naming {
  prefix: string;
  suffix: string;
}
const NAMINGS: Naming[] = [
  { prefix: "", suffix: "" }, // upstream, Debian, conda, Homebrew
  { prefix: "scipy_", suffix: "64_" }, // numpy >= 2 wheels (scipy-openblas64)
  { prefix: "", suffix: "64_" }, // numpy 1.2x wheels (openblas64_)
  { prefix: "scipy_", suffix: "" }, // scipy wheels (scipy-openblas32)
];

const env = (k: string) => Deno.env.get(k) || undefined;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Expand `*` inside the segments of an absolute path pattern (no `**`); matches
 * come in descending natural order (python3.12 before python3.9), so the
 * newest of several versions is tried first.
 */
export function expandPattern(pattern: string): string[] {
  let paths = [""];
  for (const seg of pattern.split("/").filter(Boolean)) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!seg.includes("*")) {
        next.push(`${dir}/${seg}`);
        continue;
      }
      const re = new RegExp(
        `^${seg.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`,
      );
      const names: string[] = [];
      try {
        for (const e of Deno.readDirSync(dir || "/")) if (re.test(e.name)) names.push(e.name);
      } catch { /* no such folder */ }
      names.sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
      for (const n of names) next.push(`${dir}/${n}`);
    }
    paths = next;
  }
  return paths.filter(exists);
}

/** Site-packages folders where a pip/conda numpy usually lives, most specific first. */
function sitePackagesDirs(): string[] {
  const home = env("HOME");
  const pyenv = env("PYENV_ROOT") ?? (home ? `${home}/.pyenv` : undefined);
  const roots = [
    env("VIRTUAL_ENV"),
    env("CONDA_PREFIX"),
    home && `${home}/.local`,
    pyenv && `${pyenv}/versions/*`,
    ...CONDA_BASES.map((b) => home && `${home}/${b}`),
    "/usr/local",
    "/opt/homebrew",
    "/Library/Frameworks/Python.framework/Versions/*",
    "/usr",
  ].filter((x): x is string => !!x);
  const dirs: string[] = [];
  for (const r of roots) {
    for (const sub of ["lib/python3*/site-packages", "lib/python3*/dist-packages"]) {
      dirs.push(...expandPattern(`${r}/${sub}`));
    }
  }
  if (home) dirs.push(...expandPattern(`${home}/Library/Python/3*/lib/python/site-packages`));
  return [...new Set(dirs)];
}

/** OpenBLAS files bundled with numpy (or scipy) under one site-packages folder. */
function bundledIn(site: string): string[] {
  const out: string[] = [];
  for (
    const [dir, ext] of [
      [`${site}/numpy.libs`, ".so"],
      [`${site}/numpy/.dylibs`, ".dylib"],
      [`${site}/scipy.libs`, ".so"],
      [`${site}/scipy/.dylibs`, ".dylib"],
    ]
  ) {
    const names: string[] = [];
    try {
      for (const e of Deno.readDirSync(dir)) {
        if (/^lib(scipy_)?openblas/.test(e.name) && e.name.includes(ext)) names.push(e.name);
      }
    } catch { /* absent */ }
    out.push(...names.sort().map((n) => `${dir}/${n}`));
  }
  return out;
}

/** The folder of the numpy that `python3` imports, or null (never throws). */
export function python3NumpyDir(): string | null {
  try {
    const out = new Deno.Command("python3", {
      args: [
        "-c",
        "import importlib.util, os; s = importlib.util.find_spec('numpy'); print(os.path.dirname(s.origin) if s and s.origin else '')",
      ],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const dir = new TextDecoder().decode(out.stdout).trim();
    return out.success && dir ? dir : null;
  } catch {
    return null;
  }
}

/** numpy's (or scipy's) bundled OpenBLAS files on this machine, in search order. */
export function numpyBundles(): string[] {
  const found = sitePackagesDirs().flatMap(bundledIn);
  if (found.length) return [...new Set(found)];
  const np = python3NumpyDir();
  return np ? bundledIn(np.replace(/\/numpy\/?$/, "")) : [];
}

/** Flavour of an explicit `BLAS_LIBRARY` path, told from where it lies. */
export function flavourOf(path: string): BlasFlavour {
  if (path.includes("Accelerate.framework")) return "accelerate";
  if (/\/(numpy|scipy)\.libs\/|\/(numpy|scipy)\/\.dylibs\//.test(path)) return "numpy";
  const conda = env("CONDA_PREFIX");
  if (conda && path.startsWith(conda + "/")) return "conda";
  if (LINUX_SYSTEM.includes(path) || path.startsWith("/usr/lib")) return "system";
  if (HOMEBREW.includes(path) || path.startsWith("/opt/homebrew/")) return "homebrew";
  return "custom";
}

/**
 * Every library the search would try, in order (see the module comment);
 * files that do not exist are left out (bare loader names and Accelerate stay).
 */
export function blasCandidates(): BlasCandidate[] {
  return [...candidateStream()];
}

/** {@link blasCandidates} lazily: numpy's folders are scanned only when the earlier ones fail. */
function* candidateStream(): Generator<BlasCandidate> {
  const explicit = env("BLAS_LIBRARY");
  if (explicit) {
    yield { path: explicit, flavour: flavourOf(explicit) };
    return;
  }
  const skipSystem = ["1", "true", "yes"].includes((env("BLAS_SKIP_SYSTEM") ?? "").toLowerCase());
  const darwin = Deno.build.os === "darwin";
  const seen = new Set<string>();
  function* files(paths: string[], flavour: BlasFlavour): Generator<BlasCandidate> {
    for (const path of paths) {
      if (seen.has(path) || !exists(path)) continue;
      seen.add(path);
      yield { path, flavour };
    }
  }
  if (!skipSystem) yield* files(darwin ? HOMEBREW : LINUX_SYSTEM, darwin ? "homebrew" : "system");
  const home = env("HOME");
  const condaDirs = [env("CONDA_PREFIX"), ...CONDA_BASES.map((b) => home && `${home}/${b}`)]
    .filter((x): x is string => !!x);
  yield* files(condaDirs.flatMap((d) => LIB_NAMES.map((n) => `${d}/lib/${n}`)), "conda");
  const ldPath = env(darwin ? "DYLD_LIBRARY_PATH" : "LD_LIBRARY_PATH") ?? "";
  const ldDirs = ldPath.split(":").filter(Boolean);
  yield* files(ldDirs.flatMap((d) => LIB_NAMES.map((n) => `${d}/${n}`)), "ld_library_path");
  // Whatever the dynamic loader finds by name (its cache), on systems with other layouts.
  if (!skipSystem && !darwin) yield { path: "libopenblas.so.0", flavour: "system" };
  yield* files(numpyBundles(), "numpy");
  if (darwin) yield { path: ACCELERATE_PATH, flavour: "accelerate" };
}

// deno-lint-ignore no-explicit-any
type Symbols = any;

function gemmParams(int: "i32" | "i64") {
  // order, transA, transB are C enums (int); sizes and strides are blasint.
  return [
    "i32",
    "i32",
    "i32",
    int,
    int,
    int,
    "f32",
    "buffer",
    int,
    "buffer",
    int,
    "f32",
    "buffer",
    int,
  ] as const;
}

function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

/** Bind an OpenBLAS build under one naming; null when its symbols are not there. */
function bindOpenBlas(c: BlasCandidate, nm: Naming): Blas | null {
  const sym = (base: string) => `${nm.prefix}${base}${nm.suffix}`;
  let probe;
  try {
    probe = Deno.dlopen(c.path, {
      [sym("openblas_get_config")]: { parameters: [], result: "pointer" },
    });
  } catch (e) {
    if (/undefined symbol|symbol not found|could not find symbol/i.test(firstLine(e))) return null;
    throw e;
  }
  const ptr = (probe.symbols as Symbols)[sym("openblas_get_config")]();
  const config = ptr
    ? new Deno.UnsafePointerView(ptr).getCString().replace(/\s+/g, " ").trim()
    : "";
  const int64 = nm.suffix === "64_" || /\bUSE64BITINT\b/.test(config);
  const lib = Deno.dlopen(
    c.path,
    {
      [sym("cblas_sgemm")]: { parameters: gemmParams(int64 ? "i64" : "i32"), result: "void" },
      [sym("openblas_set_num_threads")]: { parameters: ["i32"], result: "void" },
      [sym("openblas_get_num_threads")]: { parameters: [], result: "i32" },
    } as const,
  );
  const s = lib.symbols as Symbols;
  const gemm = s[sym("cblas_sgemm")];
  const set = s[sym("openblas_set_num_threads")];
  const get = s[sym("openblas_get_num_threads")];
  return makeBlas(c, {
    config: config || "OpenBLAS (unknown build)",
    version: /OpenBLAS (\S+)/.exec(config)?.[1] ?? null,
    int64,
    sgemmSymbol: sym("cblas_sgemm"),
    gemm,
    threads: () => get(),
    setThreads: (n) => set(n),
  });
}

/** Bind Apple's Accelerate (LP64 `cblas_sgemm`, its own threading). */
function bindAccelerate(c: BlasCandidate): Blas {
  const lib = Deno.dlopen(
    c.path,
    {
      cblas_sgemm: { parameters: gemmParams("i32"), result: "void" },
    } as const,
  );
  return makeBlas(c, {
    config: "Apple Accelerate (vecLib BLAS; threads managed by the OS)",
    version: null,
    int64: false,
    sgemmSymbol: "cblas_sgemm",
    gemm: (lib.symbols as Symbols).cblas_sgemm,
    threads: () => 1,
    setThreads: () => {},
  });
}

function makeBlas(
  c: BlasCandidate,
  b: {
    config: string;
    version: string | null;
    int64: boolean;
    sgemmSymbol: string;
    // deno-lint-ignore no-explicit-any
    gemm: (...a: any[]) => void;
    threads: () => number;
    setThreads: (n: number) => void;
  },
): Blas {
  const view = (x: Float32Array, off: number) => (off === 0 ? x : x.subarray(off));
  const gemm = b.gemm;
  const big = new Map<number, bigint>();
  const I = b.int64
    ? (v: number) => {
      let r = big.get(v);
      if (r === undefined) big.set(v, r = BigInt(v));
      return r;
    }
    : (v: number) => v;
  return {
    library: c.path,
    flavour: c.flavour,
    config: b.config,
    version: b.version,
    int64: b.int64,
    sgemmSymbol: b.sgemmSymbol,
    threads: b.threads,
    setThreads: b.setThreads,
    sgemm(ta, tb, m, n, k, alpha, a, offA, lda, bb, offB, ldb, beta, cc, offC, ldc) {
      gemm(
        101,
        ta ? 112 : 111,
        tb ? 112 : 111,
        I(m),
        I(n),
        I(k),
        alpha,
        view(a, offA),
        I(lda),
        view(bb, offB),
        I(ldb),
        beta,
        view(cc, offC),
        I(ldc),
      );
    },
  };
}

/**
 * A tiny sgemm with a transposed operand, offsets, padded strides and beta:
 * true when the library computes it exactly (catches a wrong integer width or
 * a broken build before training trusts it).
 */
export function selfCheck(blas: Blas): boolean {
  // A: 2x3 at offset 1, row stride 4; B: 2x3 (used transposed), row stride 3.
  const a = new Float32Array([9, 1, 2, 3, 9, 4, 5, 6, 9]);
  const b = new Float32Array([1, 0, 1, 0, 1, 0]);
  // C: 2x2 at offset 2, row stride 3, initially ones; C = A @ B^T + 2 C.
  const c = new Float32Array([7, 7, 1, 1, 7, 1, 1, 7]);
  blas.sgemm(false, true, 2, 2, 3, 1, a, 1, 4, b, 0, 3, 2, c, 2, 3);
  const want = [7, 7, 6, 4, 7, 12, 7, 7];
  return want.every((v, i) => c[i] === v);
}

/**
 * Load one candidate: bind it (trying each symbol naming for OpenBLAS) and run
 * {@link selfCheck}. Throws with the reason when it does not load or fails.
 */
export function openBlas(c: BlasCandidate): Blas {
  let blas: Blas | null = null;
  if (c.flavour === "accelerate") {
    if (Deno.build.os !== "darwin") throw new Error("Accelerate exists only on macOS");
    blas = bindAccelerate(c);
  } else {
    for (const nm of NAMINGS) {
      blas = bindOpenBlas(c, nm);
      if (blas) break;
    }
    if (!blas) {
      throw new Error(
        "no OpenBLAS symbols (openblas_get_config, scipy_openblas_get_config64_, ...)",
      );
    }
  }
  if (!selfCheck(blas)) {
    throw new Error(`the sgemm self-check (${blas.sgemmSymbol}) gave wrong results`);
  }
  return blas;
}

let loaded: Blas | null = null;
let failure: Error | null = null;

/**
 * Load a BLAS once per process (the first candidate of {@link blasCandidates}
 * that loads and passes {@link selfCheck}); throws with {@link BLAS_HINT} and
 * every reason when none does. Workers of the `blas` device each run the same
 * search, so they get the same library. A failed search is remembered;
 * `retry` searches again (after installing one).
 */
export function loadBlas(opts: { retry?: boolean } = {}): Blas {
  if (loaded) return loaded;
  if (failure && !opts.retry) throw failure;
  const tried: string[] = [];
  for (const c of candidateStream()) {
    try {
      loaded = openBlas(c);
      return loaded;
    } catch (e) {
      tried.push(`${c.path}: ${firstLine(e)}`);
    }
  }
  const what = tried.length ? tried.join("; ") : "nothing: no OpenBLAS file was found";
  failure = new Error(`OpenBLAS could not be loaded (tried ${what}). ${BLAS_HINT}`);
  throw failure;
}

/** Whether a BLAS loads in this process (never throws); `retry` as in {@link loadBlas}. */
export function hasBlas(opts: { retry?: boolean } = {}): boolean {
  try {
    loadBlas(opts);
    return true;
  } catch {
    return false;
  }
}

/** The record of a loaded BLAS (written to env.json). */
export function blasInfo(b: Blas): BlasInfo {
  return {
    path: b.library,
    flavour: b.flavour,
    version: b.version,
    config: b.config,
    int64: b.int64,
    sgemm_symbol: b.sgemmSymbol,
  };
}

const FLAVOUR_NAMES: Record<BlasFlavour, string> = {
  custom: "OpenBLAS from BLAS_LIBRARY",
  system: "the system's OpenBLAS",
  homebrew: "Homebrew's OpenBLAS",
  conda: "conda's OpenBLAS",
  ld_library_path: "OpenBLAS from LD_LIBRARY_PATH",
  numpy: "numpy's bundled OpenBLAS",
  accelerate: "Apple Accelerate",
};

/** One line for people: e.g. "numpy's bundled OpenBLAS 0.3.31 (ILP64) at /…/libscipy_openblas64_-….so". */
export function describeBlas(b: Blas | BlasInfo): string {
  const path = "library" in b ? b.library : b.path;
  const name = b.flavour === "numpy" && /\/scipy[./]/.test(path)
    ? "scipy's bundled OpenBLAS"
    : FLAVOUR_NAMES[b.flavour];
  return `${name}${b.version ? ` ${b.version}` : ""}${b.int64 ? " (ILP64)" : ""} at ${path}`;
}
