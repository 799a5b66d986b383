/**
 * The README's picture: one training window of bot demonstrations (4 frames of
 * BabyAI-GoToRedBall-v0, seed 3) with the mask cell masking draws for it at p = 0.3, written as
 * SVG by lib/viz (`windowStripSvg`) to docs/window_mask.svg.
 *
 *   npx -y deno@2.9.6 run -A tools/readme_picture.ts           # regenerate docs/window_mask.svg
 *   npx -y deno@2.9.6 run -A tools/readme_picture.ts --check   # exit 1 if the committed file differs
 *
 * @module
 */

import { assembleEpisodes, fillBatch, loadBotFactory, rolloutEpisode } from "../lib/data/mod.ts";
import { tokenizeEpisodes } from "../lib/data/tokenize.ts";
import { DEFAULT_MASKING, drawMask } from "../lib/masking/mod.ts";
import { windowStripSvg } from "../lib/viz/pictures.ts";

/** Where the picture is committed. */
export const PICTURE_PATH = new URL("../docs/window_mask.svg", import.meta.url).pathname;

/** The picture's SVG text (deterministic: fixed env, seed, window and mask seed). */
export async function readmePicture(): Promise<string> {
  const botFactory = await loadBotFactory();
  const record = rolloutEpisode({
    envId: "BabyAI-GoToRedBall-v0",
    envIndex: 0,
    seed: 3,
    episode: 0,
    policy: "bot",
    epsilon: 0,
    dataSeed: 0,
    maxSteps: null,
  }, botFactory);
  const ds = tokenizeEpisodes(assembleEpisodes([record]).episodes, {
    length: 4,
    stride: 1,
    mission_len: 16,
  });
  const batch = fillBatch(ds, [Math.min(4, ds.numWindows - 1)]);
  const mask = drawMask({ ...DEFAULT_MASKING, strategy: "cell", ratio: 0.3 }, batch, {
    step: 0,
    epoch: 0,
    seed: 0,
    batchIndex: 0,
  });
  return windowStripSvg(batch, 0, {
    mask,
    tileSize: 20,
    title:
      `"${record.mission}": one window of 4 frames, cell masking at p = 0.3 (dark "?" = hidden)`,
  });
}

if (import.meta.main) {
  const svg = await readmePicture();
  if (Deno.args.includes("--check")) {
    const old = await Deno.readTextFile(PICTURE_PATH).catch(() => "");
    if (old !== svg) {
      console.error(
        `${PICTURE_PATH} is out of date: npx -y deno@2.9.6 run -A tools/readme_picture.ts`,
      );
      Deno.exit(1);
    }
    console.log(`${PICTURE_PATH}: up to date`);
  } else {
    await Deno.writeTextFile(PICTURE_PATH, svg);
    console.log(`wrote ${PICTURE_PATH} (${svg.length} bytes)`);
  }
}
