"""PyTorch peer for the attention suite (run by bench/suites/attention.ts with /usr/bin/python3).

Reads a JSON request on stdin:
  {"timing": {...bench/harness.ts TimingOptions...}, "threads": 2,
   "attention": [{"kind": "causal-sdpa", "batch": 1, "heads": 8, "seq": 4096, "head_dim": 64}
                 | {"kind": "mha-train", "batch": 16, "seq": 128, "embed": 256, "heads": 4}
                 | {"kind": "encoder-layer-train", "batch": 32, "seq": 64, "d_model": 256, "heads": 4,
                    "ff": 1024, "dropout": 0.1, "norm": "post" | "pre"}
                 | {"kind": "seq2seq-train", "batch": 32, "src_len": 30, "tgt_len": 30, "vocab": 64,
                    "embed": 64, "hidden": 128}, ...]}
Prints one JSON line: {"info": {...}, "rows": [...]} or {"skipped": "reason"}.

"causal-sdpa" is PyTorch 1.13's math path (what F.scaled_dot_product_attention does on a CPU
without a fused kernel): q k^T * scale, masked_fill with a causal mask, softmax, @ v, under no_grad.
Its row carries the peak resident memory the first call added (VmHWM after minus VmHWM before,
measured first thing in this fresh process, inputs and mask already allocated). "mha-train" is
torch.nn.MultiheadAttention(batch_first=True, need_weights=False) self-attention, forward, sum,
backward. "encoder-layer-train" is one training step of torch.nn.TransformerEncoderLayer(batch_first=True,
norm_first for "pre") in train mode (dropout active): forward, MSE against a fixed target, backward,
Adam step. "seq2seq-train" is src/models/seq2seq.ts's default model (attention "bahdanau", rnn
"gru") written in PyTorch: embeddings (padding_idx 0), a bidirectional nn.GRU encoder with
`hidden` units per direction, s_0 = tanh(W_s bwd_1), per decoder step additive attention
v . tanh(W s + U h_j) (U h cached, masked softmax), nn.GRUCell on [E y; c], then for all steps
at once the maxout deep output on [s; E y; c] and the vocabulary projection; teacher forcing,
cross-entropy, backward and an Adam step (lr 1e-3). Timing is torch_engine.py's (bench/harness.ts's
plan).
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


def seq2seq_train(torch, spec):
    nn = torch.nn
    b, s_len, t_len, vocab = spec["batch"], spec["src_len"], spec["tgt_len"], spec["vocab"]
    e, h = spec["embed"], spec["hidden"]
    a = 2 * h
    maxout = (h + 1) // 2
    torch.manual_seed(0)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.src_embed = nn.Embedding(vocab, e, padding_idx=0)
            self.encoder = nn.GRU(e, h, bidirectional=True)
            self.tgt_embed = nn.Embedding(vocab, e, padding_idx=0)
            self.bridge = nn.Linear(h, h, bias=False)
            self.query_proj = nn.Linear(h, h, bias=False)
            self.key_proj = nn.Linear(a, h, bias=False)
            self.v = nn.Parameter(torch.empty(h).uniform_(-(h**-0.5), h**-0.5))
            self.decoder = nn.GRUCell(e + a, h)
            self.deep_output = nn.Linear(h + e + a, 2 * maxout)
            self.out_proj = nn.Linear(maxout, vocab)

        def forward(self, src, mask, dec_in, target):
            ann, h_n = self.encoder(self.src_embed(src.t()))  # (S, B, A), (2, B, H)
            ann = ann.transpose(0, 1)  # (B, S, A)
            keys = self.key_proj(ann)
            state = torch.tanh(self.bridge(h_n[1]))
            emb = self.tgt_embed(dec_in.t())  # (T, B, E)
            states, contexts = [], []
            for t in range(t_len):
                scores = torch.tanh(self.query_proj(state).unsqueeze(1) + keys) @ self.v  # (B, S)
                weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
                context = torch.bmm(weights.unsqueeze(1), ann).squeeze(1)
                state = self.decoder(torch.cat([emb[t], context], -1), state)
                states.append(state)
                contexts.append(context)
            pre = self.deep_output(torch.cat([torch.stack(states), emb, torch.stack(contexts)], -1))
            logits = self.out_proj(torch.maximum(pre[..., :maxout], pre[..., maxout:]))
            return nn.functional.cross_entropy(logits.reshape(-1, vocab), target.t().reshape(-1))

    model = Seq2Seq()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    src = torch.randint(3, vocab, (b, s_len), generator=g)
    target = torch.randint(3, vocab, (b, t_len), generator=g)
    dec_in = torch.cat([torch.ones(b, 1, dtype=torch.long), target[:, :-1]], 1)
    mask = torch.ones(b, s_len, dtype=torch.bool)

    def step():
        opt.zero_grad()
        loss = model(src, mask, dec_in, target)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


WORKLOADS = {
    "causal-sdpa": causal_sdpa,
    "mha-train": mha_train,
    "encoder-layer-train": encoder_layer_train,
    "seq2seq-train": seq2seq_train,
}


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
