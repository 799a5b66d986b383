/**
 * Hashes of bytes and of JSON values, one home for every folder: file
 * checksums (datasets), dataset identities (the full sha256 of a canonical
 * data config) and run-folder config hashes (its first 12 hex digits).
 *
 * @module
 */

import { createHash } from "node:crypto";

/** Hex sha256 of bytes or of a string's UTF-8 bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = canonical(o[k]);
    return out;
  }
  return v;
}

/** Canonical JSON of a value: object keys sorted at every level, undefined keys dropped, no whitespace. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(canonical(v)) ?? "null";
}

/** Full hex sha256 of the canonical JSON of `v` (a dataset's identity). */
export function jsonHash(v: unknown): string {
  return sha256Hex(canonicalJson(v));
}

/** Stable short hash of a config: the first 12 hex digits of {@link jsonHash} (run-folder names). */
export function configHash(cfg: unknown): string {
  return jsonHash(cfg).slice(0, 12);
}
