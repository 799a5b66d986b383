/**
 * Export stored trajectories for fine-tuning a pretrained masked-diffusion LM (LLaDA 2.0 with
 * inclusionAI's dFactory, or the AOMT pipeline) elsewhere:
 * `deno task export llada <dataset> [--split ...] [--format aomt|dfactory|tokens] [--obs text|tokens]`.
 *
 * A trajectory of N steps is the units O_0, A_0, O_1, ..., A_{N-1}, O_N: one observation per
 * stored frame (lib/data/text.ts: BabyAI-Text sentences on one line, or with `obs: "tokens"` the
 * frame's flat token text) and one action string per step. The mission is the task line
 * `Goal of the agent: <mission>` written before O_0. Files per split (one JSON object per line,
 * UTF-8, episodes in stored order, steps in order):
 *
 * - format `aomt` (the AOMT pipeline's three files):
 *   - `sft_standard.jsonl`, one record per step t: `{"messages": [{"role": "user", "content":
 *     <task line, O_0, A_0, ..., O_t joined by "\n">}, {"role": "assistant", "content": A_t}]}`;
 *   - `prefix_sft_s1.jsonl`, one record per step t: user `O_t + "\n" + A_t`, assistant `O_{t+1}`;
 *   - `aomt.jsonl`, one record per episode: `{"unit_texts": [...], "unit_types": ["obs", "act",
 *     ..., "obs"]}`, the task line and `"\n"` prefixed to the first unit (as the first human turn
 *     of an ETO trajectory carries the task). So `sft_standard` record t's user message is
 *     `unit_texts.slice(0, 2t + 1).join("\n")` and its answer `unit_texts[2t + 1]`.
 * - format `dfactory` (dFactory's `messages` SFT loader, which trains on the last message given
 *   the chat-templated rest): `sft_standard.jsonl` with the history as chat turns, user messages
 *   the observations (the first led by the task line) and assistant messages the actions, ending
 *   with the assistant's A_t; `prefix_sft_s1.jsonl` as in `aomt`.
 * - format `tokens`: `windows.jsonl`, the flat token windows of {@link lladaRecords} (the earlier
 *   export: masked window text in `prompt`, hidden tokens in `response`).
 *
 * Plus `manifest.json` beside the split folders: {@link LLADA_FORMAT_VERSION}, the dataset's name,
 * hash and version, the splits with their episode, frame and step counts and each file's records,
 * bytes and sha256, and the command that made it. Everything is written into a temporary folder
 * renamed into place at the end, so an export is whole or absent.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import {
  type EpisodeData,
  fillBatch,
  tokenizeEpisodes,
  type WindowConfig,
  windowInfo,
} from "../data/tokenize.ts";
import { encodeWindowFlat, flatToText, maskedTargetsFlat } from "../data/flat.ts";
import { DEFAULT_MASKING, drawMask, type MaskingConfig } from "../masking/mod.ts";
import { type Episodes, IMAGE_SIZE } from "../data/episodes.ts";
import { ACTION_NONE } from "../data/types.ts";
import { type SplitName, SPLITS } from "../data/split.ts";
import { loadDataset } from "../data/store.ts";
import { readManifest } from "../data/manifest.ts";
import { tempPathFor } from "../util/fs.ts";
import {
  ACTION_STRINGS,
  actionString,
  describeView,
  historyPrompt,
  missionLine,
  observationText,
  observationTokens,
} from "../data/text.ts";

/** Version of the export layout and record forms (in every export's manifest). */
export const LLADA_FORMAT_VERSION = 1;
/** Export formats. */
export const LLADA_FORMATS = ["aomt", "dfactory", "tokens"] as const;
/** An export format. */
export type LladaFormat = typeof LLADA_FORMATS[number];
/** Observation forms of the `aomt` and `dfactory` formats. */
export const LLADA_OBS = ["text", "tokens"] as const;
/** An observation form. */
export type LladaObs = typeof LLADA_OBS[number];
/** The files each format writes per split. */
export const LLADA_FILES: Readonly<Record<LladaFormat, readonly string[]>> = {
  aomt: ["sft_standard.jsonl", "prefix_sft_s1.jsonl", "aomt.jsonl"],
  dfactory: ["sft_standard.jsonl", "prefix_sft_s1.jsonl"],
  tokens: ["windows.jsonl"],
};

/** A bad request (unknown dataset, split or format, output that exists, a damaged dataset). */
export class ExportInputError extends Error {
  /** @param message what was wrong and what to do */
  constructor(message: string) {
    super(message);
    this.name = "ExportInputError";
  }
}

// ---------------------------------------------------------------- units and records

/** One chat message. */
export interface Message {
  /** `user` (context) or `assistant` (target). */
  role: "user" | "assistant";
  /** The text. */
  content: string;
}

/** A conversation record (dFactory's `messages` form; the last message is the answer). */
export interface ConversationRecord {
  /** The messages. */
  messages: Message[];
}

/** An AOMT trajectory record. */
export interface AomtRecord {
  /** The units, O_0 (after the task line), A_0, O_1, ..., O_N. */
  unit_texts: string[];
  /** `obs` / `act` per unit, alternating, starting (and ending) with `obs`. */
  unit_types: ("obs" | "act")[];
}

/** What the text records need of a dataset split. */
export type TrajectorySource = Pick<
  Episodes,
  "images" | "directions" | "actions" | "episodeOffsets" | "missions"
>;

/** One episode's units. */
export interface EpisodeUnits {
  /** The task line ({@link missionLine}). */
  task: string;
  /** N + 1 observation lines. */
  observations: string[];
  /** N action strings. */
  actions: string[];
}

/** The observation line of frame `f`. */
export function frameObservation(data: TrajectorySource, f: number, obs: LladaObs): string {
  return obs === "text"
    ? observationText(describeView(data.images, f * IMAGE_SIZE))
    : observationTokens(data.images, f * IMAGE_SIZE, data.directions[f]);
}

/**
 * The units of episode `e`. Throws naming the episode and frame when an action is missing
 * ({@link ACTION_NONE} before the last frame) or the last frame has one.
 */
export function episodeUnits(data: TrajectorySource, e: number, obs: LladaObs): EpisodeUnits {
  const a = data.episodeOffsets[e], b = data.episodeOffsets[e + 1];
  const observations: string[] = [], actions: string[] = [];
  for (let f = a; f < b; f++) {
    observations.push(frameObservation(data, f, obs));
    const act = data.actions[f];
    if (f < b - 1) {
      if (act === ACTION_NONE) {
        throw new Error(`episode ${e}, frame ${f - a}: no action before the episode's end`);
      }
      actions.push(actionString(act));
    } else if (act !== ACTION_NONE) {
      throw new Error(`episode ${e}: the last frame has action ${act}, expected none (7)`);
    }
  }
  return { task: missionLine(data.missions[e]), observations, actions };
}

/** `sft_standard` records (aomt form) of one episode: one per step. */
export function sftStandardRecords(u: EpisodeUnits): ConversationRecord[] {
  return u.actions.map((act, t) => ({
    messages: [
      {
        role: "user",
        content: historyPrompt(u.task, u.observations.slice(0, t + 1), u.actions.slice(0, t)),
      },
      { role: "assistant", content: act },
    ],
  }));
}

/** `sft_standard` records in dFactory's chat-turn form of one episode: one per step. */
export function sftChatRecords(u: EpisodeUnits): ConversationRecord[] {
  const out: ConversationRecord[] = [];
  const turns: Message[] = [];
  for (let t = 0; t < u.actions.length; t++) {
    const o = t === 0 ? `${u.task}\n${u.observations[0]}` : u.observations[t];
    turns.push({ role: "user", content: o });
    out.push({ messages: [...turns, { role: "assistant", content: u.actions[t] }] });
    turns.push({ role: "assistant", content: u.actions[t] });
  }
  return out;
}

/** `prefix_sft_s1` records of one episode: O_t and A_t as context, O_{t+1} the answer. */
export function prefixSftRecords(u: EpisodeUnits): ConversationRecord[] {
  return u.actions.map((act, t) => ({
    messages: [
      { role: "user", content: `${u.observations[t]}\n${act}` },
      { role: "assistant", content: u.observations[t + 1] },
    ],
  }));
}

/** The `aomt` record of one episode. */
export function aomtRecord(u: EpisodeUnits): AomtRecord {
  const unit_texts: string[] = [], unit_types: ("obs" | "act")[] = [];
  for (let t = 0; t < u.observations.length; t++) {
    unit_texts.push(t === 0 ? `${u.task}\n${u.observations[0]}` : u.observations[t]);
    unit_types.push("obs");
    if (t < u.actions.length) {
      unit_texts.push(u.actions[t]);
      unit_types.push("act");
    }
  }
  return { unit_texts, unit_types };
}

// ---------------------------------------------------------------- token windows (format tokens)

/** The window cutting of format tokens unless told otherwise (K 4, stride 1, mission 12). */
export const DEFAULT_TOKEN_WINDOW: WindowConfig = { length: 4, stride: 1, mission_len: 12 };

/** Windows per masking chunk (part of the reproducibility contract of {@link lladaRecords}). */
export const EXPORT_CHUNK = 256;

/**
 * One line of `windows.jsonl` (format `tokens`): a window in the flat token text of
 * lib/data/flat.ts with the hidden slots written `<mask>`.
 */
export interface LladaRecord {
  /** `<split>/<episode>/<start>`. */
  id: string;
  /** Masked window text: `<bos> <mission> ... </mission> <frame> o2 c5 s0 ... d1 a2 ... <eos>`. */
  prompt: string;
  /** The true tokens of the hidden slots, in `<mask>` order (next_action: one token, e.g. `a2`). */
  response: string;
  /** Episode index in the split. */
  episode: number;
  /** Episode frame of the window's first slot (negative: left padding). */
  start: number;
  /** Valid frames in the window (its last `frames` slots). */
  frames: number;
  /** Masking strategy. */
  strategy: string;
  /** Env id of the episode, when known. */
  env_id?: string;
  /** Env seed of the episode, when known. */
  seed?: number;
  /** Flat ids of the prompt (with `ids`; 1 = `<mask>`). */
  prompt_ids?: number[];
  /** Flat ids of the response (with `ids`). */
  response_ids?: number[];
}

/** Options of {@link lladaRecords}. */
export interface TokenWindowOptions {
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

/**
 * The token windows of `data`, one per window of the tokenizer's enumeration, in order. Masks
 * are reproducible: window w gets the mask drawn for chunk `floor(w / 256)` with
 * `(seed, epoch 0, step 0, batchIndex = chunk)`.
 */
export function* lladaRecords(data: EpisodeData, opts: TokenWindowOptions): Generator<LladaRecord> {
  const masking = opts.masking ?? { ...DEFAULT_MASKING, strategy: "next_action" };
  const ds = tokenizeEpisodes(data, opts.window);
  const meta = data as EpisodeData & EpisodeMeta;
  const split = opts.split ?? "train";
  const n = Math.min(ds.numWindows, opts.limit ?? Infinity);
  for (let chunk = 0; chunk * EXPORT_CHUNK < n; chunk++) {
    const from = chunk * EXPORT_CHUNK, count = Math.min(EXPORT_CHUNK, n - from);
    const batch = fillBatch(ds, Array.from({ length: count }, (_, i) => from + i));
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

// ---------------------------------------------------------------- records of a split

/**
 * The records of every file a format writes for one split, file name → record stream.
 * `tokens` takes its window options from `tokenOpts` (default K 4, stride 1, mission 12).
 */
export function splitRecords(
  data: EpisodeData & TrajectorySource,
  format: LladaFormat,
  obs: LladaObs,
  split: string,
  tokenOpts?: Omit<TokenWindowOptions, "split">,
): Record<string, () => Iterable<unknown>> {
  const E = data.episodeOffsets.length - 1;
  const perEpisode = (make: (u: EpisodeUnits) => unknown[]) =>
    function* () {
      for (let e = 0; e < E; e++) yield* make(episodeUnits(data, e, obs));
    };
  switch (format) {
    case "aomt":
      return {
        "sft_standard.jsonl": perEpisode(sftStandardRecords),
        "prefix_sft_s1.jsonl": perEpisode(prefixSftRecords),
        "aomt.jsonl": perEpisode((u) => [aomtRecord(u)]),
      };
    case "dfactory":
      return {
        "sft_standard.jsonl": perEpisode(sftChatRecords),
        "prefix_sft_s1.jsonl": perEpisode(prefixSftRecords),
      };
    case "tokens":
      return {
        "windows.jsonl": () =>
          lladaRecords(data, { window: DEFAULT_TOKEN_WINDOW, ...tokenOpts, split }),
      };
  }
}

// ---------------------------------------------------------------- the export folder

/** Records, bytes and sha256 of one written file. */
export interface ExportFileRecord {
  /** JSON lines. */
  records: number;
  /** Bytes. */
  bytes: number;
  /** Hex sha256 of the bytes. */
  sha256: string;
}

/** One split in the export manifest. */
export interface ExportSplit {
  /** Episodes of the split. */
  episodes: number;
  /** Frames (= observation units). */
  frames: number;
  /** Steps (= action units = frames - episodes). */
  steps: number;
  /** Each file written for the split. */
  files: Record<string, ExportFileRecord>;
}

/** `manifest.json` of an export. */
export interface ExportManifest {
  /** Always `llada-export`. */
  format: "llada-export";
  /** {@link LLADA_FORMAT_VERSION}. */
  format_version: number;
  /** The record form. */
  export_format: LladaFormat;
  /** The observation form (`tokens` for format tokens). */
  obs: LladaObs;
  /** Dataset name. */
  dataset: string;
  /** Dataset directory as given. */
  dataset_dir: string;
  /** The dataset's identity hash (its manifest's `config_hash`). */
  dataset_hash: string;
  /** The dataset's format version. */
  dataset_version: number;
  /** The splits exported, in order. */
  split: SplitName[];
  /** Per split counts and files. */
  splits: Partial<Record<SplitName, ExportSplit>>;
  /** How the text reads: task line, action strings, observation rules. */
  text: { task_line: string; actions: readonly string[]; observations: string };
  /** Options of format tokens. */
  token_options?: Omit<TokenWindowOptions, "split">;
  /** The command that made it. */
  command: string;
  /** ISO time. */
  created: string;
}

/** Options of {@link exportLladaDataset}. */
export interface ExportOptions {
  /** Record form (default `aomt`). */
  format?: LladaFormat;
  /** Observation form (default `text`; format tokens ignores it). */
  obs?: LladaObs;
  /** Splits (default: every split of the dataset). */
  splits?: string[];
  /** Output folder (created; must not exist unless `overwrite`). */
  out: string;
  /** Replace an existing output folder. */
  overwrite?: boolean;
  /** Options of format tokens. */
  tokenOptions?: Omit<TokenWindowOptions, "split">;
  /** The command to record in the manifest. */
  command?: string;
}

/** What {@link exportLladaDataset} returns. */
export interface ExportResult {
  /** The output folder. */
  out: string;
  /** Its manifest. */
  manifest: ExportManifest;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Write one JSONL file from a record stream; returns its record. */
async function writeJsonl(path: string, records: Iterable<unknown>): Promise<ExportFileRecord> {
  const enc = new TextEncoder();
  const hash = createHash("sha256");
  const file = await Deno.open(path, { write: true, createNew: true });
  let n = 0, bytes = 0, buf: string[] = [], size = 0;
  const flush = async () => {
    const chunk = enc.encode(buf.join(""));
    let off = 0;
    while (off < chunk.length) off += await file.write(chunk.subarray(off));
    hash.update(chunk);
    bytes += chunk.length;
    buf = [];
    size = 0;
  };
  try {
    for (const r of records) {
      const line = JSON.stringify(r) + "\n";
      buf.push(line);
      size += line.length;
      n++;
      if (size >= 1 << 20) await flush();
    }
    await flush();
    await file.sync();
  } finally {
    file.close();
  }
  return { records: n, bytes, sha256: hash.digest("hex") };
}

/**
 * Export splits of the dataset in `datasetDir` into the folder `opts.out`. Every check comes
 * first (format, obs, splits, the output folder, the dataset's manifest and every shard's
 * checksums, loaded with `loadDataset`); a failed check throws {@link ExportInputError} before
 * anything is written. The files go to a temporary folder beside `out`, renamed into place at
 * the end (an existing `out` is replaced only with `overwrite`).
 */
export async function exportLladaDataset(
  datasetDir: string,
  opts: ExportOptions,
): Promise<ExportResult> {
  const format = opts.format ?? "aomt";
  if (!LLADA_FORMATS.includes(format)) {
    throw new ExportInputError(
      `unknown format ${JSON.stringify(format)}; use one of ${LLADA_FORMATS.join(", ")}`,
    );
  }
  const obs: LladaObs = format === "tokens" ? "tokens" : opts.obs ?? "text";
  if (!LLADA_OBS.includes(obs)) {
    throw new ExportInputError(
      `unknown observation form ${JSON.stringify(opts.obs)}; use one of ${LLADA_OBS.join(", ")}`,
    );
  }
  const out = opts.out.replace(/\/+$/, "");
  const absOut = resolve(out), absData = resolve(datasetDir);
  if (absOut === absData || absData.startsWith(absOut + "/")) {
    throw new ExportInputError(
      `--out ${out} would replace the dataset ${datasetDir} itself; choose another folder`,
    );
  }
  if (!opts.overwrite && await exists(out)) {
    throw new ExportInputError(
      `output folder ${out} exists; pass --overwrite to replace it, or choose another --out`,
    );
  }
  let manifest;
  try {
    manifest = await readManifest(datasetDir);
  } catch (e) {
    throw new ExportInputError((e as Error).message);
  }
  const present = SPLITS.filter((s) => (manifest.splits[s]?.shards.length ?? 0) > 0);
  const splits = (opts.splits ?? present) as SplitName[];
  if (splits.length === 0) throw new ExportInputError(`${datasetDir}: no split to export`);
  for (const s of splits) {
    if (!SPLITS.includes(s)) {
      throw new ExportInputError(
        `unknown split ${JSON.stringify(s)}; use ${SPLITS.join(", ")} (this dataset has ${
          present.join(", ")
        })`,
      );
    }
    if (!present.includes(s)) {
      throw new ExportInputError(
        `${datasetDir} has no ${s} split (it has ${present.join(", ") || "none"})`,
      );
    }
  }
  const data = new Map<SplitName, Awaited<ReturnType<typeof loadDataset>>>();
  for (const s of splits) {
    try {
      data.set(s, await loadDataset(datasetDir, s));
    } catch (e) {
      throw new ExportInputError(`dataset ${datasetDir} (${s}): ${(e as Error).message}`);
    }
  }

  const tokenOptions = opts.tokenOptions ?? { window: DEFAULT_TOKEN_WINDOW };
  const tmp = tempPathFor(out);
  const result: ExportManifest = {
    format: "llada-export",
    format_version: LLADA_FORMAT_VERSION,
    export_format: format,
    obs,
    dataset: manifest.dataset,
    dataset_dir: datasetDir,
    dataset_hash: manifest.config_hash,
    dataset_version: manifest.version,
    split: splits,
    splits: {},
    text: {
      task_line: missionLine("<mission>"),
      actions: ACTION_STRINGS,
      observations: obs === "text"
        ? "BabyAI-Text sentences of the 7x7 view joined by ', ' (lib/data/text.ts)"
        : "flat tokens o<obj> c<color> s<state> per cell (index vx*7+vy), then d<dir> (lib/data/flat.ts)",
    },
    ...(format === "tokens" ? { token_options: tokenOptions } : {}),
    command: opts.command ?? "",
    created: new Date().toISOString(),
  };
  try {
    await Deno.mkdir(dirname(out), { recursive: true });
    await Deno.mkdir(tmp);
    for (const s of splits) {
      const d = data.get(s)!;
      await Deno.mkdir(`${tmp}/${s}`);
      const files: Record<string, ExportFileRecord> = {};
      for (const [name, records] of Object.entries(splitRecords(d, format, obs, s, tokenOptions))) {
        files[name] = await writeJsonl(`${tmp}/${s}/${name}`, records());
      }
      result.splits[s] = {
        episodes: d.numEpisodes,
        frames: d.numFrames,
        steps: d.numFrames - d.numEpisodes,
        files,
      };
    }
    await Deno.writeTextFile(`${tmp}/manifest.json`, JSON.stringify(result, null, 1) + "\n");
    if (await exists(out)) {
      const old = tempPathFor(out);
      await Deno.rename(out, old);
      await Deno.rename(tmp, out);
      await Deno.remove(old, { recursive: true });
    } else {
      await Deno.rename(tmp, out);
    }
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new Error(`export to ${out} failed: ${(e as Error).message}`, { cause: e });
  }
  return { out, manifest: result };
}
