/**
 * Experiment config loading: YAML files with `extends:` chains, profile
 * overlays, `--set key=value` overrides typed by the schema, and validation
 * that names file:line:col, the key path and what is expected.
 *
 * Order of application (later wins): schema defaults → each file of the
 * `extends` chain, parent first (maps merge, lists replace), each followed by
 * its own overlay of the selected profile (`profiles.<name>`) → overrides
 * (`--set`, ablation variants) → type and range checks. A profile overlay
 * thus changes the defaults of the file that defines it and of its parents,
 * but never a key written in a file that extends that file, nor an override.
 *
 * ```ts
 * const cfg = loadConfig("configs/experiments/cell_masking.yaml", {
 *   profile: "smoke",
 *   overrides: ["train.lr=3e-4"],
 * });
 * console.log(cfg.train.lr, configHash(cfg));
 * ```
 *
 * @module
 */

import { dirname, isAbsolute, relative, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { closestIds, isRegistered } from "../env/registry.ts";
import { configHash } from "../util/hash.ts";
import { editDistance } from "../util/text.ts";
import {
  type Config,
  describeNode,
  modelDims,
  PROFILE_NAMES,
  REMOVED_KEYS,
  SCHEMA,
  schemaDefault,
  type SchemaNode,
} from "./schema.ts";

export * from "./schema.ts";
/** Canonical JSON and the run-folder config hash live in lib/util/hash.ts; re-exported for the many users of this module. */
export { canonicalJson, configHash } from "../util/hash.ts";

// ---------------------------------------------------------------------------
// Errors and locations
// ---------------------------------------------------------------------------

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

function fail(loc: SourceLoc, path: string, message: string): never {
  throw new ConfigError([{ loc, path, message }]);
}

function displayPath(p: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(Deno.cwd(), p);
  return rel.startsWith("../../..") ? p : rel;
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge: maps merge key by key, everything else (lists included) is replaced by `over`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (isObj(base) && isObj(over)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) {
      out[k] = Object.hasOwn(base, k) ? deepMerge(base[k], v) : structuredClone(v);
    }
    return out;
  }
  return structuredClone(over);
}

function allLeafPaths(node: SchemaNode, prefix: string[] = [], out: string[][] = []): string[][] {
  if (node.kind === "object") {
    for (const [k, f] of Object.entries(node.fields)) {
      out.push([...prefix, k]);
      allLeafPaths(f, [...prefix, k], out);
    }
  }
  return out;
}

/** A " (did you mean ...?)" hint for an unknown key among `siblings`, or "". */
function didYouMean(key: string, siblings: string[], parentPath: string[]): string {
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

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (isObj(v)) return "a mapping";
  return typeof v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
}

// ---------------------------------------------------------------------------
// Layers: parsed sources with key locations
// ---------------------------------------------------------------------------

interface KeyLocs {
  key: SourceLoc;
  value: SourceLoc;
}

/** Something merged into the config, with where each key path came from. */
interface Layer {
  label: string;
  /** Locations by dotted path. */
  lookup: (path: string) => KeyLocs | undefined;
}

interface ParsedFile {
  abs: string;
  shown: string;
  data: Obj;
  locs: Map<string, KeyLocs>;
}

function parseYamlText(text: string, shown: string, abs = shown): ParsedFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const pos = lc.linePos(e.pos[0]);
    fail(
      { file: shown, line: pos.line, col: pos.col },
      "",
      `invalid YAML: ${e.message.split("\n")[0]}`,
    );
  }
  const at = (offset: number): SourceLoc => {
    const p = lc.linePos(offset);
    return { file: shown, line: p.line, col: p.col };
  };
  const locs = new Map<string, KeyLocs>();
  const walk = (node: unknown, path: string[]) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = pair.key as Node | null;
        const key = isScalar(k) ? String(k.value) : String(k);
        const keyLoc = k?.range ? at(k.range[0]) : at(0);
        const v = pair.value as Node | null;
        const valueLoc = v?.range ? at(v.range[0]) : keyLoc;
        const p = [...path, key];
        locs.set(p.join("."), { key: keyLoc, value: valueLoc });
        walk(v, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const it = item as Node | null;
        const loc = it?.range ? at(it.range[0]) : at(0);
        const p = [...path, String(i)];
        locs.set(p.join("."), { key: loc, value: loc });
        walk(it, p);
      });
    }
  };
  walk(doc.contents, []);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    fail({ file: shown, line: 1, col: 1 }, "", `invalid YAML: ${(e as Error).message}`);
  }
  if (data === null || data === undefined) data = {};
  if (!isObj(data)) {
    fail(
      { file: shown, line: 1, col: 1 },
      "",
      `a config file must be a YAML mapping (key: value lines), got ${typeName(data)}`,
    );
  }
  return { abs, shown, data, locs };
}

function readYamlFile(abs: string, from?: { loc: SourceLoc; path: string }): ParsedFile {
  const shown = displayPath(abs);
  let text: string;
  try {
    text = Deno.readTextFileSync(abs);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
    if (from) {
      fail(from.loc, from.path, `cannot read ${shown}: ${why} (paths are relative to this file)`);
    }
    fail({ file: shown }, "", `cannot read config: ${why}`);
  }
  return parseYamlText(text, shown, abs);
}

function fileLayer(f: ParsedFile): Layer {
  return { label: f.shown, lookup: (p) => f.locs.get(p) };
}

/** Reads a file and its `extends` chain; returns the files parent-first. */
function loadChain(
  abs: string,
  stack: string[] = [],
  from?: { loc: SourceLoc; path: string },
): ParsedFile[] {
  if (stack.includes(abs)) {
    const cycle = [...stack.slice(stack.indexOf(abs)), abs].map(displayPath).join(" -> ");
    fail(from!.loc, "extends", `extends cycle: ${cycle}; remove one of these extends`);
  }
  const f = readYamlFile(abs, from);
  const ext = f.data.extends;
  if (ext === undefined || ext === null) return [f];
  const extLoc = f.locs.get("extends")!;
  if (typeof ext !== "string" || ext === "") {
    fail(
      extLoc.value,
      "extends",
      `expected a path to a parent config (relative to this file), got ${typeName(ext)}`,
    );
  }
  const parent = resolve(dirname(abs), ext);
  const chain = loadChain(parent, [...stack, abs], { loc: extLoc.value, path: "extends" });
  return [...chain, f];
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

interface Ctx {
  layers: Layer[];
  issues: ConfigIssue[];
  fallback: SourceLoc;
}

function locate(ctx: Ctx, path: string[], which: "key" | "value"): SourceLoc {
  for (let n = path.length; n >= 0; n--) {
    const p = path.slice(0, n).join(".");
    for (let i = ctx.layers.length - 1; i >= 0; i--) {
      const hit = ctx.layers[i].lookup(p);
      if (hit) return n === path.length ? hit[which] : hit.key;
    }
  }
  return ctx.fallback;
}

function issue(ctx: Ctx, path: string[], message: string, which: "key" | "value" = "value") {
  ctx.issues.push({ loc: locate(ctx, path, which), path: path.join("."), message });
}

/**
 * Validates `v` against `node`; returns the normalized value (schema key
 * order, defaults filled in when `fill`), pushing issues to `ctx`.
 */
function check(v: unknown, node: SchemaNode, path: string[], ctx: Ctx, fill: boolean): unknown {
  const expected = () => `expected ${describeNode(node)}, got ${show(v)} (${typeName(v)})`;
  switch (node.kind) {
    case "nullable":
      return v === null ? null : check(v, node.inner, path, ctx, fill);
    case "number": {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        issue(ctx, path, expected());
        return v;
      }
      const bad = (node.int && !Number.isInteger(v)) ||
        (node.min !== undefined && v < node.min) || (node.max !== undefined && v > node.max) ||
        (node.gt !== undefined && !(v > node.gt)) || (node.lt !== undefined && !(v < node.lt));
      if (bad) issue(ctx, path, `${v} is out of range: expected ${describeNode(node)}`);
      return v;
    }
    case "string":
      if (typeof v !== "string") issue(ctx, path, expected());
      else if (node.pattern && !node.pattern.test(v)) issue(ctx, path, expected());
      return v;
    case "enum":
      if (typeof v !== "string" || !node.values.includes(v)) {
        let hint = "";
        if (typeof v === "string") {
          const close = node.values.map((s) => ({ s, d: editDistance(v, s) })).sort((a, b) =>
            a.d - b.d
          );
          if (close.length && close[0].d <= 3) hint = ` (did you mean '${close[0].s}'?)`;
        }
        issue(ctx, path, expected() + hint);
      }
      return v;
    case "boolean":
      if (typeof v !== "boolean") issue(ctx, path, expected());
      return v;
    case "array": {
      if (!Array.isArray(v)) {
        issue(ctx, path, expected());
        return v;
      }
      if (node.minItems && v.length < node.minItems) {
        issue(ctx, path, `expected at least ${node.minItems} item(s), got ${v.length}`);
      }
      return v.map((x, i) => check(x, node.item, [...path, String(i)], ctx, fill));
    }
    case "object": {
      if (!isObj(v)) {
        issue(ctx, path, expected());
        return v;
      }
      const out: Obj = {};
      const keys = Object.keys(node.fields);
      for (const k of Object.keys(v)) {
        if (!Object.hasOwn(node.fields, k)) {
          const removed = REMOVED_KEYS[[...path, k].join(".")];
          issue(ctx, [...path, k], removed ?? `unknown key${didYouMean(k, keys, path)}`, "key");
        }
      }
      for (const k of keys) {
        if (Object.hasOwn(v, k)) out[k] = check(v[k], node.fields[k], [...path, k], ctx, fill);
        else if (fill && node.required?.includes(k)) {
          issue(ctx, path, `missing key '${k}': expected ${describeNode(node.fields[k])}`);
        } else if (fill && !node.optional?.includes(k)) out[k] = schemaDefault(node.fields[k]);
      }
      return out;
    }
  }
}

/** Checks that involve several keys, or the env registry. */
function crossChecks(cfg: Config, ctx: Ctx): void {
  const dims = modelDims(cfg.model);
  if (dims.d_model % dims.n_heads !== 0) {
    const which = cfg.model.n_heads !== null ? "n_heads" : "d_model";
    issue(
      ctx,
      ["model", which],
      `d_model ${dims.d_model} is not divisible by n_heads ${dims.n_heads}; pick n_heads dividing d_model`,
    );
  }
  if (cfg.train.min_lr > cfg.train.lr) {
    issue(ctx, ["train", "min_lr"], `min_lr ${cfg.train.min_lr} must be <= lr ${cfg.train.lr}`);
  }
  if (cfg.masking.mixture.length && cfg.masking.mixture.every((m) => m.weight === 0)) {
    issue(ctx, ["masking", "mixture"], "the mixture weights are all 0; give one a weight > 0");
  }
  for (const key of ["envs", "test_envs"] as const) {
    cfg.data[key].forEach((id, i) => {
      if (typeof id === "string" && !isRegistered(id)) {
        const close = closestIds(id, 3);
        issue(
          ctx,
          ["data", key, String(i)],
          `unknown env id '${id}'` +
            (close.length ? ` (did you mean '${close.join("' or '")}'?)` : ""),
        );
      }
    });
  }
}

// ---------------------------------------------------------------------------
// Overrides
// ---------------------------------------------------------------------------

/** One override with where it came from. */
interface Override {
  path: string[];
  value: unknown;
  loc: SourceLoc;
}

function checkPath(path: string[], loc: SourceLoc, shown: string): SchemaNode {
  let node: SchemaNode = SCHEMA;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    while (node.kind === "nullable") node = node.inner;
    if (node.kind === "object" && Object.hasOwn(node.fields, seg)) {
      node = node.fields[seg];
    } else if (node.kind === "array" && /^\d+$/.test(seg)) {
      node = node.item;
    } else if (node.kind === "object") {
      const pre = path.slice(0, i);
      const removed = REMOVED_KEYS[[...pre, seg].join(".")];
      fail(
        loc,
        path.join("."),
        removed ??
          `unknown key '${[...pre, seg].join(".")}'${
            didYouMean(seg, Object.keys(node.fields), pre)
          }`,
      );
    } else {
      fail(
        loc,
        path.join("."),
        `'${path.slice(0, i).join(".")}' is ${
          describeNode(node)
        }, it has no key '${seg}' (${shown})`,
      );
    }
  }
  return node;
}

/** Parses an override's text value by the type of its target. */
function parseTyped(text: string, node: SchemaNode, loc: SourceLoc, path: string): unknown {
  const t = text.trim();
  switch (node.kind) {
    case "nullable":
      return t === "null" || t === "~" || t === "" ? null : parseTyped(t, node.inner, loc, path);
    case "number": {
      const n = t === "" ? NaN : Number(t.replaceAll("_", ""));
      if (!Number.isFinite(n)) {
        fail(loc, path, `expected ${describeNode(node)}, got ${JSON.stringify(text)}`);
      }
      return n;
    }
    case "boolean":
      if (/^(true|yes|on|1)$/i.test(t)) return true;
      if (/^(false|no|off|0)$/i.test(t)) return false;
      fail(loc, path, `expected true or false, got ${JSON.stringify(text)}`);
      break;
    case "string":
    case "enum":
      return t.length >= 2 && (t[0] === '"' || t[0] === "'") && t.at(-1) === t[0]
        ? t.slice(1, -1)
        : t;
    case "array": {
      if (t.startsWith("[")) return parseFlow(t, loc, path);
      if (t === "") return [];
      const item = node.item;
      return t.split(",").map((x) => parseTyped(x, item, loc, path));
    }
    case "object":
      return parseFlow(t, loc, path);
  }
}

function parseFlow(t: string, loc: SourceLoc, path: string): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(t, { lineCounter: lc });
  if (doc.errors.length) {
    fail(
      loc,
      path,
      `invalid YAML value ${JSON.stringify(t)}: ${doc.errors[0].message.split("\n")[0]}`,
    );
  }
  return doc.toJS();
}

/** Turns CLI strings (`a.b=c`) or a record (`{"a.b": c}`) into typed overrides. */
function toOverrides(
  overrides: string[] | Record<string, unknown> | undefined,
  source?: (key: string, which: "key" | "value") => SourceLoc,
): Override[] {
  if (!overrides) return [];
  const out: Override[] = [];
  const add = (key: string, raw: unknown, isText: boolean, label: string) => {
    const loc = source ? source(key, "value") : { file: label };
    const keyLoc = source ? source(key, "key") : loc;
    const path = key.split(".").map((s) => s.trim());
    if (!key || path.some((s) => s === "")) {
      fail(keyLoc, key, `bad key path '${key}': expected dotted keys like train.lr`);
    }
    const node = checkPath(path, keyLoc, label);
    const value = isText || typeof raw === "string"
      ? parseTyped(String(raw), node, loc, path.join("."))
      : structuredClone(raw);
    out.push({ path, value, loc });
  };
  if (Array.isArray(overrides)) {
    for (const s of overrides) {
      const i = s.indexOf("=");
      if (i <= 0) {
        fail(
          { file: `--set ${s}` },
          "",
          "expected key=value, e.g. --set train.lr=3e-4",
        );
      }
      add(s.slice(0, i).trim(), s.slice(i + 1), true, `--set ${s}`);
    }
  } else {
    for (const [k, v] of Object.entries(overrides)) add(k, v, false, `override ${k}`);
  }
  return out;
}

function setPath(root: Obj, path: string[], value: unknown, loc: SourceLoc): void {
  let cur: Obj | unknown[] = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (Array.isArray(cur) && Number(seg) > cur.length - (i === path.length - 1 ? 0 : 1)) {
      fail(
        loc,
        path.join("."),
        `index ${seg} is past the end of ${path.slice(0, i).join(".")} (${cur.length} items)`,
      );
    }
    if (i === path.length - 1) break;
    const next: unknown = (cur as Obj)[seg];
    if (Array.isArray(next)) {
      cur = next;
    } else if (isObj(next)) {
      cur = next;
    } else {
      const fresh: Obj = {};
      (cur as Obj)[seg] = fresh;
      cur = fresh;
    }
  }
  const last = path[path.length - 1];
  const old = (cur as Obj)[last];
  (cur as Obj)[last] = isObj(old) && isObj(value) ? deepMerge(old, value) : value;
}

// ---------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------

/** Options of {@link loadConfig} and {@link resolveConfig}. */
export interface LoadOptions {
  /** `["train.lr=3e-4", ...]` (typed by the schema) or `{"train.lr": 3e-4, ...}`. */
  overrides?: string[] | Record<string, unknown>;
  /** Alias of `overrides` (CLI `--set` values). */
  set?: string[] | Record<string, unknown>;
  /** Profile to apply (overrides the file's `profile:`); null = none. */
  profile?: string | null;
}

/**
 * One source of keys in merge order: a config file of the `extends` chain (parent first), or the
 * plain object given to {@link resolveConfig}, with its own `profiles:` section.
 */
interface Source {
  /** The keys of the source (without `extends` and `profiles`). */
  data: Obj;
  /** The source's `profiles:` section (undefined when absent). */
  profiles: unknown;
  /** Where its keys are (undefined for a plain object). */
  layer?: Layer;
}

function sourceOf(data: Obj, layer?: Layer): Source {
  const { extends: _e, profiles, ...rest } = data;
  return { data: rest, profiles, layer };
}

/**
 * Merges the sources and applies the profile and the overrides, then validates. Precedence,
 * lowest first: schema defaults; then per source in `extends` order (parent first) its own keys
 * and right after them its own `profiles.<name>` overlay; then `--set` / variant overrides. So a
 * profile overlay changes the keys of the file that defines it and of that file's parents (e.g.
 * configs/base.yaml's quick profile over base.yaml's defaults), never a key written in a file that
 * extends it, nor an override: a key the user wrote is never silently replaced.
 */
function resolveLayers(
  sources: Source[],
  input: Obj,
  fallback: SourceLoc,
  opts: LoadOptions,
  extraOverrides: Override[] = [],
): Config {
  const layers: Layer[] = [];
  const ctx: Ctx = { layers, issues: [], fallback };
  for (const src of sources) if (src.layer) layers.push(src.layer);
  const overrides = [
    ...extraOverrides,
    ...toOverrides(opts.overrides),
    ...toOverrides(opts.set),
  ];
  if (Object.hasOwn(input, "extends")) {
    issue(ctx, ["extends"], "extends is only allowed in config files", "key");
  }
  // Profiles: validate every overlay of every source as a partial config.
  for (const src of sources) {
    const profiles = src.profiles;
    if (profiles === undefined || profiles === null) continue;
    const sub: Ctx = { layers: src.layer ? [src.layer] : [], issues: [], fallback };
    if (!isObj(profiles)) {
      issue(
        sub,
        ["profiles"],
        `expected a mapping of ${PROFILE_NAMES.join(" | ")} to partial configs`,
      );
    } else {
      for (const [name, overlay] of Object.entries(profiles)) {
        if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
          issue(
            sub,
            ["profiles", name],
            `unknown profile${didYouMean(name, [...PROFILE_NAMES], ["profiles"])}`,
            "key",
          );
          continue;
        }
        if (overlay === null) continue;
        const inner: Ctx = {
          layers: src.layer ? [prefixed(src.layer, `profiles.${name}`)] : [],
          issues: [],
          fallback,
        };
        check(overlay, SCHEMA, [], inner, false);
        for (const i of inner.issues) {
          sub.issues.push({ ...i, path: `profiles.${name}${i.path ? "." + i.path : ""}` });
        }
      }
    }
    ctx.issues.push(...sub.issues);
  }
  if (ctx.issues.length) throw new ConfigError(ctx.issues);
  // The profile: --profile, else --set profile=, else the last source's `profile:`, else the default.
  let fileProfile: unknown = undefined;
  for (const src of sources) if (Object.hasOwn(src.data, "profile")) fileProfile = src.data.profile;
  const profOverride = overrides.filter((o) => o.path.length === 1 && o.path[0] === "profile")
    .at(-1);
  let profile: unknown = opts.profile !== undefined
    ? opts.profile
    : profOverride
    ? profOverride.value
    : fileProfile !== undefined
    ? fileProfile
    : schemaDefault(SCHEMA.kind === "object" ? SCHEMA.fields.profile : SCHEMA);
  if (profile !== null && profile !== undefined) {
    if (typeof profile !== "string" || !(PROFILE_NAMES as readonly string[]).includes(profile)) {
      const loc = opts.profile !== undefined
        ? { file: `--profile ${opts.profile}` }
        : profOverride?.loc ?? locate(ctx, ["profile"], "value");
      fail(
        loc,
        "profile",
        `expected one of ${PROFILE_NAMES.join(" | ")} (or null), got ${show(profile)}`,
      );
    }
  } else profile = null;
  // Merge: each source's keys, then its own overlay of the selected profile.
  let merged: Obj = {};
  layers.length = 0;
  for (const src of sources) {
    merged = deepMerge(merged, src.data) as Obj;
    if (src.layer) layers.push(src.layer);
    const overlay = profile !== null && isObj(src.profiles)
      ? src.profiles[profile as string]
      : undefined;
    if (isObj(overlay)) {
      merged = deepMerge(merged, overlay) as Obj;
      if (src.layer) layers.push(prefixed(src.layer, `profiles.${profile}`));
    }
  }
  merged.profile = profile;
  // Overrides (on top of the schema defaults, so that list items can be addressed).
  if (overrides.length) {
    merged = deepMerge(schemaDefault(SCHEMA), merged) as Obj;
    const olocs = new Map<string, KeyLocs>();
    for (const o of overrides) {
      if (o.path.length === 1 && o.path[0] === "profile") continue;
      setPath(merged, o.path, o.value, o.loc);
      for (const k of [...olocs.keys()]) {
        if (k.startsWith(o.path.join(".") + ".")) olocs.delete(k);
      }
      olocs.set(o.path.join("."), { key: o.loc, value: o.loc });
    }
    layers.push({ label: "overrides", lookup: (p) => olocs.get(p) });
  }
  const cfg = check(merged, SCHEMA, [], ctx, true) as Config;
  if (!ctx.issues.length) {
    cfg.data.dataset = cfg.data.dataset.replaceAll("{profile}", cfg.profile ?? "default");
    const sch = cfg.masking.schedule;
    if (sch.over === null) {
      if (sch.unit === "step") sch.over = Math.max(1, cfg.train.steps);
      else {issue(
          ctx,
          ["masking", "schedule", "over"],
          "null (= train.steps) needs unit: step; give a number of epochs",
        );}
    }
    crossChecks(cfg, ctx);
  }
  if (ctx.issues.length) throw new ConfigError(ctx.issues);
  return cfg;
}

/** A layer whose paths are looked up under `prefix` (a profile overlay inside a file). */
function prefixed(layer: Layer, prefix: string): Layer {
  return {
    label: `${layer.label} ${prefix}`,
    lookup: (p: string) => layer.lookup(p ? `${prefix}.${p}` : prefix),
  };
}

/**
 * Loads, merges and validates a config file: `extends` chain, profile
 * (`opts.profile`, else the file's `profile:`), then overrides.
 * Throws {@link ConfigError} naming file:line:col and the key path.
 */
export function loadConfig(path: string, opts: LoadOptions = {}): Config {
  return loadConfigWith(path, opts, []);
}

function loadConfigWith(path: string, opts: LoadOptions, extra: Override[]): Config {
  const abs = resolve(path);
  const chain = loadChain(abs);
  const top = chain[chain.length - 1];
  const sources = chain.map((f) => sourceOf(f.data, fileLayer(f)));
  return resolveLayers(sources, {}, { file: top.shown }, opts, extra);
}

/**
 * Validates a plain object as a config (profiles and overrides applied as in
 * {@link loadConfig}; `extends` is not allowed). `source` names it in errors.
 */
export function resolveConfig(
  obj: Record<string, unknown>,
  source = "<object>",
  opts: LoadOptions = {},
): Config {
  if (!isObj(obj)) fail({ file: source }, "", `expected a mapping, got ${typeName(obj)}`);
  const data = structuredClone(obj);
  return resolveLayers([sourceOf(data)], data, { file: source }, opts);
}

/**
 * Applies overrides to a resolved config and validates the result again.
 * `overrides`: `["train.lr=3e-4"]` or `{"train.lr": 3e-4, "masking.strategy": "attribute"}`.
 */
export function applyOverrides(
  cfg: Config,
  overrides: string[] | Record<string, unknown>,
  source = "<config>",
): Config {
  return resolveConfig(cfg as unknown as Obj, source, { overrides });
}

/** Parses YAML text as a config (for tests and notebooks); `source` names it in errors. */
export function parseConfigText(text: string, source = "<text>", opts: LoadOptions = {}): Config {
  const f = parseYamlText(text, source);
  if (f.data.extends !== undefined) {
    fail(f.locs.get("extends")!.key, "extends", "extends needs a file: use loadConfig(path)");
  }
  return resolveLayers([sourceOf(f.data, fileLayer(f))], f.data, { file: source }, opts);
}

// ---------------------------------------------------------------------------
// Ablations
// ---------------------------------------------------------------------------

/** One variant of an ablation study. */
export interface AblationVariant {
  /** Variant name (unique in the study). */
  name: string;
  /** Dotted-key overrides as written in the file. */
  set: Record<string, unknown>;
  /** The resolved experiment config of this variant. */
  config: Config;
  /** {@link configHash} of `config`. */
  hash: string;
}

/** A loaded ablation study (configs/ablations/*.yaml). */
export interface Ablation {
  /** Study name. */
  ablation: string;
  /** Human title. */
  title: string;
  /** Optional longer description. */
  description: string;
  /** Absolute path of the base experiment config. */
  base: string;
  /** Default seeds per variant. */
  seeds: number;
  /** Variant that paired comparisons are made against. */
  baseline: string;
  /** The profile the variants were resolved with (null = none). */
  profile: string | null;
  /** Variants in file order. */
  variants: AblationVariant[];
  /** Path of the ablation file. */
  file: string;
}

const ABLATION_KEYS = [
  "ablation",
  "title",
  "description",
  "base",
  "seeds",
  "baseline",
  "profile",
  "variants",
];

/** Options of {@link loadAblation}. */
export interface AblationOptions {
  /** Profile for every variant (default: the ablation file's `profile:`, else the base config's). */
  profile?: string | null;
  /** Extra overrides applied to every variant after its own `set`. */
  overrides?: string[] | Record<string, unknown>;
}

/**
 * Loads an ablation file: checks its keys, then resolves every variant's
 * config (the base config with the variant's `set` overrides, each validated
 * against the experiment schema with errors pointing into the ablation file).
 */
export function loadAblation(path: string, opts: AblationOptions = {}): Ablation {
  const abs = resolve(path);
  const f = readYamlFile(abs);
  const d = f.data;
  const at = (p: string, which: "key" | "value" = "value"): SourceLoc =>
    f.locs.get(p)?.[which] ?? { file: f.shown, line: 1, col: 1 };
  const issues: ConfigIssue[] = [];
  for (const k of Object.keys(d)) {
    if (!ABLATION_KEYS.includes(k)) {
      const close = ABLATION_KEYS.filter((s) => editDistance(k, s) <= 2);
      issues.push({
        loc: at(k, "key"),
        path: k,
        message: `unknown key` +
          (close.length
            ? ` (did you mean '${close[0]}'?)`
            : ` (allowed: ${ABLATION_KEYS.join(", ")})`),
      });
    }
  }
  const str = (k: string, required: boolean): string => {
    const v = d[k];
    if (v === undefined && !required) return "";
    if (typeof v !== "string" || v === "") {
      issues.push({
        loc: v === undefined ? { file: f.shown, line: 1, col: 1 } : at(k),
        path: k,
        message: v === undefined
          ? "missing key: expected a string"
          : `expected a string, got ${show(v)}`,
      });
      return "";
    }
    return v;
  };
  const name = str("ablation", true);
  const title = str("title", false) || name;
  const description = str("description", false);
  const base = str("base", true);
  const baseline = str("baseline", true);
  const seeds = d.seeds === undefined ? 1 : d.seeds;
  if (typeof seeds !== "number" || !Number.isInteger(seeds) || seeds < 1) {
    issues.push({
      loc: at("seeds"),
      path: "seeds",
      message: `expected an integer >= 1, got ${show(seeds)}`,
    });
  }
  const variantsRaw = d.variants;
  if (!Array.isArray(variantsRaw) || variantsRaw.length === 0) {
    issues.push({
      loc: variantsRaw === undefined ? { file: f.shown, line: 1, col: 1 } : at("variants"),
      path: "variants",
      message: "expected a non-empty list of {name, set}",
    });
  }
  if (issues.length) throw new ConfigError(issues);
  const baseAbs = resolve(dirname(abs), base);
  try {
    Deno.statSync(baseAbs);
  } catch {
    fail(
      at("base"),
      "base",
      `cannot read ${displayPath(baseAbs)}: file not found (paths are relative to this file)`,
    );
  }
  let profile: string | null | undefined = opts.profile;
  if (profile === undefined && d.profile !== undefined) {
    if (d.profile !== null && !(PROFILE_NAMES as readonly string[]).includes(d.profile as string)) {
      fail(
        at("profile"),
        "profile",
        `expected one of ${PROFILE_NAMES.join(" | ")}, got ${show(d.profile)}`,
      );
    }
    profile = d.profile as string | null;
  }
  const names = new Set<string>();
  const variants: AblationVariant[] = [];
  (variantsRaw as unknown[]).forEach((v, i) => {
    const vp = `variants.${i}`;
    if (!isObj(v)) fail(at(vp), vp, `expected {name, set}, got ${show(v)}`);
    for (const k of Object.keys(v)) {
      if (k !== "name" && k !== "set") {
        fail(at(`${vp}.${k}`, "key"), `${vp}.${k}`, "unknown key (a variant has name and set)");
      }
    }
    if (typeof v.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v.name)) {
      fail(
        at(`${vp}.name`),
        `${vp}.name`,
        `expected a name of letters, digits, '_', '-', '.', got ${show(v.name)}`,
      );
    }
    if (names.has(v.name)) {
      fail(at(`${vp}.name`), `${vp}.name`, `duplicate variant name '${v.name}'`);
    }
    names.add(v.name);
    const set = v.set === undefined || v.set === null ? {} : v.set;
    if (!isObj(set)) {
      fail(at(`${vp}.set`), `${vp}.set`, `expected a mapping of dotted keys to values`);
    }
    const extra = toOverrides(set, (key, which) => at(`${vp}.set.${key}`, which));
    const config = loadConfigWith(baseAbs, { profile, overrides: opts.overrides }, extra);
    variants.push({ name: v.name, set: set as Obj, config, hash: configHash(config) });
  });
  if (!names.has(baseline)) {
    fail(
      at("baseline"),
      "baseline",
      `'${baseline}' is not a variant name (variants: ${[...names].join(", ")})`,
    );
  }
  return {
    ablation: name,
    title,
    description,
    base: baseAbs,
    seeds: seeds as number,
    baseline,
    profile: variants[0]?.config.profile ?? null,
    variants,
    file: abs,
  };
}
