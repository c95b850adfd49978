#!/usr/bin/env python3
"""Golden logits for whet's Llama-family engine (internal/llm).

Builds tiny random Llama, Mistral and Qwen2 models by hand in PyTorch,
following the reference definitions in transformers' modeling_llama.py,
modeling_mistral.py and modeling_qwen2.py (RMSNorm, rotate-half RoPE with
llama3/linear scaling, grouped-query attention with causal and sliding-window
masks, SwiGLU MLP, q/k/v bias, tied embeddings) -- transformers itself is not
needed. For each model it writes a Hugging Face folder

    internal/llm/testdata/<name>/config.json
    internal/llm/testdata/<name>/model.safetensors
    internal/llm/testdata/<name>/golden.safetensors

golden.safetensors holds the prompt ids, the decode ids, and the logits at
every position of prompt+decode computed in float64 over the whole sequence
(causal attention makes position t's logits those a KV-cached decode step
must reproduce). Run: /usr/bin/python3 scripts/golden/llm_golden.py
"""
import json
import math
import os
import struct
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "internal", "llm", "testdata")


def write_safetensors(path, tensors, metadata=None):
    """Write name -> torch tensor in the safetensors layout (sorted names)."""
    dtypes = {torch.float32: ("F32", 4), torch.int64: ("I64", 8)}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        code, size = dtypes[t.dtype]
        data = t.numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def inv_freq(cfg):
    hd = cfg["head_dim"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    rs = cfg.get("rope_scaling")
    if not rs:
        return inv
    typ = rs.get("rope_type", rs.get("type"))
    if typ == "linear":
        return inv / rs["factor"]
    assert typ == "llama3"
    # transformers.modeling_rope_utils._compute_llama3_parameters
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wl, high_wl = old / lo, old / hi
    wl = 2 * math.pi / inv
    out = torch.where(wl > low_wl, inv / factor, inv)
    smooth = (old / wl - lo) / (hi - lo)
    smoothed = (1 - smooth) * out / factor + smooth * out
    medium = ~(wl < high_wl) * ~(wl > low_wl)
    return torch.where(medium, smoothed, out)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def forward(cfg, W, ids):
    """Full-sequence forward in float64; returns logits [T, V]."""
    T = len(ids)
    C, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq(cfg))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = j <= i
    window = cfg.get("sliding_window")
    if cfg["architectures"][0] == "MistralForCausalLM" and window:
        allowed = allowed & (j > i - window)
    mask = torch.zeros(T, T, dtype=torch.float64).masked_fill(~allowed, float("-inf"))

    def lin(name, x):
        y = x @ W[name + ".weight"].T
        if name + ".bias" in W:
            y = y + W[name + ".bias"]
        return y

    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = lin(p + "self_attn.q_proj", h).view(T, nh, hd)
        k = lin(p + "self_attn.k_proj", h).view(T, nkv, hd)
        v = lin(p + "self_attn.v_proj", h).view(T, nkv, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = nh // nkv  # repeat_kv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        scores = torch.einsum("thd,shd->hts", q, k) / math.sqrt(hd) + mask
        probs = torch.softmax(scores, dim=-1)
        o = torch.einsum("hts,shd->thd", probs, v).reshape(T, nh * hd)
        x = x + lin(p + "self_attn.o_proj", o)
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = lin(p + "mlp.gate_proj", h)
        u = lin(p + "mlp.up_proj", h)
        x = x + lin(p + "mlp.down_proj", torch.nn.functional.silu(g) * u)
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T


def make_weights(cfg, gen):
    """Random weights with HF names. Scales are larger than HF's 0.02 init
    so that attention patterns and norms matter in the comparison."""
    C, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    Q = cfg["num_attention_heads"] * cfg["head_dim"]
    KV = cfg["num_key_value_heads"] * cfg["head_dim"]
    arch = cfg["architectures"][0]
    qkv_bias = arch == "Qwen2ForCausalLM" or cfg.get("attention_bias", False)
    o_bias = arch == "LlamaForCausalLM" and cfg.get("attention_bias", False)
    mlp_bias = arch == "LlamaForCausalLM" and cfg.get("mlp_bias", False)

    def randn(*shape, std=1.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * std

    W = {"model.embed_tokens.weight": randn(V, C)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        W[p + "input_layernorm.weight"] = 1 + randn(C, std=0.1)
        W[p + "post_attention_layernorm.weight"] = 1 + randn(C, std=0.1)
        for name, (o, i), bias in [("self_attn.q_proj", (Q, C), qkv_bias), ("self_attn.k_proj", (KV, C), qkv_bias),
                                   ("self_attn.v_proj", (KV, C), qkv_bias), ("self_attn.o_proj", (C, Q), o_bias),
                                   ("mlp.gate_proj", (F, C), mlp_bias), ("mlp.up_proj", (F, C), mlp_bias),
                                   ("mlp.down_proj", (C, F), mlp_bias)]:
            W[p + name + ".weight"] = randn(o, i, std=1.0 / math.sqrt(i))
            if bias:
                W[p + name + ".bias"] = randn(o, std=0.1)
    W["model.norm.weight"] = 1 + randn(C, std=0.1)
    if not cfg["tie_word_embeddings"]:
        W["lm_head.weight"] = randn(V, C, std=1.0 / math.sqrt(C))
    # Round to float32 first: the Go side loads these exact values.
    return {k: v.float().double() for k, v in W.items()}


BASE = {
    "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "max_position_embeddings": 128, "vocab_size": 256, "hidden_act": "silu", "torch_dtype": "float32",
    "bos_token_id": 1, "eos_token_id": 2,
}

MODELS = {
    # Llama 3.x-style rope scaling; original context small so all three
    # frequency bands (kept, interpolated, slowed) occur with head_dim 16.
    "llama": dict(BASE, architectures=["LlamaForCausalLM"], model_type="llama", tie_word_embeddings=False,
                  rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 32}),
    # Llama with attention/mlp bias, linear rope scaling, MHA (kv heads = heads).
    "llama_bias": dict(BASE, architectures=["LlamaForCausalLM"], model_type="llama", tie_word_embeddings=False,
                       num_key_value_heads=4, attention_bias=True, mlp_bias=True,
                       rope_scaling={"type": "linear", "factor": 2.0}, eos_token_id=[2, 3]),
    # Mistral: the sequence (13 tokens) is longer than the window (5).
    "mistral": dict(BASE, architectures=["MistralForCausalLM"], model_type="mistral", tie_word_embeddings=False,
                    sliding_window=5, num_key_value_heads=1),
    # Qwen2: q/k/v bias, tied embeddings.
    "qwen2": dict(BASE, architectures=["Qwen2ForCausalLM"], model_type="qwen2", tie_word_embeddings=True,
                  rope_theta=1000000.0, rms_norm_eps=1e-6, use_sliding_window=False),
}

PROMPT = [1, 17, 200, 45, 3, 99, 128, 7, 64, 255]
DECODE = [12, 250, 0]


def main():
    torch.manual_seed(0)
    for i, (name, cfg) in enumerate(sorted(MODELS.items())):
        gen = torch.Generator().manual_seed(1234 + i)
        W = make_weights(cfg, gen)
        ids = PROMPT + DECODE
        logits = forward(cfg, W, ids)
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")
        write_safetensors(os.path.join(d, "model.safetensors"), {k: v.float() for k, v in W.items()},
                          {"format": "pt"})
        write_safetensors(os.path.join(d, "golden.safetensors"), {
            "prompt": torch.tensor(PROMPT, dtype=torch.int64),
            "decode": torch.tensor(DECODE, dtype=torch.int64),
            "logits": logits.float(),
        }, {"torch": torch.__version__, "note": "float64 full-sequence reference"})
        print(f"{name}: {sum(v.numel() for v in W.values())} params, logits {tuple(logits.shape)}, "
              f"max|logit| {logits.abs().max().item():.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
