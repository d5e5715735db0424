"""Flatten: the bridge from image-shaped activations to a dense layer.

A convolutional network's feature maps have shape (N, C, H, W); a `Linear` layer wants one
row of features per sample. ``Flatten()`` keeps the batch axis and joins the others (as
``torch.nn.Flatten``: axes ``start_dim`` to ``end_dim`` become one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value

from ._checks import float_dtype
from .layers import _as_tensor
from .module import Module


class Flatten(Module):
    """Join axes `start_dim` … `end_dim` into one: (N, C, H, W) → (N, C·H·W) by default.
    A 1-D input (one sample, already flat) passes unchanged."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, seed: Any = None,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer):
                raise TypeError(f"Flatten {name} must be an int, got {v!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)
        self.dtype = float_dtype(dtype)

    def forward(self, x: Any) -> Value:
        x = _as_tensor(x, self.dtype, "Flatten")
        if x.ndim <= 1:
            return x
        start, end, n = self.start_dim, self.end_dim, x.ndim
        if not (-n <= start < n and -n <= end < n) or start % n > end % n:
            raise ValueError(f"Flatten(start_dim={start}, end_dim={end}) does not fit an input "
                             f"of shape {x.shape} ({n} axes)")
        s, e = start % n, end % n
        shape = x.shape
        return x.reshape(shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {}  # no weights

    def config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim, "dtype": self.dtype.name}

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
