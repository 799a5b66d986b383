import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { compareFile, type FixtureFile, listFixtureFiles, loadFixture } from "../lib/env/parity.ts";
import { make } from "../lib/env/registry.ts";
import { BabyAIBot, botEpisode, BotError, type RoomGridLevel } from "../lib/env/babyai/mod.ts";

const DIR = new URL("../../shared/fixtures/minigrid/", import.meta.url);
const BABYAI = listFixtureFiles(DIR).filter((n) => n.startsWith("BabyAI-"));

Deno.test("babyai parity: 21 BabyAI fixture files are present", () => {
  assertEquals(BABYAI.length, 21);
});

for (const name of BABYAI) {
  Deno.test(`babyai parity: ${name} (reset, instr, random, bot actions, RNG) exact`, () => {
    const file = loadFixture(new URL(name, DIR));
    const res = compareFile(file);
    assertEquals(res.length, file.episodes.length);
    for (const r of res) {
      assert(r.status === "exact", `${r.envId} seed ${r.seed}: ${r.status} ${r.detail}`);
      for (const part of ["reset", "babyai.reset", "random", "bot", "bot-policy"]) {
        assert(r.checked.includes(part), `${r.envId} seed ${r.seed}: ${part} not checked`);
      }
    }
  });
}

function clone(f: FixtureFile): FixtureFile {
  return structuredClone(f);
}

Deno.test("babyai parity: the comparison catches a wrong bot action, error text and instr", () => {
  const keyInBox = loadFixture(new URL("BabyAI-KeyInBox-v0.json", DIR));
  const e0 = keyInBox.episodes[0];
  assertEquals(e0.bot!.error, "AssertionError: ");

  const f1 = clone(keyInBox);
  f1.episodes = [f1.episodes[0]];
  f1.episodes[0].bot!.error = "AssertionError: something else";
  const r1 = compareFile(f1)[0];
  assert(r1.status === "mismatch" && r1.detail!.includes("bot.error"), r1.detail ?? "");

  const gotoLocal = loadFixture(new URL("BabyAI-GoToLocal-v0.json", DIR));
  const f2 = clone(gotoLocal);
  f2.episodes = [f2.episodes[0]];
  const tr = f2.episodes[0].bot!;
  tr.actions[0] = (tr.actions[0] + 1) % 3;
  const r2 = compareFile(f2)[0];
  assert(r2.status === "mismatch" && r2.detail!.includes("bot_action"), r2.detail ?? "");

  const f3 = clone(gotoLocal);
  f3.episodes = [f3.episodes[0]];
  (f3.episodes[0].reset.instr as { desc: { color: string } }).desc.color = "nope";
  const r3 = compareFile(f3)[0];
  assert(r3.status === "mismatch" && r3.detail!.includes("instr.desc.color"), r3.detail ?? "");
});

Deno.test("babyai: KeyInBox bot fails with a BotError like the reference", () => {
  const env = make("BabyAI-KeyInBox-v0") as RoomGridLevel;
  env.reset({ seed: 1 });
  const bot = new BabyAIBot(env);
  let err: unknown = null;
  try {
    bot.replan(null);
  } catch (e) {
    err = e;
  }
  assert(err instanceof BotError, `expected BotError, got ${err}`);
  assertEquals((err as BotError).pythonText, "AssertionError: ");
  const ep = botEpisode(env, 1);
  assertEquals(ep.error, "AssertionError: ");
  assertEquals(ep.success, false);
});

Deno.test("babyai: botEpisode solves GoToLocal seeds and matches the fixture actions", () => {
  const file = loadFixture(new URL("BabyAI-GoToLocal-v0.json", DIR));
  const env = make("BabyAI-GoToLocal-v0") as RoomGridLevel;
  for (const ep of file.episodes) {
    const r = botEpisode(env, ep.seed);
    assertEquals(r.actions, ep.bot!.actions);
    assertEquals(r.success, ep.bot!.success);
    assertEquals(r.error, null);
  }
});
