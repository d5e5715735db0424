"""Convolution layers: Conv1d and Conv2d, a neuron sliding over a signal or an image.

A convolution's output channel is one neuron with a small kernel of weights, applied at
every position: ``out[n, o, i, j] = b[o] + Σ_c Σ_p Σ_q w[o, c, p, q] × x[n, c, i·s + p,
j·s + q]`` (stride s, after zero padding). Sharing the kernel across positions is what
lets a CNN see a stroke wherever it is in the picture, with few weights. Layouts and
argument names are PyTorch's (``w`` (out, in, kh, kw), ``b`` (out,), input (N, C, H, W)),
so torch's weights copy in unchanged; the arithmetic is `autograd.conv1d` / `conv2d`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd
from autograd import Value

from ._checks import float_dtype, generator, positive_int
from .layers import _as_tensor, torch_uniform
from .module import Module


def _ints(who: str, name: str, value: Any, n: int, least: int) -> tuple[int, ...]:
    """`value` as a tuple of `n` ints, each at least `least` (one int stands for all)."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        values: tuple[Any, ...] = (value,) * n
    elif isinstance(value, list | tuple) and len(value) == n:
        values = tuple(value)
    else:
        values = ()
    if not values or any(isinstance(v, bool) or not isinstance(v, int | np.integer)
                         or v < least for v in values):
        kind = "positive" if least > 0 else "non-negative"
        pair = "" if n == 1 else f" or a tuple of {n} {kind} ints"
        raise ValueError(f"{who} {name} must be a {kind} int{pair}, got {value!r}")
    return tuple(int(v) for v in values)


def check_window(who: str, x: Value, channels: int | None, kernel: tuple[int, ...],
                 padding: tuple[int, ...]) -> None:
    """Refuse input that does not have the (N, C, *spatial) layout `who` expects, the right
    channel count (when `channels` is given), or room for the kernel after padding."""
    d = len(kernel)
    layout = "(N, C, L)" if d == 1 else "(N, C, H, W)"
    if channels is not None:
        layout = layout.replace("C", str(channels))
    if x.ndim != 2 + d:
        hint = "; for a single sample add a batch axis, x[None]" if x.ndim == 1 + d else ""
        raise ValueError(f"{who} expects a batch {layout}, got {x.ndim}-D input of shape "
                         f"{x.shape}{hint}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{who} expects {channels} input channel(s), got input of shape "
                         f"{x.shape} with {x.shape[1]}")
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    if any(k > n for k, n in zip(kernel, padded)):
        raise ValueError(f"{who}: kernel {kernel} is larger than the padded input {padded} "
                         f"(input shape {x.shape}, padding {padding})")


class _ConvNd(Module):
    """Shared by Conv1d and Conv2d: `_d` spatial axes, `_fn` the functional convolution."""

    _d = 0
    _fn = ""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any,
                 stride: Any = 1, padding: Any = 0, bias: bool = True,
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        who, d = type(self).__name__, self._d
        self.in_channels = positive_int(in_channels, f"{who} in_channels")
        self.out_channels = positive_int(out_channels, f"{who} out_channels")
        self._k = _ints(who, "kernel_size", kernel_size, d, 1)
        self._s = _ints(who, "stride", stride, d, 1)
        self._p = _ints(who, "padding", padding, d, 0)
        self.bias = bool(bias)
        self.dtype = float_dtype(dtype)
        fan_in = self.in_channels * int(np.prod(self._k))
        rng = generator(seed)
        shape = (self.out_channels, self.in_channels, *self._k)
        self.w = Value(torch_uniform(shape, fan_in, rng, self.dtype), label="w")
        self.b = Value(torch_uniform((self.out_channels,), fan_in, rng, self.dtype),
                       label="b") if self.bias else None

    def _arg(self, t: tuple[int, ...]) -> int | tuple[int, ...]:
        return t[0] if self._d == 1 else t

    @property
    def kernel_size(self) -> int | tuple[int, ...]:
        return self._arg(self._k)

    @property
    def stride(self) -> int | tuple[int, ...]:
        return self._arg(self._s)

    @property
    def padding(self) -> int | tuple[int, ...]:
        return self._arg(self._p)

    def forward(self, x: Any) -> Value:
        who = f"{type(self).__name__}({self.extra_repr()})"
        x = _as_tensor(x, self.dtype, who)
        check_window(who, x, self.in_channels, self._k, self._p)
        conv = getattr(autograd, self._fn)
        return conv(x, self.w, self.b, stride=self.stride, padding=self.padding)

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "bias": self.bias, "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        who = cls.__name__
        cin = positive_int(config.get("in_channels"), f"{who} in_channels")
        cout = positive_int(config.get("out_channels"), f"{who} out_channels")
        k = _ints(who, "kernel_size", config.get("kernel_size"), cls._d, 1)
        shapes = {"w": (cout, cin, *k)}
        return shapes | {"b": (cout,)} if bool(config.get("bias", True)) else shapes

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class Conv1d(_ConvNd):
    """``Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0)`` on (N, C, L):
    w (out, in, k), b (out,), initialised as torch's, U(-1/√(in·k), 1/√(in·k))."""

    _d = 1
    _fn = "conv1d"


class Conv2d(_ConvNd):
    """``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0)`` on
    (N, C, H, W); kernel_size, stride and padding an int or a pair (rows, columns).
    w (out, in, kh, kw), b (out,), initialised as torch's, U(-1/√(in·kh·kw), …)."""

    _d = 2
    _fn = "conv2d"
