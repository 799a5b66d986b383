/**
 * Whether the `python3` on PATH can import a module: tests that compare with numpy or read files
 * back with a Python package are `ignore`d (with the reason in their name) where it cannot.
 *
 * @module
 */

import { extrasHidden } from "../../lib/util/extras.ts";

/**
 * True when `python3 -c "import <module>"` succeeds here (false when python3 itself is missing,
 * and while the optional extras are hidden: `WORKSPACE_HIDE_EXTRAS=1`, lib/util/extras.ts).
 */
export async function havePythonModule(module: string): Promise<boolean> {
  if (extrasHidden()) return false;
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", `import ${module}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false; // no python3 at all
  }
}

/** True when `python3 -c "import numpy"` works here. */
export function havePythonNumpy(): Promise<boolean> {
  return havePythonModule("numpy");
}
