/**
 * TensorBoard event files, written by hand: a run's scalars in the `tfevents` record format that
 * `tensorboard --logdir runs/` reads, beside `metrics.jsonl`.
 *
 * The format (TensorFlow's `TFRecord` framing around `Event` protocol buffers):
 *
 * - every record is `uint64 length`, `uint32 masked_crc32c(length bytes)`, the payload, and
 *   `uint32 masked_crc32c(payload)`, little-endian; the mask is `((crc >>> 15) | (crc << 17)) +
 *   0xa282ead8`;
 * - the first payload is an `Event` with `wall_time` and `file_version = "brain.Event:2"`;
 * - every scalar is an `Event { wall_time (1: double), step (2: int64), summary (5) }` whose
 *   `Summary` holds `Value { tag (1: string), simple_value (2: float) }` entries.
 *
 * Only the handful of protobuf wire types these messages need are encoded here (varint, 64-bit,
 * 32-bit, length-delimited). A metrics record becomes one event: its numeric fields (nested maps
 * flattened with `/`) under `<kind>/<name>`, e.g. `train/loss`, `val/acc_heads/obj`.
 *
 * Writing never stops training: the first I/O error is reported once through `onError` and the
 * writer turns itself off. Every {@link TensorBoardWriter.write} appends and closes the file, so
 * the events are on disk after each log.
 *
 * @module
 */

/** CRC-32C (Castagnoli) lookup table, reflected polynomial 0x82f63b78. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The masked CRC TFRecord files store. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** A growable byte buffer with the protobuf encoders the event messages need. */
class ProtoWriter {
  #buf = new Uint8Array(64);
  #len = 0;
  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
  #byte(b: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = b;
  }
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.#byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.#byte(Number(x));
  }
  #tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  double(field: number, v: number): void {
    this.#tag(field, 1);
    this.#ensure(8);
    new DataView(this.#buf.buffer).setFloat64(this.#len, v, true);
    this.#len += 8;
  }
  float(field: number, v: number): void {
    this.#tag(field, 5);
    this.#ensure(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, v, true);
    this.#len += 4;
  }
  int64(field: number, v: number): void {
    this.#tag(field, 0);
    this.varint(v);
  }
  bytes(field: number, b: Uint8Array): void {
    this.#tag(field, 2);
    this.varint(b.length);
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** One TFRecord: length, its masked CRC, the payload and the payload's masked CRC. */
export function frameRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(payload.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  dv.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}

/** An `Event` holding the file version (the first record of every event file). */
function versionEvent(wallTime: number): Uint8Array {
  const w = new ProtoWriter();
  w.double(1, wallTime);
  w.string(3, "brain.Event:2");
  return w.finish();
}

/** An `Event` holding scalar summaries at `step`. */
export function scalarEvent(
  step: number,
  wallTime: number,
  scalars: [string, number][],
): Uint8Array {
  const summary = new ProtoWriter();
  for (const [tag, value] of scalars) {
    const v = new ProtoWriter();
    v.string(1, tag);
    v.float(2, value);
    summary.bytes(1, v.finish());
  }
  const w = new ProtoWriter();
  w.double(1, wallTime);
  w.int64(2, step);
  w.bytes(5, summary.finish());
  return w.finish();
}

/**
 * The scalars of one metrics record: every finite number (nested maps flattened with `/`) except
 * the bookkeeping fields `step` and `kind`, tagged `<kind>/<path>`.
 */
export function recordScalars(rec: Record<string, unknown>, kind?: string): [string, number][] {
  const prefix = kind ?? String(rec.kind ?? "metrics");
  const out: [string, number][] = [];
  const walk = (obj: Record<string, unknown>, path: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (path === "" && (k === "step" || k === "kind")) continue;
      const p = path ? `${path}/${k}` : k;
      if (typeof v === "number" && Number.isFinite(v)) out.push([`${prefix}/${p}`, v]);
      else if (v && typeof v === "object" && !Array.isArray(v)) {
        walk(v as Record<string, unknown>, p);
      }
    }
  };
  walk(rec, "");
  return out;
}

/** Options of {@link TensorBoardWriter}. */
export interface TensorBoardOptions {
  /** Called once with the first I/O error; the writer is off afterwards (default: console.warn). */
  onError?: (e: unknown) => void;
  /** File-name suffix after the timestamp (default: the host name). */
  suffix?: string;
}

/**
 * Appends scalar events to one `events.out.tfevents.<time>.<suffix>` file in a run directory.
 * Create it with {@link TensorBoardWriter.create}; {@link TensorBoardWriter.write} each metrics
 * record as it is logged.
 */
export class TensorBoardWriter {
  #off = false;
  private constructor(readonly path: string, readonly onError: (e: unknown) => void) {}

  /**
   * A writer on a new event file in `dir`. `fresh: true` first removes the directory's older
   * event files (a resumed run rewrites its events from `metrics.jsonl`, so TensorBoard never
   * shows the discarded steps twice).
   */
  static async create(
    dir: string,
    opts: TensorBoardOptions & { fresh?: boolean } = {},
  ): Promise<TensorBoardWriter> {
    const onError = opts.onError ??
      ((e: unknown) =>
        console.warn(
          `tensorboard: event file writing stopped (${e instanceof Error ? e.message : e}); ` +
            `training goes on, metrics.jsonl is complete`,
        ));
    const now = Date.now() / 1000;
    let suffix = opts.suffix;
    if (suffix === undefined) {
      try {
        suffix = Deno.hostname();
      } catch {
        suffix = "localhost";
      }
    }
    const path = `${dir}/events.out.tfevents.${Math.floor(now)}.${suffix}`;
    const w = new TensorBoardWriter(path, onError);
    try {
      if (opts.fresh) {
        for (const e of Deno.readDirSync(dir)) {
          if (e.isFile && e.name.startsWith("events.out.tfevents.")) {
            Deno.removeSync(`${dir}/${e.name}`);
          }
        }
      }
      await Deno.writeFile(path, frameRecord(versionEvent(now)));
    } catch (e) {
      w.#fail(e);
    }
    return w;
  }

  /** Whether an error has turned the writer off. */
  get disabled(): boolean {
    return this.#off;
  }

  #fail(e: unknown): void {
    if (this.#off) return;
    this.#off = true;
    this.onError(e);
  }

  /** Append the scalars of `records` (one event per record; records without scalars are skipped). */
  async write(records: Record<string, unknown>[], wallTime = Date.now() / 1000): Promise<void> {
    if (this.#off) return;
    const parts: Uint8Array[] = [];
    for (const rec of records) {
      const scalars = recordScalars(rec);
      const step = Number(rec.step ?? 0);
      if (scalars.length === 0 || !Number.isFinite(step)) continue;
      parts.push(frameRecord(scalarEvent(Math.round(step), wallTime, scalars)));
    }
    if (parts.length === 0) return;
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    try {
      await Deno.writeFile(this.path, all, { append: true });
    } catch (e) {
      this.#fail(e);
    }
  }
}
