"""Activation functions as modules, so they can sit between layers in `nn.Sequential`.

Each applies its function element by element and has no weights: ``nn.Sequential(
nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))`` is the document's MLP written the way
PyTorch writes it. The functions themselves are Value methods (one derivative rule each,
in the derivative table); these modules only give them a place in a network.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value

from ._checks import float_dtype
from .layers import _as_tensor
from .module import Module


class _Activation(Module):
    """An element-wise function with no weights. `dtype` is what list and ndarray inputs
    become (a Value input is used as it is); `seed` is accepted, as every layer takes one."""

    def __init__(self, seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.dtype = float_dtype(dtype)

    def forward(self, x: Any) -> Value:
        return self.apply(_as_tensor(x, self.dtype, type(self).__name__))

    def apply(self, x: Value) -> Value:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {}  # no weights


class ReLU(_Activation):
    """ReLU(x) = max(0, x)."""

    def apply(self, x: Value) -> Value:
        return x.relu()


class Tanh(_Activation):
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x)."""

    def apply(self, x: Value) -> Value:
        return x.tanh()


class Sigmoid(_Activation):
    """σ(x) = 1 / (1 + e^(-x))."""

    def apply(self, x: Value) -> Value:
        return x.sigmoid()


class GELU(_Activation):
    """GELU(x) = x × Φ(x), Φ the standard normal CDF (the exact erf form, as torch's);
    ``approximate="tanh"``: torch's ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""

    def __init__(self, approximate: str = "none", seed: Any = None,
                 dtype: Any = np.float64) -> None:
        super().__init__(seed, dtype)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh' (as torch's), got "
                             f"{approximate!r}")
        self.approximate = approximate

    def apply(self, x: Value) -> Value:
        return x.gelu(self.approximate)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "approximate": self.approximate}

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class LeakyReLU(_Activation):
    """LeakyReLU(x) = x for x > 0, else negative_slope × x."""

    def __init__(self, negative_slope: float = 0.01, seed: Any = None,
                 dtype: Any = np.float64) -> None:
        super().__init__(seed, dtype)
        if isinstance(negative_slope, bool) or not isinstance(
                negative_slope, int | float | np.integer | np.floating) \
                or not np.isfinite(negative_slope):
            raise ValueError(f"LeakyReLU negative_slope must be a finite number, "
                             f"got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def apply(self, x: Value) -> Value:
        return x.leaky_relu(self.negative_slope)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope, "dtype": self.dtype.name}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"
