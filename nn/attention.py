"""Multi-head self-attention, batch first, with torch's projection layout.

For a sequence x of shape (N, T, E), one linear map makes queries, keys and values,
``[q, k, v] = x @ w_inᵀ + b_in`` (w_in shaped (3E, E), rows in the order q, k, v as
torch's ``in_proj_weight``). Each of the `num_heads` heads takes its slice of d = E / heads
features and mixes the sequence by

    attention(q, k, v) = softmax(q kᵀ / √d) v

row by row: position t's output is an average of the values, weighted by how well its query
matches every key. ``causal=True`` masks the future (position t only sees 0..t), as a
language model needs. The heads' outputs, side by side, go through ``y @ w_outᵀ + b_out``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd import Value
from autograd.ops.attention import attention, causal_mask
from autograd.ops.linalg import linear

from ._checks import float_dtype, generator, positive_int
from .module import Module

STEP_BY_STEP = 256  # attention scores (N × heads × T × T) up to this many: small ops


def self_attention(x: Any, w_in: Any, b_in: Any, w_out: Any, b_out: Any, num_heads: int,
                   causal: bool = False) -> Value:
    """Multi-head self-attention of x (N, T, E) with torch's projection layout (see above).

    The core softmax(q kᵀ/√d) v is one node (`autograd.attention`); for a tiny input (at
    most STEP_BY_STEP scores) it is written with the small ops instead, so that a drawing or
    `explain` shows each score q·k/√d and the softmax over its row. Both give the same
    numbers."""
    n, t, e = x.shape
    h = num_heads
    d = e // h
    # q, k and v each from its rows of w_in, (N·T, E) products: slicing one (N·T, 3E)
    # product instead gave each slice a gradient the size of all three (zeros but its
    # third), which the reverse pass then added up (measured: 9% of the attention step)
    x2 = x.reshape(n * t, e)
    q, k, v = [linear(x2, w_in[i * e:(i + 1) * e], None if b_in is None
                      else b_in[i * e:(i + 1) * e]).reshape(n, t, h, d).transpose(0, 2, 1, 3)
               for i in range(3)]                                     # each (N, heads, T, d)
    if n * h * t * t > STEP_BY_STEP:
        y = attention(q, k, v, causal=causal)                         # (N, heads, T, d)
    else:
        scores = (q * (1.0 / math.sqrt(d))) @ k.transpose(0, 1, 3, 2)  # (N, heads, T, T)
        if causal:
            scores = scores + causal_mask(t, scores.dtype)
        y = scores.softmax(axis=-1) @ v
    y = y.transpose(0, 2, 1, 3).reshape(n * t, e)                     # heads side by side
    return linear(y, w_out, b_out).reshape(n, t, e)

class MultiheadAttention(Module):
    """``MultiheadAttention(embed_dim, num_heads)``: self-attention on (N, T, E) (or one
    sequence (T, E)); ``forward(x, causal=False)`` returns the same shape.

    Parameters as torch's ``nn.MultiheadAttention``: ``w_in`` (3E, E) = in_proj_weight,
    ``b_in`` (3E,) = in_proj_bias, ``w_out`` (E, E) = out_proj.weight, ``b_out`` (E,) =
    out_proj.bias, initialised as torch does (Xavier-uniform in, U(±1/√E) out, zero biases)."""

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True,
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.embed_dim = e = positive_int(embed_dim, "embed_dim")
        self.num_heads = positive_int(num_heads, "num_heads")
        if e % self.num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({e}) must be divisible by "
                             f"num_heads ({self.num_heads})")
        self.bias = bool(bias)
        self.dtype = float_dtype(dtype)
        rng = generator(seed)
        bound_in = math.sqrt(6.0 / (e + 3 * e))  # Xavier-uniform on the (3E, E) matrix
        self.w_in = Value(rng.uniform(-bound_in, bound_in, (3 * e, e)).astype(self.dtype),
                          label="w_in")
        bound_out = 1.0 / math.sqrt(e)
        self.w_out = Value(rng.uniform(-bound_out, bound_out, (e, e)).astype(self.dtype),
                           label="w_out")
        if self.bias:
            self.b_in = Value(np.zeros(3 * e, dtype=self.dtype), label="b_in")
            self.b_out = Value(np.zeros(e, dtype=self.dtype), label="b_out")
        else:
            self.b_in = self.b_out = None

    def _check(self, x: Any) -> Any:
        if not isinstance(x, Value):
            x = np.asarray(x, dtype=self.dtype)
        if x.ndim not in (2, 3) or x.shape[-1] != self.embed_dim:
            raise ValueError(
                f"{self!r} expects input of shape (N, T, {self.embed_dim}) (batch, time, "
                f"features) or one sequence (T, {self.embed_dim}); got shape {x.shape}")
        return x

    def forward(self, x: Any, causal: bool = False) -> Value:
        x = self._check(x)
        if x.ndim == 2:  # one sequence
            t, e = x.shape
            return self_attention(x.reshape(1, t, e), self.w_in, self.b_in, self.w_out,
                                  self.b_out, self.num_heads, causal).reshape(t, e)
        return self_attention(x, self.w_in, self.b_in, self.w_out, self.b_out,
                              self.num_heads, causal)

    def config(self) -> dict[str, Any]:
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "bias": self.bias,
                "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        e = positive_int(config.get("embed_dim"), "embed_dim")
        shapes = {"w_in": (3 * e, e), "w_out": (e, e)}
        if config.get("bias", True):
            shapes.update(b_in=(3 * e,), b_out=(e,))
        return shapes

    def extra_repr(self) -> str:
        return f"{self.embed_dim}, num_heads={self.num_heads}"
