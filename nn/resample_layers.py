"""Layers of release 3 around convolution: ConvTranspose1d/2d (the convolution's adjoint,
an upsampling layer with weights), AdaptiveAvgPool1d/2d and Upsample (no weights). The
arithmetic is autograd's (`conv_transpose1d/2d`, `adaptive_avg_pool1d/2d`, `interpolate`);
layouts and arguments are torch's, so weights copy in unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd
from autograd import Value

from ._checks import float_dtype, generator, positive_int
from .conv import _ints
from .layers import _as_tensor, torch_uniform
from .module import Module


class _ConvTransposeNd(Module):
    _d = 0

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any,
                 stride: Any = 1, padding: Any = 0, output_padding: Any = 0, bias: bool = True,
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        who, d = type(self).__name__, self._d
        self.in_channels = positive_int(in_channels, f"{who} in_channels")
        self.out_channels = positive_int(out_channels, f"{who} out_channels")
        self._k = _ints(who, "kernel_size", kernel_size, d, 1)
        self._s = _ints(who, "stride", stride, d, 1)
        self._p = _ints(who, "padding", padding, d, 0)
        self._op = _ints(who, "output_padding", output_padding, d, 0)
        self.bias = bool(bias)
        self.dtype = float_dtype(dtype)
        fan_in = self.out_channels * int(np.prod(self._k))  # torch: weight.size(1) × k
        rng = generator(seed)
        self.w = Value(torch_uniform((self.in_channels, self.out_channels, *self._k), fan_in,
                                     rng, self.dtype), label="w")
        self.b = Value(torch_uniform((self.out_channels,), fan_in, rng, self.dtype),
                       label="b") if self.bias else None

    def _arg(self, t: tuple[int, ...]) -> int | tuple[int, ...]:
        return t[0] if self._d == 1 else t

    def forward(self, x: Any) -> Value:
        who = type(self).__name__
        x = _as_tensor(x, self.dtype, who)
        if x.ndim != self._d + 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"{who} expects input (N, {self.in_channels}, ...) with "
                             f"{self._d} spatial axes, got shape {x.shape}")
        fn = autograd.conv_transpose1d if self._d == 1 else autograd.conv_transpose2d
        return fn(x, self.w, self.b, stride=self._s, padding=self._p, output_padding=self._op)

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self._arg(self._k), "stride": self._arg(self._s),
                "padding": self._arg(self._p), "output_padding": self._arg(self._op),
                "bias": self.bias, "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        who = cls.__name__
        cin = positive_int(config.get("in_channels"), f"{who} in_channels")
        cout = positive_int(config.get("out_channels"), f"{who} out_channels")
        k = _ints(who, "kernel_size", config.get("kernel_size"), cls._d, 1)
        shapes = {"w": (cin, cout, *k)}
        return shapes | {"b": (cout,)} if bool(config.get("bias", True)) else shapes

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self._arg(self._k)}, "
                f"stride={self._arg(self._s)}")


class ConvTranspose1d(_ConvTransposeNd):
    """``ConvTranspose1d(in, out, kernel_size, stride=1, padding=0, output_padding=0)``:
    w (in, out, k), as torch's."""

    _d = 1


class ConvTranspose2d(_ConvTransposeNd):
    """``ConvTranspose2d(in, out, kernel_size, stride=1, padding=0, output_padding=0)``:
    w (in, out, kh, kw), as torch's."""

    _d = 2


class _NoWeights(Module):
    """A layer without weights; `dtype` is what list and ndarray inputs become."""

    def _input(self, x: Any) -> Value:
        return _as_tensor(x, float_dtype(self._config["dtype"]), type(self).__name__)

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._config.items()
                         if v is not None and k != "dtype")


class AdaptiveAvgPool1d(_NoWeights):
    """Average pooling to a fixed length, whatever the input's (torch's windows)."""

    def __init__(self, output_size: int, dtype: Any = np.float64) -> None:
        super().__init__()
        self._config = {"output_size": positive_int(output_size, "AdaptiveAvgPool1d size"),
                        "dtype": float_dtype(dtype).name}

    def forward(self, x: Any) -> Value:
        return autograd.adaptive_avg_pool1d(self._input(x), self._config["output_size"])


class AdaptiveAvgPool2d(_NoWeights):
    """Average pooling to a fixed (H, W) (an int for a square; None keeps that axis)."""

    def __init__(self, output_size: Any, dtype: Any = np.float64) -> None:
        super().__init__()
        size = list(output_size) if isinstance(output_size, tuple | list) else output_size
        self._config = {"output_size": size, "dtype": float_dtype(dtype).name}

    def forward(self, x: Any) -> Value:
        size = self._config["output_size"]
        return autograd.adaptive_avg_pool2d(self._input(x),
                                            tuple(size) if isinstance(size, list) else size)


class Upsample(_NoWeights):
    """``Upsample(size=None, scale_factor=None, mode="nearest", align_corners=None)``: the
    layer form of `autograd.interpolate`."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        if mode not in ("nearest", "linear", "bilinear"):
            raise ValueError(f"Upsample: mode must be 'nearest', 'linear' or 'bilinear', got "
                             f"{mode!r}")
        listed = (lambda v: list(v) if isinstance(v, tuple | list) else v)
        self._config = {"size": listed(size), "scale_factor": listed(scale_factor),
                        "mode": mode, "align_corners": align_corners,
                        "dtype": float_dtype(dtype).name}

    def _kwargs(self) -> dict[str, Any]:
        c = self._config
        tup = (lambda v: tuple(v) if isinstance(v, list) else v)
        return {"size": tup(c["size"]), "scale_factor": tup(c["scale_factor"]),
                "mode": c["mode"], "align_corners": c["align_corners"]}

    def forward(self, x: Any) -> Value:
        return autograd.interpolate(self._input(x), **self._kwargs())
