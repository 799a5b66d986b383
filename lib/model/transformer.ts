/**
 * The masked-diffusion transformer: a bidirectional (non-causal) transformer
 * over the factorized MiniGrid sequence of `lib/data/types.ts`, written as pure
 * functions of a plain parameter tree (nanoGPT-style: the whole model in one file).
 *
 * Sequence layout of one window (L = M + K * 51 positions):
 *
 *   [ mission word 0 .. M-1 | frame 0: cell 0..48, dir, action | frame 1: ... ]
 *
 * Input embedding of a position = token part + position part, where
 * - token part: cells sum an object, a colour and a state embedding; the
 *   direction slot a direction embedding; the action slot an action embedding;
 *   mission positions a word embedding. Every vocabulary has its own [MASK]
 *   row (id = vocabulary size, see `MASK_ID`), so a hidden attribute is read as
 *   "unknown object" / "unknown colour" etc.
 * - position part: learned embeddings of (time step, slot index 0..50 within
 *   the frame, slot kind) for frame positions and (mission index, kind) for
 *   mission positions, summed.
 *
 * Why learned factorized positions rather than RoPE: the sequence is a
 * structured grid (time x 7x7 egocentric cells x slot kind), not a 1-D text.
 * A 1-D rotary embedding over the flattened index would give cells 6 and 7
 * (opposite sides of the view) "adjacent" phases and make every frame's cells
 * depend on the frame's offset in the flattened sequence. Factorized learned
 * tables give each axis its own parameters (only K + 51 + M + 4 rows), the
 * window length is fixed by the config so no length extrapolation is needed
 * (RoPE's main advantage), and they cost nothing per layer on the wasm
 * kernels (RoPE rotates q and k in every layer).
 *
 * Both the token and the position embedding lookups are written as
 * one-hot(ids) @ table matmuls: on @jax-js/jax this keeps the lookup and its
 * gradient on the fast matmul kernels, with no scatter in the backward pass.
 *
 * Blocks: pre-norm RMSNorm, multi-head full attention with a key padding bias
 * (padding frames and mission padding are never attended to), SwiGLU MLP; a
 * final RMSNorm and one linear output layer whose 32 columns are split into the
 * object (11), colour (6), state (3), direction (4) and action (8) heads.
 *
 * @module
 */

import { defaultDevice, jit, nn, numpy as np, tree } from "@jax-js/jax";
import {
  ACTION_VOCAB,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Logits,
  type Mask,
  MASK_ID,
  OBJ_VOCAB,
  type Predictor,
  SLOTS_PER_FRAME,
  STATE_VOCAB,
} from "../data/types.ts";
import { MISSION_VOCAB_SIZE } from "../env/babyai/vocab.ts";
import {
  MODEL_PRESETS as CONFIG_PRESETS,
  MODEL_SIZES,
  modelDims,
  type ModelSection,
  type ModelSize,
} from "../config/schema.ts";

// ---------------------------------------------------------------------------
// Configuration

/** Architecture hyperparameters of the transformer (camelCase, resolved from the YAML). */
export interface ModelConfig {
  /** Residual width. */
  dModel: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads (dModel must be divisible by it). */
  nHeads: number;
  /** SwiGLU hidden size. */
  dFF: number;
  /** Frames per window K (size of the time embedding table). */
  frames: number;
  /** Mission prefix length M. */
  missionLen: number;
  /** Mission word vocabulary size (id 0 = padding); word ids must be below it. */
  missionVocab: number;
}

/** The config schema's size presets (lib/config/schema.ts) in this module's field names. */
export const MODEL_PRESETS: Readonly<
  Record<ModelSize, { dModel: number; nLayers: number; nHeads: number; dFF: number }>
> = Object.fromEntries(
  MODEL_SIZES.map((k) => {
    const p = CONFIG_PRESETS[k];
    return [k, { dModel: p.d_model, nLayers: p.n_layers, nHeads: p.n_heads, dFF: p.d_ff }];
  }),
) as Record<ModelSize, { dModel: number; nLayers: number; nHeads: number; dFF: number }>;

/**
 * Rough peak memory of one training step in bytes, calibrated on @jax-js/jax
 * 0.1.25 wasm (peak RSS 3.8 GB for `small` at 32 windows of 216 positions;
 * `base` at 16 windows exceeds 4 GiB): the jitted forward+backward keeps about
 * 70 floats per position per residual channel, 25 per MLP channel and 15 per
 * attention score per layer alive at its peak. The wasm device has a 4 GiB
 * address space, so train.batch_size (the micro-batch) must keep this below it;
 * use train.grad_accum for larger effective batches.
 */
export function estimateStepBytes(cfg: ModelConfig, batch: number): number {
  const L = seqLen(cfg);
  const perLayer = L * (70 * cfg.dModel + 25 * cfg.dFF) + 15 * cfg.nHeads * L * L;
  return 4 * batch * cfg.nLayers * perLayer;
}

/**
 * What to do when a micro-batch of B windows needs more than `budget` bytes
 * (`bytesAt(b)`: bytes for b windows): the largest halving of B that fits, with
 * the grad_accum factor that keeps the effective batch.
 */
export function batchSizeAdvice(
  B: number,
  budget: number,
  bytesAt: (b: number) => number,
): string {
  let fit = B;
  while (fit > 1 && bytesAt(fit) > budget) fit = Math.floor(fit / 2);
  return `lower train.batch_size to ${fit} and raise train.grad_accum by ${
    Math.ceil(B / fit)
  }x to keep the effective batch, or use a smaller model.size`;
}

/** Preset names (the schema's). */
export type { ModelSize };

/** Default mission vocabulary size: the BabyAI vocabulary's (lib/env/babyai/vocab.ts). */
export const DEFAULT_MISSION_VOCAB: number = MISSION_VOCAB_SIZE;

/**
 * The `model` section as {@link resolveModelConfig} accepts it: the schema's, every key optional,
 * `size` and `position` any string (checked here, for callers that build it by hand).
 */
export type ModelSectionInput =
  & Partial<Omit<ModelSection, "size" | "position">>
  & { size?: string; position?: string };

/**
 * Resolve a {@link ModelConfig} from the YAML `model` and `window` sections:
 * the preset named by `model.size` gives the four sizes, keys given explicitly
 * (non-null) override it.
 */
export function resolveModelConfig(
  model: ModelSectionInput,
  window: { length: number; mission_len: number },
  opts: { missionVocab?: number; explicitOverrides?: boolean } = {},
): ModelConfig {
  if (model.position !== undefined && model.position !== "learned") {
    throw new Error(
      `model.position: '${model.position}' is not supported; only 'learned' (time, cell, slot-kind) embeddings are implemented`,
    );
  }
  // The schema's resolver: the preset of `size` (checked there), explicit sizes over it.
  const override = opts.explicitOverrides ?? true;
  const given = (v: number | null | undefined) => (override ? v ?? null : null);
  const dims = modelDims({
    size: (model.size ?? "small") as ModelSize,
    d_model: given(model.d_model),
    n_layers: given(model.n_layers),
    n_heads: given(model.n_heads),
    d_ff: given(model.d_ff),
  });
  const cfg: ModelConfig = {
    dModel: dims.d_model,
    nLayers: dims.n_layers,
    nHeads: dims.n_heads,
    dFF: dims.d_ff,
    frames: window.length,
    missionLen: window.mission_len,
    missionVocab: model.mission_vocab ?? opts.missionVocab ?? DEFAULT_MISSION_VOCAB,
  };
  validateModelConfig(cfg);
  return cfg;
}

/** Throw a clear error when a {@link ModelConfig} is inconsistent. */
export function validateModelConfig(cfg: ModelConfig): void {
  for (const k of ["dModel", "nLayers", "nHeads", "dFF", "frames", "missionVocab"] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0) {
      throw new Error(`model config: ${k} must be a positive integer, got ${cfg[k]}`);
    }
  }
  if (!Number.isInteger(cfg.missionLen) || cfg.missionLen < 0) {
    throw new Error(`model config: missionLen must be an integer >= 0, got ${cfg.missionLen}`);
  }
  if (cfg.dModel % cfg.nHeads !== 0) {
    throw new Error(
      `model config: d_model (${cfg.dModel}) must be divisible by n_heads (${cfg.nHeads})`,
    );
  }
}

// ---------------------------------------------------------------------------
// Vocabulary / position layout

/** Row offsets of each vocabulary in the shared token embedding table. */
export const TOK_OFFSET = {
  obj: 0,
  color: OBJ_VOCAB + 1,
  state: OBJ_VOCAB + 1 + COLOR_VOCAB + 1,
  dir: OBJ_VOCAB + 1 + COLOR_VOCAB + 1 + STATE_VOCAB + 1,
  action: OBJ_VOCAB + 1 + COLOR_VOCAB + 1 + STATE_VOCAB + 1 + DIR_VOCAB + 1,
  word: OBJ_VOCAB + 1 + COLOR_VOCAB + 1 + STATE_VOCAB + 1 + DIR_VOCAB + 1 + ACTION_VOCAB + 1,
} as const;

/** Output columns of the single output layer, one range per head. */
export const HEAD_COLS = {
  obj: [0, OBJ_VOCAB],
  color: [OBJ_VOCAB, OBJ_VOCAB + COLOR_VOCAB],
  state: [OBJ_VOCAB + COLOR_VOCAB, OBJ_VOCAB + COLOR_VOCAB + STATE_VOCAB],
  dir: [
    OBJ_VOCAB + COLOR_VOCAB + STATE_VOCAB,
    OBJ_VOCAB + COLOR_VOCAB + STATE_VOCAB + DIR_VOCAB,
  ],
  action: [
    OBJ_VOCAB + COLOR_VOCAB + STATE_VOCAB + DIR_VOCAB,
    OBJ_VOCAB + COLOR_VOCAB + STATE_VOCAB + DIR_VOCAB + ACTION_VOCAB,
  ],
} as const;
/** Width of the output layer (sum of all head vocabularies). */
export const OUT_COLS = OBJ_VOCAB + COLOR_VOCAB + STATE_VOCAB + DIR_VOCAB + ACTION_VOCAB;

/** Sequence length of a window: M mission positions + K frames of 51 slots. */
export function seqLen(cfg: ModelConfig): number {
  return cfg.missionLen + cfg.frames * SLOTS_PER_FRAME;
}

/**
 * Embedding tables get a row count rounded up to a multiple of 8 (the extra rows
 * are never selected). The wasm matmul kernels of @jax-js/jax 0.1.25 take their
 * SIMD path only for aligned sizes: the embedding gradient (one-hot^T @ dx,
 * [rows, B*L] @ [B*L, D]) with 93 rows ran at ~1 GFLOP/s (160 ms of a `small`
 * step), with 96 rows on the fast path.
 */
const roundUp8 = (n: number) => Math.ceil(n / 8) * 8;

/** Rows of the token embedding table (vocabularies + mission words, padded to a multiple of 8). */
export function tokRows(cfg: ModelConfig): number {
  return roundUp8(TOK_OFFSET.word + cfg.missionVocab);
}

/**
 * Rows of the position embedding table: time (K) + slot (51) + mission index (M) +
 * kind (4), padded to a multiple of 8.
 */
export function posRows(cfg: ModelConfig): number {
  return roundUp8(cfg.frames + SLOTS_PER_FRAME + cfg.missionLen + 4);
}

/**
 * Position-table row indices per sequence position, [L, 3] int32 (-1 = none):
 * mission: (mission index, kind 0); frame slot: (time, slot index, kind 1 cell / 2 dir / 3 action).
 */
export function positionIndex(cfg: ModelConfig): Int32Array {
  const K = cfg.frames, M = cfg.missionLen, L = seqLen(cfg);
  const out = new Int32Array(L * 3).fill(-1);
  const slotOff = K, misOff = K + SLOTS_PER_FRAME, kindOff = K + SLOTS_PER_FRAME + M;
  for (let m = 0; m < M; m++) {
    out[m * 3] = misOff + m;
    out[m * 3 + 1] = kindOff + 0;
  }
  for (let t = 0; t < K; t++) {
    for (let s = 0; s < SLOTS_PER_FRAME; s++) {
      const p = M + t * SLOTS_PER_FRAME + s;
      out[p * 3] = t;
      out[p * 3 + 1] = slotOff + s;
      out[p * 3 + 2] = kindOff + (s < CELLS ? 1 : s === CELLS ? 2 : 3);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Parameters

/** One transformer block's parameters. */
export type BlockParams = {
  /** RMSNorm gain before attention, [D]. */
  ln1: np.Array;
  /** Fused q, k, v projection, [D, 3D]. */
  wqkv: np.Array;
  /** Attention output projection, [D, D]. */
  wo: np.Array;
  /** RMSNorm gain before the MLP, [D]. */
  ln2: np.Array;
  /** Fused SwiGLU gate and up projection, [D, 2F] (gate = first F columns). */
  w13: np.Array;
  /** SwiGLU down projection, [F, D]. */
  w2: np.Array;
};

/** The model's parameter tree (a plain object of arrays). */
export type Params = {
  /** Token embedding table, [tokRows, D]. */
  tok: np.Array;
  /** Position embedding table, [posRows, D]. */
  pos: np.Array;
  /** Blocks. */
  blocks: BlockParams[];
  /** Final RMSNorm gain, [D]. */
  lnf: np.Array;
  /** Output layer, [D, 32]. */
  head: np.Array;
};

/** Host-side parameters: dotted names to shapes and float32 data (checkpoint format). */
export type HostParams = Record<string, { shape: number[]; data: Float32Array }>;

/** Parameter names that get weight decay (matrices; not norms, biases or embeddings). */
export function isDecayed(name: string): boolean {
  return /(^|\.)(wqkv|wo|w13|w2|head)$/.test(name);
}

/** Seeded uniform RNG (mulberry32): deterministic on every device, no global state. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normalFill(n: number, std: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = Math.max(rand(), 1e-12), u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/**
 * Initial parameters on the host (deterministic from `seed`, identical on every
 * device): N(0, 0.02) weights, output projections scaled by 1/sqrt(2 n_layers),
 * norm gains 1.
 */
export function initHostParams(cfg: ModelConfig, seed: number): HostParams {
  validateModelConfig(cfg);
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const D = cfg.dModel, F = cfg.dFF;
  const out: HostParams = {};
  const std = 0.02, projStd = 0.02 / Math.sqrt(2 * cfg.nLayers);
  const put = (name: string, shape: number[], s: number | "ones") => {
    const n = shape.reduce((a, b) => a * b, 1);
    out[name] = {
      shape,
      data: s === "ones" ? new Float32Array(n).fill(1) : normalFill(n, s, rand),
    };
  };
  put("tok", [tokRows(cfg), D], std);
  put("pos", [posRows(cfg), D], std);
  for (let l = 0; l < cfg.nLayers; l++) {
    put(`blocks.${l}.ln1`, [D], "ones");
    put(`blocks.${l}.wqkv`, [D, 3 * D], std);
    put(`blocks.${l}.wo`, [D, D], projStd);
    put(`blocks.${l}.ln2`, [D], "ones");
    put(`blocks.${l}.w13`, [D, 2 * F], std);
    put(`blocks.${l}.w2`, [F, D], projStd);
  }
  put("lnf", [D], "ones");
  put("head", [D, OUT_COLS], std);
  return out;
}

/** Parameter shapes of a config by dotted name (as {@link initHostParams} creates them). */
export function initShapes(cfg: ModelConfig): Record<string, number[]> {
  const D = cfg.dModel, F = cfg.dFF;
  const out: Record<string, number[]> = {
    tok: [tokRows(cfg), D],
    pos: [posRows(cfg), D],
    lnf: [D],
    head: [D, OUT_COLS],
  };
  for (let l = 0; l < cfg.nLayers; l++) {
    out[`blocks.${l}.ln1`] = [D];
    out[`blocks.${l}.wqkv`] = [D, 3 * D];
    out[`blocks.${l}.wo`] = [D, D];
    out[`blocks.${l}.ln2`] = [D];
    out[`blocks.${l}.w13`] = [D, 2 * F];
    out[`blocks.${l}.w2`] = [F, D];
  }
  return out;
}

/**
 * Throw a clear error unless `host` has every parameter of `cfg` with its shape
 * (a checkpoint of another config or of an older layout).
 */
export function checkHostShapes(cfg: ModelConfig, host: HostParams): void {
  for (const [name, shape] of Object.entries(initShapes(cfg))) {
    const h = host[name];
    if (!h) {
      throw new Error(`parameter '${name}' missing (checkpoint does not match the model config)`);
    }
    if (shape.join("x") !== h.shape.join("x") || h.data.length !== shape.reduce((a, b) => a * b)) {
      throw new Error(
        `parameter '${name}' has shape [${h.shape}] but this model needs [${shape}]: the ` +
          `checkpoint was written by another model config or an older version of the workspace ` +
          `(embedding tables are padded to a multiple of 8 rows since 2026-11-25); retrain it ` +
          `(deno task ablate ... --force, or a new run directory)`,
      );
    }
  }
}

/** Build the device parameter tree from host parameters (names as in {@link initHostParams}). */
export function paramsFromHost(cfg: ModelConfig, host: HostParams): Params {
  checkHostShapes(cfg, host);
  const get = (name: string) => {
    const h = host[name];
    return np.array(h.data as Float32Array<ArrayBuffer>).reshape(h.shape);
  };
  const blocks: BlockParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    blocks.push({
      ln1: get(`blocks.${l}.ln1`),
      wqkv: get(`blocks.${l}.wqkv`),
      wo: get(`blocks.${l}.wo`),
      ln2: get(`blocks.${l}.ln2`),
      w13: get(`blocks.${l}.w13`),
      w2: get(`blocks.${l}.w2`),
    });
  }
  return { tok: get("tok"), pos: get("pos"), blocks, lnf: get("lnf"), head: get("head") };
}

/** Initial parameters on the default device, deterministic from `seed`. */
export function initParams(cfg: ModelConfig, seed: number): Params {
  return paramsFromHost(cfg, initHostParams(cfg, seed));
}

/** Flatten a parameter-shaped tree to dotted names (the checkpoint naming), in a fixed order. */
export function flattenNamed<T>(p: {
  tok: T;
  pos: T;
  blocks: { ln1: T; wqkv: T; wo: T; ln2: T; w13: T; w2: T }[];
  lnf: T;
  head: T;
}): [string, T][] {
  const out: [string, T][] = [["tok", p.tok], ["pos", p.pos]];
  p.blocks.forEach((b, l) => {
    for (const k of ["ln1", "wqkv", "wo", "ln2", "w13", "w2"] as const) {
      out.push([`blocks.${l}.${k}`, b[k]]);
    }
  });
  out.push(["lnf", p.lnf], ["head", p.head]);
  return out;
}

/** Copy a device parameter tree to the host (does not consume it). */
export async function paramsToHost(params: Params): Promise<HostParams> {
  const out: HostParams = {};
  for (const [name, a] of flattenNamed(params)) {
    const data = await a.ref.data();
    out[name] = { shape: a.shape.slice(), data: new Float32Array(data as Float32Array) };
  }
  return out;
}

/** Number of scalar parameters of a config. */
export function paramCount(cfg: ModelConfig): number {
  const D = cfg.dModel, F = cfg.dFF;
  return (tokRows(cfg) + posRows(cfg)) * D +
    cfg.nLayers * (2 * D + 3 * D * D + D * D + 2 * D * F + F * D) + D + D * OUT_COLS;
}

/** One-line human summary of a config with its parameter count. */
export function describeModel(cfg: ModelConfig): string {
  const n = paramCount(cfg);
  return `transformer d_model=${cfg.dModel} layers=${cfg.nLayers} heads=${cfg.nHeads} d_ff=${cfg.dFF} ` +
    `seq=${seqLen(cfg)} (K=${cfg.frames}, M=${cfg.missionLen}) params=${
      n.toLocaleString("en-US")
    } (${(n / 1e6).toFixed(2)}M)`;
}

// ---------------------------------------------------------------------------
// Host-side input encoding

/** Model inputs on the host for a batch with a mask applied. */
export interface HostInputs {
  /** Batch size. */
  B: number;
  /** [B, L, 3] int32: token-table rows summed per position (-1 = none). */
  tok: Int32Array;
  /** [B, L] float32: 1 for a real position, 0 for padding (never attended to). */
  keyValid: Float32Array;
}

/** Check that a batch matches the model config; throws naming the mismatch. */
export function checkBatch(cfg: ModelConfig, batch: Batch): void {
  if (batch.K !== cfg.frames) {
    throw new Error(
      `batch has K=${batch.K} frames but the model was built for window.length=${cfg.frames}`,
    );
  }
  if (batch.M !== cfg.missionLen) {
    throw new Error(
      `batch has M=${batch.M} mission positions but the model was built for window.mission_len=${cfg.missionLen}`,
    );
  }
}

/**
 * Encode a batch with hidden slots (mask = 1) replaced by each vocabulary's
 * [MASK] id into the token-index and padding tensors of the model.
 */
export function encodeInputs(cfg: ModelConfig, batch: Batch, mask: Mask | null): HostInputs {
  checkBatch(cfg, batch);
  const { B, K, M } = batch;
  const L = seqLen(cfg);
  const tok = new Int32Array(B * L * 3).fill(-1);
  const keyValid = new Float32Array(B * L);
  const V = cfg.missionVocab;
  for (let b = 0; b < B; b++) {
    for (let m = 0; m < M; m++) {
      const w = batch.mission[b * M + m];
      if (w < 0 || w >= V) {
        throw new Error(
          `mission word id ${w} (window ${b}, position ${m}) is outside the model's mission vocabulary [0, ${V}); raise model.mission_vocab`,
        );
      }
      const p = b * L + m;
      tok[p * 3] = TOK_OFFSET.word + w;
      keyValid[p] = w === 0 ? 0 : 1;
    }
    for (let t = 0; t < K; t++) {
      const bt = b * K + t;
      const valid = batch.frameValid[bt] ? 1 : 0;
      const base = b * L + M + t * SLOTS_PER_FRAME;
      for (let c = 0; c < CELLS; c++) {
        const src = (bt * CELLS + c) * 3;
        const p = (base + c) * 3;
        const hidden = mask ? mask.cells : null;
        tok[p] = TOK_OFFSET.obj + (hidden && hidden[src] ? MASK_ID.obj : batch.cells[src]);
        tok[p + 1] = TOK_OFFSET.color +
          (hidden && hidden[src + 1] ? MASK_ID.color : batch.cells[src + 1]);
        tok[p + 2] = TOK_OFFSET.state +
          (hidden && hidden[src + 2] ? MASK_ID.state : batch.cells[src + 2]);
        keyValid[base + c] = valid;
      }
      const pd = (base + CELLS) * 3, pa = (base + CELLS + 1) * 3;
      tok[pd] = TOK_OFFSET.dir + (mask && mask.dirs[bt] ? MASK_ID.dir : batch.dirs[bt]);
      tok[pa] = TOK_OFFSET.action + (mask && mask.actions[bt] ? MASK_ID.action : batch.actions[bt]);
      keyValid[base + CELLS] = valid;
      keyValid[base + CELLS + 1] = valid;
    }
  }
  return { B, tok, keyValid };
}

// ---------------------------------------------------------------------------
// Forward pass (pure function of params and device arrays)

/** Device inputs of {@link forward}. */
export type ForwardInputs = {
  /** [B, L, tokRows] float32 multi-hot token rows (each position sums its rows of the table). */
  tok: np.Array;
  /** [B, L] float32 key padding (1 = attend). */
  keyValid: np.Array;
  /** [L, posRows] float32 multi-hot position rows (see {@link positionIndex}). */
  posIdx: np.Array;
};

/**
 * Sum of one-hot rows of `idx` ([N, J], -1 = none) as a float32 [N, rows] host array:
 * the model's embedding inputs, built on the host (a few MB per batch) so that the
 * jitted step starts from a plain matmul. (Not `nn.oneHot`: in @jax-js/jax 0.1.25
 * `nn.oneHot` of -1 yields a row of ones, JAX yields zeros.)
 */
export function multiHotHost(idx: Int32Array, J: number, rows: number): Float32Array {
  const n = idx.length / J;
  const out = new Float32Array(n * rows);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < J; j++) {
      const r = idx[i * J + j];
      if (r >= 0) out[i * rows + r] += 1;
    }
  }
  return out;
}

/** Put host inputs on the default device. */
export function inputsToDevice(cfg: ModelConfig, h: HostInputs): ForwardInputs {
  const L = seqLen(cfg), T = tokRows(cfg), P = posRows(cfg);
  return {
    tok: np.array(multiHotHost(h.tok, 3, T) as Float32Array<ArrayBuffer>).reshape([h.B, L, T]),
    keyValid: np.array(h.keyValid as Float32Array<ArrayBuffer>).reshape([h.B, L]),
    posIdx: np.array(multiHotHost(positionIndex(cfg), 3, P) as Float32Array<ArrayBuffer>)
      .reshape([L, P]),
  };
}

function rmsNorm(x: np.Array, g: np.Array): np.Array {
  const ms = np.square(x.ref).mean(-1, { keepdims: true });
  return x.mul(np.reciprocal(np.sqrt(ms.add(1e-6)))).mul(g);
}

/**
 * The forward pass: parameters and inputs to logits of every frame slot,
 * [B, K, 51, 32] (columns split per head by {@link HEAD_COLS}). Consumes its
 * arguments (jax-js move semantics); pass `tree.ref(params)` to keep them.
 */
export function forward(cfg: ModelConfig, params: Params, inputs: ForwardInputs): np.Array {
  const D = cfg.dModel, H = cfg.nHeads, hd = D / H, F = cfg.dFF;
  const L = seqLen(cfg), K = cfg.frames, M = cfg.missionLen;
  const B = inputs.tok.shape[0];
  const tokEmb = np.matmul(inputs.tok, params.tok); // [B, L, D]
  const posEmb = np.matmul(inputs.posIdx, params.pos); // [L, D]
  let x = tokEmb.add(posEmb);
  // Key padding bias [B, 1, 1, L]: 0 where valid, -1e9 where padding.
  const bias = inputs.keyValid.sub(1).mul(1e9).reshape([B, 1, 1, L]);
  const scale = 1 / Math.sqrt(hd);
  for (const blk of params.blocks) {
    // Attention.
    const h = rmsNorm(x.ref, blk.ln1);
    const qkv = np.matmul(h, blk.wqkv).reshape([B, L, 3, H, hd]);
    const q = qkv.ref.slice([], [], 0).transpose([0, 2, 1, 3]); // [B, H, L, hd]
    const kT = qkv.ref.slice([], [], 1).transpose([0, 2, 3, 1]); // [B, H, hd, L]
    const v = qkv.slice([], [], 2).transpose([0, 2, 1, 3]); // [B, H, L, hd]
    const scores = np.matmul(q.mul(scale), kT).add(bias.ref); // [B, H, L, L]
    const att = nn.softmax(scores, -1);
    const o = np.matmul(att, v).transpose([0, 2, 1, 3]).reshape([B, L, D]);
    x = x.add(np.matmul(o, blk.wo));
    // SwiGLU MLP.
    const h2 = rmsNorm(x.ref, blk.ln2);
    const gu = np.matmul(h2, blk.w13); // [B, L, 2F]
    const gate = gu.ref.slice([], [], [0, F]);
    const up = gu.slice([], [], [F, 2 * F]);
    x = x.add(np.matmul(nn.silu(gate).mul(up), blk.w2));
  }
  bias.dispose();
  const xf = rmsNorm(x.slice([], [M, L]), params.lnf).reshape([B, K, SLOTS_PER_FRAME, D]);
  return np.matmul(xf, params.head); // [B, K, 51, 32]
}

// ---------------------------------------------------------------------------
// Prediction

/** Split host logits [B, K, 51, 32] into the per-head {@link Logits} record. */
export function splitLogits(B: number, K: number, all: Float32Array): Logits {
  const n = B * K;
  const cell = (lo: number, hi: number) => {
    const V = hi - lo, out = new Float32Array(n * CELLS * V);
    for (let f = 0; f < n; f++) {
      for (let c = 0; c < CELLS; c++) {
        const src = (f * SLOTS_PER_FRAME + c) * OUT_COLS + lo;
        out.set(all.subarray(src, src + V), (f * CELLS + c) * V);
      }
    }
    return out;
  };
  const slot = (s: number, lo: number, hi: number) => {
    const V = hi - lo, out = new Float32Array(n * V);
    for (let f = 0; f < n; f++) {
      const src = (f * SLOTS_PER_FRAME + s) * OUT_COLS + lo;
      out.set(all.subarray(src, src + V), f * V);
    }
    return out;
  };
  return {
    obj: cell(...HEAD_COLS.obj),
    color: cell(...HEAD_COLS.color),
    state: cell(...HEAD_COLS.state),
    dir: slot(CELLS, ...HEAD_COLS.dir),
    action: slot(CELLS + 1, ...HEAD_COLS.action),
  };
}

type ForwardFn = (params: Params, inputs: ForwardInputs) => np.Array;
const forwardCache = new WeakMap<ModelConfig, Map<string, ForwardFn>>();

/**
 * The jit-compiled forward pass of a config on the current default device
 * (memoized per config object and device: a program compiled for one device
 * must not be fed arrays of another).
 */
export function jitForward(cfg: ModelConfig): ForwardFn {
  let byDevice = forwardCache.get(cfg);
  if (!byDevice) forwardCache.set(cfg, byDevice = new Map());
  const dev = defaultDevice();
  let f = byDevice.get(dev);
  if (!f) {
    f = jit((params: Params, inputs: ForwardInputs) => forward(cfg, params, inputs)) as ForwardFn;
    byDevice.set(dev, f);
  }
  return f;
}

/**
 * Single-pass prediction: logits of every slot given the batch with the
 * masked slots hidden. Does not consume `params`.
 */
export async function predict(
  params: Params,
  cfg: ModelConfig,
  batch: Batch,
  mask: Mask | null,
): Promise<Logits> {
  const inputs = inputsToDevice(cfg, encodeInputs(cfg, batch, mask));
  const out = jitForward(cfg)(tree.ref(params), inputs);
  const data = new Float32Array((await out.data()) as Float32Array);
  return splitLogits(batch.B, batch.K, data);
}

function copyMask(mask: Mask): Mask {
  return {
    cells: mask.cells.slice(),
    dirs: mask.dirs.slice(),
    actions: mask.actions.slice(),
    weight: mask.weight.slice(),
  };
}

function copyBatch(batch: Batch): Batch {
  return {
    ...batch,
    cells: batch.cells.slice(),
    dirs: batch.dirs.slice(),
    actions: batch.actions.slice(),
  };
}

/**
 * Iterative low-confidence remasking (LLaDA-style) for multi-slot targets such
 * as a whole next frame. All hidden slots of a window start as [MASK]; at each
 * of `steps` rounds the model predicts every still-hidden slot, the most
 * confident ones (max softmax probability) are committed to their argmax and
 * become visible inputs for the next round, the rest stay masked; round s
 * commits about remaining/(steps - s) slots per window so the last round
 * commits everything. A "slot" is one attribute of one cell, a direction or an
 * action. Returns, for every hidden slot, the logits of the round that
 * committed it (other slots: logits of the first round). With steps = 1 this
 * equals {@link predict}. `onRound`, if given, sees a copy of the input and of
 * the still-hidden mask after each round (for step-by-step pictures).
 */
export function decodeIterative(
  params: Params,
  cfg: ModelConfig,
  batch: Batch,
  mask: Mask,
  steps: number,
  onRound?: (round: number, current: Batch, stillHidden: Mask) => void | Promise<void>,
): Promise<Logits> {
  return decodeIterativeWith((b, m) => predict(params, cfg, b, m), batch, mask, steps, onRound);
}

/**
 * {@link decodeIterative} over any single-pass predictor (e.g. the blas device's,
 * lib/model/native_predict.ts): the same rounds and commit decisions.
 */
export async function decodeIterativeWith(
  predictOnce: Predictor,
  batch: Batch,
  mask: Mask,
  steps: number,
  onRound?: (round: number, current: Batch, stillHidden: Mask) => void | Promise<void>,
): Promise<Logits> {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`decodeIterative: steps must be an integer >= 1, got ${steps}`);
  }
  const { B, K } = batch;
  const cur = copyBatch(batch);
  const hidden = copyMask(mask);
  let result: Logits | null = null;
  const heads = [
    { key: "obj", V: OBJ_VOCAB },
    { key: "color", V: COLOR_VOCAB },
    { key: "state", V: STATE_VOCAB },
    { key: "dir", V: DIR_VOCAB },
    { key: "action", V: ACTION_VOCAB },
  ] as const;
  for (let s = 0; s < steps; s++) {
    const logits = await predictOnce(cur, hidden);
    if (!result) {
      result = {
        obj: logits.obj.slice(),
        color: logits.color.slice(),
        state: logits.state.slice(),
        dir: logits.dir.slice(),
        action: logits.action.slice(),
      };
    }
    // Collect still-hidden slots per window with confidence and argmax.
    for (let b = 0; b < B; b++) {
      const cands: { head: number; idx: number; conf: number; arg: number }[] = [];
      for (let h = 0; h < heads.length; h++) {
        const { key, V } = heads[h];
        const lg = logits[key];
        const perWin = key === "dir" || key === "action" ? K : K * CELLS;
        for (let i = b * perWin; i < (b + 1) * perWin; i++) {
          let isHidden: number;
          if (h < 3) {
            isHidden = hidden.cells[i * 3 + h];
          } else isHidden = h === 3 ? hidden.dirs[i] : hidden.actions[i];
          if (!isHidden) continue;
          let mx = -Infinity, arg = 0;
          for (let v = 0; v < V; v++) if (lg[i * V + v] > mx) (mx = lg[i * V + v], arg = v);
          let z = 0;
          for (let v = 0; v < V; v++) z += Math.exp(lg[i * V + v] - mx);
          cands.push({ head: h, idx: i, conf: 1 / z, arg });
        }
      }
      if (cands.length === 0) continue;
      const n = s === steps - 1 ? cands.length : Math.ceil(cands.length / (steps - s));
      cands.sort((a, b2) => b2.conf - a.conf || a.head - b2.head || a.idx - b2.idx);
      for (let j = 0; j < n; j++) {
        const { head: h, idx: i, arg } = cands[j];
        const { key, V } = heads[h];
        result![key].set(logits[key].subarray(i * V, (i + 1) * V), i * V);
        if (h < 3) {
          cur.cells[i * 3 + h] = arg;
          hidden.cells[i * 3 + h] = 0;
        } else if (h === 3) {
          cur.dirs[i] = arg;
          hidden.dirs[i] = 0;
        } else {
          cur.actions[i] = arg;
          hidden.actions[i] = 0;
        }
      }
    }
    // Observer (notebooks): the input after round s, committed slots filled in.
    if (onRound) await onRound(s, copyBatch(cur), copyMask(hidden));
  }
  return result!;
}

/**
 * A {@link Predictor} backed by the model: single pass when `decodeSteps` is 1
 * (default), iterative remasking otherwise. Does not consume `params`.
 */
export function makePredictor(params: Params, cfg: ModelConfig, decodeSteps = 1): Predictor {
  return (batch, mask) =>
    decodeSteps <= 1
      ? predict(params, cfg, batch, mask)
      : decodeIterative(params, cfg, batch, mask, decodeSteps);
}
