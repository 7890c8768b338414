#!/usr/bin/python3
"""Reference outputs of PyTorch nn modules for test/nn/torch-parity.test.ts.

Run with the interpreter that has torch 1.13:  /usr/bin/python3 scripts/gen-nn-fixtures.py
Writes test/fixtures/nn/{linear,embedding,layer-norm,lstm,gru}.json. Each case holds the module
config, its state dict under PyTorch's key names, the inputs, and the outputs (and, for some cases,
gradients of sum(output * upstream)). Tensors are {"shape": [...], "data": [flat row-major]};
everything is computed in float64 so the fixtures carry full precision.
"""
import json
import os

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "nn")
torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def state(module):
    return {k: enc(v) for k, v in module.state_dict().items()}


def write(name, payload):
    payload = {"generator": "scripts/gen-nn-fixtures.py", "torch": torch.__version__, **payload}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")


def linear():
    m = nn.Linear(5, 3)
    x = torch.randn(2, 4, 5)
    write("linear", {"config": {"inFeatures": 5, "outFeatures": 3}, "stateDict": state(m), "input": enc(x), "output": enc(m(x))})


def embedding():
    m = nn.Embedding(10, 4, padding_idx=0)
    with torch.no_grad():
        m.weight[0].uniform_(-1, 1)  # a non-zero padding row: its output is still the row itself
    ids = torch.tensor([[0, 3, 9], [3, 0, 1]])
    out = m(ids)
    up = torch.randn(out.shape)
    (out * up).sum().backward()
    write(
        "embedding",
        {
            "config": {"numEmbeddings": 10, "embeddingDim": 4, "paddingIdx": 0},
            "stateDict": state(m),
            "ids": enc(ids),
            "output": enc(out),
            "upstream": enc(up),
            "gradWeight": enc(m.weight.grad),
        },
    )


def layer_norm():
    m = nn.LayerNorm([3, 4], eps=1e-5)
    with torch.no_grad():
        m.weight.copy_(1 + 0.5 * torch.randn(3, 4))
        m.bias.copy_(0.5 * torch.randn(3, 4))
    x = 2 * torch.randn(2, 3, 4) + 1
    write("layer-norm", {"config": {"normalizedShape": [3, 4], "eps": 1e-5}, "stateDict": state(m), "input": enc(x), "output": enc(m(x))})


def recurrent(kind):
    cls = {"lstm": nn.LSTM, "gru": nn.GRU}[kind]
    in_size, hidden, layers, steps, batch = 5, 4, 2, 6, 3
    cases = []
    for batch_first in (False, True):
        m = cls(in_size, hidden, num_layers=layers, bidirectional=True, batch_first=batch_first)
        x = torch.randn(batch, steps, in_size) if batch_first else torch.randn(steps, batch, in_size)
        h0 = torch.randn(layers * 2, batch, hidden)
        c0 = torch.randn(layers * 2, batch, hidden)
        case = {"batchFirst": batch_first, "stateDict": state(m), "input": enc(x), "h0": enc(h0)}
        if kind == "lstm":
            case["c0"] = enc(c0)
            out, (hn, cn) = m(x, (h0, c0))
            case["cN"] = enc(cn)
        else:
            out, hn = m(x, h0)
        case["output"] = enc(out)
        case["hN"] = enc(hn)
        cases.append(case)

        # per-sequence lengths through a packed sequence, with gradients of a weighted sum of outputs
        lengths = [6, 2, 4]
        x = x.clone().requires_grad_(True)
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        if kind == "lstm":
            out_p, (hn, cn) = m(packed, (h0, c0))
        else:
            out_p, hn = m(packed, h0)
        out, _ = pad_packed_sequence(out_p, batch_first=batch_first, total_length=steps)
        up = torch.randn(out.shape)
        up_h = torch.randn(hn.shape)
        m.zero_grad()
        loss = (out * up).sum() + (hn * up_h).sum()
        if kind == "lstm":
            up_c = torch.randn(cn.shape)
            loss = loss + (cn * up_c).sum()
        loss.backward()
        packed_case = {
            "batchFirst": batch_first,
            "lengths": lengths,
            "stateDict": state(m),
            "input": enc(x),
            "h0": enc(h0),
            "output": enc(out),
            "hN": enc(hn),
            "upstream": enc(up),
            "upstreamH": enc(up_h),
            "gradInput": enc(x.grad),
            "gradParams": {k: enc(p.grad) for k, p in m.named_parameters()},
        }
        if kind == "lstm":
            packed_case.update({"c0": enc(c0), "cN": enc(cn), "upstreamC": enc(up_c)})
        cases.append(packed_case)
    write(kind, {"config": {"inputSize": in_size, "hiddenSize": hidden, "numLayers": layers, "bidirectional": True}, "cases": cases})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    linear()
    embedding()
    layer_norm()
    recurrent("lstm")
    recurrent("gru")
