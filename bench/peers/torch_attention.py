"""PyTorch peer for the attention suite (run by bench/suites/attention.ts with /usr/bin/python3).

Reads a JSON request on stdin:
  {"timing": {...bench/harness.ts TimingOptions...}, "threads": 2,
   "attention": [{"kind": "causal-sdpa", "batch": 1, "heads": 8, "seq": 4096, "head_dim": 64}
                 | {"kind": "mha-train", "batch": 16, "seq": 128, "embed": 256, "heads": 4}
                 | {"kind": "encoder-layer-train", "batch": 32, "seq": 64, "d_model": 256, "heads": 4,
                    "ff": 1024, "dropout": 0.1, "norm": "post" | "pre"}, ...]}
Prints one JSON line: {"info": {...}, "rows": [...]} or {"skipped": "reason"}.

"causal-sdpa" is PyTorch 1.13's math path (what F.scaled_dot_product_attention does on a CPU
without a fused kernel): q k^T * scale, masked_fill with a causal mask, softmax, @ v, under no_grad.
Its row carries the peak resident memory the first call added (VmHWM after minus VmHWM before,
measured first thing in this fresh process, inputs and mask already allocated). "mha-train" is
torch.nn.MultiheadAttention(batch_first=True, need_weights=False) self-attention, forward, sum,
backward. "encoder-layer-train" is one training step of torch.nn.TransformerEncoderLayer(batch_first=True,
norm_first for "pre") in train mode (dropout active): forward, MSE against a fixed target, backward,
Adam step. Timing is torch_engine.py's (bench/harness.ts's plan).
"""

import json
import math

from torch_engine import measure, start


def vm_hwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def causal_sdpa(torch, spec):
    b, h, t, d = spec["batch"], spec["heads"], spec["seq"], spec["head_dim"]
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(b, h, t, d, generator=g) for _ in range(3))
    keep = torch.ones(t, t, dtype=torch.bool).tril()
    scale = 1.0 / math.sqrt(d)

    def forward():
        with torch.no_grad():
            s = torch.matmul(q, k.transpose(-2, -1)) * scale
            s = s.masked_fill(~keep, float("-inf"))
            return torch.matmul(torch.softmax(s, dim=-1), v)

    return forward


def mha_train(torch, spec):
    b, t, e, h = spec["batch"], spec["seq"], spec["embed"], spec["heads"]
    m = torch.nn.MultiheadAttention(e, h, batch_first=True)
    x = torch.randn(b, t, e)

    def step():
        m.zero_grad(set_to_none=True)
        out, _ = m(x, x, x, need_weights=False)
        loss = out.sum()
        loss.backward()
        return out

    return step


def encoder_layer_train(torch, spec):
    b, t, d = spec["batch"], spec["seq"], spec["d_model"]
    layer = torch.nn.TransformerEncoderLayer(
        d, spec["heads"], spec["ff"], dropout=spec["dropout"], batch_first=True, norm_first=spec["norm"] == "pre"
    )
    layer.train()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-4)
    x = torch.randn(b, t, d)
    target = torch.randn(b, t, d)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(layer(x), target)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


WORKLOADS = {"causal-sdpa": causal_sdpa, "mha-train": mha_train, "encoder-layer-train": encoder_layer_train}


def main():
    started = start()
    if started is None:
        return
    req, torch, info = started
    t = req["timing"]
    rows = []
    # the memory probe runs first, so the high-water mark is this workload's
    for spec in sorted(req.get("attention", []), key=lambda s: s["kind"] != "causal-sdpa"):
        fn = WORKLOADS[spec["kind"]](torch, spec)
        before = vm_hwm_kb()
        first = float(fn().float().mean())
        extra = {"peak_delta_kb": vm_hwm_kb() - before} if spec["kind"] == "causal-sdpa" else {}
        rows.append({**spec, "first_value": first, **extra, **measure(fn, t)})
    print(json.dumps({"info": info, "rows": rows}))


if __name__ == "__main__":
    main()
