/**
 * The model architecture is versioned once (lib/model/model_config.ts ARCH_VERSION, the jax-js
 * reference): checkpoints record its fingerprint, resuming refuses weights of another
 * architecture, and the blas device must implement the same version.
 */
import assert from "node:assert/strict";
import { ARCH_VERSION, resolveModelConfig } from "../lib/model/model_config.ts";
import { archFingerprint } from "../lib/model/params.ts";
import { NATIVE_ARCH_VERSION } from "../lib/model/native.ts";
import { listCheckpoints } from "../lib/model/checkpoint.ts";
import { train } from "../lib/train/loop.ts";
import * as fixture from "./support/train_fixture.ts";

Deno.test("archFingerprint: names the version and the parameter shapes", () => {
  const tiny = resolveModelConfig({ size: "tiny" }, { length: 2, mission_len: 5 });
  const small = resolveModelConfig({ size: "small" }, { length: 2, mission_len: 5 });
  const wider = resolveModelConfig({ size: "tiny", d_ff: 96 }, { length: 2, mission_len: 5 });
  assert.match(archFingerprint(tiny), new RegExp(`^a${ARCH_VERSION}-[0-9a-f]{12}$`));
  assert.equal(archFingerprint(tiny), archFingerprint({ ...tiny }));
  assert.notEqual(archFingerprint(tiny), archFingerprint(small));
  assert.notEqual(archFingerprint(tiny), archFingerprint(wider));
});

Deno.test("the blas device implements the jax-js model's architecture version", () => {
  assert.equal(NATIVE_ARCH_VERSION, ARCH_VERSION);
});

Deno.test(
  "resume: a checkpoint records the fingerprint; weights of another architecture are refused",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const cfg = fixture.runConfig({ steps: 4, ckpt_every: 2, eval_every: 4, log_every: 2 });
      await train(cfg, { ...fixture.data(), runDir: dir });
      const cks = await listCheckpoints(dir);
      assert.ok(cks.length > 0);
      const statePath = `${cks.at(-1)!.dir}/state.json`;
      const state = JSON.parse(await Deno.readTextFile(statePath));
      const model = resolveModelConfig(cfg.model, cfg.window);
      assert.equal(state.arch, archFingerprint(model));
      state.arch = "a0-000000000000";
      await Deno.writeTextFile(statePath, JSON.stringify(state));
      // The edited state.json no longer matches checksums.json (a resume would set the damaged
      // checkpoint aside and fall back): drop the checksums, as in a checkpoint of the older format.
      await Deno.remove(`${cks.at(-1)!.dir}/checksums.json`);
      await assert.rejects(
        train({ ...cfg, train: { ...cfg.train, steps: 6 } }, {
          ...fixture.data(),
          runDir: dir,
          resume: true,
        }),
        /architecture a0-000000000000, but this code computes a\d+-[0-9a-f]{12}/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
