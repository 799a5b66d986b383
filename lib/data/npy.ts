/**
 * NumPy `.npy` reader and writer (format versions 1.0 to 3.0 read, 1.0 written).
 *
 * Supported dtypes: `uint8`, `int32`, `int64`, `float32`, `float64`, `bool`, in C
 * order, little endian (the byte order of every machine this runs on). What is
 * written here `numpy.load` reads back unchanged, and what numpy writes with those
 * dtypes is read here. Reading validates the magic string, the header, the shape
 * and the data size, and every error names the file it came from.
 *
 * ```ts
 * const a = npyArray("uint8", [2, 7, 7, 3], new Uint8Array(294));
 * await writeNpy("images.npy", a);
 * const b = await readNpy("images.npy"); // b.shape = [2, 7, 7, 3]
 * ```
 *
 * @module
 */

import { writeFileAtomic } from "../util/fs.ts";

/** The dtypes this module reads and writes. */
export type NpyDtype = "uint8" | "int32" | "int64" | "float32" | "float64" | "bool";

/** The typed array that holds each dtype's data (`bool` is one byte per value, 0 or 1). */
export interface NpyDataMap {
  uint8: Uint8Array;
  int32: Int32Array;
  int64: BigInt64Array;
  float32: Float32Array;
  float64: Float64Array;
  bool: Uint8Array;
}

/** An n-dimensional array: dtype, shape (C order) and flat data. */
export interface NpyArray<D extends NpyDtype = NpyDtype> {
  /** Element type. */
  dtype: D;
  /** Dimensions; `[]` for a scalar (one element). */
  shape: number[];
  /** Row-major data, `product(shape)` elements. */
  data: NpyDataMap[D];
}

const DESCR: Record<NpyDtype, string> = {
  uint8: "|u1",
  int32: "<i4",
  int64: "<i8",
  float32: "<f4",
  float64: "<f8",
  bool: "|b1",
};

const ITEMSIZE: Record<NpyDtype, number> = {
  uint8: 1,
  int32: 4,
  int64: 8,
  float32: 4,
  float64: 8,
  bool: 1,
};

/** Descr strings accepted when reading, mapped to dtypes ('<' and '|' and '=' spellings). */
const DESCR_READ: Record<string, NpyDtype> = {
  "|u1": "uint8",
  "<u1": "uint8",
  "=u1": "uint8",
  "u1": "uint8",
  "<i4": "int32",
  "=i4": "int32",
  "<i8": "int64",
  "=i8": "int64",
  "<f4": "float32",
  "=f4": "float32",
  "<f8": "float64",
  "=f8": "float64",
  "|b1": "bool",
  "<b1": "bool",
  "=b1": "bool",
  "b1": "bool",
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Size in bytes of one element of `dtype`. */
export function npyItemSize(dtype: NpyDtype): number {
  return ITEMSIZE[dtype];
}

/** Number of elements of an array with `shape` (1 for `[]`). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The typed array constructor for a dtype. */
function ctor(dtype: NpyDtype) {
  switch (dtype) {
    case "uint8":
    case "bool":
      return Uint8Array;
    case "int32":
      return Int32Array;
    case "int64":
      return BigInt64Array;
    case "float32":
      return Float32Array;
    case "float64":
      return Float64Array;
  }
}

/**
 * Build an {@link NpyArray}, checking that `data` has the right type and length for `shape`.
 * Throws naming the dtype, shape and length when they disagree.
 */
export function npyArray<D extends NpyDtype>(
  dtype: D,
  shape: readonly number[],
  data: NpyDataMap[D],
): NpyArray<D> {
  if (!(dtype in DESCR)) {
    throw new Error(
      `npy: unsupported dtype ${JSON.stringify(dtype)}; use one of ${
        Object.keys(DESCR).join(", ")
      }`,
    );
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`npy: bad shape [${shape.join(", ")}]: dimensions must be integers >= 0`);
    }
  }
  const C = ctor(dtype);
  if (!(data instanceof C)) {
    throw new Error(
      `npy: dtype ${dtype} needs a ${C.name}, got ${(data as object)?.constructor?.name}`,
    );
  }
  const n = shapeSize(shape);
  if (data.length !== n) {
    throw new Error(
      `npy: shape [${
        shape.join(", ")
      }] needs ${n} elements, data has ${data.length} (dtype ${dtype})`,
    );
  }
  return { dtype, shape: [...shape], data };
}

/** Python tuple literal of a shape: `()`, `(3,)`, `(3, 7)`. */
function shapeTuple(shape: readonly number[]): string {
  if (shape.length === 0) return "()";
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/** The header dict text numpy writes, padded so the data starts at a multiple of 64 bytes. */
function headerBytes(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${
    shapeTuple(shape)
  }, }`;
  // magic(6) + version(2) + len(2) + dict + padding + '\n'
  const pre = 10;
  let total = pre + dict.length + 1;
  total = Math.ceil(total / 64) * 64;
  const hlen = total - pre;
  if (hlen > 0xffff) throw new Error(`npy: header too long (${hlen} bytes) for format 1.0`);
  const text = dict + " ".repeat(hlen - dict.length - 1) + "\n";
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = hlen & 0xff;
  out[9] = hlen >> 8;
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  return out;
}

/** Serialize an array to `.npy` (format 1.0) bytes. */
export function encodeNpy(arr: NpyArray): Uint8Array {
  const a = npyArray(arr.dtype, arr.shape, arr.data);
  const head = headerBytes(a.dtype, a.shape);
  const body = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** Parsed `.npy` header: dtype, shape and where the data starts. */
export interface NpyHeader {
  /** Element type. */
  dtype: NpyDtype;
  /** Dimensions. */
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
  /** Format version, e.g. `[1, 0]`. */
  version: [number, number];
}

/**
 * Parse and validate the header of `.npy` bytes. `name` (usually the file path)
 * is put in every error message.
 */
export function parseNpyHeader(bytes: Uint8Array, name = "<bytes>"): NpyHeader {
  const fail = (what: string): never => {
    throw new Error(`npy: ${name}: ${what}`);
  };
  if (bytes.length < 10) fail(`file too short (${bytes.length} bytes) to be a .npy file`);
  for (let i = 0; i < 6; i++) {
    if (bytes[i] !== MAGIC[i]) fail("not a .npy file (bad magic string)");
  }
  const major = bytes[6], minor = bytes[7];
  let hlen: number, pre: number;
  if (major === 1) {
    hlen = bytes[8] | (bytes[9] << 8);
    pre = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("file too short for a version 2/3 header");
    hlen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 0x1000000;
    pre = 12;
  } else {
    return fail(`unsupported .npy format version ${major}.${minor}`);
  }
  if (pre + hlen > bytes.length) {
    fail(`truncated header (needs ${pre + hlen} bytes, file has ${bytes.length})`);
  }
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(pre, pre + hlen),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`malformed header ${JSON.stringify(text.trim())}`);
  }
  const dtype = DESCR_READ[descr!];
  if (dtype === undefined) {
    fail(
      `unsupported dtype '${descr}' (supported: ${Object.values(DESCR).join(" ")}; ` +
        `big-endian and other types are not read)`,
    );
  }
  if (fortran === "True") fail("Fortran-order arrays are not supported; save with C order");
  const shape = shapeText!.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(
    (s) => {
      const v = Number(s.replace(/L$/, ""));
      if (!Number.isInteger(v) || v < 0) fail(`bad shape entry '${s}' in header`);
      return v;
    },
  );
  return { dtype, shape, dataOffset: pre + hlen, version: [major, minor] };
}

/**
 * Decode `.npy` bytes into an {@link NpyArray}. Throws (naming `name`) when the
 * header is invalid or the data is shorter or longer than the shape says.
 * The returned data owns its own buffer (a copy).
 */
export function decodeNpy(bytes: Uint8Array, name = "<bytes>"): NpyArray {
  const h = parseNpyHeader(bytes, name);
  const n = shapeSize(h.shape);
  const need = n * ITEMSIZE[h.dtype];
  const have = bytes.length - h.dataOffset;
  if (have < need) {
    throw new Error(
      `npy: ${name}: truncated data: shape [${
        h.shape.join(", ")
      }] ${h.dtype} needs ${need} bytes, ` +
        `file has ${have}`,
    );
  }
  if (have > need) {
    throw new Error(
      `npy: ${name}: ${have - need} unexpected trailing bytes after the data of shape ` +
        `[${h.shape.join(", ")}] ${h.dtype}`,
    );
  }
  const start = bytes.byteOffset + h.dataOffset;
  const buf = bytes.buffer.slice(start, start + need) as ArrayBuffer;
  const C = ctor(h.dtype);
  const data = new C(buf) as NpyDataMap[NpyDtype];
  if (h.dtype === "bool") {
    const u = data as Uint8Array;
    for (let i = 0; i < u.length; i++) {
      if (u[i] > 1) {
        throw new Error(`npy: ${name}: bool value ${u[i]} at element ${i} (must be 0 or 1)`);
      }
    }
  }
  return { dtype: h.dtype, shape: h.shape, data };
}

/** Read and decode a `.npy` file; errors name the path (missing file included). */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`npy: ${path}: file not found`);
    throw new Error(`npy: ${path}: cannot read: ${(e as Error).message}`);
  }
  return decodeNpy(bytes, path);
}

/** Encode and write an array to a `.npy` file atomically (temp file + rename). */
export async function writeNpy(path: string, arr: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(arr));
}
