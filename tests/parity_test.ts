/**
 * Every MiniGrid (non-BabyAI) fixture file of the in-repo golden set through the same comparison
 * code as `deno task parity` (the BabyAI files are in babyai_parity_test.ts), the coverage of the
 * registry by the fixture set, and the reports of a corrupted fixture.
 */
import { deepStrictEqual, strictEqual } from "node:assert";
import {
  compareFile,
  fixtureCoverage,
  fixtureEnvId,
  FIXTURES_DIR,
  listFixtureFiles,
  loadFixture,
} from "../lib/env/parity.ts";
import { isRegistered, listEnvIds } from "../lib/env/registry.ts";

const DIR = FIXTURES_DIR;
const WFC_IDS = [
  "MiniGrid-WFC-DungeonMazeScaled-v0",
  "MiniGrid-WFC-MazeSimple-v0",
  "MiniGrid-WFC-ObstaclesAngular-v0",
  "MiniGrid-WFC-ObstaclesBlackdots-v0",
  "MiniGrid-WFC-ObstaclesHogs3-v0",
  "MiniGrid-WFC-RoomsFabric-v0",
];

for (const name of listFixtureFiles(DIR)) {
  const envId = fixtureEnvId(name);
  if (envId.startsWith("BabyAI-")) continue;
  const registered = isRegistered(envId);
  Deno.test({
    name: registered
      ? `parity ${envId}`
      : `parity ${envId} (ignored: the id is not registered, its port has not landed)`,
    ignore: !registered,
    fn() {
      const file = loadFixture(`${DIR}/${name}`);
      const results = compareFile(file);
      strictEqual(results.length, file.seeds.length, `${envId}: one result per seed`);
      strictEqual(results.length >= 2, true, `${envId}: at least 2 seeds`);
      for (const r of results) {
        strictEqual(r.status, "exact", `${envId} seed ${r.seed}: ${r.status}: ${r.detail}`);
      }
    },
  });
}

Deno.test("the in-repo fixtures cover every registered env id and the six WFC ids", () => {
  const cov = fixtureCoverage(DIR);
  deepStrictEqual(cov.missing, [], "registered ids without a fixture file");
  strictEqual(cov.covered.length, listEnvIds().length);
  const ids = listFixtureFiles(DIR).map(fixtureEnvId);
  for (const id of WFC_IDS) strictEqual(ids.includes(id), true, `${id} has a fixture`);
  // Only ids whose port has not landed may be unregistered.
  deepStrictEqual(cov.unregistered.filter((id) => !WFC_IDS.includes(id)), []);
});

Deno.test("fixtures are read from .json.gz and .json alike; .json wins for one id", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const gz = Deno.readFileSync(`${DIR}/MiniGrid-Unlock-v0.json.gz`);
    Deno.writeFileSync(`${dir}/MiniGrid-Unlock-v0.json.gz`, gz);
    const file = loadFixture(`${dir}/MiniGrid-Unlock-v0.json.gz`);
    strictEqual(file.env_id, "MiniGrid-Unlock-v0");
    Deno.writeTextFileSync(`${dir}/MiniGrid-Unlock-v0.json`, JSON.stringify(file));
    Deno.writeTextFileSync(`${dir}/index.json`, "{}");
    deepStrictEqual(listFixtureFiles(dir), ["MiniGrid-Unlock-v0.json"]);
    deepStrictEqual(loadFixture(`${dir}/MiniGrid-Unlock-v0.json`), file);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parity reports the first differing field of a corrupted episode", () => {
  const file = loadFixture(`${DIR}/MiniGrid-DoorKey-8x8-v0.json.gz`);
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
  const ep3 = structuredClone(file.episodes[0]);
  ep3.reset.rng_u64_draws_after_reset += 1;
  const [r3] = compareFile({ ...file, episodes: [ep3] });
  strictEqual(r3.status, "mismatch");
  strictEqual(r3.detail!.startsWith("reset.rng_u64_draws_after_reset"), true, r3.detail!);
  const [r4] = compareFile({
    ...file,
    env_id: "MiniGrid-NoSuchEnv-v0",
    episodes: [file.episodes[0]],
  });
  strictEqual(r4.status, "unsupported");
});

async function runParityCli(args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli/parity.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

Deno.test("deno task parity: exit 1 and the first difference on a mismatching fixtures dir", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = loadFixture(`${DIR}/MiniGrid-Unlock-v0.json.gz`);
    file.episodes = file.episodes.slice(0, 2);
    file.episodes[1].reset.mission = "open the window";
    await Deno.writeTextFile(`${dir}/MiniGrid-Unlock-v0.json`, JSON.stringify(file));
    const { code, text } = await runParityCli(["--fixtures", dir]);
    strictEqual(code, 1, text);
    strictEqual(text.trim().split("\n").pop(), "parity: 1/2 episodes exact");
    strictEqual(
      text.includes(
        'seed 1 (mismatch): reset.mission: got "open the door", want "open the window"',
      ),
      true,
      text,
    );
    // One file cannot cover the registry: the coverage line says so.
    const n = listEnvIds().length;
    strictEqual(text.includes(`registered env ids covered by ${dir}: 1/${n}`), true, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task parity defaults to the in-repo fixtures (one id)", async () => {
  const { code, text } = await runParityCli(["--env", "MiniGrid-LavaGapS7-v0"]);
  strictEqual(code, 0, text);
  const n = listEnvIds().length;
  strictEqual(text.includes(`registered env ids covered by ${DIR}: ${n}/${n}`), true, text);
  strictEqual(text.trim().split("\n").pop(), "parity: 3/3 episodes exact");
});
