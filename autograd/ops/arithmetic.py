"""Elementwise arithmetic: ``+ - * / **``, negation, exp, log, sqrt, tanh, sigmoid, relu, abs.

Each entry reads ``defop(name, forward, vjp_for_input_0, vjp_for_input_1, ...)``. A VJP
``vjp(g, ans, *inputs, **params)`` receives g = dL/d(ans) and returns dL/d(that input) —
the chain rule's local step. The engine sums it back to the input's shape when broadcasting
stretched it. The VJPs only use operations that numpy arrays and Values both have, so one
rule gives fast first-order gradients on raw arrays and differentiable gradients (second
derivatives and up) on Values.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from ..engine import Value, binary_method, defop, unary_method
from ._common import _data, _div, _zero_one, log, power

# Forward mode: an elementwise op's Jacobian is diagonal (output k depends on input k
# only), so its JVP J·t is the same product as its VJP Jᵀ·g with the tangent t for g; the
# rows below pass their VJPs as their JVPs. (A broadcast input's tangent broadcasts the
# same way its value does.)


def _sigmoid(x: Any) -> Any:
    """σ(x) = 1 / (1 + e^(-x)), computed without overflow for large |x|."""
    if type(x) is float:
        e = math.exp(-abs(x))
        return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _tanh(x: Any) -> Any:
    return math.tanh(x) if type(x) is float else np.tanh(x)


def _relu(x: Any) -> Any:
    """max(0, x); NaN passes through, as np.maximum."""
    if type(x) is float:
        return x if x > 0 or math.isnan(x) else 0.0
    return np.maximum(x, 0.0)



def _pow_vjp_base(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """d(aᵇ)/da = b·aᵇ⁻¹, taken as 0 where b = 0 even at a = 0 (as PyTorch), not 0·∞."""
    hole = (np.asarray(_data(b)) == 0) & (np.asarray(_data(a)) == 0)
    if hole.any():
        a = a + _zero_one(hole, a)  # 0 · 1⁻¹ = 0 there
    return g * b * power(a, b - 1)


def _pow_vjp_exponent(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """d(aᵇ)/db = aᵇ·log a, taken as 0 where a = 0 and b ≥ 0 (as PyTorch), not 0·(-∞)."""
    hole = (np.asarray(_data(a)) == 0) & (np.asarray(_data(b)) >= 0)
    if hole.any():
        a = a + _zero_one(hole, a)  # log 1 = 0 there
    return g * ans * log(a)


def _relu_vjp(g: Any, ans: Any, a: Any) -> Any:
    """dReLU/dx = 1 where x > 0, else 0. Where x is NaN, g passes (as in PyTorch, which
    zeroes the gradient where x <= 0)."""
    if type(a) is float:
        return 0.0 if a <= 0 else g
    mask = np.asarray(_data(ans) != 0.0)  # ans = max(0, x) is 0 where x <= 0; NaN stays NaN
    if isinstance(g, Value):  # as 0/1 of a's dtype: a bool array would turn float32 to float64
        return g * _zero_one(mask, a)
    return g * mask  # (np.where is 4-9x slower here)


def _abs_vjp(g: Any, ans: Any, a: Any) -> Any:
    """d|x|/dx = sign(x): 1, -1, and 0 at 0 and at NaN (as PyTorch's sgn)."""
    d = _data(a)
    if type(d) is float:
        return g if d > 0 else (-g if d < 0 else 0.0 * g)
    return g * (_zero_one(np.asarray(d > 0), a) - _zero_one(np.asarray(d < 0), a))



# ---- the table ------------------------------------------------------------------------
def _elementwise(name: str, forward: Any, *vjps: Any) -> Any:
    """A row whose JVPs are its VJPs (a diagonal Jacobian: see above)."""
    return defop(name, forward, *vjps, jvp=vjps)


ADD = _elementwise("add", operator.add,
                   lambda g, ans, a, b: g,
                   lambda g, ans, a, b: g)
SUB = _elementwise("sub", operator.sub,
                   lambda g, ans, a, b: g,
                   lambda g, ans, a, b: -g)
MUL = _elementwise("mul", operator.mul,
                   lambda g, ans, a, b: g * b,
                   lambda g, ans, a, b: g * a)
DIV = _elementwise("div", _div,
                   lambda g, ans, a, b: _div(g, b),  # _div: 1/0 is inf for Python floats too
                   lambda g, ans, a, b: _div(-g * ans, b))
POW = _elementwise("pow", np.power, _pow_vjp_base, _pow_vjp_exponent)
NEG = _elementwise("neg", operator.neg,
                   lambda g, ans, a: -g)

EXP = _elementwise("exp", np.exp, lambda g, ans, a: g * ans)
LOG = _elementwise("log", np.log, lambda g, ans, a: _div(g, a))
SQRT = _elementwise("sqrt", np.sqrt, lambda g, ans, a: _div(g * 0.5, ans))
TANH = _elementwise("tanh", _tanh, lambda g, ans, a: g * (1 - ans * ans))
SIGMOID = _elementwise("sigmoid", _sigmoid, lambda g, ans, a: g * ans * (1 - ans))
RELU = _elementwise("relu", _relu, _relu_vjp)
ABS = _elementwise("abs", np.abs, _abs_vjp)


# ---- Value's operators and methods -------------------------------------------------------
def _compare(fn: Any) -> Any:
    def method(self: Value, other: Any) -> Any:
        return fn(self.data, _data(other))
    return method


for _name, _op in (("add", ADD), ("sub", SUB), ("mul", MUL), ("truediv", DIV), ("pow", POW)):
    setattr(Value, f"__{_name}__", binary_method(_op))
    setattr(Value, f"__r{_name}__", binary_method(_op, reflected=True))
Value.__neg__ = unary_method(NEG, "-x")
Value.__pos__ = lambda self: self
Value.exp = unary_method(EXP, "e^x")
Value.log = unary_method(LOG, "natural logarithm; log(0) = -inf (numpy warns)")
Value.sqrt = unary_method(SQRT, "√x")
Value.tanh = unary_method(TANH, "tanh(x) = (e^x - e^-x) / (e^x + e^-x)")
Value.sigmoid = unary_method(SIGMOID, "σ(x) = 1 / (1 + e^(-x))")
Value.relu = unary_method(RELU, "ReLU(x) = max(0, x)")
Value.abs = unary_method(ABS, "|x|")
Value.__abs__ = Value.abs
Value.__lt__ = _compare(operator.lt)
Value.__le__ = _compare(operator.le)
Value.__gt__ = _compare(operator.gt)
Value.__ge__ = _compare(operator.ge)
