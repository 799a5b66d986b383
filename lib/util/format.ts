/**
 * Text formatting of quantities shown to people (durations), one home for
 * every folder.
 *
 * @module
 */

/** Formats seconds as `1h02m`, `3m05s` or `12s` (`?` for a negative or non-finite value). */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  s = Math.round(s);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}
