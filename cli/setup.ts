/**
 * `deno task setup [--chromium] [--lavapipe] [--torch] [--numpy] [--tensorboard] [--quiet-if-ready] [--check]`
 *
 * Makes the machine ready for the workspace, idempotently (fast when all is
 * present; `deno task test` runs it first):
 *
 * 1. Jupyter (notebook, nbconvert, nbclient, ipykernel) and OpenBLAS (the
 *    `blas` training device). On Debian/Ubuntu as root they are installed with
 *    apt (`--no-install-recommends`); otherwise the exact command to run is
 *    printed. An OpenBLAS the user already has counts (numpy's wheel, conda,
 *    LD_LIBRARY_PATH, Homebrew, Accelerate: lib/model/blas.ts); setup prints
 *    which library the `blas` device will use, or the ways to get one without
 *    root.
 * 2. The Deno Jupyter kernel: `deno jupyter --install` unless a `deno`
 *    kernelspec exists whose deno binary is present.
 * 3. Optional extras, each only when asked for: `--chromium` (headless
 *    screenshots of rendered notebooks), `--lavapipe` (software Vulkan for
 *    WebGPU tests), `--torch` (PyTorch + OpenBLAS reference benchmark),
 *    `--numpy`, `--tensorboard` (the Python `tensorboard` package, whose
 *    reader tests/tensorboard_test.ts checks the event files with; installed
 *    with pip for the `python3` on PATH, `--user` when not root);
 *    `--test-extras` asks for every extra the tests use (what `.ci/run`
 *    installs). With `--quiet-if-ready` (what `deno task test` runs) setup also
 *    names the test files that missing extras leave ignored, and the one
 *    command that enables them. `WORKSPACE_HIDE_EXTRAS=1` makes every extra
 *    count as missing and installs none (lib/util/extras.ts).
 *
 * Prints each action. Exit code 0 when everything asked for is present, 1
 * when something is missing and could not be installed here.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { denoKernelBinary, kernelDirs } from "../lib/viz/notebook.ts";
import { BLAS_NONROOT_HINT, describeBlas, hasBlas, loadBlas } from "../lib/model/blas.ts";
import { installPeers, peersCommand, peersReady, peersVenv } from "../bench/peers.ts";
import { extrasHidden, HIDE_EXTRAS_ENV } from "../lib/util/extras.ts";

export { denoKernelBinary, kernelDirs };

/** One requirement: how to tell it is present and which apt packages provide it. */
export interface Requirement {
  /** Short name shown in messages. */
  name: string;
  /** apt packages that provide it. */
  apt: string[];
  /** Commands that must be on PATH. */
  commands?: string[];
  /** Python modules that must import. */
  pythonModules?: string[];
  /** Custom presence check (replaces the apt check). */
  present?: () => boolean;
  /** What was found, shown after the name when present. */
  found?: () => string;
  /** Other ways to get it (e.g. without root), shown when it is missing. */
  otherWays?: string;
  /** Python packages installed with pip for the `python3` on PATH, instead of apt. */
  pip?: string[];
  /** A custom installer (replaces apt and pip) and the command it runs, shown when missing. */
  install?: { run: (log: (s: string) => void) => boolean; command: string };
  /** Test files that are ignored (with the reason in their names) where it is missing. */
  tests?: string[];
}

/** Jupyter, always required. */
export const JUPYTER: Requirement = {
  name: "Jupyter (notebook, nbconvert, nbclient, ipykernel, kernelspec)",
  // jupyter-client provides `jupyter kernelspec`, which the kernel check uses;
  // apt does not pull it in with --no-install-recommends.
  apt: [
    "jupyter-notebook",
    "jupyter-nbconvert",
    "jupyter-client",
    "python3-nbclient",
    "python3-ipykernel",
  ],
  commands: ["jupyter", "jupyter-nbconvert", "jupyter-notebook", "jupyter-kernelspec"],
  pythonModules: ["nbclient", "ipykernel"],
};

/** OpenBLAS, required by the default training device (`auto` picks `blas` when it loads). */
export const OPENBLAS: Requirement = {
  name: "OpenBLAS (the blas training device)",
  apt: ["libopenblas0-pthread"],
  present: () => hasBlas({ retry: true }),
  found: () => describeBlas(loadBlas()),
  otherWays: `or ${BLAS_NONROOT_HINT}`,
};

/** `name`, with what was found when the requirement says (e.g. which OpenBLAS). */
function shown(r: Requirement): string {
  if (!r.found) return r.name;
  try {
    return `${r.name}: ${r.found()}`;
  } catch {
    return r.name;
  }
}

/** Optional extras by flag. */
export const EXTRAS: Record<string, Requirement> = {
  chromium: {
    name: "Chromium (headless screenshots)",
    apt: ["chromium"],
    commands: ["chromium"],
    tests: ["tests/notebooks_test.ts", "tests/viz_test.ts"],
  },
  lavapipe: {
    name: "lavapipe (software Vulkan for WebGPU)",
    apt: ["mesa-vulkan-drivers"],
    tests: ["tests/webgpu_test.ts"],
  },
  torch: {
    name: "PyTorch + OpenBLAS (reference benchmark)",
    apt: ["python3-torch", "libopenblas0-pthread"],
    pythonModules: ["torch"],
  },
  numpy: {
    name: "NumPy",
    apt: ["python3-numpy"],
    pythonModules: ["numpy"],
    // The system python (apt's) or the python3 on PATH (the one the tests compare with).
    present: () => pythonHas(["numpy"]) || run("python3", ["-c", "import numpy"], { quiet: true }),
    tests: [
      "tests/npy_test.ts",
      "tests/store_test.ts",
      "tests/collect_test.ts",
      "tests/model_test.ts",
    ],
  },
  peers: {
    name: "PyTorch 2 + JAX in a venv (bench:train's peers, bench/peers.ts)",
    apt: [],
    present: peersReady,
    found: peersVenv,
    install: { run: installPeers, command: peersCommand() },
  },
  tensorboard: {
    name: "TensorBoard (Python package; tests read the event files with its reader)",
    apt: [],
    pip: ["tensorboard"],
    // The python3 on PATH: the one the tests run (not necessarily the system python).
    present: () => run("python3", ["-c", "import tensorboard"], { quiet: true }),
    tests: ["tests/tensorboard_test.ts"],
  },
};

/** The extras `--test-extras` installs: those the test suite uses (the set `.ci/run` installs). */
export const TEST_EXTRAS = ["chromium", "lavapipe", "numpy", "tensorboard"] as const;

/** What the test suite also uses that setup does not install: the test files and how to get it. */
export const OTHER_TEST_NEEDS: {
  name: string;
  tests: string[];
  how: string;
  present: () => boolean;
}[] = [
  {
    name: "a one-node Slurm (root)",
    tests: ["tests/slurm_test.ts"],
    how: 'eval "$(bash tools/slurm/one_node.sh start)"',
    present: () => !extrasHidden() && ["sbatch", "slurmctld", "slurmd", "munged"].every(onPath),
  },
  {
    name: "W&B (Python package)",
    tests: ["tests/export_wandb_test.ts"],
    how: pipCommand(["wandb"], isRoot()),
    // Not hidden by WORKSPACE_HIDE_EXTRAS: .ci/run never installs it, so its branch runs there.
    present: () => run("python3", ["-c", "import wandb"], { quiet: true }),
  },
];

/** The `deno task setup` command that installs the test extras (the README's pinned Deno). */
export const TEST_EXTRAS_COMMAND = "npx -y deno@2.9.6 task setup --test-extras";

/**
 * Lines naming the test files that will be ignored here for want of an optional extra, and the
 * commands that enable them; none when everything is present.
 */
export function testExtrasReport(): string[] {
  const missing = TEST_EXTRAS.map((k) => EXTRAS[k]).filter((r) => !isPresent(r));
  const others = OTHER_TEST_NEEDS.filter((o) => !o.present());
  if (!missing.length && !others.length) return [];
  const lines = ["tests ignored here for want of optional extras (they say why in their names):"];
  for (const r of missing) lines.push(`  ${r.name}: ${r.tests!.join(", ")}`);
  if (missing.length) lines.push(`  enable them: ${TEST_EXTRAS_COMMAND}`);
  for (const o of others) lines.push(`  ${o.name}: ${o.tests.join(", ")}; enable: ${o.how}`);
  if (extrasHidden()) lines.push(`  (hidden on purpose: ${HIDE_EXTRAS_ENV}=1)`);
  return lines;
}

/** The command to run to install Python `packages` with pip (`--user` unless root). */
export function pipCommand(packages: string[], root: boolean): string {
  return `python3 -m pip install ${root ? "" : "--user "}${packages.join(" ")}`;
}

/** The install command of a requirement: pip or apt. */
function installCommand(r: Requirement, root: boolean): string {
  if (r.install) return r.install.command;
  return r.pip ? pipCommand(r.pip, root) : aptCommand(r.apt, root);
}

/** The command to run to install `packages` with apt (with sudo unless root). */
export function aptCommand(packages: string[], root: boolean): string {
  return `${root ? "" : "sudo "}apt-get install -y --no-install-recommends ${packages.join(" ")}`;
}

function onPath(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const st = Deno.statSync(join(dir, cmd));
      if (st.isFile && ((st.mode ?? 0o111) & 0o111)) return true;
    } catch { /* not here */ }
  }
  return false;
}

function run(cmd: string, args: string[], opts: { quiet?: boolean } = {}): boolean {
  try {
    const out = new Deno.Command(cmd, {
      args,
      stdout: opts.quiet ? "null" : "inherit",
      stderr: opts.quiet ? "null" : "inherit",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).outputSync();
    return out.success;
  } catch {
    return false;
  }
}

function pythonHas(modules: string[]): boolean {
  if (!modules.length) return true;
  // apt installs modules for the system python (the one Jupyter's scripts use), not e.g. pyenv's.
  let python = "python3";
  try {
    Deno.statSync("/usr/bin/python3");
    python = "/usr/bin/python3";
  } catch { /* use PATH */ }
  return run(python, ["-c", modules.map((m) => `import ${m}`).join("; ")], { quiet: true });
}

function aptInstalled(pkg: string): boolean {
  try {
    const out = new Deno.Command("dpkg-query", {
      args: ["-W", "-f=${Status}", pkg],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success && new TextDecoder().decode(out.stdout).includes("install ok installed");
  } catch {
    return false;
  }
}

/** Whether a requirement is met on this machine. */
export function isPresent(r: Requirement): boolean {
  if (extrasHidden() && Object.values(EXTRAS).includes(r)) return false;
  if (r.present) return r.present();
  if (r.commands?.some((c) => !onPath(c))) return false;
  if (r.pythonModules && !pythonHas(r.pythonModules)) return false;
  if (!r.commands && !r.pythonModules) return r.apt.every(aptInstalled);
  return true;
}

function isDebian(): boolean {
  try {
    Deno.statSync("/etc/debian_version");
    return onPath("apt-get");
  } catch {
    return false;
  }
}

function isRoot(): boolean {
  return Deno.uid?.() === 0;
}

let aptUpdated = false;

/** Installs a requirement with apt when possible; returns whether it is present afterwards. */
export function ensure(r: Requirement, log: (s: string) => void): boolean {
  if (isPresent(r)) return true;
  const root = isRoot();
  if (r.install) return r.install.run(log) && isPresent(r);
  if (r.pip) {
    log(`installing ${r.name}: ${pipCommand(r.pip, root)}`);
    const args = ["-m", "pip", "install", ...(root ? [] : ["--user"]), ...r.pip];
    if (!run("python3", args) || !isPresent(r)) {
      log(`could not install ${r.name}; try: ${pipCommand(r.pip, root)}`);
      log("  (a python3 marked externally managed needs a virtual environment first)");
      return false;
    }
    return true;
  }
  if (!isDebian() || !root) {
    log(`missing: ${r.name}.`);
    if (isDebian()) log(`  run: ${aptCommand(r.apt, root)}`);
    else log(`  install the equivalent of the Debian packages: ${r.apt.join(" ")}`);
    if (r.otherWays) log(`  ${r.otherWays}`);
    return false;
  }
  log(`installing ${r.name}: ${aptCommand(r.apt, true)}`);
  let ok = run("apt-get", ["install", "-y", "--no-install-recommends", ...r.apt]);
  if (!ok && !aptUpdated) {
    log("apt-get install failed; running apt-get update and retrying");
    aptUpdated = run("apt-get", ["update"]);
    ok = run("apt-get", ["install", "-y", "--no-install-recommends", ...r.apt]);
  }
  if (!ok || !isPresent(r)) {
    log(`could not install ${r.name}; try: ${aptCommand(r.apt, true)}`);
    return false;
  }
  return true;
}

function ensureDenoKernel(log: (s: string) => void): boolean {
  const bin = denoKernelBinary();
  if (bin) return true;
  log(`registering the Deno Jupyter kernel: ${Deno.execPath()} jupyter --install`);
  const ok = run(Deno.execPath(), ["jupyter", "--install", "--force"]) ||
    run(Deno.execPath(), ["jupyter", "--install"]);
  if (!ok || !denoKernelBinary()) {
    log(`could not register the kernel; try: deno jupyter --install`);
    return false;
  }
  return true;
}

/** Runs the setup; returns the exit code. */
export function main(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      chromium: { type: "boolean" },
      lavapipe: { type: "boolean" },
      torch: { type: "boolean" },
      numpy: { type: "boolean" },
      tensorboard: { type: "boolean" },
      peers: { type: "boolean" },
      all: { type: "boolean" },
      "test-extras": { type: "boolean" },
      "quiet-if-ready": { type: "boolean" },
      check: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task setup [--chromium] [--lavapipe] [--torch] [--numpy] [--tensorboard] [--peers] [--test-extras] [--all] [--quiet-if-ready] [--check]\n" +
        "Installs Jupyter and OpenBLAS (apt, when root on Debian/Ubuntu) and registers the Deno kernel; idempotent.\n" +
        "--peers: a venv with PyTorch 2 and JAX for bench:train's peers (PEERS_VENV sets where).\n" +
        `--test-extras: also the extras the tests use (${TEST_EXTRAS.join(", ")}).\n` +
        "--quiet-if-ready (deno task test): print only what is missing, and the tests it leaves ignored.\n" +
        "--check: report only, install nothing.",
    );
    return 0;
  }
  const quiet = values["quiet-if-ready"] ?? false;
  // --quiet-if-ready: say nothing about what is already present.
  const log = (s: string) => {
    if (!quiet || !s.startsWith("ok:")) console.log(`setup: ${s}`);
  };
  const wanted: Requirement[] = [JUPYTER, OPENBLAS];
  const testExtras = new Set<string>(values["test-extras"] ? TEST_EXTRAS : []);
  for (const [flag, req] of Object.entries(EXTRAS)) {
    if (values.all || testExtras.has(flag) || (values as Record<string, unknown>)[flag]) {
      wanted.push(req);
    }
  }
  let ok = true;
  for (const r of wanted) {
    if (values.check) {
      const present = isPresent(r);
      log(`${present ? "ok" : "missing"}: ${present ? shown(r) : r.name}`);
      if (!present) log(`  install: ${installCommand(r, isRoot())}`);
      if (!present && r.otherWays) log(`  ${r.otherWays}`);
      ok &&= present;
      continue;
    }
    const before = isPresent(r);
    if (!before && extrasHidden() && Object.values(EXTRAS).includes(r)) {
      log(`missing: ${r.name} (hidden: ${HIDE_EXTRAS_ENV}=1; nothing installed)`);
      ok = false;
      continue;
    }
    const now = before || ensure(r, log);
    if (before) log(`ok: ${shown(r)}`);
    else if (now && r.found) log(`installed: ${shown(r)}`);
    ok &&= now;
  }
  if (values.check) {
    const bin = denoKernelBinary();
    log(
      bin
        ? `ok: Deno Jupyter kernel (${bin})`
        : "missing: Deno Jupyter kernel; run: deno jupyter --install",
    );
    ok &&= bin !== null;
  } else if (onPath("jupyter")) {
    const had = denoKernelBinary();
    const kernelOk = had !== null || ensureDenoKernel(log);
    if (had) log(`ok: Deno Jupyter kernel (${had})`);
    ok &&= kernelOk;
  } else {
    log("skipped: Deno Jupyter kernel (needs Jupyter first)");
    ok = false;
  }
  // The test task's mode: say which tests the missing extras leave ignored, and how to enable them.
  if (quiet && !values.check) { for (const line of testExtrasReport()) log(line); }
  if (!ok) {
    console.log("setup: not everything is ready (see above)");
    return 1;
  }
  if (!quiet) console.log("setup: ready");
  return 0;
}

if (import.meta.main) Deno.exit(main(Deno.args));
