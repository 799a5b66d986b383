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
 * Variance: the weight is capped at the window's slot count n, `1 / max(t, 1/n)`: below t = 1/n a
 * window hides about one slot whatever t is (the at-least-one rule), so 1/t would put weights up
 * to 1/eps on a single forced slot. With `stratified` (`masking.t_sampling`), window b of a batch
 * of B draws its t in the b-th of B equal strata of (eps, 1), so every batch spans the range of t
 * (batches are shuffled, so the t of a given window stays uniform over the run).
 *
 * @module
 */

import { hideCellsAt } from "./random.ts";
import { type Batch, CELLS, type Mask } from "../data/types.ts";
import { checkProbability, validFrames, type WindowFill } from "./core.ts";
import type { Rng } from "../util/prng.ts";

/** Options of the any-order strategy. */
export interface AnyOrderOptions {
  /** Lower bound of t (`masking.eps`), in (0, 1). */
  eps: number;
  /** Stratify t over the batch (`masking.t_sampling: stratified`). */
  stratified?: boolean;
}

/**
 * Hide every slot of row `b`'s valid frames with probability `t`; weight `1 / max(t, 1/n)` for
 * the row's n slots (see the module doc).
 */
export function hideAllSlotsAt(batch: Batch, b: number, mask: Mask, rng: Rng, t: number): void {
  hideCellsAt(batch, b, mask, rng, t, true);
  const slots = validFrames(batch, b) * (CELLS + 2);
  mask.weight[b] = 1 / Math.max(t, 1 / Math.max(1, slots));
  (mask.elbo ??= new Uint8Array(mask.weight.length))[b] = 1;
}

/** Row filler for `any_order` masking. */
export function anyOrderFill(opts: AnyOrderOptions): WindowFill {
  const eps = opts.eps;
  if (!(eps > 0 && eps < 1)) throw new Error(`masking.eps must be in (0, 1), got ${eps}`);
  return (batch: Batch, b: number, mask: Mask, rng: Rng): void => {
    const u = opts.stratified ? (b + rng.uniform()) / batch.B : rng.uniform();
    hideAllSlotsAt(batch, b, mask, rng, eps + (1 - eps) * u);
  };
}

/** Row filler hiding every slot with a fixed probability `t` (ELBO evaluation at given t). */
export function fixedTFill(t: number): WindowFill {
  checkProbability(t, "eval.elbo_ts[i]");
  if (t === 0) throw new Error("eval.elbo_ts: t must be > 0 (the weight is 1/t)");
  return (batch, b, mask, rng) => hideAllSlotsAt(batch, b, mask, rng, t);
}
