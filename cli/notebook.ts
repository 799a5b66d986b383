/**
 * `deno task notebook [-- jupyter options]`: starts Jupyter Notebook on
 * notebooks/ with the Deno kernel available.
 *
 * @module
 */

import { getuid } from "node:process";
import { detectToolchain, NOTEBOOK_DIR, repoRoot, toolchainProblem } from "../lib/viz/notebook.ts";

async function main(args: string[]): Promise<number> {
  const problem = toolchainProblem(await detectToolchain());
  if (problem) {
    console.error(`notebook: ${problem}`);
    return 1;
  }
  const dir = `${repoRoot()}/${NOTEBOOK_DIR}`;
  const extra = getuid?.() === 0 && !args.includes("--allow-root") ? ["--allow-root"] : [];
  console.error(`notebook: starting Jupyter Notebook in ${dir} (Ctrl-C to stop)`);
  const child = new Deno.Command("jupyter", {
    args: ["notebook", `--notebook-dir=${dir}`, ...extra, ...args],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  return status.code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
