"""The other activation functions of torch.nn.functional: softplus elu selu celu silu mish
hardtanh relu6 hardsigmoid hardswish softsign logsigmoid.

Each is elementwise, so (as in `elementwise.py`) one rule serves as VJP and JVP: f'(x)
times the incoming vector. Where a function has a kink, the derivative on it is torch's
choice, written in the rule's docstring (docs/torch-api.md lists them all); masks are
constants in the input's dtype, so float32 stays float32 and the rules differentiate again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, defop
from ._common import _data, _dispatch, _div, exp
from .arithmetic import _sigmoid
from .functions import _factor

tanh = _dispatch(np.tanh, "tanh")
sigmoid = _dispatch(_sigmoid, "sigmoid")

# SELU's constants (Klambauer et al. 2017), to the digits torch uses
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _mask(cond: Any, like: Any) -> Any:
    """A boolean condition on the data as 0/1 in like's kind (float or like's dtype)."""
    return _factor(np.asarray(cond), like)


def _x(a: Any) -> Any:
    return np.asarray(_data(a))


def _select(cond: np.ndarray, yes: Any, no: Any, like: Any) -> Any:
    """yes where cond, else no, as `yes·m + no·(1 - m)`: works on Values, keeps the dtype."""
    m = _mask(cond, like)
    return yes * m + no * (1.0 - m)


# ---- softplus --------------------------------------------------------------------------------
def _softplus(a: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + e^(βx)) / β, and x itself where βx > threshold (as torch: no overflow)."""
    x = np.asarray(a)
    z = x * beta
    out = np.where(z > threshold, x, np.logaddexp(0.0, z) / beta)
    return float(out) if type(a) is float else out.astype(x.dtype)


def _softplus_d(g: Any, ans: Any, a: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """σ(βx), and 1 where βx > threshold (torch's linear part)."""
    s = sigmoid(a * beta)
    return g * _select(_x(a) * beta > threshold, 1.0, s, a)


# ---- the exponential linear units ------------------------------------------------------------
def _elu(a: Any, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0) -> Any:
    """scale · (x for x > 0, else α (e^(x·input_scale) - 1)): elu, selu and celu in one."""
    x = np.asarray(a)
    neg = alpha * np.expm1(np.minimum(x, 0.0) * input_scale)
    out = scale * np.where(x > 0, x, neg)
    return float(out) if type(a) is float else out.astype(x.dtype)


def _elu_d(g: Any, ans: Any, a: Any, alpha: float = 1.0, scale: float = 1.0,
           input_scale: float = 1.0) -> Any:
    """scale where x > 0, else scale·α·input_scale·e^(x·input_scale) (torch takes the
    exponential side at x = 0, so elu'(0) = α)."""
    pos = _x(a) > 0
    clipped = a * _mask(~pos, a)  # x on the exponential side, 0 on the other (no overflow)
    side = exp(clipped * input_scale) * (alpha * input_scale)
    return g * _select(pos, 1.0, side, a) * scale


# ---- x·gate activations ----------------------------------------------------------------------
def _silu(a: Any) -> Any:
    return a * _sigmoid(a)


def _silu_d(g: Any, ans: Any, a: Any) -> Any:
    """σ(x) (1 + x (1 - σ(x)))."""
    s = sigmoid(a)
    return g * s * (1.0 + a * (1.0 - s))


def _mish(a: Any) -> Any:
    """x tanh(softplus(x))."""
    return a * np.tanh(_softplus(a))


def _mish_d(g: Any, ans: Any, a: Any) -> Any:
    """tanh(sp(x)) + x σ(x) (1 - tanh²(sp(x))), sp the softplus (torch's formula)."""
    th = tanh(_softplus_value(a))
    return g * (th + a * sigmoid(a) * (1.0 - th * th))


def _softplus_value(a: Any) -> Any:
    return apply(SOFTPLUS, a) if isinstance(a, Value) else _softplus(a)


# ---- the hard (piecewise linear) ones --------------------------------------------------------
def _hardtanh(a: Any, min_val: float = -1.0, max_val: float = 1.0) -> Any:
    out = np.clip(a, min_val, max_val)
    return float(out) if type(a) is float else out


def _hardtanh_d(g: Any, ans: Any, a: Any, min_val: float = -1.0, max_val: float = 1.0) -> Any:
    """1 strictly inside (min_val, max_val), 0 outside and on the bounds (as torch; clip
    instead counts the bounds as inside)."""
    x = _x(a)
    return g * _mask((x > min_val) & (x < max_val), a)


def _hardsigmoid(a: Any) -> Any:
    """relu6(x + 3) / 6."""
    out = np.clip(np.asarray(a) + 3.0, 0.0, 6.0) / 6.0
    return float(out) if type(a) is float else out.astype(np.asarray(a).dtype)


# torch's hardsigmoid backward multiplies by 1/6 rounded to float32 (`1.0f / 6.0f` in its
# kernel) even in float64; the same constant here keeps the gradients equal to torch's to the
# last digit (it differs from 1/6 by 3e-8 relative; docs/torch-api.md says so).
_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


def _hardsigmoid_d(g: Any, ans: Any, a: Any) -> Any:
    """1/6 strictly inside (-3, 3), else 0 (as torch)."""
    x = _x(a)
    return g * _mask((x > -3.0) & (x < 3.0), a) * _ONE_SIXTH_F32


def _hardswish(a: Any) -> Any:
    """x · relu6(x + 3) / 6."""
    return a * _hardsigmoid(a)


def _hardswish_d(g: Any, ans: Any, a: Any) -> Any:
    """0 for x ≤ -3, x/3 + ½ for -3 < x < 3, 1 for x ≥ 3 (torch's sides at the kinks)."""
    x = _x(a)
    middle = _mask((x > -3.0) & (x < 3.0), a)
    return g * (middle * (a * (1.0 / 3.0) + 0.5) + _mask(x >= 3.0, a))


def _softsign(a: Any) -> Any:
    """x / (1 + |x|)."""
    return _div(a, 1.0 + abs(a))


def _softsign_d(g: Any, ans: Any, a: Any) -> Any:
    """1 / (1 + |x|)²."""
    d = 1.0 + abs(a)
    return _div(g, d * d)


def _logsigmoid(a: Any) -> Any:
    """log σ(x) = min(x, 0) - log(1 + e^(-|x|)), without overflow."""
    out = np.minimum(a, 0.0) - np.log1p(np.exp(-np.abs(a)))
    return float(out) if type(a) is float else out


def _logsigmoid_d(g: Any, ans: Any, a: Any) -> Any:
    """1 - σ(x) = σ(-x)."""
    return g * sigmoid(-a)


# ---- the table ---------------------------------------------------------------------------------
SOFTPLUS = defop("softplus", _softplus, _softplus_d, jvp=(_softplus_d,))
ELU = defop("elu", _elu, _elu_d, jvp=(_elu_d,))
SILU = defop("silu", _silu, _silu_d, jvp=(_silu_d,))
MISH = defop("mish", _mish, _mish_d, jvp=(_mish_d,))
HARDTANH = defop("hardtanh", _hardtanh, _hardtanh_d, jvp=(_hardtanh_d,))
HARDSIGMOID = defop("hardsigmoid", _hardsigmoid, _hardsigmoid_d, jvp=(_hardsigmoid_d,))
HARDSWISH = defop("hardswish", _hardswish, _hardswish_d, jvp=(_hardswish_d,))
SOFTSIGN = defop("softsign", _softsign, _softsign_d, jvp=(_softsign_d,))
LOGSIGMOID = defop("logsigmoid", _logsigmoid, _logsigmoid_d, jvp=(_logsigmoid_d,))


# ---- module functions (torch.nn.functional's names and arguments) -----------------------------
def _value(x: Any, fn: str) -> Value:
    if isinstance(x, Value):
        return x
    try:
        return Value(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{fn} takes a Value, a number or an array: {e}") from None


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Value:
    """Softplus(x) = log(1 + e^(βx)) / β; linear where βx > threshold (as torch)."""
    if beta == 1.0 and threshold == 20.0:
        return apply(SOFTPLUS, _value(x, "softplus"))
    return apply(SOFTPLUS, _value(x, "softplus"), beta=float(beta), threshold=float(threshold))


def elu(x: Any, alpha: float = 1.0) -> Value:
    """ELU(x) = x for x > 0, else α (eˣ - 1)."""
    return apply(ELU, _value(x, "elu"), alpha=float(alpha))


def selu(x: Any) -> Value:
    """SELU(x) = scale · ELU(x, α) with torch's α ≈ 1.6733 and scale ≈ 1.0507."""
    return apply(ELU, _value(x, "selu"), alpha=SELU_ALPHA, scale=SELU_SCALE)


def celu(x: Any, alpha: float = 1.0) -> Value:
    """CELU(x) = max(0, x) + min(0, α (e^(x/α) - 1))."""
    if alpha == 0:
        raise ValueError("celu's alpha must not be 0 (it divides by alpha)")
    return apply(ELU, _value(x, "celu"), alpha=float(alpha), input_scale=1.0 / alpha)


def silu(x: Any) -> Value:
    """SiLU(x) = x σ(x) (also called swish)."""
    return apply(SILU, _value(x, "silu"))


def mish(x: Any) -> Value:
    """Mish(x) = x tanh(softplus(x))."""
    return apply(MISH, _value(x, "mish"))


def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Value:
    """x limited to [min_val, max_val]; gradient 1 strictly inside, 0 elsewhere (torch)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh needs min_val <= max_val, got {min_val} > {max_val}")
    return apply(HARDTANH, _value(x, "hardtanh"), min_val=float(min_val),
                 max_val=float(max_val))


def relu6(x: Any) -> Value:
    """ReLU6(x) = min(max(0, x), 6): hardtanh(x, 0, 6), as torch computes it."""
    return apply(HARDTANH, _value(x, "relu6"), min_val=0.0, max_val=6.0)


def hardsigmoid(x: Any) -> Value:
    """Hardsigmoid(x) = relu6(x + 3) / 6."""
    return apply(HARDSIGMOID, _value(x, "hardsigmoid"))


def hardswish(x: Any) -> Value:
    """Hardswish(x) = x · relu6(x + 3) / 6."""
    return apply(HARDSWISH, _value(x, "hardswish"))


def softsign(x: Any) -> Value:
    """Softsign(x) = x / (1 + |x|)."""
    return apply(SOFTSIGN, _value(x, "softsign"))


def logsigmoid(x: Any) -> Value:
    """LogSigmoid(x) = log σ(x), computed without overflow."""
    return apply(LOGSIGMOID, _value(x, "logsigmoid"))


ACTIVATIONS = {f.__name__: f for f in (softplus, elu, selu, celu, silu, mish, hardtanh,
                                       relu6, hardsigmoid, hardswish, softsign, logsigmoid)}
for _name, _fn in ACTIVATIONS.items():
    setattr(Value, _name, _fn)  # v.softplus(beta=2) as F.softplus(v, beta=2)
