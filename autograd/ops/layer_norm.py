"""Layer normalisation as one node of the graph: nn.LayerNorm's step.

Each sample is normalised over its last `dims` axes (the features), then scaled and
shifted elementwise: ``y = w × (x - μ) / √(σ² + ε) + b``, μ and σ² the mean and population
variance over those axes. Written as Value operations that is about ten nodes, each a pass
over the activations forward and more backward; as one node the backward pass is the
closed form (x̂ the normalised input, n the number of features, ĝ = g × w)::

    dL/dx = (ĝ - mean(ĝ) - x̂ × mean(ĝ × x̂)) / √(σ² + ε)
    dL/dw = Σ g × x̂,    dL/db = Σ g        (sums over the leading axes)

On arrays the forward keeps x̂ and 1/√(σ² + ε) for the backward pass (see _saved.py); the
VJPs are also written with operations Values have, recomputing x̂ from x, so second
derivatives work (``grad(..., create_graph=True)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _shape
from ._saved import keep, kept


def _row_mean(x: Any, dims: int) -> Any:
    """The mean over the last `dims` axes, kept as size-1 axes. On arrays a matrix-vector
    product with ones over the flattened features: numpy's own reduction over a short last
    axis (64 features) took about twice as long."""
    if type(x) is not np.ndarray:
        return x.mean(axis=tuple(range(-dims, 0)), keepdims=True)
    lead = x.shape[:x.ndim - dims]
    n = int(np.prod(x.shape[x.ndim - dims:]))
    ones = np.full(n, 1.0 / n, dtype=x.dtype)
    return (x.reshape(-1, n) @ ones).reshape(lead + (1,) * dims)


def _normalised(x: Any, eps: float, dims: int) -> tuple[Any, Any]:
    """(x̂, 1/√(σ² + ε)) over the last `dims` axes, on arrays or Values alike."""
    centred = x - _row_mean(x, dims)
    inv = (_row_mean(centred * centred, dims) + eps) ** -0.5
    return centred * inv, inv


def _layer_norm(x: Any, w: Any, b: Any = None, *, eps: float, dims: int) -> Any:
    xhat, inv = _normalised(x, eps, dims)
    y = xhat * w
    if b is not None:
        y += b
    keep(y, (xhat, inv))
    return y


def _residuals(ans: Any, x: Any, eps: float, dims: int) -> tuple[Any, Any]:
    saved = kept(ans)
    return saved if saved is not None else _normalised(x, eps, dims)


def _lead_sum(v: Any, dims: int) -> Any:
    """The sum over every axis but the last `dims` (a parameter's share of the batch)."""
    lead = len(_shape(v)) - dims
    if type(v) is np.ndarray:  # one matrix product: the rows of features added up
        features = v.shape[lead:]
        rows = v.reshape(-1, int(np.prod(features)))
        return (np.ones(rows.shape[0], dtype=v.dtype) @ rows).reshape(features)
    return v.sum(axis=tuple(range(lead)))


def _vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any = None, *, eps: float, dims: int) -> Any:
    xhat, inv = _residuals(ans, x, eps, dims) if type(g) is np.ndarray \
        else _normalised(x, eps, dims)
    gw = g * w
    return (gw - _row_mean(gw, dims) - xhat * _row_mean(gw * xhat, dims)) * inv


def _vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any = None, *, eps: float, dims: int) -> Any:
    xhat = _residuals(ans, x, eps, dims)[0] if type(g) is np.ndarray \
        else _normalised(x, eps, dims)[0]
    return _lead_sum(g * xhat, dims)


def _vjp_b(g: Any, ans: Any, x: Any, w: Any, b: Any = None, *, eps: float, dims: int) -> Any:
    return _lead_sum(g, dims)


LAYER_NORM = defop("layer_norm", _layer_norm, _vjp_x, _vjp_w, _vjp_b)


def layer_norm(x: Any, w: Any, b: Any = None, eps: float = 1e-5) -> Value:
    """x normalised over its last ``w.ndim`` axes, times w, plus b (w and b of the shape
    of those axes): ``torch.nn.functional.layer_norm(x, w.shape, w, b, eps)``."""
    sx, sw = _shape(x), _shape(w)
    k = len(sw)
    if k == 0 or len(sx) < k or tuple(sx[len(sx) - k:]) != tuple(sw) or (
            b is not None and tuple(_shape(b)) != tuple(sw)):
        sb = None if b is None else _shape(b)
        raise ValueError(f"layer_norm expects w (and b) shaped like the last axes of x, got "
                         f"x {sx}, w {sw}, b {sb}")
    if b is None:
        return apply(LAYER_NORM, x, w, eps=float(eps), dims=k)
    return apply(LAYER_NORM, x, w, b, eps=float(eps), dims=k)
