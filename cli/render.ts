/**
 * `deno task render [notebook...] [--profile smoke|quick|standard|full] [--no-check]`
 *
 * Executes notebooks headless with the Deno kernel (nbconvert), writes
 * runs/rendered/<name>.ipynb (with outputs) and runs/rendered/<name>.html
 * (self-contained, offline), then checks the pages in headless Chromium when
 * it is installed. Without arguments, renders every notebooks/*.ipynb.
 *
 * @module
 */

import { HELP_OPTION, parseCliArgs } from "../lib/util/cli.ts";
import { PROFILE_NAMES } from "../lib/config/schema.ts";
import {
  detectToolchain,
  executeNotebook,
  listNotebooks,
  notebookToHtml,
  readNotebook,
  RENDER_DIR,
  repoRoot,
  summarizeOutputs,
  toolchainProblem,
} from "../lib/viz/notebook.ts";
import { checkPages } from "../lib/viz/check_html.ts";

const USAGE =
  `usage: deno task render [notebook...] [--profile smoke|quick|standard|full] [--no-check]
  notebook: a path or a name such as 01_environments (default: every notebooks/*.ipynb)`;

async function main(args: string[]): Promise<number> {
  const parsed = parseCliArgs("render", USAGE, {
    args,
    options: {
      profile: { type: "string", default: Deno.env.get("WORKSPACE_PROFILE") ?? "quick" },
      "no-check": { type: "boolean", default: false },
      help: HELP_OPTION,
    },
    allowPositionals: true,
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals: names } = parsed;
  const profile = values.profile;
  const check = !values["no-check"];
  if (!(PROFILE_NAMES as readonly string[]).includes(profile)) {
    console.error(
      `render: --profile must be one of ${PROFILE_NAMES.join(", ")} (got "${profile}")`,
    );
    return 2;
  }
  const root = repoRoot();
  const all = listNotebooks();
  const paths = names.length ? names.map((n) => resolveNotebook(n, all)) : all;
  if (paths.some((p) => !p)) return 2;
  const tc = await detectToolchain();
  const problem = toolchainProblem(tc);
  if (problem) {
    console.error(`render: ${problem}`);
    return 1;
  }
  const outDir = `${root}/${RENDER_DIR}`;
  let failed = 0;
  const pages: string[] = [];
  for (const p of paths as string[]) {
    const name = p.replace(/^.*\//, "").replace(/\.ipynb$/, "");
    console.error(`render: executing ${name} (profile ${profile}) ...`);
    const r = await executeNotebook(p, outDir, { profile });
    if (!r.ok) {
      failed++;
      console.error(`render: ${name} FAILED after ${r.seconds.toFixed(0)} s:\n${r.log}`);
      continue;
    }
    const html = `${outDir}/${name}.html`;
    await notebookToHtml(r.executed, html);
    const s = summarizeOutputs(readNotebook(r.executed));
    console.log(
      `render: ${name}: ${
        r.seconds.toFixed(0)
      } s, ${s.figures} figure(s), ${s.pictures} picture(s) -> ${html.slice(root.length + 1)}`,
    );
    pages.push(html);
  }
  if (check && pages.length) {
    if (!tc.chromium) {
      console.error("render: chromium not found; skipping the page check (deno task check-render)");
    } else {
      for (const c of await checkPages(pages)) {
        const rel = c.path.slice(root.length + 1);
        if (c.ok) console.log(`check: ok   ${rel} (${c.plotted}/${c.figures} figures drawn)`);
        else {
          failed++;
          console.log(`check: FAIL ${rel}\n  ${c.problems.join("\n  ")}`);
        }
      }
    }
  }
  return failed ? 1 : 0;
}

function resolveNotebook(n: string, all: string[]): string | undefined {
  try {
    if (Deno.statSync(n).isFile) return Deno.realPathSync(n);
  } catch { /* not a path */ }
  const hit = all.find((p) => p.endsWith(`/${n}.ipynb`) || p.endsWith(`/${n}`)) ??
    all.filter((p) => p.replace(/^.*\//, "").startsWith(n)).at(0);
  if (!hit) {
    console.error(
      `render: no notebook "${n}". Known: ${all.map((p) => p.replace(/^.*\//, "")).join(", ")}`,
    );
  }
  return hit;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
