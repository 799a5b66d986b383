/**
 * YAML config files with positions: parses a file (and its `extends` chain)
 * into plain data plus the `file:line:col` of every key path, so that config
 * messages can point at the line to change.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { displayPath, fail, isObj, type Obj, type SourceLoc, typeName } from "./config_errors.ts";

export interface KeyLocs {
  key: SourceLoc;
  value: SourceLoc;
}

/** Something merged into the config, with where each key path came from. */
export interface Layer {
  label: string;
  /** Locations by dotted path. */
  lookup: (path: string) => KeyLocs | undefined;
}

export interface ParsedFile {
  abs: string;
  shown: string;
  data: Obj;
  locs: Map<string, KeyLocs>;
}

export function parseYamlText(text: string, shown: string, abs = shown): ParsedFile {
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

export function readYamlFile(abs: string, from?: { loc: SourceLoc; path: string }): ParsedFile {
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

export function fileLayer(f: ParsedFile): Layer {
  return { label: f.shown, lookup: (p) => f.locs.get(p) };
}

/** Reads a file and its `extends` chain; returns the files parent-first. */
export function loadChain(
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

/** A layer whose paths are looked up under `prefix` (a profile overlay inside a file). */
export function prefixed(layer: Layer, prefix: string): Layer {
  return {
    label: `${layer.label} ${prefix}`,
    lookup: (p: string) => layer.lookup(p ? `${prefix}.${p}` : prefix),
  };
}
