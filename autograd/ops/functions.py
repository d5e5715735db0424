"""Tensor building blocks: more reductions and activations as Value methods (min, var,
logsumexp, clip, leaky_relu, gelu, erf, float(v)) and the module functions that join and
choose between tensors (concatenate, stack, where, maximum, minimum).

Each op is one row of the derivative table (`defop`), its VJPs written with operations
that arrays and Values both have, so every op here differentiates twice and more.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import OPS, Op, Value, apply, defop, operand
from ._common import _data, _expand, _shape, exp, tanh
from ._saved import keep, kept
from .erf import erf as _erf_array
from .erf import normal_cdf_pdf
from .reductions import _max_vjp, _reduction

Number = float | int


# ---- helpers --------------------------------------------------------------------------
def _factor(values: Any, like: Any) -> Any:
    """Constant factors (a mask, a slope) in like's kind: a float for a scalar, else an
    array of like's float dtype, so float32 gradients stay float32."""
    d = _data(like)
    values = np.asarray(values)
    if values.ndim == 0 and type(d) is float:
        return float(values)
    dtype = d.dtype if isinstance(d, np.ndarray) else np.float64
    return values.astype(dtype)


def _scalar_like(out: Any, *inputs: Any) -> Any:
    """A 0-d result as a Python float when every input was one (a scalar Value's data)."""
    if all(type(x) is float for x in inputs):
        return float(out)
    return out


def _defop_variadic(name: str, forward: Any, rule: Callable[..., Any]) -> Op:
    """An op of any number of inputs: one rule ``rule(i, g, ans, *inputs)`` for input i."""
    op = OPS[name] = defop(name, forward)._replace(vjps=_PerInput(rule))  # indexed as the tuple
    return op


class _PerInput:
    """The VJPs of an op with any number of inputs: ``vjps[i]`` is ``rule(i, ...)``."""

    def __init__(self, rule: Callable[..., Any]) -> None:
        self.rule = rule
        self.cache: dict[int, Callable[..., Any]] = {}

    def __getitem__(self, i: int) -> Callable[..., Any]:
        f = self.cache.get(i)
        if f is None:
            f = self.cache[i] = functools.partial(self.rule, i)
        return f


# ---- reductions ------------------------------------------------------------------------
def _mean_keep(a: Any, axis: Any) -> Any:
    """The mean over `axis` with the axes kept (arrays, Values and floats alike)."""
    if type(a) is float:
        return a
    return a.mean(axis=axis, keepdims=True)


def _var(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.var(a, axis=axis, keepdims=keepdims)


def _var_vjp(g: Any, ans: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """d var/dxᵢ = 2 (xᵢ - mean) / n, n the number of entries averaged."""
    n = np.size(_data(a)) / max(np.size(_data(ans)), 1)
    return _expand(g, _shape(a), axis, keepdims) * (a - _mean_keep(a, axis)) * (2.0 / n)


def _logsumexp(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log Σ e^x, shifted by the max so nothing overflows (an all -inf row gives -inf)."""
    if type(a) is float:
        return a
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0).astype(a.dtype)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _logsumexp_vjp(g: Any, ans: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """d logsumexp/dxᵢ = e^(xᵢ - logsumexp): the softmax."""
    shape = _shape(a)
    return _expand(g, shape, axis, keepdims) * exp(a - _expand(ans, shape, axis, keepdims))


# ---- elementwise -----------------------------------------------------------------------
def _clip(a: Any, lo: Any = None, hi: Any = None) -> Any:
    if lo is None and hi is None:
        return a + 0.0 if type(a) is float else a.copy()
    return _scalar_like(np.clip(a, lo, hi), a)


def _clip_vjp(g: Any, ans: Any, a: Any, lo: Any = None, hi: Any = None) -> Any:
    """1 where lo ≤ x ≤ hi (bounds included, as torch.clamp), else 0."""
    x = np.asarray(_data(a))
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside = inside & (x >= lo)
    if hi is not None:
        inside = inside & (x <= hi)
    return g * _factor(inside, a)


def _leaky_relu(a: Any, negative_slope: float) -> Any:
    if type(a) is float:
        return a if a > 0 else a * negative_slope
    return np.where(a > 0, a, a * negative_slope)


def _leaky_relu_vjp(g: Any, ans: Any, a: Any, negative_slope: float) -> Any:
    """1 where x > 0, else the slope."""
    return g * _factor(np.where(np.asarray(_data(a)) > 0, 1.0, negative_slope), a)


def _erf_data(a: Any) -> Any:
    if type(a) is float:
        return math.erf(a)
    out = _erf_array(a)
    return out.astype(a.dtype) if isinstance(a, np.ndarray) and a.dtype == np.float32 else out


def erf(x: Any) -> Any:
    """erf on a Value (a node of the graph) or on raw data."""
    return apply(ERF, x) if isinstance(x, Value) else _erf_data(x)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


_TANH_C = math.sqrt(2.0 / math.pi)  # a Python float: it keeps float32 arrays float32
_TANH_K = 0.044715


def _gelu(a: Any, approximate: str = "none") -> Any:
    """GELU(x) = x Φ(x) = x × ½ (1 + erf(x / √2)), Φ the standard normal CDF; with
    approximate="tanh", torch's ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))).

    On a float array the derivative is computed here too and kept for the backward pass
    (see _saved.py): for the exact form it shares the forward's exponential, φ(x), and on
    float32 Φ and φ come from one polynomial and one exponential in float64
    (`normal_cdf_pdf`), exact after rounding, in place of erf's table (the table's
    lookups were a fifth of the tiny GPT's GELU)."""
    if approximate == "tanh":
        return _gelu_tanh(a)
    if type(a) is np.ndarray and a.dtype == np.float32:
        cdf, pdf = normal_cdf_pdf(a)
        out = (a * cdf).astype(np.float32)
        pdf *= a
        pdf += cdf                       # the derivative Φ + x φ, in float64
        keep(out, pdf.astype(np.float32))
        return out
    return a * 0.5 * (1.0 + _erf_data(a * _SQRT_HALF))


def _gelu_tanh(a: Any) -> Any:
    """The tanh form, ½ x (1 + tanh z) = x σ(2z) with z = √(2/π) (x + 0.044715 x³), and on
    arrays its derivative σ(2z) + 2 x σ(2z) σ(-2z) z', kept for the backward pass.

    Through σ rather than tanh: with E = e^(-2|z|) ≤ 1, σ(2|z|) = 1/(1 + E) and
    σ(-2|z|) = E/(1 + E) are both accurate to a few ulp, so neither the value far left
    (1 + tanh z cancels there) nor the slope (1 - tanh² z likewise) loses its digits, and
    nothing overflows."""
    if type(a) is not np.ndarray:
        return 0.5 * a * (1.0 + math.tanh(_TANH_C * (a + _TANH_K * a * a * a)))
    a2 = a * a                              # x * x, not x ** 2 or x ** 3 (40× slower on float32)
    z = a * (_TANH_C + (_TANH_C * _TANH_K) * a2)
    e = np.abs(z)
    e *= -2.0
    np.exp(e, out=e)                        # E
    p = 1.0 / (1.0 + e)                     # σ(2|z|)
    e *= p                                  # σ(-2|z|)
    s = np.where(z >= 0, p, e)              # σ(2z)
    out = a * s
    p *= e                                  # σ(2z) σ(-2z)
    p *= a * (2.0 * _TANH_C + (6.0 * _TANH_C * _TANH_K) * a2)
    p += s
    keep(out, p)
    return out


def _gelu_vjp(g: Any, ans: Any, a: Any, approximate: str = "none") -> Any:
    """d GELU/dx = Φ(x) + x φ(x), φ(x) = e^(-x²/2) / √(2π) (or the tanh form's
    derivative): on arrays the forward's, else written with ops Values share."""
    if type(g) is np.ndarray:
        slope = kept(ans)
        if slope is not None:
            return g * slope
    if approximate == "tanh":
        a2 = a * a
        t = tanh(a * (1.0 + _TANH_K * a2) * _TANH_C)
        return g * ((t + 1.0) * 0.5 + (t * t * -1.0 + 1.0) * a * (a2 * (3.0 * _TANH_K) + 1.0)
                    * (0.5 * _TANH_C))
    if type(a) is np.ndarray and type(ans) is np.ndarray and a.dtype == np.float64:
        # Φ(x) is the forward's answer over x (Φ(0) = ½): no second erf
        cdf = np.divide(ans, a, out=np.full_like(ans, 0.5), where=a != 0)
    else:
        cdf = 0.5 * (1.0 + erf(a * _SQRT_HALF))
    return g * (cdf + a * exp(a * a * -0.5) * _INV_SQRT_2PI)


# ---- choosing between tensors ----------------------------------------------------------
def _share(x: Any, y: Any, like: Any) -> Any:
    """1 where x wins (x > y), ½ on a tie, 0 where y wins: how max/min split a gradient."""
    xd, yd = np.asarray(_data(x)), np.asarray(_data(y))
    return _factor((xd > yd) + 0.5 * (xd == yd), like)


def _where(a: Any, b: Any, cond: np.ndarray) -> Any:
    return _scalar_like(np.where(cond, a, b), a, b) if cond.ndim == 0 else np.where(cond, a, b)


def _concatenate(*xs: Any, axis: int) -> np.ndarray:
    for i, x in enumerate(xs):
        if np.ndim(x) == 0:
            raise ValueError(f"concatenate joins tensors along an existing axis; input {i} "
                             "is a scalar (use stack to make a new axis)")
    return np.concatenate(xs, axis=axis)


def _concatenate_vjp(i: int, g: Any, ans: Any, *xs: Any, axis: int) -> Any:
    """Input i's slice of g along the joined axis."""
    ax = axis % len(_shape(ans))
    start = sum(_shape(x)[ax] for x in xs[:i])
    return g[(slice(None),) * ax + (slice(start, start + _shape(xs[i])[ax]),)]


def _stack_vjp(i: int, g: Any, ans: Any, *xs: Any, axis: int) -> Any:
    """Input i's entry of g along the new axis."""
    ax = axis % len(_shape(ans))
    return g[(slice(None),) * ax + (i,)]


# ---- the table ---------------------------------------------------------------------------
MIN = defop("min", lambda a, axis=None, keepdims=False: np.min(a, axis=axis, keepdims=keepdims),
            _max_vjp)  # the gradient goes to the entries equal to the result, as for max
VAR = defop("var", _var, _var_vjp)
LOGSUMEXP = defop("logsumexp", _logsumexp, _logsumexp_vjp)
CLIP = defop("clip", _clip, _clip_vjp)
LEAKY_RELU = defop("leaky_relu", _leaky_relu, _leaky_relu_vjp)
ERF = defop("erf", _erf_data, lambda g, ans, a: g * exp(a * a * -1.0) * _TWO_OVER_SQRT_PI)
GELU = defop("gelu", _gelu, _gelu_vjp)
MAXIMUM = defop("maximum", np.maximum,
                lambda g, ans, a, b: g * _share(a, b, a),
                lambda g, ans, a, b: g * _share(b, a, b))
MINIMUM = defop("minimum", np.minimum,
                lambda g, ans, a, b: g * _share(b, a, a),
                lambda g, ans, a, b: g * _share(a, b, b))
WHERE = defop("where", _where,
              lambda g, ans, a, b, cond: g * _factor(cond, a),
              lambda g, ans, a, b, cond: g * _factor(~cond, b))
CONCATENATE = _defop_variadic("concatenate", _concatenate, _concatenate_vjp)
STACK = _defop_variadic("stack", lambda *xs, axis: np.stack(xs, axis=axis), _stack_vjp)


# ---- Value methods -------------------------------------------------------------------------
def _operand(x: Any, fn: str) -> Any:
    """A Value, or a constant as raw data (a float or a float array)."""
    c = operand(x)
    if c is None:
        raise TypeError(f"{fn} takes Values, numbers or arrays, got {type(x).__name__}")
    return c


def _bound(x: Any, name: str) -> Any:
    if x is None:
        return None
    if isinstance(x, Value):
        raise TypeError(f"clip's {name} bound is a constant, got a Value; for a bound that "
                        f"gets a gradient use autograd.{'maximum' if name == 'lower' else 'minimum'}")
    return _operand(x, "clip")


def clip(self: Value, lo: Any = None, hi: Any = None) -> Value:
    """Entries limited to [lo, hi] (either bound may be None); gradient 1 inside, 0 outside."""
    return apply(CLIP, self, lo=_bound(lo, "lower"), hi=_bound(hi, "upper"))


def leaky_relu(self: Value, negative_slope: float = 0.01) -> Value:
    """LeakyReLU(x) = x for x > 0, else negative_slope × x."""
    return apply(LEAKY_RELU, self, negative_slope=float(negative_slope))


def gelu(self: Value, approximate: str = "none") -> Value:
    """GELU(x) = x Φ(x) = x × ½ (1 + erf(x / √2)), the exact form torch uses by default;
    ``approximate="tanh"`` is torch's ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    if approximate == "none":
        return apply(GELU, self)
    if approximate == "tanh":
        return apply(GELU, self, approximate="tanh")
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh' (as torch's), got "
                     f"{approximate!r}")


def _float(self: Value) -> float:
    if self.size != 1:
        raise TypeError(f"float() needs a Value with one element, this one has shape "
                        f"{self.shape}")
    return self.item()


Value.min = _reduction(MIN, "the smallest entry over `axis`; ties share the gradient equally")
Value.var = _reduction(VAR, "the population variance over `axis` (as np.var: divided by n)")
Value.logsumexp = _reduction(LOGSUMEXP, "log Σ e^x over `axis`, without overflow")
Value.clip = clip
Value.leaky_relu = leaky_relu
Value.gelu = gelu
Value.erf = lambda self: apply(ERF, self)
Value.erf.__doc__ = "the error function erf(x) = (2/√π) ∫₀ˣ e^(-t²) dt"
Value.__float__ = _float


# ---- module functions ------------------------------------------------------------------------
def concatenate(values: Sequence[Any], axis: int = 0) -> Value:
    """Join tensors along an existing axis, as np.concatenate; each gets its slice of the
    gradient back."""
    values = list(values)
    if not values:
        raise ValueError("concatenate needs at least one tensor")
    return apply(CONCATENATE, *[_operand(v, "concatenate") for v in values], axis=int(axis))


def stack(values: Sequence[Any], axis: int = 0) -> Value:
    """Join same-shaped tensors (or scalars) along a new axis, as np.stack."""
    values = list(values)
    if not values:
        raise ValueError("stack needs at least one tensor")
    return apply(STACK, *[_operand(v, "stack") for v in values], axis=int(axis))


def where(cond: Any, a: Any, b: Any) -> Value:
    """a where cond is true, else b (under broadcasting); `cond` is a constant mask."""
    c = np.asarray(cond.data if isinstance(cond, Value) else cond)
    if c.dtype != bool:
        if c.dtype.kind not in "biuf":
            raise TypeError(f"where needs a boolean condition, got an array of {c.dtype}")
        c = c != 0
    return apply(WHERE, _operand(a, "where"), _operand(b, "where"), cond=c)


def maximum(a: Any, b: Any) -> Value:
    """The elementwise larger of a and b; on a tie each gets half the gradient."""
    return apply(MAXIMUM, _operand(a, "maximum"), _operand(b, "maximum"))


def minimum(a: Any, b: Any) -> Value:
    """The elementwise smaller of a and b; on a tie each gets half the gradient."""
    return apply(MINIMUM, _operand(a, "minimum"), _operand(b, "minimum"))
