/**
 * The Python environment of the training benchmark's peers (bench/torch_train.py,
 * bench/jax_train.py): a virtual environment with PyTorch 2.x and JAX, made by
 * `deno task setup --peers` and used by `deno task bench:train`.
 *
 * The venv lives at `$PEERS_VENV`, else `~/.cache/masked-dlm/peers-venv` (outside the
 * checkout, so `git status` stays clean). pip installs `torch jax` into it with the machine's
 * own pip configuration (its index, find-links and constraints); `PIP_INDEX_URL` and friends
 * pass through.
 *
 * @module
 */

/** Packages pip installs into the peers' venv. */
export const PEER_PACKAGES = ["torch", "jax"];

/** The peers' virtual environment folder. */
export function peersVenv(): string {
  const env = Deno.env.get("PEERS_VENV");
  if (env) return env;
  const home = Deno.env.get("HOME") ?? "/tmp";
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`;
  return `${cache}/masked-dlm/peers-venv`;
}

/** The venv's python, or null when the venv does not exist. */
export function peersPython(): string | null {
  const py = `${peersVenv()}/bin/python`;
  try {
    Deno.statSync(py);
    return py;
  } catch {
    return null;
  }
}

/** What the peers' Python has: versions of python, torch, jax, jaxlib, numpy (null where missing). */
export interface PeersEnv {
  /** The interpreter's path. */
  python: string;
  /** Its version, e.g. "3.11.7". */
  python_version: string | null;
  /** Package versions (null: does not import). */
  torch: string | null;
  jax: string | null;
  jaxlib: string | null;
  numpy: string | null;
  /** The venv folder, or null for a python outside it. */
  venv: string | null;
}

const PROBE = `
import json, sys, importlib
out = {"python_version": sys.version.split()[0]}
for m in ("torch", "jax", "jaxlib", "numpy"):
    try:
        out[m] = importlib.import_module(m).__version__
    except Exception:
        out[m] = None
print(json.dumps(out))
`;

/** Ask `python` which versions it has (never throws; null fields where unknown). */
export function probePeers(python: string): PeersEnv {
  const base = {
    python,
    python_version: null,
    torch: null,
    jax: null,
    jaxlib: null,
    numpy: null,
    venv: python.startsWith(peersVenv() + "/") ? peersVenv() : null,
  };
  try {
    const out = new Deno.Command(python, { args: ["-c", PROBE], stdout: "piped", stderr: "null" })
      .outputSync();
    if (!out.success) return base;
    return { ...base, ...JSON.parse(new TextDecoder().decode(out.stdout).trim()) };
  } catch {
    return base;
  }
}

/** Whether the venv exists and imports torch and jax. */
export function peersReady(): boolean {
  const py = peersPython();
  if (!py) return false;
  const e = probePeers(py);
  return e.torch !== null && e.jax !== null;
}

/** The shell commands that make the venv (shown when setup cannot run them). */
export function peersCommand(): string {
  const v = peersVenv();
  return `python3 -m venv ${v} && ${v}/bin/python -m pip install ${PEER_PACKAGES.join(" ")}`;
}

/** Make the venv and pip-install the peers into it; returns whether it is ready afterwards. */
export function installPeers(log: (s: string) => void): boolean {
  const v = peersVenv();
  const run = (cmd: string, args: string[]) => {
    try {
      return new Deno.Command(cmd, { args, stdout: "inherit", stderr: "inherit" }).outputSync()
        .success;
    } catch {
      return false;
    }
  };
  log(`making the peers' venv: ${peersCommand()}`);
  if (!peersPython()) {
    Deno.mkdirSync(v.replace(/\/[^/]+$/, ""), { recursive: true });
    if (!run("python3", ["-m", "venv", v])) {
      log("could not make the venv (Debian: apt-get install -y python3-venv)");
      return false;
    }
  }
  if (!run(`${v}/bin/python`, ["-m", "pip", "install", ...PEER_PACKAGES])) {
    log(`pip could not install ${PEER_PACKAGES.join(" ")}; try: ${peersCommand()}`);
    return false;
  }
  return peersReady();
}
