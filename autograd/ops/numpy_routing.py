"""NumPy functions called on Values: routed to the autograd counterpart, or refused.

``np.exp(v)``, ``np.concatenate([a, b])``, ``np.where(c, a, b)``, ``arr + v`` ... find
`Value.__array_ufunc__` / `Value.__array_function__` (NumPy's override protocols, NEP 13
and NEP 18) and become the Value method or autograd function of the same meaning, so the
result is a Value with its gradient. Queries whose answer is not a float (``np.shape``,
``np.argmax``, ``np.isnan``, comparisons) answer on the data. Everything else raises a
`TypeError` naming what to call instead — never the object array numpy would otherwise
build, which silently loses the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Value
from . import einsum as ES
from . import elementwise as EW
from . import functions as F
from . import layout as LY


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _method(name: str) -> Callable[..., Any]:
    return lambda x: getattr(x if isinstance(x, Value) else Value(x), name)()


def _binary(name: str) -> Callable[..., Any]:
    """``ndarray (op) Value`` and ``np.<op>(a, b)``: the Value's operator (or its reflected
    one when the Value is on the right), as Python's own operators would call it."""
    def call(a: Any, b: Any) -> Any:
        if isinstance(a, Value):
            return getattr(a, f"__{name}__")(b)
        return getattr(b, f"__r{name}__")(a)
    return call


def _on_data(fn: Any) -> Callable[..., Any]:
    """A query with a non-float answer (bools, indices, shapes): asked of the data."""
    def call(*args: Any, **kwargs: Any) -> Any:
        args = tuple([_data(a) for a in args])
        if args and isinstance(args[0], list | tuple):
            args = ([_data(a) for a in args[0]],) + args[1:]
        return fn(*args, **{k: _data(v) for k, v in kwargs.items()})
    return call


UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: _binary("add"), np.subtract: _binary("sub"), np.multiply: _binary("mul"),
    np.true_divide: _binary("truediv"), np.power: _binary("pow"),
    np.matmul: _binary("matmul"),
    np.negative: lambda x: -x, np.positive: lambda x: x,
    np.exp: _method("exp"), np.log: _method("log"), np.sqrt: _method("sqrt"),
    np.tanh: _method("tanh"), np.absolute: _method("abs"), np.square: _method("square"),
    **{u: _method(name) for u, name in (
        (np.sin, "sin"), (np.cos, "cos"), (np.tan, "tan"), (np.arcsin, "asin"),
        (np.arccos, "acos"), (np.arctan, "atan"), (np.sinh, "sinh"), (np.cosh, "cosh"),
        (np.arcsinh, "asinh"), (np.arccosh, "acosh"), (np.arctanh, "atanh"),
        (np.log2, "log2"), (np.log10, "log10"), (np.log1p, "log1p"), (np.expm1, "expm1"),
        (np.reciprocal, "reciprocal"), (np.floor, "floor"), (np.ceil, "ceil"),
        (np.trunc, "trunc"), (np.rint, "round"), (np.sign, "sign"))},
    np.arctan2: EW.atan2,
    np.maximum: F.maximum, np.minimum: F.minimum,
    **{u: _on_data(u) for u in (np.less, np.less_equal, np.greater, np.greater_equal,
                                np.equal, np.not_equal, np.isnan, np.isfinite, np.isinf,
                                np.signbit)},
}
REDUCTIONS = {np.add: "sum", np.maximum: "max", np.minimum: "min"}
INSTEAD = {  # what to call instead of a NumPy function that has no counterpart here
    "fmax": "autograd.maximum", "fmin": "autograd.minimum",
    "dot": "the @ operator",
    "hstack": "autograd.concatenate(values, axis=1)",
    "vstack": "autograd.concatenate(values, axis=0)", "logaddexp": "Value.logsumexp",
    "tensordot": "autograd.einsum",
}


def _reject(what: str, name: str, why: str = "") -> TypeError:
    instead = INSTEAD.get(name)
    hint = (f"use {instead}" if instead else
            "use a Value method or an autograd function (autograd.concatenate, stack, where, "
            "maximum, minimum, ...), or call it on v.data for a constant without gradient")
    return TypeError(f"{what} on a Value has no differentiable counterpart{why}; {hint}")


def array_ufunc(self: Value, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    name = getattr(ufunc, "__name__", str(ufunc))
    if "out" in kwargs:
        raise TypeError(f"np.{name}(..., out=...) cannot write a Value into an array (an "
                        "in-place `array += value` too): write `x = x + value`, which gives a "
                        "Value")
    if method != "__call__":
        if method == "reduce" and ufunc in REDUCTIONS:
            raise TypeError(f"np.{name}.reduce on a Value: use Value.{REDUCTIONS[ufunc]}()")
        raise _reject(f"np.{name}.{method}", name)
    fn = UFUNCS.get(ufunc)
    if fn is None or kwargs:
        why = f" with {', '.join(kwargs)}=" if fn is not None else ""
        raise _reject(f"np.{name}", name, why)
    return fn(*inputs)


# ---- NumPy functions (NEP 18) ------------------------------------------------------------
def _only(fn: str, given: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    extra = [k for k, v in given.items() if v is not None and k not in allowed]
    if extra:
        raise TypeError(f"np.{fn} on a Value does not take {', '.join(extra)}=; "
                        "call the Value method instead")


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _reduction(name: str) -> Callable[..., Any]:
    def call(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: Any = False, **rest: Any) -> Value:
        _only(name, {"dtype": dtype, "out": out, **rest})
        return getattr(_as_value(a), name)(axis=axis, keepdims=bool(keepdims))
    return call


def _np_max(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False,
            **rest: Any) -> Value:
    _only("max", {"out": out, **rest})
    return _as_value(a).max(axis=axis, keepdims=bool(keepdims))


def _np_min(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False,
            **rest: Any) -> Value:
    _only("min", {"out": out, **rest})
    return _as_value(a).min(axis=axis, keepdims=bool(keepdims))


def _np_var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
            keepdims: Any = False, **rest: Any) -> Value:
    _only("var", {"dtype": dtype, "out": out, **rest})
    v = _as_value(a).var(axis=axis, keepdims=bool(keepdims))
    if ddof:
        n = _as_value(a).size / max(v.size, 1)
        v = v * (n / (n - ddof))
    return v


def _np_clip(a: Any, *bounds: Any, **kwargs: Any) -> Value:
    lo = bounds[0] if bounds else kwargs.pop("a_min", kwargs.pop("min", None))
    hi = bounds[1] if len(bounds) > 1 else kwargs.pop("a_max", kwargs.pop("max", None))
    _only("clip", kwargs)
    if isinstance(lo, Value) or isinstance(hi, Value) or not isinstance(a, Value):
        out = a if lo is None else F.maximum(a, lo)  # differentiable in the bounds too
        return out if hi is None else F.minimum(out, hi)
    return a.clip(lo, hi)


def _np_where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return np.where(_data(condition))  # the indices: no gradient to keep
    return F.where(condition, x, y)


def _np_concatenate(arrays: Any, axis: Any = 0, out: Any = None, **rest: Any) -> Value:
    _only("concatenate", {"out": out, **rest})
    if axis is None:
        return F.concatenate([_as_value(a).reshape(-1) for a in arrays])
    return F.concatenate(arrays, axis=axis)


def _np_stack(arrays: Any, axis: Any = 0, out: Any = None, **rest: Any) -> Value:
    _only("stack", {"out": out, **rest})
    return F.stack(arrays, axis=axis)


def _np_reshape(a: Any, *args: Any, **kwargs: Any) -> Value:
    shape = args[0] if args else kwargs.pop("shape", kwargs.pop("newshape", None))
    order = args[1] if len(args) > 1 else kwargs.pop("order", "C")
    if order != "C" or kwargs.pop("copy", None) is not None or kwargs:
        raise TypeError("np.reshape on a Value takes only the shape (C order)")
    return _as_value(a).reshape(shape)


def _np_transpose(a: Any, axes: Any = None) -> Value:
    return _as_value(a).transpose() if axes is None else _as_value(a).transpose(*axes)


def _np_round(a: Any, decimals: Any = 0, out: Any = None) -> Value:
    _only("round", {"out": out})
    return _as_value(a).round(decimals)


def _np_std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
            keepdims: Any = False, **rest: Any) -> Value:
    _only("std", {"dtype": dtype, "out": out, **rest})
    return _as_value(a).std(axis=axis, ddof=int(ddof), keepdims=bool(keepdims))


def _np_prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: Any = False, **rest: Any) -> Value:
    _only("prod", {"dtype": dtype, "out": out, **rest})
    return _as_value(a).prod(axis=axis, keepdims=bool(keepdims))


def _np_norm(x: Any, ord: Any = None, axis: Any = None, keepdims: Any = False) -> Value:
    v = _as_value(x)
    if ord is not None and v.ndim > 1 and axis is None:
        raise TypeError("np.linalg.norm on a Value: matrix norms (ord= on a matrix) are not "
                        "supported; flatten it for a vector norm")
    return v.norm(2 if ord is None else ord, dim=axis, keepdim=bool(keepdims))


def _cumulative(name: str) -> Callable[..., Any]:
    def call(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Value:
        _only(name, {"dtype": dtype, "out": out})
        return getattr(_as_value(a), name)(axis)
    return call


def _np_sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, **rest: Any) -> Value:
    _only("sort", {"order": order, **rest})
    v = _as_value(a)
    return (v.reshape(-1).sort(0) if axis is None else v.sort(axis)).values


def _np_size(a: Any, axis: Any = None) -> int:
    return int(np.size(_data(a), axis))


FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _reduction("sum"), np.mean: _reduction("mean"), np.var: _np_var,
    np.max: _np_max, np.amax: _np_max, np.min: _np_min, np.amin: _np_min,
    np.clip: _np_clip, np.where: _np_where, np.concatenate: _np_concatenate,
    np.stack: _np_stack, np.reshape: _np_reshape, np.transpose: _np_transpose,
    np.shape: lambda a: _as_value(a).shape, np.ndim: lambda a: _as_value(a).ndim,
    np.size: _np_size, np.round: _np_round, np.around: _np_round,
    np.fix: lambda a: _as_value(a).trunc(),
    np.std: _np_std, np.prod: _np_prod, np.linalg.norm: _np_norm,
    np.cumsum: _cumulative("cumsum"), np.cumprod: _cumulative("cumprod"), np.sort: _np_sort,
    np.einsum: lambda subscripts, *ops, **kw: ES.einsum(subscripts, *ops),
    np.flip: lambda a, axis=None: _as_value(a).flip(
        tuple(range(_as_value(a).ndim)) if axis is None else axis),
    np.roll: lambda a, shift, axis=None: _as_value(a).roll(shift, axis),
    np.triu: lambda m, k=0: _as_value(m).triu(k), np.tril: lambda m, k=0: _as_value(m).tril(k),
    np.squeeze: lambda a, axis=None: _as_value(a).squeeze(axis),
    np.expand_dims: lambda a, axis: _as_value(a).unsqueeze(axis),
    np.tile: lambda a, reps: _as_value(a).repeat(
        *((1,) * max(0, _as_value(a).ndim - len(np.atleast_1d(reps))) + tuple(np.atleast_1d(reps)))),
    np.pad: lambda a, pad_width, mode="constant", **kw: LY.pad_numpy(a, pad_width, mode, **kw),
    **{f: _on_data(f) for f in (np.argmax, np.argmin, np.argsort, np.nonzero, np.any, np.all,
                                np.count_nonzero, np.allclose, np.isclose, np.array_equal)},
}


def array_function(self: Value, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    fn = FUNCTIONS.get(func)
    if fn is None:
        name = getattr(func, "__name__", str(func))
        raise _reject(f"np.{name}", name)
    return fn(*args, **kwargs)


def array(self: Value, dtype: Any = None, copy: Any = None) -> np.ndarray:
    raise TypeError("a Value is not converted to a NumPy array (it would become an object "
                    "array and lose its gradient): use v.data, or v.numpy() for a copy")


Value.__array_ufunc__ = array_ufunc
Value.__array_function__ = array_function
Value.__array__ = array
