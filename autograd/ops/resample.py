"""Convolution and pooling options, transposed convolution, adaptive pooling and
interpolation, as torch.nn.functional has them, built on the rows that exist.

- `groups` and `dilation` change the kernel, not the algorithm: a dilated kernel is the
  kernel with dilation - 1 zeros between its taps (a reshape and a pad), and a grouped
  convolution is one convolution with a block-diagonal kernel (each group's kernels
  scattered into its own channels: one scatter, no loop over groups). Either way the
  convolution stays one batched matrix product, and the gradients are those of the rows
  used (scatter, pad, reshape, conv). The price: the zeros are multiplied too (a grouped
  convolution does `groups` times the work of a dedicated kernel).
- ``padding="same"`` pads the input (asymmetrically when torch does) before the
  convolution; ``"valid"`` is no padding.
- `conv_transpose1d/2d` are the convolution's adjoint rows (conv.py), as public functions.
- Pools take `padding` (filled with -inf for max, 0 for avg, as torch) and `ceil_mode`
  (max pooling: extra -inf on the right so the last partial window counts).
- `adaptive_avg_pool1d/2d` and `interpolate` (nearest, linear, bilinear) are linear maps
  along each spatial axis: a small matrix per axis and a matmul, so their gradients are
  the matmul's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Value, apply
from .conv import CONV_TRANSPOSE, avg_pool2d, max_pool1d, max_pool2d
from .conv import conv1d as _plain_conv1d
from .conv import conv2d as _plain_conv2d
from .indexing import SCATTER_ADD
from .layout import pad as pad_value

Pair = int | tuple[int, ...]


def _tuple(x: Any, d: int, name: str, op: str) -> tuple[int, ...]:
    t = (x,) * d if isinstance(x, int | np.integer) else tuple(x)
    if len(t) != d or not all(isinstance(n, int | np.integer) for n in t):
        raise ValueError(f"{op}: {name} must be an int or {d} ints, got {x!r}")
    return tuple(int(n) for n in t)


def _value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


# ---- convolution with groups, dilation and string padding ----------------------------------
def _dilate(w: Value, dilation: tuple[int, ...]) -> Value:
    """The kernel with dilation - 1 zeros between taps along each spatial axis."""
    d = len(dilation)
    for i, rate in enumerate(dilation):
        if rate == 1:
            continue
        axis = w.ndim - d + i
        k = w.shape[axis]
        moved = w.unsqueeze(axis + 1)  # (..., k, 1, ...)
        widths = [0, 0] * (w.ndim - axis - 1) + [0, rate - 1]
        spread = pad_value(moved, tuple(widths))  # (..., k, rate, ...)
        shape = list(w.shape)
        shape[axis] = k * rate
        full = spread.reshape(tuple(shape))
        index = (slice(None),) * axis + (slice(0, (k - 1) * rate + 1),)
        w = full[index]
    return w


def _block_diagonal(w: Value, groups: int, channels: int) -> Value:
    """Kernels (O, C/g, *k) placed in a zero kernel (O, C, *k): output channel o of group j
    reads channels j·C/g .. (j+1)·C/g - 1 only."""
    o, cg = w.shape[0], w.shape[1]
    k = w.shape[2:]
    group_of = np.arange(o) // (o // groups)
    index = np.broadcast_to(group_of.reshape((o, 1, 1) + (1,) * len(k)),
                            (o, 1, cg) + k).copy()
    zeros = np.zeros((o, groups, cg) + k, dtype=w.dtype)
    placed = apply(SCATTER_ADD, zeros, w.reshape((o, 1, cg) + k), index=index, axis=1)
    return placed.reshape((o, channels) + k)


def _conv(d: int, x: Any, w: Any, b: Any, stride: Pair, padding: Any, dilation: Pair,
          groups: int) -> Value:
    op = f"conv{d}d"
    plain = _plain_conv1d if d == 1 else _plain_conv2d
    if groups == 1 and dilation in (1, (1,) * d) and not isinstance(padding, str):
        return plain(x, w, b, stride=stride, padding=padding)  # (its own checks and messages)
    x, w = _value(x), _value(w)
    if x.ndim != d + 2 or w.ndim != d + 2:
        raise ValueError(f"{op} expects input (N, C, {'L' if d == 1 else 'H, W'}) and weight "
                         f"(C_out, C_in/groups, {'K' if d == 1 else 'KH, KW'}); got shapes "
                         f"{x.shape} and {w.shape}")
    if not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c, o = x.shape[1], w.shape[0]
    if c % groups or o % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels ({c}) and the "
                         f"output channels ({o})")
    if w.shape[1] * groups != c:
        raise ValueError(f"{op}: weight {w.shape} expects {w.shape[1] * groups} input channels "
                         f"with groups={groups}, the input has {c}")
    rate = _tuple(dilation, d, "dilation", op)
    if min(rate) < 1:
        raise ValueError(f"{op}: dilation must be positive, got {dilation!r}")
    kernel = _dilate(w, rate) if max(rate) > 1 else w
    if groups > 1:
        kernel = _block_diagonal(kernel, groups, c)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if _tuple(stride, d, "stride", op) != (1,) * d:
                raise ValueError(f"{op}: padding='same' needs stride 1 (as torch)")
            widths = []
            for k in reversed(kernel.shape[2:]):
                total = k - 1
                widths += [total // 2, total - total // 2]
            x = pad_value(x, tuple(widths)) if any(widths) else x
            padding = 0
        else:
            raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got "
                             f"{padding!r}")
    return plain(x, kernel, b, stride=stride, padding=padding)


def conv1d(x: Any, w: Any, b: Any = None, stride: Pair = 1, padding: Any = 0,
           dilation: Pair = 1, groups: int = 1) -> Value:
    """torch.nn.functional.conv1d: x (N, C_in, L), w (C_out, C_in/groups, K)."""
    return _conv(1, x, w, b, stride, padding, dilation, groups)


def conv2d(x: Any, w: Any, b: Any = None, stride: Pair = 1, padding: Any = 0,
           dilation: Pair = 1, groups: int = 1) -> Value:
    """torch.nn.functional.conv2d: x (N, C_in, H, W), w (C_out, C_in/groups, KH, KW);
    padding an int, a pair, "same" or "valid"."""
    return _conv(2, x, w, b, stride, padding, dilation, groups)


# ---- transposed convolution ------------------------------------------------------------------
def _conv_transpose(d: int, x: Any, w: Any, b: Any, stride: Pair, padding: Pair,
                    output_padding: Pair) -> Value:
    op = f"conv_transpose{d}d"
    x, w = _value(x), _value(w)
    if x.ndim != d + 2 or w.ndim != d + 2 or w.shape[0] != x.shape[1]:
        raise ValueError(f"{op} expects input (N, C_in, ...) and weight (C_in, C_out, ...) "
                         f"with {d} spatial axes; got {x.shape} and {w.shape}")
    s, p = _tuple(stride, d, "stride", op), _tuple(padding, d, "padding", op)
    extra = _tuple(output_padding, d, "output_padding", op)
    if any(e >= max(si, 1) for e, si in zip(extra, s)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than stride {s}")
    size = tuple((n - 1) * si - 2 * pi + k + e for n, si, pi, k, e in zip(
        x.shape[2:], s, p, w.shape[2:], extra))
    if min(size) < 1:
        raise ValueError(f"{op}: the output would have size {size}")
    out = apply(CONV_TRANSPOSE[d], x, w, stride=s, padding=p, size=size)
    if b is None:
        return out
    return out + _value(b).reshape((1, -1) + (1,) * d)


def conv_transpose1d(x: Any, w: Any, b: Any = None, stride: Pair = 1, padding: Pair = 0,
                     output_padding: Pair = 0) -> Value:
    """torch.nn.functional.conv_transpose1d: x (N, C_in, L), w (C_in, C_out, K)."""
    return _conv_transpose(1, x, w, b, stride, padding, output_padding)


def conv_transpose2d(x: Any, w: Any, b: Any = None, stride: Pair = 1, padding: Pair = 0,
                     output_padding: Pair = 0) -> Value:
    """torch.nn.functional.conv_transpose2d: x (N, C_in, H, W), w (C_in, C_out, KH, KW)."""
    return _conv_transpose(2, x, w, b, stride, padding, output_padding)


# ---- pooling options ----------------------------------------------------------------------------
def _pool_padding(d: int, x: Value, k: tuple[int, ...], s: tuple[int, ...],
                  p: tuple[int, ...], ceil_mode: bool, op: str, fill: float) -> Value:
    if any(pi * 2 > ki for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding {p} must be at most half the kernel {k}")
    widths = []
    for n, ki, si, pi in reversed(list(zip(x.shape[2:], k, s, p))):
        right = pi
        if ceil_mode:
            out = math.ceil((n + 2 * pi - ki) / si) + 1
            if (out - 1) * si >= n + pi:  # the last window must start inside (torch)
                out -= 1
            right = (out - 1) * si + ki - n - pi
        widths += [pi, max(right, 0)]
    if not any(widths):
        return x
    return pad_value(x, tuple(widths), value=fill)


def max_pool(d: int, x: Any, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0,
             dilation: Pair = 1, ceil_mode: bool = False) -> Value:
    op = f"max_pool{d}d"
    x = _value(x)
    k = _tuple(kernel_size, d, "kernel_size", op)
    s = k if stride is None else _tuple(stride, d, "stride", op)
    if _tuple(dilation, d, "dilation", op) != (1,) * d:
        raise ValueError(f"{op}: dilation is not supported here (only 1)")
    xp = _pool_padding(d, x, k, s, _tuple(padding, d, "padding", op), ceil_mode, op, -np.inf)
    return (max_pool1d if d == 1 else max_pool2d)(xp, k, s)


def max_pool1d_options(x: Any, kernel_size: Pair, stride: Pair | None = None,
                       padding: Pair = 0, dilation: Pair = 1, ceil_mode: bool = False) -> Value:
    """torch.nn.functional.max_pool1d with padding and ceil_mode."""
    return max_pool(1, x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_options(x: Any, kernel_size: Pair, stride: Pair | None = None,
                       padding: Pair = 0, dilation: Pair = 1, ceil_mode: bool = False) -> Value:
    """torch.nn.functional.max_pool2d with padding and ceil_mode."""
    return max_pool(2, x, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool2d_options(x: Any, kernel_size: Pair, stride: Pair | None = None,
                       padding: Pair = 0, ceil_mode: bool = False) -> Value:
    """torch.nn.functional.avg_pool2d with zero padding (count_include_pad=True)."""
    x = _value(x)
    k = _tuple(kernel_size, 2, "kernel_size", "avg_pool2d")
    s = k if stride is None else _tuple(stride, 2, "stride", "avg_pool2d")
    if ceil_mode:
        raise ValueError("avg_pool2d: ceil_mode is not supported here")
    xp = _pool_padding(2, x, k, s, _tuple(padding, 2, "padding", "avg_pool2d"), False,
                       "avg_pool2d", 0.0)
    return avg_pool2d(xp, k, s)


# ---- linear maps along each spatial axis: adaptive pooling, interpolation ------------------------
def _along(x: Value, matrices: list[np.ndarray]) -> Value:
    """x (N, C, *S) with matrix m_i (S_i', S_i) applied along spatial axis i."""
    d = len(matrices)
    for i, m in enumerate(matrices):
        axis = x.ndim - d + i
        m = m.astype(x.dtype)
        if axis == x.ndim - 1:
            x = x @ m.T
        else:
            x = m @ x  # (S', S) @ (..., S, W): the second-to-last axis
    return x


def _adaptive_matrix(n: int, out: int) -> np.ndarray:
    """Row i averages input positions floor(i·n/out) .. ceil((i+1)·n/out) - 1 (torch)."""
    m = np.zeros((out, n))
    for i in range(out):
        start, end = (i * n) // out, -((-(i + 1) * n) // out)
        m[i, start:end] = 1.0 / (end - start)
    return m


def _adaptive(d: int, x: Any, output_size: Any) -> Value:
    op = f"adaptive_avg_pool{d}d"
    x = _value(x)
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(f"{op} expects input with {d} spatial axes after (N, C) or (C), got "
                         f"shape {x.shape}")
    size = (output_size,) * d if isinstance(output_size, int | np.integer) or \
        output_size is None else tuple(output_size)
    size = tuple(n if o is None else o for n, o in zip(x.shape[-d:], size))
    if len(size) != d or min(size) < 1:
        raise ValueError(f"{op}: output_size must be {d} positive ints, got {output_size!r}")
    return _along(x, [_adaptive_matrix(n, o) for n, o in zip(x.shape[-d:], size)])


def adaptive_avg_pool1d(x: Any, output_size: int) -> Value:
    """Average pooling to a fixed length (torch.nn.functional.adaptive_avg_pool1d)."""
    return _adaptive(1, x, output_size)


def adaptive_avg_pool2d(x: Any, output_size: Any) -> Value:
    """Average pooling to a fixed (H, W) (torch.nn.functional.adaptive_avg_pool2d)."""
    return _adaptive(2, x, output_size)


def _linear_matrix(n: int, out: int, scale: float, align_corners: bool) -> np.ndarray:
    """Linear interpolation from n positions to out, as torch computes the source point."""
    m = np.zeros((out, n))
    for i in range(out):
        if align_corners:
            src = i * (n - 1) / (out - 1) if out > 1 else 0.0
        else:
            src = max((i + 0.5) * scale - 0.5, 0.0)
        i0 = min(math.floor(src), n - 1)
        i1 = min(i0 + 1, n - 1)
        lam = src - i0
        m[i, i0] += 1.0 - lam
        m[i, i1] += lam
    return m


def _nearest_matrix(n: int, out: int, scale: float) -> np.ndarray:
    m = np.zeros((out, n))
    for i in range(out):
        m[i, min(math.floor(i * scale), n - 1)] = 1.0
    return m


_MODES = {"nearest": None, "linear": 1, "bilinear": 2}


def interpolate(x: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None) -> Value:
    """torch.nn.functional.interpolate for "nearest", "linear" (N, C, L) and "bilinear"
    (N, C, H, W), to `size` or by `scale_factor`."""
    x = _value(x)
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    d = x.ndim - 2
    if d < 1 or (_MODES[mode] is not None and _MODES[mode] != d):
        raise ValueError(f"interpolate: mode {mode!r} needs input with "
                         f"{_MODES[mode] or '1 or 2'} spatial axes, got shape {x.shape}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to linear modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out = (size,) * d if isinstance(size, int | np.integer) else tuple(size)
        scales = [n / o for n, o in zip(x.shape[2:], out)]
    else:
        factors = (scale_factor,) * d if isinstance(scale_factor, int | float) else tuple(
            scale_factor)
        out = tuple(math.floor(n * f) for n, f in zip(x.shape[2:], factors))
        scales = [1.0 / f for f in factors]
    if len(out) != d or min(out) < 1:
        raise ValueError(f"interpolate: the output size {out} is not {d} positive ints")
    if mode == "nearest":
        mats = [_nearest_matrix(n, o, sc) for n, o, sc in zip(x.shape[2:], out, scales)]
    else:
        mats = [_linear_matrix(n, o, sc, bool(align_corners))
                for n, o, sc in zip(x.shape[2:], out, scales)]
    return _along(x, mats)
