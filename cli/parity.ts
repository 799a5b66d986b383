/**
 * `deno task parity [--fixtures DIR] [--env ID]... [--seeds 0,1]`: replay the golden Python
 * fixtures against the TypeScript envs. Prints a table per env id and `parity: N/M episodes
 * exact`; exits 1 on any mismatch (showing the first differing field per failing episode).
 *
 * @module
 */

import {
  compareFile,
  type EpisodeResult,
  formatReport,
  listFixtureFiles,
  loadFixture,
} from "../lib/env/parity.ts";

function usage(msg?: string): never {
  if (msg) console.error(`parity: ${msg}`);
  console.error("usage: deno task parity [--fixtures DIR] [--env ENV_ID]... [--seeds 0,1,2]");
  Deno.exit(2);
}

const args = [...Deno.args];
let dir = new URL("../../shared/fixtures/minigrid", import.meta.url).pathname;
const envs: string[] = [];
let seeds: number[] | undefined;
while (args.length > 0) {
  const a = args.shift()!;
  if (a === "--fixtures") dir = args.shift() ?? usage("--fixtures needs a directory");
  else if (a.startsWith("--fixtures=")) dir = a.slice("--fixtures=".length);
  else if (a === "--env") envs.push(args.shift() ?? usage("--env needs an env id"));
  else if (a === "--seeds") {
    const v = args.shift() ?? usage("--seeds needs a list like 0,1,2");
    seeds = v.split(",").map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) usage(`bad seed "${s}" in --seeds`);
      return n;
    });
  } else if (a === "-h" || a === "--help") usage();
  else usage(`unknown argument "${a}"`);
}

let files: string[];
try {
  files = listFixtureFiles(dir);
} catch (e) {
  console.error(`parity: cannot read fixtures directory ${dir}: ${(e as Error).message}`);
  Deno.exit(2);
}
if (files.length === 0) {
  console.error(`parity: no fixture *.json files in ${dir}`);
  Deno.exit(2);
}
const results: EpisodeResult[] = [];
for (const name of files) {
  const file = loadFixture(`${dir}/${name}`);
  if (envs.length > 0 && !envs.includes(file.env_id)) continue;
  results.push(...compareFile(file, { seeds }));
}
console.log(formatReport(results));
const bad = results.some((r) => r.status === "mismatch" || r.status === "error");
Deno.exit(bad ? 1 : 0);
