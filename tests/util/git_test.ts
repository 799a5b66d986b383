/** lib/util/git.ts: the workspace's git version. */
import assert from "node:assert/strict";
import { gitVersion } from "../../lib/util/git.ts";

Deno.test("gitVersion is a 40-digit sha, with -dirty for local changes, or null", () => {
  const v = gitVersion();
  assert.ok(v === null || /^[0-9a-f]{40}(-dirty)?$/.test(v), String(v));
  const outside = Deno.makeTempDirSync({ prefix: "util_git_" });
  try {
    assert.equal(gitVersion(outside), null);
  } finally {
    Deno.removeSync(outside);
  }
});
