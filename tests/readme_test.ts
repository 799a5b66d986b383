/**
 * The README teaches and stays short: under 220 lines, the two commands at the top, its picture
 * current (tools/readme_picture.ts), every local link pointing at a file; every docs/ page dated,
 * naming a command, and free of first-person notes.
 */
import assert from "node:assert/strict";
import { readmePicture } from "../tools/readme_picture.ts";

const root = new URL("../", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", root));

/** Docs pages other engineers are writing; linked from the README before they land. */
const PENDING = new Set(["docs/runs.md", "docs/speed.md", "docs/statistics.md"]);

function exists(rel: string): boolean {
  try {
    Deno.statSync(new URL(rel, root));
    return true;
  } catch {
    return false;
  }
}

Deno.test("README: under 220 lines, the two commands first, the picture and the recipes", () => {
  const lines = README.split("\n");
  assert.ok(lines.length < 220, `${lines.length} lines`);
  const block = README.slice(
    README.indexOf("```sh"),
    README.indexOf("```", README.indexOf("```sh") + 5),
  );
  assert.match(block, /npx -y deno@2\.9\.6 task ablate/);
  assert.match(block, /npx -y deno@2\.9\.6 task test/);
  assert.match(README, /!\[[^\]]+\]\(docs\/window_mask\.svg\)/);
  assert.match(README, /\[docs\/results\.md\]\(docs\/results\.md\)/);
  for (const h of ["A masking strategy", "A metric", "An environment"]) {
    assert.ok(README.includes(`**${h}`), `where to change what: ${h}`);
  }
  assert.match(README, /mission word 0 \.\. M-1 \| frame 0: cell 0 \.\. 48, dir, action/);
});

Deno.test("README and docs: every local link points at a file", () => {
  const pages = [
    "README.md",
    ...[...Deno.readDirSync(new URL("docs/", root))]
      .filter((e) => e.name.endsWith(".md")).map((e) => `docs/${e.name}`),
  ];
  let links = 0;
  for (const page of pages) {
    const text = Deno.readTextFileSync(new URL(page, root));
    const dir = page.includes("/") ? page.slice(0, page.lastIndexOf("/") + 1) : "";
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      const rel = new URL(target, new URL(dir, root)).pathname.slice(root.pathname.length);
      links++;
      if (PENDING.has(rel)) continue;
      assert.ok(exists(rel), `${page}: link to ${target} (${rel}) is broken`);
    }
  }
  assert.ok(links >= 10, `only ${links} local links found`);
});

Deno.test("docs pages: dated, each names a command, no first-person notes", () => {
  for (const page of ["results", "devices", "logging", "cluster", "environments"]) {
    const text = Deno.readTextFileSync(new URL(`docs/${page}.md`, root));
    assert.match(text, /20\d\d-\d\d-\d\d/, `docs/${page}.md has a date`);
    assert.match(text, /deno task |npx -y deno@2\.9\.6 /, `docs/${page}.md names a command`);
  }
  for (const page of ["README.md", "docs/results.md", "docs/devices.md", "docs/logging.md"]) {
    const text = Deno.readTextFileSync(new URL(page, root));
    assert.doesNotMatch(text, /(^|[\s(])I (edited|ran|measured|think|found|changed)\b/m, page);
    assert.doesNotMatch(text, /this session/i, page);
  }
});

Deno.test("docs/window_mask.svg is what tools/readme_picture.ts draws now", async () => {
  const committed = await Deno.readTextFile(new URL("docs/window_mask.svg", root));
  assert.equal(
    committed,
    await readmePicture(),
    "regenerate: npx -y deno@2.9.6 run -A tools/readme_picture.ts",
  );
  assert.match(committed, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok((committed.match(/>\?</g) ?? []).length > 5, "hidden cells are marked");
});
