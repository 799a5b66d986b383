import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import {
  BOT_LOOP_ERROR,
  compareFile,
  fixtureEnvId,
  type FixtureFile,
  FIXTURES_DIR,
  listFixtureFiles,
  loadFixture,
} from "../lib/env/parity.ts";
import { listEnvIds, make } from "../lib/env/registry.ts";
import { BabyAIBot, botEpisode, BotError, type RoomGridLevel } from "../lib/env/babyai/mod.ts";

const DIR = new URL(`${FIXTURES_DIR}/`, "file://");
const BABYAI = listFixtureFiles(DIR).filter((n) => n.startsWith("BabyAI-"));

Deno.test("babyai parity: one fixture file per registered BabyAI id (96)", () => {
  const ids = listEnvIds().filter((id) => id.startsWith("BabyAI-"));
  assertEquals(ids.length, 96);
  assertEquals(BABYAI.map(fixtureEnvId), ids);
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
  const keyInBox = loadFixture(new URL("BabyAI-KeyInBox-v0.json.gz", DIR));
  const e0 = keyInBox.episodes[0];
  assertEquals(e0.bot!.error, "AssertionError: ");

  const f1 = clone(keyInBox);
  f1.episodes = [f1.episodes[0]];
  f1.episodes[0].bot!.error = "AssertionError: something else";
  const r1 = compareFile(f1)[0];
  assert(r1.status === "mismatch" && r1.detail!.includes("bot.error"), r1.detail ?? "");

  const gotoLocal = loadFixture(new URL("BabyAI-GoToLocal-v0.json.gz", DIR));
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
  const file = loadFixture(new URL("BabyAI-GoToLocal-v0.json.gz", DIR));
  const env = make("BabyAI-GoToLocal-v0") as RoomGridLevel;
  for (const ep of file.episodes) {
    const r = botEpisode(env, ep.seed);
    assertEquals(r.actions, ep.bot!.actions);
    assertEquals(r.success, ep.bot!.success);
    assertEquals(r.error, null);
  }
});

Deno.test("babyai parity: where the reference bot hangs (UnlockToUnlock seed 2000) ours stops with BotLoopError after the same actions", () => {
  const file = loadFixture(new URL("BabyAI-UnlockToUnlock-v0.json.gz", DIR));
  const ep = file.episodes.find((e) => e.seed === 2000)!;
  assert(ep !== undefined, "seed 2000 is recorded");
  const bot = ep.bot!;
  assertEquals(bot.hang?.after_steps, 2);
  assertEquals(bot.steps, 2);
  assertEquals(bot.success, false);
  assert(bot.error!.startsWith("BotHang:"), bot.error!);
  // The port: the same two actions, then a bounded BotLoopError.
  const env = make("BabyAI-UnlockToUnlock-v0") as RoomGridLevel;
  const r = botEpisode(env, 2000);
  assertEquals(r.actions, bot.actions);
  assert(r.error !== null && r.error.startsWith(BOT_LOOP_ERROR), String(r.error));
  // The comparison accepts it, and rejects a recording that hangs one step earlier.
  const one = { ...file, episodes: [ep] };
  const [ok] = compareFile(one);
  assert(ok.status === "exact", `${ok.status} ${ok.detail}`);
  const early = clone(one);
  const b = early.episodes[0].bot!;
  b.steps = 1;
  b.hang!.after_steps = 1;
  for (const k of ["actions", "directions", "rewards", "terminated", "truncated", "agent_dir"]) {
    (b as unknown as Record<string, number[]>)[k].length = 1;
  }
  b.images.length = 147;
  b.agent_pos.length = 2;
  b.carrying.length = 1;
  b.grid_diff.length = 1;
  const [bad] = compareFile(early);
  assert(bad.status === "mismatch" && bad.detail!.startsWith("bot.hang"), bad.detail ?? "");
});
