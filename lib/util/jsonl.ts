/**
 * JSON Lines (`*.jsonl`, one JSON value a line) readers, the one
 * implementation for every folder. Two readings: strict (a bad line is an
 * error naming `file:line`) for data that must be whole, and lenient (blank,
 * torn and non-object lines skipped) for logs that a running process may be
 * appending to.
 *
 * @module
 */

/** Parses JSON Lines text strictly: blank lines are skipped, a bad line throws `<source>:<line>: invalid JSON line`. */
export function parseJsonl<T = Record<string, unknown>>(text: string, source = "<jsonl>"): T[] {
  const out: T[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    try {
      out.push(JSON.parse(lines[i]) as T);
    } catch (e) {
      throw new Error(`${source}:${i + 1}: invalid JSON line (${(e as Error).message})`);
    }
  }
  return out;
}

/** The JSON objects of a JSON Lines text; blank, unparsable (a torn last line) and non-object lines are skipped. */
export function parseJsonlLenient<T = Record<string, unknown>>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      if (r && typeof r === "object" && !Array.isArray(r)) out.push(r as T);
    } catch { /* a torn line */ }
  }
  return out;
}

/** Reads a JSON Lines file strictly (see {@link parseJsonl}); errors name the file and line. */
export async function readJsonl<T = Record<string, unknown>>(path: string): Promise<T[]> {
  return parseJsonl<T>(await Deno.readTextFile(path), path);
}

/** Reads a JSON Lines log leniently (see {@link parseJsonlLenient}); a missing file reads as no records. */
export function readJsonlLenientSync<T = Record<string, unknown>>(path: string): T[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return parseJsonlLenient<T>(text);
}
