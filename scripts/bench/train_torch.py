#!/usr/bin/python3
"""Reference LoRA SFT step in PyTorch for `whet bench train`.

Builds the SmolLM2-135M architecture by hand (Llama: RMSNorm, rotate-half RoPE,
grouped-query causal attention, SwiGLU MLP, tied embeddings) with random
weights, freezes it, adds LoRA (r=16, alpha=32) on q,k,v,o, and times full
training steps (forward, masked cross-entropy, backward, AdamW) on random
tokens, batch 4 x seq 256, on the CPU with one thread by default. Prints one
JSON object per variant (tokens_per_s from the median step, tokens_per_cpu_s
from its median getrusage CPU time, peak_rss_mb from
ru_maxrss; the checkpointing variant runs in a fresh process so its peak is
its own).

    /usr/bin/python3 scripts/bench/train_torch.py [--threads 1] [--steps 3] [--ckpt]
"""
import argparse, json, math, os, resource, statistics, sys, time


def _pin_blas_threads():
    """Give OpenBLAS and OpenMP the --threads count before torch loads them:
    torch.set_num_threads does not bound Debian's OpenBLAS pool, which
    otherwise runs the GEMMs on every core even at --threads 1."""
    n = "1"
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            n = sys.argv[i + 1]
        elif a.startswith("--threads="):
            n = a.split("=", 1)[1]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = n


_pin_blas_threads()

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

C, FF, L, H, KV, D, V = 576, 1536, 30, 9, 3, 64, 49152
THETA, EPS = 100000.0, 1e-5


class LoRALinear(nn.Module):
    def __init__(self, i, o, r=0, alpha=0):
        super().__init__()
        self.w = nn.Parameter(torch.randn(o, i) * 0.02, requires_grad=False)
        self.r = r
        if r:
            self.a = nn.Parameter(torch.empty(r, i).uniform_(-1 / math.sqrt(i), 1 / math.sqrt(i)))
            self.b = nn.Parameter(torch.zeros(o, r))
            self.s = alpha / r

    def forward(self, x):
        y = F.linear(x, self.w)
        if self.r:
            y = y + F.linear(F.linear(x, self.a), self.b) * self.s
        return y


def rmsnorm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


class Block(nn.Module):
    def __init__(self, r, alpha):
        super().__init__()
        self.n1 = nn.Parameter(torch.ones(C), requires_grad=False)
        self.n2 = nn.Parameter(torch.ones(C), requires_grad=False)
        self.q, self.k = LoRALinear(C, H * D, r, alpha), LoRALinear(C, KV * D, r, alpha)
        self.v, self.o = LoRALinear(C, KV * D, r, alpha), LoRALinear(H * D, C, r, alpha)
        self.g, self.u, self.d = LoRALinear(C, FF), LoRALinear(C, FF), LoRALinear(FF, C)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        h = rmsnorm(x, self.n1)
        q = self.q(h).view(B, T, H, D).transpose(1, 2)
        k = self.k(h).view(B, T, KV, D).transpose(1, 2)
        v = self.v(h).view(B, T, KV, D).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        k = k.repeat_interleave(H // KV, 1)
        v = v.repeat_interleave(H // KV, 1)
        # torch 1.13 (Debian) has no scaled_dot_product_attention.
        sc = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        sc = sc.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        a = sc.softmax(-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, H * D))
        h = rmsnorm(x, self.n2)
        return x + self.d(F.silu(self.g(h)) * self.u(h))


class Model(nn.Module):
    def __init__(self, r, alpha, ckpt):
        super().__init__()
        self.emb = nn.Parameter(torch.randn(V, C) * 0.02, requires_grad=False)
        self.blocks = nn.ModuleList(Block(r, alpha) for _ in range(L))
        self.norm = nn.Parameter(torch.ones(C), requires_grad=False)
        self.ckpt = ckpt

    def forward(self, tok, tgt):
        T = tok.shape[1]
        inv = 1.0 / THETA ** (torch.arange(0, D, 2).float() / D)
        ang = torch.arange(T).float()[:, None] * inv[None]
        cos, sin = ang.cos(), ang.sin()
        x = self.emb[tok]
        for b in self.blocks:
            x = checkpoint(b, x, cos, sin, use_reentrant=False) if self.ckpt else b(x, cos, sin)
        logits = F.linear(rmsnorm(x, self.norm), self.emb)
        return F.cross_entropy(logits.view(-1, V), tgt.view(-1))


def cputime():
    """User+system CPU seconds of this process (all threads), from getrusage."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--ckpt", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = Model(a.r, 2 * a.r, a.ckpt)
    params = [p for p in m.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    tok = torch.randint(0, V, (a.batch, a.seq))
    tgt = torch.randint(0, V, (a.batch, a.seq))
    times, cpus = [], []
    for s in range(a.steps + 1):
        t0, c0 = time.perf_counter(), cputime()
        opt.zero_grad(set_to_none=True)
        loss = m(tok, tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if s:
            times.append(time.perf_counter() - t0)
            cpus.append(cputime() - c0)
    med, cmed = statistics.median(times), statistics.median(cpus)
    print(json.dumps({"variant": "torch-f32" + ("+ckpt" if a.ckpt else ""), "tokens_per_s": a.batch * a.seq / med,
                      "median_step_s": med, "median_step_cpu_s": cmed, "tokens_per_cpu_s": a.batch * a.seq / cmed,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
