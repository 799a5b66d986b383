import assert from "node:assert/strict";
import {
  ACTION_STRINGS,
  actionString,
  describeView,
  historyPrompt,
  missionLine,
  NOTHING_SEEN,
  observationSentences,
  observationText,
  observationTokens,
  parseAction,
  TextEpisode,
} from "../lib/data/text.ts";
import { make } from "../lib/env/registry.ts";
import { Actions } from "../lib/env/constants.ts";
import { hexBytes, loadTextFixture } from "./support/text_fixture.ts";

const FIXTURE = loadTextFixture();

Deno.test("text: the fixture covers carrying, every door state, walls, goals and lava", () => {
  const all = FIXTURE.flatMap((e) => e.descriptions.flat());
  for (
    const re of [
      /^You carry a \w+ (key|ball|box)$/,
      /^You see a open \w+ door /,
      /^You see a closed \w+ door /,
      /^You see a locked \w+ door /,
      /^You see a wall 1 step forward$/,
      /^You see a wall [2-6] steps (left|right)$/,
      /^You see a \w+ \w+ 1 step (left|right) and [2-6] steps forward$/,
      /^You see a green goal /,
      /^You see a red lava /,
    ]
  ) assert.ok(all.some((s) => re.test(s)), `no fixture sentence matches ${re}`);
  assert.ok(FIXTURE.length >= 20);
});

Deno.test("text: describeView of every fixture frame equals the reference sentences", () => {
  let frames = 0;
  for (const e of FIXTURE) {
    assert.equal(e.images.length, e.actions.length + 1);
    for (const [f, hex] of e.images.entries()) {
      assert.deepEqual(
        describeView(hexBytes(hex)),
        e.descriptions[f],
        `${e.env_id} seed ${e.seed} frame ${f}`,
      );
      frames++;
    }
  }
  assert.ok(frames > 500, `only ${frames} frames`);
});

Deno.test("text: the TS env replays every fixture episode to the same views and sentences", () => {
  for (const e of FIXTURE) {
    const env = make(e.env_id);
    let obs = env.reset({ seed: e.seed }).obs;
    assert.equal(obs.mission, e.mission, `${e.env_id} seed ${e.seed} mission`);
    for (let f = 0; f <= e.actions.length; f++) {
      const where = `${e.env_id} seed ${e.seed} frame ${f}`;
      assert.deepEqual(obs.image, hexBytes(e.images[f]), `${where} image`);
      assert.equal(obs.direction, e.directions[f], `${where} direction`);
      assert.deepEqual(describeView(obs.image), e.descriptions[f], `${where} sentences`);
      if (f < e.actions.length) obs = env.step(e.actions[f]).obs;
    }
  }
});

Deno.test("text: describeView reads an offset into a frame block and names bad ids", () => {
  const block = new Uint8Array(147 * 3);
  const one = hexBytes(FIXTURE[0].images[1]);
  block.set(one, 147 * 2);
  assert.deepEqual(describeView(block, 147 * 2), FIXTURE[0].descriptions[1]);
  assert.throws(() => describeView(block, 147 * 3 - 10), /need 147 values/);
  const bad = one.slice();
  bad[(0 * 7 + 0) * 3] = 6; // a ball ...
  bad[(0 * 7 + 0) * 3 + 1] = 9; // ... of colour 9
  assert.throws(() => describeView(bad), /cell \(vx 0, vy 0\): colour id 9 is not 0\.\.5/);
  const door = one.slice();
  door.set([4, 0, 3], (1 * 7 + 0) * 3);
  assert.throws(() => describeView(door), /door state 3 is not 0\.\.2/);
});

Deno.test("text: hand-made views follow each rule", () => {
  const view = new Uint8Array(147); // all unseen
  const put = (vx: number, vy: number, t: number, c = 0, s = 0) =>
    view.set([t, c, s], (vx * 7 + vy) * 3);
  assert.deepEqual(describeView(view), []);
  assert.equal(observationText(describeView(view)), NOTHING_SEEN);
  put(3, 6, 1); // the agent's cell, empty
  put(3, 5, 1);
  put(3, 4, 2, 5); // wall 2 forward behind an empty cell
  put(2, 6, 0); // unseen is skipped ...
  put(1, 6, 2, 5); // ... wall 2 left
  put(4, 6, 5, 4); // yellow key 1 right: blocks the right scan
  put(6, 6, 2, 5);
  put(0, 0, 4, 2, 0); // open blue door 3 left, 6 forward
  put(3, 1, 4, 0, 2); // locked red door 5 forward (beyond the wall, still listed)
  assert.deepEqual(describeView(view), [
    "You see a wall 2 steps forward",
    "You see a wall 2 steps left",
    "You see a open blue door 3 steps left and 6 steps forward",
    "You see a locked red door 5 steps forward",
    "You see a yellow key 1 step right",
  ]);
  put(3, 6, 7, 3); // carrying a purple box
  assert.equal(describeView(view)[0], "You carry a purple box");
  assert.equal(describeView(view).length, 6);
  const line = observationText(describeView(view));
  assert.deepEqual(observationSentences(line), describeView(view));
  assert.deepEqual(observationSentences(NOTHING_SEEN), []);
});

Deno.test("text: action strings round trip; parseAction lists the valid strings", () => {
  assert.deepEqual(ACTION_STRINGS.slice(0, 6), [
    "turn left",
    "turn right",
    "go forward",
    "pick up",
    "drop",
    "toggle",
  ]);
  for (let a = 0; a < 7; a++) assert.equal(parseAction(actionString(a)), a);
  assert.equal(parseAction(" go forward\n"), Actions.forward);
  for (const bad of ["Go forward", "forward", "go  forward", "", "turn left."]) {
    assert.throws(
      () => parseAction(bad),
      (e: Error) =>
        e.message.startsWith(`not an action string: ${JSON.stringify(bad)}`) &&
        ACTION_STRINGS.every((s) => e.message.includes(`"${s}"`)),
      bad,
    );
  }
  assert.throws(() => parseAction("x".repeat(100)), /"x{60}"\.\.\./);
  assert.throws(() => actionString(7), /action id 7 has no action string/);
  assert.throws(() => actionString(1.5), /action id 1.5/);
  assert.equal(missionLine("go to the red ball"), "Goal of the agent: go to the red ball");
});

Deno.test("text: observationTokens writes the 49 cells then the direction", () => {
  const img = hexBytes(FIXTURE[0].images[0]);
  const toks = observationTokens(img, 0, 2).split(" ");
  assert.equal(toks.length, 148);
  assert.equal(toks[0], `o${img[0]}`);
  assert.equal(toks[146], `s${img[146]}`);
  assert.equal(toks[147], "d2");
});

Deno.test("text: TextEpisode plays fixture episodes closed loop with the export's prompts", () => {
  for (const e of FIXTURE.filter((x) => x.policy === "bot")) {
    const env = make(e.env_id);
    let obs = env.reset({ seed: e.seed }).obs;
    const ep = new TextEpisode(obs.mission);
    assert.throws(() => ep.act("go forward"), /observe the first \(or next\) view/);
    ep.observe(obs.image);
    assert.throws(() => ep.observe(obs.image), /act on the last observation first/);
    const texts = e.descriptions.map(observationText);
    const acts = e.actions.map((a) => ACTION_STRINGS[a]);
    for (let t = 0; t < e.actions.length; t++) {
      const want = [missionLine(e.mission)];
      for (let j = 0; j <= t; j++) want.push(texts[j], ...(j < t ? [acts[j]] : []));
      assert.equal(ep.prompt(), want.join("\n"), `${e.env_id} seed ${e.seed} step ${t}`);
      assert.equal(ep.prompt(), historyPrompt(ep.task, texts.slice(0, t + 1), acts.slice(0, t)));
      const a = ep.act(` ${acts[t]}\n`); // an LM's answer with stray whitespace
      assert.equal(a, e.actions[t]);
      const r = env.step(a);
      obs = r.obs;
      ep.observe(obs.image);
      if (t === e.actions.length - 1) assert.equal(r.terminated && r.reward > 0, e.success);
    }
    assert.deepEqual(ep.observations, texts);
    assert.throws(() => ep.act("jump"), /not an action string: "jump"/);
  }
  assert.throws(() => historyPrompt("x", ["a"], ["b"]), /1 observations for 1 actions/);
});

const PY = Deno.env.get("MINIGRID_PYTHON");
Deno.test({
  name: "text: the generator reproduces the committed fixture (opt-in: MINIGRID_PYTHON)",
  ignore: !PY,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "babyai_text_gen_" });
    try {
      const script = new URL("../tools/fixtures/gen_babyai_text.py", import.meta.url).pathname;
      const r = await new Deno.Command("sh", {
        args: ["-c", `${PY} ${script} --out ${dir}`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      const fresh = JSON.parse(await Deno.readTextFile(`${dir}/episodes.json`)).episodes;
      assert.deepEqual(fresh, FIXTURE);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
