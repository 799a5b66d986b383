/**
 * Run directories: `runs/<experiment>/<timestamp>-<confighash>/` holding
 * `config.yaml` (the resolved config), `config.hash`, `env.json` (the
 * environment record) and `metrics.jsonl`. Every file is written through a
 * temp file + rename, so a reader never sees half a file.
 *
 * @module
 */

import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { Document, isScalar, visit } from "yaml";
import { type Config, configHash } from "./config.ts";
import { type BlasInfo, blasInfo, loadBlas } from "../model/blas.ts";
import { resolveDevice } from "../model/device.ts";
import { writeFileAtomicSync } from "../util/fs.ts";
import { readJsonlLenientSync } from "../util/jsonl.ts";
import { gitVersion } from "../util/git.ts";
import { appendJsonlSync } from "../train/log.ts";

/** The repository root (two folders above this file). */
export const REPO_ROOT: string = decodeURIComponent(new URL("../../", import.meta.url).pathname)
  .replace(/\/$/, "");

/** The default runs root: `<repo>/runs`. */
export const DEFAULT_RUNS_DIR: string = join(REPO_ROOT, "runs");

/** The environment a run was made in (written to `env.json`). */
export interface EnvRecord {
  /** ISO time the run directory was created. */
  created: string;
  /** Deno version. */
  deno: string;
  /** V8 version. */
  v8: string;
  /** TypeScript version. */
  typescript: string;
  /** @jax-js/jax version (from the deno.json import map), or null. */
  jax: string | null;
  /** Compute backend (train.device, with `auto` resolved to the device used). */
  backend: string;
  /** OpenBLAS build (`openblas_get_config`) when the backend is blas, else null. */
  blas: string | null;
  /** The BLAS library the blas backend loaded (path, flavour: system/numpy/conda/..., version), else null. */
  blas_library: BlasInfo | null;
  /** Git commit of the workspace (with `-dirty` when it has uncommitted changes), or null. */
  git_commit: string | null;
  /** Master seed of the config. */
  seed: number;
  /** Host name. */
  hostname: string;
  /** Logical CPU count. */
  cpus: number;
  /** OS and architecture. */
  os: string;
  /** Command line arguments of the process. */
  argv: string[];
}

function importVersion(name: string): string | null {
  try {
    const cfg = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "deno.json")));
    const spec: string | undefined = cfg.imports?.[name];
    const m = spec?.match(/@([0-9][^/]*)$/);
    return m ? m[1] : spec ?? null;
  } catch {
    return null;
  }
}

/** Builds the environment record of a run of `cfg`. */
export function envRecord(cfg: Config, created: Date = new Date()): EnvRecord {
  let host = "unknown";
  try {
    host = hostname();
  } catch { /* no permission */ }
  return {
    created: created.toISOString(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    jax: importVersion("@jax-js/jax"),
    backend: resolveDevice(cfg.train.device),
    blas: resolveDevice(cfg.train.device) === "blas" ? loadBlas().config : null,
    blas_library: resolveDevice(cfg.train.device) === "blas" ? blasInfo(loadBlas()) : null,
    git_commit: gitVersion(),
    seed: cfg.seed,
    hostname: host,
    cpus: navigator.hardwareConcurrency ?? 1,
    os: `${Deno.build.os}-${Deno.build.arch}`,
    argv: [...Deno.args],
  };
}

/** `20261125T021500Z`: a sortable, filesystem-safe UTC timestamp. */
export function runTimestamp(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

/** The resolved config as YAML text, with a header naming its hash. */
export function configYaml(cfg: Config): string {
  const doc = new Document(cfg);
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i))) node.flow = true; // [0.1, 0.3] on one line
    },
  });
  return `# Resolved config (extends, profile and overrides applied). hash: ${configHash(cfg)}\n` +
    doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** A run directory. */
export interface RunDir {
  /** Absolute path. */
  path: string;
  /** Experiment name (cfg.name). */
  experiment: string;
  /** {@link configHash} of the config. */
  hash: string;
  /** The resolved config. */
  config: Config;
  /** `<path>/metrics.jsonl`. */
  metricsPath: string;
}

/** Options of {@link createRunDir}. */
export interface CreateRunOptions {
  /** Runs root (default `<repo>/runs`). */
  root?: string;
  /** Folder under the root (default cfg.name). */
  experiment?: string;
  /** Creation time (default now). */
  time?: Date;
  /** Extra fields merged into env.json. */
  extraEnv?: Record<string, unknown>;
}

/**
 * Creates `runs/<experiment>/<timestamp>-<hash>/` with `config.yaml`,
 * `config.hash`, `env.json` and an empty `metrics.jsonl`. Call it only
 * after the config validated, so bad input writes nothing.
 */
export function createRunDir(cfg: Config, opts: CreateRunOptions = {}): RunDir {
  const root = resolve(opts.root ?? DEFAULT_RUNS_DIR);
  const experiment = opts.experiment ?? cfg.name;
  const time = opts.time ?? new Date();
  const hash = configHash(cfg);
  const base = join(root, experiment, `${runTimestamp(time)}-${hash}`);
  Deno.mkdirSync(join(root, experiment), { recursive: true });
  let path = base;
  for (let i = 2;; i++) {
    try {
      Deno.mkdirSync(path); // not recursive: fails if it exists, so two runs never share a folder
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      path = `${base}-${i}`;
    }
  }
  writeFileAtomicSync(join(path, "config.yaml"), configYaml(cfg));
  writeFileAtomicSync(join(path, "config.hash"), hash + "\n");
  writeFileAtomicSync(
    join(path, "env.json"),
    JSON.stringify({ ...envRecord(cfg, time), config_hash: hash, ...opts.extraEnv }, null, 2) +
      "\n",
  );
  writeFileAtomicSync(join(path, "metrics.jsonl"), "");
  return { path, experiment, hash, config: cfg, metricsPath: join(path, "metrics.jsonl") };
}

/**
 * Writes `config.yaml`, `config.hash` and `env.json` into an existing run directory chosen by the
 * user (`deno task train --run-dir`) when it has no `config.yaml` yet, so that every run
 * directory names its config (and the command that retrains it). Returns whether it wrote.
 */
export function ensureRunFiles(path: string, cfg: Config): boolean {
  try {
    Deno.statSync(join(path, "config.yaml"));
    return false;
  } catch { /* write them */ }
  const hash = configHash(cfg);
  writeFileAtomicSync(join(path, "config.yaml"), configYaml(cfg));
  writeFileAtomicSync(join(path, "config.hash"), hash + "\n");
  writeFileAtomicSync(
    join(path, "env.json"),
    JSON.stringify({ ...envRecord(cfg), config_hash: hash }, null, 2) + "\n",
  );
  return true;
}

/**
 * Appends records to `<runDir>/metrics.jsonl`, one JSON object per line (each call is one append
 * write, so concurrent readers see whole lines; a failed write leaves the file as it was).
 */
export function appendMetrics(runDir: string | RunDir, ...records: unknown[]): void {
  const dir = typeof runDir === "string" ? runDir : runDir.path;
  appendJsonlSync(join(dir, "metrics.jsonl"), records);
}

/** Reads `<runDir>/metrics.jsonl` (a torn last line is skipped). */
export function readMetrics<T = Record<string, unknown>>(runDir: string | RunDir): T[] {
  const dir = typeof runDir === "string" ? runDir : runDir.path;
  return readJsonlLenientSync<T>(join(dir, "metrics.jsonl"));
}

/**
 * Run directories of `experiment` whose config hash is `hash`, newest first
 * (`runs/<experiment>/*-<hash>[-n]/` with a matching `config.hash`).
 */
export function findRunDirs(
  experiment: string,
  hash: string,
  root: string = DEFAULT_RUNS_DIR,
): string[] {
  const dir = join(resolve(root), experiment);
  const found: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isDirectory || !new RegExp(`-${hash}(-\\d+)?$`).test(e.name)) continue;
      try {
        const h = Deno.readTextFileSync(join(dir, e.name, "config.hash")).trim();
        if (h === hash) found.push(join(dir, e.name));
      } catch { /* incomplete run dir */ }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return found.sort().reverse();
}

/** The newest run directory of `cfg` (same experiment and config hash), or null. */
export function findRunDir(cfg: Config, root: string = DEFAULT_RUNS_DIR): string | null {
  return findRunDirs(cfg.name, configHash(cfg), root)[0] ?? null;
}
