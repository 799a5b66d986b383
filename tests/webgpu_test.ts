/**
 * The tiny model on `webgpu` against `wasm`: same init, same batches, losses of
 * a few training steps equal to float tolerance. Runs only where a WebGPU
 * adapter exists (e.g. Debian's lavapipe: `apt-get install mesa-vulkan-drivers`);
 * otherwise the comparison is reported as ignored, not passed. The GPU work runs
 * in a child process (tests/support/webgpu_compare.ts), so the native driver
 * never lives in the test runner's process.
 */
import assert from "node:assert";
import { selectDevice } from "../lib/model/device.ts";
import { extrasHidden } from "../lib/util/extras.ts";

// With the optional extras hidden (WORKSPACE_HIDE_EXTRAS=1, lib/util/extras.ts) the Vulkan loader
// is pointed at no driver, here and in the child, so no adapter exists and the branch for a
// machine without one runs.
if (extrasHidden()) {
  for (const v of ["VK_ICD_FILENAMES", "VK_DRIVER_FILES"]) Deno.env.set(v, "/nonexistent/icd.json");
}

interface Side {
  losses: number[];
  logits: number[];
}
interface Compare {
  adapter: boolean;
  wasm?: Side;
  webgpu?: Side;
}

async function compare(): Promise<Compare> {
  const xdg = Deno.env.get("XDG_RUNTIME_DIR") ?? (await Deno.makeTempDir({ prefix: "xdg-" }));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./support/webgpu_compare.ts", import.meta.url).pathname],
    env: { XDG_RUNTIME_DIR: xdg },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("{"));
  if (!line) {
    throw new Error(
      `webgpu_compare.ts printed no result (exit ${out.code}):\n${text}\n${
        new TextDecoder().decode(out.stderr).slice(-3000)
      }`,
    );
  }
  return JSON.parse(line) as Compare;
}

const result = await compare();
if (!result.adapter) {
  console.log(
    "webgpu_test: no WebGPU adapter; the wasm/webgpu comparison is IGNORED (install mesa-vulkan-drivers for lavapipe)",
  );
}

Deno.test({
  name: "webgpu trains the tiny model with the same losses as wasm (float tolerance)",
  ignore: !result.adapter,
  fn: () => {
    const w = result.wasm!, g = result.webgpu!;
    console.log(
      `wasm losses ${w.losses.map((x) => x.toFixed(6))}; webgpu ${
        g.losses.map((x) => x.toFixed(6))
      }`,
    );
    assert.equal(w.losses.length, 4);
    for (let i = 0; i < w.losses.length; i++) {
      const rel = Math.abs(w.losses[i] - g.losses[i]) / Math.abs(w.losses[i]);
      assert(rel < 1e-3, `step ${i}: wasm ${w.losses[i]} vs webgpu ${g.losses[i]} (rel ${rel})`);
    }
    assert.equal(w.logits.length, g.logits.length);
    assert(w.logits.length > 0);
    let md = 0;
    for (let i = 0; i < w.logits.length; i++) {
      md = Math.max(md, Math.abs(w.logits[i] - g.logits[i]));
    }
    assert(md < 5e-3, `logits differ by ${md}`);
  },
});

Deno.test({
  name: "webgpu without an adapter fails with a clear error naming how to get one",
  ignore: result.adapter,
  fn: async () => {
    await assert.rejects(() => selectDevice("webgpu"), /mesa-vulkan-drivers/);
  },
});
