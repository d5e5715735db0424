"""Batch normalisation as one node of the graph: nn.BatchNorm1d/2d's training-mode step.

Each channel c of x (N, C, *positions) is normalised over the batch and its positions, then
scaled and shifted: ``y = γ_c × (x - μ_c) / √(σ²_c + ε) + β_c``, σ² the population
variance. Written as separate Value operations that is about ten nodes, each a pass over
the whole activation forward and more backward; as one node it is a few passes, and its
gradient is the well-known closed form (with x̂ the normalised input and n the number of
values per channel)::

    dL/dx = γ / √(σ² + ε) × (g - mean(g) - x̂ × mean(g × x̂))
    dL/dγ = Σ g × x̂,    dL/dβ = Σ g

On arrays the forward keeps x̂ and 1/√(σ² + ε) for the backward pass (see _saved.py), and
the three VJPs share the per-channel sums Σ g and Σ g x̂; every reduction sees the
activation as (N, C, L) and is a matrix product with ones. The VJPs are also written with
operations Values have (recomputing x̂ from x), so second derivatives work
(``grad(..., create_graph=True)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _channel_sum, _shape
from ._saved import keep, kept


def _axes(x: Any) -> tuple[int, ...]:
    """Every axis but the channels (axis 1)."""
    return (0, *range(2, len(_shape(x))))


def _per_channel(v: Any, x: Any) -> Any:
    """A (C,) vector shaped (1, C, 1, ...) to broadcast against x."""
    return v.reshape((1, -1) + (1,) * (len(_shape(x)) - 2))


def _channel_mean(x: Any) -> Any:
    """The mean of each channel over every other axis, shaped (1, C, 1, ...)."""
    if type(x) is not np.ndarray:
        return x.mean(axis=_axes(x), keepdims=True)
    c = x.shape[1]
    return (_channel_sum(x) / (x.size // c)).reshape((1, c) + (1,) * (x.ndim - 2))


def _normalised(x: Any, eps: float) -> tuple[Any, Any]:
    """(x̂, 1/√(σ² + ε)) per channel, on arrays or Values alike."""
    centred = x - _channel_mean(x)
    inv = (_channel_mean(centred * centred) + eps) ** -0.5
    return centred * inv, inv


# batch_stats' last answer: nn's layer asks for the statistics (its running averages) just
# before the forward pass needs them for the same array, which then reuses them (one
# entry, holding that array until the next call).
_last: list[Any] = [None, None, None]


def batch_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The batch's mean and population variance per channel, each of shape (C,)."""
    mean = _channel_mean(x)
    centred = x - mean
    var = _channel_mean(centred * centred)
    _last[0], _last[1], _last[2] = x, mean, var
    return mean.reshape(-1), var.reshape(-1)


def _batch_norm(x: Any, w: Any, b: Any, *, eps: float) -> Any:
    if _last[0] is x:
        mean, var = _last[1], _last[2]
        _last[0] = _last[1] = _last[2] = None
        centred = x - mean
        inv = (var + eps) ** -0.5
        xhat = centred * inv
    else:
        xhat, inv = _normalised(x, eps)
    y = xhat * _per_channel(w, x)
    y += _per_channel(b, x)
    keep(y, (xhat, inv))  # for the backward pass (_saved.py): no second normalisation
    return y


_memo: list[Any] = [None, None, None]  # g, ans, (Σ g, Σ g x̂): shared by the three VJPs


def _sums(g: np.ndarray, ans: np.ndarray, xhat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ g and Σ g x̂ per channel, computed once per node for its three VJPs."""
    m = _memo
    if m[0] is g and m[1] is ans:
        return m[2]
    out = (_channel_sum(g), _channel_sum(g * xhat))
    m[0], m[1], m[2] = g, ans, out
    return out


def _vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any, *, eps: float) -> Any:
    saved = kept(ans) if type(g) is np.ndarray else None
    if saved is not None:  # the closed form from the forward's x̂ and the sums
        xhat, inv = saved
        sg, sgx = _sums(g, ans, xhat)
        count = g.size // g.shape[1]
        dx = g - _per_channel(sg / count, g)
        dx -= xhat * _per_channel(sgx / count, g)
        dx *= _per_channel(w, g) * inv
        return dx
    xhat, inv = _normalised(x, eps)
    gw = g * _per_channel(w, x)
    return (gw - _channel_mean(gw) - xhat * _channel_mean(gw * xhat)) * inv


def _vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any, *, eps: float) -> Any:
    saved = kept(ans) if type(g) is np.ndarray else None
    if saved is not None:
        return _sums(g, ans, saved[0])[1]
    return (g * _normalised(x, eps)[0]).sum(axis=_axes(x))


def _vjp_b(g: Any, ans: Any, x: Any, w: Any, b: Any, *, eps: float) -> Any:
    saved = kept(ans) if type(g) is np.ndarray else None
    if saved is not None:
        return _sums(g, ans, saved[0])[0]
    return g.sum(axis=_axes(x))


BATCH_NORM = defop("batch_norm", _batch_norm, _vjp_x, _vjp_w, _vjp_b)


def batch_norm(x: Any, w: Any, b: Any, eps: float = 1e-5) -> Value:
    """Training-mode batch normalisation of x (N, C, ...) with the batch's own statistics,
    γ = w and β = b of shape (C,): torch.nn.functional.batch_norm(x, None, None, w, b,
    training=True, eps=eps). (Running statistics are the layer's business: nn/norm.py.)"""
    sx, sw, sb = _shape(x), _shape(w), _shape(b)
    if len(sx) < 2 or sw != sx[1:2] or sb != sx[1:2]:
        raise ValueError(f"batch_norm expects x (N, C, ...) and w, b of shape (C,), got x "
                         f"{sx}, w {sw}, b {sb}")
    return apply(BATCH_NORM, x, w, b, eps=float(eps))
