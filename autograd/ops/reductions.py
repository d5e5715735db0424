"""Reductions: sum, mean, max, and softmax / log-softmax along an axis."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Op, Value, apply, broadcast_to, defop
from ._common import _data, _expand, _keepdims_shape, _shape, exp


# (ufunc.reduce directly: np.max / np.sum add a Python layer that small batches notice)
def _softmax(x: Any, axis: int) -> Any:
    if np.size(x) == 0:  # nothing to normalise (no rows, or rows of length 0): as torch
        return np.exp(x)
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def _log_softmax(x: Any, axis: int) -> Any:
    if np.size(x) == 0:
        return x + 0.0
    s = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    s -= np.log(np.add.reduce(np.exp(s), axis=axis, keepdims=True))
    return s


def _reduce_vjp(g: Any, a: Any, axis: Any, keepdims: bool, scale: float = 1.0) -> Any:
    """g spread back over the reduced axes (times `scale`: 1/count for mean)."""
    shape = _shape(a)
    if type(g) is np.ndarray and type(a) is np.ndarray and a.size <= 4096:
        # small: a filled array costs less than np.broadcast_to's Python layer
        out = np.empty(shape, dtype=np.result_type(g, a))
        out[...] = _expand(g, shape, axis, keepdims)
        if scale != 1.0:
            out *= scale
        return out
    g = broadcast_to(_expand(g, shape, axis, keepdims), shape)
    return g if scale == 1.0 else g * scale


def _sum(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if type(a) is np.ndarray:
        return np.add.reduce(a, axis=axis, keepdims=keepdims)
    return np.sum(a, axis=axis, keepdims=keepdims)


def _mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if type(a) is np.ndarray and a.size:
        total = np.add.reduce(a, axis=axis, keepdims=keepdims)
        return total / (a.size // max(np.size(total), 1))
    return np.mean(a, axis=axis, keepdims=keepdims)


def _max_vjp(g: Any, ans: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The gradient goes to the maximal entries; ties share it equally."""
    shape = _shape(a)
    ad = np.asarray(_data(a))
    m = np.asarray(_data(ans)).reshape(_keepdims_shape(shape, axis) if shape else ())
    mask = (ad == m).astype(ad.dtype)
    mask /= mask.sum(axis=axis, keepdims=True)
    return _expand(g, shape, axis, keepdims) * mask



SUM = defop("sum", _sum,
            lambda g, ans, a, axis=None, keepdims=False: _reduce_vjp(g, a, axis, keepdims))
MEAN = defop("mean", _mean,
             lambda g, ans, a, axis=None, keepdims=False:
                 _reduce_vjp(g, a, axis, keepdims,  # (an empty input: an empty gradient)
                             np.size(_data(ans)) / max(np.size(_data(a)), 1)))
MAX = defop("max", lambda a, axis=None, keepdims=False: np.max(a, axis=axis, keepdims=keepdims),
            _max_vjp)

SOFTMAX = defop("softmax", _softmax,
                lambda g, ans, a, axis: ans * (g - (g * ans).sum(axis=axis, keepdims=True)))
LOG_SOFTMAX = defop("log_softmax", _log_softmax,
                    lambda g, ans, a, axis: g - exp(ans) * g.sum(axis=axis, keepdims=True))



def _reduction(op: Op, doc: str) -> Any:
    def method(self: Value, axis: int | tuple[int, ...] | None = None,
               keepdims: bool = False) -> Value:
        if isinstance(axis, list):
            axis = tuple(axis)
        return apply(op, self, axis=axis, keepdims=keepdims)
    method.__name__ = op.name
    method.__doc__ = doc
    return method


def softmax(self: Value, axis: int = -1) -> Value:
    """softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ along `axis` (shifted by the max: no overflow)."""
    return apply(SOFTMAX, self, axis=axis)


def log_softmax(self: Value, axis: int = -1) -> Value:
    """log(softmax(z)) = z - max - log Σ e^(z - max): stable for logits of 1000."""
    return apply(LOG_SOFTMAX, self, axis=axis)

Value.sum = _reduction(SUM, "Σ over `axis` (all axes when None)")
Value.mean = _reduction(MEAN, "the average over `axis` (all axes when None)")
Value.max = _reduction(MAX, "the largest entry over `axis`; ties share the gradient equally")
Value.softmax = softmax
Value.log_softmax = log_softmax
