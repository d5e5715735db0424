"""Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm.

Each rescales its input to zero mean and unit variance, ``x̂ = (x - μ) / √(σ² + ε)``, then
lets the network choose the scale and shift it wants back, ``y = γ × x̂ + β`` (parameters
``w`` = γ, ones, and ``b`` = β, zeros). They differ in what they average over:

- BatchNorm: each channel over the batch (and its positions), so every sample's numbers
  depend on the others in its batch. In ``train()`` mode it uses the batch's statistics
  and keeps running averages of them; in ``eval()`` mode it uses those averages, so one
  sample gives the same answer whatever else is in the batch. The update is torch's:
  ``running = (1 - momentum) × running + momentum × batch`` with the *unbiased* batch
  variance (÷ (n - 1)); ``momentum=None`` makes it a plain average over all batches seen.
- LayerNorm: each sample over its trailing axes, the same in training and evaluation.

The running statistics are buffers: in ``state_dict()`` and saved files, never learned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value
from autograd.ops.layer_norm import layer_norm
from autograd.ops.norm import batch_norm, batch_stats

from ._checks import float_dtype, positive_int
from .layers import _as_tensor
from .module import Module


def _check_eps(who: str, eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, int | float | np.integer | np.floating) \
            or not 0 < eps < np.inf:
        raise ValueError(f"{who} eps must be a positive number, got {eps!r}")
    return float(eps)


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d; `_ndims` says which input ranks each takes."""

    _ndims: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(num_features, f"{name} num_features")
        self.eps = _check_eps(name, eps)
        if momentum is not None and (
                isinstance(momentum, bool)
                or not isinstance(momentum, int | float | np.integer | np.floating)
                or not 0.0 <= momentum <= 1.0):
            raise ValueError(f"{name} momentum must be a number in [0, 1] or None, "
                             f"got {momentum!r}")
        self.momentum = None if momentum is None else float(momentum)
        self.dtype = float_dtype(dtype)
        c = self.num_features
        self.w = Value(np.ones(c, dtype=self.dtype), label="w")
        self.b = Value(np.zeros(c, dtype=self.dtype), label="b")
        self.register_buffer("running_mean", np.zeros(c, dtype=self.dtype))
        self.register_buffer("running_var", np.ones(c, dtype=self.dtype))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def _check(self, x: Value) -> None:
        name, c = f"{type(self).__name__}({self.num_features})", self.num_features
        if x.ndim not in self._ndims or x.shape[1] != c:
            got = f"{x.ndim}-D input of shape {x.shape}"
            if x.ndim in self._ndims:
                got = f"{x.shape[1]} channels (shape {x.shape})"
            raise ValueError(f"{name} expects input {self._layout.replace('C', str(c))}, "
                             f"got {got}")

    def forward(self, x: Any) -> Value:
        x = _as_tensor(x, self.dtype, type(self).__name__)
        self._check(x)
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)
        if not self.training:  # y = x × (γ / √(running σ² + ε)) + (β - running μ × that)
            scale = self.w / np.sqrt(self.running_var + self.eps)
            shift = self.b - scale * self.running_mean
            return x * scale.reshape(shape) + shift.reshape(shape)
        n = x.size // self.num_features
        if n < 2:
            raise ValueError(f"{type(self).__name__} in train() mode needs more than one value "
                             f"per channel to take batch statistics, got input of shape "
                             f"{x.shape}; use eval() mode for single samples")
        self._track(*batch_stats(x.data), n)
        return batch_norm(x, self.w, self.b, eps=self.eps)  # one node: autograd/norm.py

    def _track(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        """torch's running-statistics update, with the unbiased variance σ² × n / (n - 1)."""
        self.num_batches_tracked = self.num_batches_tracked + 1
        m = self.momentum if self.momentum is not None else 1.0 / int(self.num_batches_tracked)
        dt = self.dtype
        self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(dt)
        self.running_var = ((1 - m) * self.running_var + m * var * (n / (n - 1))).astype(dt)

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        c = (positive_int(config.get("num_features"), f"{cls.__name__} num_features"),)
        return {"w": c, "b": c, "running_mean": c, "running_var": c,
                "num_batches_tracked": ()}

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of each feature of (N, C) input, or each channel of (N, C, L)."""

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of each channel of (N, C, H, W) images."""

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its trailing axes `normalized_shape` (an int for the
    last axis, or a tuple); ``w`` and ``b`` have that shape. ``bias=False``: no ``b``."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 bias: bool = True, seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.normalized_shape = self._dims(normalized_shape)
        self.eps = _check_eps("LayerNorm", eps)
        self.bias = bool(bias)
        self.dtype = float_dtype(dtype)
        self.w = Value(np.ones(self.normalized_shape, dtype=self.dtype), label="w")
        self.b = Value(np.zeros(self.normalized_shape, dtype=self.dtype), label="b") \
            if self.bias else None

    def forward(self, x: Any) -> Value:
        x = _as_tensor(x, self.dtype, "LayerNorm")
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm({self.normalized_shape}) expects input whose last "
                             f"{k} axes are {self.normalized_shape}, got shape {x.shape}")
        return layer_norm(x, self.w, self.b, eps=self.eps)  # one node: autograd/ops/layer_norm.py

    @staticmethod
    def _dims(normalized_shape: Any) -> tuple[int, ...]:
        """`normalized_shape` as a non-empty tuple of positive ints, or a ValueError."""
        if isinstance(normalized_shape, int | np.integer):
            normalized_shape = (normalized_shape,)
        try:
            dims = tuple(normalized_shape)
        except TypeError:
            raise ValueError(f"LayerNorm normalized_shape must be an int or a tuple of ints, "
                             f"got {normalized_shape!r}") from None
        if not dims:
            raise ValueError("LayerNorm normalized_shape must name at least one axis")
        return tuple(positive_int(n, "LayerNorm normalized_shape") for n in dims)

    def config(self) -> dict[str, Any]:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "bias": self.bias, "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        dims = cls._dims(config.get("normalized_shape"))
        return {"w": dims, "b": dims} if bool(config.get("bias", True)) else {"w": dims}

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
