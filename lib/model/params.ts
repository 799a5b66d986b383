/**
 * The model's parameters as a plain tree: initialisation (seeded), shapes, and the moves between
 * the host (named Float32Arrays, what checkpoints and the blas device hold) and the jax-js device.
 *
 * @module
 */

import { numpy as np } from "@jax-js/jax";

import {
  ARCH_VERSION,
  type ModelConfig,
  OUT_COLS,
  posRows,
  seqLen,
  tokRows,
  validateModelConfig,
} from "./model_config.ts";
import { jsonHash } from "../util/hash.ts";

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

/**
 * The architecture fingerprint of a model: `a<ARCH_VERSION>-<12 hex digits>` of every parameter's
 * name and shape. Checkpoints record it; resuming compares it (either engine).
 */
export function archFingerprint(cfg: ModelConfig): string {
  return `a${ARCH_VERSION}-${jsonHash(initShapes(cfg)).slice(0, 12)}`;
}
