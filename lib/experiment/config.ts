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

import { resolve } from "node:path";
import { closestIds, isRegistered } from "../env/registry.ts";
import {
  type Config,
  describeNode,
  modelDims,
  PROFILE_NAMES,
  REMOVED_KEYS,
  SCHEMA,
  schemaDefault,
  type SchemaNode,
} from "../config/schema.ts";
import {
  ConfigError,
  type ConfigIssue,
  didYouMean,
  fail,
  isObj,
  type Obj,
  show,
  type SourceLoc,
  typeName,
} from "./config_errors.ts";
import {
  fileLayer,
  type KeyLocs,
  type Layer,
  loadChain,
  parseYamlText,
  prefixed,
} from "./yaml_positions.ts";
import { deepMerge, type Override, setPath, toOverrides } from "./overrides.ts";
import { editDistance } from "../util/text.ts";

export * from "../config/schema.ts";
export { ConfigError, type ConfigIssue, formatLoc, type SourceLoc } from "./config_errors.ts";
export { deepMerge } from "./overrides.ts";
/** Canonical JSON and the run-folder config hash live in lib/util/hash.ts; re-exported for the many users of this module. */
export { canonicalJson, configHash } from "../util/hash.ts";

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
  const stages = cfg.train.stages;
  if (stages.length) {
    const sum = stages.reduce((a, st) => a + st.share, 0);
    if (Math.abs(sum - 1) > 1e-9) {
      issue(
        ctx,
        ["train", "stages"],
        `the stage shares sum to ${+sum.toFixed(
          6,
        )}; they must sum to 1 (each stage trains share x train.steps steps)`,
      );
    }
    stages.forEach((st, i) => {
      if (Math.round(st.share * cfg.train.steps) < 1) {
        issue(
          ctx,
          ["train", "stages", String(i), "share"],
          `share ${st.share} of train.steps ${cfg.train.steps} is under one step; raise it`,
        );
      }
    });
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

/**
 * Loads, merges and validates a config file: `extends` chain, profile
 * (`opts.profile`, else the file's `profile:`), then overrides.
 * Throws {@link ConfigError} naming file:line:col and the key path.
 */
export function loadConfig(path: string, opts: LoadOptions = {}): Config {
  return loadConfigWith(path, opts, []);
}

/** {@link loadConfig} with overrides already parsed (ablation variants), applied before `opts`' own. */
export function loadConfigWith(path: string, opts: LoadOptions, extra: Override[]): Config {
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
  const raw: Obj = cfg;
  return resolveConfig(raw, source, { overrides });
}

/** Parses YAML text as a config (for tests and notebooks); `source` names it in errors. */
export function parseConfigText(text: string, source = "<text>", opts: LoadOptions = {}): Config {
  const f = parseYamlText(text, source);
  if (f.data.extends !== undefined) {
    fail(f.locs.get("extends")!.key, "extends", "extends needs a file: use loadConfig(path)");
  }
  return resolveLayers([sourceOf(f.data, fileLayer(f))], f.data, { file: source }, opts);
}
