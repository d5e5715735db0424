"""Workload 12 of run.py: per-sample gradients of an MLP 784→256→10 (ReLU), batch 64.

`vmap(grad(loss))` runs each op once on the whole batch (autograd/batching.py), so it
should cost a small multiple of one batched backward pass (the bound: 3×), not the 64
backward passes a loop over the samples takes. torch.func's vmap(grad) is the peer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd import Value, func, grad
from autograd.ops.linalg import linear

SIZES = (784, 256, 10)


def problem(batch: int, dtype: Any, seed: int = 12) -> tuple[list[np.ndarray], np.ndarray,
                                                             np.ndarray]:
    """Weights (w1, b1, w2, b2), inputs (batch, 784) and one-hot targets (batch, 10)."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 784 ** -0.5, (256, 784)).astype(dtype)
    w2 = rng.normal(0, 256 ** -0.5, (10, 256)).astype(dtype)
    weights = [w1, np.zeros(256, dtype), w2, np.zeros(10, dtype)]
    x = rng.normal(size=(batch, 784)).astype(dtype)
    y = np.eye(10, dtype=dtype)[rng.integers(0, 10, batch)]
    return weights, x, y


def loss(p: list[Value], x: Value, y: Value) -> Value:
    """Cross-entropy summed over the rows given (one sample inside vmap: a sample's loss)."""
    z = linear(linear(x, p[0], p[1]).relu(), p[2], p[3])
    return -(z.log_softmax(axis=-1) * y).sum()


def batched_backward(weights: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    """One reverse pass of the batch's summed loss: the gradients of the sum."""
    p = [Value(w) for w in weights]
    xv, yv = Value(x), Value(y)
    return lambda: grad(loss(p, xv, yv), p)[0][0, 0]


def per_sample_vmap(weights: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    p = [Value(w) for w in weights]
    xv, yv = Value(x), Value(y)
    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))
    return lambda: per_sample(p, xv, yv)[0].data[:, 0, 0].sum()  # (the sum's, to check)


def per_sample_loop(weights: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    p = [Value(w) for w in weights]

    def step() -> Any:
        total = 0.0
        for i in range(len(x)):
            total += grad(loss(p, Value(x[i]), Value(y[i])), p)[0][0, 0]
        return total
    return step


def per_sample_torch(torch: Any, weights: list[np.ndarray], x: np.ndarray,
                     y: np.ndarray) -> Callable[[], Any]:
    p = [torch.tensor(w) for w in weights]
    xt, yt = torch.tensor(x), torch.tensor(y)

    def tloss(p: list[Any], x: Any, y: Any) -> Any:
        h = torch.relu(x @ p[0].T + p[1])
        z = h @ p[2].T + p[3]
        return -(torch.log_softmax(z, -1) * y).sum()

    per_sample = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))
    return lambda: float(per_sample(p, xt, yt)[0][:, 0, 0].sum())
