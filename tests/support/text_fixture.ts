/**
 * The BabyAI-Text fixture episodes of tests/fixtures/babyai_text/episodes.json (written by
 * tools/fixtures/gen_babyai_text.py), for tests/babyai_text_test.ts and tests/export_llada_test.ts.
 *
 * @module
 */

/** One fixture episode. */
export interface TextFixtureEpisode {
  /** Env id. */
  env_id: string;
  /** Env seed. */
  seed: number;
  /** `bot` (the reference BabyAIBot) or `random` (recorded random actions). */
  policy: "bot" | "random";
  /** Mission string. */
  mission: string;
  /** N actions. */
  actions: number[];
  /** N + 1 directions. */
  directions: number[];
  /** N + 1 views: hex of the 147 bytes of `obs["image"]`. */
  images: string[];
  /** N + 1 sentence lists. */
  descriptions: string[][];
  /** Terminated with a positive reward. */
  success: boolean;
}

/** The fixture episodes, in file order. */
export function loadTextFixture(): TextFixtureEpisode[] {
  const url = new URL("../fixtures/babyai_text/episodes.json", import.meta.url);
  return JSON.parse(Deno.readTextFileSync(url)).episodes;
}

/** The bytes of a hex string. */
export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
