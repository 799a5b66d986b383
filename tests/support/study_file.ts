/**
 * A study file (configs/ablations format) for a test, written into a folder the test owns.
 *
 * @module
 */

import { join } from "node:path";
import { REPO_ROOT } from "../../lib/experiment/rundir.ts";

/** What a test study says; `base` is relative to the repository's configs/experiments/. */
export interface TestStudy {
  /** The study's name (`ablation:`), also its file name. */
  name: string;
  title?: string;
  description?: string;
  base: string;
  seeds?: number;
  baseline: string;
  /** The `variants:` entries, one YAML line each (`  - { name: a, set: {...} }`). */
  variants: string[];
}

/** Writes `<dir>/<name>.yaml` and returns its path. */
export function writeStudyFile(dir: string, s: TestStudy): string {
  const path = join(dir, `${s.name}.yaml`);
  Deno.writeTextFileSync(
    path,
    [
      `ablation: ${s.name}`,
      `title: "${s.title ?? s.name}"`,
      `description: ${s.description ?? "a test study"}`,
      `base: ${join(REPO_ROOT, "configs", "experiments", s.base)}`,
      `seeds: ${s.seeds ?? 1}`,
      `baseline: ${s.baseline}`,
      "variants:",
      ...s.variants,
      "",
    ].join("\n"),
  );
  return path;
}
