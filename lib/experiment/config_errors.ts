/**
 * Config errors: where a problem is (`file:line:col`), what it is
 * ({@link ConfigIssue}), the error that carries them ({@link ConfigError}) and
 * the small helpers every config message uses (value kinds, "did you mean").
 *
 * @module
 */

import { isAbsolute, relative } from "node:path";
import { editDistance } from "../util/text.ts";
import { SCHEMA, type SchemaNode } from "../config/schema.ts";

/** A place in a source: a file (or `--set k=v`, or `<object>`), optionally a line and column (1-based). */
export interface SourceLoc {
  /** File path (shown relative to the working directory) or another source label. */
  file: string;
  /** 1-based line. */
  line?: number;
  /** 1-based column. */
  col?: number;
}

/** One problem found in a config. */
export interface ConfigIssue {
  /** Where it is. */
  loc: SourceLoc;
  /** Dotted key path (`train.lr`), empty for the whole file. */
  path: string;
  /** What was wrong and what is expected. */
  message: string;
}

/** Formats a location as `file:line:col` (or `file` when no line is known). */
export function formatLoc(loc: SourceLoc): string {
  return loc.line !== undefined ? `${loc.file}:${loc.line}:${loc.col ?? 1}` : loc.file;
}

/**
 * A config that cannot be loaded. `message` has one line per issue:
 * `file:line:col: key.path: what was wrong; expected ...`. CLIs exit with code 2.
 */
export class ConfigError extends Error {
  /** Every issue found (at least one). */
  readonly issues: ConfigIssue[];
  /** Creates an error from one or more issues. */
  constructor(issues: ConfigIssue[]) {
    super(
      issues.map((i) => `${formatLoc(i.loc)}: ${i.path ? i.path + ": " : ""}${i.message}`).join(
        "\n",
      ),
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
  /** Location of the first issue. */
  get loc(): SourceLoc {
    return this.issues[0].loc;
  }
  /** Key path of the first issue. */
  get path(): string {
    return this.issues[0].path;
  }
}

/** Throws a {@link ConfigError} with one issue. */
export function fail(loc: SourceLoc, path: string, message: string): never {
  throw new ConfigError([{ loc, path, message }]);
}

/** A path as shown in messages: relative to the working directory when that is shorter. */
export function displayPath(p: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(Deno.cwd(), p);
  return rel.startsWith("../../..") ? p : rel;
}

/** A plain mapping. */
export type Obj = Record<string, unknown>;

/** True for a plain mapping (not null, not a list). */
export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every key path of a schema node (objects only), parents before children. */
export function allLeafPaths(
  node: SchemaNode,
  prefix: string[] = [],
  out: string[][] = [],
): string[][] {
  if (node.kind === "object") {
    for (const [k, f] of Object.entries(node.fields)) {
      out.push([...prefix, k]);
      allLeafPaths(f, [...prefix, k], out);
    }
  }
  return out;
}

/** A " (did you mean ...?)" hint for an unknown key among `siblings`, or "". */
export function didYouMean(key: string, siblings: string[], parentPath: string[]): string {
  const close = siblings
    .map((s) => ({ s, d: editDistance(key.toLowerCase(), s.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(x.s.length / 3)))
    .sort((a, b) => a.d - b.d);
  if (close.length) {
    return ` (did you mean '${[...parentPath, close[0].s].join(".")}'?)`;
  }
  // The same key elsewhere in the schema (e.g. train.ratio -> masking.ratio).
  const elsewhere = allLeafPaths(SCHEMA).filter((p) => p[p.length - 1] === key).map((p) =>
    p.join(".")
  );
  if (elsewhere.length) return ` (did you mean '${elsewhere.slice(0, 3).join("' or '")}'?)`;
  return siblings.length ? ` (allowed keys: ${siblings.join(", ")})` : "";
}

/** The kind of a value as messages name it: null, a list, a mapping, number, string ... */
export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (isObj(v)) return "a mapping";
  return typeof v;
}

/** A value as messages show it: JSON, cut at 60 characters. */
export function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
}
