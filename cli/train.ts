/**
 * `deno task train --config <yaml> [--set key=value ...] [--profile quick] [--resume]`
 *
 * Thin entry point: load the config (lib/experiment/config.ts), pick the run
 * directory, collect the config's dataset when it is not there yet (as `deno task
 * ablate` does; it says so), and call `runTraining` (lib/train/run.ts). Ctrl-C stops after the
 * current step with a checkpoint; `--resume` continues exactly from the newest
 * checkpoint of the run directory (one that fails its checksums is set aside, loudly, and the
 * previous one used). The run directory has one writer at a time: a second `train` of the same
 * run waits for the first, or with `--no-wait` stops at once naming it (docs/runs.md).
 *
 * @module
 */

import "../lib/model/workers.ts"; // first: engine worker count from JAXJS_WORKERS
import { CONFIG_OPTIONS, HELP_OPTION, parseCliArgs, runCli } from "../lib/util/cli.ts";
import { runTraining } from "../lib/train/run.ts";
import { listCheckpoints } from "../lib/model/checkpoint.ts";
import { configHash, loadConfig } from "../lib/experiment/config.ts";
import { createRunDir, DEFAULT_RUNS_DIR, ensureRunFiles } from "../lib/experiment/rundir.ts";
import { acquireLock } from "../lib/util/lock.ts";
import { collectDataset } from "../lib/data/collect.ts";
import type { Config } from "../lib/config/schema.ts";

const USAGE = `usage: deno task train --config <yaml> [options]

  --config, -c <yaml>   experiment config (e.g. configs/experiments/cell_masking.yaml)
  --set key=value       override a config key (repeatable), e.g. --set train.steps=500
  --profile <name>      smoke | quick | full (default: the config's profile)
  --resume              continue the run from its newest checkpoint (exact)
  --run-dir <dir>       run directory (default: a new runs/<name>/<time>-<config hash>/;
                        with --resume: the newest one of this config that has a checkpoint)
  --data-dir <dir>      dataset root (default: data)
  --no-wait             stop at once when another process is training this run directory
                        (default: wait for it); a missing dataset is collected first
  --quiet, -q           no progress line
  --help, -h            this text`;

type Obj = Record<string, unknown>;

/**
 * Collects the config's dataset into `<dataRoot>/<data.dataset>/` when its manifest is absent or
 * unfinished (an interrupted collection resumes), saying so on stderr; a complete dataset is
 * reused as it is. Returns whether it collected.
 */
async function collectIfMissing(cfg: Config, dataRoot: string): Promise<boolean> {
  const dir = `${dataRoot}/${cfg.data.dataset}`;
  let status: string | undefined;
  try {
    status = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`)).status;
  } catch { /* no manifest */ }
  if (status === "complete") return false;
  console.error(
    `train: dataset '${cfg.data.dataset}' ${
      status ? "is incomplete" : "not found"
    } in ${dataRoot}/; collecting it first (as 'deno task collect --config <this config>' would)`,
  );
  const c = await collectDataset(cfg, { dataDir: dataRoot });
  console.error(
    `train: collected ${c.episodesCollected} episodes into ${c.dir} in ${c.seconds.toFixed(1)} s`,
  );
  return true;
}

/** Newest run folder of this config (`runs/<name>/<time>-<hash>[-n]`) that has checkpoints. */
async function findRunToResume(root: string, name: string, hash: string): Promise<string | null> {
  const dir = `${root}/${name}`;
  const cands: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory && new RegExp(`-${hash}(-\\d+)?$`).test(e.name)) cands.push(e.name);
    }
  } catch {
    return null;
  }
  cands.sort().reverse();
  for (const c of cands) {
    if ((await listCheckpoints(`${dir}/${c}`)).length) return `${dir}/${c}`;
  }
  return null;
}

async function main(args: string[]): Promise<number> {
  const parsed = parseCliArgs("train", USAGE, {
    args,
    options: {
      ...CONFIG_OPTIONS,
      resume: { type: "boolean", default: false },
      "run-dir": { type: "string" },
      "data-dir": { type: "string" },
      quiet: { type: "boolean", short: "q", default: false },
      "no-wait": { type: "boolean", default: false },
      help: HELP_OPTION,
    },
  }, { config: "<yaml>" });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const cfg = loadConfig(values.config!, { set: values.set, profile: values.profile });
  let runDir = values["run-dir"];
  if (!runDir && values.resume) {
    runDir = await findRunToResume(DEFAULT_RUNS_DIR, cfg.name, configHash(cfg)) ?? undefined;
    if (!runDir) {
      throw new Error(
        `--resume: no run of '${cfg.name}' with this config (hash ${
          configHash(cfg)
        }) has a checkpoint under ` +
          `${DEFAULT_RUNS_DIR}/${cfg.name}; start it without --resume (or pass --run-dir)`,
      );
    }
  }
  if (!runDir) runDir = createRunDir(cfg).path;
  console.error(`run directory: ${runDir}`);
  using _lock = await acquireLock(runDir, {
    wait: !values["no-wait"],
    what: `run directory ${runDir}`,
  });
  if (values["run-dir"]) {
    await Deno.mkdir(runDir, { recursive: true });
    ensureRunFiles(runDir, cfg);
  }

  const dataRoot = values["data-dir"] ?? "data";
  await collectIfMissing(cfg, dataRoot);

  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) Deno.exit(130);
    console.error(
      "\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit now)",
    );
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", onSigint);
  const r = await runTraining(cfg, {
    runDir,
    resume: values.resume,
    dataRoot,
    progress: !values.quiet,
    signal: abort.signal,
  });
  Deno.removeSignalListener("SIGINT", onSigint);
  console.log(JSON.stringify({
    run_dir: runDir,
    step: r.step,
    steps: cfg.train.steps,
    interrupted: r.interrupted,
    resumed_from: r.startStep,
    best_val: r.best,
    last_val_loss: r.lastVal?.loss ?? null,
    last_val_acc: r.lastVal?.acc ?? null,
  }));
  return r.interrupted ? 130 : 0;
}

if (import.meta.main) await runCli(main, "train");
