/**
 * `deno task check-render [page.html...] [--require-figures]`
 *
 * Loads rendered pages (default: every runs/rendered/*.html) in headless
 * Chromium, saves a screenshot next to each (page.png) and fails on a
 * JavaScript error, a failed load or a figure that was not drawn.
 *
 * @module
 */

import { HELP_OPTION, parseCliArgs } from "../lib/util/cli.ts";
import { findChromium, RENDER_DIR, repoRoot } from "../lib/viz/notebook.ts";
import { checkPages } from "../lib/viz/check_html.ts";

const USAGE = `usage: deno task check-render [page.html...] [--require-figures]
  page.html: a rendered page (default: every runs/rendered/*.html)`;

async function main(args: string[]): Promise<number> {
  const parsed = parseCliArgs("check-render", USAGE, {
    args,
    options: { "require-figures": { type: "boolean", default: false }, help: HELP_OPTION },
    allowPositionals: true,
  });
  if (typeof parsed === "number") return parsed;
  const requireFigures = parsed.values["require-figures"];
  let pages = parsed.positionals;
  const root = repoRoot();
  if (!pages.length) {
    const dir = `${root}/${RENDER_DIR}`;
    try {
      pages = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".html"))
        .map((e) => `${dir}/${e.name}`).sort();
    } catch { /* no folder */ }
    if (!pages.length) {
      console.error(
        `check-render: no pages in ${RENDER_DIR}/. Make them with \`deno task render\`.`,
      );
      return 1;
    }
  }
  const chromium = await findChromium();
  if (!chromium) {
    console.error(
      "check-render: chromium not found. Install it (apt-get install chromium) or set $CHROMIUM.",
    );
    return 1;
  }
  let failed = 0;
  for (const c of await checkPages(pages, { chromium, requireFigures })) {
    if (c.ok) {
      console.log(`ok   ${c.path} (${c.plotted}/${c.figures} figures drawn) -> ${c.screenshot}`);
    } else {
      failed++;
      console.log(
        `FAIL ${c.path} -> ${c.screenshot ?? "(no screenshot)"}\n  ${c.problems.join("\n  ")}`,
      );
    }
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
