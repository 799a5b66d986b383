/**
 * Notebook tooling: the outputs-stripped check, headless execution with the
 * Deno kernel (nbconvert/nbclient), and export to self-contained offline HTML.
 * Used by `deno task render`, `deno task notebook` and tests/notebooks_test.ts.
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.ts";
import { extrasHidden } from "../util/extras.ts";

/** The subset of the .ipynb (nbformat 4) structure used here. */
export interface Notebook {
  /** Cells. */
  cells: NotebookCell[];
  /** Notebook metadata (kernelspec, ...). */
  metadata: Record<string, unknown>;
  /** 4. */
  nbformat: number;
  /** Minor version. */
  nbformat_minor: number;
}

/** One notebook cell. */
export interface NotebookCell {
  /** "code" | "markdown" | "raw". */
  cell_type: string;
  /** Source, as one string or a list of lines. */
  source: string | string[];
  /** Cell metadata (tags, ...). */
  metadata: Record<string, unknown>;
  /** Outputs of a code cell. */
  outputs?: NotebookOutput[];
  /** Execution count of a code cell (null when not run). */
  execution_count?: number | null;
  /** Cell id (nbformat ≥ 4.5). */
  id?: string;
}

/** One output of a code cell. */
export interface NotebookOutput {
  /** "stream" | "display_data" | "execute_result" | "error". */
  output_type: string;
  /** MIME bundle of display_data / execute_result. */
  data?: Record<string, string | string[]>;
  /** Stream text. */
  text?: string | string[];
  /** Error name. */
  ename?: string;
  /** Error message. */
  evalue?: string;
  /** Stream name. */
  name?: string;
}

/** Folder of the notebooks, relative to the repository root. */
export const NOTEBOOK_DIR = "notebooks";
/** Folder of the rendered pages, relative to the repository root. */
export const RENDER_DIR = "runs/rendered";

/** The repository root (two folders up from this file). */
export function repoRoot(): string {
  return new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
}

/** Joins a cell's source into one string. */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Reads and minimally validates a notebook file. */
export function readNotebook(path: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    throw new Error(`${path}: not a readable notebook JSON file (${(e as Error).message})`);
  }
  if (!Array.isArray(nb.cells) || nb.nbformat !== 4) {
    throw new Error(`${path}: expected an nbformat 4 notebook with a "cells" list`);
  }
  return nb;
}

/** Lists the notebooks (`*.ipynb`, sorted) in `notebooks/`. */
export function listNotebooks(dir = `${repoRoot()}/${NOTEBOOK_DIR}`): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.endsWith(".ipynb")) out.push(`${dir}/${e.name}`);
  }
  return out.sort();
}

/**
 * Problems that break the "committed without outputs" rule: one message per
 * code cell with outputs or an execution count. Empty when clean.
 */
export function outputProblems(nb: Notebook, name = "notebook"): string[] {
  const problems: string[] = [];
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== "code") return;
    if (c.outputs && c.outputs.length) {
      problems.push(`${name}: cell ${i + 1} has ${c.outputs.length} output(s)`);
    }
    if (c.execution_count !== null && c.execution_count !== undefined) {
      problems.push(`${name}: cell ${i + 1} has execution_count ${c.execution_count}`);
    }
  });
  return problems;
}

/** Returns a copy with every code cell's outputs and execution count cleared. */
export function stripOutputs(nb: Notebook): Notebook {
  const copy: Notebook = structuredClone(nb);
  for (const c of copy.cells) {
    if (c.cell_type === "code") {
      c.outputs = [];
      c.execution_count = null;
    }
  }
  return copy;
}

/** Serialises a notebook the way Jupyter does (1-space indent, trailing newline). */
export function notebookJson(nb: Notebook): string {
  return JSON.stringify(nb, null, 1) + "\n";
}

/** What is installed for executing and checking notebooks. */
export interface Toolchain {
  /** `jupyter nbconvert` runs. */
  jupyter: boolean;
  /** The `deno` kernelspec is installed. */
  denoKernel: boolean;
  /** Path of a Chromium binary, or undefined. */
  chromium?: string;
}

async function runQuiet(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  } catch {
    return { ok: false, out: "" };
  }
}

/**
 * Finds a Chromium binary: `$CHROMIUM`, else on PATH (chromium, chromium-browser, google-chrome);
 * none while the optional extras are hidden (`WORKSPACE_HIDE_EXTRAS=1`, lib/util/extras.ts).
 */
export async function findChromium(): Promise<string | undefined> {
  if (extrasHidden()) return undefined;
  const env = Deno.env.get("CHROMIUM");
  if (env) return env;
  for (const c of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    const r = await runQuiet("which", [c]);
    if (r.ok && r.out.trim()) return r.out.trim().split("\n")[0];
  }
  return undefined;
}

/** Probes jupyter, the Deno kernelspec and Chromium. */
export async function detectToolchain(): Promise<Toolchain> {
  const nbc = await runQuiet("jupyter", ["nbconvert", "--version"]);
  const ks = nbc.ok
    ? await runQuiet("jupyter", ["kernelspec", "list", "--json"])
    : { ok: false, out: "" };
  let denoKernel = false;
  if (ks.ok) {
    try {
      const j = JSON.parse(ks.out.slice(ks.out.indexOf("{")));
      denoKernel = Boolean(j.kernelspecs?.deno);
    } catch {
      denoKernel = /"deno"/.test(ks.out);
    }
  }
  // `jupyter kernelspec` (apt jupyter-client) missing: look for the spec file itself.
  if (nbc.ok && !ks.ok) denoKernel = denoKernelBinary() !== null;
  return { jupyter: nbc.ok, denoKernel, chromium: await findChromium() };
}

/** Folders where Jupyter looks for kernelspecs (user, then system). */
export function kernelDirs(): string[] {
  const home = Deno.env.get("HOME") ?? "";
  const dirs: string[] = [];
  const data = Deno.env.get("JUPYTER_DATA_DIR");
  if (data) dirs.push(join(data, "kernels"));
  if (Deno.build.os === "darwin") dirs.push(join(home, "Library/Jupyter/kernels"));
  dirs.push(join(Deno.env.get("XDG_DATA_HOME") ?? join(home, ".local/share"), "jupyter/kernels"));
  for (const p of (Deno.env.get("JUPYTER_PATH") ?? "").split(":")) {
    if (p) dirs.push(join(p, "kernels"));
  }
  dirs.push("/usr/local/share/jupyter/kernels", "/usr/share/jupyter/kernels");
  return dirs;
}

/** The Deno kernelspec's deno binary if a `deno` kernel is installed and its binary exists, else null. */
export function denoKernelBinary(): string | null {
  for (const d of kernelDirs()) {
    try {
      const spec = JSON.parse(Deno.readTextFileSync(join(d, "deno", "kernel.json")));
      const bin = spec.argv?.[0];
      if (typeof bin === "string") {
        try {
          Deno.statSync(bin);
          return bin;
        } catch { /* stale: binary gone (e.g. npx cache cleared) */ }
      }
    } catch { /* not here */ }
  }
  return null;
}

/** The message for a missing toolchain piece, or undefined when all is there. */
export function toolchainProblem(t: Toolchain): string | undefined {
  if (!t.jupyter) {
    return "jupyter nbconvert is not installed. Run `deno task setup` (it installs jupyter-notebook, " +
      "jupyter-nbconvert, jupyter-client, python3-nbclient, python3-ipykernel with apt and the Deno kernel).";
  }
  if (!t.denoKernel) {
    return "the Deno Jupyter kernel is not installed. Run `deno task setup` (or `deno jupyter --install`).";
  }
  return undefined;
}

/** Options of {@link executeNotebook}. */
export interface ExecuteOptions {
  /** Value of WORKSPACE_PROFILE for the notebook's parameters cell (default "quick"). */
  profile?: string;
  /** Extra environment variables for the kernel. */
  env?: Record<string, string>;
  /** Per-cell timeout in seconds (default 1800). */
  cellTimeoutS?: number;
}

/** Result of executing one notebook. */
export interface ExecuteResult {
  /** Path of the executed notebook (with outputs). */
  executed: string;
  /** nbconvert's output (tail) for error messages. */
  log: string;
  /** Whether nbconvert succeeded. */
  ok: boolean;
  /** Seconds taken. */
  seconds: number;
}

function baseName(path: string): string {
  return path.replace(/^.*\//, "").replace(/\.ipynb$/, "");
}

/**
 * Executes a notebook headless with the Deno kernel into `outDir/<name>.ipynb`
 * (`jupyter nbconvert --to notebook --execute`). The kernel's working folder is
 * the notebook's folder. The profile reaches the notebook as WORKSPACE_PROFILE.
 */
export async function executeNotebook(
  path: string,
  outDir: string,
  opts: ExecuteOptions = {},
): Promise<ExecuteResult> {
  await Deno.mkdir(outDir, { recursive: true });
  const name = baseName(path);
  const t0 = performance.now();
  const env: Record<string, string> = {
    WORKSPACE_PROFILE: opts.profile ?? "quick",
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    NO_COLOR: "1",
    ...opts.env,
  };
  const r = await new Deno.Command("jupyter", {
    args: [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.kernel_name=deno",
      `--ExecutePreprocessor.timeout=${opts.cellTimeoutS ?? 1800}`,
      "--output-dir",
      outDir,
      "--output",
      name,
      path,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const log = (dec.decode(r.stdout) + dec.decode(r.stderr)).split("\n").filter((l) =>
    !/Debugger warning|frozen modules|make the debugger miss|PYDEVD_DISABLE|Debugging will proceed|"deno jupyter" is unstable/
      .test(l)
  ).join("\n");
  // On a cell error, nbconvert prints a Python traceback first; keep the cell and the error.
  const at = log.indexOf("An error occurred while executing the following cell");
  return {
    executed: `${outDir}/${name}.ipynb`,
    log: (at >= 0 ? log.slice(at) : log).slice(-6000),
    ok: r.success,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Makes nbconvert's HTML work offline: drops `<script src="http...">` tags
 * (require.js and MathJax from a CDN, which an offline reader cannot load and
 * which would log network errors), and the MathJax config block.
 */
export function offlineHtml(html: string): string {
  return html
    .replace(/<script[^>]*\bsrc=["']https?:\/\/[^"']*["'][^>]*>\s*<\/script>/gi, "")
    .replace(/<!-- Load mathjax -->[\s\S]*?<!-- End of mathjax configuration -->/i, "");
}

/** Converts an executed notebook to offline HTML at `htmlPath` (written atomically). */
export async function notebookToHtml(executed: string, htmlPath: string): Promise<void> {
  const dir = htmlPath.replace(/\/[^/]*$/, "");
  const tmpName = `.${baseName(executed)}.${Deno.pid}.tmp`;
  const r = await new Deno.Command("jupyter", {
    args: ["nbconvert", "--to", "html", "--output-dir", dir, "--output", tmpName, executed],
    env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(
      `jupyter nbconvert --to html failed for ${executed}:\n${
        new TextDecoder().decode(r.stderr).slice(-3000)
      }`,
    );
  }
  const tmp = `${dir}/${tmpName}.html`;
  const html = offlineHtml(await Deno.readTextFile(tmp));
  await writeFileAtomic(htmlPath, html);
  await Deno.remove(tmp);
}

/** Summary of an executed notebook's outputs. */
export interface OutputSummary {
  /** Plotly figures (`data-viz-figure` elements) in HTML outputs. */
  figures: number;
  /** Occurrences of plotly.js inlined. */
  plotlyCopies: number;
  /** Error outputs ("ename: evalue"). */
  errors: string[];
  /** Pictures: inline `<svg>`, `<img src="data:image/...">`, image/* outputs. */
  pictures: number;
}

/** Counts figures, plotly.js copies, pictures and errors in a notebook's outputs. */
export function summarizeOutputs(nb: Notebook): OutputSummary {
  const s: OutputSummary = { figures: 0, plotlyCopies: 0, errors: [], pictures: 0 };
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      if (o.output_type === "error") s.errors.push(`${o.ename}: ${o.evalue}`);
      for (const [mime, v] of Object.entries(o.data ?? {})) {
        const text = Array.isArray(v) ? v.join("") : v;
        if (mime === "text/html") {
          s.figures += (text.match(/data-viz-figure=/g) ?? []).length;
          s.plotlyCopies += (text.match(/data-viz-plotly=/g) ?? []).length;
          s.pictures += (text.match(/<svg[\s>]|<img src="data:image\//g) ?? []).length;
        } else if (mime.startsWith("image/")) s.pictures++;
      }
    }
  }
  return s;
}

/**
 * The code cells of a notebook as one TypeScript module, with `"../lib/`
 * imports made absolute, for type-checking a notebook against the library
 * (`deno check --config deno.json <file>`): catches API drift that headless
 * execution would only find at run time.
 */
export function notebookAsModule(nb: Notebook, root = repoRoot()): string {
  const code = nb.cells.filter((c) => c.cell_type === "code").map(cellSource).join("\n;\n");
  return code.replaceAll(`"../lib/`, `"${root}/lib/`) + "\nexport {};\n";
}

/** Type-checks a notebook's code (see {@link notebookAsModule}); returns the errors, or "" when clean. */
export async function checkNotebookTypes(path: string): Promise<string> {
  const root = repoRoot();
  const dir = await Deno.makeTempDir({ prefix: "nb-check-" });
  try {
    const file = `${dir}/${baseName(path)}.ts`;
    await Deno.writeTextFile(file, notebookAsModule(readNotebook(path), root));
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", `${root}/deno.json`, file],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    return r.success ? "" : new TextDecoder().decode(r.stderr).trim();
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
