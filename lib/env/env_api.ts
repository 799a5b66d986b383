/**
 * What an environment takes and gives back, shared by every MiniGrid and BabyAI env: the
 * observation, the step and reset records, the constructor options, the usage errors and seed
 * validation (gymnasium's rules).
 *
 * @module
 */

/** Observation: egocentric image [vs, vs, 3] uint8 (index ((vx*vs)+vy)*3+c), direction, mission. */
export interface Obs {
  /** Egocentric encoded view, numpy layout [vx, vy, c]. */
  image: Uint8Array;
  /** Agent direction 0..3. */
  direction: number;
  /** Mission string. */
  mission: string;
}

/** What `step` returns (Python's 5-tuple as a record). */
export interface StepResult {
  /** Observation after the step. */
  obs: Obs;
  /** Reward (float64, bit-exact with Python). */
  reward: number;
  /** Episode ended by success/failure. */
  terminated: boolean;
  /** Episode ended by the step limit. */
  truncated: boolean;
  /** Extra info (empty for MiniGrid). */
  info: Record<string, unknown>;
}

/** What `reset` returns. */
export interface ResetResult {
  /** First observation. */
  obs: Obs;
  /** Extra info (empty). */
  info: Record<string, unknown>;
}

/** Options of `reset`. */
export interface ResetOptions {
  /** Non-negative integer seed; omitted = continue the current RNG stream (as gymnasium). */
  seed?: number | bigint | null;
}

/** Base constructor options (camelCase of MiniGridEnv.__init__ kwargs). */
export interface MiniGridOptions {
  /** Square grid size (exclusive with width/height). */
  gridSize?: number | null;
  /** Grid width. */
  width?: number | null;
  /** Grid height. */
  height?: number | null;
  /** Step limit (truncation). Default 100. */
  maxSteps?: number;
  /** Skip occlusion (every in-window cell visible). Default false. */
  seeThroughWalls?: boolean;
  /** Odd view size >= 3. Default 7. */
  agentViewSize?: number;
}

/** Raised when rejection sampling gives up (Python's RecursionError in place_obj/connect_all). */
export class RecursionError extends Error {
  /** @param message what failed */
  constructor(message: string) {
    super(message);
    this.name = "RecursionError";
  }
}

/** Raised on misuse of an env (bad action, step after the end, bad seed). */
export class EnvUsageError extends Error {
  /** @param message what was wrong and what to do */
  constructor(message: string) {
    super(message);
    this.name = "EnvUsageError";
  }
}
/** Validate a seed like gymnasium (`int >= 0`), with a clear error. */
export function checkSeed(seed: unknown): number | bigint {
  if (typeof seed === "bigint") {
    if (seed < 0n) throw new EnvUsageError(`seed must be >= 0, got ${seed}`);
    return seed;
  }
  if (
    typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || !Number.isSafeInteger(seed)
  ) {
    throw new EnvUsageError(
      `seed must be a non-negative integer (got ${
        typeof seed === "number" ? seed : typeof seed
      }); ` +
        `pass e.g. reset({ seed: 0 })`,
    );
  }
  return seed;
}

/**
 * The base options of an env on a square grid of side `size`: `maxSteps` defaults to
 * `defaultMaxSteps` (a value the caller set wins). A `gridSize`, `width` or `height` that
 * disagrees with `size` is an error naming `env` (the env's size option sets them).
 */
export function squareGrid<T extends MiniGridOptions>(
  env: string,
  opts: T,
  size: number,
  seeThroughWalls: boolean,
  defaultMaxSteps: number,
): T {
  for (const key of ["gridSize", "width", "height"] as const) {
    const v = opts[key];
    if (v !== undefined && v !== null && v !== size) {
      throw new EnvUsageError(
        `${env}: ${key}=${v} disagrees with size=${size}; set size instead`,
      );
    }
  }
  return {
    ...opts,
    gridSize: null,
    width: size,
    height: size,
    seeThroughWalls,
    maxSteps: opts.maxSteps ?? defaultMaxSteps,
  };
}
