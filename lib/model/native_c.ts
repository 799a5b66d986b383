/**
 * The fused C kernels of the `blas` device (lib/model/native_kernels.c: attention forward and
 * backward per head in one pass over each query row, SwiGLU), built on first use with the
 * machine's C compiler and loaded through Deno FFI; lib/model/native.ts and its helper threads
 * fall back to the JavaScript kernels of lib/model/native_kernels.ts where no compiler works.
 *
 * The build command (run once per source, compiler and CPU; the result is cached):
 *
 *   cc -O3 -march=native -ffp-contract=off -fno-math-errno -fPIC -shared \
 *      -o ~/.cache/masked-dlm/kernels/native_kernels-<hash>.so lib/model/native_kernels.c
 *
 * `CC` picks the compiler (default `cc`), `BLAS_KERNELS=js` forces the JavaScript kernels,
 * `BLAS_KERNELS=c` makes a failed build an error, and `BLAS_KERNELS_CACHE` moves the cache
 * (default `$XDG_CACHE_HOME/masked-dlm/kernels`, else `~/.cache/masked-dlm/kernels`). The
 * cache key hashes the source, the flags, the compiler's version and this CPU's feature
 * flags, so a home folder shared by different machines never loads a build for another CPU.
 *
 * Results of the two kernel sets agree to float32 rounding (tests/native_test.ts); each is
 * bit-identical for any thread count.
 *
 * @module
 */

/** The C kernels, bound. Pointers are whole buffers; ranges are windows or positions. */
export interface CKernels {
  /** The shared library's path. */
  path: string;
  /** Attention forward for windows [b0, b1); `P` null keeps probabilities per row only. */
  attnFwd(
    qkv: Float32Array,
    P: Float32Array | null,
    O: Float32Array,
    bias: Float32Array,
    L: number,
    D: number,
    H: number,
    b0: number,
    b1: number,
  ): void;
  /**
   * Forward-only attention of query rows [i0, i1) of windows [b0, b1) (rows of O a decision
   * reads; the others are not written), each row equal to {@link CKernels.attnFwd}'s.
   */
  attnRows(
    qkv: Float32Array,
    O: Float32Array,
    bias: Float32Array,
    L: number,
    D: number,
    H: number,
    b0: number,
    b1: number,
    i0: number,
    i1: number,
  ): void;
  /** Attention backward for windows [b0, b1): dO and P to dqkv. */
  attnBwd(
    qkv: Float32Array,
    P: Float32Array,
    dO: Float32Array,
    dqkv: Float32Array,
    L: number,
    D: number,
    H: number,
    b0: number,
    b1: number,
  ): void;
  /** RMSNorm of `rows` rows of width D (as lib/model/native_kernels.ts `rmsNorm`). */
  rmsNorm(
    x: Float32Array,
    g: Float32Array,
    y: Float32Array,
    rstd: Float32Array,
    rows: number,
    D: number,
  ): void;
  /** RMSNorm backward (as lib/model/native_kernels.ts `rmsNormBack`). */
  rmsNormBack(
    x: Float32Array,
    rstd: Float32Array,
    g: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dg: Float32Array,
    rows: number,
    D: number,
  ): void;
  /** Embedding sums: token rows `ti` [B, L, 3] and position rows `pi` [L, 3] (-1: none). */
  embedFwd(
    tok: Float32Array,
    pos: Float32Array,
    ti: Int32Array,
    pi: Int32Array,
    x0: Float32Array,
    B: number,
    L: number,
    D: number,
  ): void;
  /** Embedding backward: dx rows scatter-added into the token and position gradients. */
  embedBwd(
    dx: Float32Array,
    ti: Int32Array,
    pi: Int32Array,
    gt: Float32Array,
    gp: Float32Array,
    B: number,
    L: number,
    D: number,
  ): void;
  /** SwiGLU forward for positions [n0, n1). */
  swigluFwd(
    gu: Float32Array,
    sig: Float32Array,
    act: Float32Array,
    F: number,
    n0: number,
    n1: number,
  ): void;
  /** Forward-only SwiGLU for positions [n0, n1) (over the gate half of gu). */
  swigluInfer(gu: Float32Array, F: number, n0: number, n1: number): void;
  /** SwiGLU backward for positions [n0, n1). */
  swigluBwd(
    gu: Float32Array,
    sig: Float32Array,
    dact: Float32Array,
    dgu: Float32Array,
    F: number,
    n0: number,
    n1: number,
  ): void;
}

/** The compiler flags of the build (part of the cache key). */
export const C_FLAGS = [
  "-O3",
  "-march=native",
  "-ffp-contract=off",
  "-fno-math-errno",
  "-fPIC",
  "-shared",
];
const VERSION = 4;

const SYMBOLS = {
  attn_fwd: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "i32", "i32", "i32", "i32", "i32", "i32"],
    result: "i32",
  },
  attn_fwd_rows: {
    parameters: ["buffer", "buffer", "buffer", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
    result: "i32",
  },
  attn_bwd: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "i32", "i32", "i32", "i32", "i32"],
    result: "i32",
  },
  swiglu_fwd: { parameters: ["buffer", "buffer", "buffer", "i32", "i32", "i32"], result: "void" },
  swiglu_infer: { parameters: ["buffer", "i32", "i32", "i32"], result: "void" },
  swiglu_bwd: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "i32", "i32", "i32"],
    result: "void",
  },
  rmsnorm_fwd: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "i32", "i32"],
    result: "void",
  },
  rmsnorm_bwd: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer", "i32", "i32"],
    result: "void",
  },
  embed_fwd: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "i32", "i32", "i32"],
    result: "void",
  },
  embed_bwd: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "i32", "i32", "i32"],
    result: "void",
  },
  kernels_version: { parameters: [], result: "i32" },
} as const;

/** FNV-1a 64-bit hex of a string (a cache key, not a security hash). */
function fnv(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

function cpuFlags(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return /^(flags|Features)\s*:(.*)$/m.exec(info)?.[2].trim() ?? "";
  } catch {
    return `${Deno.build.os}-${Deno.build.arch}`;
  }
}

function cacheDir(): string {
  const env = Deno.env.get("BLAS_KERNELS_CACHE");
  if (env) return env;
  const home = Deno.env.get("HOME") ?? "/tmp";
  return `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/masked-dlm/kernels`;
}

/** Build (once) and return the path of the shared library; throws with the compiler's output. */
export function buildCKernels(): string {
  const src = new URL("./native_kernels.c", import.meta.url);
  const text = Deno.readTextFileSync(src);
  const cc = Deno.env.get("CC") || "cc";
  let ver = "";
  try {
    const o = new Deno.Command(cc, { args: ["--version"], stdout: "piped", stderr: "null" })
      .outputSync();
    ver = new TextDecoder().decode(o.stdout).split("\n")[0];
  } catch (e) {
    throw new Error(`no C compiler '${cc}': ${(e as Error).message}`);
  }
  const key = fnv([text, C_FLAGS.join(" "), cc, ver, cpuFlags(), VERSION].join("\0"));
  const dir = cacheDir();
  const ext = Deno.build.os === "darwin" ? "dylib" : "so";
  const path = `${dir}/native_kernels-${key}.${ext}`;
  try {
    Deno.statSync(path);
    return path;
  } catch { /* build it */ }
  Deno.mkdirSync(dir, { recursive: true });
  // Build to a private name, then rename: concurrent builders never load a partial file.
  const tmp = `${path}.${Deno.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const out = new Deno.Command(cc, {
    args: [...C_FLAGS, "-o", tmp, src.pathname],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!out.success) {
    try {
      Deno.removeSync(tmp);
    } catch { /* not written */ }
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 4).join(" ");
    throw new Error(`${cc} could not build lib/model/native_kernels.c: ${err}`);
  }
  Deno.renameSync(tmp, path);
  return path;
}

let cached: CKernels | null | undefined;
let failure = "";

/** Why the C kernels are not in use ("" when they are, or before the first load). */
export function cKernelsFailure(): string {
  return failure;
}

/**
 * The C kernels, or null where they cannot be built or loaded (the JavaScript kernels are
 * used then) or `BLAS_KERNELS=js` asks for the JavaScript ones. Loaded once per thread.
 */
export function loadCKernels(): CKernels | null {
  if (cached !== undefined) return cached;
  const mode = (Deno.env.get("BLAS_KERNELS") ?? "auto").toLowerCase();
  if (mode === "js") {
    failure = "BLAS_KERNELS=js";
    return cached = null;
  }
  try {
    cached = bind(buildCKernels());
  } catch (e) {
    failure = (e as Error).message;
    if (mode === "c") throw new Error(`BLAS_KERNELS=c: ${failure}`);
    cached = null;
  }
  return cached;
}

function bind(path: string): CKernels {
  const lib = Deno.dlopen(path, SYMBOLS);
  const s = lib.symbols;
  if (s.kernels_version() !== VERSION) throw new Error(`${path}: unexpected kernels_version`);
  return {
    path,
    attnFwd(qkv, P, O, bias, L, D, H, b0, b1) {
      if (s.attn_fwd(qkv, P ?? O, O, bias, L, D, H, b0, b1, P ? 1 : 0) !== 0) {
        throw new Error("attn_fwd: out of memory");
      }
    },
    attnRows(qkv, O, bias, L, D, H, b0, b1, i0, i1) {
      if (s.attn_fwd_rows(qkv, O, bias, L, D, H, b0, b1, i0, i1) !== 0) {
        throw new Error("attn_fwd_rows: out of memory");
      }
    },
    attnBwd(qkv, P, dO, dqkv, L, D, H, b0, b1) {
      if (s.attn_bwd(qkv, P, dO, dqkv, L, D, H, b0, b1) !== 0) {
        throw new Error("attn_bwd: out of memory");
      }
    },
    rmsNorm: (x, g, y, rstd, rows, D) => s.rmsnorm_fwd(x, g, y, rstd, rows, D),
    rmsNormBack: (x, rstd, g, dy, dx, dg, rows, D) =>
      s.rmsnorm_bwd(x, rstd, g, dy, dx, dg, rows, D),
    embedFwd: (tok, pos, ti, pi, x0, B, L, D) => s.embed_fwd(tok, pos, ti, pi, x0, B, L, D),
    embedBwd: (dx, ti, pi, gt, gp, B, L, D) => s.embed_bwd(dx, ti, pi, gt, gp, B, L, D),
    swigluFwd: (gu, sig, act, F, n0, n1) => s.swiglu_fwd(gu, sig, act, F, n0, n1),
    swigluInfer: (gu, F, n0, n1) => s.swiglu_infer(gu, F, n0, n1),
    swigluBwd: (gu, sig, dact, dgu, F, n0, n1) => s.swiglu_bwd(gu, sig, dact, dgu, F, n0, n1),
  };
}
