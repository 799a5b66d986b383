/**
 * Atomic file writes, the one implementation for every folder: the bytes go to
 * a temporary file beside the target (`<path>.tmp-<pid>-<random>`), are synced
 * to disk, then renamed over the target. A crash leaves the old file or the new
 * one, never half a file; leftover temporaries match {@link isTempFileName}.
 *
 * ```ts
 * await writeFileAtomic("runs/x/result.json", JSON.stringify(result));
 * writeFileAtomicSync("runs/x/config.hash", hash + "\n");
 * ```
 *
 * @module
 */

import { dirname } from "node:path";

/** The temporary name beside `path` that an atomic write of `path` goes through. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/** True for the file name of a temporary left by an interrupted atomic write. */
export function isTempFileName(name: string): boolean {
  return name.includes(".tmp-");
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

/**
 * Writes all of `bytes` to `path` and fsyncs it (no rename: the caller decides where it lands).
 * With `createNew` the file must not exist yet.
 */
export async function writeSynced(
  path: string,
  bytes: Uint8Array,
  opts: { createNew?: boolean } = {},
): Promise<void> {
  const f = await Deno.open(
    path,
    opts.createNew
      ? { write: true, createNew: true }
      : { write: true, create: true, truncate: true },
  );
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.sync();
  } finally {
    f.close();
  }
}

/**
 * Writes `data` to `path` atomically (temporary file, fsync, rename), creating
 * missing parent folders. Throws `write <path>: <reason>` when it cannot.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = toBytes(data);
  const tmp = tempPathFor(path);
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    await writeSynced(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** The synchronous twin of {@link writeFileAtomic} (same temporary name, fsync and errors). */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  const bytes = toBytes(data);
  const tmp = tempPathFor(path);
  try {
    Deno.mkdirSync(dirname(path), { recursive: true });
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    try {
      let off = 0;
      while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never created, or already gone */ }
    throw new Error(`write ${path}: ${(e as Error).message}`, { cause: e });
  }
}
