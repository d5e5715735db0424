"""Indexing along one axis, as torch names it: gather, scatter_add (out of place),
index_select, masked_fill.

`gather` and `scatter_add` are each other's adjoint: gathering picks g's entries at the
index positions; scattering adds them back there (repeated positions accumulate). So the
VJP of each is the other, and sort, topk, cummax and cummin, whose values are the input
gathered at some positions, get their backward as a scatter without a dense Jacobian.
Index and mask arrays are constants (integer or boolean arrays, as torch takes them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _data, _shape
from .functions import concatenate as concatenate_values


# ---- checks ---------------------------------------------------------------------------------
def check_axis(op: str, axis: Any, ndim: int) -> int:
    """`axis` as a non-negative int, or a clear error naming `op` and the valid range."""
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise TypeError(f"{op} takes an integer axis (dim), got {axis!r}")
    n = max(ndim, 1)
    if not -n <= axis < n:
        raise IndexError(f"{op}: axis {axis} is out of range for a tensor of {ndim} "
                         f"dimension(s) (expected -{n} <= axis < {n})")
    return int(axis) % n


def check_index(op: str, index: Any) -> np.ndarray:
    """An index argument as an integer array (lists, Values of whole numbers, int arrays)."""
    idx = np.asarray(_data(index))
    if idx.dtype.kind == "f" and idx.size and np.all(idx == np.round(idx)):
        idx = idx.astype(np.int64)
    if idx.dtype.kind not in "iu" and not (idx.size == 0):
        raise TypeError(f"{op} takes an integer index array, got one of dtype {idx.dtype}")
    return idx.astype(np.int64)


# ---- forward maps -------------------------------------------------------------------------------
def _gather(a: Any, index: np.ndarray, axis: int) -> Any:
    return np.take_along_axis(np.asarray(a), index, axis=axis)


def _scatter_add(a: Any, src: Any, index: np.ndarray, axis: int) -> Any:
    """a with src's entries added at index along axis (a copy; torch.scatter_add)."""
    out = np.array(a, dtype=np.result_type(a, src), copy=True)
    _add_along(out, np.asarray(src)[_prefix(index.shape)], index, axis)
    return out


def _prefix(shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The leading block of src that index's shape covers (torch uses only that part)."""
    return tuple(slice(0, n) for n in shape)


def _add_along(out: np.ndarray, src: np.ndarray, index: np.ndarray, axis: int) -> None:
    """out[..., index[i], ...] += src[i] along axis, repeats accumulating (np.add.at on the
    full coordinates index names)."""
    coords = list(np.indices(index.shape, sparse=True))
    coords[axis] = index
    np.add.at(out, tuple(coords), src)


def scatter_add(a: Any, index: np.ndarray, src: Any, axis: int) -> Any:
    """torch.scatter_add on Values or arrays (a node of the graph when any is a Value)."""
    if isinstance(a, Value) or isinstance(src, Value):
        return apply(SCATTER_ADD, a, src, index=index, axis=axis)
    return _scatter_add(a, src, index, axis)


def gather(a: Any, index: np.ndarray, axis: int) -> Any:
    if isinstance(a, Value):
        return apply(GATHER, a, index=index, axis=axis)
    return _gather(a, index, axis)


def _zeros_like(x: Any) -> np.ndarray:
    d = _data(x)
    return np.zeros(np.shape(d), dtype=d.dtype if isinstance(d, np.ndarray) else np.float64)


def _gather_vjp(g: Any, ans: Any, a: Any, index: np.ndarray, axis: int) -> Any:
    """g added back at the positions gathered from: a scatter into zeros."""
    return scatter_add(_zeros_like(a), index, g, axis)


def _scatter_src_vjp(g: Any, ans: Any, a: Any, src: Any, index: np.ndarray, axis: int) -> Any:
    """Each src entry went to one position: it gets g there (a gather), zero beyond index's
    block (torch reads only index's shape of src)."""
    picked = gather(g, index, axis)
    if _shape(src) == index.shape:
        return picked
    pad = [(0, s - n) for s, n in zip(_shape(src), index.shape)]
    return _pad_zeros(picked, pad)


def _pad_zeros(x: Any, pad: list[tuple[int, int]]) -> Any:
    """x followed by zeros along each axis (`pad`: (0, extra) per axis)."""
    if not isinstance(x, Value):
        return np.pad(x, pad)
    for axis, (_, extra) in enumerate(pad):
        if extra:
            shape = list(x.shape)
            shape[axis] = extra
            x = concatenate_values([x, np.zeros(shape, dtype=x.dtype)], axis=axis)
    return x


def _index_select(a: Any, index: np.ndarray, axis: int) -> Any:
    return np.take(a, index, axis=axis)


def _index_select_vjp(g: Any, ans: Any, a: Any, index: np.ndarray, axis: int) -> Any:
    """Each picked slice's gradient added back to its row (repeats accumulate)."""
    shape = [1] * len(_shape(a))
    shape[axis] = index.size
    full = np.broadcast_to(index.reshape(shape), _shape(g))
    return scatter_add(_zeros_like(a), np.ascontiguousarray(full), g, axis)


def _masked_fill(a: Any, mask: np.ndarray, value: float) -> Any:
    out = np.where(mask, value, a)
    return out.astype(np.asarray(a).dtype) if isinstance(a, np.ndarray) else float(out)


def _keep(mask: np.ndarray, like: Any) -> Any:
    d = _data(like)
    keep = ~np.broadcast_to(mask, np.shape(d))
    return float(keep) if keep.ndim == 0 else keep.astype(
        d.dtype if isinstance(d, np.ndarray) else np.float64)


# ---- the table ----------------------------------------------------------------------------------
GATHER = defop("gather", _gather, _gather_vjp,
               jvp=(lambda t, ans, a, index, axis: gather(t, index, axis),))
SCATTER_ADD = defop("scatter_add", _scatter_add,
                    lambda g, ans, a, src, index, axis: g,
                    _scatter_src_vjp,
                    jvp=(lambda t, ans, a, src, index, axis: t,
                         lambda t, ans, a, src, index, axis: scatter_add(
                             _zeros_like(ans), index, t, axis)))
INDEX_SELECT = defop("index_select", _index_select, _index_select_vjp,
                     jvp=(lambda t, ans, a, index, axis: _index_take(t, index, axis),))
MASKED_FILL = defop("masked_fill", _masked_fill,
                    lambda g, ans, a, mask, value: g * _keep(mask, ans),
                    jvp=(lambda t, ans, a, mask, value: t * _keep(mask, ans),))


def _index_take(t: Any, index: np.ndarray, axis: int) -> Any:
    return apply(INDEX_SELECT, t, index=index, axis=axis) if isinstance(t, Value) else np.take(
        t, index, axis=axis)


# ---- Value methods (torch's argument order: dim, then index) ------------------------------------
def _tensor(x: Value, op: str) -> None:
    if x.is_scalar:
        raise TypeError(f"{op} needs a tensor, got a scalar Value")


def gather_method(self: Value, dim: int, index: Any) -> Value:
    """out[i][j] = self[index[i][j]][j] for dim 0 (torch.gather): index has self's number of
    dimensions, and no side longer than self's except along dim."""
    _tensor(self, "gather")
    axis = check_axis("gather", dim, self.ndim)
    idx = check_index("gather", index)
    if idx.ndim != self.ndim:
        raise ValueError(f"gather: index has {idx.ndim} dimensions, expected {self.ndim} "
                         f"(as the input, shape {self.shape})")
    if any(n > s for i, (n, s) in enumerate(zip(idx.shape, self.shape)) if i != axis):
        raise ValueError(f"gather: index of shape {idx.shape} is larger than the input "
                         f"{self.shape} outside dim {axis}")
    if idx.size and (idx.min() < -self.shape[axis] or idx.max() >= self.shape[axis]):
        raise IndexError(f"gather: index out of range for dim {axis} of size "
                         f"{self.shape[axis]}")
    small = tuple(slice(0, n) if i != axis else slice(None) for i, n in enumerate(idx.shape))
    source = self if idx.shape[:axis] + idx.shape[axis + 1:] == (
        self.shape[:axis] + self.shape[axis + 1:]) else self[small]
    return apply(GATHER, source, index=idx % self.shape[axis], axis=axis)


def scatter_add_method(self: Value, dim: int, index: Any, src: Any) -> Value:
    """A copy of self with src's entries added at index along dim (torch.scatter_add)."""
    _tensor(self, "scatter_add")
    axis = check_axis("scatter_add", dim, self.ndim)
    idx = check_index("scatter_add", index)
    src = src if isinstance(src, Value) else Value(src)
    if idx.ndim != self.ndim or src.ndim != self.ndim:
        raise ValueError(f"scatter_add: index ({idx.ndim}-d) and src ({src.ndim}-d) need the "
                         f"input's {self.ndim} dimensions")
    if any(n > s for n, s in zip(idx.shape, src.shape)) or any(
            n > s for i, (n, s) in enumerate(zip(idx.shape, self.shape)) if i != axis):
        raise ValueError(f"scatter_add: index of shape {idx.shape} must fit in src "
                         f"{src.shape} and, outside dim {axis}, in the input {self.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= self.shape[axis]):
        raise IndexError(f"scatter_add: index out of range for dim {axis} of size "
                         f"{self.shape[axis]}")
    return apply(SCATTER_ADD, self, src, index=idx, axis=axis)


def index_select_method(self: Value, dim: int, index: Any) -> Value:
    """The slices of self at `index` (a 1-d integer array) along dim (torch.index_select)."""
    _tensor(self, "index_select")
    axis = check_axis("index_select", dim, self.ndim)
    idx = check_index("index_select", index)
    if idx.ndim > 1:
        raise ValueError(f"index_select takes a 1-d index, got shape {idx.shape}")
    idx = idx.reshape(-1)
    if idx.size and (idx.min() < -self.shape[axis] or idx.max() >= self.shape[axis]):
        raise IndexError(f"index_select: index out of range for dim {axis} of size "
                         f"{self.shape[axis]}")
    return apply(INDEX_SELECT, self, index=idx % self.shape[axis], axis=axis)


def masked_fill_method(self: Value, mask: Any, value: float) -> Value:
    """self with `value` where mask is true (mask: booleans broadcasting to self's shape);
    no gradient flows through the filled entries (torch.masked_fill)."""
    m = np.asarray(_data(mask))
    if m.dtype != bool:
        raise TypeError(f"masked_fill takes a boolean mask, got an array of {m.dtype}")
    try:
        np.broadcast_shapes(m.shape, self.shape)
        if np.broadcast_shapes(m.shape, self.shape) != self.shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"masked_fill: a mask of shape {m.shape} does not broadcast to the "
                         f"input's shape {self.shape}") from None
    if isinstance(value, Value):
        if value.size != 1:
            raise ValueError("masked_fill takes a number (or a one-element tensor) as value")
        value = value.item()
    return apply(MASKED_FILL, self, mask=m, value=float(value))


Value.gather = gather_method
Value.scatter_add = scatter_add_method
Value.index_select = index_select_method
Value.masked_fill = masked_fill_method
