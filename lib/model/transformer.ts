/**
 * The rule: this file is the reference model, and the `blas` device (lib/model/native.ts) is its
 * CPU twin, one forward/backward pair per layer under lib/model/blas/. Change the reference
 * first (and bump ARCH_VERSION in model_config.ts: the blas device then refuses to run) and
 * train on `train.device: wasm`; then port the changed layer's pair, and the tests tell you
 * where it still differs (tests/blas_layers_test.ts per layer, tests/native_test.ts for the
 * whole model). Once they pass, bump NATIVE_ARCH_VERSION to match.
 *
 * The masked-diffusion transformer: a bidirectional (non-causal) transformer
 * over the factorized MiniGrid sequence of `lib/data/types.ts`, written as pure
 * functions of a plain parameter tree (nanoGPT-style: the forward pass in one short file; its
 * shape and sequence layout are in model_config.ts, the parameters in params.ts, prediction and
 * iterative decoding in decode.ts).
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

import { nn, numpy as np } from "@jax-js/jax";
import { type Batch, CELLS, type Mask, MASK_ID, SLOTS_PER_FRAME } from "../data/types.ts";

import {
  type ModelConfig,
  positionIndex,
  posRows,
  seqLen,
  TOK_OFFSET,
  tokRows,
} from "./model_config.ts";
import { type Params } from "./params.ts";

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
