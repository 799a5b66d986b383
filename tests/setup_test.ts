/** `deno task setup`: the apt commands it prints, and the kernel lookup. */
import assert from "node:assert/strict";
import {
  aptCommand,
  EXTRAS,
  JUPYTER,
  kernelDirs,
  TEST_EXTRAS,
  TEST_EXTRAS_COMMAND,
  testExtrasReport,
} from "../cli/setup.ts";
import { numpyBundles } from "../lib/model/blas.ts";
import { HIDE_EXTRAS_ENV } from "../lib/util/extras.ts";

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

/** Runs `deno task setup --check` with `env` added; returns its stdout. */
async function setupCheck(env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli/setup.ts", import.meta.url).pathname, "--check"],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("setup --check without any OpenBLAS prints the non-root ways to get one", async () => {
  const text = await setupCheck({ BLAS_LIBRARY: "/nonexistent/libopenblas.so.0" });
  assert.match(text, /setup: missing: OpenBLAS \(the blas training device\)\n/);
  assert.match(
    text,
    /install: (sudo )?apt-get install -y --no-install-recommends libopenblas0-pthread/,
  );
  assert.match(text, /without root: `python3 -m pip install --user numpy`/);
  assert.match(text, /conda install -c conda-forge openblas/);
  assert.match(text, /brew install openblas/);
});

const numpyBlas = numpyBundles().some((p) => /numpy/.test(p));
Deno.test(
  "setup --check names the OpenBLAS the blas device will use (numpy's, with the system one hidden)" +
    (numpyBlas ? "" : " [ignored: numpy's wheel is not installed]"),
  { ignore: !numpyBlas },
  async () => {
    const text = await setupCheck({ BLAS_SKIP_SYSTEM: "1", CONDA_PREFIX: "", LD_LIBRARY_PATH: "" });
    assert.match(
      text,
      /setup: ok: OpenBLAS \(the blas training device\): numpy's bundled OpenBLAS \d+\.\d+\.\d+\S* \(ILP64\) at \/\S+numpy\S+/,
    );
  },
);

Deno.test("with the extras hidden, setup names every test file they leave ignored and one command", () => {
  const old = Deno.env.get(HIDE_EXTRAS_ENV);
  try {
    Deno.env.set(HIDE_EXTRAS_ENV, "1");
    const text = testExtrasReport().join("\n");
    for (const k of TEST_EXTRAS) {
      const r = EXTRAS[k];
      assert.ok(r.tests?.length, `${k} names its tests`);
      assert.ok(text.includes(`${r.name}: ${r.tests!.join(", ")}`), `${k} in:\n${text}`);
    }
    assert.equal(text.split("\n").filter((l) => l.includes(TEST_EXTRAS_COMMAND)).length, 1);
    assert.match(
      text,
      /tests\/slurm_test\.ts; enable: eval "\$\(bash tools\/slurm\/one_node\.sh start\)"/,
    );
    assert.match(text, new RegExp(`hidden on purpose: ${HIDE_EXTRAS_ENV}=1`));
    for (const f of TEST_EXTRAS.flatMap((k) => EXTRAS[k].tests!)) {
      assert.ok(Deno.statSync(new URL(`../${f}`, import.meta.url)).isFile, `${f} exists`);
    }
  } finally {
    if (old === undefined) Deno.env.delete(HIDE_EXTRAS_ENV);
    else Deno.env.set(HIDE_EXTRAS_ENV, old);
  }
});
