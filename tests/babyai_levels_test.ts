import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { listEnvIds, make } from "../lib/env/registry.ts";
import { Door } from "../lib/env/objects.ts";
import { botEpisode, type RoomGridLevel } from "../lib/env/babyai/mod.ts";

const TOGGLE = 5;

Deno.test("levels: all 96 BabyAI ids build, reset and step", () => {
  const ids = listEnvIds().filter((i) => i.startsWith("BabyAI-"));
  assertEquals(ids.length, 96);
  for (const id of ids) {
    const env = make(id) as RoomGridLevel;
    for (let seed = 0; seed < 3; seed++) {
      const { obs } = env.reset({ seed });
      assert(env.maxSteps > 0, `${id}: maxSteps ${env.maxSteps}`);
      assert(obs.mission.length > 0 && obs.mission === env.surface, id);
      const r = env.step(1);
      assertEquals(r.obs.image.length, 147);
    }
  }
});

Deno.test("levels: maxSteps = numNavs * roomSize^2 * rows * cols unless fixed", () => {
  const g = make("BabyAI-GoToLocal-v0") as RoomGridLevel;
  g.reset({ seed: 0 });
  assertEquals(g.maxSteps, 64);
  const b = make("BabyAI-BossLevel-v0") as RoomGridLevel;
  for (let seed = 0; seed < 5; seed++) {
    b.reset({ seed });
    assertEquals(b.maxSteps, b.instrs.numNavs() * 8 * 8 * 9);
  }
  const o = make("BabyAI-OpenTwoDoors-v0") as RoomGridLevel;
  o.reset({ seed: 0 });
  assertEquals(o.maxSteps, 20 * 36);
  // kwargs override the level's step limit
  const f = make("BabyAI-GoToLocal-v0", { maxSteps: 7 }) as RoomGridLevel;
  f.reset({ seed: 0 });
  assertEquals(f.maxSteps, 7);
});

Deno.test("levels: success reward is 1 - 0.9 * steps / maxSteps (bit-exact formula)", () => {
  const env = make("BabyAI-GoToRedBall-v0") as RoomGridLevel;
  for (let seed = 0; seed < 5; seed++) {
    const ep = botEpisode(env, seed);
    assert(ep.success);
    const n = ep.actions.length;
    assertEquals(ep.rewards[n - 1], 1 - 0.9 * (n / env.maxSteps));
    assert(ep.rewards.slice(0, -1).every((r) => r === 0));
  }
});

Deno.test("levels: strict verifier fails the episode (reward 0) when the wrong door is opened", () => {
  const env = make("BabyAI-OpenRedBlueDoorsDebug-v0") as RoomGridLevel;
  env.reset({ seed: 0 });
  assertEquals(env.mission, "open the red door, then open the blue door");
  // Put the agent in front of the blue door and toggle it before the red one.
  const room = env.getRoom(1, 1);
  const blue = room.doors.find((d) => d instanceof Door && d.color === "blue") as Door;
  const [bx, by] = blue.curPos!;
  const side = room.doors.indexOf(blue); // 0 right, 2 left
  env.agentX = side === 0 ? bx - 1 : bx + 1;
  env.agentY = by;
  env.agentDir = side === 0 ? 0 : 2;
  const r = env.step(TOGGLE);
  assert(r.terminated);
  assertEquals(r.reward, 0);
});

Deno.test("levels: generation restarts are counted and deterministic per seed", () => {
  const env = make("BabyAI-GoToSeq-v0") as RoomGridLevel;
  env.reset({ seed: 1 });
  assertEquals(env.genRejections, 8); // as recorded in the fixture
  const m = env.mission;
  env.reset({ seed: 1 });
  assertEquals(env.mission, m);
});
