/**
 * What every `cli/` entry point shares: arguments parsed with node:util's
 * `parseArgs` (with `--help`), and a main function run to an exit code.
 *
 * ```ts
 * async function main(args: string[]): Promise<number> {
 *   const parsed = parseCliArgs("render", USAGE, { args, options: { help: HELP_OPTION } });
 *   if (typeof parsed === "number") return parsed;
 *   ...
 * }
 * if (import.meta.main) await runCli(main);
 * ```
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** The `-h, --help` option every CLI takes. */
export const HELP_OPTION = { type: "boolean", short: "h", default: false } as const;

/**
 * Parses arguments with `parseArgs(config)`. Returns the result, or the exit code when the CLI
 * should stop: 0 after printing `usage` for `--help` (give `help: HELP_OPTION` in the options),
 * 2 after printing `<name>: <what was wrong>` and `usage` to stderr for a bad argument, or
 * `missing --<option> <what>` and `usage` for an option of `required` (option → what) not given.
 */
export function parseCliArgs<T extends ParseArgsConfig>(
  name: string,
  usage: string,
  config: T,
  required: Record<string, string> = {},
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    console.log(usage);
    return 0;
  }
  for (const [option, what] of Object.entries(required)) {
    if ((parsed.values as Record<string, unknown>)[option] === undefined) {
      console.error(`missing --${option} ${what}\n${usage}`);
      return 2;
    }
  }
  return parsed;
}

/**
 * Runs `main(Deno.args)` and exits with the code it returns. An exception is printed as
 * `<label>: <message>` (its stack too when $DEBUG is set) and exits with code 1.
 */
export async function runCli(
  main: (args: string[]) => number | Promise<number>,
  label = "error",
): Promise<never> {
  let code = 1;
  try {
    code = await main(Deno.args);
  } catch (e) {
    console.error(`${label}: ${(e as Error).message}`);
    if (Deno.env.get("DEBUG")) console.error((e as Error).stack);
  }
  Deno.exit(code);
}

/** The options of every CLI that loads an experiment config: `--config/-c`, `--set k=v` (repeatable), `--profile`. */
export const CONFIG_OPTIONS: {
  config: { type: "string"; short: "c" };
  set: { type: "string"; multiple: true; default: string[] };
  profile: { type: "string" };
} = {
  config: { type: "string", short: "c" },
  set: { type: "string", multiple: true, default: [] },
  profile: { type: "string" },
};

/** One option of a script: a string value (or a repeatable one), or a flag (parseArgs' config). */
export type ScriptOption = { type: "string"; multiple?: boolean } | { type: "boolean" };

/**
 * The arguments of a script run top level (bench/*): `Deno.args` parsed with node:util's
 * parseArgs against `options` (plus `--help`). Prints `usage` and exits 0 on `--help`; prints what
 * was wrong and the usage and exits 2 on an unknown option or a missing value. Returns a lookup
 * `arg(name, default)` for string options, `list(name)` for repeatable ones and `flag(name)` for
 * boolean ones.
 */
export function scriptArgs(
  name: string,
  usage: string,
  options: Record<string, ScriptOption>,
): {
  arg: (key: string, def: string) => string;
  list: (key: string) => string[];
  flag: (key: string) => boolean;
} {
  const parsed = parseCliArgs(name, usage, {
    args: Deno.args,
    options: { ...options, help: HELP_OPTION },
  });
  if (typeof parsed === "number") Deno.exit(parsed);
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  return {
    arg: (key, def) => {
      const v = values[key];
      return typeof v === "string" ? v : def;
    },
    list: (key) => {
      const v = values[key];
      return Array.isArray(v) ? v : [];
    },
    flag: (key) => values[key] === true,
  };
}
