/**
 * `deno task collect --config <yaml> [--set key=value ...] [--profile P] [--overwrite]`
 *
 * Collects (or resumes, or reuses) the dataset described by the config's
 * `data` section into `data/<data.dataset>/`, on a worker pool over all cores,
 * with a progress bar on stderr. Extra flags: `--workers N`, `--data-dir DIR`,
 * `--shard-episodes N`, `--quiet`, `--json` (print the result as JSON).
 *
 * @module
 */

import { CONFIG_OPTIONS, HELP_OPTION, parseCliArgs, runCli } from "../lib/util/cli.ts";
import { loadConfig } from "../lib/experiment/config.ts";
import {
  collectDataset,
  type DataConfig,
  DEFAULT_DATA_DIR,
  stderrProgressBar,
} from "../lib/data/collect.ts";
import { SPLITS } from "../lib/data/split.ts";

const USAGE =
  `usage: deno task collect --config <yaml> [--set data.key=value ...] [--profile smoke|quick|standard|full]
                         [--overwrite] [--workers N] [--data-dir DIR] [--shard-episodes N] [--quiet] [--json]`;

/** Load and validate the config (extends chain, profile, --set overrides) and return its data section. */
function loadDataSection(path: string, sets: string[], profile?: string): DataConfig {
  const cfg = loadConfig(path, { set: sets, profile });
  return cfg.data as DataConfig;
}

async function main(args: string[]): Promise<number> {
  const parsed = parseCliArgs("collect", USAGE, {
    args,
    options: {
      ...CONFIG_OPTIONS,
      overwrite: { type: "boolean", default: false },
      workers: { type: "string" },
      "data-dir": { type: "string" },
      "shard-episodes": { type: "string" },
      quiet: { type: "boolean", short: "q", default: false },
      json: { type: "boolean", default: false },
      help: HELP_OPTION,
    },
  }, { config: "<yaml>" });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const intFlag = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`--${name}: expected an integer >= 0, got ${v}`);
    }
    return n;
  };
  const data = loadDataSection(values.config!, values.set, values.profile);
  const showBar = !values.quiet && !values.json;
  const r = await collectDataset(data, {
    dataDir: values["data-dir"] ?? DEFAULT_DATA_DIR,
    overwrite: values.overwrite,
    workers: intFlag("workers", values.workers),
    shardEpisodes: intFlag("shard-episodes", values["shard-episodes"]),
    progressBar: false,
    onProgress: showBar ? stderrProgressBar(`collect ${data.dataset}`) : undefined,
  });
  const m = r.manifest;
  if (values.json) {
    console.log(JSON.stringify({
      dir: r.dir,
      status: m.status,
      config_hash: m.config_hash,
      resumed_shards: r.resumedShards,
      written_shards: r.writtenShards,
      episodes_collected: r.episodesCollected,
      seconds: r.seconds,
      episodes_per_sec: r.seconds > 0 ? r.episodesCollected / r.seconds : null,
      splits: Object.fromEntries(
        SPLITS.map((s) => [s, { episodes: m.splits[s]?.episodes, frames: m.splits[s]?.frames }]),
      ),
    }));
  } else if (!values.quiet) {
    const what = r.writtenShards === 0
      ? `already complete (config ${
        m.config_hash.slice(0, 12)
      }), all ${r.resumedShards} shards verified`
      : `${r.episodesCollected} episodes in ${r.seconds.toFixed(1)} s ` +
        `(${(r.episodesCollected / Math.max(r.seconds, 1e-9)).toFixed(1)} ep/s)` +
        (r.resumedShards > 0 ? `, resumed ${r.resumedShards} complete shard(s)` : "");
    console.log(`${r.dir}: ${what}`);
    for (const s of SPLITS) {
      const x = m.splits[s];
      if (x) {
        console.log(
          `  ${s.padEnd(5)} ${x.episodes} episodes, ${x.frames} frames, success ${
            (100 * x.successes / Math.max(1, x.episodes)).toFixed(1)
          }%${x.skipped.length ? `, ${x.skipped.length} skipped (see manifest.json)` : ""}`,
        );
      }
    }
    console.log(`verify: deno task data verify ${m.dataset}`);
  }
  return m.status === "complete" ? 0 : 1;
}

if (import.meta.main) await runCli(main);
