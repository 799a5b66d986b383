/**
 * The optional extras (Chromium, a WebGPU adapter, NumPy, TensorBoard, Slurm) and the switch
 * that hides them: with `WORKSPACE_HIDE_EXTRAS=1` every check for one of them reports it absent,
 * so the branches written for a bare machine (a test ignored with its reason, setup's "missing"
 * lines) run on a machine that has them. `.ci/run` runs the test suite once this way before the
 * run with everything installed. A WebGPU adapter is hidden through the Vulkan loader instead
 * (`VK_ICD_FILENAMES` / `VK_DRIVER_FILES` naming no driver: `.ci/run` sets both), since the
 * adapter is found by the runtime, not by a check of ours.
 *
 * @module
 */

/** The environment variable that hides the optional extras when set to `1`. */
export const HIDE_EXTRAS_ENV = "WORKSPACE_HIDE_EXTRAS";

/** True when `WORKSPACE_HIDE_EXTRAS=1`: every optional extra is to be treated as absent. */
export function extrasHidden(): boolean {
  try {
    return Deno.env.get(HIDE_EXTRAS_ENV) === "1";
  } catch {
    return false; // no --allow-env: nothing is hidden
  }
}
