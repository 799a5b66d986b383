/**
 * `deno task data <command>`: inspect and check stored datasets.
 *
 * ```
 * deno task data verify <dataset>   checksums, sizes, dtypes, shapes and consistency of every shard; exit 1 if bad
 * deno task data info <dataset>     counts per split and env id, versions, how to load it in Python
 * deno task data list               datasets under data/
 * ```
 * `<dataset>` is a name under `data/` (or `--data-dir`), or a path to a dataset directory.
 * `--json` prints machine-readable output.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runCli } from "../lib/util/cli.ts";
import { DEFAULT_DATA_DIR } from "../lib/data/collect.ts";
import { verifyDataset } from "../lib/data/store.ts";
import { readManifest } from "../lib/data/manifest.ts";
import { SPLITS } from "../lib/data/split.ts";

const USAGE = `usage: deno task data <verify|info|list> [<dataset>] [--data-dir DIR] [--json]
  verify <dataset>  check every shard (checksums, shapes); exit 1 when any is bad
  info <dataset>    summary of a dataset
  list              datasets under the data directory`;

/** Resolve a dataset argument to a directory: an existing path, else `<dataDir>/<name>`. */
export function resolveDatasetDir(arg: string, dataDir: string): string {
  try {
    if (arg.includes("/") && Deno.statSync(arg).isDirectory) return arg.replace(/\/+$/, "");
  } catch { /* not a path */ }
  return `${dataDir}/${arg}`;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      "data-dir": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  const [cmd, name] = positionals;
  if (values.help || !cmd) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR;
  if (cmd === "list") {
    const rows: { dataset: string; status: string; episodes: string }[] = [];
    try {
      for await (const e of Deno.readDir(dataDir)) {
        if (!e.isDirectory) continue;
        try {
          const m = await readManifest(`${dataDir}/${e.name}`);
          rows.push({
            dataset: e.name,
            status: m.status,
            episodes: SPLITS.map((s) => `${s} ${m.splits[s]?.episodes ?? "-"}`).join(", "),
          });
        } catch {
          rows.push({ dataset: e.name, status: "not a dataset", episodes: "" });
        }
      }
    } catch {
      /* no data dir */
    }
    rows.sort((a, b) => a.dataset.localeCompare(b.dataset));
    if (values.json) console.log(JSON.stringify(rows));
    else if (rows.length === 0) console.log(`no datasets under ${dataDir}`);
    else {for (const r of rows) {
        console.log(`${r.dataset.padEnd(28)} ${r.status.padEnd(12)} ${r.episodes}`);
      }}
    return 0;
  }
  if (!name) {
    console.error(`${cmd}: missing <dataset>\n${USAGE}`);
    return 2;
  }
  const dir = resolveDatasetDir(name, dataDir);
  if (cmd === "verify") {
    const t0 = performance.now();
    const r = await verifyDataset(dir);
    const sec = (performance.now() - t0) / 1000;
    if (values.json) {
      console.log(JSON.stringify({ ...r, seconds: sec }));
    } else if (r.ok) {
      console.log(
        `ok: ${dir}: ${r.shardsChecked} shards, ${r.filesChecked} files verified (${
          sec.toFixed(2)
        } s)`,
      );
    } else {
      console.error(
        `CORRUPTED: ${dir}: ${r.problems.length} problem(s) in ${r.badShards.length} shard(s):`,
      );
      for (const p of r.problems) console.error(`  ${p}`);
      if (r.badShards.length > 0) {
        console.error(
          `bad shards: ${r.badShards.join(", ")}\n` +
            `fix: delete the bad shard directories and rerun the same \`deno task collect\` (it recollects only ` +
            `missing shards), or recollect everything with --overwrite`,
        );
      }
    }
    return r.ok ? 0 : 1;
  }
  if (cmd === "info") {
    const m = await readManifest(dir);
    if (values.json) {
      const slim = {
        ...m,
        splits: Object.fromEntries(
          SPLITS.map((s) => [s, { ...m.splits[s], shards: m.splits[s]?.shards.length }]),
        ),
      };
      console.log(JSON.stringify(slim, null, 1));
      return 0;
    }
    console.log(`dataset   ${m.dataset} (${dir})`);
    console.log(`status    ${m.status}`);
    console.log(
      `policy    ${m.data_config.policy}${
        m.data_config.policy === "noisy_bot" ? ` (epsilon ${m.data_config.epsilon})` : ""
      }, data.seed ${m.data_config.seed}`,
    );
    console.log(`env ids   ${m.env_ids.join(", ")}`);
    console.log(`train on  ${m.train_envs.join(", ")}; test on ${m.test_envs.join(", ")}`);
    for (const s of SPLITS) {
      const x = m.splits[s];
      if (!x) {
        console.log(`${s.padEnd(6)}    (not collected yet)`);
        continue;
      }
      const per = Object.entries(x.episodes_per_env).map(([k, v]) => `${k} ${v}`).join(", ");
      console.log(
        `${
          s.padEnd(6)
        }    ${x.episodes} episodes, ${x.frames} frames, ${x.shards.length} shard(s), ` +
          `success ${(100 * x.successes / Math.max(1, x.episodes)).toFixed(1)}%` +
          (x.skipped.length ? `, ${x.skipped.length} skipped` : "") +
          (x.bot_restarts ? `, ${x.bot_restarts} bot restarts` : "") + `  [${per}]`,
      );
    }
    console.log(`versions  deno ${m.versions.deno}, workspace ${m.versions.workspace}`);
    console.log(`created   ${m.created}${m.completed ? `, completed ${m.completed}` : ""}`);
    console.log(
      `\nPython:\n  import json, numpy as np\n  m = json.load(open("${dir}/manifest.json"))\n` +
        `  images = np.concatenate([np.load(f"${dir}/{s['path']}/images.npy") for s in m["splits"]["train"]["shards"]])`,
    );
    return 0;
  }
  console.error(`unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  return 2;
}

if (import.meta.main) await runCli(main);
