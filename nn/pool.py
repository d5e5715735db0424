"""Pooling layers: MaxPool1d, MaxPool2d and AvgPool2d.

A pool summarises each window of a feature map by one number, its largest entry or its
average, so the next layer sees a smaller map that moves less when the input shifts by a
pixel. No weights. The stride defaults to the kernel size (windows side by side), as in
PyTorch; the arithmetic is `autograd.max_pool1d` / `max_pool2d` / `avg_pool2d`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd
from autograd import Value

from ._checks import float_dtype
from .conv import _ints, check_window
from .layers import _as_tensor
from .module import Module


class _PoolNd(Module):
    """Shared by the pools: `_d` spatial axes, `_fn` the functional pool."""

    _d = 0
    _fn = ""

    def __init__(self, kernel_size: Any, stride: Any = None, seed: Any = None,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        who, d = type(self).__name__, self._d
        self._k = _ints(who, "kernel_size", kernel_size, d, 1)
        self._s = self._k if stride is None else _ints(who, "stride", stride, d, 1)
        self.dtype = float_dtype(dtype)

    @property
    def kernel_size(self) -> int | tuple[int, ...]:
        return self._k[0] if self._d == 1 else self._k

    @property
    def stride(self) -> int | tuple[int, ...]:
        return self._s[0] if self._d == 1 else self._s

    def forward(self, x: Any) -> Value:
        who = f"{type(self).__name__}({self.extra_repr()})"
        x = _as_tensor(x, self.dtype, who)
        check_window(who, x, None, self._k, (0,) * self._d)
        return getattr(autograd, self._fn)(x, self.kernel_size, self.stride)

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {}  # no weights

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride, "dtype": self.dtype.name}

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool1d(_PoolNd):
    """The largest entry of each window of (N, C, L) input."""

    _d = 1
    _fn = "max_pool1d"


class MaxPool2d(_PoolNd):
    """The largest entry of each window of (N, C, H, W) input."""

    _d = 2
    _fn = "max_pool2d"


class AvgPool2d(_PoolNd):
    """The average of each window of (N, C, H, W) input."""

    _d = 2
    _fn = "avg_pool2d"
