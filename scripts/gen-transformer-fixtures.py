#!/usr/bin/python3
"""Reference outputs of torch.nn.TransformerEncoderLayer / TransformerDecoderLayer / Transformer
for test/models/transformer-torch.test.ts.

Run with the interpreter that has torch 1.13:  /usr/bin/python3 scripts/gen-transformer-fixtures.py
Writes test/fixtures/transformer.json: a list of cases, each with the module config, its state dict
under PyTorch's key names, the inputs, the masks in PyTorch's polarity (True = blocked) and the
output. Computed in float64 in eval mode (dropout off) with grad enabled, so PyTorch takes its
reference (non fast-path) code. Parameters and inputs are rounded to 4 decimals before the forward
pass so the JSON stays small while the outputs are exact for those values. The masks never block a
whole row: PyTorch 1.13 returns NaN there.
"""
import json
import os

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "transformer.json")
torch.manual_seed(2024)
torch.set_default_dtype(torch.float64)
D_MODEL, NHEAD, FF = 8, 2, 16


def rounded(t):
    return torch.round(t * 1e4) / 1e4


def enc(t):
    t = t.detach()
    if t.dtype == torch.bool:
        t = t.to(torch.int32)
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def prepare(m):
    # non-trivial norms and biases so every mapping is exercised; then round everything
    with torch.no_grad():
        for k, v in m.named_parameters():
            if "norm" in k and k.endswith("weight"):
                v.copy_(1 + 0.2 * torch.randn_like(v))
            elif k.endswith("bias"):
                v.normal_(0, 0.2)
            v.copy_(rounded(v))
    m.eval()
    return m


def padding(b, length):
    # batch row r has r positions of padding at the end (position 0 is never padded)
    kpm = torch.zeros(b, length, dtype=torch.bool)
    for r in range(1, b):
        kpm[r, length - r:] = True
    return kpm


def random_mask(lq, lk):
    m = torch.rand(lq, lk) < 0.3
    m[:, 0] = False
    return m


def causal(n):
    return torch.ones(n, n, dtype=torch.bool).triu(1)


def config(norm_first, activation, eps=1e-5, batch_first=True):
    return {
        "dModel": D_MODEL,
        "numHeads": NHEAD,
        "dimFeedforward": FF,
        "norm": "pre" if norm_first else "post",
        "activation": activation,
        "layerNormEps": eps,
        "batchFirst": batch_first,
    }


def encoder_case(name, norm_first, activation, b, length, masks, eps=1e-5, batch_first=True):
    m = prepare(
        nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.0, activation=activation, layer_norm_eps=eps,
                                   batch_first=batch_first, norm_first=norm_first))
    src = rounded(torch.randn(b, length, D_MODEL) if batch_first else torch.randn(length, b, D_MODEL))
    mask = masks.get("src_mask")
    kpm = masks.get("src_key_padding_mask")
    out = m(src, src_mask=mask, src_key_padding_mask=kpm)
    c = {"name": name, "type": "encoderLayer", "config": config(norm_first, activation, eps, batch_first),
         "stateDict": {k: enc(v) for k, v in m.state_dict().items()}, "src": enc(src), "output": enc(out)}
    if mask is not None:
        c["srcMask"] = enc(mask)
    if kpm is not None:
        c["srcKeyPaddingMask"] = enc(kpm)
    return c


def decoder_case(name, norm_first, activation, b, lt, ls, masks):
    m = prepare(nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, dropout=0.0, activation=activation, batch_first=True,
                                           norm_first=norm_first))
    tgt = rounded(torch.randn(b, lt, D_MODEL))
    memory = rounded(torch.randn(b, ls, D_MODEL))
    out = m(tgt, memory, **masks)
    c = {"name": name, "type": "decoderLayer", "config": config(norm_first, activation),
         "stateDict": {k: enc(v) for k, v in m.state_dict().items()}, "tgt": enc(tgt), "memory": enc(memory),
         "output": enc(out)}
    names = {"tgt_mask": "tgtMask", "memory_mask": "memoryMask", "tgt_key_padding_mask": "tgtKeyPaddingMask",
             "memory_key_padding_mask": "memoryKeyPaddingMask"}
    for k, v in masks.items():
        c[names[k]] = enc(v)
    return c


def transformer_case(name, norm_first, b, ls, lt):
    m = prepare(nn.Transformer(D_MODEL, NHEAD, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF,
                               dropout=0.0, activation="gelu", batch_first=True, norm_first=norm_first))
    src = rounded(torch.randn(b, ls, D_MODEL))
    tgt = rounded(torch.randn(b, lt, D_MODEL))
    src_kpm = padding(b, ls)
    out = m(src, tgt, tgt_mask=causal(lt), src_key_padding_mask=src_kpm, memory_key_padding_mask=src_kpm)
    return {"name": name, "type": "transformer", "config": {**config(norm_first, "gelu"), "numLayers": 2},
            "stateDict": {k: enc(v) for k, v in m.state_dict().items()}, "src": enc(src), "tgt": enc(tgt),
            "srcKeyPaddingMask": enc(src_kpm), "tgtMask": enc(causal(lt)), "output": enc(out)}


def main():
    cases = [
        encoder_case("encoder layer, post-norm, relu, attention mask and key padding", False, "relu", 3, 5,
                     {"src_mask": random_mask(5, 5), "src_key_padding_mask": padding(3, 5)}),
        encoder_case("encoder layer, pre-norm, gelu, causal mask and key padding", True, "gelu", 2, 4,
                     {"src_mask": causal(4), "src_key_padding_mask": padding(2, 4)}),
        encoder_case("encoder layer, post-norm, gelu, sequence-first, eps 1e-3, no mask", False, "gelu", 2, 3, {},
                     eps=1e-3, batch_first=False),
        decoder_case("decoder layer, post-norm, relu, causal target mask and both paddings", False, "relu", 3, 4, 5,
                     {"tgt_mask": causal(4), "tgt_key_padding_mask": padding(3, 4),
                      "memory_key_padding_mask": padding(3, 5)}),
        decoder_case("decoder layer, pre-norm, gelu, memory mask", True, "gelu", 2, 3, 4,
                     {"memory_mask": random_mask(3, 4)}),
        decoder_case("decoder layer, pre-norm, relu, no masks", True, "relu", 2, 2, 3, {}),
        transformer_case("nn.Transformer, pre-norm, 2+2 layers, final norms", True, 2, 5, 4),
        transformer_case("nn.Transformer, post-norm, 2+2 layers, final norms", False, 2, 4, 3),
    ]
    payload = {"generator": "scripts/gen-transformer-fixtures.py", "torch": torch.__version__, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
