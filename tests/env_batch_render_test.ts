import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { inflateSync } from "node:zlib";
import { BatchedEnv } from "../lib/env/batch.ts";
import { make } from "../lib/env/registry.ts";
import {
  asciiFromEncoding,
  encodePng,
  renderAscii,
  renderPng,
  renderRgb,
  renderSvg,
} from "../lib/env/render.ts";
import { Generator } from "../lib/env/rng.ts";

Deno.test("BatchedEnv matches single envs step for step, with auto-reset and next seeds", () => {
  const id = "MiniGrid-Empty-Random-6x6-v0";
  const N = 4;
  const b = new BatchedEnv(id, N, { kwargs: { max_steps: 9 } });
  b.reset(100);
  const singles = Array.from({ length: N }, () => make(id, { max_steps: 9 }));
  singles.forEach((e, i) => e.reset({ seed: 100 + i }));
  let nextSeed = 100 + N;
  const g = new Generator(5);
  const acts = new Int32Array(N);
  let dones = 0;
  for (let t = 0; t < 40; t++) {
    for (let i = 0; i < N; i++) acts[i] = g.integers(0, 3);
    b.step(acts);
    for (let i = 0; i < N; i++) {
      const r = singles[i].step(acts[i]);
      strictEqual(b.rewards[i], r.reward);
      strictEqual(b.terminated[i], +r.terminated);
      strictEqual(b.truncated[i], +r.truncated);
      if (r.terminated || r.truncated) {
        deepStrictEqual(b.finalObs.subarray(i * 147, (i + 1) * 147), r.obs.image);
        strictEqual(b.done[i], 1);
        strictEqual(b.seeds[i], nextSeed);
        const o = singles[i].reset({ seed: nextSeed++ }).obs;
        deepStrictEqual(b.obs.subarray(i * 147, (i + 1) * 147), o.image);
        dones++;
      } else {
        deepStrictEqual(b.obs.subarray(i * 147, (i + 1) * 147), r.obs.image);
      }
      strictEqual(b.directions[i], singles[i].agentDir);
    }
  }
  ok(dones >= 8, `expected several auto-resets, got ${dones}`);
  strictEqual(b.episodesDone, dones);
  throws(() => b.step([0, 1]), /got 2 actions for 4 envs/);
  throws(() => new BatchedEnv(id, 0), /positive integer/);
});

function pngSize(png: Uint8Array): { w: number; h: number; pixels: Uint8Array } {
  deepStrictEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset);
  let off = 8, w = 0, h = 0;
  const idat: Uint8Array[] = [];
  const types: string[] = [];
  while (off < png.length) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    types.push(type);
    if (type === "IHDR") {
      w = dv.getUint32(off + 8);
      h = dv.getUint32(off + 12);
    }
    if (type === "IDAT") idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  deepStrictEqual(types, ["IHDR", "IDAT", "IEND"]);
  const raw = new Uint8Array(inflateSync(idat[0]));
  strictEqual(raw.length, (w * 3 + 1) * h);
  return { w, h, pixels: raw };
}

Deno.test("PNG render is a valid PNG of the right size and pixels", () => {
  const env = make("MiniGrid-DoorKey-8x8-v0");
  env.reset({ seed: 0 });
  const png = renderPng(env, { tileSize: 16 });
  const { w, h, pixels } = pngSize(png);
  strictEqual(w, 128);
  strictEqual(h, 128);
  const rgb = renderRgb(env, { tileSize: 16 });
  // row 0 of the raw stream = filter byte 0 + first image row
  strictEqual(pixels[0], 0);
  deepStrictEqual(pixels.subarray(1, 1 + w * 3), rgb.data.subarray(0, w * 3));
  // the agent's view (7x7 tiles)
  const v = pngSize(renderPng(env, { view: "agent", tileSize: 8 }));
  strictEqual(v.w, 56);
  throws(() => encodePng({ width: 2, height: 2, data: new Uint8Array(5) }), /need 12/);
});

Deno.test("PNG pixels equal MiniGrid rgb_array for DoorKey-8x8 seed 0 (spot check)", () => {
  const env = make("MiniGrid-DoorKey-8x8-v0");
  env.reset({ seed: 0 });
  const img = renderRgb(env);
  strictEqual(img.width, 256);
  // wall tile (0,0): grid-line grey at the very corner, wall grey inside
  const px = (
    x: number,
    y: number,
  ) => [...img.data.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3)];
  deepStrictEqual(px(16, 16), [100, 100, 100]);
  // agent at (3, 4) facing down: red at tile centre, highlighted (visible) background elsewhere
  deepStrictEqual(px(3 * 32 + 16, 4 * 32 + 16), [255, 76, 76]);
});

Deno.test("SVG render is well-formed and draws every tile", () => {
  const env = make("MiniGrid-KeyCorridorS3R1-v0");
  env.reset({ seed: 2 });
  const svg = renderSvg(env);
  ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  ok(svg.endsWith("</svg>"));
  strictEqual(svg.match(/<g /g)!.length, env.width * env.height);
  strictEqual(svg.match(/<polygon/g)!.length, 1);
  strictEqual((svg.match(/<g /g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length);
  const agentSvg = renderSvg(env, { view: "agent", tileSize: 10 });
  ok(agentSvg.includes('width="70"'));
});

Deno.test("ASCII render matches MiniGrid pprint_grid for DoorKey-8x8 seed 0", () => {
  const env = make("MiniGrid-DoorKey-8x8-v0");
  env.reset({ seed: 0 });
  strictEqual(
    renderAscii(env),
    [
      "WGWGWGWGWGWGWGWG",
      "WG        WG  WG",
      "WG        LY  WG",
      "WG        WG  WG",
      "WG    VV  WG  WG",
      "WG      KYWG  WG",
      "WG        WGGGWG",
      "WGWGWGWGWGWGWGWG",
    ].join("\n"),
  );
  const view = renderAscii(env, { view: "agent" }).split("\n");
  strictEqual(view.length, 7);
  strictEqual(view[6], "..WG  ^^    WG");
  throws(() => asciiFromEncoding(new Uint8Array(3), 2, 2), /need 2x2x3/);
  throws(() => renderAscii(make("MiniGrid-Empty-5x5-v0")), /not been reset/);
});
