/**
 * Ablation studies (`configs/ablations/*.yaml`): a base experiment config and
 * named variants, each a set of overrides; every variant is resolved and
 * validated like a config, with errors pointing into the ablation file.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { configHash } from "../util/hash.ts";
import { editDistance } from "../util/text.ts";
import { type Config, PROFILE_NAMES } from "../config/schema.ts";
import {
  ConfigError,
  type ConfigIssue,
  displayPath,
  fail,
  isObj,
  type Obj,
  show,
  type SourceLoc,
} from "./config_errors.ts";
import { readYamlFile } from "./yaml_positions.ts";
import { toOverrides } from "./overrides.ts";
import { loadConfigWith } from "./config.ts";
import { resolveMetricKey } from "../eval/catalogue.ts";

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
  /**
   * `scale:` as written (null when absent): multiples of the values the variant's config resolves
   * to under the profile and every override, for the keys of {@link SCALABLE_KEYS}
   * (`{ train.steps: 4 }` trains four times the profile's steps, whatever the profile).
   */
  scale: Record<string, number> | null;
}

/** A named paired question of a study (`contrasts:`): `variant` against `baseline`. */
export interface Contrast {
  /** The question, as the report prints it. */
  question: string;
  /** Variant on the left of the difference (variant - baseline). */
  variant: string;
  /** Variant it is compared against. */
  baseline: string;
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
  /** Default seeds per variant under the selected profile (`seeds:` may be given per profile). */
  seeds: number;
  /** Variant that paired comparisons are made against. */
  baseline: string;
  /** The profile the variants were resolved with (null = none). */
  profile: string | null;
  /** Variants in file order. */
  variants: AblationVariant[];
  /**
   * Pre-registered primary endpoints (`primary:`, catalogue keys of lib/eval/catalogue.ts, aliases
   * resolved); empty: none, every metric is secondary.
   */
  primary: string[];
  /**
   * The paired questions (`contrasts:`); without the key, every other variant against `baseline`
   * (with `question` naming the pair).
   */
  contrasts: Contrast[];
  /** Whether `contrasts` came from the file (false: the default, each variant vs the baseline). */
  contrastsGiven: boolean;
  /**
   * `run_by_default:` (default true): whether `deno task ablate` without study names runs it.
   * A costly study (the budget curve) sets false and runs when named.
   */
  runByDefault: boolean;
  /** Path of the ablation file. */
  file: string;
}

/** Keys a variant's `scale:` may multiply; integer keys are rounded (at least 1). */
export const SCALABLE_KEYS = { "train.steps": "integer", "train.lr": "number" } as const;

const ABLATION_KEYS = [
  "ablation",
  "title",
  "description",
  "base",
  "seeds",
  "baseline",
  "profile",
  "variants",
  "primary",
  "contrasts",
  "run_by_default",
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
  // `seeds: N`, or per profile: `seeds: { default: 1, standard: 3 }` (the selected profile's entry,
  // else `default`, else 1).
  const seedsByProfile: Record<string, unknown> = d.seeds === undefined
    ? { default: 1 }
    : isObj(d.seeds)
    ? d.seeds
    : { default: d.seeds };
  for (const [k, n] of Object.entries(seedsByProfile)) {
    const p = isObj(d.seeds) ? `seeds.${k}` : "seeds";
    if (k !== "default" && !(PROFILE_NAMES as readonly string[]).includes(k)) {
      issues.push({
        loc: at(p, "key"),
        path: p,
        message: `unknown profile '${k}' (expected default | ${PROFILE_NAMES.join(" | ")})`,
      });
    } else if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      issues.push({ loc: at(p), path: p, message: `expected an integer >= 1, got ${show(n)}` });
    }
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
      if (k !== "name" && k !== "set" && k !== "scale") {
        fail(
          at(`${vp}.${k}`, "key"),
          `${vp}.${k}`,
          "unknown key (a variant has name, set and optionally scale)",
        );
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
    let config = loadConfigWith(baseAbs, { profile, overrides: opts.overrides }, extra);
    const scaled: Record<string, number> = {};
    const scale = v.scale === undefined || v.scale === null ? null : v.scale;
    if (scale !== null) {
      if (!isObj(scale)) {
        fail(at(`${vp}.scale`), `${vp}.scale`, `expected a mapping of keys to multiples`);
      }
      for (const [key, x] of Object.entries(scale)) {
        const kp = `${vp}.scale.${key}`;
        if (!(key in SCALABLE_KEYS)) {
          fail(
            at(kp, "key"),
            kp,
            `cannot be scaled (scalable keys: ${Object.keys(SCALABLE_KEYS).join(", ")})`,
          );
        }
        if (typeof x !== "number" || !Number.isFinite(x) || x <= 0) {
          fail(at(kp), kp, `expected a positive multiple, got ${show(x)}`);
        }
        // After the profile and every override: the multiple follows what the run would train.
        const [sec, name] = key.split(".") as ["train", "steps" | "lr"];
        const now = config[sec][name] * x;
        scaled[key] = SCALABLE_KEYS[key as keyof typeof SCALABLE_KEYS] === "integer"
          ? Math.max(1, Math.round(now))
          : now;
      }
      // Resolved again with the scaled values applied last, so every check of the config
      // (ranges, min_lr <= lr) sees them.
      try {
        config = loadConfigWith(
          baseAbs,
          { profile, overrides: opts.overrides, set: scaled },
          extra,
        );
      } catch (e) {
        fail(
          at(`${vp}.scale`),
          `${vp}.scale`,
          `the scaled config ${JSON.stringify(scaled)} is invalid: ${(e as Error).message}`,
        );
      }
    }
    variants.push({
      name: v.name,
      set: set as Obj,
      config,
      hash: configHash(config),
      scale: scale as Record<string, number> | null,
    });
  });
  if (!names.has(baseline)) {
    fail(
      at("baseline"),
      "baseline",
      `'${baseline}' is not a variant name (variants: ${[...names].join(", ")})`,
    );
  }
  // Pre-registered endpoints: catalogue keys.
  const primary: string[] = [];
  if (d.primary !== undefined) {
    if (!Array.isArray(d.primary) || d.primary.some((k) => typeof k !== "string")) {
      fail(at("primary"), "primary", `expected a list of metric keys, got ${show(d.primary)}`);
    }
    (d.primary as string[]).forEach((k, i) => {
      const r = resolveMetricKey(k);
      if ("error" in r) fail(at(`primary.${i}`), `primary.${i}`, r.error);
      if (primary.includes(r.key)) {
        fail(at(`primary.${i}`), `primary.${i}`, `'${k}' is listed twice`);
      }
      primary.push(r.key);
    });
  }
  // Named paired questions: variant - baseline.
  const contrasts: Contrast[] = [];
  const contrastsGiven = d.contrasts !== undefined;
  if (contrastsGiven) {
    if (!Array.isArray(d.contrasts) || d.contrasts.length === 0) {
      fail(
        at("contrasts"),
        "contrasts",
        `expected a non-empty list of {question, variant, baseline}, got ${show(d.contrasts)}`,
      );
    }
    (d.contrasts as unknown[]).forEach((c, i) => {
      const cp = `contrasts.${i}`;
      if (!isObj(c)) fail(at(cp), cp, `expected {question, variant, baseline}, got ${show(c)}`);
      for (const k of Object.keys(c)) {
        if (!["question", "variant", "baseline"].includes(k)) {
          fail(
            at(`${cp}.${k}`, "key"),
            `${cp}.${k}`,
            "unknown key (a contrast has question, variant and baseline)",
          );
        }
      }
      for (const k of ["question", "variant", "baseline"] as const) {
        if (typeof c[k] !== "string" || c[k] === "") {
          fail(
            c[k] === undefined ? at(cp) : at(`${cp}.${k}`),
            `${cp}.${k}`,
            c[k] === undefined
              ? `missing key: expected a string`
              : `expected a string, got ${show(c[k])}`,
          );
        }
      }
      for (const k of ["variant", "baseline"] as const) {
        const v = c[k] as string;
        if (!names.has(v)) {
          const close = [...names].filter((n) => editDistance(n, v) <= 2);
          fail(
            at(`${cp}.${k}`),
            `${cp}.${k}`,
            `'${v}' is not a variant name` +
              (close.length
                ? ` (did you mean '${close[0]}'?)`
                : ` (variants: ${[...names].join(", ")})`),
          );
        }
      }
      if (c.variant === c.baseline) {
        fail(at(`${cp}.baseline`), `${cp}.baseline`, "a contrast compares two different variants");
      }
      contrasts.push({
        question: c.question as string,
        variant: c.variant as string,
        baseline: c.baseline as string,
      });
    });
  } else {
    for (const v of variants) {
      if (v.name === baseline) continue;
      contrasts.push({ question: `${v.name} vs ${baseline}`, variant: v.name, baseline });
    }
  }
  const runByDefault = d.run_by_default === undefined ? true : d.run_by_default;
  if (typeof runByDefault !== "boolean") {
    fail(
      at("run_by_default"),
      "run_by_default",
      `expected true or false, got ${show(runByDefault)}`,
    );
  }
  const resolved = variants[0]?.config.profile ?? null;
  return {
    ablation: name,
    title,
    description,
    base: baseAbs,
    seeds: ((resolved && seedsByProfile[resolved]) ?? seedsByProfile.default ?? 1) as number,
    baseline,
    profile: resolved,
    variants,
    primary,
    contrasts,
    contrastsGiven,
    runByDefault,
    file: abs,
  };
}
