"""JAX peer of bench/train_speed.ts: the model, batch and objective of bench/torch_train.py
(factorized embeddings, learned positions, pre-norm RMSNorm, SwiGLU, full attention with a key
padding bias, one 32-column output layer, masked cross-entropy averaged over hidden slots),
forward + backward + AdamW (decay on matrices only) + global-norm clipping, the whole step
under one `jax.jit`, on the CPU.

Threads: --threads 1 runs XLA's CPU backend single-threaded
(XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1, set before jax
is imported); otherwise XLA uses its default pool (every core). The first call compiles; its
time is reported as first_step_s and left out of the timed steps.

Prints one JSON object like bench/torch_train.py's.
Run from the venv of `deno task setup --peers`: <venv>/bin/python bench/jax_train.py --size tiny --frames 2
"""

import argparse
import json
import os
import sys
import time

PRESETS = {
    "tiny": (32, 2, 2, 64),
    "small": (128, 4, 4, 512),
    "base": (192, 6, 6, 768),
}
OBJ, COL, STATE, DIR, ACT = 11, 6, 3, 4, 8
CELLS, SLOTS = 49, 51
OUT = OBJ + COL + STATE + DIR + ACT
DECAY = ("wqkv", "wo", "w13", "w2", "head")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--mission", type=int, default=12)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp
    import numpy as np

    d, layers, h, f = PRESETS[a.size]
    B, K, M = a.batch, a.frames, a.mission
    L = M + K * SLOTS
    hd = d // h
    rng = np.random.default_rng(0)

    def init(*shape, scale=0.02):
        return jnp.asarray(rng.standard_normal(shape, dtype=np.float32) * scale)

    params = {
        "obj": init(OBJ + 1, d), "col": init(COL + 1, d), "state": init(STATE + 1, d),
        "dir": init(DIR + 1, d), "act": init(ACT + 1, d), "word": init(64, d),
        "pos": init(L, d), "lnf": jnp.ones(d), "head": init(d, OUT),
        "blocks": [{
            "ln1": jnp.ones(d), "ln2": jnp.ones(d), "wqkv": init(d, 3 * d), "wo": init(d, d),
            "w13": init(d, 2 * f), "w2": init(f, d),
        } for _ in range(layers)],
    }

    cells = np.stack([rng.integers(0, OBJ, (B, K, CELLS)), rng.integers(0, COL, (B, K, CELLS)),
                      rng.integers(0, STATE, (B, K, CELLS))], -1)
    dirs = rng.integers(0, DIR, (B, K))
    acts = rng.integers(0, ACT, (B, K))
    mission = rng.integers(1, 40, (B, M))
    key_valid = np.ones((B, L), np.float32)
    hide = rng.random((B, K, CELLS, 3)) < 0.3
    inp = cells.copy()
    for i, v in enumerate((OBJ, COL, STATE)):
        inp[..., i][hide[..., i]] = v
    hdir, hact = rng.random((B, K)) < 0.3, rng.random((B, K)) < 0.3
    dirs_in, acts_in = np.where(hdir, DIR, dirs), np.where(hact, ACT, acts)
    n_hidden = float(hide.sum() + hdir.sum() + hact.sum())
    batch = {k: jnp.asarray(v) for k, v in dict(
        inp=inp, dirs_in=dirs_in, acts_in=acts_in, mission=mission, key_valid=key_valid,
        cells=cells, dirs=dirs, acts=acts, hide=hide.astype(np.float32),
        hdir=hdir.astype(np.float32), hact=hact.astype(np.float32)).items()}

    def rms(x, g):
        return x * jax.lax.rsqrt(jnp.mean(x * x, -1, keepdims=True) + 1e-6) * g

    def forward(p, bt):
        c = p["obj"][bt["inp"][..., 0]] + p["col"][bt["inp"][..., 1]] + p["state"][bt["inp"][..., 2]]
        fr = jnp.concatenate([c, p["dir"][bt["dirs_in"]][:, :, None], p["act"][bt["acts_in"]][:, :, None]], 2)
        x = jnp.concatenate([p["word"][bt["mission"]], fr.reshape(B, K * SLOTS, d)], 1) + p["pos"]
        bias = ((bt["key_valid"] - 1.0) * 1e9)[:, None, None, :]
        for blk in p["blocks"]:
            qkv = (rms(x, blk["ln1"]) @ blk["wqkv"]).reshape(B, L, 3, h, hd).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            att = jax.nn.softmax(q @ k.swapaxes(-1, -2) / np.sqrt(hd) + bias, -1)
            x = x + (att @ v).transpose(0, 2, 1, 3).reshape(B, L, d) @ blk["wo"]
            gu = rms(x, blk["ln2"]) @ blk["w13"]
            x = x + (jax.nn.silu(gu[..., :f]) * gu[..., f:]) @ blk["w2"]
        return (rms(x[:, M:], p["lnf"]) @ p["head"]).reshape(B, K, SLOTS, OUT)

    def ce(logits, tgt):
        lse = jax.nn.logsumexp(logits, -1)
        return lse - jnp.take_along_axis(logits, tgt[..., None], -1)[..., 0]

    def loss_fn(p, bt):
        lg = forward(p, bt)
        loss = 0.0
        lo = 0
        for i, n in enumerate((OBJ, COL, STATE)):
            loss = loss + jnp.sum(ce(lg[:, :, :CELLS, lo:lo + n], bt["cells"][..., i]) * bt["hide"][..., i])
            lo += n
        loss = loss + jnp.sum(ce(lg[:, :, CELLS, lo:lo + DIR], bt["dirs"]) * bt["hdir"])
        loss = loss + jnp.sum(ce(lg[:, :, CELLS + 1, lo + DIR:], bt["acts"]) * bt["hact"])
        return loss / n_hidden

    lr, b1, b2, eps, wd = 1e-3, 0.9, 0.98, 1e-8, 0.01

    @jax.jit
    def step(p, m, v, t, bt):
        loss, g = jax.value_and_grad(loss_fn)(p, bt)
        leaves = jax.tree_util.tree_leaves(g)
        gn = jnp.sqrt(sum(jnp.sum(x * x) for x in leaves))
        scale = jnp.minimum(1.0, 1.0 / (gn + 1e-6))
        g = jax.tree_util.tree_map(lambda x: x * scale, g)
        m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t

        def upd(path, w, mm, vv):
            name = str(path[-1].key) if hasattr(path[-1], "key") else ""
            decay = wd if name in DECAY else 0.0
            return w - lr * ((mm / c1) / (jnp.sqrt(vv / c2) + eps) + decay * w)

        p = jax.tree_util.tree_map_with_path(upd, p, m, v)
        return p, m, v, loss

    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    t = 1

    def run():
        nonlocal params, m, v, t
        params, m, v, loss = step(params, m, v, jnp.float32(t), batch)
        loss.block_until_ready()
        t += 1

    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    for _ in range(a.warmup - 1):
        run()
    times = []
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(a.steps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    cores = (time.process_time() - c0) / (time.perf_counter() - w0)
    times.sort()
    med = times[len(times) // 2]
    n_params = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(params))
    print(json.dumps({
        "engine": f"jax {jax.__version__} jit cpu",
        "peer": "jax_jit",
        "mode": "jit",
        "threads": a.threads,
        "cores_used": round(cores, 2),
        "first_step_s": round(first, 2),
        "size": a.size,
        "params": n_params,
        "batch": B,
        "seq": L,
        "ms_per_step": med * 1000,
        "ms_per_step_min": times[0] * 1000,
        "tokens_per_s": B * L / med,
    }))


if __name__ == "__main__":
    sys.exit(main())
