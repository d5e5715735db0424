"""Losses as one node: softmax cross-entropy fused, whose gradient is the document's p - y."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _data, _shape
from .reductions import _log_softmax, _softmax


def _one_hot(index: Any, like: Any) -> np.ndarray:
    t = np.zeros(_shape(like), dtype=np.asarray(_data(like)).dtype)
    t[np.arange(t.shape[0]), index] = 1.0
    return t


def _cross_entropy(z: Any, t: Any = None, index: Any = None) -> Any:
    """The mean over rows of -Σₖ tₖ log softmax(z)ₖ; with `index`, t is one-hot."""
    logp = _log_softmax(z, -1)
    n = z.shape[0]
    if index is not None:
        return -np.add.reduce(logp[np.arange(n), index]) / n
    return -np.add.reduce((t * logp).ravel()) / n


def _cross_entropy_vjp_z(g: Any, ans: Any, z: Any, t: Any = None, index: Any = None) -> Any:
    """dL/dz = (softmax(z) × Σₖtₖ - t) / n: the document's p - y for one-hot rows."""
    n = _shape(z)[0]
    if isinstance(z, Value) or isinstance(t, Value) or isinstance(g, Value):
        if index is not None:
            t = _one_hot(index, z)
        p = z.softmax(axis=-1) if isinstance(z, Value) else _softmax(z, -1)
        return g * (p * t.sum(axis=-1, keepdims=True) - t) * (1.0 / n)
    p = _softmax(z, -1)
    if index is not None:
        np.subtract.at(p, (np.arange(n), index), 1.0)  # (quicker than p[rows, index] -= 1)
    else:
        p = p * t.sum(axis=-1, keepdims=True) - t
    p *= g / n
    return p


def _cross_entropy_vjp_t(g: Any, ans: Any, z: Any, t: Any = None, index: Any = None) -> Any:
    logp = z.log_softmax(axis=-1) if isinstance(z, Value) else _log_softmax(z, -1)
    return g * logp * (-1.0 / _shape(z)[0])


# Forward mode: the loss is a number, so its JVP is the inner product of its gradient
# (the VJP of 1) with the tangent: dL = Σ (∂L/∂z) × ż.
CROSS_ENTROPY = defop("cross_entropy", _cross_entropy, _cross_entropy_vjp_z,
                      _cross_entropy_vjp_t,
                      jvp=(lambda t, ans, z, tg=None, index=None:
                           (_cross_entropy_vjp_z(1.0, ans, z, tg, index) * t).sum(),
                           lambda t, ans, z, tg=None, index=None:
                           (_cross_entropy_vjp_t(1.0, ans, z, tg, index) * t).sum()))


def cross_entropy(logits: Any, target: Any = None, index: Any = None) -> Value:
    """Softmax cross-entropy of a batch of logits (N, C) as one node, averaged over rows:
    against probability rows `target` (N, C), or class indices `index` (N,)."""
    if np.ndim(_data(logits)) != 2:
        raise ValueError(f"cross_entropy (fused) needs logits of shape (N, C), "
                         f"got {np.shape(_data(logits))}")
    if index is not None:
        return apply(CROSS_ENTROPY, logits, index=np.asarray(index))
    return apply(CROSS_ENTROPY, logits, target)

