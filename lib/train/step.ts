/**
 * The compiled training step: loss, gradients, global-norm clipping and the
 * AdamW update under one `jit` (grad_accum = 1), or a compiled gradient step
 * plus a compiled accumulate and a compiled update (grad_accum > 1).
 *
 * @module
 */

import { jit, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import type { ForwardInputs } from "../model/transformer.ts";
import type { ModelConfig } from "../model/model_config.ts";
import type { Params } from "../model/params.ts";
import { type HeadWeights, lossFn, type Targets } from "./loss.ts";
import {
  adamwUpdate,
  biasCorrections,
  lrAt,
  mapParams,
  type OptimConfig,
  type OptState,
} from "./optim.ts";

/** Result of one optimizer step (device arrays; the caller reads and disposes loss/aux/gnorm). */
export interface StepOut {
  /** Updated parameters. */
  params: Params;
  /** Updated moments. */
  opt: OptState;
  /** Scalar loss (mean over micro-batches). */
  loss: np.Array;
  /** [5, 2] per-head (sum CE, sum correct) over hidden slots (summed over micro-batches). */
  aux: np.Array;
  /** Global gradient norm before clipping. */
  gnorm: np.Array;
}

/** A micro-batch on the device. */
export interface DeviceBatch {
  inputs: ForwardInputs;
  targets: Targets;
}

/** Compiled training step functions for a model/optimizer config. */
export interface Stepper {
  /**
   * One optimizer step over `micro.length` micro-batches (gradients averaged).
   * Consumes params, opt and the micro-batches.
   */
  step(params: Params, opt: OptState, step: number, micro: DeviceBatch[]): StepOut;
  /** Loss and aux of one batch without updating (validation). Does not consume params. */
  evaluate(params: Params, batch: DeviceBatch): { loss: np.Array; aux: np.Array };
  /** Free compiled programs. */
  dispose(): void;
}

/** Build the compiled step functions. */
export function makeStepper(
  model: ModelConfig,
  optim: OptimConfig,
  weights: HeadWeights,
): Stepper {
  const loss = (p: Params, inputs: ForwardInputs, t: Targets) =>
    lossFn(model, weights, p, inputs, t);
  const vg = valueAndGrad(loss, { hasAux: true });

  const fused = jit((
    params: Params,
    opt: OptState,
    lr: np.Array,
    bc1: np.Array,
    bc2: np.Array,
    inputs: ForwardInputs,
    targets: Targets,
  ) => {
    const [[l, aux], grads] = vg(tree.ref(params), inputs, targets);
    const upd = adamwUpdate(optim, params, grads as Params, opt, lr, bc1, bc2);
    return { params: upd.params, opt: upd.opt, loss: l, aux, gnorm: upd.gnorm };
  });

  const gradOnly = jit((params: Params, inputs: ForwardInputs, targets: Targets) => {
    const [[l, aux], grads] = vg(params, inputs, targets);
    return { loss: l, aux, grads: grads as Params };
  });

  const accumulate = jit((a: Params, b: Params) =>
    mapParams((_n, x, y) => x.add(y), a, b) as Params
  );

  const apply = jit((
    params: Params,
    opt: OptState,
    grads: Params,
    inv: np.Array,
    lr: np.Array,
    bc1: np.Array,
    bc2: np.Array,
  ) => {
    const g = mapParams((_n, x) => x.mul(inv.ref), grads) as Params;
    inv.dispose();
    return adamwUpdate(optim, params, g, opt, lr, bc1, bc2);
  });

  const evalJit = jit((params: Params, inputs: ForwardInputs, targets: Targets) => {
    const [l, aux] = loss(params, inputs, targets);
    return { loss: l, aux };
  });

  return {
    step(params, opt, step, micro) {
      const lr = np.array(lrAt(optim, step));
      const [b1, b2] = biasCorrections(optim, step);
      if (micro.length === 1) {
        return fused(
          params,
          opt,
          lr,
          np.array(b1),
          np.array(b2),
          micro[0].inputs,
          micro[0].targets,
        );
      }
      let gsum: Params | null = null;
      let lsum: np.Array | null = null;
      let asum: np.Array | null = null;
      for (const mb of micro) {
        const r = gradOnly(tree.ref(params), mb.inputs, mb.targets);
        gsum = gsum ? accumulate(gsum, r.grads) : r.grads;
        lsum = lsum ? lsum.add(r.loss) : r.loss;
        asum = asum ? asum.add(r.aux) : r.aux;
      }
      const inv = 1 / micro.length;
      const upd = apply(params, opt, gsum!, np.array(inv), lr, np.array(b1), np.array(b2));
      return {
        params: upd.params,
        opt: upd.opt,
        loss: lsum!.mul(inv),
        aux: asum!,
        gnorm: upd.gnorm,
      };
    },
    evaluate(params, batch) {
      return evalJit(tree.ref(params), batch.inputs, batch.targets);
    },
    dispose() {
      fused.dispose();
      gradOnly.dispose();
      accumulate.dispose();
      apply.dispose();
      evalJit.dispose();
    },
  };
}
