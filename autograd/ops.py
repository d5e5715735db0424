"""The derivative table: every operation's forward map and its vector-Jacobian products.

Each entry reads ``defop(name, forward, vjp_for_input_0, vjp_for_input_1, ...)``. A VJP
``vjp(g, ans, *inputs, **params)`` receives g = dL/d(ans) and returns dL/d(that input) —
the chain rule's local step. The engine sums it back to the input's shape when broadcasting
stretched it.

The VJPs only use operations that numpy arrays and Values both have (``* / + - @``,
``.sum``, ``.reshape``, ``.transpose``, and the dispatchers ``exp``/``log``/``power``
below), so one rule gives fast first-order gradients on raw arrays and differentiable
gradients (second derivatives and up) on Values. The table itself (`OPS`, `defop`, `Op`)
lives in the engine and is re-exported here. Adding an op is one entry here, one Value
method at the bottom (`binary_method`/`unary_method` for operators), and one line in the
tests.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .engine import OPS, Op, Value, apply, binary_method, broadcast_to, defop, operand, unary_method

__all__ = ["OPS", "Op", "defop"]  # the registry lives in the engine; re-exported here
_const = operand  # the name files beside this one import


# ---- helpers that work on raw data and on Values alike --------------------------------
def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _shape(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, Value | np.ndarray) else np.shape(x)


def _dispatch(np_fn: Any, method: str) -> Any:
    def fn(x: Any, *args: Any) -> Any:
        if isinstance(x, Value):
            return getattr(x, method)(*args)
        out = np_fn(x, *args)
        # a Python float stays one: np.float64 would promote float32 (NumPy 2's rules)
        return float(out) if type(x) is float else out
    fn.__name__ = method
    return fn


exp = _dispatch(np.exp, "exp")
log = _dispatch(np.log, "log")


def power(a: Any, b: Any) -> Any:
    if isinstance(a, Value) or isinstance(b, Value):
        return a ** b
    return np.power(a, b)


def _mT(x: Any) -> Any:
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    n = len(_shape(x))
    if n == 2:
        return x.T
    axes = list(range(n))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return x.transpose(axes)


def _keepdims_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape a reduction over `axis` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Put back the axes a reduction removed, so g broadcasts against its input."""
    if keepdims or not shape:
        return g
    return g.reshape(_keepdims_shape(shape, axis))


# ---- forward maps that need care ------------------------------------------------------
def _div(a: Any, b: Any) -> Any:
    try:
        return a / b
    except ZeroDivisionError:  # Python floats: follow numpy (inf or nan, with a warning)
        return np.divide(a, b)


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


def _matmul(a: Any, b: Any) -> Any:
    sa, sb = np.shape(a), np.shape(b)
    if not sa or not sb:
        raise ValueError(f"@ needs operands with at least one axis, got shapes {sa} and {sb}; "
                         "use * to multiply by a scalar")
    k_right = sb[-2] if len(sb) > 1 else sb[0]
    if sa[-1] != k_right:
        where = "second-to-last" if len(sb) > 1 else "only"
        raise ValueError(f"shapes {sa} @ {sb} do not match: the left operand's last axis "
                         f"({sa[-1]}) must equal the right operand's {where} axis ({k_right})")
    return np.matmul(a, b)


# (ufunc.reduce directly: np.max / np.sum add a Python layer that small batches notice)
def _softmax(x: Any, axis: int) -> Any:
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def _log_softmax(x: Any, axis: int) -> Any:
    s = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    s -= np.log(np.add.reduce(np.exp(s), axis=axis, keepdims=True))
    return s


def _is_basic_index(index: Any) -> bool:
    """True when `index` has no integer arrays, so no position can repeat."""
    parts = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def _index_add(g: Any, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """zeros(shape) with g added at `index` (repeated positions accumulate)."""
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


# ---- matmul's VJPs, for 1-D, 2-D and batched operands as numpy defines them -------------
def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 2 and nb == 2:
        return g @ b.T
    if nb == 1:  # ans = a · b over a's last axis: dL/da = g ⊗ b
        return g.reshape(_shape(g) + (1,)) * b
    if na == 1:  # a acts as a (1, k) row
        g1 = g.reshape(_shape(g)[:-1] + (1,) + _shape(g)[-1:])
        ga = g1 @ _mT(b)
        return ga.reshape(_shape(ga)[:-2] + _shape(ga)[-1:])
    return g @ _mT(b)


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 2 and nb == 2:
        return a.T @ g
    if na == 1:  # dL/db = a ⊗ g (an outer product, batched over g's leading axes)
        if nb == 1:
            return a * g
        return a.reshape((-1, 1)) * g.reshape(_shape(g)[:-1] + (1,) + _shape(g)[-1:])
    if nb == 1:  # b acts as a (k, 1) column
        gb = _mT(a) @ g.reshape(_shape(g) + (1,))
        return gb.reshape(_shape(gb)[:-1])
    return _mT(a) @ g


def _zero_one(mask: np.ndarray, like: Any) -> Any:
    """A boolean mask as 0.0/1.0 in like's kind (a float for a scalar, like's dtype)."""
    d = _data(like)
    if mask.ndim == 0 and type(d) is float:
        return float(mask)
    return mask.astype(d.dtype if isinstance(d, np.ndarray) else np.float64)


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


def _reduce_vjp(g: Any, a: Any, axis: Any, keepdims: bool, scale: float = 1.0) -> Any:
    """g spread back over the reduced axes (times `scale`: 1/count for mean)."""
    shape = _shape(a)
    if type(g) is np.ndarray and type(a) is np.ndarray and a.size <= 4096:
        # small: a filled array costs less than np.broadcast_to's Python layer
        out = np.empty(shape, dtype=np.result_type(g, a))
        out[...] = _expand(g, shape, axis, keepdims)
        if scale != 1.0:
            out *= scale
        return out
    g = broadcast_to(_expand(g, shape, axis, keepdims), shape)
    return g if scale == 1.0 else g * scale


def _sum(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if type(a) is np.ndarray:
        return np.add.reduce(a, axis=axis, keepdims=keepdims)
    return np.sum(a, axis=axis, keepdims=keepdims)


def _mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if type(a) is np.ndarray and a.size:
        total = np.add.reduce(a, axis=axis, keepdims=keepdims)
        return total / (a.size // max(np.size(total), 1))
    return np.mean(a, axis=axis, keepdims=keepdims)


def _max_vjp(g: Any, ans: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The gradient goes to the maximal entries; ties share it equally."""
    shape = _shape(a)
    ad = np.asarray(_data(a))
    m = np.asarray(_data(ans)).reshape(_keepdims_shape(shape, axis) if shape else ())
    mask = (ad == m).astype(ad.dtype)
    mask /= mask.sum(axis=axis, keepdims=True)
    return _expand(g, shape, axis, keepdims) * mask


# ---- the table --------------------------------------------------------------------------
ADD = defop("add", operator.add,
            lambda g, ans, a, b: g,
            lambda g, ans, a, b: g)
SUB = defop("sub", operator.sub,
            lambda g, ans, a, b: g,
            lambda g, ans, a, b: -g)
MUL = defop("mul", operator.mul,
            lambda g, ans, a, b: g * b,
            lambda g, ans, a, b: g * a)
DIV = defop("div", _div,
            lambda g, ans, a, b: _div(g, b),  # _div: 1/0 is inf for Python floats too
            lambda g, ans, a, b: _div(-g * ans, b))
POW = defop("pow", np.power, _pow_vjp_base, _pow_vjp_exponent)
NEG = defop("neg", operator.neg,
            lambda g, ans, a: -g)
MATMUL = defop("matmul", _matmul, _matmul_vjp_a, _matmul_vjp_b)

EXP = defop("exp", np.exp, lambda g, ans, a: g * ans)
LOG = defop("log", np.log, lambda g, ans, a: _div(g, a))
SQRT = defop("sqrt", np.sqrt, lambda g, ans, a: _div(g * 0.5, ans))
TANH = defop("tanh", _tanh, lambda g, ans, a: g * (1 - ans * ans))
SIGMOID = defop("sigmoid", _sigmoid, lambda g, ans, a: g * ans * (1 - ans))
RELU = defop("relu", _relu, _relu_vjp)
ABS = defop("abs", np.abs, _abs_vjp)

SUM = defop("sum", _sum,
            lambda g, ans, a, axis=None, keepdims=False: _reduce_vjp(g, a, axis, keepdims))
MEAN = defop("mean", _mean,
             lambda g, ans, a, axis=None, keepdims=False:
                 _reduce_vjp(g, a, axis, keepdims,  # (an empty input: an empty gradient)
                             np.size(_data(ans)) / max(np.size(_data(a)), 1)))
MAX = defop("max", lambda a, axis=None, keepdims=False: np.max(a, axis=axis, keepdims=keepdims),
            _max_vjp)

RESHAPE = defop("reshape", lambda a, shape: np.reshape(a, shape),
                lambda g, ans, a, shape: g.reshape(_shape(a)))
TRANSPOSE = defop("transpose", lambda a, axes: np.transpose(a, axes),
                  lambda g, ans, a, axes: g.transpose(
                      None if axes is None else tuple(np.argsort(axes))))
BROADCAST_TO = defop("broadcast_to", lambda a, shape: np.broadcast_to(a, shape),
                     lambda g, ans, a, shape: g)  # the engine sums g back to a's shape
GETITEM = defop("getitem", lambda a, index: a[index],
                lambda g, ans, a, index: index_add(g, index, _shape(a)))
INDEX_ADD = defop("index_add", _index_add,
                  lambda g, ans, a, index, shape: g[index])


def _to_scalar(a: Any) -> float:
    return a.item() if type(a) is np.ndarray else float(np.reshape(a, ()))


def _to_scalar_vjp(g: Any, ans: Any, a: Any) -> Any:
    """g in a's one element, in a's dtype (g a Python float or scalar Value: float32 stays)."""
    if type(g) is float and type(a) is np.ndarray and not a.ndim:
        return a.dtype.type(g)  # g × ones_like(a) for a 0-d a, without the two array calls
    return (to_scalar(g) if isinstance(g, Value) else float(g)) * np.ones_like(_data(a))


TO_SCALAR = defop("to_scalar", _to_scalar, _to_scalar_vjp)

SOFTMAX = defop("softmax", _softmax,
                lambda g, ans, a, axis: ans * (g - (g * ans).sum(axis=axis, keepdims=True)))
LOG_SOFTMAX = defop("log_softmax", _log_softmax,
                    lambda g, ans, a, axis: g - exp(ans) * g.sum(axis=axis, keepdims=True))


# ---- fused ops: one node where the step-by-step graph would need several ----------------
# nn uses them for batches: fewer Python steps, and no intermediate gradient arrays (each
# of which a Value in the graph would keep as its .grad).
def _linear(x: Any, w: Any, b: Any) -> Any:
    """x @ wᵀ + b, w shaped (nout, nin) as the document writes a layer's weights."""
    sx = x.shape if type(x) is np.ndarray else np.shape(x)
    sw = w.shape if type(w) is np.ndarray else np.shape(w)
    if len(sw) != 2 or not sx or sx[-1] != sw[1]:
        raise ValueError(f"linear needs w of shape (nout, nin) and x with nin = {sw[-1:]} "
                         f"features in its last axis; got x {sx} and w {sw}")
    if (b.shape if type(b) is np.ndarray else np.shape(b)) != sw[:1]:
        raise ValueError(f"linear needs b of shape {sw[:1]} (one per output), got {np.shape(b)}")
    # (np.dot is np.matmul for 2-D operands, the same numbers, with less call overhead)
    out = np.dot(x, w.T) if len(sx) == 2 else np.matmul(x, w.T)
    out += b  # out is a fresh array: add in place
    return out


def _linear_vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    if type(g) is np.ndarray and type(w) is np.ndarray and g.ndim == 2:
        return np.dot(g, w)
    return g @ w


def _linear_vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    """dL/dw = gᵀ x, summed over the batch (every leading axis of x)."""
    if type(g) is np.ndarray and type(x) is np.ndarray and x.ndim == 2:
        return np.dot(g.T, x)
    nd = len(_shape(x))
    if nd == 1:
        return g.reshape((-1, 1)) * x
    if nd > 2:
        g = g.reshape((-1, _shape(w)[0]))
        x = x.reshape((-1, _shape(w)[1]))
    return _mT(g) @ x


def _linear_vjp_b(g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    if type(g) is np.ndarray and g.ndim == 2:
        return np.add.reduce(g, axis=0)
    nd = len(_shape(g))
    return g if nd == 1 else g.sum(axis=tuple(range(nd - 1)))


def _one_hot(index: Any, like: Any) -> np.ndarray:
    t = np.zeros(_shape(like), dtype=np.asarray(_data(like)).dtype)
    t[np.arange(t.shape[0]), index] = 1.0
    return t


def _cross_entropy(z: Any, t: Any = None, index: Any = None) -> Any:
    """The mean over rows of -Σₖ tₖ log softmax(z)ₖ; with `index`, t is one-hot."""
    logp = _log_softmax(z, -1)
    n = z.shape[0]
    if index is not None:
        return -np.add.reduce(logp[np.arange(n), index]) / n
    return -np.add.reduce((t * logp).ravel()) / n


def _cross_entropy_vjp_z(g: Any, ans: Any, z: Any, t: Any = None, index: Any = None) -> Any:
    """dL/dz = (softmax(z) × Σₖtₖ - t) / n: the document's p - y for one-hot rows."""
    n = _shape(z)[0]
    if isinstance(z, Value) or isinstance(t, Value) or isinstance(g, Value):
        if index is not None:
            t = _one_hot(index, z)
        p = z.softmax(axis=-1) if isinstance(z, Value) else _softmax(z, -1)
        return g * (p * t.sum(axis=-1, keepdims=True) - t) * (1.0 / n)
    p = _softmax(z, -1)
    if index is not None:
        np.subtract.at(p, (np.arange(n), index), 1.0)  # (quicker than p[rows, index] -= 1)
    else:
        p = p * t.sum(axis=-1, keepdims=True) - t
    p *= g / n
    return p


def _cross_entropy_vjp_t(g: Any, ans: Any, z: Any, t: Any = None, index: Any = None) -> Any:
    logp = z.log_softmax(axis=-1) if isinstance(z, Value) else _log_softmax(z, -1)
    return g * logp * (-1.0 / _shape(z)[0])


LINEAR = defop("linear", _linear, _linear_vjp_x, _linear_vjp_w, _linear_vjp_b)
CROSS_ENTROPY = defop("cross_entropy", _cross_entropy, _cross_entropy_vjp_z,
                      _cross_entropy_vjp_t)


def linear(x: Any, w: Any, b: Any = None) -> Value:
    """``x @ w.T + b`` as one node (a layer's affine map; w shaped (nout, nin), b (nout,);
    no b: zeros). The same numbers and gradients as the three-node graph, with a third of
    the bookkeeping and no intermediate gradient arrays."""
    if b is None:
        wd = _data(w)
        b = np.zeros(np.shape(wd)[:1], dtype=np.result_type(wd))
    return apply(LINEAR, x, w, b)


def cross_entropy(logits: Any, target: Any = None, index: Any = None) -> Value:
    """Softmax cross-entropy of a batch of logits (N, C) as one node, averaged over rows:
    against probability rows `target` (N, C), or class indices `index` (N,)."""
    if np.ndim(_data(logits)) != 2:
        raise ValueError(f"cross_entropy (fused) needs logits of shape (N, C), "
                         f"got {np.shape(_data(logits))}")
    if index is not None:
        return apply(CROSS_ENTROPY, logits, index=np.asarray(index))
    return apply(CROSS_ENTROPY, logits, target)


def to_scalar(x: Value) -> Value:
    """A one-element tensor as a scalar Value (its data a Python float), as losses return."""
    if x.is_scalar:
        return x
    if x.size != 1:
        raise ValueError(f"to_scalar needs a Value with one element, got shape {x.shape}")
    return apply(TO_SCALAR, x)


def index_add(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(g, Value):
        return apply(INDEX_ADD, g, index=index, shape=shape)
    return _index_add(g, index, shape)


# ---- Value's operators and methods -------------------------------------------------------
def _reduction(op: Op, doc: str) -> Any:
    def method(self: Value, axis: int | tuple[int, ...] | None = None,
               keepdims: bool = False) -> Value:
        if isinstance(axis, list):
            axis = tuple(axis)
        return apply(op, self, axis=axis, keepdims=keepdims)
    method.__name__ = op.name
    method.__doc__ = doc
    return method


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def reshape(self: Value, *shape: Any) -> Value:
    """The same numbers in a new shape (ints or one tuple; -1 infers one axis)."""
    return apply(RESHAPE, self, shape=_shape_args(shape))


def transpose(self: Value, *axes: Any) -> Value:
    """Permute the axes (reverse them when none are given), as ndarray.transpose."""
    if not axes or axes == (None,):
        return apply(TRANSPOSE, self, axes=None)
    n = self.ndim
    return apply(TRANSPOSE, self, axes=tuple(a % n if n else a for a in _shape_args(axes)))


def broadcast_to_method(self: Value, shape: tuple[int, ...]) -> Value:
    """Repeat along axes as numpy broadcasting does; the gradient is summed back."""
    return apply(BROADCAST_TO, self, shape=tuple(shape))


def getitem(self: Value, index: Any) -> Value:
    """Basic slicing and integer-array indexing; repeated indices accumulate gradient."""
    if self.is_scalar:
        raise TypeError("a scalar Value cannot be indexed; make it a tensor with Value([x])")
    parts = index if isinstance(index, tuple) else (index,)
    fixed = tuple(np.asarray(p.data if isinstance(p, Value) else p)
                  if isinstance(p, list | Value | np.ndarray) else p for p in parts)
    for p in fixed:
        if isinstance(p, np.ndarray) and p.dtype.kind == "f":
            raise IndexError(f"indices must be integers or booleans, got an array of {p.dtype}")
    return apply(GETITEM, self, index=fixed if isinstance(index, tuple) else fixed[0])


def softmax(self: Value, axis: int = -1) -> Value:
    """softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ along `axis` (shifted by the max: no overflow)."""
    return apply(SOFTMAX, self, axis=axis)


def log_softmax(self: Value, axis: int = -1) -> Value:
    """log(softmax(z)) = z - max - log Σ e^(z - max): stable for logits of 1000."""
    return apply(LOG_SOFTMAX, self, axis=axis)


def _compare(fn: Any) -> Any:
    def method(self: Value, other: Any) -> Any:
        return fn(self.data, _data(other))
    return method


for _name, _op in (("add", ADD), ("sub", SUB), ("mul", MUL), ("truediv", DIV),
                   ("pow", POW), ("matmul", MATMUL)):
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
Value.sum = _reduction(SUM, "Σ over `axis` (all axes when None)")
Value.mean = _reduction(MEAN, "the average over `axis` (all axes when None)")
Value.max = _reduction(MAX, "the largest entry over `axis`; ties share the gradient equally")
Value.reshape = reshape
Value.transpose = transpose
Value.T = property(lambda self: transpose(self), doc="the axes reversed")
Value.broadcast_to = broadcast_to_method
Value.__getitem__ = getitem
Value.softmax = softmax
Value.log_softmax = log_softmax
Value.__lt__ = _compare(operator.lt)
Value.__le__ = _compare(operator.le)
Value.__gt__ = _compare(operator.gt)
Value.__ge__ = _compare(operator.ge)
