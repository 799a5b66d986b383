/**
 * Web Worker of the collection pool: receives {@link WorkerTask}s (episode
 * specs), rolls them out with {@link rolloutEpisode} and posts the records back
 * (typed-array buffers transferred, not copied), plus one `tick` per episode
 * for the progress bar. Started by collect_pool.ts; not meant to be imported.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type BotFactory, type EpisodeRecord, loadBotFactory, rolloutEpisode } from "./rollout.ts";
import type { WorkerReply, WorkerTask } from "./collect_pool.ts";

let botFactory: BotFactory | undefined;

self.onmessage = async (ev: MessageEvent<WorkerTask>) => {
  const task = ev.data;
  try {
    if (!botFactory && task.specs.some((s) => s.policy !== "random")) {
      botFactory = await loadBotFactory();
    }
    const records: EpisodeRecord[] = [];
    for (const spec of task.specs) {
      records.push(rolloutEpisode(spec, botFactory));
      self.postMessage({ type: "tick", id: task.id } satisfies WorkerReply);
    }
    const transfer: ArrayBuffer[] = [];
    for (const r of records) {
      for (const a of [r.images, r.directions, r.actions, r.rewards, r.terminated, r.truncated]) {
        transfer.push(a.buffer as ArrayBuffer);
      }
    }
    self.postMessage({ type: "done", id: task.id, records } satisfies WorkerReply, transfer);
  } catch (e) {
    const err = e as Error;
    self.postMessage(
      {
        type: "error",
        id: task.id,
        error: `collect worker: ${err?.stack ?? String(e)}`,
      } satisfies WorkerReply,
    );
  }
};
