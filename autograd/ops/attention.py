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
    dq = ds k × scale,   dk = dsᵀ (q × scale)

written once with operations that arrays and Values both have, so second derivatives work.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._saved import keep, kept


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
    return _weights(q * scale, k, causal)


def _weights(qs: np.ndarray, k: np.ndarray, causal: bool) -> np.ndarray:
    """softmax(qs kᵀ (+ mask)) on arrays, q already scaled (T·d multiplications instead of
    T·T), the softmax in place in the product's own array: six passes over the scores
    (product, mask, max, shift, exp, normalise)."""
    s = qs @ _swap(k)
    if causal:
        s += causal_mask(s.shape[-1], s.dtype)
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s *= 1.0 / s.sum(axis=-1, keepdims=True)
    return s


def _forward(q: Any, k: Any, v: Any, causal: bool = False, scale: float = 1.0) -> np.ndarray:
    sq, sk, sv = np.shape(q), np.shape(k), np.shape(v)
    if len(sq) < 2 or sq[:-2] != sk[:-2] or sk != sv[:-1] + (sk[-1],) or sq[-1] != sk[-1] \
            or sk[:-1] != sv[:-1] or (causal and sq[-2] != sk[-2]):
        raise ValueError(f"attention needs q (..., T, d), k (..., S, d) and v (..., S, dv) with "
                         f"the same leading axes (T = S when causal); got q {sq}, k {sk}, "
                         f"v {sv}")
    qs = q * scale
    p = _weights(qs, k, causal)
    out = p @ v
    keep(out, (p, qs))  # for the backward pass (_saved.py), as torch saves them
    return out


def _rule(g: Any, ans: Any, q: Any, k: Any, v: Any, causal: bool, scale: float) -> Any:
    """(p, ds, q × scale): the weights, dL/d(scores) and the scaled queries, shared by the
    three VJPs. Softmax's VJP ds = p (dp - Σⱼ dp p) needs the row sums Σⱼ dpᵢⱼ pᵢⱼ, which
    are gᵢ · Σⱼ pᵢⱼ vⱼ = gᵢ · outᵢ: on arrays a pass over (T, d) instead of two over (T, T),
    leaving two passes over the scores (dp's product, then the shift and the product
    with p)."""
    if isinstance(g, Value) or isinstance(ans, Value):
        p = _probs(q, k, causal, scale)
        dp = g @ _swap(v)
        return p, p * (dp - (dp * p).sum(axis=-1, keepdims=True)), q * scale
    saved = kept(ans)
    p, qs = saved if saved is not None else (_probs(q, k, causal, scale), q * scale)
    ds = g @ _swap(v)
    ds -= (g * ans).sum(axis=-1, keepdims=True)
    ds *= p
    return p, ds, qs


_memo: list[Any] = [None, None, None]  # g, ans, (p, ds, qs): computed once per node on arrays


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
        _swap(_shared(g, ans, q, k, v, causal, scale)[1]) @ _shared(g, ans, q, k, v, causal,
                                                                    scale)[2],
    lambda g, ans, q, k, v, causal=False, scale=1.0:
        _swap(_shared(g, ans, q, k, v, causal, scale)[0]) @ g)


def attention(q: Any, k: Any, v: Any, causal: bool = False, scale: float | None = None) -> Value:
    """softmax(q kᵀ × scale) v as one node (scale 1/√d unless given), as
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)``."""
    d = np.shape(q.data if isinstance(q, Value) else q)[-1]
    return apply(ATTENTION, q, k, v, causal=bool(causal),
                 scale=float(1.0 / math.sqrt(d) if scale is None else scale))
