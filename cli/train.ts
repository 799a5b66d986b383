/**
 * `deno task train --config <yaml> [--set key=value ...] [--profile quick] [--resume]`
 *
 * Thin entry point: load the config (lib/experiment/config.ts), pick the run
 * directory, and call `runTraining` (lib/train/run.ts). Ctrl-C stops after the
 * current step with a checkpoint; `--resume` continues exactly from the newest
 * checkpoint of the run directory.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runTraining, type RunConfig } from "../lib/train/run.ts";
import { writeFileAtomic } from "../lib/model/checkpoint.ts";

const USAGE = `usage: deno task train --config <yaml> [options]

  --config, -c <yaml>   experiment config (e.g. configs/experiments/cell_masking.yaml)
  --set key=value       override a config key (repeatable), e.g. --set train.steps=500
  --profile <name>      smoke | quick | full (default: the config's profile)
  --resume              continue the run from its newest checkpoint (exact)
  --run-dir <dir>       run directory (default: runs/<name>/<profile>-seed<seed>)
  --data-dir <dir>      dataset root (default: data)
  --quiet, -q           no progress line
  --help, -h            this text`;

type Obj = Record<string, unknown>;

async function loadExperimentConfig(path: string, set: string[], profile?: string): Promise<Obj> {
  const url = new URL("../lib/experiment/config.ts", import.meta.url);
  try {
    Deno.statSync(url);
  } catch {
    throw new Error("lib/experiment/config.ts (loadConfig) is not available in this checkout");
  }
  const mod = await import(url.href);
  return await mod.loadConfig(path, { set, profile }) as Obj;
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string", short: "c" },
      set: { type: "string", multiple: true, default: [] },
      profile: { type: "string" },
      resume: { type: "boolean", default: false },
      "run-dir": { type: "string" },
      "data-dir": { type: "string" },
      quiet: { type: "boolean", short: "q", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.config) {
    console.error(`missing --config <yaml>\n${USAGE}`);
    return 2;
  }
  const cfg = await loadExperimentConfig(values.config, values.set as string[], values.profile);
  const name = String(cfg.name ?? "run");
  const profile = String(cfg.profile ?? values.profile ?? "default");
  const runDir = values["run-dir"] ?? `runs/${name}/${profile}-seed${cfg.seed}`;
  await Deno.mkdir(runDir, { recursive: true });
  await writeFileAtomic(`${runDir}/config.json`, JSON.stringify(cfg, null, 2) + "\n");

  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) Deno.exit(130);
    console.error("\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit now)");
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", onSigint);
  const r = await runTraining(cfg as unknown as RunConfig, {
    runDir,
    resume: values.resume,
    dataRoot: values["data-dir"] ?? "data",
    progress: !values.quiet,
    signal: abort.signal,
  });
  Deno.removeSignalListener("SIGINT", onSigint);
  console.log(JSON.stringify({
    run_dir: runDir,
    step: r.step,
    steps: (cfg.train as Obj).steps,
    interrupted: r.interrupted,
    resumed_from: r.startStep,
    best_val: r.best,
    last_val_loss: r.lastVal?.loss ?? null,
    last_val_acc: r.lastVal?.acc ?? null,
  }));
  return r.interrupted ? 130 : 0;
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main(Deno.args);
  } catch (e) {
    console.error(`train: ${(e as Error).message}`);
    if (Deno.env.get("DEBUG")) console.error((e as Error).stack);
  }
  Deno.exit(code);
}
