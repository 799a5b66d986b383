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
