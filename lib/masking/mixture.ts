/**
 * Mixture masking (MTM style): every window independently draws one component strategy with
 * probability proportional to its weight, then that component fills the window (weights of the
 * window, e.g. any-order's 1/t, come from the component).
 *
 * @module
 */

import type { WindowFill } from "./core.ts";

/** A resolved component: its row filler and its (unnormalised) weight. */
export interface MixtureComponent {
  /** Row filler. */
  fill: WindowFill;
  /** Weight >= 0. */
  weight: number;
}

/** Row filler drawing a component per window. */
export function mixtureFill(components: readonly MixtureComponent[]): WindowFill {
  if (components.length === 0) {
    throw new Error("masking.mixture is empty: list at least one {strategy, weight}");
  }
  let total = 0;
  for (const [i, c] of components.entries()) {
    if (!(c.weight >= 0) || !Number.isFinite(c.weight)) {
      throw new Error(`masking.mixture[${i}].weight must be a finite number >= 0, got ${c.weight}`);
    }
    total += c.weight;
  }
  if (!(total > 0)) throw new Error("masking.mixture: the weights sum to 0; give one a weight > 0");
  const cum = new Float64Array(components.length);
  let acc = 0;
  for (let i = 0; i < components.length; i++) cum[i] = acc += components[i].weight / total;
  return (batch, b, mask, rng) => {
    const u = rng.uniform();
    let i = 0;
    while (i < cum.length - 1 && u >= cum[i]) i++;
    components[i].fill(batch, b, mask, rng);
  };
}
