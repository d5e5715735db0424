"""Dropout: the regularisation the document names against overfitting (Phase 4).

In training, each input element is set to 0 with probability `p` and the survivors are
scaled by ``1 / (1 - p)`` ("inverted" dropout), so the expected value of every element is
unchanged and nothing needs rescaling at evaluation time. In ``eval()`` mode it is the
identity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value

from ._checks import generator
from .module import Module


class Dropout(Module):
    """``Dropout(p)``: zero each element with probability `p` while ``.training``.

    The masks come from the module's own Generator (`seed`: an int, a Generator, or None
    for fresh entropy), so a seeded network trains the same way twice."""

    def __init__(self, p: float = 0.5, seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, int | float | np.floating | np.integer) \
                or not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"Dropout probability p must be a number in [0, 1], got {p!r}")
        self.p = float(p)
        self._rng = generator(seed, "Dropout seed")

    def forward(self, x: Any) -> Value:
        if not isinstance(x, Value):
            x = Value(x)
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        keep = self._rng.random(x.shape) >= self.p
        mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        if x.is_scalar:
            mask = float(mask)
        return x * mask

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {}

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout):
    """``Dropout2d(p)``: zero whole channels of (N, C, H, W) (or (C, H, W)) input with
    probability `p` while ``.training``, the survivors scaled by 1 / (1 - p), as torch's."""

    def forward(self, x: Any) -> Value:
        if not isinstance(x, Value):
            x = Value(x)
        if x.ndim not in (3, 4):
            raise ValueError(f"Dropout2d expects (N, C, H, W) or (C, H, W) input, got shape "
                             f"{x.shape}")
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        keep = self._rng.random(x.shape[:-2] + (1, 1)) >= self.p
        return x * (keep.astype(x.dtype) / x.dtype.type(1.0 - self.p))
