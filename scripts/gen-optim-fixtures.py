"""Writes test/fixtures/optim/torch-optim.json: PyTorch reference trajectories for Engram's optimizers,
gradient clipping and learning-rate schedules.

Each optimizer config runs STEPS steps on fixed float32 parameters with fixed per-step gradients (one
parameter has no gradient on one step, so it must be skipped) and records every parameter after
each step. Each schedule records the learning rate of two parameter groups after creation and
after every step, from its torch.optim.lr_scheduler twin. Options are written with Engram's
camelCase names; TORCH_KWARGS maps them to PyTorch's.

Run with Debian's PyTorch 1.13: /usr/bin/python3 scripts/gen-optim-fixtures.py
"""
import json
import math
import warnings
from pathlib import Path

import torch
from torch.optim import lr_scheduler

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "optim" / "torch-optim.json"
STEPS = 6
EPOCHS = 12
SKIP = ("c", 2)  # parameter "c" gets no gradient on step index 2

TORCH_KWARGS = {
    "lr": "lr", "momentum": "momentum", "dampening": "dampening", "nesterov": "nesterov",
    "weightDecay": "weight_decay", "betas": "betas", "eps": "eps", "amsgrad": "amsgrad",
    "alpha": "alpha", "centered": "centered", "lrDecay": "lr_decay",
    "initialAccumulatorValue": "initial_accumulator_value",
}

OPTIMIZERS = [
    ("sgd", "SGD", {"lr": 0.1}, None),
    ("sgd-momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, None),
    ("sgd-dampening-decay", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weightDecay": 0.01}, None),
    ("sgd-nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weightDecay": 0.001}, None),
    ("adam", "Adam", {"lr": 0.01}, None),
    ("adam-decay-betas", "Adam", {"lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-6, "weightDecay": 0.1}, None),
    ("adam-amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}, None),
    ("adamw", "AdamW", {"lr": 0.01}, None),
    ("adamw-amsgrad-decay", "AdamW", {"lr": 0.02, "weightDecay": 0.1, "amsgrad": True, "betas": [0.85, 0.995]}, None),
    ("rmsprop", "RMSprop", {"lr": 0.01}, None),
    ("rmsprop-centered-momentum-decay", "RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "centered": True, "weightDecay": 0.01}, None),
    ("rmsprop-momentum", "RMSprop", {"lr": 0.005, "alpha": 0.95, "momentum": 0.5, "eps": 1e-6}, None),
    ("adagrad", "Adagrad", {"lr": 0.1}, None),
    ("adagrad-decay-accumulator", "Adagrad", {"lr": 0.1, "lrDecay": 0.1, "weightDecay": 0.05, "initialAccumulatorValue": 0.1, "eps": 1e-8}, None),
    ("adam-groups", "Adam", {"lr": 0.01}, [{"params": ["w"]}, {"params": ["b", "c"], "lr": 0.003, "weightDecay": 0.1}]),
    ("sgd-groups", "SGD", {"lr": 0.1, "momentum": 0.9}, [{"params": ["w", "c"], "nesterov": True}, {"params": ["b"], "lr": 0.01, "momentum": 0.5}]),
]


def torch_kwargs(opts):
    return {TORCH_KWARGS[k]: (tuple(v) if isinstance(v, list) else v) for k, v in opts.items()}


def values(t):
    return [float(x) for x in t.detach().flatten().tolist()]


def make_data():
    g = torch.Generator().manual_seed(7)
    params = {
        "w": torch.randn(3, 4, generator=g),
        "b": torch.randn(4, generator=g) * 0.1,
        "c": torch.tensor([1.5, -2.0]),
    }
    grads = []
    for step in range(STEPS):
        grads.append({name: torch.randn(p.shape, generator=g) * (0.5 + step * 0.3) for name, p in params.items()})
    grads[SKIP[1]][SKIP[0]] = None
    return params, grads


def run_optimizer(kind, opts, groups, params0, grads):
    params = {k: v.clone().requires_grad_(True) for k, v in params0.items()}
    if groups is None:
        spec = list(params.values())
    else:
        spec = [{**torch_kwargs({k: v for k, v in grp.items() if k != "params"}), "params": [params[n] for n in grp["params"]]} for grp in groups]
    opt = getattr(torch.optim, kind)(spec, **torch_kwargs(opts))
    trajectory = []
    for step_grads in grads:
        for name, p in params.items():
            g = step_grads[name]
            p.grad = None if g is None else g.clone()
        opt.step()
        trajectory.append({name: values(p) for name, p in params.items()})
    return trajectory


def schedules():
    """(name, engram class, engram options, torch factory) for each schedule with a torch twin."""

    def noam(warmup, d_model):
        scale = d_model ** -0.5 if d_model is not None else math.sqrt(warmup)
        return lambda e: scale * min((e + 1) ** -0.5, (e + 1) * warmup ** -1.5)

    return [
        ("step", "StepLR", {"stepSize": 3, "gamma": 0.5}, lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
        ("exponential", "ExponentialLR", {"gamma": 0.9}, lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)),
        ("linear", "LinearLR", {"startFactor": 0.25, "endFactor": 1.0, "totalIters": 4}, lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4)),
        ("linear-decay", "LinearLR", {"startFactor": 1.0, "endFactor": 0.1, "totalIters": 8}, lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=8)),
        (
            "cosine-warmup",
            "CosineWarmupLR",
            {"warmupSteps": 3, "totalSteps": 12, "startFactor": 0.1, "minLr": 0.001},
            lambda o: lr_scheduler.SequentialLR(
                o,
                [lr_scheduler.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=3), lr_scheduler.CosineAnnealingLR(o, T_max=9, eta_min=0.001)],
                milestones=[3],
            ),
        ),
        ("noam", "InverseSqrtLR", {"warmupSteps": 4, "dModel": 512}, lambda o: lr_scheduler.LambdaLR(o, noam(4, 512))),
        ("inverse-sqrt", "InverseSqrtLR", {"warmupSteps": 5}, lambda o: lr_scheduler.LambdaLR(o, noam(5, None))),
    ]


PLATEAUS = [
    ("plateau-min", {"factor": 0.5, "patience": 2, "threshold": 0.01, "cooldown": 1, "minLr": 0.01},
     [1.0, 0.9, 0.895, 0.9, 0.91, 0.92, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]),
    ("plateau-max-abs", {"mode": "max", "thresholdMode": "abs", "threshold": 0.05, "factor": 0.2, "patience": 1, "minLr": [0.001, 0.0]},
     [0.1, 0.2, 0.22, 0.23, 0.5, 0.5, 0.56, 0.4, 0.4, 0.4, float("nan"), 0.9]),
]
PLATEAU_KWARGS = {"mode": "mode", "factor": "factor", "patience": "patience", "threshold": "threshold",
                  "thresholdMode": "threshold_mode", "cooldown": "cooldown", "minLr": "min_lr"}


def two_group_optimizer():
    a = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return torch.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.02}], lr=0.1)


def run_schedules():
    out = []
    for name, cls, opts, factory in schedules():
        opt = two_group_optimizer()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SequentialLR's deprecated step(0) warning
            sched = factory(opt)
            lrs = [list(sched.get_last_lr())]
            for _ in range(EPOCHS):
                opt.step()
                sched.step()
                lrs.append(list(sched.get_last_lr()))
        out.append({"name": name, "schedule": cls, "options": opts, "baseLrs": [0.1, 0.02], "lrs": lrs})
    for name, opts, metrics in PLATEAUS:
        opt = two_group_optimizer()
        kwargs = {PLATEAU_KWARGS[k]: v for k, v in opts.items()}
        sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        lrs = []
        for m in metrics:
            opt.step()
            sched.step(m)
            lrs.append([g["lr"] for g in opt.param_groups])
        out.append({"name": name, "schedule": "ReduceLROnPlateau", "options": opts, "baseLrs": [0.1, 0.02], "metrics": [m if m == m else "NaN" for m in metrics], "lrs": lrs})
    return out


def run_clipping(grads):
    out = []
    for norm_type in [2.0, 1.0, 3.0, float("inf")]:
        for max_norm in [0.5, 1000.0]:
            ps = [torch.zeros(g.shape, requires_grad=True) for g in grads.values()]
            for p, g in zip(ps, grads.values()):
                p.grad = g.clone()
            total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
            out.append({
                "normType": "Infinity" if norm_type == float("inf") else norm_type,
                "maxNorm": max_norm,
                "total": float(total),
                "grads": [values(p.grad) for p in ps],
            })
    return out


def main():
    params0, grads = make_data()
    fixture = {
        "torch": torch.__version__,
        "params": {k: {"shape": list(v.shape), "values": values(v)} for k, v in params0.items()},
        "grads": [{k: (None if g is None else values(g)) for k, g in step.items()} for step in grads],
        "optimizers": [
            {"name": name, "optimizer": kind, "options": opts, "groups": groups, "trajectory": run_optimizer(kind, opts, groups, params0, grads)}
            for name, kind, opts, groups in OPTIMIZERS
        ],
        "schedules": run_schedules(),
        "clipping": run_clipping(grads[0]),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture) + "\n")


if __name__ == "__main__":
    main()
