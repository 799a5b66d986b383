/**
 * The env registry: `make(id, kwargs?)`, `listEnvIds()`, `register(id, factory, defaultKwargs)`.
 * Importing this module registers every MiniGrid env (and the BabyAI levels once they exist).
 *
 * @module
 */

import "./envs/register_all.ts";
// BabyAI registrations (helper H2).
import "./babyai/register.ts";

export {
  BASE_KWARGS,
  camelize,
  closestIds,
  type EnvFactory,
  type EnvSpec,
  envSpec,
  isRegistered,
  listEnvIds,
  make,
  register,
} from "./registry_core.ts";
