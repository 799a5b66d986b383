/** `deno task render` takes every profile of the schema and names them when given another. */
import assert from "node:assert/strict";
import { PROFILE_NAMES } from "../lib/config/schema.ts";

Deno.test("render: an unknown --profile exits 2 and lists every profile, standard included", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../cli/render.ts", import.meta.url).pathname,
      "--profile",
      "bogus",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, err);
  for (const p of PROFILE_NAMES) assert.match(err, new RegExp(`\\b${p}\\b`));
  assert.match(err, /got "bogus"/);
});
