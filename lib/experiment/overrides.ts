/**
 * Overrides (`--set key=value`, ablation variants' `set:`): key paths checked
 * against the schema, text values typed by the schema node they target, and
 * written into a merged config; plus the deep merge used for every layer.
 *
 * @module
 */

import { LineCounter, parseDocument } from "yaml";
import { describeNode, REMOVED_KEYS, SCHEMA, type SchemaNode } from "../config/schema.ts";
import { didYouMean, fail, isObj, type Obj, type SourceLoc } from "./config_errors.ts";

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

/** One override with where it came from. */
export interface Override {
  path: string[];
  value: unknown;
  loc: SourceLoc;
}

export function checkPath(path: string[], loc: SourceLoc, shown: string): SchemaNode {
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
export function parseTyped(text: string, node: SchemaNode, loc: SourceLoc, path: string): unknown {
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

export function parseFlow(t: string, loc: SourceLoc, path: string): unknown {
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
export function toOverrides(
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

export function setPath(root: Obj, path: string[], value: unknown, loc: SourceLoc): void {
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
