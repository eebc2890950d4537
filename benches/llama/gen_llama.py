#!/usr/bin/env python3
"""Generate Llama-style core-ATen .pt2 graphs of several depths for the partitioner benchmark.

    /path/to/venv/bin/python benches/llama/gen_llama.py [--layers 4 16 48] [--handwritten]
                                                        [--strip-meta] [--out DIR]

Writes benches/llama/llama_L{N}.core.pt2: a tiny-width (hidden 16) Llama with random weights,
exported with a static input_ids int64[1, 8], then ep.run_decompositions() (core ATen).

By default the model is transformers' LlamaForCausalLM built from a LlamaConfig (no download).
If transformers is missing or its export fails (or --handwritten is given), an equivalent
hand-written Llama is used (embedding, RMSNorm with rsqrt, rotary embedding, causal attention,
SiLU-gated MLP, final norm, lm_head).
Requires torch==2.11.0 (and optionally transformers; 5.23.0 was used).
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
HIDDEN, INTER, HEADS, KV_HEADS, VOCAB, MAXPOS, SEQ = 16, 32, 2, 2, 64, 64, 8


# ---- hand-written fallback ------------------------------------------------------------------
class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.hd = HIDDEN // HEADS
        self.input_layernorm = RMSNorm(HIDDEN)
        self.q_proj = nn.Linear(HIDDEN, HEADS * self.hd, bias=False)
        self.k_proj = nn.Linear(HIDDEN, KV_HEADS * self.hd, bias=False)
        self.v_proj = nn.Linear(HIDDEN, KV_HEADS * self.hd, bias=False)
        self.o_proj = nn.Linear(HEADS * self.hd, HIDDEN, bias=False)
        self.post_attention_layernorm = RMSNorm(HIDDEN)
        self.gate_proj = nn.Linear(HIDDEN, INTER, bias=False)
        self.up_proj = nn.Linear(HIDDEN, INTER, bias=False)
        self.down_proj = nn.Linear(INTER, HIDDEN, bias=False)

    def forward(self, x, cos, sin, mask):
        B, S, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, S, HEADS, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(B, S, KV_HEADS, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(B, S, KV_HEADS, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        a = torch.softmax(att, dim=-1) @ v
        x = x + self.o_proj(a.transpose(1, 2).reshape(B, S, -1))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class HandLlama(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        self.layers = nn.ModuleList(Block() for _ in range(layers))
        self.norm = RMSNorm(HIDDEN)
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)
        hd = HIDDEN // HEADS
        self.register_buffer("inv_freq", 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd)),
                             persistent=False)

    def forward(self, input_ids):
        S = input_ids.shape[1]
        x = self.embed_tokens(input_ids)
        pos = torch.arange(S, dtype=torch.float32)
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((S, S), float("-inf")).triu(1)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.norm(x))


# ---- transformers ---------------------------------------------------------------------------
class HFWrap(nn.Module):
    """input_ids -> logits, so the exported signature has one input and one output."""

    def __init__(self, layers):
        super().__init__()
        from transformers import LlamaConfig, LlamaForCausalLM
        cfg = LlamaConfig(hidden_size=HIDDEN, intermediate_size=INTER,
                          num_attention_heads=HEADS, num_key_value_heads=KV_HEADS,
                          num_hidden_layers=layers, vocab_size=VOCAB,
                          max_position_embeddings=MAXPOS)
        self.m = LlamaForCausalLM(cfg)

    def forward(self, input_ids):
        return self.m(input_ids=input_ids, use_cache=False).logits


def export_core(model, ids):
    model.eval()
    ep = torch.export.export(model, (ids,))
    return ep.run_decompositions()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, nargs="+", default=[4, 16, 48])
    ap.add_argument("--handwritten", action="store_true")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--strip-meta", action="store_true",
                    help="drop stack_trace/from_node node metadata (about halves the JSON)")
    a = ap.parse_args()
    print("torch", torch.__version__)
    for L in a.layers:
        torch.manual_seed(L)
        ids = torch.randint(0, VOCAB, (1, SEQ), dtype=torch.int64)
        kind = "hand"
        core = None
        if not a.handwritten:
            try:
                t0 = time.perf_counter()
                core = export_core(HFWrap(L), ids)
                kind = "transformers"
            except Exception as e:  # ImportError or an export failure
                print(f"L={L}: transformers path failed ({type(e).__name__}: {e}); hand-written")
        if core is None:
            torch.manual_seed(L)
            t0 = time.perf_counter()
            core = export_core(HandLlama(L), ids)
        dt = time.perf_counter() - t0
        if a.strip_meta:
            for node in core.graph.nodes:
                node.meta.pop("stack_trace", None)
                node.meta.pop("from_node", None)
        path = os.path.join(a.out, f"llama_L{L}.core.pt2")
        torch.export.save(core, path)
        n = len(core.graph.nodes)
        sz = os.path.getsize(path)
        warn = "  (> 3 MB: do not commit)" if sz > 3 * 1024 * 1024 else ""
        print(f"{os.path.basename(path)}: {kind}, {n} fx nodes, export+decomp {dt:.1f}s, "
              f"{sz} bytes{warn}")


if __name__ == "__main__":
    main()
