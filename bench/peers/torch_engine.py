"""PyTorch peer for the engine suite (run by bench/peers/torch.ts with /usr/bin/python3).

Reads a JSON request on stdin:
  {"timing": {...bench/harness.ts TimingOptions...}, "threads": 2,
   "gemm": [64, ...], "elementwise": [{"op": "add", "n": 1000000}, ...],
   "overhead": [{"name": "add-fwdbwd" | "add-fwd", "n": 100}, ...],
   "optimizer": [{"name": "adam", "n": 1000000}, ...]}
Prints one JSON line: {"info": {...}, "rows": [...]} or {"skipped": "reason"}.
Timing follows bench/harness.ts: warm-up, calibrate, fixed iterations per repeat, median.
"""

import ctypes
import json
import math
import os
import sys
import time


def plan_iterations(per_call_ms, t):
    per_call = per_call_ms if per_call_ms > 0 else 1e-6
    iterations = max(1, min(t["maxIterations"], math.ceil(t["targetRepeatMs"] / per_call)))
    affordable = math.floor(t["budgetMs"] / (iterations * per_call))
    repeats = max(t["minRepeats"], min(t["repeats"], affordable))
    return iterations, repeats


def measure(fn, t):
    now = lambda: time.perf_counter() * 1e3
    warm_start = now()
    fn()
    # The first call often pays one-off costs: calibrate without it.
    cal_start = now()
    calls = 0
    end = cal_start
    while calls < 1 or end - warm_start < t["warmupMs"]:
        fn()
        calls += 1
        end = now()
    iterations, repeats = plan_iterations((end - cal_start) / calls, t)
    per = []
    for _ in range(repeats):
        t0 = now()
        for _ in range(iterations):
            fn()
        per.append((now() - t0) / iterations)
    s = sorted(per)
    mid = len(s) // 2
    med = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
    return {"median_ms": med, "min_ms": s[0], "max_ms": s[-1], "iterations": iterations, "repeats": repeats}


def blas_report(torch):
    """Which BLAS this torch really calls: build config plus the libraries mapped in this process."""
    config = torch.__config__.show()
    blas_info = ""
    for part in config.replace("\n", ",").split(","):
        if part.strip().startswith("BLAS_INFO="):
            blas_info = part.strip()[len("BLAS_INFO="):]
    a = torch.randn(64, 64)
    torch.mm(a, a)  # make sure the BLAS is loaded before looking at the mappings
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(p).lower()
                if any(k in name for k in ("blas", "mkl", "blis", "atlas", "lapack")):
                    libs.add(p)
    except OSError:
        pass
    report = {"blas_info": blas_info, "blas_libs": sorted(libs), "uses_openblas": any("openblas" in l.lower() for l in libs)}
    for lib in sorted(libs):
        if "openblas" not in os.path.basename(lib).lower():
            continue
        try:
            handle = ctypes.CDLL(lib)
            handle.openblas_get_corename.restype = ctypes.c_char_p
            handle.openblas_get_config.restype = ctypes.c_char_p
            report["openblas_corename"] = handle.openblas_get_corename().decode()
            report["openblas_config"] = handle.openblas_get_config().decode()
            report["openblas_threads"] = handle.openblas_get_num_threads()
            break
        except (OSError, AttributeError):
            continue
    return report


def start():
    """Reads the request, imports torch and sets its threads, as every PyTorch peer does first.

    Returns (req, torch, info), or None after printing a skip line when torch cannot be imported.
    """
    req = json.loads(sys.stdin.read() or "{}")
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install raising anything else
        print(json.dumps({"skipped": f"import torch failed with {sys.executable}: {type(e).__name__}: {e}"}))
        return None

    default_threads = torch.get_num_threads()
    if req.get("threads"):
        torch.set_num_threads(int(req["threads"]))
    torch.manual_seed(0)
    info = {
        "python": sys.executable,
        "torch": torch.__version__,
        "threads_default": default_threads,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None,
        **blas_report(torch),
    }
    return req, torch, info


def main():
    started = start()
    if started is None:
        return
    req, torch, info = started
    t = req["timing"]
    rows = []

    with torch.no_grad():
        for n in req.get("gemm", []):
            a, b = torch.randn(n, n), torch.randn(n, n)
            rows.append({"kind": "gemm", "n": n, **measure(lambda: torch.mm(a, b), t)})

        for spec in req.get("elementwise", []):
            op, n = spec["op"], spec["n"]
            if op == "softmax":
                x = torch.randn(n // 1000, 1000)
                fn = lambda: torch.softmax(x, -1)
            elif op == "exp":
                x = torch.randn(n)
                fn = lambda: torch.exp(x)
            else:
                x, y = torch.randn(n), torch.randn(n)
                fn = (lambda: torch.add(x, y)) if op == "add" else (lambda: torch.mul(x, y))
            rows.append({"kind": "elementwise", "op": op, "n": n, **measure(fn, t)})

    for spec in req.get("overhead", []):
        name, n = spec["name"], spec["n"]
        x = torch.randn(1, 8, requires_grad=True)
        c = torch.randn(1, 8)
        if name == "add-fwdbwd":

            def fn():
                y = x
                for _ in range(n):
                    y = torch.add(y, c)
                y.sum().backward()
                x.grad = None

            rows.append({"kind": "overhead", "name": name, "n": n, **measure(fn, t)})
        elif name == "add-fwd":

            def fn():
                with torch.no_grad():
                    y = x
                    for _ in range(n):
                        y = torch.add(y, c)

            rows.append({"kind": "overhead", "name": name, "n": n, **measure(fn, t)})

    for spec in req.get("optimizer", []):
        name, n = spec["name"], spec["n"]
        if name != "adam":
            continue
        p = torch.nn.Parameter(torch.randn(n))
        p.grad = torch.randn(n)
        # torch 1.13 takes the single-tensor path for CPU parameters (foreach only defaults on for CUDA)
        opt = torch.optim.Adam([p], lr=1e-3)
        rows.append({"kind": "optimizer", "name": name, "n": n, **measure(opt.step, t)})

    print(json.dumps({"info": info, "rows": rows}))


if __name__ == "__main__":
    main()
