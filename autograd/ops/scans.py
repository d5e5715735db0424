"""Cumulative ops along an axis (cumsum cumprod cummax cummin logcumsumexp) and sorting
(sort, topk, argsort).

cumsum's adjoint is the reversed cumsum: entry k of x reaches every output j ≥ k, so its
gradient is Σ_{j≥k} g_j — one more cumsum on the flipped g, never a matrix. cummax, cummin,
sort and topk pick input entries, so their values are a `gather` of the input at the picked
positions (indexing.py) and their backward is the scatter that gather's row already has.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..engine import Value, apply, defop
from ._common import _data, _div, _shape, exp
from .functions import stack as stack_values
from .indexing import GATHER, check_axis
from .layout import flip


class ValuesIndices(NamedTuple):
    """torch's (values, indices) pair: values a Value, indices an integer array."""

    values: Value
    indices: np.ndarray


# ---- helpers on arrays and Values alike ------------------------------------------------------------
def cumsum_any(x: Any, axis: int) -> Any:
    return apply(CUMSUM, x, axis=axis) if isinstance(x, Value) else np.cumsum(x, axis=axis)


def _revcumsum(g: Any, axis: int) -> Any:
    """Σ_{j≥k} g_j along axis: a cumsum of the flipped g, flipped back."""
    return flip(cumsum_any(flip(g, (axis,)), axis), (axis,))


def _at(x: Any, axis: int, k: int) -> Any:
    return x[(slice(None),) * axis + (k,)]


def _stack(parts: list[Any], axis: int) -> Any:
    if any(isinstance(p, Value) for p in parts):
        return stack_values(parts, axis=axis)
    return np.stack(parts, axis=axis)


def _has_zero(x: Any) -> bool:
    return bool(np.any(np.asarray(_data(x)) == 0))


# ---- cumprod: the division formula, or a recurrence along the axis where x has zeros ---------------
def _cumprod_vjp(g: Any, ans: Any, a: Any, axis: int) -> Any:
    """dL/dx_k = Σ_{j≥k} g_j ans_j / x_k when no x is 0. With zeros (as torch, which gets
    them right): dL/dx_k = ans_{k-1} · S_k, S_k = g_k + x_{k+1} S_{k+1}, a loop along the
    axis (its length, not the tensor's size)."""
    if not _has_zero(a):
        return _div(_revcumsum(g * ans, axis), a)
    n = _shape(a)[axis]
    s = [None] * n
    s[n - 1] = _at(g, axis, n - 1)
    for k in range(n - 2, -1, -1):
        s[k] = _at(g, axis, k) + _at(a, axis, k + 1) * s[k + 1]
    parts = [s[0]] + [_at(ans, axis, k - 1) * s[k] for k in range(1, n)]
    return _stack(parts, axis)


def _cumprod_jvp(t: Any, ans: Any, a: Any, axis: int) -> Any:
    """d ans_j = Σ_{i≤j} t_i Π_{l≤j, l≠i} x_l: ans · cumsum(t / x) without zeros, else the
    recurrence d ans_j = d ans_{j-1} x_j + ans_{j-1} t_j."""
    if not _has_zero(a):
        return ans * cumsum_any(_div(t, a), axis)
    n = _shape(a)[axis]
    d = [_at(t, axis, 0)]
    for j in range(1, n):
        d.append(d[-1] * _at(a, axis, j) + _at(ans, axis, j - 1) * _at(t, axis, j))
    return _stack(d, axis)


# ---- logcumsumexp ---------------------------------------------------------------------------------
def _shift(ans: Any, axis: int) -> np.ndarray:
    """A constant per row, the row's last (largest) output, so the exponentials stay in
    range; it cancels in the result."""
    c = np.take(np.asarray(_data(ans)), [-1], axis=axis)
    return np.where(np.isfinite(c), c, 0.0).astype(np.asarray(_data(ans)).dtype)


def _logcumsumexp_vjp(g: Any, ans: Any, a: Any, axis: int) -> Any:
    """dL/dx_k = Σ_{j≥k} g_j e^(x_k - ans_j) = e^(x_k - c) · revcumsum(g e^(c - ans))."""
    c = _shift(ans, axis)
    return exp(a - c) * _revcumsum(g * exp(c - ans), axis)


def _logcumsumexp_jvp(t: Any, ans: Any, a: Any, axis: int) -> Any:
    """d ans_j = Σ_{i≤j} t_i e^(x_i - ans_j)."""
    c = _shift(ans, axis)
    return cumsum_any(t * exp(a - c), axis) * exp(c - ans)


# ---- the table ------------------------------------------------------------------------------------
CUMSUM = defop("cumsum", lambda a, axis: np.cumsum(a, axis=axis),
               lambda g, ans, a, axis: _revcumsum(g, axis),
               jvp=(lambda t, ans, a, axis: cumsum_any(t, axis),))
CUMPROD = defop("cumprod", lambda a, axis: np.cumprod(a, axis=axis), _cumprod_vjp,
                jvp=(_cumprod_jvp,))
LOGCUMSUMEXP = defop("logcumsumexp", lambda a, axis: np.logaddexp.accumulate(a, axis=axis),
                     _logcumsumexp_vjp, jvp=(_logcumsumexp_jvp,))


# ---- Value methods ----------------------------------------------------------------------------------
def _prepared(x: Value, op: str, dim: Any) -> tuple[Value, int]:
    """x (a scalar as a 1-element tensor, a tensor flattened when dim is None: numpy's
    convention; torch always names a dim) and the axis as a non-negative int."""
    if x.is_scalar:
        x = x.reshape(1)
    if dim is None:
        return x.reshape(-1), 0
    return x, check_axis(op, dim, x.ndim)


def _scan(op: Any) -> Any:
    def method(self: Value, dim: Any = None, *, axis: Any = None) -> Value:
        x, ax = _prepared(self, op.name, axis if dim is None else dim)
        return apply(op, x, axis=ax)
    method.__name__ = op.name
    return method


def _cum_index(x: np.ndarray, axis: int, better: Any) -> np.ndarray:
    """For each position, the index of the running max (min) so far; a later equal entry
    takes over (torch's >= / <=), as torch.cummax."""
    run = better.accumulate(x, axis=axis)
    takes = x == run  # x_j reaches the running best: it becomes the index
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    pos = np.where(takes, np.arange(x.shape[axis]).reshape(shape), 0)
    return np.maximum.accumulate(pos, axis=axis)


def _cum_extreme(better: Any, name: str) -> Any:
    def method(self: Value, dim: int = -1) -> ValuesIndices:
        x, ax = _prepared(self, name, dim)
        idx = _cum_index(np.asarray(x.data), ax, better)
        return ValuesIndices(apply(GATHER, x, index=idx, axis=ax), idx)
    method.__name__ = name
    method.__doc__ = (f"The running {name[3:]} along dim and where it was (torch.{name}): "
                      "values a Value whose gradient goes to those positions, indices an array")
    return method


def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """A stable argsort (equal entries keep their order, descending too)."""
    if descending:
        n = x.shape[axis]
        rev = np.flip(x, axis)
        return n - 1 - np.flip(np.argsort(rev, axis=axis, kind="stable"), axis)
    return np.argsort(x, axis=axis, kind="stable")


def sort(self: Value, dim: int = -1, descending: bool = False, stable: bool = False
         ) -> ValuesIndices:
    """(sorted values, their positions in self) along dim (torch.sort). Always stable."""
    x, ax = _prepared(self, "sort", dim)
    idx = _order(np.asarray(x.data), ax, descending)
    return ValuesIndices(apply(GATHER, x, index=idx, axis=ax), idx)


def argsort(self: Value, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> np.ndarray:
    """The positions that sort self along dim (an integer array; no gradient)."""
    x, ax = _prepared(self, "argsort", dim)
    return _order(np.asarray(x.data), ax, descending)


def topk(self: Value, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
         ) -> ValuesIndices:
    """The k largest (or smallest) entries along dim and their positions (torch.topk)."""
    x, ax = _prepared(self, "topk", dim)
    if not isinstance(k, int | np.integer) or isinstance(k, bool):
        raise TypeError(f"topk takes an integer k, got {k!r}")
    if not 0 <= k <= x.shape[ax]:
        raise ValueError(f"topk: k={k} must be between 0 and the size {x.shape[ax]} of dim "
                         f"{ax}")
    idx = _order(np.asarray(x.data), ax, largest)
    idx = np.take(idx, np.arange(k), axis=ax)
    return ValuesIndices(apply(GATHER, x, index=idx, axis=ax), idx)


Value.cumsum = _scan(CUMSUM)
Value.cumprod = _scan(CUMPROD)
Value.logcumsumexp = _scan(LOGCUMSUMEXP)
Value.cummax = _cum_extreme(np.maximum, "cummax")
Value.cummin = _cum_extreme(np.minimum, "cummin")
Value.sort = sort
Value.argsort = argsort
Value.topk = topk
