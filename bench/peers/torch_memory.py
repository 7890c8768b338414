"""PyTorch peer for the memory suite (run by bench/suites/memory.ts with /usr/bin/python3).

Reads a JSON request on stdin:
  {"timing": {...bench/harness.ts TimingOptions...}, "threads": 2,
   "memory": [{"kind": "ntm", "batch": 16, "steps": 41, "input": 9, "output": 8, "hidden": 100,
               "slots": 128, "width": 20, "reads": 1, "writes": 1, "shift_range": 1}, ...]}
Prints one JSON line: {"info": {...}, "rows": [...]} or {"skipped": "reason"}.

Each model does the math of its Engram twin (src/memory/*.ts) with the same sizes, written the way
a PyTorch user would (nn.LSTMCell controller over [x_t, r_{t-1}], batched matmuls for addressing,
F.embedding lookups for MemN2N's tables); a "train" call is zero_grad + forward over the whole
sequence + loss + backward (+ gradient clipping where the model's spec trains with it) + optimizer
step: NTM and DNC BCE-with-logits and RMSprop lr 1e-4, alpha 0.95, momentum 0.9 (the NTM paper /
pytorch-ntm); MemN2N cross-entropy, norm clip 40, SGD lr 0.01 momentum 0.9; fast weights
cross-entropy, norm clip 5, Adam lr 1e-3.
Timing is torch_engine.py's (bench/harness.ts's plan).
"""

import json

from torch_engine import measure, start

COSINE_EPS = 1e-6
SHARPEN_EPS = 1e-12
USAGE_EPS = 1e-6
CLIP = 20.0


def content_addressing(F, torch, keys, memory, strength):
    """keys (B, H, W), memory (B, N, W), strength (B, H) -> softmax_i(strength cos(k, M_i)) (B, H, N)."""
    dots = torch.matmul(keys, memory.transpose(1, 2))
    key_scale = torch.rsqrt((keys * keys).sum(-1, keepdim=True) + COSINE_EPS) * strength.unsqueeze(-1)
    row_scale = torch.rsqrt((memory * memory).sum(-1) + COSINE_EPS).unsqueeze(1)
    return F.softmax(dots * key_scale * row_scale, dim=-1)


def erase_and_add(torch, memory, weights, erase, add):
    """One write head: M o (1 - w^T e) + w^T a, weights (B, 1, N), erase/add (B, 1, W)."""
    wt = weights.transpose(1, 2)
    return memory * (1 - torch.matmul(wt, erase)) + torch.matmul(wt, add)


class NTM:
    """src/memory/ntm.ts NtmTagger: LSTM controller, heads projection, content + location addressing."""

    def __init__(self, torch, s):
        nn = torch.nn
        self.torch, self.s = torch, s
        heads = s["reads"] + s["writes"]
        self.shifts = 2 * s["shift_range"] + 1
        p = heads * (s["width"] + 3 + self.shifts) + 2 * s["writes"] * s["width"]
        self.ctrl = nn.LSTMCell(s["input"] + s["reads"] * s["width"], s["hidden"])
        self.heads = nn.Linear(s["hidden"], p)
        self.out = nn.Linear(s["hidden"] + s["reads"] * s["width"], s["output"])
        n, half = s["slots"], s["shift_range"]
        # gather index of the circular shift: entry i * S + k is slot (i - (k - half)) mod N
        self.shift_index = torch.tensor([(i - (k - half)) % n for i in range(n) for k in range(self.shifts)])

    def parameters(self):
        return [*self.ctrl.parameters(), *self.heads.parameters(), *self.out.parameters()]

    def forward(self, x):
        torch, s = self.torch, self.s
        F = torch.nn.functional
        b, steps = x.shape[0], x.shape[1]
        r, wh, width, n = s["reads"], s["writes"], s["width"], s["slots"]
        heads, shifts = r + wh, self.shifts
        memory = torch.full((b, n, width), 1e-6)
        weights = torch.zeros(b, heads, n)
        weights[:, :, 0] = 1
        reads = torch.matmul(weights[:, :r], memory)
        h = torch.zeros(b, s["hidden"])
        c = torch.zeros(b, s["hidden"])
        outs = []
        for t in range(steps):
            h, c = self.ctrl(torch.cat([x[:, t], reads.reshape(b, r * width)], 1), (h, c))
            p = self.heads(h).clamp(-CLIP, CLIP)
            keys, adds, positive, gates, shift = torch.split(
                p, [heads * width, wh * width, 2 * heads, heads + wh * width, heads * shifts], 1
            )
            keys = keys.reshape(b, heads, width)
            adds = torch.tanh(adds).reshape(b, wh, width)
            positive = F.softplus(positive)
            gates = torch.sigmoid(gates)
            shift = F.softmax(shift.reshape(b, heads, shifts), -1)
            beta, gamma = positive[:, :heads], positive[:, heads:] + 1
            erase = gates[:, heads:].reshape(b, wh, width)
            content = content_addressing(F, torch, keys, memory, beta)
            g = gates[:, :heads].unsqueeze(-1)
            w = weights + g * (content - weights)
            rotated = w[:, :, self.shift_index].reshape(b, heads, n, shifts)
            w = torch.matmul(rotated, shift.unsqueeze(-1)).reshape(b, heads, n)
            weights = F.softmax(torch.log(w + SHARPEN_EPS) * gamma.unsqueeze(-1), -1)
            reads = torch.matmul(weights[:, :r], memory)
            memory = erase_and_add(torch, memory, weights[:, r:], erase, adds)
            outs.append(torch.cat([h, reads.reshape(b, r * width)], 1))
        return self.out(torch.stack(outs, 1))


class DNC:
    """src/memory/dnc.ts DncTagger: LSTM controller, interface vector, usage/allocation, temporal links."""

    def __init__(self, torch, s):
        nn = torch.nn
        self.torch, self.s = torch, s
        r, w = s["reads"], s["width"]
        self.ctrl = nn.LSTMCell(s["input"] + r * w, s["hidden"])
        self.iface = nn.Linear(s["hidden"], r * w + 3 * w + 5 * r + 3)
        self.out = nn.Linear(s["hidden"] + r * w, s["output"])
        n = s["slots"]
        self.off_diagonal = 1 - torch.eye(n)

    def parameters(self):
        return [*self.ctrl.parameters(), *self.iface.parameters(), *self.out.parameters()]

    def allocation(self, usage):
        torch = self.torch
        u = USAGE_EPS + (1 - USAGE_EPS) * usage
        sorted_u, order = torch.sort(u, dim=-1, stable=True)
        prefix = torch.cumprod(torch.cat([torch.ones_like(sorted_u[:, :1]), sorted_u[:, :-1]], 1), 1)
        return torch.zeros_like(u).scatter(1, order, (1 - sorted_u) * prefix)

    def forward(self, x):
        torch, s = self.torch, self.s
        F = torch.nn.functional
        b, steps = x.shape[0], x.shape[1]
        r, width, n = s["reads"], s["width"], s["slots"]
        memory = torch.zeros(b, n, width)
        usage = torch.zeros(b, n)
        link = torch.zeros(b, n, n)
        precedence = torch.zeros(b, n)
        read_w = torch.zeros(b, r, n)
        write_w = torch.zeros(b, n)
        reads = torch.zeros(b, r, width)
        h = torch.zeros(b, s["hidden"])
        c = torch.zeros(b, s["hidden"])
        outs = []
        for t in range(steps):
            h, c = self.ctrl(torch.cat([x[:, t], reads.reshape(b, r * width)], 1), (h, c))
            p = self.iface(h).clamp(-CLIP, CLIP)
            raw, strengths, gates, modes = torch.split(p, [r * width + 2 * width, r + 1, width + r + 2, 3 * r], 1)
            strengths = F.softplus(strengths) + 1
            gates = torch.sigmoid(gates)
            modes = F.softmax(modes.reshape(b, r, 3), -1)
            read_keys = raw[:, : r * width].reshape(b, r, width)
            write_key = raw[:, r * width : (r + 1) * width].reshape(b, 1, width)
            write_vec = raw[:, (r + 1) * width :].reshape(b, 1, width)
            erase = gates[:, :width].reshape(b, 1, width)
            free = gates[:, width : width + r]
            alloc_gate = gates[:, width + r : width + r + 1].unsqueeze(-1)
            write_gate = gates[:, width + r + 1 :].unsqueeze(-1)

            retention = torch.prod(1 - free.unsqueeze(-1) * read_w, 1)
            usage = (usage + write_w * (1 - usage)) * retention
            alloc = self.allocation(usage).unsqueeze(1)
            write_content = content_addressing(F, torch, write_key, memory, strengths[:, r:])
            write3 = (write_content + alloc_gate * (alloc - write_content)) * write_gate
            write_w = write3.reshape(b, n)
            memory = erase_and_add(torch, memory, write3, erase, write_vec)
            wi, wj = write_w.unsqueeze(2), write_w.unsqueeze(1)
            link = ((1 - wi - wj) * link + wi * precedence.unsqueeze(1)) * self.off_diagonal
            precedence = (1 - write_w.sum(-1, keepdim=True)) * precedence + write_w
            fwd = torch.matmul(read_w, link.transpose(1, 2))
            bwd = torch.matmul(read_w, link)
            read_content = content_addressing(F, torch, read_keys, memory, strengths[:, :r])
            read_w = modes[:, :, 0:1] * bwd + modes[:, :, 1:2] * read_content + modes[:, :, 2:3] * fwd
            reads = torch.matmul(read_w, memory)
            outs.append(torch.cat([h, reads.reshape(b, r * width)], 1))
        return self.out(torch.stack(outs, 1))


def position_encoding(torch, ids, d):
    """ids (..., J_max) with PAD 0 after each row's words -> l (..., J_max, d), l_kj = (1 - j/J) - (k/d)(1 - 2j/J)
    over the row's own J words (src/memory/memn2n.ts's paper formula), 0 on PAD."""
    J = (ids != 0).sum(-1, keepdim=True).clamp(min=1).unsqueeze(-1).float()
    j = torch.arange(1, ids.shape[-1] + 1).float().view(*([1] * (ids.dim() - 1)), -1, 1)
    k = torch.arange(1, d + 1).float() / d
    return ((1 - j / J) - k * (1 - 2 * j / J)) * (ids != 0).unsqueeze(-1)


def sentences(torch, rows, width, vocab):
    """rows x width ids: each row 3..width words from 1..vocab - 1, then PAD (0)."""
    lengths = torch.randint(3, width + 1, (rows, 1))
    return torch.randint(1, vocab, (rows, width)) * (torch.arange(width) < lengths)


class MemN2N:
    """src/memory/memn2n.ts MemN2N, adjacent tying (tables 0..K, B = A^1, C^k = A^{k+1}, W^T = C^K), temporal rows."""

    def __init__(self, torch, s):
        self.torch, self.s = torch, s
        v, d, k, n = s["vocab"], s["dim"], s["hops"], s["sentences"]
        self.tables = [(torch.randn(v, d) * 0.1).requires_grad_() for _ in range(k + 1)]
        self.temporal = [(torch.randn(n, d) * 0.1).requires_grad_() for _ in range(k + 1)]

    def parameters(self):
        return [*self.tables, *self.temporal]

    def forward(self, story, story_pe, query, query_pe, ages, keep):
        torch, k = self.torch, self.s["hops"]
        F = torch.nn.functional
        # each table's sentence encodings once: adjacent tying uses C^k's again as A^{k+1}'s
        encoded = [(F.embedding(story, t) * story_pe).sum(2) for t in self.tables[:k + 1]]  # (B, S, d)
        u = (F.embedding(query, self.tables[0]) * query_pe).sum(1)  # (B, d)
        for hop in range(k):
            m = encoded[hop] + F.embedding(ages, self.temporal[hop])
            c = encoded[hop + 1] + F.embedding(ages, self.temporal[hop + 1])
            scores = torch.bmm(m, u.unsqueeze(2)).squeeze(2).masked_fill(~keep, float("-inf"))
            p = F.softmax(scores, -1)
            u = u + torch.bmm(p.unsqueeze(1), c).squeeze(1)
        return u @ self.tables[k].t()


class FastWeightsQA:
    """src/memory/fast-weights.ts FastWeightsQA, attention formulation (A_{t-1} h = sum_tau eta lambda^(t-1-tau) h_tau (h_tau . h))."""

    def __init__(self, torch, s):
        nn = torch.nn
        self.torch, self.s = torch, s
        v, h = s["vocab"], s["hidden"]
        self.input = nn.Linear(v, h)
        self.recurrent = nn.Parameter(0.05 * torch.eye(h))
        self.norm = nn.LayerNorm(h)
        self.hidden = nn.Linear(h, s["head"])
        self.out = nn.Linear(s["head"], v)

    def parameters(self):
        return [*self.input.parameters(), self.recurrent, *self.norm.parameters(), *self.hidden.parameters(), *self.out.parameters()]

    def forward(self, ids, lengths):
        torch, s = self.torch, self.s
        F = torch.nn.functional
        b, steps = ids.shape
        eta, decay = s["fast_lr"], s["decay"]
        proj = self.input(F.one_hot(ids, s["vocab"]).float())  # (B, T, H): C x_t + b
        h = torch.zeros(b, s["hidden"])
        states = []
        for t in range(steps):
            pre = proj[:, t] + h @ self.recurrent.t()
            if t == 0:
                h = F.relu(self.norm(pre))
            else:
                past = torch.stack(states, 1)  # (B, t, H)
                coef = eta * decay ** torch.arange(t - 1, -1, -1, dtype=torch.float32)
                weighted = past * coef.view(1, t, 1)
                hs = F.relu(pre)
                scores = torch.bmm(past, hs.unsqueeze(2))  # (B, t, 1)
                h = F.relu(self.norm(pre + torch.bmm(scores.transpose(1, 2), weighted).squeeze(1)))
            states.append(h)
        last = torch.stack(states, 1)[torch.arange(b), lengths - 1]
        return self.out(F.relu(self.hidden(last)))


def memn2n_workload(torch, spec):
    b, n, w = spec["batch"], spec["sentences"], spec["words"]
    model = MemN2N(torch, spec)
    story = sentences(torch, b * n, w, spec["vocab"]).view(b, n, w)
    query = sentences(torch, b, spec["query_words"], spec["vocab"])
    story_pe, query_pe = position_encoding(torch, story, spec["dim"]), position_encoding(torch, query, spec["dim"])
    ages = (n - 1 - torch.arange(n)).expand(b, n)  # every story holds n sentences; age 0 = the most recent
    keep = torch.ones(b, n, dtype=torch.bool)
    answer = torch.randint(1, spec["vocab"], (b,))
    params = model.parameters()
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    F = torch.nn.functional

    def train():
        opt.zero_grad()
        loss = F.cross_entropy(model.forward(story, story_pe, query, query_pe, ages, keep), answer)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 40)
        opt.step()
        return loss

    return train


def fast_weights_workload(torch, spec):
    b, steps, v = spec["batch"], spec["steps"], spec["vocab"]
    model = FastWeightsQA(torch, spec)
    ids = torch.randint(1, v, (b, steps))
    lengths = torch.full((b,), steps)
    answer = torch.randint(1, v, (b,))
    params = model.parameters()
    opt = torch.optim.Adam(params, lr=1e-3)
    F = torch.nn.functional

    def train():
        opt.zero_grad()
        loss = F.cross_entropy(model.forward(ids, lengths), answer)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5)
        opt.step()
        return loss

    return train


MODELS = {"ntm": NTM, "dnc": DNC}


def workload(torch, spec):
    torch.manual_seed(0)
    if spec["kind"] == "memn2n":
        return memn2n_workload(torch, spec)
    if spec["kind"] == "fast-weights":
        return fast_weights_workload(torch, spec)
    model = MODELS[spec["kind"]](torch, spec)
    b, steps = spec["batch"], spec["steps"]
    x = torch.randint(0, 2, (b, steps, spec["input"])).float()
    y = torch.randint(0, 2, (b, steps, spec["output"])).float()
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-4, alpha=0.95, momentum=0.9)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def train():
        opt.zero_grad()
        loss = loss_fn(model.forward(x), y)
        loss.backward()
        opt.step()
        return loss

    return train


def main():
    started = start()
    if started is None:
        return
    req, torch, info = started
    t = req["timing"]
    rows = []
    for spec in req.get("memory", []):
        fn = workload(torch, spec)
        first = float(fn())
        rows.append({**spec, "first_value": first, **measure(fn, t)})
    print(json.dumps({"info": info, "rows": rows}))


if __name__ == "__main__":
    main()
