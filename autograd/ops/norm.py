"""Batch normalisation as one node of the graph: nn.BatchNorm1d/2d's training-mode step.

Each channel c of x (N, C, *positions) is normalised over the batch and its positions, then
scaled and shifted: ``y = γ_c × (x - μ_c) / √(σ²_c + ε) + β_c``, σ² the population
variance. Written as separate Value operations that is about ten nodes, each a pass over
the whole activation forward and more backward; as one node it is a few passes, and its
gradient is the well-known closed form (with x̂ the normalised input and n the number of
values per channel)::

    dL/dx = γ / √(σ² + ε) × (g - mean(g) - x̂ × mean(g × x̂))
    dL/dγ = Σ g × x̂,    dL/dβ = Σ g

The VJPs are written with operations arrays and Values share, so second derivatives work
(``grad(..., create_graph=True)``); they recompute x̂ from x rather than keep it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _shape


def _axes(x: Any) -> tuple[int, ...]:
    """Every axis but the channels (axis 1)."""
    return (0, *range(2, len(_shape(x))))


def _per_channel(v: Any, x: Any) -> Any:
    """A (C,) vector shaped (1, C, 1, ...) to broadcast against x."""
    return v.reshape((1, -1) + (1,) * (len(_shape(x)) - 2))


def _channel_mean(x: Any) -> Any:
    """The mean of each channel over every other axis, shaped (1, C, 1, ...). On arrays a
    matrix product with ones: numpy's reduction over axes (0, 2, 3) is a few times slower."""
    if type(x) is not np.ndarray:
        return x.mean(axis=_axes(x), keepdims=True)
    n, c = x.shape[:2]
    per_sample = x.reshape(n, c, -1) @ np.ones(x.size // (n * c), dtype=x.dtype)
    return (np.add.reduce(per_sample, axis=0) / (x.size // c)).reshape(
        (1, c) + (1,) * (x.ndim - 2))


def _normalised(x: Any, eps: float) -> tuple[Any, Any]:
    """(x̂, 1/√(σ² + ε)) per channel, on arrays or Values alike."""
    centred = x - _channel_mean(x)
    inv = (_channel_mean(centred * centred) + eps) ** -0.5
    return centred * inv, inv


def batch_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The batch's mean and population variance per channel, each of shape (C,)."""
    mean = _channel_mean(x)
    centred = x - mean
    return mean.reshape(-1), _channel_mean(centred * centred).reshape(-1)


def _batch_norm(x: Any, w: Any, b: Any, *, eps: float) -> Any:
    xhat, _ = _normalised(x, eps)
    return xhat * _per_channel(w, x) + _per_channel(b, x)


def _vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any, *, eps: float) -> Any:
    xhat, inv = _normalised(x, eps)
    gw = g * _per_channel(w, x)
    return (gw - _channel_mean(gw) - xhat * _channel_mean(gw * xhat)) * inv


def _vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any, *, eps: float) -> Any:
    return (g * _normalised(x, eps)[0]).sum(axis=_axes(x))


def _vjp_b(g: Any, ans: Any, x: Any, w: Any, b: Any, *, eps: float) -> Any:
    return g.sum(axis=_axes(x))


def _jvp_x(t: Any, ans: Any, x: Any, w: Any, b: Any, *, eps: float) -> Any:
    """d x̂ = (ẋ - mean(ẋ) - x̂ mean(ẋ x̂)) / √(σ² + ε), then scaled by γ."""
    xhat, inv = _normalised(x, eps)
    return (t - _channel_mean(t) - xhat * _channel_mean(t * xhat)) * inv * _per_channel(w, x)


BATCH_NORM = defop("batch_norm", _batch_norm, _vjp_x, _vjp_w, _vjp_b,
                   jvp=(_jvp_x,
                        lambda t, ans, x, w, b, *, eps: _normalised(x, eps)[0] * _per_channel(t, x),
                        lambda t, ans, x, w, b, *, eps: _per_channel(t, x)))


def batch_norm(x: Any, w: Any, b: Any, eps: float = 1e-5) -> Value:
    """Training-mode batch normalisation of x (N, C, ...) with the batch's own statistics,
    γ = w and β = b of shape (C,): torch.nn.functional.batch_norm(x, None, None, w, b,
    training=True, eps=eps). (Running statistics are the layer's business: nn/norm.py.)"""
    sx, sw, sb = _shape(x), _shape(w), _shape(b)
    if len(sx) < 2 or sw != sx[1:2] or sb != sx[1:2]:
        raise ValueError(f"batch_norm expects x (N, C, ...) and w, b of shape (C,), got x "
                         f"{sx}, w {sw}, b {sb}")
    return apply(BATCH_NORM, x, w, b, eps=float(eps))
