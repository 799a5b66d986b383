/**
 * `deno task notebook [jupyter options]`: starts Jupyter Notebook on notebooks/
 * with the Deno kernel available.
 *
 * `deno task notebook strip [file.ipynb...]`: removes outputs and execution
 * counts in place (default: every notebooks/*.ipynb), as the tests require
 * before committing.
 *
 * @module
 */

import { getuid } from "node:process";
import { parseArgs } from "node:util";
import { HELP_OPTION, parseCliArgs } from "../lib/util/cli.ts";
import {
  detectToolchain,
  listNotebooks,
  NOTEBOOK_DIR,
  notebookJson,
  outputProblems,
  readNotebook,
  repoRoot,
  stripOutputs,
  toolchainProblem,
} from "../lib/viz/notebook.ts";
import { writeFileAtomic } from "../lib/util/fs.ts";

async function strip(files: string[]): Promise<number> {
  const paths = files.length ? files : listNotebooks();
  for (const p of paths) {
    const nb = readNotebook(p);
    if (outputProblems(nb).length === 0) continue;
    await writeFileAtomic(p, notebookJson(stripOutputs(nb)));
    console.log(`notebook: stripped ${p}`);
  }
  return 0;
}

const USAGE =
  `usage: deno task notebook [jupyter notebook options]  start Jupyter Notebook on notebooks/
       deno task notebook strip [file.ipynb...]   remove outputs in place (default: every notebook)`;

async function main(args: string[]): Promise<number> {
  if (args[0] === "strip") {
    const parsed = parseCliArgs("notebook strip", USAGE, {
      args: args.slice(1),
      options: { help: HELP_OPTION },
      allowPositionals: true,
    });
    return typeof parsed === "number" ? parsed : await strip(parsed.positionals);
  }
  // Every other option goes to Jupyter as given; only --help and --allow-root are read here.
  const { values } = parseArgs({
    args,
    options: {
      help: HELP_OPTION,
      "allow-root": { type: "boolean", default: false },
    },
    strict: false,
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const problem = toolchainProblem(await detectToolchain());
  if (problem) {
    console.error(`notebook: ${problem}`);
    return 1;
  }
  const dir = `${repoRoot()}/${NOTEBOOK_DIR}`;
  const extra = getuid?.() === 0 && !values["allow-root"] ? ["--allow-root"] : [];
  console.error(
    `notebook: starting Jupyter Notebook in ${dir} (Ctrl-C to stop). ` +
      "Before committing a notebook: deno task notebook strip",
  );
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
