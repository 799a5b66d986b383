/**
 * Number of wasm worker threads of @jax-js/jax, from the environment variable
 * `JAXJS_WORKERS` (default: one per core).
 *
 * @jax-js/jax 0.1.25 sizes its worker pool from `navigator.hardwareConcurrency`
 * once, when the module loads, and has no setting for it. Importing this module
 * before anything that imports the engine (first import of an entry point)
 * overrides that value in this process. The ablation pool gives each of its
 * child processes `cores / jobs` workers: with two tiny-model runs on two cores,
 * one worker each trained ~13% faster than two each (fewer cross-thread
 * hand-offs per kernel).
 *
 * @module
 */

const raw = Deno.env.get("JAXJS_WORKERS");
if (raw !== undefined && raw !== "") {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`JAXJS_WORKERS must be a positive integer, got '${raw}'`);
  }
  Object.defineProperty(navigator, "hardwareConcurrency", { value: n, configurable: true });
}

/** Worker threads the engine will use in this process. */
export const ENGINE_WORKERS: number = Math.max(1, navigator.hardwareConcurrency || 4);
