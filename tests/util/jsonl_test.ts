/** lib/util/jsonl.ts: strict and lenient JSON Lines readings. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  parseJsonl,
  parseJsonlLenient,
  readJsonl,
  readJsonlLenientSync,
} from "../../lib/util/jsonl.ts";

Deno.test("parseJsonl skips blank lines and names the file and line of a bad one", () => {
  assert.deepEqual(parseJsonl('{"a":1}\n\n{"a":2}\n'), [{ a: 1 }, { a: 2 }]);
  assert.throws(
    () => parseJsonl('{"a":1}\n{"a":\n', "m.jsonl"),
    /^Error: m\.jsonl:2: invalid JSON line/,
  );
});

Deno.test("parseJsonlLenient keeps objects only and skips a torn last line", () => {
  assert.deepEqual(parseJsonlLenient('{"a":1}\n[1]\n3\n{"a":2}\n{"a":'), [{ a: 1 }, { a: 2 }]);
});

Deno.test("readJsonl is strict, readJsonlLenientSync reads a missing file as empty", async () => {
  const dir = await Deno.makeTempDir({ prefix: "util_jsonl_" });
  try {
    const p = join(dir, "m.jsonl");
    assert.deepEqual(readJsonlLenientSync(p), []);
    await Deno.writeTextFile(p, '{"step":1}\n{"step":');
    assert.deepEqual(readJsonlLenientSync(p), [{ step: 1 }]);
    await assert.rejects(readJsonl(p), /m\.jsonl:2: invalid JSON line/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
