/**
 * Notebook checks:
 * - every notebooks/*.ipynb is committed without outputs or execution counts, uses the Deno
 *   kernel, has a `parameters` cell reading WORKSPACE_PROFILE and loads plotly once;
 * - every notebook whose metadata says `workspace.smoke: true` executes headless on the smoke
 *   profile without error and its outputs hold at least `min_figures` plotly figures and
 *   `min_pictures` pictures, with plotly.js inlined exactly once (ignored, not passed, when
 *   jupyter or the Deno kernel is missing); their runs go to a temporary WORKSPACE_RUNS folder,
 *   so they train afresh on every pass;
 * - the rendered HTML of each loads in headless Chromium with every figure drawn and no JS
 *   error (ignored when Chromium is missing).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  cellSource,
  checkNotebookTypes,
  detectToolchain,
  executeNotebook,
  listNotebooks,
  type Notebook,
  notebookToHtml,
  outputProblems,
  readNotebook,
  stripOutputs,
  summarizeOutputs,
  toolchainProblem,
} from "../lib/viz/notebook.ts";
import { checkPages } from "../lib/viz/check_html.ts";

const notebooks = listNotebooks();
const name = (p: string) => p.replace(/^.*\//, "");

interface WorkspaceMeta {
  smoke?: boolean;
  min_figures?: number;
  min_pictures?: number;
  reason?: string;
}

Deno.test("notebooks exist", () => {
  assert(notebooks.length >= 2, `expected notebooks in notebooks/, found ${notebooks.length}`);
});

for (const path of notebooks) {
  Deno.test(`${name(path)}: committed without outputs, Deno kernel, parameters cell`, () => {
    const nb = readNotebook(path);
    const problems = outputProblems(nb, name(path));
    assertEquals(problems, [], `strip outputs before committing:\n${problems.join("\n")}`);
    assertEquals((nb.metadata.kernelspec as { name?: string } | undefined)?.name, "deno");
    const params = nb.cells.filter((c) =>
      c.cell_type === "code" &&
      ((c.metadata.tags as string[] | undefined) ?? []).includes("parameters")
    );
    assertEquals(params.length, 1, "exactly one code cell tagged 'parameters'");
    assert(
      cellSource(params[0]).includes("WORKSPACE_PROFILE"),
      "the parameters cell reads WORKSPACE_PROFILE",
    );
    const code = nb.cells.filter((c) => c.cell_type === "code").map(cellSource);
    const setup = code.findIndex((s) => s.includes("setupNotebook()"));
    assert(setup >= 0 && setup <= 2, "one of the first code cells calls viz.setupNotebook()");
    const meta = nb.metadata.workspace as WorkspaceMeta | undefined;
    assert(meta, "notebook metadata has a 'workspace' entry (smoke, min_figures, min_pictures)");
    if (!meta.smoke) {
      assert(meta.reason, "a notebook left out of the smoke run says why (workspace.reason)");
    }
  });
}

for (const path of notebooks) {
  const meta = (readNotebook(path).metadata.workspace ?? {}) as WorkspaceMeta;
  Deno.test({
    name: `${name(path)}: code type-checks against lib/`,
    ignore: !meta.smoke,
    fn: async () => {
      const errors = await checkNotebookTypes(path);
      assertEquals(errors, "", `${name(path)} does not type-check:\n${errors.slice(0, 3000)}`);
    },
  });
}

Deno.test("outputProblems flags outputs and execution counts; stripOutputs clears them", () => {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", source: "# x", metadata: {} },
      {
        cell_type: "code",
        source: "1",
        metadata: {},
        execution_count: 3,
        outputs: [{ output_type: "execute_result", data: { "text/plain": "1" } }],
      },
    ],
  };
  assertEquals(outputProblems(nb, "t").length, 2);
  assertEquals(outputProblems(stripOutputs(nb), "t"), []);
  assertEquals(nb.cells[1].execution_count, 3, "stripOutputs does not modify its input");
});

Deno.test("a missing kernel or jupyter suggests `deno task setup`", () => {
  assert(toolchainProblem({ jupyter: false, denoKernel: false })!.includes("deno task setup"));
  assert(toolchainProblem({ jupyter: true, denoKernel: false })!.includes("deno task setup"));
  assertEquals(toolchainProblem({ jupyter: true, denoKernel: true }), undefined);
});

const tc = await detectToolchain();
const noKernel = toolchainProblem(tc) !== undefined;
const outDir = await Deno.makeTempDir({ prefix: "notebooks-test-" });
const pages: { page: string; figures: number }[] = [];

for (const path of notebooks) {
  const meta = (readNotebook(path).metadata.workspace ?? {}) as WorkspaceMeta;
  Deno.test({
    name: `${name(path)}: executes on the smoke profile with the expected figures`,
    ignore: noKernel || !meta.smoke,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      // Runs go to this test's own folder (shared by the notebooks, in order: 20 reads 00's run),
      // so every pass starts them fresh, whatever an earlier pass or the user left in runs/.
      const r = await executeNotebook(path, outDir, {
        profile: "smoke",
        env: { WORKSPACE_RUNS: `${outDir}/runs` },
      });
      assert(r.ok, `${name(path)} failed:\n${r.log}`);
      const s = summarizeOutputs(readNotebook(r.executed));
      assertEquals(s.errors, []);
      assert(
        s.figures >= (meta.min_figures ?? 0),
        `${name(path)}: ${s.figures} figures in the outputs, expected at least ${meta.min_figures}`,
      );
      assert(
        s.pictures >= (meta.min_pictures ?? 0),
        `${
          name(path)
        }: ${s.pictures} pictures in the outputs, expected at least ${meta.min_pictures}`,
      );
      if (s.figures > 0) assertEquals(s.plotlyCopies, 1, "plotly.js is inlined exactly once");
      const page = `${outDir}/${name(path).replace(/\.ipynb$/, "")}.html`;
      await notebookToHtml(r.executed, page);
      const html = await Deno.readTextFile(page);
      assert(
        !/<script[^>]*src=["']https?:/i.test(html),
        "the page loads no script from the network",
      );
      pages.push({ page, figures: s.figures });
    },
  });
}

Deno.test({
  name: "rendered notebooks: every figure drawn, no JS error (headless Chromium)",
  ignore: noKernel || !tc.chromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    try {
      assert(pages.length > 0, "no notebook was rendered by the tests above");
      const results = await checkPages(pages.map((p) => p.page), { timeoutMs: 30000 });
      for (const [i, c] of results.entries()) {
        assert(c.ok, `${c.path}: ${c.problems.join("; ")}`);
        assertEquals(c.figures, pages[i].figures, `${c.path}: figures in the page`);
        assertEquals(c.plotted, c.figures);
      }
    } finally {
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});
