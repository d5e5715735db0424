"""torch's shape methods: squeeze unsqueeze permute view flatten expand repeat flip roll
triu tril, `pad` (constant, reflect, replicate, circular), and dtype conversion (astype,
float, double).

Several are the existing rows under torch's names: squeeze, unsqueeze, view and flatten are
a reshape, permute a transpose, expand a broadcast_to, so their gradients need no rule of
their own. The new rows are repeat, flip, roll, triu, tril, pad and astype; each is linear,
so its JVP is the map itself applied to the tangent, and its VJP the adjoint map (flip back,
roll back, sum the tiles, add each padded copy back to the entry it copied).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _data, _shape
from .indexing import check_axis, scatter_add
from .shape import to_scalar


def _ints(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Sizes or dims given as ints or as one tuple/list (torch accepts both)."""
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    out = []
    for a in args:
        if not isinstance(a, int | np.integer) or isinstance(a, bool):
            raise TypeError(f"expected integers, got {a!r}")
        out.append(int(a))
    return tuple(out)


def _tensor(x: Value, op: str) -> None:
    if not isinstance(x, Value):
        raise TypeError(f"{op} takes a Value, got {type(x).__name__}")
    if x.is_scalar:
        raise TypeError(f"{op} needs a tensor, got a scalar Value (make one with Value([x]))")


# ---- rows: flip, roll, triu, tril, the constant pad, astype ----------------------------------------
def flip(x: Any, axes: tuple[int, ...]) -> Any:
    return apply(FLIP, x, axes=axes) if isinstance(x, Value) else np.flip(x, axes)


def roll(x: Any, shifts: tuple[int, ...], axes: tuple[int, ...] | None) -> Any:
    if isinstance(x, Value):
        return apply(ROLL, x, shifts=shifts, axes=axes)
    return np.roll(x, shifts, axes)


def _roll_back(g: Any, shifts: tuple[int, ...], axes: Any) -> Any:
    return roll(g, tuple(-s for s in shifts), axes)


def _tri(upper: bool) -> Any:
    def f(x: Any, diagonal: int = 0) -> Any:
        if isinstance(x, Value):
            return apply(TRIU if upper else TRIL, x, diagonal=diagonal)
        return np.triu(x, diagonal) if upper else np.tril(x, diagonal)
    return f


triu_any, tril_any = _tri(True), _tri(False)


_NP_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
             "circular": "wrap"}


def _pad(a: Any, pad: tuple[tuple[int, int], ...], mode: str = "constant",
         value: float = 0.0) -> Any:
    if mode == "constant":
        return np.pad(a, pad, mode="constant", constant_values=value)
    return np.pad(a, pad, mode=_NP_MODES[mode])


def _pad_vjp(g: Any, ans: Any, a: Any, pad: tuple[tuple[int, int], ...],
             mode: str = "constant", value: float = 0.0) -> Any:
    """The padded output copies input entries (and constants): each input entry gets the
    sum of g over its copies. Constant: the inner block of g. The other modes: axis by axis,
    g added back at the input position each padded position copied (a scatter)."""
    if mode == "constant":
        return g[tuple(slice(b, n - e) for (b, e), n in zip(pad, _shape(g)))]
    shape = list(_shape(g))
    for axis, (before, after) in enumerate(pad):
        if before or after:
            n = shape[axis] - before - after
            source = _source(mode, n, before, after, axis)
            shape[axis] = n
            g = scatter_add(np.zeros(shape, dtype=np.asarray(_data(g)).dtype),
                            _along(source, axis, _shape(g)), g, axis)
    return g


def _along(index: np.ndarray, axis: int, shape: tuple[int, ...]) -> np.ndarray:
    """A 1-d index along `axis`, broadcast to `shape` (as scatter_add takes it)."""
    s = [1] * len(shape)
    s[axis] = index.size
    return np.ascontiguousarray(np.broadcast_to(index.reshape(s), shape))


def pad_any(x: Any, pad: tuple[tuple[int, int], ...], mode: str = "constant") -> Any:
    if isinstance(x, Value):
        return apply(PAD, x, pad=pad, mode=mode)
    return _pad(x, pad, mode)


# ---- repeat: np.tile; its adjoint sums the tiles ---------------------------------------------------
def _repeat(a: Any, reps: tuple[int, ...]) -> Any:
    return np.tile(a, reps)


def _repeat_vjp(g: Any, ans: Any, a: Any, reps: tuple[int, ...]) -> Any:
    """Each input entry appears once per tile: its gradient is g summed over the tiles."""
    shape = (1,) * (len(reps) - len(_shape(a))) + _shape(a)
    split = tuple(n for r, s in zip(reps, shape) for n in (r, s))
    summed = g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2)))
    return summed.reshape(_shape(a))


def repeat_any(x: Any, reps: tuple[int, ...]) -> Any:
    return apply(REPEAT, x, reps=reps) if isinstance(x, Value) else np.tile(x, reps)


def astype_any(x: Any, dtype: np.dtype) -> Any:
    if isinstance(x, Value):
        return x if x.dtype == dtype else apply(ASTYPE, x, dtype=dtype)
    if type(x) is float and dtype == np.float64:
        return x
    return np.asarray(x).astype(dtype)


def _astype(a: Any, dtype: np.dtype) -> Any:
    return np.asarray(a).astype(dtype)


def _astype_back(g: Any, ans: Any, a: Any, dtype: np.dtype) -> Any:
    """The gradient in the input's dtype (a float for a scalar input)."""
    d = _data(a)
    if type(d) is float:
        return to_scalar(astype_any(g, np.dtype(np.float64))) if isinstance(g, Value) else float(g)
    return astype_any(g, d.dtype)


FLIP = defop("flip", lambda a, axes: np.flip(a, axes).copy(),
             lambda g, ans, a, axes: flip(g, axes),
             jvp=(lambda t, ans, a, axes: flip(t, axes),))
ROLL = defop("roll", lambda a, shifts, axes: np.roll(a, shifts, axes),
             lambda g, ans, a, shifts, axes: _roll_back(g, shifts, axes),
             jvp=(lambda t, ans, a, shifts, axes: roll(t, shifts, axes),))
TRIU = defop("triu", lambda a, diagonal=0: np.triu(a, diagonal),
             lambda g, ans, a, diagonal=0: triu_any(g, diagonal),
             jvp=(lambda t, ans, a, diagonal=0: triu_any(t, diagonal),))
TRIL = defop("tril", lambda a, diagonal=0: np.tril(a, diagonal),
             lambda g, ans, a, diagonal=0: tril_any(g, diagonal),
             jvp=(lambda t, ans, a, diagonal=0: tril_any(t, diagonal),))
PAD = defop("pad", _pad, _pad_vjp,
            jvp=(lambda t, ans, a, pad, mode="constant", value=0.0: pad_any(t, pad, mode),))
REPEAT = defop("repeat", _repeat, _repeat_vjp,
               jvp=(lambda t, ans, a, reps: repeat_any(t, reps),))
ASTYPE = defop("astype", _astype, _astype_back,
               jvp=(lambda t, ans, a, dtype: astype_any(t, dtype),))


# ---- Value methods -------------------------------------------------------------------------------
def squeeze(self: Value, dim: Any = None) -> Value:
    """Drop axes of size 1 (only `dim`'s, when given: a no-op if it is not 1, as torch)."""
    _tensor(self, "squeeze")
    if dim is None:
        dims = {i for i, n in enumerate(self.shape) if n == 1}
    else:
        given = dim if isinstance(dim, tuple | list) else (dim,)
        dims = {check_axis("squeeze", d, self.ndim) for d in given}
        dims = {d for d in dims if self.shape[d] == 1}
    return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in dims))


def unsqueeze(self: Value, dim: int) -> Value:
    """A new axis of size 1 at `dim` (-ndim-1 <= dim <= ndim, as torch)."""
    n = self.ndim + 1
    if not isinstance(dim, int | np.integer) or not -n <= dim < n:
        raise IndexError(f"unsqueeze: dim {dim!r} is out of range for a result of {n} "
                         f"dimensions (expected -{n} <= dim < {n})")
    shape = list(self.shape)
    shape.insert(int(dim) % n, 1)
    return self.reshape(tuple(shape))


def permute(self: Value, *dims: Any) -> Value:
    """The axes in the order `dims` (a permutation of 0..ndim-1, negatives allowed)."""
    _tensor(self, "permute")
    d = _ints(dims)
    if sorted(x % self.ndim if -self.ndim <= x < self.ndim else -1 for x in d) != list(
            range(self.ndim)):
        raise ValueError(f"permute needs a permutation of the {self.ndim} dims of shape "
                         f"{self.shape}, got {d}")
    return self.transpose(*d)


def view(self: Value, *shape: Any) -> Value:
    """The same numbers in a new shape (torch.view; -1 infers one axis)."""
    s = _ints(shape)
    if int(np.prod([n for n in s if n != -1])) and (s.count(-1) > 1 or (
            -1 not in s and int(np.prod(s)) != self.size)):
        raise ValueError(f"view: shape {s} is invalid for a tensor of {self.size} elements "
                         f"(shape {self.shape})")
    return self.reshape(s)


def flatten(self: Value, start_dim: int = 0, end_dim: int = -1) -> Value:
    """Axes start_dim..end_dim merged into one (torch.flatten)."""
    if self.is_scalar:
        return self.reshape(1)
    a = check_axis("flatten", start_dim, self.ndim)
    b = check_axis("flatten", end_dim, self.ndim)
    if a > b:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    s = self.shape
    return self.reshape(s[:a] + (int(np.prod(s[a:b + 1])),) + s[b + 1:])


def expand(self: Value, *sizes: Any) -> Value:
    """A broadcast view to `sizes` (-1 keeps an axis); the gradient is summed back."""
    s = _ints(sizes)
    lead = len(s) - self.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(s)} sizes for a tensor of {self.ndim} dimensions")
    full = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(s))
    try:
        np.broadcast_shapes(self.shape, full)
    except ValueError:
        raise ValueError(f"expand: shape {self.shape} cannot expand to {s} (only axes of "
                         "size 1 grow)") from None
    return self.broadcast_to(full)


def repeat(self: Value, *sizes: Any) -> Value:
    """Tile the tensor `sizes` times along each axis (torch.repeat, np.tile)."""
    reps = _ints(sizes)
    if len(reps) < self.ndim:
        raise ValueError(f"repeat: {len(reps)} repeats for a tensor of {self.ndim} dims "
                         "(torch needs at least one per dim)")
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: repeats must be non-negative, got {reps}")
    return apply(REPEAT, self, reps=reps)


def flip_method(self: Value, *dims: Any) -> Value:
    """The entries in reverse order along `dims` (torch.flip)."""
    _tensor(self, "flip")
    axes = tuple(sorted({check_axis("flip", d, self.ndim) for d in _ints(dims)}))
    return apply(FLIP, self, axes=axes)


def roll_method(self: Value, shifts: Any, dims: Any = None) -> Value:
    """Entries shifted cyclically by `shifts` along `dims` (flattened when None, as torch)."""
    _tensor(self, "roll")
    sh = _ints((shifts,)) if not isinstance(shifts, tuple | list) else _ints(tuple(shifts))
    if dims is None:
        if len(sh) != 1:
            raise ValueError("roll without dims takes one shift")
        return apply(ROLL, self, shifts=sh, axes=None)
    ds = _ints((dims,)) if not isinstance(dims, tuple | list) else _ints(tuple(dims))
    if len(ds) != len(sh):
        raise ValueError(f"roll: {len(sh)} shifts for {len(ds)} dims")
    return apply(ROLL, self, shifts=sh, axes=tuple(check_axis("roll", d, self.ndim) for d in ds))


def _tri_method(upper: bool) -> Any:
    name = "triu" if upper else "tril"

    def method(self: Value, diagonal: int = 0) -> Value:
        if self.ndim < 2:
            raise ValueError(f"{name} needs a matrix (or a batch of them), got shape "
                             f"{self.shape}")
        return apply(TRIU if upper else TRIL, self, diagonal=int(diagonal))
    method.__name__ = name
    method.__doc__ = (f"The {'upper' if upper else 'lower'} triangle of the last two axes "
                      f"(on and {'above' if upper else 'below'} diagonal `diagonal`), zeros "
                      "elsewhere")
    return method


def astype(self: Value, dtype: Any) -> Value:
    """The data in another float dtype; the gradient comes back in the input's dtype."""
    dt = np.dtype(dtype)
    if dt.kind != "f" or dt.itemsize < 4:
        raise TypeError(f"astype converts between float32 and float64, got {dt} (integer "
                        "results have no gradient: use v.data.astype)")
    if self.is_scalar and dt == np.float64:
        return self
    return apply(ASTYPE, self, dtype=dt)


Value.squeeze = squeeze
Value.unsqueeze = unsqueeze
Value.permute = permute
Value.view = view
Value.flatten = flatten
Value.expand = expand
Value.repeat = repeat
Value.flip = flip_method
Value.roll = roll_method
Value.triu = _tri_method(True)
Value.tril = _tri_method(False)
Value.astype = astype
Value.float = lambda self: astype(self, np.float32)
Value.float.__doc__ = "the data as float32 (torch.Tensor.float)"
Value.double = lambda self: astype(self, np.float64)
Value.double.__doc__ = "the data as float64 (torch.Tensor.double)"


# ---- pad ---------------------------------------------------------------------------------------------
_MODES = ("constant", "reflect", "replicate", "circular")


def pad(x: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Value:
    """torch.nn.functional.pad: `pad` lists (before, after) pairs from the LAST axis
    backwards, (left, right, top, bottom, ...). `constant` fills with `value`; `reflect`
    mirrors without repeating the edge; `replicate` repeats the edge; `circular` wraps."""
    x = x if isinstance(x, Value) else Value(x)
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    p = _ints(tuple(pad))
    if len(p) % 2 or len(p) // 2 > x.ndim:
        raise ValueError(f"pad: needs an even number of sizes, at most 2 per dim of the "
                         f"{x.ndim}-d input; got {len(p)}")
    if any(n < 0 for n in p):
        raise ValueError(f"pad: negative padding {p} is not supported (slice instead)")
    pairs = [(0, 0)] * x.ndim
    for k in range(len(p) // 2):
        pairs[x.ndim - 1 - k] = (p[2 * k], p[2 * k + 1])
    if mode == "constant":
        if value:
            return apply(PAD, x, pad=tuple(pairs), value=float(value))
        return apply(PAD, x, pad=tuple(pairs))
    for axis, (before, after) in enumerate(pairs):
        _source(mode, x.shape[axis], before, after, axis)  # (checks the sizes)
    return apply(PAD, x, pad=tuple(pairs), mode=mode)


def _source(mode: str, n: int, before: int, after: int, axis: int) -> np.ndarray:
    """For each position of a padded axis, the input position it copies."""
    if mode == "reflect" and (before >= n or after >= n):
        raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than the "
                         f"size {n} of dim {axis}")
    if mode == "circular" and (before > n or after > n):
        raise ValueError(f"pad: circular padding ({before}, {after}) must be at most the "
                         f"size {n} of dim {axis}")
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1) if n > 1 else 1  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
    j = np.abs(i) % period
    return np.where(j < n, j, period - j)


def pad_numpy(a: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0.0
              ) -> Value:
    """np.pad on a Value: numpy's (before, after) per axis and its mode names."""
    x = a if isinstance(a, Value) else Value(a)
    modes = {"constant": "constant", "reflect": "reflect", "edge": "replicate",
             "wrap": "circular"}
    if mode not in modes:
        raise TypeError(f"np.pad on a Value takes the modes {', '.join(modes)}, got {mode!r}")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    flat = tuple(int(n) for pair in widths[::-1] for n in pair)
    return pad(x, flat, modes[mode], constant_values)
