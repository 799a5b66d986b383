/**
 * Any-order masking (LLaDA / MDLM style): per window draw `t ~ U(eps, 1)`, hide every slot of the
 * valid frames with probability `t`, and weight the window's loss by `1 / t`. With a loss that
 * sums the cross-entropy over hidden slots, `E_t[(1/t) · CE]` is an upper bound on the negative
 * log-likelihood of the window (the masked-diffusion ELBO), so `train.loss: elbo` goes with it.
 *
 * A slot is a sequence position: a cell (object, colour and state hidden together), the direction
 * or the action. Mission words are never hidden. The at-least-one rule of `core.ts` applies (for
 * small t most windows would otherwise have no target).
 *
 * @module
 */

import { hideCellsAt } from "./random.ts";
import { type Batch, type Mask } from "../data/types.ts";
import { checkProbability, type WindowFill } from "./core.ts";
import type { Rng } from "../util/prng.ts";

/** Options of the any-order strategy. */
export interface AnyOrderOptions {
  /** Lower bound of t (`masking.eps`), in (0, 1). */
  eps: number;
}

/** Hide every slot of row `b`'s valid frames with probability `t`; weight `1/t`. */
export function hideAllSlotsAt(batch: Batch, b: number, mask: Mask, rng: Rng, t: number): void {
  hideCellsAt(batch, b, mask, rng, t, true);
  mask.weight[b] = 1 / t;
  if (mask.elbo) mask.elbo[b] = 1;
}

/** Row filler for `any_order` masking. */
export function anyOrderFill(opts: AnyOrderOptions): WindowFill {
  const eps = opts.eps;
  if (!(eps > 0 && eps < 1)) throw new Error(`masking.eps must be in (0, 1), got ${eps}`);
  return (batch: Batch, b: number, mask: Mask, rng: Rng): void => {
    const t = eps + (1 - eps) * rng.uniform();
    hideAllSlotsAt(batch, b, mask, rng, t);
  };
}

/** Row filler hiding every slot with a fixed probability `t` (ELBO evaluation at given t). */
export function fixedTFill(t: number): WindowFill {
  checkProbability(t, "eval.elbo_ts[i]");
  if (t === 0) throw new Error("eval.elbo_ts: t must be > 0 (the weight is 1/t)");
  return (batch, b, mask, rng) => hideAllSlotsAt(batch, b, mask, rng, t);
}
