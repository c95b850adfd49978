#!/usr/bin/python3
"""Build tiny random BERT models by hand with PyTorch and write goldens for internal/encoder.

No transformers library: the forward pass below is written from the BERT definition
(post-LN encoder, absolute positions, token types, exact-erf GELU or tanh GELU) and runs
in float64 on the float32 weights, with padding and an additive attention mask exactly as
BertModel does. Outputs:

  internal/encoder/testdata/tiny-bert/    BertModel, keys without prefix, mean pooling,
                                          Normalize module, WordPiece tokenizer.json
  internal/encoder/testdata/tiny-cross/   BertForSequenceClassification ("bert." prefix,
                                          pooler + 1-label classifier, gelu_new)
  internal/encoder/testdata/golden.json   inputs and expected outputs

Usage (from the repository root): /usr/bin/python3 scripts/golden/bert_golden.py
       /usr/bin/python3 scripts/golden/bert_golden.py --bench   (PyTorch peer for
       BenchmarkMiniLMEmbed: MiniLM-L6 shape, float32, batch 32 x 128 tokens, 2 threads)
"""
import json
import math
import os
import struct

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TD = os.path.join(ROOT, "internal", "encoder", "testdata")

WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran", "fast", "a", "big", "red", "ball",
         "hello", "world", "query", "about", "cats", "dogs", "is", "good", "##s", "##ing",
         "play", "green", "tree", "small", "house", "blue", "sky", "water"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def make_weights(cfg, gen, prefix, classifier):
    H, I, V, P, T = (cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"],
                     cfg["max_position_embeddings"], cfg["type_vocab_size"])

    def rnd(*shape, std=0.2):
        return torch.randn(*shape, generator=gen) * std

    def ln():
        return 1 + rnd(H, std=0.1), rnd(H, std=0.1)

    w = {}
    p = prefix + "embeddings."
    w[p + "word_embeddings.weight"] = rnd(V, H, std=0.5)
    w[p + "position_embeddings.weight"] = rnd(P, H, std=0.3)
    w[p + "token_type_embeddings.weight"] = rnd(T, H, std=0.3)
    w[p + "LayerNorm.weight"], w[p + "LayerNorm.bias"] = ln()
    for l in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{l}."
        for name, (o, i) in {"attention.self.query": (H, H), "attention.self.key": (H, H),
                             "attention.self.value": (H, H), "attention.output.dense": (H, H),
                             "intermediate.dense": (I, H), "output.dense": (H, I)}.items():
            w[p + name + ".weight"] = rnd(o, i, std=1 / math.sqrt(i))
            w[p + name + ".bias"] = rnd(o, std=0.05)
        w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"] = ln()
        w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"] = ln()
    w[prefix + "pooler.dense.weight"] = rnd(H, H, std=1 / math.sqrt(H))
    w[prefix + "pooler.dense.bias"] = rnd(H, std=0.05)
    if classifier:
        w["classifier.weight"] = rnd(cfg["num_labels"], H, std=1 / math.sqrt(H))
        w["classifier.bias"] = rnd(cfg["num_labels"], std=0.05)
    return w


def gelu(x, act):
    if act == "gelu":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(cfg, w, prefix, ids, types):
    """BERT forward on a padded batch. ids, types: lists of lists. Returns hidden [B,L,H], mask [B,L]."""
    B, L = len(ids), max(len(s) for s in ids)
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    d, eps = H // nh, cfg["layer_norm_eps"]
    W = {k: v.to(torch.float64) for k, v in w.items()}
    tid = torch.zeros(B, L, dtype=torch.long)
    tty = torch.zeros(B, L, dtype=torch.long)
    mask = torch.zeros(B, L, dtype=torch.float64)
    for b, s in enumerate(ids):
        tid[b, :len(s)] = torch.tensor(s)
        tty[b, :len(s)] = torch.tensor(types[b])
        mask[b, :len(s)] = 1
    p = prefix + "embeddings."
    pos = torch.arange(L)
    x = W[p + "word_embeddings.weight"][tid] + W[p + "position_embeddings.weight"][pos][None] + \
        W[p + "token_type_embeddings.weight"][tty]
    x = torch.nn.functional.layer_norm(x, (H,), W[p + "LayerNorm.weight"], W[p + "LayerNorm.bias"], eps)
    add_mask = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float64).min

    def lin(name, t):
        return t @ W[name + ".weight"].T + W[name + ".bias"]

    for l in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{l}."
        q = lin(p + "attention.self.query", x).view(B, L, nh, d).transpose(1, 2)
        k = lin(p + "attention.self.key", x).view(B, L, nh, d).transpose(1, 2)
        v = lin(p + "attention.self.value", x).view(B, L, nh, d).transpose(1, 2)
        s = q @ k.transpose(-1, -2) / math.sqrt(d) + add_mask
        ctx = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, L, H)
        x = torch.nn.functional.layer_norm(x + lin(p + "attention.output.dense", ctx), (H,),
                                           W[p + "attention.output.LayerNorm.weight"],
                                           W[p + "attention.output.LayerNorm.bias"], eps)
        h = gelu(lin(p + "intermediate.dense", x), cfg["hidden_act"])
        x = torch.nn.functional.layer_norm(x + lin(p + "output.dense", h), (H,),
                                           W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    return x, mask, W


def tokenize(text):
    """WordPiece for sentences of whole vocabulary words (lowercased, split on spaces)."""
    vocab = SPECIAL + WORDS
    return [vocab.index(t) for t in text.lower().split()]


def tokenizer_json():
    vocab = {t: i for i, t in enumerate(SPECIAL + WORDS)}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(SPECIAL)],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                              "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


def main():
    gen = torch.Generator().manual_seed(1234)
    golden = {}

    # Embedding model.
    cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(SPECIAL) + len(WORDS),
           "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
           "hidden_act": "gelu", "max_position_embeddings": 24, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
           "position_embedding_type": "absolute", "pad_token_id": 0}
    d = os.path.join(TD, "tiny-bert")
    os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
    w = make_weights(cfg, gen, "", False)
    write_safetensors(os.path.join(d, "model.safetensors"), w)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(d, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": 32, "pooling_mode_cls_token": False,
                   "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False}, f, indent=2)
    with open(os.path.join(d, "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                   {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}], f, indent=2)
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(), f, indent=1)

    texts = ["hello world", "the cat sat on the mat", "a big red ball is good",
             "dogs ran fast on the green tree house about the blue sky water"]
    ids = [[2] + tokenize(t) + [3] for t in texts]
    ids.append([2, 7, 3])
    ids.append([2] + [5 + (i * 7) % len(WORDS) for i in range(20)] + [3])
    types = [[0] * len(s) for s in ids]
    x, mask, _ = forward(cfg, w, "", ids, types)
    cls = x[:, 0, :]
    mean = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    golden["embed"] = {
        "texts": texts, "ids": ids,
        "cls": cls.tolist(), "mean": mean.tolist(),
        "mean_normalized": torch.nn.functional.normalize(mean, dim=-1).tolist(),
    }

    # Cross-encoder.
    ccfg = dict(cfg, architectures=["BertForSequenceClassification"], hidden_act="gelu_new",
                num_labels=1, id2label={"0": "LABEL_0"}, label2id={"LABEL_0": 0}, max_position_embeddings=32)
    d = os.path.join(TD, "tiny-cross")
    os.makedirs(d, exist_ok=True)
    cw = make_weights(ccfg, gen, "bert.", True)
    write_safetensors(os.path.join(d, "model.safetensors"), cw)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(ccfg, f, indent=2)
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(), f, indent=1)
    query = "cats play"
    passages = ["the cat sat on the mat", "blue sky water", "dogs ran fast", "a small house"]
    pids, ptypes = [], []
    for p in passages:
        a, b = tokenize(query), tokenize(p)
        pids.append([2] + a + [3] + b + [3])
        ptypes.append([0] * (len(a) + 2) + [1] * (len(b) + 1))
    x, _, W = forward(ccfg, cw, "bert.", pids, ptypes)
    pooled = torch.tanh(x[:, 0, :] @ W["bert.pooler.dense.weight"].T + W["bert.pooler.dense.bias"])
    logits = pooled @ W["classifier.weight"].T + W["classifier.bias"]
    golden["cross"] = {"query": query, "passages": passages, "ids": pids, "type_ids": ptypes,
                       "logits": logits[:, 0].tolist()}

    with open(os.path.join(TD, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
    print("wrote", TD)


def bench():
    """Embeddings/s of the same forward in float32 PyTorch, MiniLM-L6 shaped, random weights."""
    import sys
    import time
    torch.set_num_threads(2)
    cfg = {"vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
           "intermediate_size": 1536, "hidden_act": "gelu", "max_position_embeddings": 512,
           "type_vocab_size": 2, "layer_norm_eps": 1e-12}
    gen = torch.Generator().manual_seed(1)
    w = make_weights(cfg, gen, "", False)
    ids = [[int(i) for i in torch.randint(0, 30522, (128,), generator=gen)] for _ in range(32)]
    types = [[0] * 128 for _ in ids]
    B, L, H, nh = 32, 128, 384, 12
    d = H // nh
    tid = torch.tensor(ids)
    with torch.no_grad():
        W = {k: v.to(torch.float32) for k, v in w.items()}

        def run():
            x = W["embeddings.word_embeddings.weight"][tid] + W["embeddings.position_embeddings.weight"][:L][None] + \
                W["embeddings.token_type_embeddings.weight"][0]
            x = torch.nn.functional.layer_norm(x, (H,), W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], 1e-12)
            for l in range(6):
                p = f"encoder.layer.{l}."
                lin = lambda n, t: torch.nn.functional.linear(t, W[p + n + ".weight"], W[p + n + ".bias"])
                q = lin("attention.self.query", x).view(B, L, nh, d).transpose(1, 2)
                k = lin("attention.self.key", x).view(B, L, nh, d).transpose(1, 2)
                v = lin("attention.self.value", x).view(B, L, nh, d).transpose(1, 2)
                ctx = (torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1) @ v).transpose(1, 2).reshape(B, L, H)
                x = torch.nn.functional.layer_norm(x + lin("attention.output.dense", ctx), (H,),
                                                   W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"], 1e-12)
                h = torch.nn.functional.gelu(lin("intermediate.dense", x))
                x = torch.nn.functional.layer_norm(x + lin("output.dense", h), (H,),
                                                   W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], 1e-12)
            return torch.nn.functional.normalize(x.mean(1), dim=-1)

        run()
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    times.sort()
    print(f"pytorch {torch.__version__} float32 batch 32x128: median {times[1]*1000:.0f} ms = {32/times[1]:.1f} emb/s "
          f"(runs: {', '.join(f'{t*1000:.0f}' for t in times)} ms)", file=sys.stderr)


if __name__ == "__main__":
    import sys
    if "--bench" in sys.argv:
        bench()
    else:
        main()
