/**
 * `deno task export-llada <dataset> [--split train] [--out file.jsonl]`: write a split's windows as
 * JSONL for fine-tuning a pretrained masked-diffusion LM elsewhere. The format is documented in
 * `lib/experiment/export_llada.ts`.
 *
 * Options: `--split train|val|test` (default train), `--out PATH` (default
 * `data/<dataset>/llada_<split>_<strategy>.jsonl`), `--strategy NAME` (masking strategy, default
 * next_action), `--ratio P` (for cell/attribute), `--seed N` (mask seed, default 0),
 * `--k N` / `--stride N` / `--mission-len N` (window, default 4 / 1 / 12), `--limit N` (first N
 * windows), `--ids` (also write flat ids), `--data-dir DIR` (default `<repo>/data`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runCli } from "../lib/util/cli.ts";
import { resolveDatasetDir } from "./data.ts";
import { DEFAULT_DATA_DIR } from "../lib/data/collect.ts";
import { loadDataset } from "../lib/data/store.ts";
import { type SplitName, SPLITS } from "../lib/data/split.ts";
import { exportLlada } from "../lib/experiment/export_llada.ts";
import { DEFAULT_MASKING, STRATEGIES, type StrategyName } from "../lib/masking/mod.ts";

const USAGE = `usage: deno task export-llada <dataset> [--split train] [--out file.jsonl]
  [--strategy next_action] [--ratio 0.3] [--seed 0] [--k 4] [--stride 1] [--mission-len 12]
  [--limit N] [--ids] [--data-dir data]`;

function intOpt(v: string | undefined, name: string, def: number, min: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return n;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      split: { type: "string", default: "train" },
      out: { type: "string" },
      strategy: { type: "string", default: "next_action" },
      ratio: { type: "string" },
      seed: { type: "string" },
      k: { type: "string" },
      stride: { type: "string" },
      "mission-len": { type: "string" },
      limit: { type: "string" },
      ids: { type: "boolean", default: false },
      "data-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const split = values.split as SplitName;
  if (!SPLITS.includes(split)) throw new Error(`--split must be one of ${SPLITS.join(", ")}`);
  const strategy = values.strategy as StrategyName;
  if (!STRATEGIES.includes(strategy)) {
    throw new Error(`--strategy must be one of ${STRATEGIES.join(", ")}, got ${strategy}`);
  }
  const ratio = values.ratio === undefined ? DEFAULT_MASKING.ratio : Number(values.ratio);
  const dir = resolveDatasetDir(positionals[0], values["data-dir"] ?? DEFAULT_DATA_DIR);
  const out = values.out ?? `${dir}/llada_${split}_${strategy}.jsonl`;
  const t0 = performance.now();
  const data = await loadDataset(dir, split);
  const res = await exportLlada(data, out, {
    window: {
      length: intOpt(values.k, "k", 4, 1),
      stride: intOpt(values.stride, "stride", 1, 1),
      mission_len: intOpt(values["mission-len"], "mission-len", 12, 1),
    },
    masking: { ...DEFAULT_MASKING, strategy, ratio },
    seed: intOpt(values.seed, "seed", 0, 0),
    split,
    ids: values.ids,
    limit: values.limit === undefined ? undefined : intOpt(values.limit, "limit", 0, 1),
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `wrote ${res.records} windows (${(res.bytes / 1e6).toFixed(1)} MB) to ${out} in ${
      s.toFixed(1)
    } s`,
  );
  return 0;
}

if (import.meta.main) await runCli(main, "export-llada");
