/** lib/util/progress.ts: the text bar. */
import assert from "node:assert/strict";
import { textBar } from "../../lib/util/progress.ts";

Deno.test("textBar fills its width in proportion and clamps the fraction", () => {
  assert.equal(textBar(0, 4), "[    ]");
  assert.equal(textBar(0.5, 4), "[=>  ]");
  assert.equal(textBar(1, 4), "[===>]");
  assert.equal(textBar(2, 4), "[===>]");
  assert.equal(textBar(NaN, 4), "[    ]");
});
