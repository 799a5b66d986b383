/** lib/util/text.ts: edit distance. */
import assert from "node:assert/strict";
import { editDistance } from "../../lib/util/text.ts";

Deno.test("editDistance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(editDistance("same", "same"), 0);
  assert.equal(editDistance("Lr", "lr"), 1);
});
