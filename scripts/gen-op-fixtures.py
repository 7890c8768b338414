#!/usr/bin/python3
"""PyTorch reference values for every Engram op -> test/fixtures/ops.json.

Run with Debian's Python, which has PyTorch 1.13 (CPU):

    /usr/bin/python3 scripts/gen-op-fixtures.py

The output is deterministic (torch.manual_seed) and holds, for every case: the Engram call (op name
and JSON arguments in which {"$t": i} stands for input tensor i), the input tensors, the expected
outputs and, for differentiable cases, the gradient of sum(out * w) for a stored random w with
respect to each input marked "grad". test/ops/reference.test.ts replays the cases without Python.

Values are stored exactly: float32 tensors as the shortest decimal that round-trips to the same
float32, float64 tensors as the shortest that round-trips to the same double. Non-finite values
are the strings "Infinity", "-Infinity" and "NaN". Where Engram deliberately differs from PyTorch
(a fully masked softmax row gives zeros instead of NaN) the case stores Engram's value and says so
in its "note".
"""
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(
        f"gen-op-fixtures: cannot import {e.name} with {sys.executable}. Run this script with Debian's "
        "/usr/bin/python3, which has PyTorch 1.13 (CPU) and NumPy installed."
    )

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "ops.json")
F32, F64 = torch.float32, torch.float64
BOTH = (F32, F64)
DT_NAME = {F32: "float32", F64: "float64", torch.int64: "int32", torch.int32: "int32", torch.bool: "bool"}
INF = {"$num": "Infinity"}
# an argument left undefined in the Engram call (JSON null would reach the op as null)
UNDEF = {"$undefined": True}

torch.manual_seed(0)
torch.set_num_threads(1)
cases = []


# ---------------------------------------------------------------- inputs


class Inp:
    """An input tensor: float data (generated in float64 and cast per case), int32 or bool."""

    def __init__(self, data, grad=None):
        self.data = data
        self.grad = data.is_floating_point() if grad is None else grad


def randn(*shape, scale=1.0):
    return Inp(torch.randn(shape, dtype=F64) * scale)


def uniform(lo, hi, *shape, grad=None):
    return Inp(torch.rand(shape, dtype=F64) * (hi - lo) + lo, grad)


def ints(lo, hi, *shape):
    return Inp(torch.randint(lo, hi, shape, dtype=torch.int64))


def const(values, dtype=F64, grad=None):
    return Inp(torch.tensor(values, dtype=dtype), grad)


def bools(*shape, p=0.5):
    return Inp(torch.rand(*shape) < p)


def t(i):
    return {"$t": i}


# ---------------------------------------------------------------- encoding


class Raw:
    """Pre-formatted JSON text (numbers keep their exact shortest form)."""

    def __init__(self, text):
        self.text = text


def fmt(v, dtype):
    if dtype in (F32, F64):
        v = float(v)
        if math.isnan(v):
            return '"NaN"'
        if math.isinf(v):
            return '"Infinity"' if v > 0 else '"-Infinity"'
        s = str(np.float32(v)) if dtype == F32 else repr(v)
        return s[:-2] if s.endswith(".0") else s
    return str(int(v))


def enc_tensor(x):
    flat = x.detach().reshape(-1).tolist()
    return {
        "shape": list(x.shape),
        "dtype": DT_NAME[x.dtype],
        "data": Raw("[" + ",".join(fmt(v, x.dtype) for v in flat) + "]"),
    }


def dump(v):
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump(x) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(dump(x) for x in v) + "]"
    return json.dumps(v)


# ---------------------------------------------------------------- cases


def sub_dtype(v, name):
    """Replaces the string "$dtype" in call arguments by the case's dtype name."""
    if v == "$dtype":
        return name
    if isinstance(v, dict):
        return {k: sub_dtype(x, name) for k, x in v.items()}
    if isinstance(v, list):
        return [sub_dtype(x, name) for x in v]
    return v


def case(name, op, args, inputs, ref, dtypes=BOTH, grad=True, note=None, tol=None, ref_args=None):
    """Adds one case per dtype: float inputs are cast to that dtype, ints and bools stay as they are.

    ref(*torch_inputs) computes PyTorch's result (a tensor or a list of tensors); int inputs reach it
    as int64. With grad, the gradient of sum(out * w) is stored for each input whose grad flag is set.
    """
    for dt in dtypes:
        dname = DT_NAME[dt]
        ts = []
        for inp in inputs:
            x = inp.data.to(dt) if inp.data.is_floating_point() else inp.data
            x = x.clone()
            if grad and inp.grad:
                x.requires_grad_(True)
            ts.append(x)
        out = ref(*ts)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        entry = {
            "name": f"{name}/{dname}" if len(dtypes) > 1 else name,
            "op": op,
            "args": sub_dtype(args, dname),
            "inputs": [dict(enc_tensor(x), grad=bool(grad and inp.grad)) for x, inp in zip(ts, inputs)],
            "outputs": [enc_tensor(o) for o in outs],
        }
        wanted = [x for x in ts if x.requires_grad]
        if wanted:
            ws = [torch.randn(o.shape, dtype=F64).to(o.dtype) for o in outs]
            loss = sum((o * w).sum() for o, w in zip(outs, ws))
            gs = torch.autograd.grad(loss, wanted, allow_unused=True)
            gs = [torch.zeros_like(x) if g is None else g for x, g in zip(wanted, gs)]
            entry["w"] = [enc_tensor(w) for w in ws]
            entry["grads"] = [enc_tensor(g) for g in gs]
        if note:
            entry["note"] = note
        if tol:
            entry["tol"] = tol
        cases.append(entry)


# ---------------------------------------------------------------- creation

case("arange/int", "arange", [7], [], lambda: torch.arange(7).int(), dtypes=(F32,), grad=False)
case("arange/int-step", "arange", [10, -3, -3], [], lambda: torch.arange(10, -3, -3).int(), dtypes=(F32,), grad=False)
case("arange/float", "arange", [0.5, 3, 0.25, {"dtype": "$dtype"}], [], lambda: torch.arange(0.5, 3, 0.25, dtype=torch.get_default_dtype()), dtypes=(F32,), grad=False)
case("arange/float-dtype", "arange", [-1, 1, 0.3, {"dtype": "$dtype"}], [], lambda: torch.arange(-1, 1, 0.3, dtype=F64), dtypes=(F64,), grad=False)
for dt in BOTH:
    case(f"linspace/7/{DT_NAME[dt]}", "linspace", [-1.5, 2.25, 7, {"dtype": DT_NAME[dt]}], [], lambda dt=dt: torch.linspace(-1.5, 2.25, 7, dtype=dt), dtypes=(dt,), grad=False)
    case(f"linspace/1/{DT_NAME[dt]}", "linspace", [3, 5, 1, {"dtype": DT_NAME[dt]}], [], lambda dt=dt: torch.linspace(3, 5, 1, dtype=dt), dtypes=(dt,), grad=False)
    case(f"eye/square/{DT_NAME[dt]}", "eye", [4, 4, {"dtype": DT_NAME[dt]}], [], lambda dt=dt: torch.eye(4, dtype=dt), dtypes=(dt,), grad=False)
case("eye/rect-wide", "eye", [2, 5], [], lambda: torch.eye(2, 5), dtypes=(F32,), grad=False)
case("eye/rect-tall", "eye", [4, 3], [], lambda: torch.eye(4, 3), dtypes=(F32,), grad=False)
case("full", "full", [[2, 3], -1.25, {"dtype": "$dtype"}], [], lambda: torch.full((2, 3), -1.25, dtype=F64), dtypes=(F64,), grad=False)

# ---------------------------------------------------------------- unary and activations

X = randn(3, 4, scale=1.5)
POS = uniform(0.1, 3.0, 3, 4)
unaries = {
    "neg": (X, torch.neg),
    "abs": (X, torch.abs),
    "exp": (X, torch.exp),
    "log": (POS, torch.log),
    "log1p": (uniform(-0.9, 3.0, 3, 4), torch.log1p),
    "sqrt": (POS, torch.sqrt),
    "rsqrt": (POS, torch.rsqrt),
    "square": (X, torch.square),
    "reciprocal": (POS, torch.reciprocal),
    "sin": (randn(3, 4, scale=3), torch.sin),
    "cos": (randn(3, 4, scale=3), torch.cos),
    "erf": (randn(3, 4, scale=1.5), torch.erf),
    "relu": (X, torch.relu),
    "sigmoid": (randn(3, 4, scale=4), torch.sigmoid),
    "tanh": (randn(3, 4, scale=2), torch.tanh),
    "silu": (randn(3, 4, scale=3), F.silu),
}
for name, (inp, fn) in unaries.items():
    case(f"unary/{name}", name, [t(0)], [inp], fn)

EDGES = const([-30, -12.5, -3.2, -0.7, -1e-3, 0.4, 1.7, 4.2, 9.9, 31])
case("unary/erf-wide", "erf", [t(0)], [EDGES], torch.erf)
case("unary/sigmoid-wide", "sigmoid", [t(0)], [EDGES], torch.sigmoid)
case("unary/exp-wide", "exp", [t(0)], [const([-80, -20, -1e-4, 0, 1e-4, 20, 80])], torch.exp)
case("unary/tanh-wide", "tanh", [t(0)], [EDGES], torch.tanh)
case("unary/silu-wide", "silu", [t(0)], [EDGES], F.silu)
case("act/gelu", "gelu", [t(0)], [randn(3, 4, scale=2)], F.gelu)
case("act/gelu-wide", "gelu", [t(0)], [EDGES], F.gelu)
case("act/gelu-erf-explicit", "gelu", [t(0), {"approximate": "none"}], [randn(3, 4, scale=2)], lambda x: F.gelu(x, approximate="none"))
case("act/gelu-tanh", "gelu", [t(0), {"approximate": "tanh"}], [randn(3, 4, scale=2)], lambda x: F.gelu(x, approximate="tanh"))
case("act/gelu-tanh-wide", "gelu", [t(0), {"approximate": "tanh"}], [EDGES], lambda x: F.gelu(x, approximate="tanh"))
case("act/elu", "elu", [t(0)], [randn(3, 4, scale=2)], F.elu)
case("act/elu-alpha", "elu", [t(0), 0.5], [randn(3, 4, scale=2)], lambda x: F.elu(x, alpha=0.5))
case("act/leakyRelu", "leakyRelu", [t(0)], [randn(3, 4)], F.leaky_relu)
case("act/leakyRelu-slope", "leakyRelu", [t(0), 0.2], [randn(3, 4)], lambda x: F.leaky_relu(x, 0.2))
case("act/softplus", "softplus", [t(0)], [randn(3, 4, scale=3)], F.softplus)
case("act/softplus-large", "softplus", [t(0)], [const([-100, -40, -25, -20.5, -19.5, 19.5, 20.5, 25, 40, 100])], F.softplus)
case("act/softplus-beta", "softplus", [t(0), {"beta": 2}], [randn(3, 4, scale=3)], lambda x: F.softplus(x, beta=2))
case("act/softplus-beta-large", "softplus", [t(0), {"beta": 2}], [const([-60, -12, -9.5, 9.5, 10.5, 60])], lambda x: F.softplus(x, beta=2))

ROUNDISH = const([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.5, 0.4999, 1.4, -3.7, 2.51, 0, -0.2])
case("unary/round-half-even", "round", [t(0)], [ROUNDISH], torch.round, grad=False)
case("unary/floor", "floor", [t(0)], [ROUNDISH], torch.floor, grad=False)
case("unary/ceil", "ceil", [t(0)], [ROUNDISH], torch.ceil, grad=False)
case("unary/sign", "sign", [t(0)], [const([-2.5, -1e-3, 0, 1e-3, 7])], torch.sign, grad=False)
case("unary/isFinite", "isFinite", [t(0)], [const([1.5, math.inf, -math.inf, math.nan, 0, -3])], torch.isfinite, grad=False)
case("unary/logicalNot", "logicalNot", [t(0)], [const([1.5, 0, -2, 0, 3])], torch.logical_not, grad=False)
case("unary/logicalNot-bool", "logicalNot", [t(0)], [bools(2, 3)], torch.logical_not, dtypes=(F32,), grad=False)
case("unary/abs-int", "abs", [t(0)], [ints(-5, 5, 2, 4)], torch.abs, dtypes=(F32,), grad=False)
case("unary/neg-int", "neg", [t(0)], [ints(-5, 5, 2, 4)], torch.neg, dtypes=(F32,), grad=False)
case("unary/exp-int", "exp", [t(0)], [ints(-3, 4, 2, 3)], lambda x: torch.exp(x.float()), dtypes=(F32,), grad=False)

case("pow/scalar-3", "pow", [t(0), 3], [X], lambda x: x**3)
case("pow/scalar-2", "pow", [t(0), 2], [X], lambda x: x**2)
case("pow/scalar-1", "pow", [t(0), 1], [X], lambda x: x**1)
case("pow/scalar-half", "pow", [t(0), 0.5], [POS], lambda x: x**0.5)
case("pow/scalar-neg", "pow", [t(0), -1.5], [POS], lambda x: x**-1.5)
case("pow/scalar-0", "pow", [t(0), 0], [X], lambda x: x**0)
case("pow/tensor", "pow", [t(0), t(1)], [POS, randn(4)], torch.pow)
case("pow/number-base", "pow", [2.5, t(0)], [randn(3, 4)], lambda x: torch.pow(2.5, x))
case("pow/int", "pow", [t(0), t(1)], [ints(1, 4, 2, 3), ints(0, 3, 3)], lambda a, b: torch.pow(a.float(), b.float()), dtypes=(F32,), grad=False)

case("clamp/both", "clamp", [t(0), -0.5, 0.8], [X], lambda x: torch.clamp(x, -0.5, 0.8))
case("clamp/min", "clamp", [t(0), 0.1], [X], lambda x: torch.clamp(x, min=0.1))
case("clamp/max", "clamp", [t(0), None, 0.3], [X], lambda x: torch.clamp(x, max=0.3))
case("clamp/int", "clamp", [t(0), -1, 2], [ints(-4, 5, 3, 3)], lambda x: torch.clamp(x, -1, 2), dtypes=(F32,), grad=False)

case("cast/f32-f64", "cast", [t(0), "float64"], [randn(2, 3)], lambda x: x.double(), dtypes=(F32,))
case("cast/f64-f32", "cast", [t(0), "float32"], [randn(2, 3)], lambda x: x.float(), dtypes=(F64,))
case("cast/f-int", "cast", [t(0), "int32"], [const([-2.7, -0.5, 0.5, 1.9, 3])], lambda x: x.int(), dtypes=(F32,), grad=False)
case("cast/int-bool", "cast", [t(0), "bool"], [ints(-2, 3, 6)], lambda x: x.bool(), dtypes=(F32,), grad=False)

# ---------------------------------------------------------------- binary

for name, fn in {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "maximum": torch.maximum, "minimum": torch.minimum}.items():
    case(f"binary/{name}/same", name, [t(0), t(1)], [randn(3, 4), randn(3, 4)], fn)
    case(f"binary/{name}/broadcast", name, [t(0), t(1)], [randn(2, 3, 1), randn(3, 4)], fn)
    case(f"binary/{name}/row-col", name, [t(0), t(1)], [randn(3, 1), randn(1, 4)], fn)
case("binary/add/0d", "add", [t(0), t(1)], [randn(2, 3), randn()], torch.add)
case("binary/add/number", "add", [t(0), 2.5], [X], lambda x: x + 2.5)
case("binary/sub/number-left", "sub", [2.5, t(0)], [X], lambda x: 2.5 - x)
case("binary/sub/number-right", "sub", [t(0), 2.5], [X], lambda x: x - 2.5)
case("binary/mul/number", "mul", [-1.5, t(0)], [X], lambda x: -1.5 * x)
case("binary/div/number-right", "div", [t(0), 3], [X], lambda x: x / 3)
case("binary/div/number-left", "div", [3, t(0)], [POS], lambda x: 3 / x)
TIES_A = const([[1.0, 2.0, -1.0, 0.5], [3.0, -2.0, 4.0, 0.0]])
TIES_B = const([[1.0, 1.5, -1.0, 0.7], [3.0, -2.5, 4.5, 0.0]])
case("binary/maximum/ties", "maximum", [t(0), t(1)], [TIES_A, TIES_B], torch.maximum)
case("binary/minimum/ties", "minimum", [t(0), t(1)], [TIES_A, TIES_B], torch.minimum)
INT_A = ints(-6, 7, 2, 3)
INT_B = ints(1, 5, 3)
case("binary/int/add", "add", [t(0), t(1)], [INT_A, INT_B], torch.add, dtypes=(F32,), grad=False)
case("binary/int/mul-number", "mul", [t(0), 3], [INT_A], lambda a: a * 3, dtypes=(F32,), grad=False)
case("binary/int/sub", "sub", [t(0), t(1)], [INT_A, INT_B], torch.sub, dtypes=(F32,), grad=False)
case("binary/int/div", "div", [t(0), t(1)], [INT_A, INT_B], lambda a, b: a / b, dtypes=(F32,), grad=False)
case("binary/int/add-float-number", "add", [t(0), 0.5], [INT_A], lambda a: a + 0.5, dtypes=(F32,), grad=False)
case("binary/int/mul-float-tensor", "mul", [t(0), t(1)], [INT_A, randn(3)], lambda a, b: a * b, dtypes=(F32,), grad=False)
case("binary/int/maximum", "maximum", [t(0), t(1)], [INT_A, INT_B], torch.maximum, dtypes=(F32,), grad=False)

CMP_A = const([[1.0, 2.0, -1.0, 0.5], [3.0, -2.0, 4.0, 0.0], [0.25, 0.25, -0.75, 2.0]])
CMP_B = const([0.25, 2.0, -1.0, 1.0])
for name, fn in {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge}.items():
    case(f"compare/{name}", name, [t(0), t(1)], [CMP_A, CMP_B], fn, grad=False)
    case(f"compare/{name}-number", name, [t(0), 0.25], [CMP_A], lambda a, fn=fn: fn(a, 0.25), dtypes=(F32,), grad=False)
case("compare/lt-int-float", "lt", [t(0), t(1)], [INT_A, const([0.5, -1.0, 2.0])], torch.lt, dtypes=(F32,), grad=False)
BA = bools(3, 4)
BB = bools(4)
for name, fn in {"logicalAnd": torch.logical_and, "logicalOr": torch.logical_or, "logicalXor": torch.logical_xor}.items():
    case(f"logical/{name}-bool", name, [t(0), t(1)], [BA, BB], fn, dtypes=(F32,), grad=False)
    case(f"logical/{name}-float", name, [t(0), t(1)], [CMP_A, const([0.0, 1.0, -2.0, 0.0])], fn, grad=False)

case("where/broadcast", "where", [t(0), t(1), t(2)], [bools(3, 1), randn(1, 4), randn(3, 4)], torch.where)
case("where/scalar-b", "where", [t(0), t(1), 0.5], [bools(3, 4), randn(3, 4)], lambda c, a: torch.where(c, a, torch.tensor(0.5, dtype=a.dtype)))
case("where/scalar-a", "where", [t(0), -2, t(1)], [bools(2, 3), randn(2, 3)], lambda c, b: torch.where(c, torch.tensor(-2.0, dtype=b.dtype), b))

# ---------------------------------------------------------------- reductions

R = randn(2, 3, 4)
AXES = [None, 0, 1, -1, [0, 2], [1, 2]]
for keep in (False, True):
    for ax in AXES:
        label = f"{'all' if ax is None else ax if isinstance(ax, int) else '-'.join(map(str, ax))}{'/keep' if keep else ''}"
        axj = UNDEF if ax is None else ax
        n = R.data.numel() if ax is None else math.prod(R.data.shape[a] for a in ([ax] if isinstance(ax, int) else ax))
        args = [t(0), axj, {"keepDim": keep}]
        dd = tuple(ax) if isinstance(ax, list) else ax
        case(f"reduce/sum/{label}", "sum", args, [R], lambda x, dd=dd: x.sum(dim=dd if dd is not None else (0, 1, 2), keepdim=keep))
        case(f"reduce/mean/{label}", "mean", args, [R], lambda x, dd=dd: x.mean(dim=dd if dd is not None else (0, 1, 2), keepdim=keep))
        case(f"reduce/max/{label}", "max", args, [R], lambda x, dd=dd: torch.amax(x, dim=dd if dd is not None else (0, 1, 2), keepdim=keep))
        case(f"reduce/min/{label}", "min", args, [R], lambda x, dd=dd: torch.amin(x, dim=dd if dd is not None else (0, 1, 2), keepdim=keep))
        case(f"reduce/logSumExp/{label}", "logSumExp", args, [R], lambda x, dd=dd: torch.logsumexp(x, dim=dd if dd is not None else (0, 1, 2), keepdim=keep))
        if ax is None or isinstance(ax, int):
            # torch.prod takes one dim at a time
            case(f"reduce/prod/{label}", "prod", args, [R], lambda x, dd=dd: (x.prod().reshape(1, 1, 1) if keep else x.prod()) if dd is None else x.prod(dim=dd, keepdim=keep))
            if ax is not None:
                case(f"reduce/argmax/{label}", "argmax", args, [R], lambda x, dd=dd: torch.argmax(x, dim=dd, keepdim=keep).int(), grad=False)
                case(f"reduce/argmin/{label}", "argmin", args, [R], lambda x, dd=dd: torch.argmin(x, dim=dd, keepdim=keep).int(), grad=False)
        for corr in (0, 1, 2):
            case(
                f"reduce/var/c{corr}/{label}",
                "variance",
                [t(0), axj, {"keepDim": keep, "correction": corr}],
                [R],
                lambda x, dd=dd, corr=corr: torch.var(x, dim=dd, correction=corr, keepdim=keep),
                grad=n > corr,
                note=None if n > corr else "correction >= count: infinite variance, forward only",
            )
        case(f"reduce/std/{label}", "std", args, [R], lambda x, dd=dd: torch.std(x, dim=dd, keepdim=keep))
        for p, pj in ((1, 1), (2, 2), (math.inf, INF), (3, 3)):
            case(
                f"reduce/norm/p{pj if isinstance(pj, int) else 'inf'}/{label}",
                "norm",
                [t(0), pj, axj, {"keepDim": keep}],
                [R],
                lambda x, dd=dd, p=p: torch.linalg.vector_norm(x, ord=p, dim=dd, keepdim=keep),
            )
case("reduce/std/c0/1", "std", [t(0), 1, {"correction": 0}], [R], lambda x: torch.std(x, dim=1, correction=0))
case("reduce/std/c2/all", "std", [t(0), UNDEF, {"correction": 2}], [R], lambda x: torch.std(x, dim=None, correction=2))
case("reduce/argmax/all", "argmax", [t(0)], [R], lambda x: torch.argmax(x).int(), grad=False)
case("reduce/argmin/all", "argmin", [t(0)], [R], lambda x: torch.argmin(x).int(), grad=False)
case("reduce/argmax/all-keep", "argmax", [t(0), UNDEF, {"keepDim": True}], [R], lambda x: torch.argmax(x).int().reshape(1, 1, 1), grad=False)
TIED = const([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 0.0], [-5.0, 0.5, -5.0, 0.5]])
case("reduce/argmax/ties-first", "argmax", [t(0), 1], [TIED], lambda x: torch.argmax(x, dim=1).int(), grad=False)
case("reduce/argmin/ties-first", "argmin", [t(0), 1], [TIED], lambda x: torch.argmin(x, dim=1).int(), grad=False)
case("reduce/max/ties-split", "max", [t(0), 1], [TIED], lambda x: torch.amax(x, dim=1), note="gradient split evenly over ties, like torch.amax")
case("reduce/min/ties-split", "min", [t(0), [0, 1]], [TIED], lambda x: torch.amin(x, dim=(0, 1)))
ZEROS = const([[1.5, 0.0, -2.0, 3.0], [0.0, 2.0, 0.0, 0.5], [1.25, -0.5, 2.0, -1.5]])
case("reduce/prod/zeros-1", "prod", [t(0), 1], [ZEROS], lambda x: x.prod(dim=1))
case("reduce/prod/zeros-0", "prod", [t(0), 0], [ZEROS], lambda x: x.prod(dim=0))
case("reduce/prod/zeros-all", "prod", [t(0)], [const([[1.5, 0.0], [-2.0, 3.0]])], lambda x: x.prod())
case("reduce/logSumExp/large", "logSumExp", [t(0), 1], [const([[1000.0, 1001.0, 999.5], [-1000.0, -1002.0, -1000.5]])], lambda x: torch.logsumexp(x, dim=1))
case(
    "reduce/logSumExp/neg-inf-row",
    "logSumExp",
    [t(0), 1],
    [const([[-math.inf, -math.inf, -math.inf], [0.5, -math.inf, 1.5]])],
    lambda x: torch.logsumexp(x, dim=1),
    grad=False,
)
case("reduce/norm/p2-zero-row", "norm", [t(0), 2, 1], [const([[0.0, 0.0, 0.0], [3.0, -4.0, 1.0]])], lambda x: torch.linalg.vector_norm(x, 2, dim=1), note="subgradient 0 at the origin, like PyTorch")
INTS24 = ints(-5, 6, 2, 3, 4)
case("reduce/sum/int", "sum", [t(0), 1], [INTS24], lambda x: x.sum(dim=1).int(), dtypes=(F32,), grad=False)
case("reduce/sum/bool", "sum", [t(0)], [bools(3, 4)], lambda x: x.sum().int(), dtypes=(F32,), grad=False)
case("reduce/mean/int", "mean", [t(0), -1], [INTS24], lambda x: x.float().mean(dim=-1), dtypes=(F32,), grad=False)
case("reduce/max/int", "max", [t(0), 0], [INTS24], lambda x: torch.amax(x, dim=0).int(), dtypes=(F32,), grad=False)
case("reduce/prod/int", "prod", [t(0), 2], [ints(-3, 4, 2, 3, 3)], lambda x: x.prod(dim=2).int(), dtypes=(F32,), grad=False)

# ---------------------------------------------------------------- linalg

MM = [
    ("2d", [3, 4], [4, 5]),
    ("vec-mat", [4], [4, 5]),
    ("mat-vec", [3, 4], [4]),
    ("vec-vec", [4], [4]),
    ("batch-mat", [2, 3, 4], [4, 5]),
    ("mat-batch", [3, 4], [2, 4, 5]),
    ("batch-batch", [2, 3, 4], [2, 4, 5]),
    ("batch-broadcast", [2, 1, 3, 4], [5, 4, 2]),
    ("batch-broadcast-partial", [2, 1, 3, 4], [1, 3, 4, 2]),
    ("batch-vec", [2, 3, 4], [4]),
    ("vec-batch", [4], [2, 4, 3]),
    ("k-zero", [3, 0], [0, 2]),
]
for label, sa, sb in MM:
    case(f"matmul/{label}", "matmul", [t(0), t(1)], [randn(*sa), randn(*sb)], torch.matmul)
case("matmul/transA", "matmul", [t(0), t(1), {"transA": True}], [randn(4, 3), randn(4, 5)], lambda a, b: a.transpose(-1, -2) @ b)
case("matmul/transB", "matmul", [t(0), t(1), {"transB": True}], [randn(2, 3, 4), randn(2, 5, 4)], lambda a, b: a @ b.transpose(-1, -2))
case("matmul/transAB", "matmul", [t(0), t(1), {"transA": True, "transB": True}], [randn(2, 4, 3), randn(5, 4)], lambda a, b: a.transpose(-1, -2) @ b.transpose(-1, -2))
case("matmul/int", "matmul", [t(0), t(1)], [ints(-3, 4, 2, 3), ints(-3, 4, 3, 2)], lambda a, b: (a @ b).float(), dtypes=(F32,), grad=False)
case("bmm", "bmm", [t(0), t(1)], [randn(3, 2, 4), randn(3, 4, 3)], torch.bmm)
case("bmm/transB", "bmm", [t(0), t(1), {"transB": True}], [randn(2, 3, 4), randn(2, 5, 4)], lambda a, b: torch.bmm(a, b.transpose(1, 2)))
case("outer", "outer", [t(0), t(1)], [randn(3), randn(4)], torch.outer)

EINSUM = [
    ("ij,jk->ik", [[3, 4], [4, 5]]),
    ("bij,bjk->bik", [[2, 3, 4], [2, 4, 3]]),
    ("bhqd,bhkd->bhqk", [[2, 2, 3, 4], [2, 2, 5, 4]]),
    ("bhqk,bhkd->bhqd", [[2, 2, 3, 5], [2, 2, 5, 4]]),
    ("i,i->", [[5], [5]]),
    ("ij->ji", [[3, 4]]),
    ("ijk->kij", [[2, 3, 4]]),
    ("ij->", [[3, 4]]),
    ("ij->j", [[3, 4]]),
    ("bi,bj->bij", [[2, 3], [2, 4]]),
    ("i,j->ij", [[3], [4]]),
    ("ij,jk", [[3, 4], [4, 2]]),
    ("ij,ij->i", [[3, 4], [3, 4]]),
    ("ij,j->i", [[3, 4], [4]]),
    ("ik,jk->ij", [[3, 4], [5, 4]]),
    ("ab,bc->ca", [[3, 4], [4, 2]]),
    ("abc,cd->abd", [[2, 3, 4], [4, 3]]),
    ("ij,jk->i", [[3, 4], [4, 2]]),
    ("bnd,bmd->bnm", [[2, 3, 4], [2, 5, 4]]),
    ("bn,bnd->bd", [[2, 3], [2, 3, 4]]),
]
for eq, shapes in EINSUM:
    n = len(shapes)
    case(f"einsum/{eq}", "einsum", [eq] + [t(i) for i in range(n)], [randn(*s) for s in shapes], lambda *xs, eq=eq: torch.einsum(eq, *xs))

# ---------------------------------------------------------------- shape ops

S = randn(2, 3, 4)
case("shape/reshape", "reshape", [t(0), [4, -1]], [S], lambda x: x.reshape(4, -1))
case("shape/flatten", "flatten", [t(0), 1], [S], lambda x: x.flatten(1))
case("shape/squeeze", "squeeze", [t(0)], [randn(3, 1, 2, 1)], lambda x: x.squeeze())
case("shape/squeeze-axis", "squeeze", [t(0), 1], [randn(3, 1, 2, 1)], lambda x: x.squeeze(1))
case("shape/unsqueeze", "unsqueeze", [t(0), -1], [randn(2, 3)], lambda x: x.unsqueeze(-1))
case("shape/permute", "permute", [t(0), [2, 0, 1]], [S], lambda x: x.permute(2, 0, 1))
case("shape/permute-neg", "permute", [t(0), [-1, 1, 0]], [S], lambda x: x.permute(2, 1, 0))
case("shape/transpose", "transpose", [t(0), 0, 2], [S], lambda x: x.transpose(0, 2))
case("shape/transpose-default", "transpose", [t(0)], [S], lambda x: x.transpose(-2, -1))
case("shape/expand", "expand", [t(0), [2, 3, 4]], [randn(3, 1)], lambda x: x.expand(2, 3, 4))
case("shape/expand-keep", "expand", [t(0), [-1, 5]], [randn(2, 1)], lambda x: x.expand(-1, 5))


def py_slice(x, specs):
    """Python/NumPy slicing semantics (negative steps included), which torch indexing lacks."""
    for axis in reversed(range(len(specs))):
        sp = specs[axis]
        n = x.shape[axis]
        if sp is None:
            continue
        if isinstance(sp, int):
            x = x.select(axis, sp)
            continue
        if isinstance(sp, dict):
            sp = [sp.get("start"), sp.get("end"), sp.get("step")]
        idx = list(range(*slice(*sp).indices(n)))
        x = x.index_select(axis, torch.tensor(idx, dtype=torch.int64))
    return x


SL = randn(5, 6)
SLICES = [
    ("step2", [[0, 5, 2], [1, None, 2]]),
    ("neg-step", [[None, None, -1]]),
    ("neg-step2", [None, [None, None, -2]]),
    ("neg-bounds", [[-4, -1], [4, 0, -1]]),
    ("index", [2, [1, -1, 3]]),
    ("neg-index", [-1]),
    ("clamped", [[-100, 100, 3], [10, -10, -4]]),
    ("empty", [[3, 1], None]),
    ("object", [{"start": 1, "step": 2}, {"end": -2}]),
]
for label, specs in SLICES:
    case(f"slice/{label}", "slice", [t(0), specs], [SL], lambda x, specs=specs: py_slice(x, specs))
case("slice/3d-neg", "slice", [t(0), [None, [2, None, -1], [None, None, -3]]], [S], lambda x: py_slice(x, [None, [2, None, -1], [None, None, -3]]))
case("narrow", "narrow", [t(0), 1, 1, 2], [S], lambda x: x.narrow(1, 1, 2))
case("narrow/neg-start", "narrow", [t(0), -1, -3, 2], [S], lambda x: x.narrow(-1, 1, 2))
case("flip/one", "flip", [t(0), 1], [S], lambda x: x.flip(1))
case("flip/two", "flip", [t(0), [0, 2]], [S], lambda x: x.flip(0, 2))
case("concat/0", "concat", [[t(0), t(1)]], [randn(2, 3), randn(1, 3)], lambda a, b: torch.cat([a, b]))
case("concat/1", "concat", [[t(0), t(1), t(2)], 1], [randn(2, 1, 2), randn(2, 3, 2), randn(2, 2, 2)], lambda a, b, c: torch.cat([a, b, c], 1))
case("concat/neg", "concat", [[t(0), t(1)], -1], [randn(2, 3), randn(2, 2)], lambda a, b: torch.cat([a, b], -1))
case("stack/0", "stack", [[t(0), t(1), t(2)]], [randn(2, 3), randn(2, 3), randn(2, 3)], lambda a, b, c: torch.stack([a, b, c]))
case("stack/last", "stack", [[t(0), t(1)], -1], [randn(2, 3), randn(2, 3)], lambda a, b: torch.stack([a, b], -1))
case("split/size", "split", [t(0), 2, 1], [randn(2, 5)], lambda x: torch.split(x, 2, 1))
case("split/list", "split", [t(0), [1, 3, 1]], [randn(5, 2)], lambda x: torch.split(x, [1, 3, 1]))
case("chunk/even", "chunk", [t(0), 3, 1], [randn(2, 6)], lambda x: torch.chunk(x, 3, 1))
case("chunk/uneven", "chunk", [t(0), 4], [randn(5, 2)], lambda x: torch.chunk(x, 4), note="5 rows in 4 chunks gives 3 chunks of 2, 2, 1 like torch.chunk")
case("pad/last", "pad", [t(0), [1, 2]], [randn(2, 3)], lambda x: F.pad(x, (1, 2)))
case("pad/two-axes-value", "pad", [t(0), [2, 0, 1, 1], -1.5], [randn(2, 3)], lambda x: F.pad(x, (2, 0, 1, 1), value=-1.5))
case("pad/negative", "pad", [t(0), [-1, 2, 1, -1]], [randn(2, 3, 4)], lambda x: F.pad(x, (-1, 2, 1, -1)))
case("roll/axis", "roll", [t(0), 2, 1], [S], lambda x: torch.roll(x, 2, 1))
case("roll/neg", "roll", [t(0), -1, -1], [S], lambda x: torch.roll(x, -1, -1))
case("roll/multi", "roll", [t(0), [1, 5], [0, 2]], [S], lambda x: torch.roll(x, (1, 5), (0, 2)))
case("roll/flat", "roll", [t(0), 5], [S], lambda x: torch.roll(x, 5))
case("repeat/same-rank", "repeat", [t(0), [2, 3]], [randn(2, 3)], lambda x: x.repeat(2, 3))
case("repeat/more-axes", "repeat", [t(0), [2, 1, 2]], [randn(2, 3)], lambda x: x.repeat(2, 1, 2))
TRI = randn(2, 3, 4)
for d in (0, -1, 1, 2, -5, 10):
    case(f"tril/{d}", "tril", [t(0), d], [TRI], lambda x, d=d: torch.tril(x, d))
    case(f"triu/{d}", "triu", [t(0), d], [TRI], lambda x, d=d: torch.triu(x, d))
case("tril/int", "tril", [t(0), -1], [ints(-5, 5, 4, 4)], lambda x: torch.tril(x, -1).int(), dtypes=(F32,), grad=False)
G = randn(3, 4)
case("gather/1", "gather", [t(0), 1, t(1)], [G, const([[0, 3], [1, 1], [2, 0]], torch.int64)], lambda x, i: torch.gather(x, 1, i))
case("gather/0", "gather", [t(0), 0, t(1)], [G, const([[2, 0, 1, 1], [0, 0, 2, 1]], torch.int64)], lambda x, i: torch.gather(x, 0, i))
case(
    "scatterAdd/1",
    "scatterAdd",
    [t(0), 1, t(1), t(2)],
    [randn(3, 4), const([[0, 3, 0], [1, 1, 2], [3, 0, 3]], torch.int64), randn(3, 3)],
    lambda x, i, s: torch.scatter_add(x, 1, i, s),
)
case(
    "scatterAdd/0",
    "scatterAdd",
    [t(0), 0, t(1), t(2)],
    [randn(3, 2), const([[2, 0], [2, 2], [0, 1], [1, 1]], torch.int64), randn(4, 2)],
    lambda x, i, s: torch.scatter_add(x, 0, i, s),
)
case("indexSelect/0", "indexSelect", [t(0), 0, t(1)], [G, const([2, 0, 2, 1], torch.int64)], lambda x, i: torch.index_select(x, 0, i))
case("indexSelect/1", "indexSelect", [t(0), 1, t(1)], [G, const([3, 3, 0], torch.int64)], lambda x, i: torch.index_select(x, 1, i))
case(
    "indexSelect/negative",
    "indexSelect",
    [t(0), -1, t(1)],
    [G, const([-1, 0, -4], torch.int64)],
    lambda x, i: torch.index_select(x, 1, i % 4),
    note="Engram counts negative indices from the end; torch.index_select rejects them, so the reference uses i mod n",
)
ONEHOT_IDX = const([[0, 3, 1], [2, 2, 0]], torch.int64)
case("oneHot/float32", "oneHot", [t(0), 4], [ONEHOT_IDX], lambda i: F.one_hot(i, 4).float(), dtypes=(F32,), grad=False)
case("oneHot/int32", "oneHot", [t(0), 5, {"dtype": "int32"}], [ONEHOT_IDX], lambda i: F.one_hot(i, 5).int(), dtypes=(F32,), grad=False)
case("oneHot/float64", "oneHot", [t(0), 4, {"dtype": "float64"}], [ONEHOT_IDX], lambda i: F.one_hot(i, 4).double(), dtypes=(F32,), grad=False)

# ---------------------------------------------------------------- nn: softmax family, layer norm

SM = randn(3, 5, scale=2)
case("softmax/last", "softmax", [t(0)], [SM], lambda x: torch.softmax(x, -1))
case("softmax/axis0", "softmax", [t(0), 0], [SM], lambda x: torch.softmax(x, 0))
case("softmax/3d-mid", "softmax", [t(0), 1], [randn(2, 3, 4)], lambda x: torch.softmax(x, 1))
case("softmax/large", "softmax", [t(0)], [const([[1000.0, 1001.0, 999.0], [-1000.0, -1000.5, -999.0]])], lambda x: torch.softmax(x, -1))
case("softmax/temperature", "softmax", [t(0), -1, {"temperature": 0.5}], [SM], lambda x: torch.softmax(x / 0.5, -1))
MASK = const([[True, False, True, True, False], [False, False, False, False, False], [True, True, True, True, True]], torch.bool)
case(
    "softmax/mask",
    "softmax",
    [t(0), -1, {"mask": t(1)}],
    [SM, MASK],
    lambda x, m: torch.nan_to_num(torch.softmax(x.masked_fill(~m, -math.inf), -1), nan=0.0),
    note="Engram semantics: a fully masked row gives zeros (PyTorch gives NaN); the expected row and its gradient are zeros",
)
case(
    "softmax/mask-broadcast",
    "softmax",
    [t(0), -1, {"mask": t(1)}],
    [randn(2, 3, 4), const([True, False, True, True], torch.bool)],
    lambda x, m: torch.softmax(x.masked_fill(~m, -math.inf), -1),
)
case("logSoftmax/last", "logSoftmax", [t(0)], [SM], lambda x: torch.log_softmax(x, -1))
case("logSoftmax/axis0", "logSoftmax", [t(0), 0], [SM], lambda x: torch.log_softmax(x, 0))
case("logSoftmax/large", "logSoftmax", [t(0)], [const([[1000.0, 1001.0, 999.0], [-1000.0, -1000.5, -999.0]])], lambda x: torch.log_softmax(x, -1))
case("logSoftmax/temperature", "logSoftmax", [t(0), 1, {"temperature": 2}], [SM], lambda x: torch.log_softmax(x / 2, 1))
case(
    "logSoftmax/mask",
    "logSoftmax",
    [t(0), -1, {"mask": t(1)}],
    [SM, const([[True, False, True, True, False], [True, True, True, True, True], [False, True, True, True, True]], torch.bool)],
    lambda x, m: torch.log_softmax(x.masked_fill(~m, -math.inf), -1),
)


def log_softmax_all_masked(x, m):
    """Engram semantics: a fully masked row is -inf everywhere (PyTorch gives NaN); gradients there are 0."""
    y = torch.log_softmax(x.masked_fill(~m, -math.inf), -1)
    dead = ~m.any(-1, keepdim=True)
    return torch.where(dead, torch.full_like(y, -math.inf), y)


case(
    "logSoftmax/mask-full-row",
    "logSoftmax",
    [t(0), -1, {"mask": t(1)}],
    [randn(2, 3), const([[True, False, True], [False, False, False]], torch.bool)],
    log_softmax_all_masked,
    grad=False,
    note="Engram semantics: a fully masked row gives -Infinity everywhere where PyTorch gives NaN",
)

LN = randn(2, 3, 4, scale=2)
case(
    "layerNorm/affine",
    "layerNorm",
    [t(0), [4], t(1), t(2)],
    [LN, randn(4), randn(4)],
    lambda x, w, b: F.layer_norm(x, [4], w, b),
)
case("layerNorm/2d-shape", "layerNorm", [t(0), [3, 4], t(1), t(2)], [LN, randn(3, 4), randn(3, 4)], lambda x, w, b: F.layer_norm(x, [3, 4], w, b))
case("layerNorm/plain", "layerNorm", [t(0), [4]], [LN], lambda x: F.layer_norm(x, [4]))
case("layerNorm/weight-only-eps", "layerNorm", [t(0), [4], t(1), None, 1e-2], [randn(3, 4, scale=0.1), randn(4)], lambda x, w: F.layer_norm(x, [4], w, None, 1e-2))
case(
    "layerNorm/offset",
    "layerNorm",
    [t(0), [5]],
    [Inp(torch.randn(2, 5, dtype=F64) + 100)],
    lambda x: F.layer_norm(x, [5]),
    tol={"float32": {"rtol": 1e-4, "atol": 1e-5}},
    note="mean 100: PyTorch's own float32 result is off by up to 9e-6 from the exact value here",
)

# ---------------------------------------------------------------- nn: losses, similarity

LOGITS = randn(4, 5, scale=1.5)
TGT = const([1, 0, 4, 2], torch.int64)
TGT_IGN = const([1, -100, 4, 2], torch.int64)
CW = uniform(0.2, 2.0, 5, grad=False)
for red in ("mean", "sum", "none"):
    case(f"crossEntropy/{red}", "crossEntropy", [t(0), t(1), {"reduction": red}], [LOGITS, TGT], lambda x, y, red=red: F.cross_entropy(x, y, reduction=red))
    case(f"crossEntropy/ignore-default/{red}", "crossEntropy", [t(0), t(1), {"reduction": red}], [LOGITS, TGT_IGN], lambda x, y, red=red: F.cross_entropy(x, y, reduction=red))
    case(
        f"crossEntropy/smoothing/{red}",
        "crossEntropy",
        [t(0), t(1), {"reduction": red, "labelSmoothing": 0.1}],
        [LOGITS, TGT_IGN],
        lambda x, y, red=red: F.cross_entropy(x, y, reduction=red, label_smoothing=0.1),
    )
    case(
        f"crossEntropy/weight-smoothing-ignore/{red}",
        "crossEntropy",
        [t(0), t(1), {"reduction": red, "labelSmoothing": 0.2, "weight": t(2), "ignoreIndex": 2}],
        [LOGITS, TGT, CW],
        lambda x, y, w, red=red: F.cross_entropy(x, y, weight=w, reduction=red, label_smoothing=0.2, ignore_index=2),
    )
    case(
        f"nllLoss/weight/{red}",
        "nllLoss",
        [t(0), t(1), {"reduction": red, "weight": t(2)}],
        [randn(4, 5), TGT_IGN, CW],
        lambda x, y, w, red=red: F.nll_loss(x, y, weight=w, reduction=red),
    )
case("crossEntropy/ignore-index", "crossEntropy", [t(0), t(1), {"ignoreIndex": 4}], [LOGITS, TGT], lambda x, y: F.cross_entropy(x, y, ignore_index=4))
case("crossEntropy/weight", "crossEntropy", [t(0), t(1), {"weight": t(2)}], [LOGITS, TGT_IGN, CW], lambda x, y, w: F.cross_entropy(x, y, weight=w))
case(
    "crossEntropy/spatial",
    "crossEntropy",
    [t(0), t(1), {"labelSmoothing": 0.05}],
    [randn(2, 3, 4), const([[0, 2, 1, -100], [1, 1, 0, 2]], torch.int64)],
    lambda x, y: F.cross_entropy(x, y, label_smoothing=0.05),
)
case("crossEntropy/spatial-none", "crossEntropy", [t(0), t(1), {"reduction": "none"}], [randn(2, 3, 4), const([[0, 2, 1, 2], [1, 1, 0, 2]], torch.int64)], lambda x, y: F.cross_entropy(x, y, reduction="none"))
case("crossEntropy/unbatched", "crossEntropy", [t(0), t(1)], [randn(5), const(3, torch.int64)], lambda x, y: F.cross_entropy(x, y))
PROBS = Inp(torch.softmax(torch.randn(4, 5, dtype=F64), -1), grad=False)
case("crossEntropy/probs", "crossEntropy", [t(0), t(1)], [LOGITS, PROBS], lambda x, p: F.cross_entropy(x, p))
case("crossEntropy/probs-smoothing-sum", "crossEntropy", [t(0), t(1), {"labelSmoothing": 0.3, "reduction": "sum"}], [LOGITS, PROBS], lambda x, p: F.cross_entropy(x, p, label_smoothing=0.3, reduction="sum"))
case("crossEntropy/probs-weight", "crossEntropy", [t(0), t(1), {"weight": t(2)}], [LOGITS, PROBS, CW], lambda x, p, w: F.cross_entropy(x, p, weight=w))
case("nllLoss/mean", "nllLoss", [t(0), t(1)], [randn(4, 5), TGT_IGN], lambda x, y: F.nll_loss(x, y))
case("nllLoss/ignore", "nllLoss", [t(0), t(1), {"ignoreIndex": 0, "reduction": "sum"}], [randn(4, 5), TGT], lambda x, y: F.nll_loss(x, y, ignore_index=0, reduction="sum"))
case("nllLoss/spatial", "nllLoss", [t(0), t(1)], [randn(2, 3, 2), const([[0, 2], [1, 1]], torch.int64)], lambda x, y: F.nll_loss(x, y))

P = uniform(0.02, 0.98, 3, 4)
Y = uniform(0.0, 1.0, 3, 4, grad=False)
BW = uniform(0.5, 1.5, 3, 4, grad=False)
for red in ("mean", "sum", "none"):
    case(f"bce/{red}", "binaryCrossEntropy", [t(0), t(1), {"reduction": red}], [P, Y], lambda p, y, red=red: F.binary_cross_entropy(p, y, reduction=red))
    case(
        f"bceLogits/{red}",
        "binaryCrossEntropyWithLogits",
        [t(0), t(1), {"reduction": red}],
        [randn(3, 4, scale=3), Y],
        lambda x, y, red=red: F.binary_cross_entropy_with_logits(x, y, reduction=red),
    )
    case(f"mse/{red}", "mseLoss", [t(0), t(1), {"reduction": red}], [randn(3, 4), randn(3, 4)], lambda a, b, red=red: F.mse_loss(a, b, reduction=red))
case("bce/weight", "binaryCrossEntropy", [t(0), t(1), {"weight": t(2)}], [P, Y, BW], lambda p, y, w: F.binary_cross_entropy(p, y, weight=w))
case(
    "bce/saturated",
    "binaryCrossEntropy",
    [t(0), t(1), {"reduction": "none"}],
    [const([0.0, 1.0, 0.0, 1.0, 1e-30]), const([0.0, 1.0, 1.0, 0.0, 1.0])],
    lambda p, y: F.binary_cross_entropy(p, y, reduction="none"),
    grad=False,
    note="log terms clamped at -100 like PyTorch",
)
case("bceLogits/weight", "binaryCrossEntropyWithLogits", [t(0), t(1), {"weight": t(2)}], [randn(3, 4, scale=3), Y, BW], lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, weight=w))
case(
    "bceLogits/posWeight",
    "binaryCrossEntropyWithLogits",
    [t(0), t(1), {"posWeight": t(2)}],
    [randn(3, 4, scale=3), Y, uniform(0.5, 3.0, 4, grad=False)],
    lambda x, y, pw: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
)
case(
    "bceLogits/posWeight-weight-sum",
    "binaryCrossEntropyWithLogits",
    [t(0), t(1), {"posWeight": t(2), "weight": t(3), "reduction": "sum"}],
    [randn(3, 4, scale=3), Y, uniform(0.5, 3.0, 4, grad=False), BW],
    lambda x, y, pw, w: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction="sum"),
)
case(
    "bceLogits/large",
    "binaryCrossEntropyWithLogits",
    [t(0), t(1), {"reduction": "none"}],
    [const([-200.0, -40.0, -15.0, 15.0, 40.0, 200.0]), const([1.0, 0.0, 0.5, 0.5, 1.0, 0.0])],
    lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
)
case("mse/target-grad", "mseLoss", [t(0), t(1)], [randn(2, 3), randn(2, 3)], F.mse_loss)

case("cosineSimilarity/last", "cosineSimilarity", [t(0), t(1)], [randn(3, 4), randn(3, 4)], lambda a, b: F.cosine_similarity(a, b, dim=-1))
case("cosineSimilarity/axis0", "cosineSimilarity", [t(0), t(1), 0], [randn(3, 4), randn(3, 4)], lambda a, b: F.cosine_similarity(a, b, dim=0))
case("cosineSimilarity/broadcast", "cosineSimilarity", [t(0), t(1)], [randn(3, 4), randn(1, 4)], lambda a, b: F.cosine_similarity(a, b, dim=-1))
case(
    "cosineSimilarity/eps",
    "cosineSimilarity",
    [t(0), t(1), -1, 0.5],
    [randn(2, 3, scale=0.1), randn(2, 3)],
    lambda a, b: (a * b).sum(-1) / (a.norm(dim=-1).clamp_min(0.5) * b.norm(dim=-1).clamp_min(0.5)),
    note="|a| < eps: reference written out, because F.cosine_similarity in 1.13 clamps the norms in place under no_grad, "
    "so its gradient is not the derivative of its own output (finite differences agree with this formula)",
)
case("normalize/p2", "normalize", [t(0)], [randn(3, 4)], lambda x: F.normalize(x, dim=-1))
case("normalize/p1-axis0", "normalize", [t(0), {"p": 1, "axis": 0}], [randn(3, 4)], lambda x: F.normalize(x, p=1, dim=0))
case("normalize/eps", "normalize", [t(0), {"eps": 0.5}], [randn(3, 4, scale=0.1)], lambda x: F.normalize(x, dim=-1, eps=0.5))
case("normalize/zero-row", "normalize", [t(0)], [const([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])], lambda x: F.normalize(x, dim=-1))

# ---------------------------------------------------------------- write

names = [c["name"] for c in cases]
dupes = {n for n in names if names.count(n) > 1}
if dupes:
    sys.exit(f"gen-op-fixtures: duplicate case names {sorted(dupes)}")
header = {"generator": "scripts/gen-op-fixtures.py", "torch": torch.__version__, "cases": Raw("[\n" + ",\n".join(dump(c) for c in cases) + "\n]")}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    f.write(dump(header) + "\n")
print(f"gen-op-fixtures: wrote {len(cases)} cases, {os.path.getsize(OUT)} bytes to {os.path.relpath(OUT)}")
