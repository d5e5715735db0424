"""Scaled dot-product attention as one node of the graph.

    attention(q, k, v) = softmax(q kᵀ × scale) v,   scale = 1/√d by default

for queries, keys and values shaped (..., T, d) (any leading batch and head axes); with
``causal=True`` query t only sees keys 0..t (the scores above the diagonal are -inf, so
their weights are 0). Written with small ops this is five nodes (a product, a scale, the
mask, softmax, a product) whose (..., T, T) intermediates each get a gradient array of
their own; as one node it stores only the output and, beside it until it is freed, the
attention weights p that the backward pass reuses (as torch saves them).

The backward pass, with g = dL/d(out):

    dv = pᵀ g,   dp = g vᵀ,   ds = p × (dp - Σⱼ dp × p)  (softmax's VJP, row by row),
    dq = ds k × scale,   dk = dsᵀ q × scale

written once with operations that arrays and Values both have, so second derivatives work.
"""

from __future__ import annotations

import functools
import math
import weakref
from typing import Any

import numpy as np

from ..engine import Value, apply, defop, is_grad_enabled
from .reductions import SOFTMAX


def _swap(x: Any) -> Any:
    """The last two axes swapped (a batch of matrices transposed), on arrays or Values."""
    n = len(x.shape)
    return x.transpose(tuple(range(n - 2)) + (n - 1, n - 2))


@functools.lru_cache(maxsize=32)
def causal_mask(t: int, dtype: Any) -> np.ndarray:
    """(t, t): 0 on and below the diagonal, -inf above it (the future), added to scores.
    (Made once per size and dtype; read-only.)"""
    mask = np.triu(np.full((t, t), -np.inf, dtype=dtype), 1)
    mask.flags.writeable = False
    return mask


def _probs(q: Any, k: Any, causal: bool, scale: float) -> Any:
    """The attention weights softmax(q kᵀ × scale (+ mask)), on arrays or Values."""
    if isinstance(q, Value) or isinstance(k, Value):
        s = (q @ _swap(k)) * scale
        if causal:
            s = s + causal_mask(s.shape[-1], s.dtype)
        return s.softmax(axis=-1)
    s = q @ _swap(k)  # a fresh array: scaled and masked in place
    s *= scale
    if causal:
        s += causal_mask(s.shape[-1], s.dtype)
    return SOFTMAX.forward(s, -1)


# The weights p of each forward pass, kept beside its output array until that is freed.
_saved: dict[int, tuple[Any, np.ndarray]] = {}


def _forward(q: Any, k: Any, v: Any, causal: bool = False, scale: float = 1.0) -> np.ndarray:
    sq, sk, sv = np.shape(q), np.shape(k), np.shape(v)
    if len(sq) < 2 or sq[:-2] != sk[:-2] or sk != sv[:-1] + (sk[-1],) or sq[-1] != sk[-1] \
            or sk[:-1] != sv[:-1] or (causal and sq[-2] != sk[-2]):
        raise ValueError(f"attention needs q (..., T, d), k (..., S, d) and v (..., S, dv) with "
                         f"the same leading axes (T = S when causal); got q {sq}, k {sk}, "
                         f"v {sv}")
    p = _probs(q, k, causal, scale)
    out = p @ v
    if is_grad_enabled():
        key = id(out)
        _saved[key] = (weakref.ref(out, lambda _, k=key: _saved.pop(k, None)), p)
    return out


def _rule(g: Any, ans: Any, q: Any, k: Any, v: Any, causal: bool, scale: float) -> Any:
    """(p, ds): the weights and dL/d(scores), shared by the three VJPs."""
    entry = _saved.get(id(ans))
    p = entry[1] if entry is not None and entry[0]() is ans else _probs(q, k, causal, scale)
    dp = g @ _swap(v)
    return p, p * (dp - (dp * p).sum(axis=-1, keepdims=True))


_memo: list[Any] = [None, None, None]  # g, ans, (p, ds): computed once per node on arrays


def _shared(g: Any, ans: Any, q: Any, k: Any, v: Any, causal: bool, scale: float) -> Any:
    if isinstance(g, Value) or isinstance(ans, Value):
        return _rule(g, ans, q, k, v, causal, scale)
    m = _memo
    if m[0] is g and m[1] is ans:
        return m[2]
    out = _rule(g, ans, q, k, v, causal, scale)
    m[0], m[1], m[2] = g, ans, out
    return out


ATTENTION = defop(
    "attention", _forward,
    lambda g, ans, q, k, v, causal=False, scale=1.0:
        (_shared(g, ans, q, k, v, causal, scale)[1] @ k) * scale,
    lambda g, ans, q, k, v, causal=False, scale=1.0:
        (_swap(_shared(g, ans, q, k, v, causal, scale)[1]) @ q) * scale,
    lambda g, ans, q, k, v, causal=False, scale=1.0:
        _swap(_shared(g, ans, q, k, v, causal, scale)[0]) @ g)


def _jvp(which: str) -> Any:
    """out = p v with p = softmax(s), s = q kᵀ × scale: ṡ from q̇ or k̇, then
    ṗ = p × (ṡ - Σ ṡ p) (softmax's JVP, row by row) and ȯut = ṗ v; or ȯut = p v̇."""
    def jvp(t: Any, ans: Any, q: Any, k: Any, v: Any, causal: bool = False,
            scale: float = 1.0) -> Any:
        p = _probs(q, k, causal, scale)
        if which == "v":
            return p @ t
        s_dot = (t @ _swap(k) if which == "q" else q @ _swap(t)) * scale
        return (p * (s_dot - (s_dot * p).sum(axis=-1, keepdims=True))) @ v
    return jvp


ATTENTION.jvp = (_jvp("q"), _jvp("k"), _jvp("v"))


def attention(q: Any, k: Any, v: Any, causal: bool = False, scale: float | None = None) -> Value:
    """softmax(q kᵀ × scale) v as one node (scale 1/√d unless given), as
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)``."""
    d = np.shape(q.data if isinstance(q, Value) else q)[-1]
    return apply(ATTENTION, q, k, v, causal=bool(causal),
                 scale=float(1.0 / math.sqrt(d) if scale is None else scale))
