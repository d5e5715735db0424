"""More elementwise maps, as torch names them: trigonometric and hyperbolic functions and
their inverses, log2 log10 log1p expm1, square rsqrt reciprocal, atan2, and the rounding
functions floor ceil round trunc sign (whose gradient is zero everywhere, as torch's).

An elementwise map's Jacobian is diagonal, so its VJP and its JVP are one function: the
derivative f'(x) times the incoming vector (g in reverse mode, the tangent t in forward
mode). Each row therefore passes the same rule twice: ``defop(name, f, rule, jvp=(rule,))``.
The rules use operations that arrays and Values share, so they differentiate again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Value, apply, binary_method, defop, operand, unary_method
from ._common import _data, _dispatch, _div

sin = _dispatch(np.sin, "sin")
cos = _dispatch(np.cos, "cos")
sinh = _dispatch(np.sinh, "sinh")
cosh = _dispatch(np.cosh, "cosh")
sqrt = _dispatch(np.sqrt, "sqrt")

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _zero(g: Any, ans: Any, a: Any) -> Any:
    """The gradient of a step function: zero everywhere (torch's choice at the jumps too,
    where the true derivative does not exist). A constant, so it has no gradient itself."""
    if isinstance(g, Value):
        return Value(np.zeros_like(g.data), requires_grad=False) if g.shape else Value(
            0.0, requires_grad=False)
    return 0.0 * g if type(g) is float else np.zeros_like(g)


def _round(a: Any, decimals: int = 0) -> Any:
    """Half to even, as torch.round and np.round."""
    return np.round(a, decimals)


def _atan2_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """∂ atan2(a, b)/∂a = b / (a² + b²)."""
    return _div(g * b, a * a + b * b)


def _atan2_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """∂ atan2(a, b)/∂b = -a / (a² + b²)."""
    return _div(-g * a, a * a + b * b)


# ---- the table: (name, forward, rule for g or t) ------------------------------------------
def _sin_d(g: Any, ans: Any, a: Any) -> Any:
    return g * cos(a)


def _cos_d(g: Any, ans: Any, a: Any) -> Any:
    return -g * sin(a)


def _tan_d(g: Any, ans: Any, a: Any) -> Any:
    return g * (1.0 + ans * ans)


def _asin_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(g, sqrt(1.0 - a * a))


def _acos_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(-g, sqrt(1.0 - a * a))


def _atan_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(g, 1.0 + a * a)


def _sinh_d(g: Any, ans: Any, a: Any) -> Any:
    return g * cosh(a)


def _cosh_d(g: Any, ans: Any, a: Any) -> Any:
    return g * sinh(a)


def _asinh_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(g, sqrt(a * a + 1.0))


def _acosh_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(g, sqrt(a * a - 1.0))


def _atanh_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(g, 1.0 - a * a)


def _log2_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(g, a * _LN2)


def _log10_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(g, a * _LN10)


def _log1p_d(g: Any, ans: Any, a: Any) -> Any:
    return _div(g, a + 1.0)


def _expm1_d(g: Any, ans: Any, a: Any) -> Any:
    return g * (ans + 1.0)


def _square_d(g: Any, ans: Any, a: Any) -> Any:
    return g * a * 2.0


def _rsqrt_d(g: Any, ans: Any, a: Any) -> Any:
    """d x^(-1/2)/dx = -½ x^(-3/2) = -½ ans³."""
    return g * ans * ans * ans * -0.5


def _reciprocal_d(g: Any, ans: Any, a: Any) -> Any:
    return -g * ans * ans


def _rsqrt(a: Any) -> Any:
    with np.errstate(divide="ignore"):
        return 1.0 / np.sqrt(a)


def _reciprocal(a: Any) -> Any:
    with np.errstate(divide="ignore"):
        return np.reciprocal(a) if isinstance(a, np.ndarray) else _div(1.0, a)


SIN = defop("sin", np.sin, _sin_d, jvp=(_sin_d,))
COS = defop("cos", np.cos, _cos_d, jvp=(_cos_d,))
TAN = defop("tan", np.tan, _tan_d, jvp=(_tan_d,))
ASIN = defop("asin", np.arcsin, _asin_d, jvp=(_asin_d,))
ACOS = defop("acos", np.arccos, _acos_d, jvp=(_acos_d,))
ATAN = defop("atan", np.arctan, _atan_d, jvp=(_atan_d,))
SINH = defop("sinh", np.sinh, _sinh_d, jvp=(_sinh_d,))
COSH = defop("cosh", np.cosh, _cosh_d, jvp=(_cosh_d,))
ASINH = defop("asinh", np.arcsinh, _asinh_d, jvp=(_asinh_d,))
ACOSH = defop("acosh", np.arccosh, _acosh_d, jvp=(_acosh_d,))
ATANH = defop("atanh", np.arctanh, _atanh_d, jvp=(_atanh_d,))
LOG2 = defop("log2", np.log2, _log2_d, jvp=(_log2_d,))
LOG10 = defop("log10", np.log10, _log10_d, jvp=(_log10_d,))
LOG1P = defop("log1p", np.log1p, _log1p_d, jvp=(_log1p_d,))
EXPM1 = defop("expm1", np.expm1, _expm1_d, jvp=(_expm1_d,))
SQUARE = defop("square", np.square, _square_d, jvp=(_square_d,))
RSQRT = defop("rsqrt", _rsqrt, _rsqrt_d, jvp=(_rsqrt_d,))
RECIPROCAL = defop("reciprocal", _reciprocal, _reciprocal_d, jvp=(_reciprocal_d,))
FLOOR = defop("floor", np.floor, _zero, jvp=(_zero,))
CEIL = defop("ceil", np.ceil, _zero, jvp=(_zero,))
ROUND = defop("round", _round, lambda g, ans, a, decimals=0: _zero(g, ans, a),
              jvp=(lambda t, ans, a, decimals=0: _zero(t, ans, a),))
TRUNC = defop("trunc", np.trunc, _zero, jvp=(_zero,))
SIGN = defop("sign", np.sign, _zero, jvp=(_zero,))
ATAN2 = defop("atan2", np.arctan2, _atan2_a, _atan2_b, jvp=(_atan2_a, _atan2_b))


# ---- Value methods and module functions ------------------------------------------------------
_METHODS = {
    "sin": (SIN, "sin x"), "cos": (COS, "cos x"), "tan": (TAN, "tan x"),
    "asin": (ASIN, "arcsin x, for -1 ≤ x ≤ 1"), "acos": (ACOS, "arccos x, for -1 ≤ x ≤ 1"),
    "atan": (ATAN, "arctan x"), "sinh": (SINH, "sinh x = (eˣ - e⁻ˣ) / 2"),
    "cosh": (COSH, "cosh x = (eˣ + e⁻ˣ) / 2"), "asinh": (ASINH, "the inverse of sinh"),
    "acosh": (ACOSH, "the inverse of cosh, for x ≥ 1"),
    "atanh": (ATANH, "the inverse of tanh, for -1 < x < 1"),
    "log2": (LOG2, "log₂ x"), "log10": (LOG10, "log₁₀ x"),
    "log1p": (LOG1P, "log(1 + x), accurate for small x"),
    "expm1": (EXPM1, "eˣ - 1, accurate for small x"), "square": (SQUARE, "x²"),
    "rsqrt": (RSQRT, "1 / √x"), "reciprocal": (RECIPROCAL, "1 / x"),
    "floor": (FLOOR, "the largest integer ≤ x; gradient zero (as torch)"),
    "ceil": (CEIL, "the smallest integer ≥ x; gradient zero (as torch)"),
    "trunc": (TRUNC, "x rounded toward zero; gradient zero (as torch)"),
    "sign": (SIGN, "-1, 0 or 1; gradient zero (as torch)"),
}
for _name, (_op, _doc) in _METHODS.items():
    setattr(Value, _name, unary_method(_op, _doc))
Value.arcsin, Value.arccos, Value.arctan = Value.asin, Value.acos, Value.atan  # torch's aliases
Value.arcsinh, Value.arccosh, Value.arctanh = Value.asinh, Value.acosh, Value.atanh
Value.fix = Value.trunc


def round_(self: Value, decimals: int = 0) -> Value:
    """Round half to even (as torch.round), to `decimals` places; gradient zero."""
    if not isinstance(decimals, int | np.integer):
        raise TypeError(f"round takes an integer number of decimals, got {decimals!r}")
    return apply(ROUND, self, decimals=int(decimals)) if decimals else apply(ROUND, self)


def pow_(self: Value, exponent: Any) -> Value:
    """self ** exponent (torch.Tensor.pow): the exponent may be a number, array or Value."""
    return self ** exponent


Value.round = round_
Value.pow = pow_
Value.atan2 = binary_method(ATAN2)
Value.arctan2 = Value.atan2


def _operand(x: Any, fn: str) -> Any:
    c = operand(x)
    if c is None:
        raise TypeError(f"{fn} takes Values, numbers or arrays, got {type(x).__name__}")
    return c


def atan2(a: Any, b: Any) -> Value:
    """The angle of the point (b, a): arctan(a / b) in the right quadrant (torch.atan2)."""
    return apply(ATAN2, _operand(a, "atan2"), _operand(b, "atan2"))


def pow(a: Any, b: Any) -> Value:
    """a ** b (torch.pow); a or b may be a number, array or Value."""
    a, b = _operand(a, "pow"), _operand(b, "pow")
    if not isinstance(a, Value) and not isinstance(b, Value):
        a = Value(_data(a))
    return a ** b
