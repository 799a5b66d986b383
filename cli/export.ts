/**
 * `deno task export <target> ...`: hand data and runs to tools outside this workspace.
 *
 * - `deno task export llada <dataset> [--split train,val,test] [--format aomt|dfactory|tokens]
 *   [--obs text|tokens] [--out DIR] [--overwrite]`: a stored dataset's trajectories as JSONL for
 *   fine-tuning a pretrained masked-diffusion LM (LLaDA 2.0 with dFactory, the AOMT pipeline);
 *   the formats are documented in lib/experiment/export_llada.ts and docs/llada.md. Bad input (an
 *   unknown dataset, split or format, an output folder that exists without `--overwrite`, a
 *   dataset that fails its checksums) stops with a clear error and exit code 2, writing nothing.
 * - `deno task export wandb RUN_DIR... [--project NAME] [--python python3] [--partial]`: turn
 *   finished runs into Weights & Biases offline runs, ready for `wandb sync`, with no network call.
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
import { resolveDatasetDir } from "./data.ts";
import { DEFAULT_DATA_DIR } from "../lib/data/collect.ts";
import { readManifest } from "../lib/data/manifest.ts";
import { DEFAULT_MASKING, STRATEGIES, type StrategyName } from "../lib/masking/mod.ts";
import {
  ExportInputError,
  exportLladaDataset,
  LLADA_FILES,
  LLADA_FORMATS,
  LLADA_OBS,
  type LladaFormat,
  type LladaObs,
} from "../lib/experiment/export_llada.ts";

const USAGE = `usage: deno task export llada <dataset> [--split train,val,test]
                         [--format aomt|dfactory|tokens] [--obs text|tokens] [--out DIR] [--overwrite]
       deno task export wandb RUN_DIR... [--project NAME] [--python python3] [--partial]
  llada: see deno task export llada --help
  wandb: writes each finished run as a W&B offline run under RUN_DIR/wandb/offline-run-*;
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
  if (args[0] === "llada") return await lladaMain(args.slice(1));
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
        ? `export: unknown target '${target}' (use 'llada' or 'wandb'; TensorBoard needs no export: ` +
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

// ---------------------------------------------------------------- export llada

const LLADA_USAGE = `usage: deno task export llada <dataset> [--split train,val,test]
                         [--format aomt|dfactory|tokens] [--obs text|tokens] [--out DIR] [--overwrite]
  Writes a stored dataset's trajectories as JSONL for fine-tuning a pretrained LM (docs/llada.md):
  <out>/<split>/<files> and <out>/manifest.json.
  <dataset>        a name under data/ (or --data-dir), or a dataset folder
  --split S,...    splits to export (default: all of the dataset's)
  --format F       aomt (default): sft_standard, prefix_sft_s1, aomt .jsonl
                   dfactory: sft_standard (history as chat turns), prefix_sft_s1 .jsonl
                   tokens: windows.jsonl, flat token windows (the earlier export)
  --obs O          text (default): BabyAI-Text sentences; tokens: flat cell tokens
  --out DIR        default: data/<dataset>/llada-<format>[-obs-tokens]
  --overwrite      replace an existing output folder
  format tokens only: --strategy next_action --ratio 0.3 --seed 0 --k 4 --stride 1
                   --mission-len 12 --limit N --ids`;

/** Shell-quotes one argument for the command recorded in an export manifest. */
function shellWord(a: string): string {
  return /^[A-Za-z0-9_./,=:@+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

function intOption(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new ExportInputError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The datasets (folders with a manifest.json) under `dataDir`, sorted. */
function datasetsUnder(dataDir: string): string[] {
  try {
    return [...Deno.readDirSync(dataDir)]
      .filter((e) => e.isDirectory && existsSync(join(dataDir, e.name, "manifest.json")))
      .map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Runs `deno task export llada ...`; returns the exit code (2 for bad input). */
export async function lladaMain(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        split: { type: "string", multiple: true },
        format: { type: "string" },
        obs: { type: "string" },
        out: { type: "string" },
        overwrite: { type: "boolean", default: false },
        "data-dir": { type: "string" },
        strategy: { type: "string" },
        ratio: { type: "string" },
        seed: { type: "string" },
        k: { type: "string" },
        stride: { type: "string" },
        "mission-len": { type: "string" },
        limit: { type: "string" },
        ids: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    console.error(`export llada: ${(e as Error).message}\n${LLADA_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(LLADA_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(
      `export llada: ${positionals.length === 0 ? "missing <dataset>" : "give one <dataset>"}\n` +
        LLADA_USAGE,
    );
    return 2;
  }
  try {
    const format = (values.format ?? "aomt") as LladaFormat;
    if (!LLADA_FORMATS.includes(format)) {
      throw new ExportInputError(
        `unknown --format ${JSON.stringify(values.format)}; use one of ${
          LLADA_FORMATS.join(", ")
        } (${LLADA_FORMATS.map((f) => `${f}: ${LLADA_FILES[f].join(", ")}`).join("; ")})`,
      );
    }
    const obs = (values.obs ?? (format === "tokens" ? "tokens" : "text")) as LladaObs;
    if (!LLADA_OBS.includes(obs)) {
      throw new ExportInputError(
        `unknown --obs ${JSON.stringify(values.obs)}; use one of ${LLADA_OBS.join(", ")}`,
      );
    }
    if (format === "tokens" && obs !== "tokens") {
      throw new ExportInputError(
        "--format tokens writes flat token windows; --obs text applies to aomt and dfactory",
      );
    }
    const tokenFlags = ["strategy", "ratio", "seed", "k", "stride", "mission-len", "limit", "ids"]
      .filter((k) => (values as Record<string, unknown>)[k] !== undefined);
    if (format !== "tokens" && tokenFlags.length > 0) {
      throw new ExportInputError(
        `--${tokenFlags[0]} applies to --format tokens only (the token windows)`,
      );
    }
    let tokenOptions;
    if (format === "tokens") {
      const strategy = (values.strategy ?? "next_action") as StrategyName;
      if (!STRATEGIES.includes(strategy)) {
        throw new ExportInputError(
          `unknown --strategy ${JSON.stringify(strategy)}; use one of ${STRATEGIES.join(", ")}`,
        );
      }
      const ratio = values.ratio === undefined ? DEFAULT_MASKING.ratio : Number(values.ratio);
      if (!(ratio >= 0 && ratio <= 1)) {
        throw new ExportInputError(`--ratio must be in [0, 1], got ${values.ratio}`);
      }
      tokenOptions = {
        window: {
          length: intOption(values.k, "k", 1) ?? 4,
          stride: intOption(values.stride, "stride", 1) ?? 1,
          mission_len: intOption(values["mission-len"], "mission-len", 1) ?? 12,
        },
        masking: { ...DEFAULT_MASKING, strategy, ratio },
        seed: intOption(values.seed, "seed", 0) ?? 0,
        ids: values.ids ?? false,
        limit: intOption(values.limit, "limit", 1),
      };
    }
    const name = positionals[0];
    const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR;
    const dir = resolveDatasetDir(name, dataDir);
    if (!existsSync(dir)) {
      const have = datasetsUnder(dataDir);
      throw new ExportInputError(
        `no dataset ${JSON.stringify(name)}: ${dir} does not exist (datasets under ${dataDir}: ${
          have.length ? have.join(", ") : "none"
        }). Collect it first with deno task collect, e.g. ` +
          "`deno task collect --config configs/base.yaml --profile quick` writes " +
          "data/gotoredball-quick; then `deno task export llada gotoredball-quick`",
      );
    }
    const m = await readManifest(dir).catch((e) => {
      throw new ExportInputError((e as Error).message);
    });
    const splits = values.split?.flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) =>
      s.length > 0
    );
    const out = values.out ??
      join(dir, `llada-${format}${format !== "tokens" && obs === "tokens" ? "-obs-tokens" : ""}`);
    const t0 = performance.now();
    const r = await exportLladaDataset(dir, {
      format,
      obs,
      splits,
      out,
      overwrite: values.overwrite,
      tokenOptions,
      command: ["deno", "task", "export", "llada", ...args].map(shellWord).join(" "),
    });
    const sec = (performance.now() - t0) / 1000;
    console.log(`wrote ${r.out} (${m.dataset}, ${format}, obs ${obs}) in ${sec.toFixed(1)} s`);
    for (const [s, x] of Object.entries(r.manifest.splits)) {
      const files = Object.entries(x!.files).map(([f, v]) =>
        `${f} ${v.records} (${(v.bytes / 1e6).toFixed(2)} MB)`
      );
      console.log(
        `  ${s.padEnd(5)} ${x!.episodes} episodes, ${x!.frames} frames: ${files.join(", ")}`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof ExportInputError) {
      console.error(`export llada: ${e.message}`);
      return 2;
    }
    console.error(`export llada: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
