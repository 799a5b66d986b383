/**
 * `deno task parity [--fixtures DIR] [--env ID]... [--seeds 0,1]`: replay the golden Python
 * fixtures (default: the in-repo `tests/fixtures/minigrid/`) against the TypeScript envs. Prints a
 * table per env id, how many registered env ids the fixtures cover, and `parity: N/M episodes
 * exact`; exits 1 on any mismatch (showing the first differing field per failing episode) and,
 * in a full run over the in-repo set, when a registered env id has no fixture.
 *
 * @module
 */

import { HELP_OPTION, parseCliArgs } from "../lib/util/cli.ts";
import {
  compareFile,
  type EpisodeResult,
  fixtureCoverage,
  FIXTURES_DIR,
  formatReport,
  listFixtureFiles,
  loadFixture,
} from "../lib/env/parity.ts";

const USAGE = "usage: deno task parity [--fixtures DIR] [--env ENV_ID]... [--seeds 0,1,2]";

function usage(msg: string): never {
  console.error(`parity: ${msg}\n${USAGE}`);
  Deno.exit(2);
}

const parsed = parseCliArgs("parity", USAGE, {
  args: Deno.args,
  options: {
    fixtures: { type: "string", default: FIXTURES_DIR },
    env: { type: "string", multiple: true, default: [] },
    seeds: { type: "string" },
    help: HELP_OPTION,
  },
});
if (typeof parsed === "number") Deno.exit(parsed);
const { values } = parsed;
const dir = values.fixtures;
const envs: string[] = values.env;
const seeds: number[] | undefined = values.seeds?.split(",").map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) usage(`bad seed "${s}" in --seeds`);
  return n;
});

let files: string[];
try {
  files = listFixtureFiles(dir);
} catch (e) {
  console.error(`parity: cannot list the fixtures in ${dir}: ${(e as Error).message}`);
  Deno.exit(2);
}
if (files.length === 0) {
  console.error(`parity: no fixture *.json or *.json.gz files (or links to them) in ${dir}`);
  Deno.exit(2);
}
const results: EpisodeResult[] = [];
for (const name of files) {
  const file = loadFixture(`${dir}/${name}`);
  if (envs.length > 0 && !envs.includes(file.env_id)) continue;
  results.push(...compareFile(file, { seeds }));
}
const cov = fixtureCoverage(dir);
const lines = formatReport(results).split("\n");
const last = lines.pop()!;
const total = cov.covered.length + cov.missing.length;
lines.push(`registered env ids covered by ${dir}: ${cov.covered.length}/${total}`);
if (cov.missing.length > 0 && (dir === FIXTURES_DIR || cov.missing.length <= 10)) {
  lines.push(`  without a fixture: ${cov.missing.join(" ")}`);
}
if (cov.unregistered.length > 0) {
  lines.push(`fixture ids not registered (not ported): ${cov.unregistered.join(" ")}`);
}
lines.push(last);
console.log(lines.join("\n"));
const bad = results.some((r) => r.status === "mismatch" || r.status === "error");
// The in-repo set must cover the registry; another folder (extra ids or seeds) need not.
const full = envs.length === 0 && seeds === undefined && dir === FIXTURES_DIR;
Deno.exit(bad || (full && cov.missing.length > 0) ? 1 : 0);
