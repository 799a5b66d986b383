/**
 * Every MiniGrid (non-BabyAI) fixture episode through the same comparison code as
 * `deno task parity`; BabyAI files are checked once their levels are registered.
 */
import { strictEqual } from "node:assert";
import { compareFile, listFixtureFiles, loadFixture } from "../lib/env/parity.ts";
import { isRegistered } from "../lib/env/registry.ts";

const DIR = new URL("../../shared/fixtures/minigrid", import.meta.url).pathname;

for (const name of listFixtureFiles(DIR)) {
  const envId = name.replace(/\.json$/, "");
  const babyai = envId.startsWith("BabyAI-");
  Deno.test({
    name: `parity ${envId}`,
    ignore: babyai && !isRegistered(envId),
    fn() {
      const results = compareFile(loadFixture(`${DIR}/${name}`));
      strictEqual(results.length, 5, `${envId}: expected 5 episodes`);
      for (const r of results) {
        strictEqual(r.status, "exact", `${envId} seed ${r.seed}: ${r.status}: ${r.detail}`);
      }
    },
  });
}

Deno.test("parity reports the first differing field of a corrupted episode", () => {
  const file = loadFixture(`${DIR}/MiniGrid-DoorKey-8x8-v0.json`);
  const ep = structuredClone(file.episodes[1]);
  ep.random.images[5 * 147 + 40] ^= 1;
  ep.random.rewards[7] = 1e-9;
  const bad = { ...file, episodes: [ep] };
  const [r] = compareFile(bad);
  strictEqual(r.status, "mismatch");
  strictEqual(
    r.detail,
    `random[step 5, action ${ep.random.actions[5]}].image[40]: got ${
      ep.random.images[5 * 147 + 40] ^ 1
    }, want ${ep.random.images[5 * 147 + 40]}`,
  );
  const ep2 = structuredClone(file.episodes[0]);
  ep2.reset.rng_after_reset.uinteger += 1;
  const [r2] = compareFile({ ...file, episodes: [ep2] });
  strictEqual(r2.status, "mismatch");
  strictEqual(r2.detail!.startsWith("reset.rng_after_reset.uinteger"), true, r2.detail!);
  const [r3] = compareFile({
    ...file,
    env_id: "MiniGrid-NoSuchEnv-v0",
    episodes: [file.episodes[0]],
  });
  strictEqual(r3.status, "unsupported");
});

Deno.test("deno task parity: exit 1 and the first difference on a mismatching fixtures dir", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = loadFixture(`${DIR}/MiniGrid-Unlock-v0.json`);
    file.episodes = file.episodes.slice(0, 2);
    file.episodes[1].reset.mission = "open the window";
    await Deno.writeTextFile(`${dir}/MiniGrid-Unlock-v0.json`, JSON.stringify(file));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../cli/parity.ts", import.meta.url).pathname, "--fixtures", dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    strictEqual(out.code, 1, text);
    strictEqual(text.trim().split("\n").pop(), "parity: 1/2 episodes exact");
    strictEqual(
      text.includes(
        'seed 1 (mismatch): reset.mission: got "open the door", want "open the window"',
      ),
      true,
      text,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
