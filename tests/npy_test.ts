import assert from "node:assert/strict";
import {
  decodeNpy,
  encodeNpy,
  type NpyArray,
  npyArray,
  readNpy,
  writeNpy,
} from "../lib/data/npy.ts";
import { havePythonNumpy } from "./support/python.ts";

function samples(): Record<string, NpyArray> {
  const u8 = new Uint8Array(2 * 7 * 7 * 3);
  for (let i = 0; i < u8.length; i++) u8[i] = (i * 37) % 256;
  return {
    u8: npyArray("uint8", [2, 7, 7, 3], u8),
    i32: npyArray("int32", [5], Int32Array.from([0, -1, 2147483647, -2147483648, 7])),
    i64: npyArray("int64", [2, 2], BigInt64Array.from([0n, -5n, 9007199254740993n, -(2n ** 63n)])),
    f32: npyArray("float32", [3], Float32Array.from([0.5, -1e-30, Infinity])),
    f64: npyArray("float64", [2], Float64Array.from([Math.PI, -0])),
    b: npyArray("bool", [4], Uint8Array.from([1, 0, 0, 1])),
    scalar: npyArray("float64", [], Float64Array.from([42])),
    empty: npyArray("int64", [0], new BigInt64Array(0)),
    empty2: npyArray("uint8", [0, 7, 7, 3], new Uint8Array(0)),
  };
}

Deno.test("npy: encode/decode round trip for every dtype and shape", () => {
  for (const [name, a] of Object.entries(samples())) {
    const bytes = encodeNpy(a);
    // Header aligned to 64 bytes, as numpy writes it.
    const hlen = bytes[8] | (bytes[9] << 8);
    assert.equal((10 + hlen) % 64, 0, name);
    const b = decodeNpy(bytes, name);
    assert.equal(b.dtype, a.dtype, name);
    assert.deepEqual(b.shape, a.shape, name);
    assert.deepEqual(
      Array.from(b.data as ArrayLike<unknown>),
      Array.from(a.data as ArrayLike<unknown>),
      name,
    );
  }
});

Deno.test("npy: npyArray rejects wrong length or typed array", () => {
  assert.throws(() => npyArray("uint8", [2, 3], new Uint8Array(5)), /needs 6 elements/);
  assert.throws(
    () => npyArray("int32", [2], new Uint8Array(2) as unknown as Int32Array),
    /needs a Int32Array/,
  );
});

Deno.test("npy: truncated, padded, garbage and unsupported inputs are clear errors naming the file", () => {
  const bytes = encodeNpy(samples().u8);
  assert.throws(
    () => decodeNpy(bytes.subarray(0, bytes.length - 1), "x/images.npy"),
    /x\/images\.npy: truncated data/,
  );
  const longer = new Uint8Array(bytes.length + 3);
  longer.set(bytes);
  assert.throws(() => decodeNpy(longer, "a.npy"), /a\.npy: 3 unexpected trailing bytes/);
  assert.throws(() => decodeNpy(new Uint8Array(5), "b.npy"), /b\.npy: file too short/);
  const bad = bytes.slice();
  bad[0] = 0;
  assert.throws(() => decodeNpy(bad, "c.npy"), /c\.npy: not a \.npy file/);
  assert.throws(() => decodeNpy(bytes.subarray(0, 40), "d.npy"), /d\.npy: truncated header/);
  // Big-endian descr.
  const be = bytes.slice();
  const text = new TextDecoder().decode(be.subarray(10, 74)).replace("|u1", ">u2");
  be.set(new TextEncoder().encode(text), 10);
  assert.throws(() => decodeNpy(be, "e.npy"), /e\.npy: unsupported dtype '>u2'/);
  const boolBytes = encodeNpy(samples().b);
  boolBytes[boolBytes.length - 1] = 9;
  assert.throws(() => decodeNpy(boolBytes, "f.npy"), /f\.npy: bool value 9/);
});

Deno.test("npy: readNpy of a missing file names it", async () => {
  await assert.rejects(() => readNpy("/nonexistent/dir/zzz.npy"), /zzz\.npy: file not found/);
});

/** Whether the numpy interop checks can run here (reported as ignored, not passed, when not). */
const NUMPY = await havePythonNumpy();

Deno.test({
  name:
    "npy: files written here load unchanged in numpy, and numpy's files load here (needs python3 + numpy)",
  ignore: !NUMPY,
  fn: async (t) => {
    const dir = await Deno.makeTempDir();
    try {
      const arrs = samples();
      for (const [name, a] of Object.entries(arrs)) await writeNpy(`${dir}/${name}.npy`, a);
      const expected: Record<string, { dtype: string; shape: number[]; values: string[] }> = {};
      for (const [name, a] of Object.entries(arrs)) {
        expected[name] = {
          dtype: a.dtype,
          shape: a.shape,
          values: Array.from(
            a.data as ArrayLike<number | bigint>,
            (v) =>
              typeof v === "bigint"
                ? v.toString()
                : Object.is(v, -0)
                ? "-0.0"
                : a.dtype.startsWith("float")
                ? numRepr(v)
                : String(v),
          ),
        };
      }
      await Deno.writeTextFile(`${dir}/expected.json`, JSON.stringify(expected));
      const py = `
import json, sys, numpy as np
d = sys.argv[1]
exp = json.load(open(d + "/expected.json"))
def rep(v, dt):
    if dt.startswith("float"):
        return "-0.0" if (v == 0 and np.signbit(v)) else repr(float(v))
    if dt == "bool":
        return "1" if v else "0"
    return str(int(v))
for name, e in exp.items():
    a = np.load(d + "/" + name + ".npy", allow_pickle=False)
    assert a.dtype == np.dtype(e["dtype"]), (name, a.dtype)
    assert list(a.shape) == e["shape"], (name, a.shape)
    got = [rep(v, e["dtype"]) for v in a.reshape(-1).tolist()]
    assert got == e["values"], (name, got, e["values"])
# numpy-written files for the reverse direction
np.save(d + "/np_u8.npy", np.arange(2*7*7*3, dtype=np.uint8).reshape(2, 7, 7, 3) * 3)
np.save(d + "/np_i64.npy", np.array([[1, -2, 3], [2**62, -(2**63), 0]], dtype=np.int64))
np.save(d + "/np_f32.npy", np.array([0.25, -3.5], dtype=np.float32))
np.save(d + "/np_bool.npy", np.array([True, False, True]))
np.save(d + "/np_i32_0d.npy", np.int32(-7))
print("ok")
`;
      const out = await new Deno.Command("python3", {
        args: ["-c", py, dir],
        stderr: "piped",
        stdout: "piped",
      })
        .output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      await t.step("numpy -> deno", async () => {
        const u8 = await readNpy(`${dir}/np_u8.npy`);
        assert.equal(u8.dtype, "uint8");
        assert.deepEqual(u8.shape, [2, 7, 7, 3]);
        assert.equal((u8.data as Uint8Array)[5], 15);
        const i64 = await readNpy(`${dir}/np_i64.npy`);
        assert.deepEqual(Array.from(i64.data as BigInt64Array), [
          1n,
          -2n,
          3n,
          2n ** 62n,
          -(2n ** 63n),
          0n,
        ]);
        const f32 = await readNpy(`${dir}/np_f32.npy`);
        assert.deepEqual(Array.from(f32.data as Float32Array), [0.25, -3.5]);
        const b = await readNpy(`${dir}/np_bool.npy`);
        assert.equal(b.dtype, "bool");
        assert.deepEqual(Array.from(b.data as Uint8Array), [1, 0, 1]);
        const s = await readNpy(`${dir}/np_i32_0d.npy`);
        assert.deepEqual(s.shape, []);
        assert.deepEqual(Array.from(s.data as Int32Array), [-7]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function numRepr(v: number): string {
  // Python's repr(float) for the values used above.
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (Number.isInteger(v)) return `${v}.0`;
  return String(v);
}
