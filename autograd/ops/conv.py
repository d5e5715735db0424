"""Convolution and pooling over 1-D and 2-D signals, in torch.nn.functional's layouts.

A convolution is a neuron sliding over the image: each output element is the sum of the
kernel × the patch under it, plus the bias. Computed as im2col: a strided view of every
patch (`sliding_window_view`, no copy), laid out as rows of one matrix, times the kernels as
columns — one matrix product for the whole batch.

The gradients are convolutions too. For y = conv(x, w):
    dL/dx = conv_transpose(g, w)   (each patch's share of g @ w, added back where it came from)
    dL/dw = conv_weight(x, g)      (the patches weighted by g, summed over batch and positions)
Those three maps are the three faces of one trilinear form <conv(x, w), g>, so the VJPs of
each are the other two: every one is a row of the derivative table, and any order of
derivative is available. Pooling likewise: max pooling sends g to each window's first
maximal entry (torch's choice on ties) and that scatter's adjoint is the matching gather;
average pooling's adjoint spreads g/k² back over each window.

Adding patches back (col2im) is a loop over the kernel's offsets — k² strided slice
additions — never over the batch or the pixels, and without np.add.at.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..engine import Value, apply, defop
from ._common import _channel_sum, _data, _shape
from ._saved import keep, kept

Pair = int | tuple[int, ...]


# ---- geometry -----------------------------------------------------------------------------
def _out_size(size: tuple[int, ...], k: tuple[int, ...], stride: tuple[int, ...],
              padding: tuple[int, ...]) -> tuple[int, ...]:
    return tuple((n + 2 * p - kk) // s + 1 for n, kk, s, p in zip(size, k, stride, padding))


def _pad(x: np.ndarray, padding: tuple[int, ...]) -> np.ndarray:
    """x (N, C, *S) with `padding` zeros on both sides of each spatial axis."""
    if not any(padding):
        return x
    n, c, *size = x.shape
    xp = np.zeros((n, c, *(s + 2 * p for s, p in zip(size, padding))), dtype=x.dtype)
    xp[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, size))] = x
    return xp


def _windows(xp: np.ndarray, k: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """Every patch of xp (N, C, *S) as a view (N, C, *out, *k): no copy."""
    d = len(k)
    v = sliding_window_view(xp, k, axis=tuple(range(2, 2 + d)))
    return v[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]


def _runs(size: tuple[int, ...], k: tuple[int, ...], stride: tuple[int, ...],
          padding: tuple[int, ...]) -> bool:
    """True when _im2col lays the patches out as runs of the flattened image (see there)."""
    return len(k) == 2 and stride == (1, 1) and size[1] + 2 * padding[1] - k[1] < 12


def _im2col(x: np.ndarray, k: tuple[int, ...], stride: tuple[int, ...],
            padding: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...], int]:
    """The patches as columns, one matrix per sample: (N, C·K, L); the output spatial size;
    and the width of the columns' rows (the output width, or more: see below).

    A 2-D stride-1 convolution takes each kernel offset's patch entries as one long run of
    the padded image flattened row by row: output (i, j) sits at i·Wp + j of every run, and
    the Wp - OW positions past each row's end are junk the caller drops. For narrow outputs
    copying a few long runs beats copying OH·OW patch rows of width OW (measured: 2× on
    4×4, 1.5× on 8×8); from about 12 wide the plain copy wins (2.5× on 28×28)."""
    d = len(k)
    if _runs(x.shape[2:], k, stride, padding):
        n, c, h, w = x.shape
        (ph, pw), (kh, kw) = padding, k
        wp = w + 2 * pw
        oh, ow = h + 2 * ph - kh + 1, wp - kw + 1
        xp = np.zeros((n, c, h + 2 * ph + 1, wp), dtype=x.dtype)  # a spare row for the runs
        xp[:, :, ph:ph + h, pw:pw + w] = x
        flat = xp.reshape(n, c, -1)
        span = oh * wp
        cols = np.empty((n, c, kh * kw, span), dtype=x.dtype)
        for i, (r, q) in enumerate(np.ndindex(kh, kw)):
            cols[:, :, i] = flat[:, :, r * wp + q:r * wp + q + span]
        return cols.reshape(n, c * kh * kw, span), (oh, ow), wp
    win = _windows(_pad(x, padding), k, stride)
    out = win.shape[2:2 + d]
    cols = win.transpose((0, 1, *range(2 + d, 2 + 2 * d), *range(2, 2 + d)))
    return cols.reshape(x.shape[0], -1, math.prod(out)), out, out[-1]


def _col2im(dcols: np.ndarray, shape: tuple[int, ...], k: tuple[int, ...],
            stride: tuple[int, ...], padding: tuple[int, ...],
            out: tuple[int, ...]) -> np.ndarray:
    """The adjoint of _im2col: each column entry added back at the input position it was
    copied from, in the same layout (runs, or one patch per output position): k² slice
    additions, never a loop over the batch or the pixels, and no np.add.at."""
    n, c, *size = shape
    if _runs(tuple(size), k, stride, padding):
        (h, w), (ph, pw), (kh, kw) = size, padding, k
        wp = w + 2 * pw
        span = dcols.shape[-1]
        runs = dcols.reshape(n, c, kh * kw, span)
        flat = np.zeros((n, c, (h + 2 * ph + 1) * wp), dtype=dcols.dtype)
        for i, (r, q) in enumerate(np.ndindex(kh, kw)):
            flat[:, :, r * wp + q:r * wp + q + span] += runs[:, :, i]
        return flat.reshape(n, c, -1, wp)[:, :, ph:ph + h, pw:pw + w]
    cols = dcols.reshape(n, c, *k, *out)
    return _fold(lambda off: cols[(slice(None), slice(None), *off)], shape, k, stride,
                 padding, out, dcols.dtype)


def _widen(g: np.ndarray, width: int) -> np.ndarray:
    """g (N, O, *out) as the columns' layout (N, O, L): rows of `width`, zeros past the
    output's own width (the junk positions of _im2col's runs contribute nothing)."""
    n, o, *out = g.shape
    if width != out[-1]:
        wide = np.zeros((n, o, *out[:-1], width), dtype=g.dtype)
        wide[..., :out[-1]] = g
        g = wide
    return g.reshape(n, o, -1)


def _fold(part: Callable[[tuple[int, ...]], np.ndarray], shape: tuple[int, ...],
          k: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...],
          out: tuple[int, ...], dtype: Any) -> np.ndarray:
    """col2im: a zero array of `shape` (N, C, *S) with, for every kernel offset o, part(o)
    (N, C, *out) added at the positions that offset touched. Overlaps accumulate."""
    n, c, *size = shape
    xp = np.zeros((n, c, *(s + 2 * p for s, p in zip(size, padding))), dtype=dtype)
    for o in np.ndindex(*k):
        xp[_at(o, stride, out)] += part(o)
    if not any(padding):
        return xp
    return xp[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, size))]


# ---- the three faces of the convolution ------------------------------------------------------
def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
          stride: tuple[int, ...], padding: tuple[int, ...]) -> np.ndarray:
    """y[n, o, i] = Σ_c,k x_padded[n, c, i·s + k] w[o, c, k] + b[o] (cross-correlation):
    the kernels as rows (C_out, C·K) times each sample's patch columns."""
    cols, out, width = _im2col(x, w.shape[2:], stride, padding)
    y = np.matmul(w.reshape(w.shape[0], -1), cols)  # (N, C_out, L)
    if b is not None:
        y += b[:, None]
    y = y.reshape(y.shape[:2] + out[:-1] + (width,))
    if width != out[-1]:
        y = np.ascontiguousarray(y[..., :out[-1]])
    keep(y, (cols, width))  # the weight gradient is these patches weighted by g
    return y


def _conv_transpose(g: np.ndarray, w: np.ndarray, *, stride: tuple[int, ...],
                    padding: tuple[int, ...], size: tuple[int, ...]) -> np.ndarray:
    """The adjoint of conv in x: every position's patch gradient wᵀ g in one matrix
    product, (C·K, C_out) @ (N, C_out, L), then added back where the patch came from."""
    n, o = g.shape[:2]
    k = w.shape[2:]
    out = g.shape[2:]
    width = _im2col_width(size, k, stride, padding, out)
    dcols = np.matmul(w.reshape(o, -1).T, _widen(g, width))
    return _col2im(dcols, (n, w.shape[1], *size), k, stride, padding, out)


def _im2col_width(size: tuple[int, ...], k: tuple[int, ...], stride: tuple[int, ...],
                  padding: tuple[int, ...], out: tuple[int, ...]) -> int:
    """The width of _im2col's rows for this geometry: the padded width for runs."""
    return size[-1] + 2 * padding[-1] if _runs(size, k, stride, padding) else out[-1]


def _weight_grad(cols: np.ndarray, width: int, g: np.ndarray,
                 wshape: tuple[int, ...]) -> np.ndarray:
    """Σ over batch and positions of g × the patch there: one matrix product."""
    dw = np.tensordot(_widen(g, width), cols, axes=([0, 2], [0, 2]))
    return dw.reshape(wshape)


def _conv_weight(x: np.ndarray, g: np.ndarray, *, stride: tuple[int, ...],
                 padding: tuple[int, ...], ksize: tuple[int, ...]) -> np.ndarray:
    """The adjoint of conv in w: every patch weighted by its g, summed over the batch."""
    cols, _, width = _im2col(x, ksize, stride, padding)
    return _weight_grad(cols, width, g, (g.shape[1], x.shape[1]) + ksize)


def _any_value(*xs: Any) -> bool:
    return any(isinstance(x, Value) for x in xs)


def conv_any(x: Any, w: Any, b: Any = None, **geometry: Any) -> Any:
    """conv on raw arrays, or a node of the graph when any input is a Value."""
    if _any_value(x, w, b):
        op = CONV[len(_shape(w)) - 2]
        return apply(op, x, w, **geometry) if b is None else apply(op, x, w, b, **geometry)
    return _conv(x, w, b, **geometry)


def conv_transpose_any(g: Any, w: Any, **geometry: Any) -> Any:
    if _any_value(g, w):
        return apply(CONV_TRANSPOSE[len(_shape(w)) - 2], g, w, **geometry)
    return _conv_transpose(g, w, **geometry)


def conv_weight_any(x: Any, g: Any, **geometry: Any) -> Any:
    if _any_value(x, g):
        return apply(CONV_WEIGHT[len(_shape(x)) - 2], x, g, **geometry)
    return _conv_weight(x, g, **geometry)


def _conv_vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any = None, *, stride: Any,
                padding: Any) -> Any:
    return conv_transpose_any(g, w, stride=stride, padding=padding, size=_shape(x)[2:])


def _conv_vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any = None, *, stride: Any,
                padding: Any) -> Any:
    saved = kept(ans) if type(g) is np.ndarray else None
    if saved is not None:  # the forward's patches: no second im2col
        return _weight_grad(saved[0], saved[1], g, _shape(w))
    return conv_weight_any(x, g, stride=stride, padding=padding, ksize=_shape(w)[2:])


def _conv_vjp_b(g: Any, ans: Any, x: Any, w: Any, b: Any = None, **geometry: Any) -> Any:
    if type(g) is np.ndarray:
        return _channel_sum(g)
    return g.sum(axis=(0, *range(2, len(_shape(g)))))


def _conv_transpose_vjp_g(h: Any, ans: Any, g: Any, w: Any, *, stride: Any, padding: Any,
                          size: Any) -> Any:
    return conv_any(h, w, stride=stride, padding=padding)


def _conv_transpose_vjp_w(h: Any, ans: Any, g: Any, w: Any, *, stride: Any, padding: Any,
                          size: Any) -> Any:
    return conv_weight_any(h, g, stride=stride, padding=padding, ksize=_shape(w)[2:])


def _conv_weight_vjp_x(h: Any, ans: Any, x: Any, g: Any, *, stride: Any, padding: Any,
                       ksize: Any) -> Any:
    return conv_transpose_any(g, h, stride=stride, padding=padding, size=_shape(x)[2:])


def _conv_weight_vjp_g(h: Any, ans: Any, x: Any, g: Any, *, stride: Any, padding: Any,
                       ksize: Any) -> Any:
    return conv_any(x, h, stride=stride, padding=padding)


# ---- pooling -----------------------------------------------------------------------------------
def _at(o: tuple[int, ...], stride: tuple[int, ...], out: tuple[int, ...]) -> tuple[Any, ...]:
    """The strided slice of (N, C, *S) that kernel offset o covers, one entry per window."""
    return (slice(None), slice(None)) + tuple(
        slice(oi, oi + si * (m - 1) + 1, si) for oi, si, m in zip(o, stride, out))


def _pool_out(shape: tuple[int, ...], ksize: tuple[int, ...],
              stride: tuple[int, ...]) -> tuple[int, ...]:
    return _out_size(shape[2:], ksize, stride, (0,) * len(ksize))


def _tiles(shape: tuple[int, ...], ksize: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """True when the windows tile the input exactly (stride = window, sizes divisible)."""
    return ksize == stride and all(n % k == 0 for n, k in zip(shape[2:], ksize))


def _max_pool(x: np.ndarray, *, ksize: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """The max of each window, as a running maximum over the kernel's strided offsets."""
    out = _pool_out(x.shape, ksize, stride)
    offsets = list(np.ndindex(*ksize))
    best = x[_at(offsets[0], stride, out)].copy()
    for o in offsets[1:]:
        np.maximum(best, x[_at(o, stride, out)], out=best)
    return best


def _route(g: np.ndarray, best: np.ndarray, x: np.ndarray, ksize: tuple[int, ...],
           stride: tuple[int, ...]) -> np.ndarray:
    """Max pooling's VJP on arrays, from what the forward left: its answer, each window's
    maximum. Offset by offset in the window's row-major order, g goes where x equals the
    maximum and no earlier offset took it (torch's first maximum on ties). Finding the
    index in the forward instead (a running argmax, or one argmax over the windows laid
    side by side) cost 3-7× more than this comparison; recomputing it in the backward pass
    was a quarter of the digits CNN's step."""
    out = g.shape[2:]
    free = np.ones(g.shape, dtype=bool)

    def part(o: tuple[int, ...], into: np.ndarray | None = None) -> np.ndarray:
        took = np.equal(x[_at(o, stride, out)], best)
        took &= free
        free[...] ^= took
        return np.multiply(g, took, out=into)

    if _tiles(x.shape, ksize, stride):  # the windows cover x once: each offset written
        dx = np.empty(x.shape, dtype=g.dtype)
        for o in np.ndindex(*ksize):
            part(o, dx[_at(o, stride, out)])
        return dx
    return _fold(part, x.shape, ksize, stride, (0,) * len(ksize), out, g.dtype)


def _running_max(x: np.ndarray, ksize: tuple[int, ...],
                 stride: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(max, index of the first maximal entry) of each window, over the kernel's offsets
    (the index is what the pooling's higher-order rules, scatter and gather, take)."""
    out = _pool_out(x.shape, ksize, stride)
    offsets = list(np.ndindex(*ksize))
    best = x[_at(offsets[0], stride, out)].copy()
    # (one byte per window while it fits: an eighth of the memory traffic of intp)
    index = np.zeros(best.shape, dtype=np.uint8 if len(offsets) <= 256 else np.intp)
    for i, o in enumerate(offsets[1:], 1):
        v = x[_at(o, stride, out)]
        better = v > best  # strictly: a tie keeps the earlier entry, as torch
        np.copyto(best, v, where=better)
        np.copyto(index, i, where=better)
    return best, index


def _argmax(x: np.ndarray, ksize: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """Each window's first maximal entry, as a flat (row-major) offset into the window."""
    return _running_max(x, ksize, stride)[1]


def _pool_scatter(g: np.ndarray, *, index: np.ndarray, shape: tuple[int, ...],
                  ksize: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """Each g entry added at its window's chosen entry (`index`): max pooling's VJP."""
    if _tiles(shape, ksize, stride):  # windows do not overlap: copy g into each offset
        dx = np.zeros(shape, dtype=g.dtype)
        for i, o in enumerate(np.ndindex(*ksize)):
            np.copyto(dx[_at(o, stride, g.shape[2:])], g, where=index == i)
        return dx
    flat = {o: i for i, o in enumerate(np.ndindex(*ksize))}
    zero = np.zeros((), dtype=g.dtype)
    return _fold(lambda o: np.where(index == flat[o], g, zero), shape, ksize, stride,
                 (0,) * len(ksize), g.shape[2:], g.dtype)


def _pool_gather(h: np.ndarray, *, index: np.ndarray, shape: tuple[int, ...],
                 ksize: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """Each window's chosen entry of h: the adjoint of _pool_scatter."""
    out = index.shape[2:]
    picked = np.zeros(index.shape, dtype=h.dtype)
    for i, o in enumerate(np.ndindex(*ksize)):
        np.copyto(picked, h[_at(o, stride, out)], where=index == i)
    return picked


def pool_scatter_any(g: Any, **how: Any) -> Any:
    return apply(POOL_SCATTER, g, **how) if isinstance(g, Value) else _pool_scatter(g, **how)


def pool_gather_any(h: Any, **how: Any) -> Any:
    return apply(POOL_GATHER, h, **how) if isinstance(h, Value) else _pool_gather(h, **how)


def _max_pool_vjp(g: Any, ans: Any, x: Any, *, ksize: Any, stride: Any) -> Any:
    if type(g) is np.ndarray and type(ans) is np.ndarray and type(x) is np.ndarray:
        return _route(g, ans, x, ksize, stride)
    index = _argmax(np.asarray(_data(x)), ksize, stride)
    return pool_scatter_any(g, index=index, shape=_shape(x), ksize=ksize, stride=stride)


def _avg_pool(x: np.ndarray, *, ksize: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """The mean of each window: the kernel's offsets summed, over the window size."""
    out = _pool_out(x.shape, ksize, stride)
    offsets = list(np.ndindex(*ksize))
    total = x[_at(offsets[0], stride, out)].copy()
    for o in offsets[1:]:
        total += x[_at(o, stride, out)]
    total /= math.prod(ksize)
    return total


def _avg_pool_backward(g: np.ndarray, *, shape: tuple[int, ...], ksize: tuple[int, ...],
                       stride: tuple[int, ...]) -> np.ndarray:
    """g / (window size) spread over each window: average pooling's VJP."""
    share = g / math.prod(ksize)
    return _fold(lambda o: share, shape, ksize, stride, (0,) * len(ksize), g.shape[2:],
                 share.dtype)


def _avg_pool_vjp(g: Any, ans: Any, x: Any, *, ksize: Any, stride: Any) -> Any:
    if isinstance(g, Value):
        return apply(AVG_POOL_BACKWARD[len(ksize)], g, shape=_shape(x), ksize=ksize,
                     stride=stride)
    return _avg_pool_backward(g, shape=_shape(x), ksize=ksize, stride=stride)


def _avg_pool_backward_vjp(h: Any, ans: Any, g: Any, *, shape: Any, ksize: Any,
                           stride: Any) -> Any:
    if isinstance(h, Value):
        return apply(AVG_POOL[len(ksize)], h, ksize=ksize, stride=stride)
    return _avg_pool(h, ksize=ksize, stride=stride)


# ---- the table ----------------------------------------------------------------------------------
CONV = {d: defop(f"conv{d}d", _conv, _conv_vjp_x, _conv_vjp_w, _conv_vjp_b) for d in (1, 2)}
CONV_TRANSPOSE = {d: defop(f"conv_transpose{d}d", _conv_transpose, _conv_transpose_vjp_g,
                           _conv_transpose_vjp_w) for d in (1, 2)}
CONV_WEIGHT = {d: defop(f"conv{d}d_weight", _conv_weight, _conv_weight_vjp_x,
                        _conv_weight_vjp_g) for d in (1, 2)}
MAX_POOL = {d: defop(f"max_pool{d}d", _max_pool, _max_pool_vjp) for d in (1, 2)}
POOL_SCATTER = defop("pool_scatter", _pool_scatter,
                     lambda h, ans, g, **how: pool_gather_any(h, **how))
POOL_GATHER = defop("pool_gather", _pool_gather,
                    lambda g, ans, h, **how: pool_scatter_any(g, **how))
AVG_POOL = {2: defop("avg_pool2d", _avg_pool, _avg_pool_vjp)}
AVG_POOL_BACKWARD = {2: defop("avg_pool2d_backward", _avg_pool_backward,
                              _avg_pool_backward_vjp)}


# ---- checking what the user passed -----------------------------------------------------------
_LAYOUT = {1: "(N, C, L)", 2: "(N, C, H, W)"}
_KERNEL = {1: "(C_out, C_in, K)", 2: "(C_out, C_in, KH, KW)"}


def _tuple(value: Any, d: int, what: str, fn: str, minimum: int) -> tuple[int, ...]:
    """An int or a d-tuple of ints ≥ minimum, as a d-tuple."""
    items = tuple(value) if isinstance(value, tuple | list) else (value,) * d
    ok = len(items) == d and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= minimum
        for v in items)
    if not ok:
        kind = "a positive integer" if minimum else "a non-negative integer"
        pair = " or a pair of them" if d == 2 else ""
        raise ValueError(f"{fn}: {what} must be {kind}{pair}, got {value!r}")
    return tuple(int(v) for v in items)


def _operand(x: Any, fn: str, name: str) -> Any:
    if isinstance(x, Value):
        if x.is_scalar:
            raise ValueError(f"{fn}: {name} must be a tensor, got a scalar Value")
        return x
    if isinstance(x, np.ndarray | list | tuple):
        arr = Value(x).data  # Value's own checks: numeric, rectangular
        if isinstance(arr, np.ndarray):
            return arr
    raise TypeError(f"{fn}: {name} must be a Value or an array, got {type(x).__name__}")


def _check_input(fn: str, x: Any, d: int) -> tuple[int, ...]:
    shape = _shape(x)
    if len(shape) != d + 2:
        raise ValueError(f"{fn} expects x of shape {_LAYOUT[d]} ({d + 2}-D: batch, channels, "
                         f"{'length' if d == 1 else 'height, width'}), got shape {shape}")
    return shape


def _check_fits(fn: str, shape: tuple[int, ...], k: tuple[int, ...],
                padding: tuple[int, ...], what: str = "kernel") -> None:
    padded = tuple(n + 2 * p for n, p in zip(shape[2:], padding))
    if any(kk > n for kk, n in zip(k, padded)):
        pad = f" padded by {padding}" if any(padding) else ""
        raise ValueError(f"{fn}: the {what} {k} is larger than the input's spatial size "
                         f"{padded} (x shape {shape}{pad}); expected a {what} of at most "
                         f"{padded}")


def _conv_nd(d: int, x: Any, w: Any, b: Any, stride: Pair, padding: Pair) -> Value:
    fn = f"conv{d}d"
    x, w = _operand(x, fn, "x"), _operand(w, fn, "w")
    xs, ws = _check_input(fn, x, d), _shape(w)
    if len(ws) != d + 2:
        raise ValueError(f"{fn} expects w of shape {_KERNEL[d]}, got shape {ws}")
    if xs[1] != ws[1]:
        raise ValueError(f"{fn}: x has {xs[1]} channels (shape {xs}) but w expects "
                         f"{ws[1]} input channels (w shape {ws}, laid out {_KERNEL[d]})")
    stride = _tuple(stride, d, "stride", fn, 1)
    padding = _tuple(padding, d, "padding", fn, 0)
    _check_fits(fn, xs, ws[2:], padding)
    if b is None:
        return apply(CONV[d], x, w, stride=stride, padding=padding)
    b = _operand(b, fn, "b")
    if _shape(b) != ws[:1]:
        raise ValueError(f"{fn}: b must have shape ({ws[0]},), one per output channel, "
                         f"got shape {_shape(b)}")
    return apply(CONV[d], x, w, b, stride=stride, padding=padding)


def _pool_nd(op: Any, fn: str, d: int, x: Any, kernel_size: Pair, stride: Pair | None) -> Value:
    x = _operand(x, fn, "x")
    xs = _check_input(fn, x, d)
    ksize = _tuple(kernel_size, d, "kernel_size", fn, 1)
    stride = ksize if stride is None else _tuple(stride, d, "stride", fn, 1)
    _check_fits(fn, xs, ksize, (0,) * d, "window")
    return apply(op, x, ksize=ksize, stride=stride)


# ---- the functions --------------------------------------------------------------------------------
def conv1d(x: Any, w: Any, b: Any = None, stride: Pair = 1, padding: Pair = 0) -> Value:
    """1-D convolution (cross-correlation, zero padding) of x (N, C_in, L) with kernels
    w (C_out, C_in, K), plus b (C_out,): torch.nn.functional.conv1d."""
    return _conv_nd(1, x, w, b, stride, padding)


def conv2d(x: Any, w: Any, b: Any = None, stride: Pair = 1, padding: Pair = 0) -> Value:
    """2-D convolution of x (N, C_in, H, W) with kernels w (C_out, C_in, KH, KW), plus b:
    out[n, o, i, j] = Σ_c,kh,kw w[o, c, kh, kw] × x[n, c, i·sh + kh, j·sw + kw] + b[o]
    (torch.nn.functional.conv2d; stride and padding an int or a pair)."""
    return _conv_nd(2, x, w, b, stride, padding)


def max_pool1d(x: Any, kernel_size: Pair, stride: Pair | None = None) -> Value:
    """The largest entry of each window of x (N, C, L); stride defaults to kernel_size."""
    return _pool_nd(MAX_POOL[1], "max_pool1d", 1, x, kernel_size, stride)


def max_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None) -> Value:
    """The largest entry of each window of x (N, C, H, W); the gradient goes to the first
    largest entry of each window, as torch's."""
    return _pool_nd(MAX_POOL[2], "max_pool2d", 2, x, kernel_size, stride)


def avg_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None) -> Value:
    """The mean of each window of x (N, C, H, W); stride defaults to kernel_size."""
    return _pool_nd(AVG_POOL[2], "avg_pool2d", 2, x, kernel_size, stride)
