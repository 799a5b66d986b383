/**
 * OpenBLAS through Deno FFI: single-precision GEMM for the `blas` training
 * device (lib/model/native.ts). The library is looked up under its usual names;
 * when none loads, the error says how to install it.
 *
 * Row-major throughout. `sgemm` takes typed arrays plus element offsets, so a
 * head's slice of a fused [N, 3D] projection is passed as (array, offset, ld)
 * without copying.
 *
 * @module
 */

/** How to get OpenBLAS, printed when it cannot be loaded. */
export const BLAS_HINT =
  "train.device 'blas' needs OpenBLAS: on Debian/Ubuntu `apt-get install -y libopenblas0-pthread` " +
  "(or `deno task setup`, which installs it), on macOS `brew install openblas`; or set " +
  "BLAS_LIBRARY=/path/to/libopenblas.so, or use train.device: wasm";

const CANDIDATES = [
  "libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "libopenblas.so",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

/** A loaded BLAS. */
export interface Blas {
  /** Path or name the library was loaded from. */
  library: string;
  /** OpenBLAS build string (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen MAX_THREADS=64"). */
  config: string;
  /** Threads OpenBLAS uses. */
  threads(): number;
  /** Set the thread count (results are deterministic for a fixed count). */
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

let loaded: Blas | null = null;

/** Load OpenBLAS once per process; throws with {@link BLAS_HINT} when it is missing. */
export function loadBlas(): Blas {
  if (loaded) return loaded;
  const env = Deno.env.get("BLAS_LIBRARY");
  const names = env ? [env] : CANDIDATES;
  const tried: string[] = [];
  for (const name of names) {
    try {
      // deno-lint-ignore no-explicit-any
      const lib = Deno.dlopen(name, SYMBOLS as any);
      // deno-lint-ignore no-explicit-any
      const s = lib.symbols as any;
      const ptr = s.openblas_get_config();
      const config = ptr ? new Deno.UnsafePointerView(ptr).getCString() : "unknown";
      const view = (x: Float32Array, off: number) => (off === 0 ? x : x.subarray(off));
      loaded = {
        library: name,
        config,
        threads: () => s.openblas_get_num_threads(),
        setThreads: (n: number) => s.openblas_set_num_threads(n),
        sgemm(ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc) {
          s.cblas_sgemm(
            101,
            ta ? 112 : 111,
            tb ? 112 : 111,
            m,
            n,
            k,
            alpha,
            view(a, offA),
            lda,
            view(b, offB),
            ldb,
            beta,
            view(c, offC),
            ldc,
          );
        },
      };
      return loaded;
    } catch (e) {
      tried.push(`${name}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
    }
  }
  throw new Error(`OpenBLAS could not be loaded (tried ${tried.join("; ")}). ${BLAS_HINT}`);
}

/** Whether OpenBLAS loads in this process (never throws). */
export function hasBlas(): boolean {
  try {
    loadBlas();
    return true;
  } catch {
    return false;
  }
}
