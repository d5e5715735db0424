"""More reductions, as torch names them: prod, std, norm (rows of the table), and the
answers without a gradient, argmax argmin any all (integer or boolean arrays).

prod's gradient is the product of the other entries: ans / x where no entry is 0, and
otherwise left-exclusive × right-exclusive running products (as torch, which is exact with
zeros). The methods take numpy's `axis`/`keepdims` and torch's `dim`/`keepdim` alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _data, _div, _expand, _shape, power
from .functions import _factor
from .functions import concatenate as concatenate_values
from .layout import flip
from .scans import CUMPROD


def _axes_tuple(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))))


def _sum(x: Any, axis: Any, keepdims: bool) -> Any:
    if type(x) is float:
        return x
    return x.sum(axis=axis, keepdims=keepdims)


# ---- prod -------------------------------------------------------------------------------------
def _cumprod(x: Any) -> Any:
    if isinstance(x, Value):
        return apply(CUMPROD, x, axis=x.ndim - 1)
    return np.cumprod(x, axis=-1)


def _others(a: Any, axis: Any) -> Any:
    """For each entry, the product of the other entries of its reduced group: the running
    product before it times the running product after it."""
    shape = _shape(a)
    axes = _axes_tuple(axis, len(shape))
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    perm = rest + axes
    moved = a.transpose(perm)
    lead = tuple(shape[i] for i in rest)
    x = moved.reshape(lead + (-1,))
    ones = np.ones(lead + (1,), dtype=np.asarray(_data(a)).dtype)
    join = concatenate_values if isinstance(x, Value) else np.concatenate
    left = join([ones, _cumprod(x[..., :-1])], axis=-1)
    right = flip(join([ones, _cumprod(flip(x, (x.ndim - 1,))[..., :-1])], axis=-1),
                 (len(lead),))
    back = (left * right).reshape(moved.shape)
    return back.transpose(tuple(np.argsort(perm)))


def _prod_vjp(g: Any, ans: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = _shape(a)
    if not shape:
        return g
    ge = _expand(g, shape, axis, keepdims)
    if not np.any(np.asarray(_data(a)) == 0):
        return _div(ge * _expand(ans, shape, axis, keepdims), a)
    return ge * _others(a, axis)


def _prod_jvp(t: Any, ans: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = _shape(a)
    if not shape:
        return t
    return _sum(t * _prod_vjp(_ones_like(ans), ans, a, axis, keepdims), axis, keepdims)


def _ones_like(x: Any) -> Any:
    d = _data(x)
    return 1.0 if type(d) is float else np.ones_like(d)


# ---- std ----------------------------------------------------------------------------------------
def _count(a: Any, axis: Any) -> int:
    shape = _shape(a)
    return int(np.prod([shape[i] for i in _axes_tuple(axis, len(shape))])) if shape else 1


def _centred(a: Any, axis: Any) -> Any:
    if type(a) is float:
        return 0.0
    return a - a.mean(axis=axis, keepdims=True)


def _std_vjp(g: Any, ans: Any, a: Any, axis: Any = None, ddof: int = 0,
             keepdims: bool = False) -> Any:
    """d std/dxᵢ = (xᵢ - mean) / ((n - ddof) std)."""
    shape = _shape(a)
    scale = _div(_expand(g, shape, axis, keepdims), _expand(ans, shape, axis, keepdims))
    return scale * _centred(a, axis) * (1.0 / (_count(a, axis) - ddof))


def _std_jvp(t: Any, ans: Any, a: Any, axis: Any = None, ddof: int = 0,
             keepdims: bool = False) -> Any:
    return _sum(t * _std_vjp(_ones_like(ans), ans, a, axis, ddof, keepdims), axis, keepdims)


# ---- norm ---------------------------------------------------------------------------------------
def _norm(a: Any, ord: float = 2.0, axis: Any = None, keepdims: bool = False) -> Any:
    x = np.abs(np.asarray(a))
    kw = {"axis": axis, "keepdims": keepdims}
    if ord == 2.0:
        out = np.sqrt(np.sum(x * x, **kw))
    elif ord == 1.0:
        out = np.sum(x, **kw)
    elif ord == np.inf:
        out = np.max(x, **kw)
    elif ord == -np.inf:
        out = np.min(x, **kw)
    elif ord == 0.0:
        out = np.sum(x != 0, **kw).astype(x.dtype)
    else:
        out = np.sum(x ** ord, **kw) ** (1.0 / ord)
    return float(out) if type(a) is float else np.asarray(out, dtype=x.dtype)


def _norm_partials(ans: Any, a: Any, ord: float, axis: Any, keepdims: bool) -> Any:
    """∂‖x‖/∂xᵢ, shaped like x (torch's choices: 0 where the norm is 0; ties of the ∞-norm
    share equally)."""
    shape = _shape(a)
    n = _expand(ans, shape, axis, keepdims)
    x = np.asarray(_data(a))
    sign = _factor(np.sign(x), a)
    if ord == 1.0:
        return sign
    if ord == 0.0:
        return _factor(np.zeros(x.shape), a)
    if ord in (np.inf, -np.inf):
        hit = np.abs(x) == np.asarray(_data(n))
        share = hit / np.sum(hit, axis=axis, keepdims=True) if shape else hit
        return sign * _factor(share, a)
    zero = _factor(np.asarray(_data(n)) == 0, ans)
    safe_n = n + zero  # 1 where the norm is 0, whose gradient is 0 (as torch)
    if ord == 2.0:
        return _div(a, safe_n) * (1.0 - zero)
    return _div(a * power(abs(a), ord - 2.0), power(safe_n, ord - 1.0)) * (1.0 - zero)


def _norm_vjp(g: Any, ans: Any, a: Any, ord: float = 2.0, axis: Any = None,
              keepdims: bool = False) -> Any:
    return _expand(g, _shape(a), axis, keepdims) * _norm_partials(ans, a, ord, axis, keepdims)


def _norm_jvp(t: Any, ans: Any, a: Any, ord: float = 2.0, axis: Any = None,
              keepdims: bool = False) -> Any:
    return _sum(t * _norm_partials(ans, a, ord, axis, keepdims), axis, keepdims)


# ---- the table ------------------------------------------------------------------------------------
PROD = defop("prod", lambda a, axis=None, keepdims=False: np.prod(a, axis=axis,
                                                                  keepdims=keepdims),
             _prod_vjp, jvp=(_prod_jvp,))
STD = defop("std", lambda a, axis=None, ddof=0, keepdims=False: np.std(
    a, axis=axis, ddof=ddof, keepdims=keepdims), _std_vjp, jvp=(_std_jvp,))
NORM = defop("norm", _norm, _norm_vjp, jvp=(_norm_jvp,))


# ---- Value methods ----------------------------------------------------------------------------------
def axis_of(x: Value, op: str, axis: Any, dim: Any) -> Any:
    """numpy's `axis` or torch's `dim` (not both): None, an int or a tuple, checked."""
    if axis is not None and dim is not None:
        raise TypeError(f"{op} takes axis or dim, not both")
    ax = dim if axis is None else axis
    if isinstance(ax, list):
        ax = tuple(ax)
    if ax is None:
        return None
    n = max(x.ndim, 1)
    for a in ax if isinstance(ax, tuple) else (ax,):
        if not isinstance(a, int | np.integer) or not -n <= a < n:
            raise IndexError(f"{op}: axis {a!r} is out of range for a tensor of shape "
                             f"{x.shape} (expected -{n} <= axis < {n})")
    if x.is_scalar:
        return None
    return ax


def prod(self: Value, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool = False) -> Value:
    """Π over `axis` (all when None); the gradient is the product of the other entries."""
    ax = axis_of(self, "prod", axis, dim)
    return apply(PROD, self, axis=ax, keepdims=bool(keepdims or keepdim))


def std(self: Value, axis: Any = None, ddof: int = 0, keepdims: bool = False, *,
        dim: Any = None, correction: int | None = None, keepdim: bool = False) -> Value:
    """The standard deviation: √(Σ(x - mean)² / (n - ddof)); population (ddof=0) by
    default, as var (torch's `correction` is ddof)."""
    ax = axis_of(self, "std", axis, dim)
    d = ddof if correction is None else correction
    n = self.size if ax is None else int(np.prod([self.shape[i] for i in _axes_tuple(
        ax, self.ndim)]))
    if not 0 <= d < max(n, 1):
        raise ValueError(f"std: ddof={d} needs to be below the {n} entries averaged")
    return apply(STD, self, axis=ax, ddof=int(d), keepdims=bool(keepdims or keepdim))


def norm(self: Value, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Value:
    """The p-norm (torch.Tensor.norm): (Σ|x|^p)^(1/p) over `dim` (all when None); p=2 ("fro")
    by default, also 1, inf, -inf, 0 (the count of non-zeros) and any other number."""
    order = 2.0 if p in ("fro", None) else p
    if isinstance(order, str) or not isinstance(order, int | float):
        raise TypeError(f"norm: p must be a number or 'fro', got {p!r}")
    ax = axis_of(self, "norm", None, dim)
    return apply(NORM, self, ord=float(order), axis=ax, keepdims=bool(keepdim))


def _index_query(fn: Any, name: str) -> Any:
    def method(self: Value, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: bool = False) -> np.ndarray:
        ax = axis_of(self, name, axis, dim)
        if isinstance(ax, tuple):
            raise TypeError(f"{name} takes one axis, got {ax}")
        return np.asarray(fn(np.asarray(self.data), axis=ax, keepdims=bool(keepdim or keepdims)))
    method.__name__ = name
    method.__doc__ = f"np.{name} of the data along dim (an array: no gradient)"
    return method


Value.prod = prod
Value.std = std
Value.norm = norm
Value.argmax = _index_query(np.argmax, "argmax")
Value.argmin = _index_query(np.argmin, "argmin")
Value.any = _index_query(np.any, "any")
Value.all = _index_query(np.all, "all")
