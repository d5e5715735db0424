"""Embedding: a lookup table of learned vectors, one row per token.

``Embedding(num_embeddings, embedding_dim)`` holds ``w`` shaped (num_embeddings,
embedding_dim); called on an integer array of any shape it returns ``w[indices]``, with one
more axis of size embedding_dim. It is the same as multiplying a one-hot row by ``w``, so
the gradient of row i is the sum of the upstream gradients of every position that looked up
i (repeated indices accumulate), which is what indexing's VJP does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value

from ._checks import float_dtype, generator, positive_int
from .module import Module


class Embedding(Module):
    """``Embedding(num_embeddings, embedding_dim)``: ``w[indices]``, w drawn from N(0, 1)
    as ``torch.nn.Embedding`` draws it."""

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim")
        self.dtype = float_dtype(dtype)
        w = generator(seed).standard_normal((self.num_embeddings, self.embedding_dim))
        self.w = Value(w.astype(self.dtype), label="w")

    def _indices(self, idx: Any) -> np.ndarray:
        """The indices as an integer ndarray, each checked to lie in [0, num_embeddings)."""
        raw = idx.data if isinstance(idx, Value) else idx
        try:
            arr = np.asarray(raw)
        except ValueError as e:
            raise ValueError(f"{self!r} expects an integer array of indices: {e}") from None
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{self!r} expects integer indices (token ids), got an array of "
                            f"dtype {arr.dtype} and shape {arr.shape}")
        bad = (arr < 0) | (arr >= self.num_embeddings)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
            raise ValueError(
                f"{self!r}: index {int(arr[where])} at position {where} of the input of shape "
                f"{arr.shape} is out of range; indices must lie in [0, {self.num_embeddings})")
        return arr

    def forward(self, idx: Any) -> Value:
        return self.w[self._indices(idx)]

    def config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {"w": (positive_int(config.get("num_embeddings"), "num_embeddings"),
                      positive_int(config.get("embedding_dim"), "embedding_dim"))}

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
