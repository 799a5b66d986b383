/**
 * Export windows as JSONL for fine-tuning a large pretrained masked-diffusion LM (LLaDA-style SFT)
 * elsewhere: `deno task export-llada <dataset> [--split train] [--out file.jsonl]`.
 *
 * Format: one JSON object per line, one line per window of the split (window enumeration of
 * `tokenize.ts`, in stored order), fields:
 *
 * - `prompt` (string): the window in the flat text form of `flat.ts` — `<bos> <mission> go to the
 *   red ball </mission> <frame> o2 c5 s0 … d1 a2 <frame> … <eos>` — with every slot hidden by the
 *   masking strategy written as `<mask>`. This is the mission plus the history the model sees.
 * - `response` (string): the true tokens of the hidden slots, space-separated, in the order of the
 *   `<mask>` tokens in the prompt (the i-th `<mask>` is the i-th response token). With the default
 *   `next_action` strategy it is one action token such as `a2` (`a7` = the episode ends here).
 * - `id` (string): `<split>/<episode>/<start>`; `episode` (number, index within the split), `start`
 *   (episode frame of the window's first slot; negative when the window starts before the episode
 *   and is padded on the left), `frames` (valid frames, <= K: the window's last `frames` slots);
 * - `env_id` and `seed` when the data carries them (env id and env seed of the episode);
 * - `strategy` (string): the masking strategy used;
 * - with `--ids`: `prompt_ids` and `response_ids`, the same as flat vocabulary ids
 *   (`FLAT_VOCAB` in `flat.ts`; 1 = `<mask>`).
 *
 * Token meanings: `o<i>` object id, `c<i>` colour id, `s<i>` door state, `d<i>` direction,
 * `a<i>` action, cells in MiniGrid's `obs["image"]` order (index `vx*7+vy`, 49 per frame). Masks
 * are reproducible: window w of the split gets the mask drawn for chunk `floor(w / 256)` with
 * `(seed, epoch 0, step 0, batchIndex = chunk)`.
 *
 * @module
 */

import {
  type EpisodeData,
  fillBatch,
  tokenizeEpisodes,
  type WindowConfig,
  windowInfo,
} from "../data/tokenize.ts";
import { encodeWindowFlat, flatToText, maskedTargetsFlat } from "../data/flat.ts";
import { DEFAULT_MASKING, drawMask, type MaskingConfig } from "../masking/mod.ts";

/** Windows per masking chunk (part of the reproducibility contract above). */
export const EXPORT_CHUNK = 256;

/** One exported line. */
export interface LladaRecord {
  /** `<split>/<episode>/<start>`. */
  id: string;
  /** Masked window text. */
  prompt: string;
  /** Hidden tokens, in `<mask>` order. */
  response: string;
  /** Episode index in the split. */
  episode: number;
  /** Episode frame of the window's first slot (negative: left padding). */
  start: number;
  /** Valid frames in the window. */
  frames: number;
  /** Masking strategy. */
  strategy: string;
  /** Env id of the episode, when known. */
  env_id?: string;
  /** Env seed of the episode, when known. */
  seed?: number;
  /** Flat ids of the prompt (with `ids`). */
  prompt_ids?: number[];
  /** Flat ids of the response (with `ids`). */
  response_ids?: number[];
}

/** Options of {@link lladaRecords}. */
export interface ExportOptions {
  /** Window cutting (the `window` config section). */
  window: WindowConfig;
  /** Masking config; default: {@link DEFAULT_MASKING} with strategy `next_action`. */
  masking?: MaskingConfig;
  /** Mask seed (default 0). */
  seed?: number;
  /** Split name for ids (default `train`). */
  split?: string;
  /** Also write `prompt_ids` / `response_ids`. */
  ids?: boolean;
  /** Stop after this many windows. */
  limit?: number;
}

/** Optional per-episode metadata that stored datasets carry (lib/data/store.ts). */
interface EpisodeMeta {
  envIds?: string[];
  envIndex?: ArrayLike<number>;
  seeds?: ArrayLike<number>;
}

/** The records of `data`, one per window, in order. */
export function* lladaRecords(data: EpisodeData, opts: ExportOptions): Generator<LladaRecord> {
  const masking = opts.masking ?? { ...DEFAULT_MASKING, strategy: "next_action" };
  const ds = tokenizeEpisodes(data, opts.window);
  const meta = data as EpisodeData & EpisodeMeta;
  const split = opts.split ?? "train";
  const n = Math.min(ds.numWindows, opts.limit ?? Infinity);
  for (let chunk = 0; chunk * EXPORT_CHUNK < n; chunk++) {
    const from = chunk * EXPORT_CHUNK, count = Math.min(EXPORT_CHUNK, n - from);
    const ids = Array.from({ length: count }, (_, i) => from + i);
    const batch = fillBatch(ds, ids);
    const mask = drawMask(masking, batch, {
      seed: opts.seed ?? 0,
      epoch: 0,
      step: 0,
      batchIndex: chunk,
    });
    for (let b = 0; b < count; b++) {
      const info = windowInfo(ds, from + b);
      const p = encodeWindowFlat(batch, b, mask);
      const r = maskedTargetsFlat(batch, b, mask);
      const rec: LladaRecord = {
        id: `${split}/${info.episode}/${info.start}`,
        prompt: flatToText(p),
        response: flatToText(r),
        episode: info.episode,
        start: info.start,
        frames: info.frames,
        strategy: masking.strategy,
      };
      if (meta.envIds && meta.envIndex) rec.env_id = meta.envIds[meta.envIndex[info.episode]];
      if (meta.seeds) rec.seed = Number(meta.seeds[info.episode]);
      if (opts.ids) {
        rec.prompt_ids = Array.from(p);
        rec.response_ids = Array.from(r);
      }
      yield rec;
    }
  }
}

/**
 * Write the records of `data` to `outPath` as JSONL, atomically (temp file + rename: an
 * interrupted export leaves no partial file). Returns the number of lines and bytes.
 */
export async function exportLlada(
  data: EpisodeData,
  outPath: string,
  opts: ExportOptions,
): Promise<{ records: number; bytes: number }> {
  const tmp = `${outPath}.${Deno.pid}.tmp`;
  const enc = new TextEncoder();
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  let records = 0, bytes = 0;
  try {
    let buf: string[] = [];
    const flush = async () => {
      const chunk = enc.encode(buf.join(""));
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
      bytes += chunk.length;
      buf = [];
    };
    for (const rec of lladaRecords(data, opts)) {
      buf.push(JSON.stringify(rec) + "\n");
      records++;
      if (buf.length >= 512) await flush();
    }
    await flush();
    file.close();
    await Deno.rename(tmp, outPath);
  } catch (e) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`export to ${outPath} failed: ${(e as Error).message}`, { cause: e });
  }
  return { records, bytes };
}
