/** `deno task train --config <file>` on an empty data folder: it collects the dataset first, saying so. */
import assert from "node:assert/strict";

/** Runs `deno run -A cli/train.ts args...`; returns exit code, stdout and stderr. */
async function trainCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli/train.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test({
  name: "train on a fresh clone collects the dataset it needs, then reuses it",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "train-cli-" });
    try {
      const config = new URL("../configs/experiments/cell_masking.yaml", import.meta.url).pathname;
      const common = ["--config", config, "--profile", "smoke", "--data-dir", `${tmp}/data`, "-q"];
      const a = await trainCli([...common, "--run-dir", `${tmp}/run-a`]);
      assert.equal(a.code, 0, a.err);
      assert.match(
        a.err,
        /train: dataset 'gotoredball-smoke' not found in .*; collecting it first/,
      );
      assert.match(a.err, /train: collected \d+ episodes into /);
      const manifest = JSON.parse(
        await Deno.readTextFile(`${tmp}/data/gotoredball-smoke/manifest.json`),
      );
      assert.equal(manifest.status, "complete");
      assert.equal(JSON.parse(a.out.trim().split("\n").at(-1)!).step, 10);
      // A second run finds the complete dataset and says nothing about collecting.
      const b = await trainCli([...common, "--run-dir", `${tmp}/run-b`]);
      assert.equal(b.code, 0, b.err);
      assert.doesNotMatch(b.err, /collect/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
