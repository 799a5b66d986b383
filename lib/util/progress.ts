/**
 * Progress display on stderr, one home for training, data collection and the
 * notebook helpers' terminal fallback: a line redrawn in place on a terminal,
 * plain lines otherwise.
 *
 * @module
 */

/** A text bar `[=====>      ]` of `width` cells for a fraction in [0, 1]. */
export function textBar(frac: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(frac) ? frac : 0));
  const filled = Math.round(f * width);
  return "[" + "=".repeat(Math.max(0, filled - 1)) + (filled > 0 ? ">" : "") +
    " ".repeat(width - filled) + "]";
}

/** Writes progress to stderr: an in-place line on a terminal, plain lines otherwise. */
export class Progress {
  #tty: boolean;
  #enc = new TextEncoder();
  /** @param enabled false silences it entirely. */
  constructor(readonly enabled: boolean) {
    this.#tty = enabled && Deno.stderr.isTerminal();
  }
  /** True when the line is redrawn in place (stderr is a terminal). */
  get tty(): boolean {
    return this.#tty;
  }
  /** Show a progress line (in place on a terminal; off a terminal only when `force`, e.g. at log steps). */
  update(line: string, force = false): void {
    if (!this.enabled || (!this.#tty && !force)) return;
    Deno.stderr.writeSync(this.#enc.encode(this.#tty ? `\r\x1b[2K${line}` : `${line}\n`));
  }
  /** Print a message on its own line. */
  message(line: string): void {
    if (!this.enabled) return;
    Deno.stderr.writeSync(this.#enc.encode(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`));
  }
  /** End the in-place line. */
  done(): void {
    if (this.#tty) Deno.stderr.writeSync(this.#enc.encode("\n"));
  }
}
