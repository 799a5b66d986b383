/**
 * `deno task config <file.yaml> [--set key=value ...] [--profile p] [--json]`
 *
 * Validates an experiment config (or an ablation file) and prints the resolved
 * result with its hash (exit 0), or the error with file:line:col and key path
 * (exit 2). Writes nothing.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import {
  ConfigError,
  configHash,
  configYaml,
  loadAblation,
  loadConfig,
  modelDims,
} from "../lib/experiment/mod.ts";

const USAGE =
  `usage: deno task config <file.yaml> [--set key=value ...] [--profile smoke|quick|standard|full|none] [--json]

Validates a config under configs/ and prints the resolved result and its hash.
An ablation file (configs/ablations/*.yaml) prints each variant's hash.
Exit codes: 0 valid, 2 invalid config or bad arguments.`;

/** Runs the CLI; returns the exit code. */
export function main(args: string[]): number {
  let values: { set?: string[]; profile?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        set: { type: "string", multiple: true, short: "s" },
        profile: { type: "string", short: "p" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const file = positionals[0];
  const profile = values.profile === undefined
    ? undefined
    : values.profile === "none" || values.profile === "null"
    ? null
    : values.profile;
  try {
    let isAblation = false;
    try {
      const raw = parseYaml(Deno.readTextFileSync(file));
      isAblation = typeof raw === "object" && raw !== null && "ablation" in raw;
    } catch { /* loadConfig reports it with its location */ }
    if (isAblation) {
      const a = loadAblation(file, { profile, overrides: values.set });
      if (values.json) {
        console.log(JSON.stringify(
          {
            ...a,
            variants: a.variants.map((v) => ({
              name: v.name,
              set: v.set,
              scale: v.scale,
              steps: v.config.train.steps,
              lr: v.config.train.lr,
              hash: v.hash,
            })),
          },
          null,
          2,
        ));
      } else {
        console.log(`# ablation ${a.ablation}: ${a.title}`);
        console.log(
          `# base ${a.base}, profile ${a.profile}, seeds ${a.seeds}, baseline ${a.baseline}`,
        );
        for (const v of a.variants) {
          const scale = v.scale === null
            ? ""
            : `  scale ${
              JSON.stringify(v.scale)
            }: steps ${v.config.train.steps}, lr ${v.config.train.lr}`;
          console.log(`${v.name.padEnd(20)} ${v.hash}  ${JSON.stringify(v.set)}${scale}`);
        }
      }
      return 0;
    }
    const cfg = loadConfig(file, { overrides: values.set, profile });
    if (values.json) {
      console.log(JSON.stringify({ hash: configHash(cfg), config: cfg }, null, 2));
    } else {
      const d = modelDims(cfg.model);
      console.log(configYaml(cfg).trimEnd());
      console.log(
        `# model ${cfg.model.size}: d_model ${d.d_model}, n_layers ${d.n_layers}, n_heads ${d.n_heads}, d_ff ${d.d_ff}`,
      );
      console.log(`# hash: ${configHash(cfg)}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(main(Deno.args));
