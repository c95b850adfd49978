#!/usr/bin/env python3
"""PyTorch (CPU) peer for `whet bench generate`: the SmolLM2-135M shape with
random weights, float32, the same hand-written Llama forward as
llm_golden.py but with a KV cache. Prints prefill tokens/s for one prompt
and decode tokens/s at batch 1 and 8 (median of --runs), as JSON.

Run: /usr/bin/python3 scripts/golden/llm_bench_torch.py [--threads 2]
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

CFG = dict(hidden=576, inter=1536, layers=30, heads=9, kv=3, head_dim=64, vocab=49152, theta=100000.0, eps=1e-5)


def make_weights(gen):
    C, I, V, hd = CFG["hidden"], CFG["inter"], CFG["vocab"], CFG["head_dim"]
    Q, KV = CFG["heads"] * hd, CFG["kv"] * hd

    def w(o, i):
        return torch.randn(o, i, generator=gen) * 0.02

    layers = []
    for _ in range(CFG["layers"]):
        layers.append(dict(q=w(Q, C), k=w(KV, C), v=w(KV, C), o=w(C, Q), gate=w(I, C), up=w(I, C), down=w(C, I),
                           n1=torch.ones(C), n2=torch.ones(C)))
    return dict(embed=w(V, C), layers=layers, norm=torch.ones(C))


def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + CFG["eps"]))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Cache:
    def __init__(self, B):
        self.k = [None] * CFG["layers"]
        self.v = [None] * CFG["layers"]
        self.len = 0


@torch.inference_mode()
def forward(W, ids, cache, inv):
    """ids [B, T] at positions cache.len.. ; returns last-token logits [B, V]."""
    B, T = ids.shape
    nh, nkv, hd = CFG["heads"], CFG["kv"], CFG["head_dim"]
    pos = torch.arange(cache.len, cache.len + T, dtype=torch.float32)
    freqs = torch.outer(pos, inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    x = W["embed"][ids]
    for l, L in enumerate(W["layers"]):
        h = rms(x, L["n1"])
        q = (h @ L["q"].T).view(B, T, nh, hd).transpose(1, 2)
        k = (h @ L["k"].T).view(B, T, nkv, hd).transpose(1, 2)
        v = (h @ L["v"].T).view(B, T, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache.k[l] is not None:
            k = torch.cat((cache.k[l], k), dim=2)
            v = torch.cat((cache.v[l], v), dim=2)
        cache.k[l], cache.v[l] = k, v
        rep = nh // nkv
        k2, v2 = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        scores = q @ k2.transpose(-1, -2) / math.sqrt(hd)
        if T > 1:  # prefill from position 0: plain causal mask
            scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        o = torch.softmax(scores, dim=-1) @ v2
        x = x + o.transpose(1, 2).reshape(B, T, nh * hd) @ L["o"].T
        h = rms(x, L["n2"])
        x = x + (F.silu(h @ L["gate"].T) * (h @ L["up"].T)) @ L["down"].T
    cache.len += T
    x = rms(x[:, -1], W["norm"])
    return x @ W["embed"].T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--prefill", type=int, default=512)
    ap.add_argument("--decode", type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    W = make_weights(torch.Generator().manual_seed(0))
    hd = CFG["head_dim"]
    inv = 1.0 / (CFG["theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ids = (torch.arange(a.prefill) * 7919 + 13) % CFG["vocab"]
    out = {"torch": torch.__version__, "threads": a.threads, "runs": a.runs}

    def med(xs):
        return sorted(xs)[len(xs) // 2]

    forward(W, ids[None, :64], Cache(1), inv)  # warm up
    rates = []
    for _ in range(a.runs):
        t = time.perf_counter()
        forward(W, ids[None], Cache(1), inv)
        rates.append(a.prefill / (time.perf_counter() - t))
    out["prefill_tok_per_s"] = med(rates)
    for B in (1, 8):
        rates = []
        for _ in range(a.runs):
            cache = Cache(B)
            nxt = forward(W, ids[:B, None], cache, inv).argmax(-1)[:, None]
            t = time.perf_counter()
            for _ in range(a.decode):
                nxt = forward(W, nxt, cache, inv).argmax(-1)[:, None]
            rates.append(B * a.decode / (time.perf_counter() - t))
        out[f"decode_b{B}_tok_per_s"] = med(rates)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
