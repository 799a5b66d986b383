/**
 * The worker pool of a collection: rollout tasks (chunks of episode specs)
 * run on Web Workers (collect_worker.ts), or in this thread when asked for
 * zero workers.
 *
 * @module
 */

import {
  type BotFactory,
  type EpisodeRecord,
  loadBotFactory,
  rolloutEpisode,
  type RolloutSpec,
} from "./rollout.ts";

/** Message to a worker. */
export interface WorkerTask {
  /** Task id. */
  id: number;
  /** Episodes to roll out. */
  specs: RolloutSpec[];
}

/** Message from a worker. */
export type WorkerReply =
  | { type: "tick"; id: number }
  | { type: "done"; id: number; records: EpisodeRecord[] }
  | { type: "error"; id: number; error: string };

/** Run rollout tasks: on `workers` Web Workers, or in this thread when `workers` is 0. */
export async function runTasks(
  tasks: WorkerTask[],
  workers: number,
  onTick: () => void,
  onDone: (id: number, records: EpisodeRecord[]) => Promise<void>,
  botFactory?: BotFactory,
): Promise<void> {
  if (tasks.length === 0) return;
  if (workers <= 0) {
    const needBot = tasks.some((t) => t.specs.some((s) => s.policy !== "random"));
    const bf = needBot ? (botFactory ?? await loadBotFactory()) : undefined;
    for (const t of tasks) {
      const recs: EpisodeRecord[] = [];
      for (const s of t.specs) {
        recs.push(rolloutEpisode(s, bf));
        onTick();
      }
      await onDone(t.id, recs);
    }
    return;
  }
  const queue = [...tasks];
  const pool: Worker[] = [];
  const pending: Promise<void>[] = [];
  let failed: Error | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const fail = (e: Error) => {
        if (failed) return;
        failed = e;
        reject(e);
      };
      const feed = (w: Worker) => {
        if (failed) return;
        const t = queue.shift();
        if (!t) {
          if (running === 0) resolve();
          return;
        }
        running++;
        w.postMessage(t);
      };
      const n = Math.min(workers, tasks.length);
      for (let i = 0; i < n; i++) {
        const w = new Worker(new URL("./collect_worker.ts", import.meta.url), { type: "module" });
        pool.push(w);
        w.onmessage = (ev: MessageEvent<WorkerReply>) => {
          const m = ev.data;
          if (m.type === "tick") onTick();
          else if (m.type === "error") fail(new Error(m.error));
          else {
            running--;
            pending.push(onDone(m.id, m.records).catch((e) => fail(e as Error)));
            if (queue.length === 0 && running === 0) resolve();
            else feed(w);
          }
        };
        w.onerror = (ev) => {
          ev.preventDefault();
          fail(new Error(`collect worker crashed: ${ev.message}`));
        };
        feed(w);
      }
    });
    await Promise.all(pending);
  } finally {
    for (const w of pool) w.terminate();
  }
  if (failed) throw failed;
}
