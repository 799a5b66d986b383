/**
 * The helper threads of the blas device (lib/model/native_worker.ts): each takes a contiguous
 * share of the loops split over threads, on shared-memory buffers.
 *
 * @module
 */

/** Helper threads (lib/model/native_worker.ts) that take a share of the parallel loops. */
export class Helpers {
  private workers: Worker[] = [];
  private waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL("./native_worker.ts", import.meta.url).href, { type: "module" });
      w.onmessage = (e: MessageEvent<{ id: number; error?: string }>) => {
        const p = this.waiting.get(e.data.id);
        this.waiting.delete(e.data.id);
        if (!p) return;
        if (e.data.error) p.reject(new Error(`blas helper thread: ${e.data.error}`));
        else p.resolve();
      };
      w.onerror = (e) => {
        e.preventDefault();
        for (const p of this.waiting.values()) {
          p.reject(new Error(`blas helper thread: ${e.message}`));
        }
        this.waiting.clear();
      };
      this.workers.push(w);
    }
  }

  get count(): number {
    return this.workers.length;
  }

  /** Send one task to helper i; resolves when it is done. */
  run(i: number, task: Record<string, unknown>): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.workers[i].postMessage({ ...task, id });
    });
  }

  terminate(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}

/** Threads the `blas` device uses by default: every core (BLAS_THREADS overrides). */
export function defaultThreads(): number {
  const env = Number(Deno.env.get("BLAS_THREADS"));
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
}

/** Shared-memory float32 array (visible to the helper threads). */
export const shared = (n: number) => new Float32Array(new SharedArrayBuffer(4 * n));
export const sab = (a: Float32Array) => a.buffer as SharedArrayBuffer;
