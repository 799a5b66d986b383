/**
 * The git version of the workspace, recorded with datasets and runs.
 *
 * @module
 */

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");

/**
 * The git commit of the checkout at `cwd` (default: this workspace): `<sha>`, or `<sha>-dirty`
 * when tracked files have uncommitted changes; null when git or the repository is unavailable.
 */
export function gitVersion(cwd: string = ROOT): string | null {
  try {
    const head = new Deno.Command("git", {
      args: ["rev-parse", "HEAD"],
      cwd,
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    if (!head.success) return null;
    const sha = new TextDecoder().decode(head.stdout).trim();
    const st = new Deno.Command("git", {
      args: ["status", "--porcelain", "--untracked-files=no"],
      cwd,
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const dirty = st.success && new TextDecoder().decode(st.stdout).trim() !== "";
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return null;
  }
}
