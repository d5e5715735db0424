"""Shape and indexing: reshape, transpose, broadcast_to, ``x[index]`` (and its VJP's
index_add), and to_scalar (a one-element tensor as a scalar)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _data, _shape


def _is_basic_index(index: Any) -> bool:
    """True when `index` has no integer arrays, so no position can repeat."""
    parts = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def _index_add(g: Any, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """zeros(shape) with g added at `index` (repeated positions accumulate)."""
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


RESHAPE = defop("reshape", lambda a, shape: np.reshape(a, shape),
                lambda g, ans, a, shape: g.reshape(_shape(a)))
TRANSPOSE = defop("transpose", lambda a, axes: np.transpose(a, axes),
                  lambda g, ans, a, axes: g.transpose(
                      None if axes is None else tuple(np.argsort(axes))))
BROADCAST_TO = defop("broadcast_to", lambda a, shape: np.broadcast_to(a, shape),
                     lambda g, ans, a, shape: g)  # the engine sums g back to a's shape
GETITEM = defop("getitem", lambda a, index: a[index],
                lambda g, ans, a, index: index_add(g, index, _shape(a)))
INDEX_ADD = defop("index_add", _index_add,
                  lambda g, ans, a, index, shape: g[index])


def _to_scalar(a: Any) -> float:
    return a.item() if type(a) is np.ndarray else float(np.reshape(a, ()))


def _to_scalar_vjp(g: Any, ans: Any, a: Any) -> Any:
    """g in a's one element, in a's dtype (g a Python float or scalar Value: float32 stays)."""
    if type(g) is float and type(a) is np.ndarray and not a.ndim:
        return a.dtype.type(g)  # g × ones_like(a) for a 0-d a, without the two array calls
    return (to_scalar(g) if isinstance(g, Value) else float(g)) * np.ones_like(_data(a))


TO_SCALAR = defop("to_scalar", _to_scalar, _to_scalar_vjp)

def to_scalar(x: Value) -> Value:
    """A one-element tensor as a scalar Value (its data a Python float), as losses return."""
    if x.is_scalar:
        return x
    if x.size != 1:
        raise ValueError(f"to_scalar needs a Value with one element, got shape {x.shape}")
    return apply(TO_SCALAR, x)


def index_add(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(g, Value):
        return apply(INDEX_ADD, g, index=index, shape=shape)
    return _index_add(g, index, shape)


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def reshape(self: Value, *shape: Any) -> Value:
    """The same numbers in a new shape (ints or one tuple; -1 infers one axis)."""
    return apply(RESHAPE, self, shape=_shape_args(shape))


def transpose(self: Value, *axes: Any) -> Value:
    """Permute the axes (reverse them when none are given), as ndarray.transpose."""
    if not axes or axes == (None,):
        return apply(TRANSPOSE, self, axes=None)
    n = self.ndim
    return apply(TRANSPOSE, self, axes=tuple(a % n if n else a for a in _shape_args(axes)))


def broadcast_to_method(self: Value, shape: tuple[int, ...]) -> Value:
    """Repeat along axes as numpy broadcasting does; the gradient is summed back."""
    return apply(BROADCAST_TO, self, shape=tuple(shape))


def getitem(self: Value, index: Any) -> Value:
    """Basic slicing and integer-array indexing; repeated indices accumulate gradient."""
    if self.is_scalar:
        raise TypeError("a scalar Value cannot be indexed; make it a tensor with Value([x])")
    parts = index if isinstance(index, tuple) else (index,)
    # a list or a tuple inside the index is an integer array to numpy (x[(0, 0), :] picks
    # row 0 twice): made one here, so the gradient sees the repeat and accumulates it
    fixed = tuple(np.asarray(p.data if isinstance(p, Value) else p)
                  if isinstance(p, list | tuple | Value | np.ndarray) else p for p in parts)
    for p in fixed:
        if isinstance(p, np.ndarray) and p.dtype.kind == "f":
            raise IndexError(f"indices must be integers or booleans, got an array of {p.dtype}")
    return apply(GETITEM, self, index=fixed if isinstance(index, tuple) else fixed[0])


Value.reshape = reshape
Value.transpose = transpose
Value.T = property(lambda self: transpose(self), doc="the axes reversed")
Value.broadcast_to = broadcast_to_method
Value.__getitem__ = getitem
