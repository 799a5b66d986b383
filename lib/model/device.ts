/**
 * Device selection: `blas` (CPU training through OpenBLAS, lib/model/native.ts;
 * @jax-js/jax runs evaluation on wasm), `wasm` (@jax-js/jax, multi-threaded
 * through Web Workers in Deno) or `webgpu`, with clear errors when a device
 * is not available. Every device trains in fp32 (`train.precision` was removed:
 * lib/config/schema.ts `REMOVED_KEYS`).
 *
 * @module
 */

import { defaultDevice, init } from "@jax-js/jax";
import { hasBlas, loadBlas } from "./blas.ts";

/** Devices the training code supports. */
export type TrainDevice = "blas" | "wasm" | "webgpu";

/** Hint printed when no WebGPU adapter exists. */
export const WEBGPU_HINT =
  "No WebGPU adapter was found. On a machine with a GPU, install its Vulkan driver; on Debian/Ubuntu " +
  "without a GPU, `apt-get install -y mesa-vulkan-drivers` provides lavapipe (software Vulkan, slow: " +
  "useful for functional tests only). Or set train.device: wasm.";

/**
 * The device `auto` stands for: `blas` where a BLAS loads (lib/model/blas.ts
 * searches the system, conda, LD_LIBRARY_PATH, numpy's wheel and Accelerate),
 * else `wasm`. Other names are returned unchanged.
 */
export function resolveDevice(device: string): string {
  return device === "auto" ? (hasBlas() ? "blas" : "wasm") : device;
}

/**
 * What training on `wasm` instead of `blas` costs, as measured on 2 cores
 * (issue 20: the quick-profile runs of `deno task ablate`).
 */
export const WASM_SLOWDOWN =
  "training is about 4x slower (a quick-profile run ~250 s instead of ~60 s; the quick study of " +
  "`deno task ablate` ~35 min instead of ~6)";

function isRootOnDebian(): boolean {
  try {
    Deno.statSync("/etc/debian_version");
    return Deno.uid?.() === 0;
  } catch {
    return false;
  }
}

/**
 * The one command that gives this machine a BLAS for the `blas` device: `deno
 * task setup` as root on Debian/Ubuntu (apt), `brew install openblas` on macOS,
 * else `python3 -m pip install --user numpy` (its wheel bundles OpenBLAS).
 */
export function blasRestoreCommand(): string {
  if (Deno.env.get("BLAS_LIBRARY")) return "unset BLAS_LIBRARY"; // it limits the search to one file
  if (isRootOnDebian()) return "deno task setup";
  if (Deno.build.os === "darwin") return "brew install openblas";
  return "python3 -m pip install --user numpy";
}

/** The message printed when `train.device: auto` falls back to wasm. */
export function wasmFallbackMessage(): string {
  return `train.device 'auto' falls back to wasm: no OpenBLAS was found, so ${WASM_SLOWDOWN}. ` +
    `Run \`${blasRestoreCommand()}\` to restore the fast blas device (\`deno task setup --check\` lists other ways).`;
}

let warnedFallback = false;

/** Whether `navigator.gpu` yields an adapter in this process. */
export async function hasWebGPUAdapter(): Promise<boolean> {
  // deno-lint-ignore no-explicit-any
  const gpu = (globalThis as any).navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/**
 * Initialise a device (`auto` resolved by {@link resolveDevice}) and make
 * @jax-js/jax's default device match (wasm for `blas`); returns the device.
 * Throws a clear error when the device is unavailable.
 * `where` names the config key in errors.
 */
export async function selectDevice(
  name: string,
  where = "train.device",
): Promise<TrainDevice> {
  const device = resolveDevice(name);
  if (name === "auto" && device === "wasm" && !warnedFallback) {
    warnedFallback = true;
    console.error(wasmFallbackMessage());
  }
  if (device !== "blas" && device !== "wasm" && device !== "webgpu") {
    throw new Error(
      `${where}: unknown device '${device}'; use 'auto' (blas where OpenBLAS is installed, else wasm), ` +
        `'blas' (CPU, OpenBLAS), 'wasm' (CPU, @jax-js/jax) or 'webgpu' (GPU)`,
    );
  }
  if (device === "webgpu") {
    if (!(await hasWebGPUAdapter())) {
      throw new Error(`${where}: webgpu requested but unavailable. ${WEBGPU_HINT}`);
    }
    const ok = await init("webgpu");
    if (!ok.includes("webgpu")) {
      throw new Error(
        `${where}: the webgpu backend of @jax-js/jax failed to start. ${WEBGPU_HINT}`,
      );
    }
  } else {
    if (device === "blas") {
      try {
        loadBlas();
      } catch (e) {
        throw new Error(`${where}: ${e instanceof Error ? e.message : e}`);
      }
    }
    const ok = await init("wasm");
    if (!ok.includes("wasm")) {
      throw new Error(`${where}: the wasm backend of @jax-js/jax failed to start`);
    }
  }
  defaultDevice(device === "blas" ? "wasm" : device);
  return device;
}
