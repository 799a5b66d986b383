/**
 * The model's shape: the runtime {@link ModelConfig} resolved from the config's `model` and
 * `window` sections (the schema's presets and resolver), its memory estimates, and the sequence
 * layout both engines share (vocabulary rows, output columns, position table).
 *
 * @module
 */

import {
  ACTION_VOCAB,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  OBJ_VOCAB,
  SLOTS_PER_FRAME,
  STATE_VOCAB,
} from "../data/types.ts";
import { MISSION_VOCAB_SIZE } from "../env/babyai/vocab.ts";
import { modelDims, type ModelSection, type ModelSize } from "../config/schema.ts";

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

/**
 * Version of what the model computes (lib/model/transformer.ts `forward`: embeddings, blocks,
 * head). Bump it with any change to the computation; checkpoints record it in their
 * architecture fingerprint ({@link archFingerprint} in params.ts), so a run never resumes or
 * evaluates weights that meant something else. The jax-js model is the reference: a change lands
 * there first, and the blas device (lib/model/native.ts, `NATIVE_ARCH_VERSION`) refuses to run
 * until it implements the same version and its equality tests pass.
 */
export const ARCH_VERSION = 1;

/**
 * Rough peak memory of one training step in bytes, fitted to the peak RSS of
 * @jax-js/jax wasm training steps (`deno task bench:train` reports it per model
 * size and device): the jitted forward+backward keeps about
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
 * SIMD path only for aligned sizes, and the embedding gradient (one-hot^T @ dx,
 * [rows, B*L] @ [B*L, D]) with an unaligned row count fell off it
 * (`deno task bench:profile` shows the time per kernel).
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
