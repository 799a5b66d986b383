/** `deno task setup`: the apt commands it prints, and the kernel lookup. */
import assert from "node:assert/strict";
import { aptCommand, EXTRAS, JUPYTER, kernelDirs } from "../cli/setup.ts";

Deno.test("setup prints the exact apt command (sudo unless root)", () => {
  assert.equal(
    aptCommand(JUPYTER.apt, true),
    "apt-get install -y --no-install-recommends jupyter-notebook jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel",
  );
  assert.ok(
    aptCommand(JUPYTER.apt, false).startsWith("sudo apt-get install -y --no-install-recommends "),
  );
  assert.deepEqual(EXTRAS.chromium.apt, ["chromium"]);
  assert.deepEqual(EXTRAS.lavapipe.apt, ["mesa-vulkan-drivers"]);
  assert.deepEqual(EXTRAS.torch.apt, ["python3-torch", "libopenblas0-pthread"]);
  assert.deepEqual(EXTRAS.numpy.apt, ["python3-numpy"]);
});

Deno.test("kernel lookup honours JUPYTER_DATA_DIR first", () => {
  const old = Deno.env.get("JUPYTER_DATA_DIR");
  try {
    Deno.env.set("JUPYTER_DATA_DIR", "/x/jup");
    assert.equal(kernelDirs()[0], "/x/jup/kernels");
    assert.ok(kernelDirs().includes("/usr/share/jupyter/kernels"));
  } finally {
    if (old === undefined) Deno.env.delete("JUPYTER_DATA_DIR");
    else Deno.env.set("JUPYTER_DATA_DIR", old);
  }
});

Deno.test("setup --check reports and installs nothing; exit code matches readiness", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli/setup.ts", import.meta.url).pathname, "--check"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.match(text, /setup: (ok|missing): Jupyter/);
  assert.match(text, /setup: (ok|missing): Deno Jupyter kernel/);
  assert.equal(out.code === 0, text.includes("setup: ready"));
});
