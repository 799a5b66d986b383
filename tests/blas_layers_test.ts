/**
 * Each layer pair of the `blas` device (lib/model/blas/: embedding, RMSNorm, attention, SwiGLU,
 * head and loss) against the same layer written in jax-js as lib/model/transformer.ts and
 * lib/train/loss.ts compute it: on small random inputs, the forward output equals the jax-js
 * value and the backward pass, given a random output gradient, equals `grad` of the jax-js
 * layer, for the JavaScript kernels and (where they load) the C kernels. A port that breaks one
 * layer fails that layer's test. Skipped (reported as ignored) where OpenBLAS is not installed;
 * tests/native_test.ts fails the CI run in that case.
 */
import assert from "node:assert";
import { defaultDevice, grad, init, nn, numpy as np, valueAndGrad } from "@jax-js/jax";
import { hasBlas, loadBlas } from "../lib/model/blas.ts";
import { loadCKernels } from "../lib/model/native_c.ts";
import { type LayerContext, singleThread } from "../lib/model/blas/context.ts";
import * as embed from "../lib/model/blas/embed.ts";
import * as rmsnorm from "../lib/model/blas/rmsnorm.ts";
import * as attention from "../lib/model/blas/attention.ts";
import * as swiglu from "../lib/model/blas/swiglu.ts";
import * as head from "../lib/model/blas/head.ts";
import { encodeInputs, inputsToDevice } from "../lib/model/transformer.ts";
import {
  type ModelConfig,
  positionIndex,
  posRows,
  resolveModelConfig,
  seqLen,
  tokRows,
} from "../lib/model/model_config.ts";
import { SLOTS_PER_FRAME } from "../lib/data/types.ts";
import { encodeTargets, type HeadWeights, lossFn, targetsToDevice } from "../lib/train/mod.ts";
import { syntheticBatch, syntheticMask } from "../lib/testing/synthetic.ts";

const ignore = !hasBlas();
const opts = { sanitizeOps: false, sanitizeResources: false, ignore };
if (!ignore) {
  await init("wasm");
  defaultDevice("wasm");
}

/** The layer contexts to test: JavaScript kernels, and the C kernels where they load. */
function contexts(): [string, LayerContext][] {
  const blas = loadBlas(), ck = loadCKernels();
  const out: [string, LayerContext][] = [["js", singleThread(blas, null)]];
  if (ck) out.push(["c", singleThread(blas, ck)]);
  return out;
}

const TOL = 1e-4;

/** Largest absolute error over the largest reference entry. */
function maxRelErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-12);
}

async function close(what: string, got: Float32Array, ref: np.Array): Promise<void> {
  const want = new Float32Array(await ref.data() as Float32Array);
  const e = maxRelErr(got, want);
  assert.ok(e < TOL, `${what}: max error ${e} of the largest entry`);
}

function random(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  let s = seed * 2654435761 >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = offset + scale * ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  }
  return out;
}

const arr = (a: Float32Array, shape: number[]) =>
  np.array(a.slice() as Float32Array<ArrayBuffer>).reshape(shape);

/** lib/model/transformer.ts's RMSNorm. */
function rmsNormJ(x: np.Array, g: np.Array): np.Array {
  const ms = np.square(x.ref).mean(-1, { keepdims: true });
  return x.mul(np.reciprocal(np.sqrt(ms.add(1e-6)))).mul(g);
}

const K = 2, M = 3, B = 2;
const cfg: ModelConfig = resolveModelConfig(
  { size: "tiny", d_model: 16, n_heads: 4, d_ff: 24, n_layers: 1 },
  { length: K, mission_len: M },
);

Deno.test(
  "blas layers: embedding forward and backward equal the jax-js lookup's",
  opts,
  async () => {
    const L = seqLen(cfg), D = cfg.dModel, T = tokRows(cfg), P = posRows(cfg);
    const batch = syntheticBatch(B, K, M, 1);
    const hin = encodeInputs(cfg, batch, syntheticMask(batch, 0.4, 1));
    const tok = random(T * D, 1), pos = random(P * D, 2), R = random(B * L * D, 3);
    const f = (w: { tok: np.Array; pos: np.Array }) => {
      const inp = inputsToDevice(cfg, hin);
      inp.keyValid.dispose();
      return np.matmul(inp.tok, w.tok).add(np.matmul(inp.posIdx, w.pos));
    };
    const x0J = f({ tok: arr(tok, [T, D]), pos: arr(pos, [P, D]) });
    const gJ = grad((w: { tok: np.Array; pos: np.Array }) => f(w).mul(arr(R, [B, L, D])).sum())(
      { tok: arr(tok, [T, D]), pos: arr(pos, [P, D]) },
    );
    const pi = positionIndex(cfg);
    for (const [name, ctx] of contexts()) {
      const x0 = new Float32Array(B * L * D);
      embed.forward(ctx, { tok, pos }, hin.tok, pi, x0, B, L, D);
      await close(`${name}: x0`, x0, x0J.ref);
      const g = { tok: new Float32Array(T * D), pos: new Float32Array(P * D) };
      embed.backward(ctx, R, hin.tok, pi, g, B, L, D);
      await close(`${name}: d tok`, g.tok, gJ.tok.ref);
      await close(`${name}: d pos`, g.pos, gJ.pos.ref);
    }
    x0J.dispose(), gJ.tok.dispose(), gJ.pos.dispose();
  },
);

Deno.test("blas layers: RMSNorm forward and backward equal the jax-js norm's", opts, async () => {
  const N = 37, D = 16;
  const x = random(N * D, 4, 2), g = random(D, 5, 0.3, 1), R = random(N * D, 6);
  const yJ = rmsNormJ(arr(x, [N, D]), arr(g, [D]));
  const gJ = grad((w: { x: np.Array; g: np.Array }) =>
    rmsNormJ(w.x, w.g).mul(arr(R, [N, D])).sum()
  )({ x: arr(x, [N, D]), g: arr(g, [D]) });
  for (const [name, ctx] of contexts()) {
    const y = new Float32Array(N * D), rstd = new Float32Array(N);
    rmsnorm.forward(ctx, x, g, y, rstd, N, D);
    await close(`${name}: y`, y, yJ.ref);
    const dx = new Float32Array(N * D), dg = new Float32Array(D);
    rmsnorm.backward(ctx, x, rstd, g, R, dx, dg, N, D);
    await close(`${name}: dx`, dx, gJ.x.ref);
    await close(`${name}: dg`, dg, gJ.g.ref);
  }
  yJ.dispose(), gJ.x.dispose(), gJ.g.dispose();
});

Deno.test(
  "blas layers: attention forward and backward equal the jax-js attention's",
  opts,
  async () => {
    const L = 9, D = 16, H = 4, hd = D / H, N = B * L;
    const keyValid = new Float32Array(N).fill(1);
    keyValid[L - 1] = keyValid[L - 2] = keyValid[2 * L - 1] = 0; // padding keys
    const h = random(N * D, 7), wqkv = random(D * 3 * D, 8, 0.4), wo = random(D * D, 9, 0.4);
    const R = random(N * D, 10);
    type W = { h: np.Array; wqkv: np.Array; wo: np.Array };
    const f = (w: W) => { // as one block of lib/model/transformer.ts
      const bias = arr(keyValid, [B, L]).sub(1).mul(1e9).reshape([B, 1, 1, L]);
      const qkv = np.matmul(w.h, w.wqkv).reshape([B, L, 3, H, hd]);
      const q = qkv.ref.slice([], [], 0).transpose([0, 2, 1, 3]);
      const kT = qkv.ref.slice([], [], 1).transpose([0, 2, 3, 1]);
      const v = qkv.slice([], [], 2).transpose([0, 2, 1, 3]);
      const att = nn.softmax(np.matmul(q.mul(1 / Math.sqrt(hd)), kT).add(bias), -1);
      const o = np.matmul(att, v).transpose([0, 2, 1, 3]).reshape([B, L, D]);
      return np.matmul(o, w.wo);
    };
    const w = () => ({ h: arr(h, [B, L, D]), wqkv: arr(wqkv, [D, 3 * D]), wo: arr(wo, [D, D]) });
    const outJ = f(w());
    const gJ = grad((v: W) => f(v).mul(arr(R, [B, L, D])).sum())(w());
    const dims = { L, D, H }, bias = new Float32Array(N);
    attention.keyBias(keyValid, bias, N);
    for (const [name, ctx] of contexts()) {
      const a = {
        h,
        qkv: new Float32Array(N * 3 * D),
        P: new Float32Array(B * H * L * L),
        O: new Float32Array(N * D),
      };
      const x = new Float32Array(N * D), x1 = new Float32Array(N * D);
      await attention.forward(ctx, { wqkv, wo }, a, x, x1, bias, B, dims);
      await close(`${name}: x1`, x1, outJ.ref);
      const inf = new Float32Array(N * D);
      await attention.forward(ctx, { wqkv, wo }, { ...a, P: null }, x, inf, bias, B, dims);
      await close(`${name}: x1 (forward only)`, inf, outJ.ref);
      const g = { wqkv: new Float32Array(D * 3 * D), wo: new Float32Array(D * D) };
      const dh = new Float32Array(N * D);
      const dO = new Float32Array(N * D), dqkv = new Float32Array(N * 3 * D);
      await attention.backward(ctx, { wqkv, wo }, g, a, R, dO, dqkv, dh, B, dims);
      await close(`${name}: dh`, dh, gJ.h.ref);
      await close(`${name}: d wqkv`, g.wqkv, gJ.wqkv.ref);
      await close(`${name}: d wo`, g.wo, gJ.wo.ref);
    }
    outJ.dispose(), gJ.h.dispose(), gJ.wqkv.dispose(), gJ.wo.dispose();
  },
);

Deno.test("blas layers: SwiGLU forward and backward equal the jax-js MLP's", opts, async () => {
  const N = 23, D = 16, F = 24;
  const h = random(N * D, 11), w13 = random(D * 2 * F, 12, 0.5), w2 = random(F * D, 13, 0.5);
  const R = random(N * D, 14);
  type W = { h: np.Array; w13: np.Array; w2: np.Array };
  const f = (w: W) => { // as one block of lib/model/transformer.ts
    const gu = np.matmul(w.h, w.w13);
    const gate = gu.ref.slice([], [0, F]);
    const up = gu.slice([], [F, 2 * F]);
    return np.matmul(nn.silu(gate).mul(up), w.w2);
  };
  const w = () => ({ h: arr(h, [N, D]), w13: arr(w13, [D, 2 * F]), w2: arr(w2, [F, D]) });
  const outJ = f(w());
  const gJ = grad((v: W) => f(v).mul(arr(R, [N, D])).sum())(w());
  for (const [name, ctx] of contexts()) {
    const a = {
      h,
      gu: new Float32Array(N * 2 * F),
      sig: new Float32Array(N * F),
      act: new Float32Array(N * F),
    };
    const x1 = new Float32Array(N * D), xo = new Float32Array(N * D);
    await swiglu.forward(ctx, { w13, w2 }, a, x1, xo, N, F, D);
    await close(`${name}: x out`, xo, outJ.ref);
    const inf = new Float32Array(N * D), gu = new Float32Array(N * 2 * F);
    await swiglu.forward(ctx, { w13, w2 }, { h, gu, sig: null, act: null }, x1, inf, N, F, D);
    await close(`${name}: x out (forward only)`, inf, outJ.ref);
    const g = { w13: new Float32Array(D * 2 * F), w2: new Float32Array(F * D) };
    const dh = new Float32Array(N * D);
    const dact = new Float32Array(N * F), dgu = new Float32Array(N * 2 * F);
    await swiglu.backward(ctx, { w13, w2 }, g, a, R, dact, dgu, dh, N, F, D);
    await close(`${name}: dh`, dh, gJ.h.ref);
    await close(`${name}: d w13`, g.w13, gJ.w13.ref);
    await close(`${name}: d w2`, g.w2, gJ.w2.ref);
  }
  outJ.dispose(), gJ.h.dispose(), gJ.w13.dispose(), gJ.w2.dispose();
});

Deno.test(
  "blas layers: final norm, head and loss equal jax-js lossFn's loss, statistics and gradients",
  opts,
  async () => {
    const L = seqLen(cfg), D = cfg.dModel, P = posRows(cfg), N = B * L;
    const R = B * K * SLOTS_PER_FRAME, OUT = 32;
    const weights: HeadWeights = { obj: 1, color: 0.5, state: 2, dir: 1, action: 1.5 };
    const batch = syntheticBatch(B, K, M, 2);
    const ht = encodeTargets(batch, syntheticMask(batch, 0.5, 2, true), "elbo");
    const x = random(N * D, 15, 2), lnf = random(D, 16, 0.3, 1), hw = random(D * OUT, 17);
    // The reference loss on the last residual x: lossFn with no blocks, whose token table is x
    // (one row per position, picked by an identity multi-hot) and whose positions add nothing.
    const eye = new Float32Array(N * N);
    for (let n = 0; n < N; n++) eye[n * N + n] = 1;
    const inputs = {
      tok: arr(eye, [B, L, N]),
      keyValid: np.ones([B, L]),
      posIdx: np.zeros([L, P]),
    };
    const params = {
      tok: arr(x, [N, D]),
      pos: np.zeros([P, D]),
      blocks: [],
      lnf: arr(lnf, [D]),
      head: arr(hw, [D, OUT]),
    };
    const vg = valueAndGrad(
      (pp: typeof params, inp: typeof inputs, t: ReturnType<typeof targetsToDevice>) =>
        lossFn(cfg, weights, pp, inp, t),
      { hasAux: true },
    );
    const [[lJ, auxJ], gJ] = vg(params, inputs, targetsToDevice(ht, B, K));
    const lossJ = (await lJ.data())[0], auxRef = await auxJ.data();
    const dims = { B, L, M, K, D };
    for (const [name, ctx] of contexts()) {
      const hf = new Float32Array(R * D), rstdf = new Float32Array(R);
      const logits = new Float32Array(R * OUT), dlogits = new Float32Array(R * OUT);
      head.forward(ctx, { lnf, head: hw }, x, hf, rstdf, logits, dims);
      const out = head.loss(logits, dlogits, ht, weights, B, K);
      assert.ok(
        Math.abs(out.loss - lossJ) < TOL * Math.abs(lossJ),
        `${name}: loss ${out.loss} vs ${lossJ}`,
      );
      for (let i = 0; i < 10; i++) {
        assert.ok(
          Math.abs(out.aux[i] - auxRef[i]) <= TOL * Math.max(1, Math.abs(auxRef[i])),
          `${name}: aux[${i}] ${out.aux[i]} vs ${auxRef[i]}`,
        );
      }
      const g = { lnf: new Float32Array(D), head: new Float32Array(D * OUT) };
      const dx = new Float32Array(N * D), dhf = new Float32Array(R * D);
      head.backward(ctx, { lnf, head: hw }, g, x, hf, rstdf, dlogits, dhf, dx, dims);
      await close(`${name}: dx`, dx, gJ.tok.ref);
      await close(`${name}: d lnf`, g.lnf, gJ.lnf.ref);
      await close(`${name}: d head`, g.head, gJ.head.ref);
    }
    gJ.tok.dispose(), gJ.pos.dispose(), gJ.lnf.dispose(), gJ.head.dispose();
  },
);
