/**
 * Env registry machinery (no env imports, so env modules can register themselves without import
 * cycles). Use `registry.ts` (or `mod.ts`), which also loads every registration.
 *
 * @module
 */

import { EnvUsageError } from "./env_api.ts";
import { type MiniGridEnv } from "./minigrid.ts";
import { editDistance } from "../util/text.ts";

/** Builds an env from fully merged camelCase kwargs. */
export type EnvFactory = (kwargs: Record<string, unknown>) => MiniGridEnv;

/** A registered env id. */
export interface EnvSpec {
  /** The id, e.g. "MiniGrid-DoorKey-8x8-v0". */
  id: string;
  /** Constructor taking merged kwargs. */
  factory: EnvFactory;
  /** Default kwargs of this id (camelCase). */
  defaultKwargs: Record<string, unknown>;
  /** Every kwarg name accepted (camelCase). */
  allowedKwargs: readonly string[];
}

/** Kwargs every MiniGrid env accepts (passed to the base class). */
export const BASE_KWARGS: readonly string[] = ["maxSteps", "agentViewSize"];

const specs = new Map<string, EnvSpec>();

/** snake_case → camelCase ("max_steps" → "maxSteps"); camelCase passes through. */
export function camelize(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Register an env id. `defaultKwargs` are the id's kwargs (camelCase or snake_case);
 * `extraKwargs` lists further accepted kwarg names beyond those and BASE_KWARGS.
 * Re-registering an id throws unless `override` is true.
 */
export function register(
  id: string,
  factory: EnvFactory,
  defaultKwargs: Record<string, unknown> = {},
  extraKwargs: readonly string[] = [],
  override = false,
): void {
  if (specs.has(id) && !override) throw new Error(`register: env id "${id}" is already registered`);
  const defaults: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(defaultKwargs)) defaults[camelize(k)] = v;
  const allowed = new Set([...Object.keys(defaults), ...BASE_KWARGS, ...extraKwargs.map(camelize)]);
  specs.set(id, { id, factory, defaultKwargs: defaults, allowedKwargs: [...allowed].sort() });
}

/** Whether an id is registered. */
export function isRegistered(id: string): boolean {
  return specs.has(id);
}

/** The spec of an id (throws like make on unknown ids). */
export function envSpec(id: string): EnvSpec {
  const s = specs.get(id);
  if (s === undefined) throw new EnvUsageError(unknownIdMessage(id));
  return s;
}

/** All registered ids, sorted. */
export function listEnvIds(): string[] {
  return [...specs.keys()].sort();
}

/** The closest registered ids to a string. */
export function closestIds(id: string, n = 3): string[] {
  return [...specs.keys()]
    .map((k) => [k, editDistance(id.toLowerCase(), k.toLowerCase())] as const)
    .sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, n)
    .map((x) => x[0]);
}

function unknownIdMessage(id: string): string {
  const close = closestIds(id);
  return `unknown env id "${id}". Did you mean: ${close.join(", ")}? ` +
    `(listEnvIds() lists all ${specs.size} registered ids)`;
}

/**
 * Create an env by id with optional kwargs overrides (camelCase or Python snake_case names).
 * Throws EnvUsageError for an unknown id (with the closest ids), an unknown kwarg (with the
 * accepted ones) or a kwarg whose type differs from its default's.
 */
export function make(id: string, kwargs: Record<string, unknown> = {}): MiniGridEnv {
  const spec = envSpec(id);
  const merged: Record<string, unknown> = { ...spec.defaultKwargs };
  for (const [k0, v] of Object.entries(kwargs)) {
    const k = camelize(k0);
    if (!spec.allowedKwargs.includes(k)) {
      throw new EnvUsageError(
        `make("${id}"): unknown kwarg "${k0}". Accepted kwargs: ${spec.allowedKwargs.join(", ")}`,
      );
    }
    const d = spec.defaultKwargs[k];
    if (d !== undefined && d !== null && v !== null && v !== undefined) {
      const want = Array.isArray(d) ? "array" : typeof d;
      const got = Array.isArray(v) ? "array" : typeof v;
      if (want !== got) {
        throw new EnvUsageError(
          `make("${id}"): kwarg "${k0}" must be a ${want} (default ${JSON.stringify(d)}), got ${
            JSON.stringify(v)
          }`,
        );
      }
    }
    if (
      (k === "maxSteps" || k === "agentViewSize") && v != null &&
      (!Number.isInteger(v) || (v as number) <= 0)
    ) {
      throw new EnvUsageError(
        `make("${id}"): kwarg "${k0}" must be a positive integer, got ${JSON.stringify(v)}`,
      );
    }
    merged[k] = v;
  }
  let env: MiniGridEnv;
  try {
    env = spec.factory(merged);
  } catch (e) {
    if (e instanceof EnvUsageError) {
      throw new EnvUsageError(`make("${id}", ${JSON.stringify(kwargs)}): ${e.message}`);
    }
    throw e;
  }
  env.envId = id;
  return env;
}
