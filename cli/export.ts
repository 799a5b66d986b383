/**
 * `deno task export wandb RUN_DIR... [--project NAME] [--python python3] [--partial]`: turn
 * finished runs into Weights & Biases offline runs, ready for `wandb sync`, with no network call.
 *
 * For each run directory (of `deno task train`: `config.yaml`, `env.json`, `metrics.jsonl`; or of
 * `deno task ablate`: `config.json`, `metrics.jsonl`, `result.json`) this builds one W&B run:
 *
 * - config: the resolved config, plus `env.json` under `_env` and the study, variant and seed of
 *   an ablation run;
 * - history: one row per logged step holding every scalar of `metrics.jsonl` under the same
 *   names as the TensorBoard events (lib/train/tensorboard.ts `recordScalars`: `train/loss`,
 *   `val/val_elbo`, `eval/<metric>` ...), so the two views agree;
 * - summary: the final evaluation (`result.json` metrics as `eval/<metric>`), when there is one;
 * - files: config, env.json, metrics.jsonl, result.json and the study's report.md / report.html
 *   (the run's own, or `runs/ablations/<study>/` for an ablation run).
 *
 * The Python `wandb` package writes them (tools/wandb/export_offline.py, run with
 * `WANDB_MODE=offline`, `WANDB_SILENT=true`, never a login) into `<run>/wandb/offline-run-*`.
 * When `python3` cannot import `wandb` the command stops with the missing package and the pip
 * command that installs it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { recordScalars } from "../lib/train/tensorboard.ts";
import { parseJsonlLenient } from "../lib/util/jsonl.ts";
import { sha256Hex } from "../lib/util/hash.ts";

const USAGE =
  `usage: deno task export wandb RUN_DIR... [--project NAME] [--python python3] [--partial]
  Writes each finished run as a W&B offline run under RUN_DIR/wandb/offline-run-*;
  upload later with: wandb sync RUN_DIR/wandb/offline-run-*
  --project NAME   W&B project (default: masked-diffusion-minigrid)
  --python PATH    the Python that has the wandb package (default: python3)
  --partial        also export runs that have not reached train.steps`;

/** The W&B project runs go to unless `--project` says otherwise. */
export const DEFAULT_PROJECT = "masked-diffusion-minigrid";

/** One history row: the step and every scalar logged at it. */
export interface HistoryRow {
  step: number;
  values: Record<string, number>;
}

/** A file to attach to the W&B run: its path and the name it gets there. */
export interface RunFile {
  path: string;
  name: string;
}

/** What tools/wandb/export_offline.py needs to write one offline run. */
export interface WandbRunPayload {
  /** Absolute run directory (the offline run goes to `<dir>/wandb/`). */
  dir: string;
  /** W&B run id: the directory name plus a hash of its absolute path (stable across exports). */
  id: string;
  name: string;
  project: string;
  /** The study of an ablation run, else the experiment name. */
  group: string | null;
  config: Record<string, unknown>;
  history: HistoryRow[];
  summary: Record<string, number>;
  files: RunFile[];
}

/**
 * History rows from metrics records: the scalars of every record (tagged as in TensorBoard,
 * `<kind>/<name>`) merged per step, in increasing step order (W&B needs steps that never go back).
 */
export function historyRows(records: Record<string, unknown>[]): HistoryRow[] {
  const bySteps = new Map<number, Record<string, number>>();
  for (const r of records) {
    const step = Number(r.step ?? 0);
    if (!Number.isFinite(step)) continue;
    const scalars = recordScalars(r);
    if (scalars.length === 0) continue;
    const row = bySteps.get(step) ?? {};
    for (const [tag, v] of scalars) row[tag] = v;
    bySteps.set(step, row);
  }
  return [...bySteps.entries()].sort((a, b) => a[0] - b[0]).map(([step, values]) => ({
    step,
    values,
  }));
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: not readable JSON (${e instanceof Error ? e.message : e})`);
  }
}

/** A W&B run id: `[A-Za-z0-9_-]`, at most 64 characters, unique per absolute directory. */
function runId(dir: string): string {
  const h = sha256Hex(dir).slice(0, 8);
  return `${basename(dir).replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 55)}-${h}`;
}

/**
 * Build the payload of one run directory; throws a clear error when it is not a run directory or
 * (without `partial`) not finished: no `result.json` and a last logged step below `train.steps`.
 */
export function wandbRunPayload(
  runDir: string,
  opts: { project?: string; partial?: boolean } = {},
): WandbRunPayload {
  const dir = resolve(runDir);
  const metricsPath = join(dir, "metrics.jsonl");
  if (!existsSync(metricsPath)) {
    throw new Error(
      `${dir}: no metrics.jsonl, so not a run directory (give a folder written by ` +
        "deno task train or deno task ablate, e.g. runs/ablations/_runs/<variant>-<hash>)",
    );
  }
  let config: Record<string, unknown>;
  let configFile: string;
  if (existsSync(join(dir, "config.yaml"))) {
    configFile = join(dir, "config.yaml");
    config = parseYaml(readFileSync(configFile, "utf8")) ?? {};
  } else if (existsSync(join(dir, "config.json"))) {
    configFile = join(dir, "config.json");
    config = readJson(configFile);
  } else {
    throw new Error(`${dir}: neither config.yaml nor config.json; the run's config is needed`);
  }
  const records = parseJsonlLenient(readFileSync(metricsPath, "utf8"));
  const resultPath = join(dir, "result.json");
  const result = existsSync(resultPath) ? readJson(resultPath) : null;
  const steps = Number((config.train as Record<string, unknown> | undefined)?.steps);
  const last = records.reduce((m, r) => Math.max(m, Number(r.step ?? 0) || 0), 0);
  if (!result && !opts.partial && !(Number.isFinite(steps) && last >= steps)) {
    throw new Error(
      `${dir}: not finished (last logged step ${last} of train.steps ${steps}); ` +
        "finish it with --resume, or pass --partial to export it as it is",
    );
  }
  const summary: Record<string, number> = {};
  const metrics = (result?.metrics ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v === "number" && Number.isFinite(v)) summary[`eval/${k}`] = v;
  }
  const fullConfig: Record<string, unknown> = { ...config };
  const envPath = join(dir, "env.json");
  if (existsSync(envPath)) fullConfig._env = readJson(envPath);
  if (result) {
    for (const k of ["study", "variant", "seed", "hash", "evalVersion"]) {
      if (result[k] !== undefined) fullConfig[`_${k}`] = result[k];
    }
  }
  const files: RunFile[] = [configFile, envPath, metricsPath, resultPath]
    .filter((p) => existsSync(p)).map((p) => ({ path: p, name: basename(p) }));
  const study = typeof result?.study === "string" ? result.study : null;
  const reportDirs = [dir, ...(study ? [join(dirname(dir), "..", study)] : [])];
  for (const name of ["report.md", "report.html"]) {
    const found = reportDirs.map((d) => join(d, name)).find((p) => existsSync(p));
    if (found) files.push({ path: resolve(found), name });
  }
  return {
    dir,
    id: runId(dir),
    name: basename(dir),
    project: opts.project ?? DEFAULT_PROJECT,
    group: study ?? (typeof config.name === "string" ? config.name : null),
    config: fullConfig,
    history: historyRows(records),
    summary,
    files,
  };
}

/** Python package names of modules whose distribution is named differently. */
const MODULE_PACKAGES: Record<string, string> = {
  "opentelemetry.semconv": "opentelemetry-semantic-conventions",
  "opentelemetry.sdk": "opentelemetry-sdk",
  "opentelemetry.exporter": "opentelemetry-exporter-otlp-proto-http",
  "google.protobuf": "protobuf",
  yaml: "pyyaml",
  git: "gitpython",
};

/**
 * The error to show when `python -c "import wandb"` failed with `stderr`: which package is
 * missing and the pip command that installs it (`--user` unless root).
 */
export function wandbImportError(stderr: string, python = "python3", root = false): string {
  const user = root ? "" : "--user ";
  const lines = stderr.trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const m = /No module named '([^']+)'/.exec(last);
  if (m && (m[1] === "wandb" || m[1].startsWith("wandb."))) {
    return `export wandb: the Python package wandb is not installed for ${python}; ` +
      `install it: ${python} -m pip install ${user}wandb`;
  }
  if (m) {
    const mod = m[1];
    const key = Object.keys(MODULE_PACKAGES).find((k) => mod === k || mod.startsWith(k + "."));
    const pkg = key ? MODULE_PACKAGES[key] : mod.split(".")[0].replaceAll("_", "-");
    return `export wandb: ${python} cannot import wandb: ${last.trim()}; the package ${pkg} ` +
      `(a dependency of wandb) is missing; install it: ${python} -m pip install ${user}${pkg} ` +
      `(or the whole set: ${python} -m pip install ${user}wandb). A pip index without ${pkg} ` +
      "cannot install wandb: install it from another index or wheel first.";
  }
  return `export wandb: ${python} cannot import wandb (${last.trim() || "no error text"}); ` +
    `reinstall it: ${python} -m pip install ${user}--force-reinstall wandb`;
}

/** Whether `python` imports wandb; otherwise the message of {@link wandbImportError}. */
export async function checkWandb(python: string): Promise<string | null> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(python, {
      args: ["-c", "import wandb"],
      env: offlineEnv(),
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (e) {
    return `export wandb: cannot run ${python} (${e instanceof Error ? e.message : e}); ` +
      "install Python 3 or pass --python PATH";
  }
  if (out.success) return null;
  return wandbImportError(new TextDecoder().decode(out.stderr), python, Deno.uid?.() === 0);
}

/** The environment every wandb process of this command runs with: offline, silent, no login. */
export function offlineEnv(): Record<string, string> {
  return {
    WANDB_MODE: "offline",
    WANDB_SILENT: "true",
    WANDB_DISABLE_GIT: "true",
    WANDB_DISABLE_CODE: "true",
    WANDB_ERROR_REPORTING: "false",
  };
}

/** Path of the Python script that writes the offline runs. */
export const EXPORT_SCRIPT: string =
  new URL("../tools/wandb/export_offline.py", import.meta.url).pathname;

/** Runs `deno task export ...`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      project: { type: "string" },
      python: { type: "string", default: "python3" },
      partial: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [target, ...dirs] = positionals;
  if (target !== "wandb" || dirs.length === 0) {
    console.error(
      target && target !== "wandb"
        ? `export: unknown target '${target}' (only 'wandb'; TensorBoard needs no export: ` +
          `every run writes its event file, so run tensorboard --logdir runs/)\n${USAGE}`
        : USAGE,
    );
    return 2;
  }
  let payloads: WandbRunPayload[];
  try {
    payloads = dirs.map((d) => wandbRunPayload(d, values));
  } catch (e) {
    console.error(`export wandb: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  const python = values.python!;
  const missing = await checkWandb(python);
  if (missing) {
    console.error(missing);
    return 1;
  }
  const tmp = await Deno.makeTempFile({ prefix: "wandb-export-", suffix: ".json" });
  try {
    await Deno.writeTextFile(tmp, JSON.stringify(payloads));
    const out = await new Deno.Command(python, {
      args: [EXPORT_SCRIPT, tmp],
      env: offlineEnv(),
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.startsWith("{"));
    for (const l of lines) {
      const { offline_dir } = JSON.parse(l);
      console.log(`wrote ${offline_dir}\n  upload with: wandb sync ${offline_dir}`);
    }
    if (!out.success) {
      console.error(`export wandb: ${EXPORT_SCRIPT} failed (exit ${out.code}); see above`);
      return 1;
    }
    return 0;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
