"""Benchmarks: this project's engine side by side with its peers, in one run.

    .venv/bin/python benchmarks/run.py            # full run (a few minutes)
    .venv/bin/python benchmarks/run.py --quick    # one tiny repetition of everything
    .venv/bin/python benchmarks/run.py --json out.json --only 2,3

Workloads (see the README's Performance section):
  1. scalar MLP 2→16→16→1 on 100 two-moons points (micrograd's setting)
  2. tensor MLP step 784→256→10, batch 256, float64 and float32
  3. tiny step: XOR, 2→8→2, batch 4
  4. deep chain y = y × 1.0001 + 0.0001, then backward()
  5. peak memory of workload-2 steps in a training loop, as users write it (tracemalloc)
  6. the machine's float64 GEMM rate, and the share of a workload-2 step its products need
  7. digits CNN step: Conv2d → BatchNorm2d → ReLU → MaxPool2d twice → Linear, batch 64, float32
  8. 1-D conv net step: three Conv1d + ReLU → Linear, batch 100, length 40, float32
  9. GRU training step: MNIST-1D's paper model (bidirectional GRU, hidden 6, over 40 steps,
     then Linear 480→10), batch 100, float32, Adam
 10. causal self-attention forward + backward: T = 64, E = 64, 4 heads, batch 32, float32
 11. tiny GPT training step (demos/tiny_gpt.py's default model and recipe) vs its PyTorch twin

Workloads 7, 10 and 11 are measured against numpy written by hand (benchmarks/twins.py:
forward, backward derived on paper, the same optimizer step), the limit for an engine on
numpy, as workloads 2 and 3 are.

Machines are noisy, so engines are interleaved: every round times each engine once (in a
rotating order), and the ratio to the reference is the median over rounds of the ratio
within a round. Times are medians; the spread is min–max over rounds; `faults` is the
median number of minor page faults per step (fresh memory taken from the kernel). BLAS runs
on one thread (set below, before numpy loads) and so does PyTorch, whose idle OpenMP
threads are told not to spin. Peers that are not installed (torch, micrograd) are reported
as absent: this script installs nothing.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one BLAS thread: before numpy (or torch) is imported
# Idle OpenMP threads (torch's) otherwise spin for a while after each batch, on a core the
# next engine in the round needs: micrograd's chain ran 12× slower right after PyTorch's.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse
import datetime
import gc
import importlib.util
import itertools
import json
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
if os.path.join(ROOT, "benchmarks") not in sys.path:  # twins.py, gpt_twin.py
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import numpy as np
import twins

import nn
from autograd import Value


def have(module: str) -> bool:
    """True when `module` can be imported (checked without importing it)."""
    return importlib.util.find_spec(module) is not None


def load_torch() -> Any:
    if not have("torch"):
        return None
    import torch
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only possible before torch's first parallel work
        pass
    return torch


TORCH = load_torch()
HAVE_MICROGRAD = have("micrograd")


# ---- timing ------------------------------------------------------------------------------
class Engine:
    """One contestant of a workload: `step()` runs one unit of work (a training step, a
    chain); `per` divides its time (e.g. the chain's iterations); `check` is a number that
    should agree with the reference's (a loss, a gradient) to show it did the same work."""

    def __init__(self, name: str, make: Callable[[], Callable[[], Any]] | None,
                 per: int = 1, absent: str = "") -> None:
        self.name, self.make, self.per, self.absent = name, make, per, absent
        self.step: Callable[[], Any] | None = None
        self.check: float | None = None
        self.inner = 1
        self.times: list[float] = []
        self.faults: list[float] = []  # minor page faults per unit of work


def time_engines(engines: list[Engine], reps: int, target: float, budget: float) -> None:
    """Fill each engine's `times` (seconds per unit), interleaving engines round by round.

    Each timed batch repeats the step `inner` times so that it lasts about `target`
    seconds; the number of rounds is cut so no engine spends much more than `budget`."""
    live = [e for e in engines if e.make is not None]
    for e in live:
        e.step = e.make()
        out = e.step()  # warm-up, and the value to cross-check
        e.check = None if out is None else float(out)
        gc.collect()
        t0 = time.perf_counter()
        e.step()
        one = max(time.perf_counter() - t0, 1e-7)
        e.inner = max(1, int(target / one))
        reps = min(reps, max(3, int(budget / (one * e.inner))))
    # Everything alive now (modules, models, data) is frozen out of the collector's sight, so
    # each engine pays for collecting its own objects only, whatever ran before it.
    gc.collect()
    gc.freeze()
    try:
        timed_rounds(live, reps)
    finally:
        gc.unfreeze()


def timed_rounds(live: list[Engine], reps: int) -> None:
    """`reps` rounds; each times every engine once, starting one further along each round."""
    for r in range(reps):
        for k in range(len(live)):
            e = live[(r + k) % len(live)]
            step, inner = e.step, e.inner
            gc.collect()
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.perf_counter()
            for _ in range(inner):
                step()
            e.times.append((time.perf_counter() - t0) / (inner * e.per))
            e.faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / inner)


def summarise(engines: list[Engine], ref: str) -> list[dict[str, Any]]:
    """Median, paired ratio to the reference (median over rounds) and spread per engine."""
    by_name = {e.name: e for e in engines}
    ref_e = by_name.get(ref)
    rows = []
    for e in engines:
        row: dict[str, Any] = {"engine": e.name}
        if not e.times:
            row["absent"] = e.absent or "absent"
            rows.append(row)
            continue
        row.update(median=statistics.median(e.times), min=min(e.times), max=max(e.times),
                   rounds=len(e.times), inner=e.inner, check=e.check,
                   page_faults=statistics.median(e.faults))
        if ref_e is not None and ref_e.times:
            n = min(len(e.times), len(ref_e.times))
            if n == len(e.times) == len(ref_e.times):
                row["ratio"] = statistics.median(a / b for a, b in zip(e.times, ref_e.times))
            else:  # different round counts: compare medians
                row["ratio"] = row["median"] / statistics.median(ref_e.times)
        rows.append(row)
    return rows


def fmt_time(t: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def print_table(title: str, rows: list[dict[str, Any]], ref: str, unit: str) -> None:
    print(f"\n## {title}")
    print(f"reference: {ref}")
    print(f"{'engine':<34} {'median ' + unit:>16} {'ratio':>22} {'spread (min–max)':>24}"
          f" {'faults':>7}  check")
    for row in rows:
        if "absent" in row:
            print(f"{row['engine']:<34} {row['absent']:>16}")
            continue
        ratio = "-"
        if "ratio" in row:
            r = row["ratio"]
            ratio = f"{r:.3g}×" if r >= 0.5 else f"{r:.3g}× (1/{1 / r:.3g})"
        spread = f"{fmt_time(row['min'])} – {fmt_time(row['max'])}"
        check = "" if row["check"] is None else f"{row['check']:.6g}"
        print(f"{row['engine']:<34} {fmt_time(row['median']):>16} {ratio:>22} {spread:>24}"
              f" {row['page_faults']:>7.0f}  {check}")


# ---- data --------------------------------------------------------------------------------
def two_moons(n: int, seed: int = 0, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles with Gaussian noise; labels -1 and +1."""
    rng = np.random.default_rng(seed)
    n1 = n // 2
    t1 = np.linspace(0.0, np.pi, n1)
    t2 = np.linspace(0.0, np.pi, n - n1)
    upper = np.stack([np.cos(t1), np.sin(t1)], axis=1)
    lower = np.stack([1.0 - np.cos(t2), 0.5 - np.sin(t2)], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(scale=noise, size=(n, 2))
    y = np.concatenate([-np.ones(n1), np.ones(n - n1)])
    return x, y


def init_layers(sizes: list[int], seed: int, dtype: Any = np.float64) -> list[tuple[Any, Any]]:
    """(W, b) per layer, W shaped (nout, nin), He-scaled normal; shared by every engine."""
    rng = np.random.default_rng(seed)
    out = []
    for nin, nout in itertools.pairwise(sizes):
        w = (rng.standard_normal((nout, nin)) * np.sqrt(2.0 / nin)).astype(dtype)
        out.append((w, np.zeros(nout, dtype=dtype)))
    return out


# ---- workload 1: scalar MLP -------------------------------------------------------------
def scalar_mlp_step(value_cls: Any, weights: list[tuple[np.ndarray, np.ndarray]],
                    x: np.ndarray, y: np.ndarray, lr: float) -> Callable[[], float]:
    """A micrograd-style network of scalar Values (one Value per weight), trained on every
    point with micrograd's max-margin loss, mean of relu(1 - yᵢ × scoreᵢ), and plain SGD."""
    layers = [[([value_cls(float(wij)) for wij in wi], value_cls(float(bi)))
               for wi, bi in zip(w, b)] for w, b in weights]
    params = [p for layer in layers for w, b in layer for p in [*w, b]]
    rows, ys = x.tolist(), y.tolist()
    last = len(layers) - 1

    def forward(xi: list[Any]) -> Any:
        for li, layer in enumerate(layers):
            out = []
            for w, b in layer:
                act = sum((wj * xj for wj, xj in zip(w, xi)), b)
                out.append(act if li == last else act.relu())
            xi = out
        return xi[0]

    def step() -> float:
        scores = [forward(xi) for xi in rows]
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        loss = sum(losses) * (1.0 / len(losses))
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss.data

    return step


def tensor_moons_step(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                      y: np.ndarray, lr: float) -> Callable[[], float]:
    """The same network and loss with this project's nn.MLP on the whole batch."""
    model = nn.MLP.from_weights(weights)
    opt = nn.SGD(model.parameters(), lr=lr)
    yc = y.reshape(-1, 1)

    def step() -> float:
        loss = (1.0 - yc * model(x)).relu().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def workload_1(quick: bool, reps: int) -> dict[str, Any]:
    n = 20 if quick else 100
    x, y = two_moons(n, seed=1)
    weights = init_layers([2, 16, 16, 1], seed=2)
    lr = 0.05

    def micrograd() -> Callable[[], float]:
        from micrograd.engine import Value as MValue
        return scalar_mlp_step(MValue, weights, x, y, lr)

    engines = [
        Engine("micrograd (scalar Values)", micrograd if HAVE_MICROGRAD else None,
               absent="absent (pip install micrograd)"),
        Engine("this project, scalar Values", lambda: scalar_mlp_step(Value, weights, x, y, lr)),
        Engine("this project, tensor nn.MLP", lambda: tensor_moons_step(weights, x, y, lr)),
    ]
    ref = engines[0].name if HAVE_MICROGRAD else engines[1].name
    time_engines(engines, reps if not quick else 1, target=0.05, budget=8.0)
    return {"title": f"1. Scalar MLP 2→16→16→1, {n} two-moons points, time per SGD step",
            "ref": ref, "unit": "per step", "rows": summarise(engines, ref)}


# ---- workloads 2 and 3: tensor MLP steps ------------------------------------------------
def numpy_step(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, labels: np.ndarray,
               lr: float) -> Callable[[], float]:
    """Forward, softmax cross-entropy, manual backward and SGD in plain numpy: the floor."""
    (w1, b1), (w2, b2) = [(w.copy(), b.copy()) for w, b in weights]
    n = x.shape[0]
    rows = np.arange(n)

    def step() -> float:
        nonlocal w1, b1, w2, b2
        h = x @ w1.T
        h += b1
        np.maximum(h, 0, out=h)
        z = h @ w2.T
        z += b2
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - z[rows, labels]))
        dz = e / s
        dz[rows, labels] -= 1.0
        dz /= n
        dw2 = dz.T @ h
        db2 = dz.sum(axis=0)
        dh = dz @ w2
        dh *= h > 0
        dw1 = dh.T @ x
        db1 = dh.sum(axis=0)
        w1 -= lr * dw1
        b1 -= lr * db1
        w2 -= lr * dw2
        b2 -= lr * db2
        return loss

    return step


def gemm_only_step(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                   labels: np.ndarray, lr: float) -> Callable[[], None]:
    """Only the five matrix products of a step (2 forward, 3 backward: none for the input)."""
    (w1, _), (w2, _) = weights
    h = np.maximum(x @ w1.T, 0)
    dz = np.ones((x.shape[0], w2.shape[0]), dtype=x.dtype) / x.shape[0]

    def step() -> None:
        x @ w1.T
        h @ w2.T
        dz.T @ h
        dh = dz @ w2
        dh.T @ x

    return step


def torch_step(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, labels: np.ndarray,
               lr: float) -> Callable[[], float]:
    """The same network in PyTorch eager mode (Linear, ReLU, cross_entropy, optim.SGD)."""
    torch = TORCH
    layers: list[Any] = []
    for i, (w, b) in enumerate(weights):
        lin = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64
                              if w.dtype == np.float64 else torch.float32)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    return torch_sgd_step(torch.nn.Sequential(*layers), x, labels, lr)


def torch_sgd_step(model: Any, x: np.ndarray, labels: np.ndarray,
                   lr: float) -> Callable[[], float]:
    """`sgd_step`'s twin in PyTorch eager mode: cross_entropy, zero_grad, backward, SGD."""
    opt = TORCH.optim.SGD(model.parameters(), lr=lr)
    xt, yt = TORCH.from_numpy(x), TORCH.from_numpy(labels.astype(np.int64))
    ce = TORCH.nn.functional.cross_entropy

    def step() -> float:
        loss = ce(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def project_step(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                 labels: np.ndarray, lr: float) -> Callable[[], float]:
    """The same network with this project: nn.MLP, nn.cross_entropy, nn.SGD."""
    model = nn.MLP.from_weights([(w.copy(), b.copy()) for w, b in weights])
    return sgd_step(model, x, labels, lr)


def sgd_step(model: nn.Module, x: np.ndarray, labels: np.ndarray,
             lr: float) -> Callable[[], float]:
    """One training step of `model` with this project, as users write it:
    cross-entropy, zero_grad, backward, SGD step."""
    opt = nn.SGD(model.parameters(), lr=lr)

    def step() -> float:
        loss = nn.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def mlp_engines(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                labels: np.ndarray, lr: float, gemm: bool) -> list[Engine]:
    def bind(fn: Callable[..., Callable[[], Any]]) -> Callable[[], Callable[[], Any]]:
        return lambda: fn(weights, x, labels, lr)

    engines = [
        Engine("numpy by hand", bind(numpy_step)),
        Engine("PyTorch eager (CPU)", bind(torch_step) if TORCH is not None else None,
               absent="absent (torch not installed)"),
        Engine("this project (nn.MLP)", bind(project_step)),
    ]
    if gemm:
        engines.append(Engine("matrix products alone", bind(gemm_only_step)))
    return engines


def mnist_like(dtype: Any, quick: bool) -> tuple[Any, np.ndarray, np.ndarray]:
    n = 32 if quick else 256
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, 784)).astype(dtype)
    labels = rng.integers(0, 10, size=n)
    return init_layers([784, 256, 10], seed=4, dtype=dtype), x, labels


def workload_2(quick: bool, reps: int) -> list[dict[str, Any]]:
    out = []
    for dtype in (np.float64, np.float32):
        weights, x, labels = mnist_like(dtype, quick)
        engines = mlp_engines(weights, x, labels, 0.01, gemm=True)
        time_engines(engines, reps if not quick else 1, target=0.05, budget=6.0)
        name = np.dtype(dtype).name
        out.append({"title": f"2. Tensor MLP 784→256→10, batch {x.shape[0]}, {name}, time per "
                             "SGD step", "ref": engines[0].name, "unit": "per step",
                    "rows": summarise(engines, engines[0].name)})
    return out


def workload_3(quick: bool, reps: int) -> dict[str, Any]:
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    weights = init_layers([2, 8, 2], seed=5)
    engines = mlp_engines(weights, x, labels, 0.1, gemm=False)
    time_engines(engines, reps if not quick else 1, target=0.05, budget=4.0)
    return {"title": "3. Tiny step: XOR 2→8→2, batch 4, float64 (per-op overhead)",
            "ref": engines[0].name, "unit": "per step", "rows": summarise(engines, engines[0].name)}


# ---- workload 4: deep chain --------------------------------------------------------------
def chain_ours(n: int) -> Callable[[], float]:
    def step() -> float:
        x = Value(1.0)
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.0001
        y.backward()
        return x.grad / 1.0001 ** n  # 1.0 when the gradient is right

    return step


def chain_micrograd(n: int) -> Callable[[], float]:
    from micrograd.engine import Value as MValue

    def step() -> float:
        x = MValue(1.0)
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.0001
        y.backward()
        return x.grad / 1.0001 ** n

    return step


def chain_torch(n: int) -> Callable[[], float]:
    torch = TORCH

    def step() -> float:
        x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.0001
        y.backward()
        return x.grad.item() / 1.0001 ** n

    return step


def workload_4(quick: bool, reps: int) -> dict[str, Any]:
    n_small, n_big, n_micro = (2_000, 20_000, 200) if quick else (100_000, 1_000_000, 400)

    def at(fn: Callable[[int], Callable[[], float]], n: int) -> Callable[[], Callable[[], float]]:
        return lambda: fn(n)

    engines = [
        Engine(f"PyTorch eager, N={n_small:,}", at(chain_torch, n_small) if TORCH else None,
               per=n_small, absent="absent (torch not installed)"),
        Engine(f"micrograd, N={n_micro:,}", at(chain_micrograd, n_micro) if HAVE_MICROGRAD
               else None, per=n_micro, absent="absent (pip install micrograd)"),
        Engine(f"this project, N={n_small:,}", at(chain_ours, n_small), per=n_small),
        Engine(f"this project, N={n_big:,}", at(chain_ours, n_big), per=n_big),
    ]
    ref = engines[0].name if TORCH else engines[2].name
    # micrograd's short chain (~2 ms) repeats to ~50 ms per batch, like the other short steps
    time_engines(engines, reps if not quick else 1, target=0.05, budget=12.0)
    return {"title": "4. Deep chain y = y × 1.0001 + 0.0001, N times, then backward(); "
                     "time per iteration (check: grad / 1.0001^N)",
            "ref": ref, "unit": "per iter", "rows": summarise(engines, ref)}


# ---- workload 5: memory ------------------------------------------------------------------
def peak_bytes(make: Callable[[], Callable[[], Any]], steps: int = 3) -> int:
    """Peak bytes allocated above what was live before, over `steps` steps of a fresh
    model, as a training loop runs them (after a warm-up on another instance)."""
    make()()
    step = make()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(steps):
            step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def project_loop(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                 labels: np.ndarray, lr: float) -> Callable[[], float]:
    """Workload 2's step the way users write the loop: the previous step's `loss` (its
    graph, every gradient in it) stays alive until the next forward pass has made the new
    one (``loss = loss_fn(model(X), y)`` rebinds it only then)."""
    model = nn.MLP.from_weights([(w.copy(), b.copy()) for w, b in weights])
    opt = nn.SGD(model.parameters(), lr=lr)
    alive: dict[str, Any] = {}

    def step() -> float:
        alive["loss"] = loss = nn.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def workload_5(quick: bool) -> dict[str, Any]:
    rows = []
    for dtype in (np.float64, np.float32):
        weights, x, labels = mnist_like(dtype, quick)
        hand = peak_bytes(lambda w=weights, x=x, y=labels: numpy_step(w, x, y, 0.01))
        ours = peak_bytes(lambda w=weights, x=x, y=labels: project_loop(w, x, y, 0.01))
        name = np.dtype(dtype).name
        rows.append({"engine": f"numpy by hand, {name}", "bytes": hand, "ratio": 1.0})
        rows.append({"engine": f"this project, {name}", "bytes": ours, "ratio": ours / hand})
    return {"title": "5. Peak memory allocated over three workload-2 steps of a training loop, "
                     "the previous loss alive during each forward (tracemalloc)",
            "ref": "numpy by hand", "rows": rows}


# ---- workload 6: the GEMM limit ----------------------------------------------------------
def workload_6(quick: bool, reps: int, w2_rows: list[dict[str, Any]] | None) -> dict[str, Any]:
    n = 256 if quick else 1024
    rates = {}
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(6)
        a = rng.standard_normal((n, n)).astype(dtype)
        b = rng.standard_normal((n, n)).astype(dtype)
        a @ b
        times = []
        for _ in range(1 if quick else max(3, reps // 2)):
            t0 = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - t0)
        rates[np.dtype(dtype).name] = 2 * n ** 3 / statistics.median(times) / 1e9
    result: dict[str, Any] = {"title": f"6. The limit: GEMM rate ({n}×{n} @ {n}×{n}, one thread)",
                              "gflops": rates}
    batch = 32 if quick else 256
    flops = 2 * batch * (784 * 256 + 256 * 10) * 2 + 2 * batch * 256 * 10
    result["step_flops"] = flops
    shares = {}
    for table in w2_rows or []:
        rows = {r["engine"]: r for r in table["rows"]}
        gemm = rows.get("matrix products alone", {}).get("median")
        if gemm is None:
            continue
        key = "float32" if "float32" in table["title"] else "float64"
        shares[key] = {name: gemm / r["median"] for name, r in rows.items()
                       if "median" in r and name != "matrix products alone"}
        shares[key]["matrix products alone (s)"] = gemm
    result["gemm_share"] = shares
    return result


def print_w5(res: dict[str, Any]) -> None:
    print(f"\n## {res['title']}")
    for row in res["rows"]:
        print(f"{row['engine']:<34} {row['bytes'] / 1e6:>10.2f} MB {row['ratio']:>8.3g}×")


def print_w6(res: dict[str, Any]) -> None:
    print(f"\n## {res['title']}")
    for name, rate in res["gflops"].items():
        print(f"{name:<10} {rate:8.1f} GFLOP/s")
    print(f"A workload-2 step does {res['step_flops'] / 1e6:.0f} MFLOP of matrix products; "
          "share of each engine's step they alone take:")
    for dtype, shares in res["gemm_share"].items():
        parts = ", ".join(f"{k} {v:.0%}" for k, v in shares.items() if not k.endswith("(s)"))
        print(f"  {dtype}: products alone {fmt_time(shares['matrix products alone (s)'])}; "
              f"{parts}")


# ---- workloads 7 and 8: convolutional networks ----------------------------------------
# Each network is described once, as a list of layer specs, and built from it three ways:
# with this project's nn layers, with torch.nn's (the same weights copied in), and as the
# bare matrix products an im2col convolution needs (the floor, as workload 2's GEMM row).
DIGITS_CNN = [("conv2d", 1, 16, 3, 1, 1), ("bn2d", 16), ("relu",), ("maxpool2d", 2),
              ("conv2d", 16, 32, 3, 1, 1), ("bn2d", 32), ("relu",), ("maxpool2d", 2),
              ("flatten",), ("linear", 128, 10)]
CONV1D_NET = [("conv1d", 1, 25, 5, 2, 1), ("relu",), ("conv1d", 25, 25, 3, 2, 1), ("relu",),
              ("conv1d", 25, 25, 3, 2, 1), ("relu",), ("flatten",), ("linear", 125, 10)]


def conv_ours(spec: list[tuple], seed: int) -> nn.Sequential:
    """The network of `spec` built from this project's layers, float32."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    make = {
        "conv2d": lambda cin, cout, k, s, p: nn.Conv2d(cin, cout, k, s, p, seed=rng, dtype=f32),
        "conv1d": lambda cin, cout, k, s, p: nn.Conv1d(cin, cout, k, s, p, seed=rng, dtype=f32),
        "bn2d": lambda c: nn.BatchNorm2d(c, dtype=f32), "relu": lambda: nn.ReLU(dtype=f32),
        "maxpool2d": lambda k: nn.MaxPool2d(k, dtype=f32), "flatten": lambda: nn.Flatten(),
        "linear": lambda nin, nout: nn.Linear(nin, nout, seed=rng, dtype=f32),
    }
    return nn.Sequential(*[make[kind](*args) for kind, *args in spec])


def conv_torch(spec: list[tuple], ours: nn.Sequential) -> Any:
    """The same network in torch.nn, with `ours`' weights copied in."""
    t = TORCH.nn
    make = {"conv2d": t.Conv2d, "conv1d": t.Conv1d, "bn2d": t.BatchNorm2d, "relu": t.ReLU,
            "maxpool2d": t.MaxPool2d, "flatten": t.Flatten, "linear": t.Linear}
    model = t.Sequential(*[make[kind](*args) for kind, *args in spec])
    with TORCH.no_grad():
        for mine, theirs in zip(ours.layers, model):
            for ours_name, torch_name in (("w", "weight"), ("b", "bias")):
                p = getattr(mine, ours_name, None)
                if isinstance(p, Value):
                    getattr(theirs, torch_name).copy_(TORCH.from_numpy(p.data))
    return model


def conv_gemm_only(spec: list[tuple], x: np.ndarray) -> Callable[[], None]:
    """Only the matrix products of an im2col training step: per conv or linear layer, the
    forward product, the weight gradient and (except for the first layer, whose input
    needs none) the input gradient, on arrays of the layer's shapes."""
    rng = np.random.default_rng(0)
    shape = x.shape[1:]
    products = []
    first = True
    for kind, *args in spec:
        if kind in ("conv1d", "conv2d"):
            cin, cout, k, s, p = args
            sizes = [(n + 2 * p - k) // s + 1 for n in shape[1:]]
            rows, cols = x.shape[0] * int(np.prod(sizes)), cin * k ** len(sizes)
            shape = (cout, *sizes)
        elif kind == "linear":
            (cols, cout), rows = args, x.shape[0]
            shape = (cout,)
        elif kind == "maxpool2d":
            shape = (shape[0], *[n // args[0] for n in shape[1:]])
            continue
        else:
            continue
        a = rng.standard_normal((rows, cols)).astype(np.float32)
        w = rng.standard_normal((cols, cout)).astype(np.float32)
        g = rng.standard_normal((rows, cout)).astype(np.float32)
        products.append((a, w, g, not first))
        first = False

    def step() -> None:
        for a, w, g, needs_input_grad in products:
            a @ w
            g.T @ a
            if needs_input_grad:
                g @ w.T

    return step


def conv_step_ours(spec: list[tuple], x: np.ndarray, labels: np.ndarray,
                   lr: float) -> Callable[[], float]:
    return sgd_step(conv_ours(spec, seed=7), x, labels, lr)


def conv_step_torch(spec: list[tuple], x: np.ndarray, labels: np.ndarray,
                    lr: float) -> Callable[[], float]:
    return torch_sgd_step(conv_torch(spec, conv_ours(spec, seed=7)), x, labels, lr)


def conv_step_twin(spec: list[tuple], x: np.ndarray, labels: np.ndarray,
                   lr: float) -> Callable[[], float]:
    """The digits CNN written by hand (benchmarks/twins.py), from the same weights."""
    twin = twins.DigitsCNN([p.data for p in conv_ours(spec, seed=7).parameters()], lr)
    return lambda: twin.step(x, labels)


def conv_workload(title: str, spec: list[tuple], x: np.ndarray, quick: bool,
                  reps: int) -> dict[str, Any]:
    labels = np.random.default_rng(8).integers(0, 10, size=x.shape[0])
    lr = 0.01
    engines = [
        Engine("PyTorch eager (CPU)", (lambda: conv_step_torch(spec, x, labels, lr))
               if TORCH is not None else None, absent="absent (torch not installed)"),
        Engine("this project (nn layers)", lambda: conv_step_ours(spec, x, labels, lr)),
        Engine("matrix products alone", lambda: conv_gemm_only(spec, x)),
    ]
    ref = engines[0].name if TORCH is not None else engines[1].name
    if spec is DIGITS_CNN:  # its hand-written twin is the reference: the limit on numpy
        engines.insert(0, Engine("numpy by hand (twins.py)",
                                 lambda: conv_step_twin(spec, x, labels, lr)))
        ref = engines[0].name
    time_engines(engines, reps if not quick else 1, target=0.05, budget=8.0)
    rows = summarise(engines, ref)
    by_name = {r["engine"]: r for r in rows}
    gemm = by_name["matrix products alone"].get("median")
    shares = {r["engine"]: gemm / r["median"] for r in rows
              if "median" in r and r["engine"] != "matrix products alone"}
    return {"title": title, "ref": ref, "unit": "per step", "rows": rows, "gemm_share": shares}


def workload_7(quick: bool, reps: int) -> dict[str, Any]:
    n = 8 if quick else 64
    x = np.random.default_rng(9).uniform(0, 1, (n, 1, 8, 8)).astype(np.float32)
    return conv_workload(f"7. Digits CNN (Conv2d-BatchNorm2d-ReLU-MaxPool2d ×2, Linear), batch "
                         f"{n}, 1×8×8, float32, time per SGD step", DIGITS_CNN, x, quick, reps)


def workload_8(quick: bool, reps: int) -> dict[str, Any]:
    n = 10 if quick else 100
    x = np.random.default_rng(10).standard_normal((n, 1, 40)).astype(np.float32)
    return conv_workload(f"8. 1-D conv net (Conv1d 1→25 k5 s2 p1, 25→25 k3 s2 p1 ×2, ReLU; "
                         f"Linear 125→10), batch {n}, length 40, float32, time per SGD step",
                         CONV1D_NET, x, quick, reps)


def print_conv(res: dict[str, Any]) -> None:
    print_table(res["title"], res["rows"], res["ref"], res["unit"])
    print("share of each step the matrix products alone take: " + ", ".join(
        f"{k} {v:.0%}" for k, v in res["gemm_share"].items()))


# ---- workloads 9 and 10: sequence layers ------------------------------------------------
def gru_paper_model(seed: int) -> tuple[Any, Any]:
    """MNIST-1D's GRU model, ours: a bidirectional nn.GRU(1, 6) and a Linear(480, 10)."""
    rng = np.random.default_rng(seed)
    gru = nn.GRU(1, 6, bidirectional=True, seed=rng, dtype=np.float32)
    head = nn.Layer(480, 10, "linear", seed=rng, dtype=np.float32)
    return gru, head


def gru_step_ours(x: np.ndarray, labels: np.ndarray) -> Callable[[], float]:
    gru, head = gru_paper_model(seed=11)
    opt = nn.Adam(gru.parameters() + head.parameters(), lr=1e-2)
    n = x.shape[0]

    def step() -> float:
        out, _ = gru(x)
        loss = nn.cross_entropy(head(out.reshape(n, -1)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def gru_step_torch(x: np.ndarray, labels: np.ndarray) -> Callable[[], float]:
    gru, head = gru_paper_model(seed=11)
    tg = TORCH.nn.GRU(1, 6, batch_first=True, bidirectional=True)
    th = TORCH.nn.Linear(480, 10)
    with TORCH.no_grad():
        for name, p in gru.named_parameters():
            rev = "_reverse" if name.endswith("_reverse") else ""
            base = name.removesuffix("_reverse").replace("w_", "weight_").replace("b_", "bias_")
            getattr(tg, f"{base}_l0{rev}").copy_(TORCH.from_numpy(p.data))
        th.weight.copy_(TORCH.from_numpy(head.w.data))
        th.bias.copy_(TORCH.from_numpy(head.b.data))
    opt = TORCH.optim.Adam([*tg.parameters(), *th.parameters()], lr=1e-2)
    xt, yt = TORCH.from_numpy(x), TORCH.from_numpy(labels.astype(np.int64))
    n = x.shape[0]

    def step() -> float:
        out, _ = tg(xt)
        loss = TORCH.nn.functional.cross_entropy(th(out.reshape(n, -1)), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def workload_9(quick: bool, reps: int) -> dict[str, Any]:
    n, t = (10, 8) if quick else (100, 40)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((n, t, 1)).astype(np.float32)
    labels = rng.integers(0, 10, size=n)
    if t != 40:  # the head reads 40 steps: a short quick run repeats the sequence
        x = np.tile(x, (1, 40 // t, 1))
    engines = [
        Engine("PyTorch eager (torch.nn.GRU)", (lambda: gru_step_torch(x, labels))
               if TORCH is not None else None, absent="absent (torch not installed)"),
        Engine("this project (nn.GRU, one node per step)", lambda: gru_step_ours(x, labels)),
    ]
    ref = engines[0].name if TORCH is not None else engines[1].name
    time_engines(engines, reps if not quick else 1, target=0.1, budget=8.0)
    return {"title": f"9. GRU step (MNIST-1D's model: bidirectional GRU 1→6 over 40 steps, "
                     f"Linear 480→10), batch {n}, float32, Adam", "ref": ref,
            "unit": "per step", "rows": summarise(engines, ref)}


def attention_step_ours(x: np.ndarray, g: np.ndarray) -> Callable[[], float]:
    layer = nn.MultiheadAttention(x.shape[-1], 4, seed=13, dtype=np.float32)
    for p in (layer.b_in, layer.b_out):
        p.data = np.random.default_rng(14).uniform(-0.1, 0.1, p.shape).astype(np.float32)

    def step() -> float:
        xv = Value(x)
        out = layer(xv, causal=True)
        layer.zero_grad()
        out.backward(g)
        return float(layer.w_in.grad[0, 0])

    step.layer = layer  # type: ignore[attr-defined]
    return step


def attention_step_torch(x: np.ndarray, g: np.ndarray) -> Callable[[], float]:
    ours = attention_step_ours(x, g).layer  # type: ignore[attr-defined]
    e, t = x.shape[-1], x.shape[1]
    m = TORCH.nn.MultiheadAttention(e, 4, batch_first=True)
    with TORCH.no_grad():
        m.in_proj_weight.copy_(TORCH.from_numpy(ours.w_in.data))
        m.in_proj_bias.copy_(TORCH.from_numpy(ours.b_in.data))
        m.out_proj.weight.copy_(TORCH.from_numpy(ours.w_out.data))
        m.out_proj.bias.copy_(TORCH.from_numpy(ours.b_out.data))
    mask = TORCH.nn.Transformer.generate_square_subsequent_mask(t)
    xt, gt = TORCH.from_numpy(x), TORCH.from_numpy(g)

    def step() -> float:
        xx = xt.detach().requires_grad_(True)
        out, _ = m(xx, xx, xx, attn_mask=mask, is_causal=True, need_weights=False)
        m.zero_grad()
        out.backward(gt)
        return float(m.in_proj_weight.grad[0, 0])

    return step


def attention_step_twin(x: np.ndarray, g: np.ndarray) -> Callable[[], float]:
    """The same layer written by hand (benchmarks/twins.py), from the same weights."""
    ours = attention_step_ours(x, g).layer  # type: ignore[attr-defined]
    params = [p.data for p in (ours.w_in, ours.b_in, ours.w_out, ours.b_out)]
    return twins.attention_step(x, g, params, ours.num_heads)


def workload_10(quick: bool, reps: int) -> dict[str, Any]:
    n, t, e = (4, 16, 16) if quick else (32, 64, 64)
    rng = np.random.default_rng(15)
    x = rng.standard_normal((n, t, e)).astype(np.float32)
    g = rng.standard_normal((n, t, e)).astype(np.float32)
    engines = [
        Engine("numpy by hand (twins.py)", lambda: attention_step_twin(x, g)),
        Engine("PyTorch eager (nn.MultiheadAttention)", (lambda: attention_step_torch(x, g))
               if TORCH is not None else None, absent="absent (torch not installed)"),
        Engine("this project (nn.MultiheadAttention)", lambda: attention_step_ours(x, g)),
    ]
    ref = engines[0].name
    time_engines(engines, reps if not quick else 1, target=0.1, budget=8.0)
    return {"title": f"10. Causal self-attention, forward + backward: T = {t}, E = {e}, 4 heads, "
                     f"batch {n}, float32", "ref": ref, "unit": "per step",
            "rows": summarise(engines, ref)}


# ---- workload 11: the tiny GPT -----------------------------------------------------------
def workload_11(quick: bool, reps: int) -> dict[str, Any]:
    """One training step of demos/tiny_gpt.py's default model (AdamW, clipping, schedule)
    against its PyTorch twin (benchmarks/gpt_twin.py), same weights, same batch."""
    spec = importlib.util.spec_from_file_location("tiny_gpt", os.path.join(ROOT, "demos",
                                                                          "tiny_gpt.py"))
    gpt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpt)
    import gpt_twin
    recipe = gpt.parse([])  # the demo's defaults: model, batch, AdamW, clipping, schedule
    cfg = {"block_size": 16, "n_embd": 32, "n_head": 4, "n_layer": 1} if quick \
        else dict(gpt.MODEL_ARGS)
    batch = 4 if quick else recipe.batch_size
    text = gpt.load_text()
    chars = "".join(sorted(set(text)))
    train, _ = gpt.split(gpt.encode(text, chars))
    x, y = gpt.random_batch(train, batch, cfg["block_size"], np.random.default_rng(11))

    def model() -> Any:
        return gpt.TinyGPT(chars, **cfg, seed=0, dtype="float32")

    def ours() -> Callable[[], float]:
        m = model()
        opt, sched = gpt.make_optimizer(m, recipe)
        return lambda: gpt.train_step(m, opt, sched, x, y, recipe.clip)

    def theirs() -> Callable[[], float]:
        t = gpt_twin.twin(model(), TORCH)
        opt, sched = gpt_twin.optimizer(t, TORCH, recipe)
        return lambda: gpt_twin.step(t, opt, sched, TORCH, x, y, recipe.clip)

    def by_hand() -> Callable[[], float]:
        m = model()
        opt, sched = gpt.make_optimizer(model(), recipe)  # the schedule's rates, in advance
        lrs = []
        for _ in range(recipe.steps):
            lrs.append(opt.param_groups[0]["lr"])
            sched.step()
        twin = twins.TinyGPT({k: v.data for k, v in m.named_parameters()}, cfg["n_layer"],
                             cfg["n_head"], lambda i: lrs[min(i, len(lrs) - 1)],
                             recipe.weight_decay, (0.9, 0.99), 1e-8, recipe.clip)
        return lambda: twin.step(x, y)

    engines = [Engine("numpy by hand (twins.py)", by_hand),
               Engine("PyTorch eager (the twin)", theirs if TORCH is not None else None,
                      absent="torch not installed"),
               Engine("this project (nn, demos/tiny_gpt.py)", ours)]
    ref = engines[0].name
    time_engines(engines, reps if not quick else 1, target=0.05, budget=30.0)
    shape = ", ".join(f"{k} {v}" for k, v in cfg.items())
    return {"title": f"11. Tiny GPT training step ({shape}; batch {batch}; AdamW, clipping, "
                     f"schedule), float32", "ref": ref, "unit": "per step",
            "rows": summarise(engines, ref)}


# ---- main --------------------------------------------------------------------------------
WORKLOADS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(), "numpy": np.__version__,
        "cores": os.cpu_count(), "platform": platform.platform(),
        "torch": TORCH.__version__ if TORCH is not None else None,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except (TypeError, KeyError, AttributeError):  # older numpy: no dict mode
        info["blas"] = "unknown"
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="one tiny repetition of each workload (a smoke test, not a measurement)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    ap.add_argument("--only", default="1,2,3,4,5,6,7,8,9,10,11",
                    help="comma-separated workloads to run")
    ap.add_argument("--reps", type=int, default=15, help="rounds per workload (default 15)")
    args = ap.parse_args(argv)
    try:
        only = {int(s) for s in args.only.split(",") if s.strip()}
    except ValueError:
        ap.error(f"--only takes workload numbers separated by commas, got {args.only!r}")
    if not only <= WORKLOADS:
        ap.error(f"--only: the workloads are {sorted(WORKLOADS)}, got {sorted(only)}")
    if args.reps < 1:
        ap.error(f"--reps must be at least 1, got {args.reps}")
    random.seed(0)
    info = machine()
    print(f"# Benchmarks, {info['date']}: {info.get('cpu', '?')}, {info['cores']} cores, "
          f"BLAS {info['blas']} ({info['blas_threads']} thread), Python {info['python']}, "
          f"numpy {info['numpy']}, torch {info['torch'] or 'absent'}, "
          f"micrograd {'present' if HAVE_MICROGRAD else 'absent'}")
    results: dict[str, Any] = {"machine": info, "quick": args.quick, "workloads": {}}
    # The peers' imports (torch alone brings ~150,000 objects) would be walked by every full
    # garbage collection, a cost that depends on what else this process loaded: each
    # workload freezes what is alive before it times (see time_engines), leaving each engine
    # to pay for collecting its own objects, as in a process that imported only that engine.
    # Every timed batch also starts after a collection.
    w2 = None
    for k in sorted(only):
        if k == 1:
            res = workload_1(args.quick, args.reps)
            print_table(res["title"], res["rows"], res["ref"], res["unit"])
        elif k == 2:
            res = w2 = workload_2(args.quick, args.reps)
            for table in res:
                print_table(table["title"], table["rows"], table["ref"], table["unit"])
        elif k == 3:
            res = workload_3(args.quick, args.reps)
            print_table(res["title"], res["rows"], res["ref"], res["unit"])
        elif k == 4:
            res = workload_4(args.quick, args.reps)
            print_table(res["title"], res["rows"], res["ref"], res["unit"])
        elif k == 5:
            res = workload_5(args.quick)
            print_w5(res)
        elif k == 6:
            res = workload_6(args.quick, args.reps, w2)
            print_w6(res)
        elif k in (7, 8):
            res = (workload_7 if k == 7 else workload_8)(args.quick, args.reps)
            print_conv(res)
        else:
            res = {9: workload_9, 10: workload_10, 11: workload_11}[k](args.quick, args.reps)
            print_table(res["title"], res["rows"], res["ref"], res["unit"])
        results["workloads"][str(k)] = res
        sys.stdout.flush()
    if args.json:
        path = os.path.abspath(args.json)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(results, f, indent=2, default=float)
        os.replace(tmp, path)
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
