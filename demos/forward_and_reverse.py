"""Forward mode or reverse mode? jacfwd against jacrev on the document's dog/cat network.

    python demos/forward_and_reverse.py

A Jacobian of m outputs by n inputs takes n forward sweeps (one tangent per input
direction: jacfwd) or m reverse sweeps (one cotangent per output: jacrev). A network's loss
is one number of many parameters (m = 1, n large): reverse mode wins by a factor of about
n, which is why training uses backpropagation. This script counts the sweeps each
transform runs and times it, on the document's 4-3-2 network (23 parameters) and on an
MNIST-sized MLP (784-256-10, 203,530 parameters), and prints the table that
docs/forward-and-reverse.md shows.
"""

from __future__ import annotations

import argparse
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from autograd import Value, engine, forward, func
from demos.document import DOG_B1, DOG_B2, DOG_W1, DOG_W2, DOG_X, DOG_Y


@contextlib.contextmanager
def sweeps() -> Iterator[dict[str, int]]:
    """Counts the sweeps the transforms run inside the block: forward ones (tangents pushed
    through the graph) and reverse ones (the engine's backward passes)."""
    count = {"forward": 0, "reverse": 0}
    push, grad = forward.push_tangents, engine.grad

    def counted_push(*a: Any, **k: Any) -> Any:
        count["forward"] += 1
        return push(*a, **k)

    def counted_grad(*a: Any, **k: Any) -> Any:
        count["reverse"] += 1
        return grad(*a, **k)

    func.push_tangents, engine.grad = counted_push, counted_grad  # (the names func calls)
    try:
        yield count
    finally:
        func.push_tangents, engine.grad = push, grad


def network(params: list[Value], x: Any) -> Value:
    """The document's network: h = ReLU(W1 x + b1), z = W2 h + b2 (the logits)."""
    w1, b1, w2, b2 = params
    return w2 @ (w1 @ x + b1).relu() + b2


def loss(params: list[Value], x: Any, y: Any) -> Value:
    """Cross-entropy of the logits against the label (dog)."""
    return -(network(params, x).log_softmax() * y).sum()


def flat(params: list[Value]) -> Callable[[Value], Value]:
    """The loss as a function of one vector holding every parameter (so a Jacobian is one
    array: 1 × n)."""
    shapes = [p.shape for p in params]
    sizes = [int(np.prod(s)) for s in shapes]

    def f(theta: Value, x: Any, y: Any) -> Value:
        parts, start = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(theta[start:start + size].reshape(shape))
            start += size
        return loss(parts, x, y)
    return f


def timed(fn: Callable[[], Any], reps: int = 5) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def row(name: str, shape: str, fn: Callable[[], Any]) -> dict[str, Any]:
    with sweeps() as count:
        out = fn()
    return {"name": name, "shape": shape, "forward": count["forward"],
            "reverse": count["reverse"],
            "time": timed(fn), "out": out}


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                            epilog="Time: about a minute (jacfwd on the MNIST-sized MLP is "
                                   "timed on a few directions, not run whole).").parse_args(argv)
    params = [Value(np.array(a, dtype=np.float64)) for a in (DOG_W1, DOG_B1, DOG_W2, DOG_B2)]
    x, y = Value(np.array(DOG_X)), np.array(DOG_Y)
    theta = Value(np.concatenate([p.data.ravel() for p in params]))
    f = flat(params)
    rows = [
        row("jacrev, loss by its 23 parameters", "1 × 23",
            lambda: func.jacrev(f)(theta, x, y)),
        row("jacfwd, loss by its 23 parameters", "1 × 23",
            lambda: func.jacfwd(f)(theta, x, y)),
        row("jacrev, 2 logits by the 4 inputs", "2 × 4",
            lambda: func.jacrev(lambda v: network(params, v))(x)),
        row("jacfwd, 2 logits by the 4 inputs", "2 × 4",
            lambda: func.jacfwd(lambda v: network(params, v))(x)),
    ]
    same = np.allclose(rows[0]["out"].data, rows[1]["out"].data, rtol=1e-12) and np.allclose(
        rows[2]["out"].data, rows[3]["out"].data, rtol=1e-12)
    # an MNIST-sized MLP: jacrev's one sweep, and jacfwd's sweeps timed on a few directions
    rng = np.random.default_rng(0)
    big = [Value(rng.normal(0, 0.05, s)) for s in ((256, 784), (256,), (10, 256), (10,))]
    n = sum(p.size for p in big)
    xb, yb = Value(rng.normal(size=784)), np.eye(10)[3]
    fb = flat(big)
    tb = Value(np.concatenate([p.data.ravel() for p in big]))
    rev = timed(lambda: func.jacrev(fb)(tb, xb, yb), reps=3)
    out = fb(tb, xb, yb)
    leaf = tb
    directions = 20
    per_sweep = timed(lambda: [forward.push_tangents([out], {leaf: e}) for e in _units(n,
                                                                                        directions)],
                      reps=2) / directions
    print("| Jacobian | shape | forward sweeps | reverse sweeps | time |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['shape']} | {r['forward']} | {r['reverse']} | "
              f"{r['time'] * 1e3:.2f} ms |")
    print(f"| jacrev, loss of an MLP 784-256-10 by its {n:,} parameters | 1 × {n:,} | 0 | 1 | "
          f"{rev * 1e3:.0f} ms |")
    print(f"| jacfwd, the same | 1 × {n:,} | {n:,} | 0 | about {per_sweep * n / 60:.0f} min "
          f"({per_sweep * 1e3:.1f} ms per sweep × {n:,}) |")
    print(f"\njacfwd and jacrev agree: {same}")
    return 0 if same else 1


def _units(n: int, k: int) -> list[np.ndarray]:
    out = []
    for i in range(k):
        e = np.zeros(n)
        e[i * (n // k)] = 1.0
        out.append(e)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
