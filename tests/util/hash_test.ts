/** lib/util/hash.ts: canonical JSON, sha256, dataset and config hashes. */
import assert from "node:assert/strict";
import { canonicalJson, configHash, jsonHash, sha256Hex } from "../../lib/util/hash.ts";

Deno.test("sha256Hex of text and bytes matches the known digest", () => {
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(sha256Hex("abc"), abc);
  assert.equal(sha256Hex(new TextEncoder().encode("abc")), abc);
});

Deno.test("canonicalJson sorts keys at every level and drops undefined ones", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } }),
    '{"a":{"d":[2,{"e":0,"f":1}]},"b":1}',
  );
  assert.equal(canonicalJson(undefined), "null");
});

Deno.test("configHash is the first 12 digits of jsonHash, free of key order", () => {
  const h = jsonHash({ x: 1, y: [1, 2] });
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(jsonHash({ y: [1, 2], x: 1 }), h);
  assert.equal(configHash({ y: [1, 2], x: 1 }), h.slice(0, 12));
  assert.notEqual(jsonHash({ x: 2, y: [1, 2] }), h);
});
