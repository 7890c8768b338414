#!/usr/bin/python3
"""Reference outputs of torch.nn.MultiheadAttention for test/attention/multi-head.test.ts.

Run with the interpreter that has torch 1.13:  /usr/bin/python3 scripts/gen-attention-fixtures.py
Writes test/fixtures/attention/mha.json: a list of cases, each with the module config, its state
dict under PyTorch's key names, the inputs, the masks in PyTorch's polarity (True = blocked), the
output and the head-averaged attention weights. Computed in float64 so the fixtures carry full
precision. The masks never block a whole row: PyTorch 1.13 returns NaN there.
"""
import json
import os

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "attention")
torch.manual_seed(4321)
torch.set_default_dtype(torch.float64)


def enc(t):
    t = t.detach()
    if t.dtype == torch.bool:
        t = t.to(torch.int32)
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def case(name, embed_dim, num_heads, kdim, vdim, b, lq, lk, self_attn):
    m = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, kdim=kdim, vdim=vdim)
    # non-zero biases so the bias mapping is exercised
    with torch.no_grad():
        for k, v in m.named_parameters():
            if "bias" in k:
                v.normal_(0, 0.1)
    m.eval()
    q = torch.randn(b, lq, embed_dim)
    if self_attn:
        key = value = q
    else:
        key = torch.randn(b, lk, kdim or embed_dim)
        value = torch.randn(b, lk, vdim or embed_dim)
    # batch row r has r keys of padding at the end (key 0 is never padded)
    kpm = torch.zeros(b, lk, dtype=torch.bool)
    for r in range(b):
        if r > 0:
            kpm[r, lk - r:] = True
    if self_attn:
        attn_mask = torch.ones(lq, lk, dtype=torch.bool).triu(1)  # causal: True above the diagonal
    else:
        attn_mask = torch.rand(lq, lk) < 0.3
        attn_mask[:, 0] = False
    out, w = m(q, key, value, key_padding_mask=kpm, attn_mask=attn_mask, need_weights=True, average_attn_weights=True)
    out_nomask, w_nomask = m(q, key, value, need_weights=True, average_attn_weights=True)
    return {
        "name": name,
        "config": {"embedDim": embed_dim, "numHeads": num_heads, "kdim": kdim or embed_dim, "vdim": vdim or embed_dim},
        "stateDict": {k: enc(v) for k, v in m.state_dict().items()},
        "query": enc(q),
        "key": enc(key),
        "value": enc(value),
        "keyPaddingMask": enc(kpm),
        "attnMask": enc(attn_mask),
        "output": enc(out),
        "weights": enc(w),
        "outputNoMask": enc(out_nomask),
        "weightsNoMask": enc(w_nomask),
    }


def main():
    cases = [
        case("packed self-attention", 8, 2, None, None, 3, 5, 5, True),
        case("packed cross-attention", 8, 4, None, None, 2, 3, 6, False),
        case("separate kdim/vdim cross-attention", 6, 3, 5, 7, 3, 4, 5, False),
    ]
    os.makedirs(OUT, exist_ok=True)
    payload = {"generator": "scripts/gen-attention-fixtures.py", "torch": torch.__version__, "cases": cases}
    with open(os.path.join(OUT, "mha.json"), "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
