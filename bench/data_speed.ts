/**
 * Data pipeline speed, printed as JSON (no assertions on time).
 *
 * `deno task bench:data [--quick] [--workers N]`
 *
 * - `collect`: episodes/s (and frames/s) of `collectDataset` end to end —
 *   rollouts on a worker pool over all cores plus shard writing and checksums —
 *   with the expert bot on BabyAI-GoToRedBall-v0 and BabyAI-BossLevel-v0, and
 *   random actions on MiniGrid-Empty-8x8-v0 as a bot-free reference. An entry
 *   whose env or bot is not available reports `error` instead.
 * - `load`: MB/s of `loadDataset` (read + sha256 verify + decode) on the
 *   GoToRedBall dataset.
 * - `tokenize`: windows/s tokenized + batched (added by the tokenizer's owner).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { collectDataset, type DataConfig } from "../lib/data/collect.ts";
import { loadDataset } from "../lib/data/store.ts";
import { benchTokenizeBatch } from "./tokenize_batch.ts";

/** One collection measurement. */
interface CollectFigure {
  env: string;
  policy: string;
  workers: number;
  episodes?: number;
  frames?: number;
  seconds?: number;
  episodes_per_sec?: number;
  frames_per_sec?: number;
  mean_steps?: number;
  success_rate?: number;
  error?: string;
}

const { values } = parseArgs({
  args: Deno.args,
  options: { quick: { type: "boolean", default: false }, workers: { type: "string" } },
});
const quick = values.quick;
const workers = values.workers !== undefined
  ? Number(values.workers)
  : navigator.hardwareConcurrency;
const root = await Deno.makeTempDir({ prefix: "bench_data_" });

async function benchCollect(
  env: string,
  policy: DataConfig["policy"],
  train: number,
): Promise<CollectFigure> {
  const cfg: DataConfig = {
    dataset: `${env}-${policy}`,
    envs: [env],
    policy,
    episodes: { train, val: 1, test: 1 },
    seed: 0,
  };
  try {
    const r = await collectDataset(cfg, {
      dataDir: root,
      workers,
      warn: false,
      progressBar: false,
    });
    const m = r.manifest;
    const eps = r.episodesCollected;
    const frames = (["train", "val", "test"] as const).reduce(
      (a, s) => a + (m.splits[s]?.frames ?? 0),
      0,
    );
    const tr = m.splits.train!;
    return {
      env,
      policy,
      workers,
      episodes: eps,
      frames,
      seconds: +r.seconds.toFixed(3),
      episodes_per_sec: +(eps / r.seconds).toFixed(1),
      frames_per_sec: +(frames / r.seconds).toFixed(0),
      mean_steps: +(tr.steps / tr.episodes).toFixed(1),
      success_rate: +(tr.successes / tr.episodes).toFixed(3),
    };
  } catch (e) {
    return { env, policy, workers, error: (e as Error).message.split("\n")[0] };
  }
}

const collect: CollectFigure[] = [];
collect.push(await benchCollect("BabyAI-GoToRedBall-v0", "bot", quick ? 200 : 2000));
collect.push(await benchCollect("BabyAI-BossLevel-v0", "bot", quick ? 20 : 200));
collect.push(await benchCollect("MiniGrid-Empty-8x8-v0", "random", quick ? 200 : 2000));

let load: Record<string, unknown> = {};
const first = collect.find((c) => !c.error);
if (first) {
  const dir = `${root}/${first.env}-${first.policy}`;
  const t0 = performance.now();
  const d = await loadDataset(dir, "train");
  const sec = (performance.now() - t0) / 1000;
  const mb = (d.images.byteLength + d.numFrames * 12) / 1e6;
  load = {
    dataset: `${first.env} ${first.policy}`,
    frames: d.numFrames,
    seconds: +sec.toFixed(3),
    mb_per_sec: +(mb / sec).toFixed(1),
  };
}

// Tokenize + batch figures (bench/tokenize_batch.ts): on the GoToRedBall bot episodes when
// collected above, else on synthetic episodes.
let tokenize: Record<string, unknown> = {};
{
  const gotoDir = `${root}/BabyAI-GoToRedBall-v0-bot`;
  const data = collect[0].error ? undefined : await loadDataset(gotoDir, "train");
  tokenize = benchTokenizeBatch({
    data,
    source: data ? `BabyAI-GoToRedBall-v0 bot, ${data.numEpisodes} train episodes` : undefined,
    seconds: quick ? 0.5 : 1,
  });
}

console.log(JSON.stringify(
  {
    bench: "data_speed",
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    cores: navigator.hardwareConcurrency,
    quick,
    collect,
    load,
    tokenize,
  },
  null,
  1,
));
await Deno.remove(root, { recursive: true });
Deno.exit(0);
