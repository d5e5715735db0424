"""Helpers the op rows share: they work on raw data and on Values alike, so one VJP runs on
arrays (first-order gradients) and on Values (``create_graph=True``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value


# ---- helpers that work on raw data and on Values alike --------------------------------
def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _shape(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, Value | np.ndarray) else np.shape(x)


def _dispatch(np_fn: Any, method: str) -> Any:
    def fn(x: Any, *args: Any) -> Any:
        if isinstance(x, Value):
            return getattr(x, method)(*args)
        out = np_fn(x, *args)
        # a Python float stays one: np.float64 would promote float32 (NumPy 2's rules)
        return float(out) if type(x) is float else out
    fn.__name__ = method
    return fn


exp = _dispatch(np.exp, "exp")
log = _dispatch(np.log, "log")
tanh = _dispatch(np.tanh, "tanh")


def power(a: Any, b: Any) -> Any:
    if isinstance(a, Value) or isinstance(b, Value):
        return a ** b
    return np.power(a, b)


def _channel_sum(x: np.ndarray) -> np.ndarray:
    """The sum of each channel (axis 1) of an array over every other axis, shaped (C,): the
    array seen as (N, C, L), a matrix product with ones over L, then the N rows added.
    numpy's own reduction over axes (0, 2, 3) is a few times slower."""
    n, c = x.shape[:2]
    per_sample = x.reshape(n, c, -1) @ np.ones(x.size // (n * c), dtype=x.dtype)
    return np.add.reduce(per_sample, axis=0)


def _mT(x: Any) -> Any:
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    n = len(_shape(x))
    if n == 2:
        return x.T
    axes = list(range(n))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return x.transpose(axes)


def _keepdims_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape a reduction over `axis` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Put back the axes a reduction removed, so g broadcasts against its input."""
    if keepdims or not shape:
        return g
    return g.reshape(_keepdims_shape(shape, axis))


# ---- forward maps that need care ------------------------------------------------------
def _div(a: Any, b: Any) -> Any:
    try:
        return a / b
    except ZeroDivisionError:  # Python floats: follow numpy (inf or nan, with a warning)
        return np.divide(a, b)


def _zero_one(mask: np.ndarray, like: Any) -> Any:
    """A boolean mask as 0.0/1.0 in like's kind (a float for a scalar, like's dtype)."""
    d = _data(like)
    if mask.ndim == 0 and type(d) is float:
        return float(mask)
    return mask.astype(d.dtype if isinstance(d, np.ndarray) else np.float64)

