"""PyTorch peer of bench/train_speed.ts: the same masked-diffusion transformer
(factorized embeddings, learned (time, slot, kind) positions, pre-norm RMSNorm, SwiGLU,
full attention with a key padding bias, one 32-column output layer), the same batch
shape, masked cross-entropy, forward + backward + AdamW (decay on matrices only) and
global-norm clipping, on the CPU with torch.set_num_threads(threads).

--mode eager:   plain eager PyTorch (attention as softmax(q k^T / sqrt(hd) + bias) v);
--mode sdpa:    eager with torch.nn.functional.scaled_dot_product_attention;
--mode compile: the SDPA model's forward + loss under torch.compile (inductor; the backward
                is compiled through AOTAutograd; AdamW and clipping stay eager). The first
                call compiles (tens of seconds, cached afterwards); its time is reported as
                compile_s and left out of the timed steps.

Prints one JSON object: ms/step (median and best), tokens/s (sequence positions per
second), params, cores used (process CPU time / wall time over the timed steps).
Run from the venv of `deno task setup --peers`: <venv>/bin/python bench/torch_train.py --size tiny --frames 2
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

PRESETS = {
    "tiny": (32, 2, 2, 64),
    "small": (128, 4, 4, 512),
    "base": (192, 6, 6, 768),
}
OBJ, COL, STATE, DIR, ACT = 11, 6, 3, 4, 8
CELLS, SLOTS = 49, 51
OUT = OBJ + COL + STATE + DIR + ACT


class RMSNorm(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.g = torch.nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.g


class Block(torch.nn.Module):
    def __init__(self, d, h, f, sdpa=False):
        super().__init__()
        self.h, self.f, self.sdpa = h, f, sdpa
        self.ln1, self.ln2 = RMSNorm(d), RMSNorm(d)
        self.wqkv = torch.nn.Linear(d, 3 * d, bias=False)
        self.wo = torch.nn.Linear(d, d, bias=False)
        self.w13 = torch.nn.Linear(d, 2 * f, bias=False)
        self.w2 = torch.nn.Linear(f, d, bias=False)

    def forward(self, x, bias):
        B, L, D = x.shape
        hd = D // self.h
        qkv = self.wqkv(self.ln1(x)).view(B, L, 3, self.h, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if self.sdpa:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        else:
            o = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + bias, dim=-1) @ v
        x = x + self.wo(o.transpose(1, 2).reshape(B, L, D))
        gu = self.w13(self.ln2(x))
        return x + self.w2(F.silu(gu[..., : self.f]) * gu[..., self.f :])


class Model(torch.nn.Module):
    def __init__(self, d, layers, h, f, K, M, vocab=64, sdpa=False):
        super().__init__()
        self.K, self.M = K, M
        self.obj = torch.nn.Embedding(OBJ + 1, d)
        self.col = torch.nn.Embedding(COL + 1, d)
        self.state = torch.nn.Embedding(STATE + 1, d)
        self.dir = torch.nn.Embedding(DIR + 1, d)
        self.act = torch.nn.Embedding(ACT + 1, d)
        self.word = torch.nn.Embedding(vocab, d)
        self.pos = torch.nn.Parameter(torch.randn(M + K * SLOTS, d) * 0.02)  # (time, slot, kind) sum, precomputed
        self.blocks = torch.nn.ModuleList([Block(d, h, f, sdpa) for _ in range(layers)])
        self.lnf = RMSNorm(d)
        self.head = torch.nn.Linear(d, OUT, bias=False)

    def forward(self, cells, dirs, acts, mission, key_valid):
        B = cells.shape[0]
        c = self.obj(cells[..., 0]) + self.col(cells[..., 1]) + self.state(cells[..., 2])  # [B,K,49,D]
        fr = torch.cat([c, self.dir(dirs)[:, :, None], self.act(acts)[:, :, None]], dim=2)  # [B,K,51,D]
        x = torch.cat([self.word(mission), fr.reshape(B, -1, fr.shape[-1])], dim=1) + self.pos
        bias = ((key_valid - 1.0) * 1e9)[:, None, None, :]
        for blk in self.blocks:
            x = blk(x, bias)
        x = self.lnf(x[:, self.M :]).reshape(B, self.K, SLOTS, -1)
        return self.head(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--mission", type=int, default=12)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", choices=["eager", "sdpa", "compile"], default="eager")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    d, layers, h, f = PRESETS[a.size]
    B, K, M = a.batch, a.frames, a.mission
    model = Model(d, layers, h, f, K, M, sdpa=a.mode != "eager")
    decay = [p for n, p in model.named_parameters() if n.endswith(("wqkv.weight", "wo.weight", "w13.weight", "w2.weight", "head.weight"))]
    other = [p for n, p in model.named_parameters() if not n.endswith(("wqkv.weight", "wo.weight", "w13.weight", "w2.weight", "head.weight"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.98), eps=1e-8)
    g = torch.Generator().manual_seed(0)
    cells = torch.stack([torch.randint(0, OBJ, (B, K, CELLS), generator=g), torch.randint(0, COL, (B, K, CELLS), generator=g),
                         torch.randint(0, STATE, (B, K, CELLS), generator=g)], -1)
    dirs = torch.randint(0, DIR, (B, K), generator=g)
    acts = torch.randint(0, ACT, (B, K), generator=g)
    mission = torch.randint(1, 40, (B, M), generator=g)
    key_valid = torch.ones(B, M + K * SLOTS)
    hide = torch.rand(B, K, CELLS, 3, generator=g) < 0.3
    inp = cells.clone()
    for i, v in enumerate((OBJ, COL, STATE)):
        inp[..., i][hide[..., i]] = v
    hd, ha = torch.rand(B, K, generator=g) < 0.3, torch.rand(B, K, generator=g) < 0.3
    dirs_in, acts_in = dirs.masked_fill(hd, DIR), acts.masked_fill(ha, ACT)
    n_hidden = hide.sum() + hd.sum() + ha.sum()
    offs = [(0, OBJ), (OBJ, OBJ + COL), (OBJ + COL, OBJ + COL + STATE)]

    def loss_fn():
        logits = model(inp, dirs_in, acts_in, mission, key_valid)
        loss = 0.0
        for i, (lo, hi) in enumerate(offs):
            ce = F.cross_entropy(logits[:, :, :CELLS, lo:hi].reshape(-1, hi - lo), cells[..., i].reshape(-1), reduction="none")
            loss = loss + (ce * hide[..., i].reshape(-1)).sum()
        lo = OBJ + COL + STATE
        ce = F.cross_entropy(logits[:, :, CELLS, lo:lo + DIR].reshape(-1, DIR), dirs.reshape(-1), reduction="none")
        loss = loss + (ce * hd.reshape(-1)).sum()
        ce = F.cross_entropy(logits[:, :, CELLS + 1, lo + DIR:].reshape(-1, ACT), acts.reshape(-1), reduction="none")
        loss = loss + (ce * ha.reshape(-1)).sum()
        return loss / n_hidden

    lossf = torch.compile(loss_fn) if a.mode == "compile" else loss_fn

    def step():
        loss = lossf()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    for _ in range(a.warmup - 1):
        step()
    times = []
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    cores = (time.process_time() - c0) / (time.perf_counter() - w0)
    times.sort()
    med = times[len(times) // 2]
    L = M + K * SLOTS
    print(json.dumps({
        "engine": f"pytorch {torch.__version__} cpu",
        "peer": {"eager": "torch_eager", "sdpa": "torch_sdpa", "compile": "torch_compile"}[a.mode],
        "mode": a.mode,
        "threads": a.threads,
        "cores_used": round(cores, 2),
        "first_step_s": round(first, 2),
        "size": a.size,
        "params": sum(p.numel() for p in model.parameters()),
        "batch": B,
        "seq": L,
        "ms_per_step": med * 1000,
        "ms_per_step_min": times[0] * 1000,
        "tokens_per_s": B * L / med,
        "blas": torch.__config__.show().count("OpenBLAS") > 0 and "openblas" or "other",
    }))


if __name__ == "__main__":
    main()
