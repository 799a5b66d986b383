import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { EnvUsageError } from "../lib/env/env_api.ts";
import { closestIds, listEnvIds, make, register } from "../lib/env/registry.ts";
import { EmptyEnv } from "../lib/env/envs/empty.ts";

const PY_IDS = [
  "MiniGrid-BlockedUnlockPickup-v0",
  "MiniGrid-LavaCrossingS9N1-v0",
  "MiniGrid-LavaCrossingS9N2-v0",
  "MiniGrid-LavaCrossingS9N3-v0",
  "MiniGrid-LavaCrossingS11N5-v0",
  "MiniGrid-SimpleCrossingS9N1-v0",
  "MiniGrid-SimpleCrossingS9N2-v0",
  "MiniGrid-SimpleCrossingS9N3-v0",
  "MiniGrid-SimpleCrossingS11N5-v0",
  "MiniGrid-DistShift1-v0",
  "MiniGrid-DistShift2-v0",
  "MiniGrid-DoorKey-5x5-v0",
  "MiniGrid-DoorKey-6x6-v0",
  "MiniGrid-DoorKey-8x8-v0",
  "MiniGrid-DoorKey-16x16-v0",
  "MiniGrid-Dynamic-Obstacles-5x5-v0",
  "MiniGrid-Dynamic-Obstacles-Random-5x5-v0",
  "MiniGrid-Dynamic-Obstacles-6x6-v0",
  "MiniGrid-Dynamic-Obstacles-Random-6x6-v0",
  "MiniGrid-Dynamic-Obstacles-8x8-v0",
  "MiniGrid-Dynamic-Obstacles-16x16-v0",
  "MiniGrid-Empty-5x5-v0",
  "MiniGrid-Empty-Random-5x5-v0",
  "MiniGrid-Empty-6x6-v0",
  "MiniGrid-Empty-Random-6x6-v0",
  "MiniGrid-Empty-8x8-v0",
  "MiniGrid-Empty-16x16-v0",
  "MiniGrid-Fetch-5x5-N2-v0",
  "MiniGrid-Fetch-6x6-N2-v0",
  "MiniGrid-Fetch-8x8-N3-v0",
  "MiniGrid-FourRooms-v0",
  "MiniGrid-GoToDoor-5x5-v0",
  "MiniGrid-GoToDoor-6x6-v0",
  "MiniGrid-GoToDoor-8x8-v0",
  "MiniGrid-GoToObject-6x6-N2-v0",
  "MiniGrid-GoToObject-8x8-N2-v0",
  "MiniGrid-KeyCorridorS3R1-v0",
  "MiniGrid-KeyCorridorS3R2-v0",
  "MiniGrid-KeyCorridorS3R3-v0",
  "MiniGrid-KeyCorridorS4R3-v0",
  "MiniGrid-KeyCorridorS5R3-v0",
  "MiniGrid-KeyCorridorS6R3-v0",
  "MiniGrid-LavaGapS5-v0",
  "MiniGrid-LavaGapS6-v0",
  "MiniGrid-LavaGapS7-v0",
  "MiniGrid-LockedRoom-v0",
  "MiniGrid-MemoryS17Random-v0",
  "MiniGrid-MemoryS13Random-v0",
  "MiniGrid-MemoryS13-v0",
  "MiniGrid-MemoryS11-v0",
  "MiniGrid-MemoryS9-v0",
  "MiniGrid-MemoryS7-v0",
  "MiniGrid-MultiRoom-N2-S4-v0",
  "MiniGrid-MultiRoom-N4-S5-v0",
  "MiniGrid-MultiRoom-N4-S5-v1",
  "MiniGrid-MultiRoom-N6-v0",
  "MiniGrid-ObstructedMaze-1Dl-v0",
  "MiniGrid-ObstructedMaze-1Dlh-v0",
  "MiniGrid-ObstructedMaze-1Dlhb-v0",
  "MiniGrid-ObstructedMaze-2Dl-v0",
  "MiniGrid-ObstructedMaze-2Dlh-v0",
  "MiniGrid-ObstructedMaze-2Dlhb-v0",
  "MiniGrid-ObstructedMaze-1Q-v0",
  "MiniGrid-ObstructedMaze-2Q-v0",
  "MiniGrid-ObstructedMaze-Full-v0",
  "MiniGrid-ObstructedMaze-2Dlhb-v1",
  "MiniGrid-ObstructedMaze-1Q-v1",
  "MiniGrid-ObstructedMaze-2Q-v1",
  "MiniGrid-ObstructedMaze-Full-v1",
  "MiniGrid-Playground-v0",
  "MiniGrid-PutNear-6x6-N2-v0",
  "MiniGrid-PutNear-8x8-N3-v0",
  "MiniGrid-RedBlueDoors-6x6-v0",
  "MiniGrid-RedBlueDoors-8x8-v0",
  "MiniGrid-Unlock-v0",
  "MiniGrid-UnlockPickup-v0",
  "MiniGrid-WFC-MazeSimple-v0",
  "MiniGrid-WFC-DungeonMazeScaled-v0",
  "MiniGrid-WFC-RoomsFabric-v0",
  "MiniGrid-WFC-ObstaclesBlackdots-v0",
  "MiniGrid-WFC-ObstaclesAngular-v0",
  "MiniGrid-WFC-ObstaclesHogs3-v0",
];

Deno.test("every MiniGrid 3.1.0 id is registered and resets/steps", () => {
  const ids = new Set(listEnvIds());
  for (const id of PY_IDS) {
    ok(ids.has(id), `${id} not registered`);
    const env = make(id);
    const { obs } = env.reset({ seed: 7 });
    strictEqual(obs.image.length, 147, id);
    ok(obs.mission.length > 0 || id === "MiniGrid-Playground-v0", `${id}: empty mission`);
    for (let k = 0; k < 20 && !env.ended; k++) env.step(k % env.actionSpaceN);
  }
});

Deno.test("unknown id: error names the closest ids", () => {
  throws(() => make("MiniGrid-DoorKey-8x9-v0"), (e: Error) => {
    ok(e instanceof EnvUsageError);
    ok(e.message.includes('unknown env id "MiniGrid-DoorKey-8x9-v0"'), e.message);
    ok(e.message.includes("MiniGrid-DoorKey-8x8-v0"), e.message);
    return true;
  });
  deepStrictEqual(closestIds("minigrid-fourrooms-v0", 1), ["MiniGrid-FourRooms-v0"]);
});

Deno.test("bad kwargs: unknown name, wrong type, bad value", () => {
  throws(
    () => make("MiniGrid-DoorKey-8x8-v0", { sise: 8 }),
    /unknown kwarg "sise".*Accepted kwargs: .*size/,
  );
  throws(() => make("MiniGrid-DoorKey-8x8-v0", { size: "8" }), /kwarg "size" must be a number/);
  throws(
    () => make("MiniGrid-DoorKey-8x8-v0", { max_steps: -3 }),
    /max_steps" must be a positive integer/,
  );
  throws(() => make("MiniGrid-Empty-5x5-v0", { agent_view_size: 4 }), /odd integer >= 3/);
  // snake_case and camelCase are both accepted
  strictEqual(make("MiniGrid-DoorKey-8x8-v0", { max_steps: 17 }).maxSteps, 17);
  strictEqual(make("MiniGrid-DoorKey-8x8-v0", { maxSteps: 18 }).maxSteps, 18);
  strictEqual(make("MiniGrid-DoorKey-5x5-v0").maxSteps, 250);
});

Deno.test("register: custom id, duplicate id refused", () => {
  register("Test-Empty-7-v0", (k) => new EmptyEnv(k), { size: 7 });
  strictEqual(make("Test-Empty-7-v0").width, 7);
  throws(() => register("Test-Empty-7-v0", (k) => new EmptyEnv(k), {}), /already registered/);
});

Deno.test("bad actions, step after end, bad seeds", () => {
  const env = make("MiniGrid-Empty-5x5-v0");
  throws(() => env.step(0), /before reset/);
  env.reset({ seed: 0 });
  throws(() => env.step(7), /action 7 outside the action space Discrete\(7\)/);
  throws(() => env.step(-1), /outside the action space/);
  throws(() => env.step(1.5), /outside the action space/);
  throws(() => env.step(NaN), /outside the action space/);
  const dyn = make("MiniGrid-Dynamic-Obstacles-5x5-v0");
  dyn.reset({ seed: 0 });
  throws(() => dyn.step(3), /Discrete\(3\)/);
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 60]) {
    throws(() => env.reset({ seed: bad }), EnvUsageError, `seed ${bad}`);
  }
  env.reset({ seed: 2n ** 70n }); // bigints of any size are fine, as in Python
  // Empty-5x5: right, forward... reach the goal at (3, 3) from (1, 1) facing right
  env.reset({ seed: 0 });
  for (const a of [2, 2, 1, 2]) env.step(a);
  const r = env.step(2);
  strictEqual(r.terminated, true);
  strictEqual(r.reward, 1 - 0.9 * (5 / 100));
  throws(() => env.step(0), /after the episode ended/);
  env.reset({ seed: 1 });
  env.step(0); // fine again after reset
});

Deno.test("truncation at maxSteps, then step refused", () => {
  const env = make("MiniGrid-Empty-5x5-v0", { max_steps: 3 });
  env.reset({ seed: 0 });
  strictEqual(env.step(0).truncated, false);
  strictEqual(env.step(0).truncated, false);
  strictEqual(env.step(0).truncated, true);
  throws(() => env.step(0), /after the episode ended/);
});

Deno.test("reset without a seed continues the RNG stream (gymnasium semantics)", () => {
  const a = make("MiniGrid-DoorKey-8x8-v0"), b = make("MiniGrid-DoorKey-8x8-v0");
  a.reset({ seed: 3 });
  a.reset();
  b.reset({ seed: 3 });
  b.reset({});
  deepStrictEqual(a.encodeGrid(), b.encodeGrid());
  deepStrictEqual(a.rng.getState(), b.rng.getState());
});

Deno.test("a square env refuses a width that disagrees with its size, keeps maxSteps the user set", () => {
  throws(
    () => new EmptyEnv({ size: 8, width: 6 }),
    (e: unknown) =>
      e instanceof EnvUsageError &&
      /^EmptyEnv: width=6 disagrees with size=8; set size instead$/.test(e.message),
  );
  strictEqual(new EmptyEnv({ size: 8, width: 8 }).width, 8);
  strictEqual(new EmptyEnv({ size: 6 }).maxSteps, 4 * 6 * 6);
  strictEqual(new EmptyEnv({ size: 6, maxSteps: 17 }).maxSteps, 17);
});
