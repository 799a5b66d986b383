/**
 * # lib/env — MiniGrid 3.1.0 in TypeScript, seed-exact with the Python reference
 *
 * Layout mirrors `minigrid/`:
 * - `rng.ts` — numpy `SeedSequence` / `PCG64` / `Generator` (`integers`, `uniform`, `random`,
 *   `shuffle`, `choice`, `choiceRange`), bit-exact. `env.npRandom` is one of these.
 * - `constants.ts` — `OBJECT_TO_IDX`, `COLOR_TO_IDX`, `STATE_TO_IDX`, `COLOR_NAMES` (sorted, the
 *   list random colour draws index), `DIR_TO_VEC`, `Actions` ({left: 0, ..., done: 6}).
 * - `objects.ts` — `WorldObj` (type, color, typeIdx, colorIdx, contains, initPos, curPos,
 *   canOverlap(), canPickup(), canContain(), seeBehind(), toggle(env, x, y), encode()),
 *   `Wall`, `Floor`, `Door(color, isOpen, isLocked)`, `Key`, `Ball`, `Box(color, contains)`,
 *   `Goal`, `Lava`; `makeObj(kind, color)`.
 * - `grid.ts` — `Grid(width, height)`: `get(i, j)`, `set(i, j, v)`, `horzWall`, `vertWall`,
 *   `wallRect`, `slice`, `rotateLeft`, `encode(visMask?)` (numpy layout [W, H, 3], cell (x, y)
 *   at `((x*H)+y)*3`), `processVis(ax, ay)`, `containsKind(color|null, type)`.
 * - `minigrid.ts` — `MiniGridEnv` base class. Python name → TS name is camelCase:
 *   `_gen_grid` → `protected genGrid(width, height)` (abstract), `step` → override
 *   `protected doStep(action)` and call `super.doStep(action)` (the public `step(action)`
 *   validates the action / refuses steps after the end, then calls `doStep`),
 *   `_reward()` → `reward()`, `_rand_int/_rand_float/_rand_bool/_rand_elem/_rand_subset/
 *   _rand_color/_rand_pos` → `randInt/randFloat/randBool/randElem/randSubset/randColor/randPos`,
 *   `place_obj(obj, top, size, reject_fn, max_tries)` → `placeObj(obj, top?, size?, rejectFn?,
 *   maxTries?)` (throws `RecursionError` after max_tries+1 attempts, like Python),
 *   `put_obj` → `putObj`, `place_agent` → `placeAgent(top?, size?, randDir?, maxTries?)`,
 *   `agent_pos` → `agentPos` ([x, y] getter/setter; hot paths use `agentX`/`agentY`),
 *   `agent_dir` → `agentDir`, `front_pos` → `frontPos`, `dir_vec` → `dirVec`,
 *   `gen_obs_grid` → `genObsGrid()` ({grid, visMask}), `in_view` → `inView`,
 *   `agent_sees` → `agentSees`, `np_random` → `npRandom` (or `rng`, which throws before reset),
 *   `max_steps` → `maxSteps` (mutable, e.g. set in a `reset` override), `step_count` →
 *   `stepCount`, `carrying`, `mission`, `grid`, `width`, `height`, `agentViewSize`,
 *   `seeThroughWalls`, `actionSpaceN`.
 *   `reset({seed})` → `{obs, info}`; `step(a)` → `{obs, reward, terminated, truncated, info}`;
 *   `obs = {image: Uint8Array [7*7*3] at ((vx*7)+vy)*3+c, direction, mission}`.
 *   Errors: `EnvUsageError` (bad action/seed/step after end), `RecursionError`.
 * - `roomgrid.ts` — `RoomGrid` (roomSize, numRows, numCols, `roomGrid[j][i]`), `Room` (top, size,
 *   doors, doorPos, neighbors, locked, objs, randPos, posInside), `rejectNextTo`, and
 *   `roomFromPos`, `getRoom`, `placeInRoom`, `addObject(i, j, kind?, color?)`,
 *   `addDoor(i, j, doorIdx?, color?, locked?)`, `removeWall`, `placeAgent(i?, j?, randDir?)`,
 *   `connectAll(doorColors?, maxItrs?)`, `addDistractors(i?, j?, num?, allUnique?)`.
 *   Pass `null` for Python's `None` arguments.
 * - `envs/` — one file per MiniGrid family; `envs/register_all.ts` registers every id.
 * - `registry.ts` — `make(id, kwargs?)` (kwargs camelCase or snake_case, validated; unknown id →
 *   "did you mean"), `listEnvIds()`, `register(id, factory, defaultKwargs, extraKwargs?)`,
 *   `isRegistered(id)`. BabyAI registrations are imported there (one line).
 * - `parity.ts` — fixture comparison (`compareEpisode`, `compareFile`, `runParity`,
 *   `formatReport`, `registerParityExtension` for BabyAI instruction / bot checks); used by
 *   `deno task parity [--fixtures DIR] [--env ID] [--seeds 0,1]` and tests/parity_test.ts.
 *   `tools/fixtures/gen_minigrid.py` writes the fixtures from the Python reference (other ids, seeds, kwargs).
 * - `batch.ts` — `BatchedEnv`: N envs stepping together, observations in one Uint8Array
 *   [N, 7, 7, 3], auto-reset with the next seed.
 * - `render.ts` — `renderSvg(env, {view: "full"|"agent", tileSize, highlight})`, `renderPng`,
 *   `renderRgb` (pixel-identical to MiniGrid's rgb_array), `renderAscii` (MiniGrid's
 *   pprint_grid), and the same from raw encodings: `svgFromEncoding`, `rasterize`,
 *   `asciiFromEncoding`, `encodePng`. `env.worldVisibility()` / `env.viewVisibility()` give
 *   the cells the agent sees.
 *
 * @example
 * ```ts
 * import { make } from "./mod.ts";
 * const env = make("MiniGrid-DoorKey-8x8-v0");
 * const { obs } = env.reset({ seed: 0 });
 * const { reward, terminated, truncated } = env.step(2);
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export * from "./objects.ts";
export * from "./grid.ts";
export * from "./rng.ts";
export * from "./env_api.ts";
export * from "./minigrid.ts";
export * from "./roomgrid.ts";
export * from "./registry.ts";
export * from "./batch.ts";
export * from "./render.ts";
