/** lib/util/format.ts: durations for people. */
import assert from "node:assert/strict";
import { formatDuration } from "../../lib/util/format.ts";

Deno.test("formatDuration shows seconds, minutes or hours with two-digit parts", () => {
  assert.equal(formatDuration(12.4), "12s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(3720), "1h02m");
  assert.equal(formatDuration(-1), "?");
  assert.equal(formatDuration(Infinity), "?");
});
