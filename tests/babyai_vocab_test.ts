import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";

function assertThrows(fn: () => unknown, cls: new (...a: never[]) => Error): Error {
  try {
    fn();
  } catch (e) {
    assert(e instanceof cls, `expected ${cls.name}, got ${e}`);
    return e as Error;
  }
  throw new Error("expected an exception");
}
import {
  decodeMission,
  encodeMission,
  encodeMissionInto,
  MISSION_VOCAB,
  MissionTokenError,
  tokenizeMission,
} from "../lib/env/babyai/vocab.ts";

import { FIXTURES_DIR, listFixtureFiles, loadFixture } from "../lib/env/parity.ts";

function fixtureMissions(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const name of listFixtureFiles(FIXTURES_DIR)) {
    const d = loadFixture(`${FIXTURES_DIR}/${name}`);
    out.set(d.env_id, d.episodes.map((ep) => ep.reset.mission));
  }
  return out;
}

Deno.test("vocab: pad is 0, words unique", () => {
  assertEquals(MISSION_VOCAB[0], "<pad>");
  assertEquals(new Set(MISSION_VOCAB).size, MISSION_VOCAB.length);
});

Deno.test("vocab: round trip of every fixture mission", () => {
  const all = fixtureMissions();
  assert(all.size >= 178, `${all.size} fixture ids (every registered id and the WFC ids)`);
  let n = 0, want = 0;
  for (const missions of all.values()) want += missions.length;
  for (const [envId, missions] of all) {
    for (const m of missions) {
      const ids = encodeMission(m);
      assert(ids.every((x) => x >= 1), `${envId}: ids >= 1`);
      assertEquals(decodeMission(ids), m, envId);
      n++;
    }
  }
  assertEquals(n, want);
  assert(n >= 178 * 2, `${n} missions`);
});

Deno.test("vocab: comma is its own token", () => {
  const m = "open the grey door, then open the blue door";
  assertEquals(tokenizeMission(m), [
    "open",
    "the",
    "grey",
    "door",
    ",",
    "then",
    "open",
    "the",
    "blue",
    "door",
  ]);
  assertEquals(encodeMission(m).length, 10);
  assertEquals(decodeMission(encodeMission(m)), m);
});

Deno.test("vocab: every template word of the grammar and MiniGrid missions is known", () => {
  const colors = ["red", "green", "blue", "purple", "yellow", "grey"];
  const samples = [
    "go to the object in front of you",
    "pick up a key behind you",
    "put the box on your left next to a door on your right",
    "get a red ball",
    "go get a red ball",
    "fetch a red ball",
    "go fetch a red ball",
    "you must fetch a red ball",
    "use the key to open the door and then get to the goal",
    "reach the goal",
    "traverse the rooms to get to the goal",
    "traverse the maze to get to the goal",
    "go to the matching object at the end of the hallway",
    "put the red ball near the blue key",
    "open the red door then the blue door",
    "avoid the lava and get to the green goal square",
    "find the opening and get to the green goal square",
    "get the blue key from the red room, unlock the blue door and go to the goal",
    "open the door after you pick up the key",
    ...colors.map((c) => `go to the ${c} door`),
  ];
  for (const m of samples) assertEquals(decodeMission(encodeMission(m)), m);
  assertEquals(encodeMission("").length, 0);
});

Deno.test("vocab: errors name the word, the mission and lengths", () => {
  const e1 = assertThrows(() => encodeMission("go to the pink ball"), MissionTokenError);
  assert(String(e1).includes('"pink"') && String(e1).includes("go to the pink ball"));
  const e2 = assertThrows(() => encodeMission("go to the red ball", 3), MissionTokenError);
  assert(String(e2).includes("5 tokens") && String(e2).includes("maxLen=3"));
  assertThrows(() => encodeMission("go  to"), MissionTokenError);
  assertThrows(() => decodeMission([999]), MissionTokenError);
  const row = encodeMissionInto("go to the red ball", new Int32Array(8));
  assertEquals(Array.from(row.slice(5)), [0, 0, 0]);
  assertEquals(decodeMission(row), "go to the red ball");
});

Deno.test("vocab: the longest possible BabyAI mission fits MAX_MISSION_TOKENS", async () => {
  const { MAX_MISSION_TOKENS } = await import("../lib/env/babyai/vocab.ts");
  const pn = "put the red ball in front of you next to the red ball in front of you";
  const and = `${pn} and ${pn}`;
  assertEquals(encodeMission(`${and}, then ${and}`).length, MAX_MISSION_TOKENS);
  assertEquals(encodeMission(`${and} after you ${and}`).length, MAX_MISSION_TOKENS);
});

Deno.test("vocab: missions of every registered env id (20 seeds each) encode within MAX_MISSION_TOKENS", async () => {
  const { listEnvIds, make } = await import("../lib/env/registry.ts");
  const { MAX_MISSION_TOKENS } = await import("../lib/env/babyai/vocab.ts");
  const ids = listEnvIds();
  assert(ids.filter((i) => i.startsWith("BabyAI-")).length === 96, "96 BabyAI ids registered");
  let n = 0, longest = 0;
  for (const id of ids) {
    const env = make(id);
    for (let seed = 0; seed < 20; seed++) {
      const { obs } = env.reset({ seed });
      const ids = encodeMission(obs.mission, MAX_MISSION_TOKENS);
      assertEquals(decodeMission(ids), obs.mission);
      longest = Math.max(longest, ids.length);
      n++;
    }
  }
  assert(n >= 96 * 20 && longest > 20, `checked ${n} missions, longest ${longest} tokens`);
});
