/**
 * Prediction with the jax-js model: logits split by head, the jitted forward pass cached per
 * shape, and iterative low-confidence remasking (`decode_steps`) over any one-pass predictor.
 *
 * @module
 */

import { defaultDevice, jit, numpy as np, tree } from "@jax-js/jax";
import {
  ACTION_VOCAB,
  type Batch,
  CELLS,
  COLOR_VOCAB,
  DIR_VOCAB,
  type Logits,
  type Mask,
  OBJ_VOCAB,
  type Predictor,
  SLOTS_PER_FRAME,
  STATE_VOCAB,
} from "../data/types.ts";

import { encodeInputs, forward, type ForwardInputs, inputsToDevice } from "./transformer.ts";
import { HEAD_COLS, type ModelConfig, OUT_COLS } from "./model_config.ts";
import { type Params } from "./params.ts";

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
 * commits about remaining/(steps - s) units per window so the last round
 * commits everything. A unit is a cell (its hidden attributes committed together, as the models
 * were trained on whole hidden cells; its confidence is the probability of its joint argmax, the
 * product of the attributes' max probabilities), a direction or an action. Returns, for every hidden slot, the logits of the round that
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
    // Collect the still-hidden units of each window (a cell's hidden attributes together, a
    // direction, an action) with their confidence (the probability of the unit's argmax: the
    // product of its attributes' max probabilities) and argmax.
    for (let b = 0; b < B; b++) {
      const cands: { head: number; idx: number; conf: number; args: number[] }[] = [];
      const best = (lg: Float32Array, i: number, V: number): [number, number] => {
        let mx = -Infinity, arg = 0;
        for (let v = 0; v < V; v++) if (lg[i * V + v] > mx) (mx = lg[i * V + v], arg = v);
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(lg[i * V + v] - mx);
        return [1 / z, arg];
      };
      for (let i = b * K * CELLS; i < (b + 1) * K * CELLS; i++) {
        let conf = 1, any = false;
        const args = [-1, -1, -1];
        for (let h = 0; h < 3; h++) {
          if (!hidden.cells[i * 3 + h]) continue;
          const [p, arg] = best(logits[heads[h].key], i, heads[h].V);
          conf *= p;
          args[h] = arg;
          any = true;
        }
        if (any) cands.push({ head: 0, idx: i, conf, args });
      }
      for (let h = 3; h < heads.length; h++) {
        const { key, V } = heads[h];
        for (let i = b * K; i < (b + 1) * K; i++) {
          if (!(h === 3 ? hidden.dirs[i] : hidden.actions[i])) continue;
          const [conf, arg] = best(logits[key], i, V);
          cands.push({ head: h, idx: i, conf, args: [arg] });
        }
      }
      if (cands.length === 0) continue;
      const n = s === steps - 1 ? cands.length : Math.ceil(cands.length / (steps - s));
      cands.sort((a, b2) => b2.conf - a.conf || a.head - b2.head || a.idx - b2.idx);
      for (let j = 0; j < n; j++) {
        const { head: h, idx: i, args } = cands[j];
        if (h === 0) {
          for (let a = 0; a < 3; a++) {
            if (args[a] < 0) continue;
            const V = heads[a].V, key = heads[a].key;
            result![key].set(logits[key].subarray(i * V, (i + 1) * V), i * V);
            cur.cells[i * 3 + a] = args[a];
            hidden.cells[i * 3 + a] = 0;
          }
          continue;
        }
        const { key, V } = heads[h];
        result![key].set(logits[key].subarray(i * V, (i + 1) * V), i * V);
        if (h === 3) {
          cur.dirs[i] = args[0];
          hidden.dirs[i] = 0;
        } else {
          cur.actions[i] = args[0];
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
