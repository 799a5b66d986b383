import { strict as assert } from "node:assert";

const mod = new URL("../lib/model/workers.ts", import.meta.url).href;

async function probe(value: string): Promise<{ code: number; out: string; err: string }> {
  const code = `const m = await import(${JSON.stringify(mod)}); console.log(m.ENGINE_WORKERS);`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { JAXJS_WORKERS: value },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout).trim(), err: dec.decode(r.stderr) };
}

Deno.test("JAXJS_WORKERS sets the engine's worker count; a bad value is a clear error", async () => {
  const one = await probe("1");
  assert.equal(one.code, 0, one.err);
  assert.equal(one.out, "1");
  const three = await probe("3");
  assert.equal(three.out, "3");
  const bad = await probe("zero");
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /JAXJS_WORKERS must be a positive integer, got 'zero'/);
});
