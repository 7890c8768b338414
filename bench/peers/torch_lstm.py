"""PyTorch peer for the lstm suite (run by bench/suites/lstm.ts with /usr/bin/python3).

Reads a JSON request on stdin:
  {"timing": {...bench/harness.ts TimingOptions...}, "threads": 2,
   "lstm": [{"kind": "train" | "forward", "batch": 32, "steps": 21, "input": 9, "hidden": 128, "output": 8}, ...]}
Prints one JSON line: {"info": {...}, "rows": [...]} or {"skipped": "reason"}.
The model is the one Engram runs: nn.LSTM (one layer, time-major) + nn.Linear head, BCE-with-logits
loss; "train" is zero_grad + forward + loss + backward + Adam step, "forward" the forward pass
under no_grad. Timing is torch_engine.py's (bench/harness.ts's plan).
"""

import json

from torch_engine import measure, start


def workload(torch, spec):
    steps, batch, n_in, hidden, n_out = spec["steps"], spec["batch"], spec["input"], spec["hidden"], spec["output"]
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(n_in, hidden)
    head = torch.nn.Linear(hidden, n_out)
    x = torch.randint(0, 2, (steps, batch, n_in)).float()
    y = torch.randint(0, 2, (steps, batch, n_out)).float()
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def train():
        opt.zero_grad()
        out, _ = lstm(x)
        loss = loss_fn(head(out), y)
        loss.backward()
        opt.step()
        return loss

    def forward():
        with torch.no_grad():
            out, _ = lstm(x)
            return head(out)

    return train if spec["kind"] == "train" else forward


def main():
    started = start()
    if started is None:
        return
    req, torch, info = started
    t = req["timing"]
    info["mkldnn"] = torch.backends.mkldnn.is_available()
    rows = []
    for spec in req.get("lstm", []):
        fn = workload(torch, spec)
        first = float(fn().mean()) if spec["kind"] == "forward" else float(fn())
        rows.append({**spec, "first_value": first, **measure(fn, t)})
    print(json.dumps({"info": info, "rows": rows}))


if __name__ == "__main__":
    main()
