"""NumPy functions on Values: routed to the autograd counterpart (a Value, with the same
numbers and gradient as the method), answered on the data when the answer has no gradient,
or refused with a TypeError that names what to call instead — never an object array."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Value, grad
from autograd import pad as A_pad

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
B = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]])
MASK = A > 0

ROUTED = [  # (numpy call on Values, the same with our API)
    ("exp", lambda a, b: np.exp(a), lambda a, b: a.exp()),
    ("log", lambda a, b: np.log(a * a + 1), lambda a, b: (a * a + 1).log()),
    ("sqrt", lambda a, b: np.sqrt(a * a + 1), lambda a, b: (a * a + 1).sqrt()),
    ("tanh", lambda a, b: np.tanh(a), lambda a, b: a.tanh()),
    ("abs", lambda a, b: np.abs(a), lambda a, b: a.abs()),
    ("square", lambda a, b: np.square(a), lambda a, b: a * a),
    ("sin", lambda a, b: np.sin(a), lambda a, b: a.sin()),
    ("arccos", lambda a, b: np.arccos(a / 3), lambda a, b: (a / 3).acos()),
    ("arcsinh", lambda a, b: np.arcsinh(a), lambda a, b: a.asinh()),
    ("log1p", lambda a, b: np.log1p(a * a), lambda a, b: (a * a).log1p()),
    ("expm1", lambda a, b: np.expm1(a), lambda a, b: a.expm1()),
    ("reciprocal", lambda a, b: np.reciprocal(b), lambda a, b: b.reciprocal()),
    ("floor", lambda a, b: np.floor(a), lambda a, b: a.floor()),
    ("rint", lambda a, b: np.rint(a), lambda a, b: a.round()),
    ("round", lambda a, b: np.round(a, 1), lambda a, b: a.round(1)),
    ("sign", lambda a, b: np.sign(a), lambda a, b: a.sign()),
    ("arctan2", lambda a, b: np.arctan2(B, a), None),
    ("prod", lambda a, b: np.prod(a, axis=1), lambda a, b: a.prod(1)),
    ("std", lambda a, b: np.std(a, ddof=1), lambda a, b: a.std(ddof=1)),
    ("norm", lambda a, b: np.linalg.norm(a), lambda a, b: a.norm()),
    ("cumsum", lambda a, b: np.cumsum(a, axis=1), lambda a, b: a.cumsum(1)),
    ("cumprod", lambda a, b: np.cumprod(a, axis=0), lambda a, b: a.cumprod(0)),
    ("sort", lambda a, b: np.sort(a), lambda a, b: a.sort().values),
    ("einsum", lambda a, b: np.einsum("ij,kj->ik", a, b), lambda a, b: a @ b.T),
    ("flip", lambda a, b: np.flip(a, 1), lambda a, b: a.flip(1)),
    ("roll", lambda a, b: np.roll(a, 1, 0), lambda a, b: a.roll(1, 0)),
    ("triu", lambda a, b: np.triu(a), lambda a, b: a.triu()),
    ("expand_dims", lambda a, b: np.expand_dims(a, 0), lambda a, b: a.unsqueeze(0)),
    ("tile", lambda a, b: np.tile(a, 2), lambda a, b: a.repeat(1, 2)),
    ("pad", lambda a, b: np.pad(a, 1, mode="reflect"), lambda a, b: A_pad(a, (1, 1, 1, 1), "reflect")),
    ("negative", lambda a, b: np.negative(a), lambda a, b: -a),
    ("add", lambda a, b: np.add(a, b), lambda a, b: a + b),
    ("subtract", lambda a, b: np.subtract(B, a), lambda a, b: B - a),
    ("multiply", lambda a, b: np.multiply(a, B), lambda a, b: a * B),
    ("divide", lambda a, b: np.divide(a, b), lambda a, b: a / b),
    ("power", lambda a, b: np.power(a * a + 1, b), lambda a, b: (a * a + 1) ** b),
    ("matmul", lambda a, b: np.matmul(a, b.T), lambda a, b: a @ b.T),
    ("maximum", lambda a, b: np.maximum(a, b), None),
    ("minimum", lambda a, b: np.minimum(a, 0.5), None),
    ("sum", lambda a, b: np.sum(a, axis=1), lambda a, b: a.sum(axis=1)),
    ("mean", lambda a, b: np.mean(a, axis=0, keepdims=True), lambda a, b: a.mean(0, True)),
    ("max", lambda a, b: np.max(a), lambda a, b: a.max()),
    ("amin", lambda a, b: np.amin(a, axis=1), lambda a, b: a.min(axis=1)),
    ("var", lambda a, b: np.var(a, axis=1), lambda a, b: a.var(axis=1)),
    ("var_ddof", lambda a, b: np.var(a, ddof=1), lambda a, b: a.var() * (6 / 5)),
    ("clip", lambda a, b: np.clip(a, -0.5, 1.0), lambda a, b: a.clip(-0.5, 1.0)),
    ("clip_value_bound", lambda a, b: np.clip(a, b, None), None),
    ("where", lambda a, b: np.where(MASK, a, b), None),
    ("concatenate", lambda a, b: np.concatenate([a, b, B], axis=1), None),
    ("stack", lambda a, b: np.stack([a, b]), None),
    ("reshape", lambda a, b: np.reshape(a, (3, 2)), lambda a, b: a.reshape(3, 2)),
    ("transpose", lambda a, b: np.transpose(a), lambda a, b: a.T),
]
REFERENCE = {  # numpy on plain arrays, for the calls with no method twin
    "arctan2": lambda a, b: np.arctan2(B, a),
    "maximum": lambda a, b: np.maximum(a, b), "minimum": lambda a, b: np.minimum(a, 0.5),
    "clip_value_bound": lambda a, b: np.clip(a, b, None),
    "where": lambda a, b: np.where(MASK, a, b),
    "concatenate": lambda a, b: np.concatenate([a, b, B], axis=1),
    "stack": lambda a, b: np.stack([a, b]),
}


@pytest.mark.parametrize("name, call, ours", ROUTED, ids=[r[0] for r in ROUTED])
def test_numpy_calls_on_values_give_values_with_gradients(name, call, ours) -> None:
    a, b = Value(A), Value(B)
    out = call(a, b)
    assert isinstance(out, Value) and out.op
    if ours is None:
        np.testing.assert_allclose(out.data, REFERENCE[name](A, B), rtol=1e-15)
        ga, gb = grad(out.sum(), [a, b])
        assert np.any(ga != 0) or np.any(gb != 0)
        return
    expected = ours(a, b)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-15)
    for g, e in zip(grad(out.sum(), [a, b]), grad(expected.sum(), [a, b])):
        np.testing.assert_allclose(g, e, rtol=1e-15)


def test_an_array_on_the_left_of_an_operator_still_gives_a_value() -> None:
    v = Value(np.array([1.0, 2.0], dtype=np.float32))
    a = np.array([3.0, 4.0], dtype=np.float32)
    for out in (a + v, a - v, a * v, a / v, a ** v, np.float32(2.0) * v):
        assert isinstance(out, Value) and out.dtype == np.float32
    s = Value(2.0)
    assert isinstance(np.float64(3.0) + s, Value) and (np.float64(3.0) + s).data == 5.0


def test_queries_without_gradient_answer_on_the_data() -> None:
    v = Value(A)
    assert np.shape(v) == (2, 3) and np.ndim(v) == 2 and np.size(v) == 6
    np.testing.assert_array_equal(np.argmax(v, axis=1), [2, 0])
    np.testing.assert_array_equal(np.isfinite(v), np.ones((2, 3), dtype=bool))
    np.testing.assert_array_equal(B > v, B > A)
    np.testing.assert_array_equal(np.where(v), np.where(A))


@pytest.mark.parametrize("call, message", [
    (lambda v: np.cbrt(v), (r"np.cbrt on a Value has no differentiable counterpart; use a Value "
                           r"method or an autograd function")),
    (lambda v: np.partition(v, 1), r"np.partition on a Value has no differentiable counterpart"),
    (lambda v: np.fmax(v, 0.0), r"np.fmax .* use autograd.maximum"),
    (lambda v: np.dot(v, v.T), r"np.dot .* use the @ operator"),
    (lambda v: np.add.reduce(v), r"np.add.reduce on a Value: use Value.sum\(\)"),
    (lambda v: np.multiply.outer(v, v), r"np.multiply.outer on a Value"),
    (lambda v: np.exp(v, out=np.zeros((2, 3))), r"out=.*cannot write a Value into an array"),
    (lambda v: np.sum(v, dtype=np.float32), r"np.sum on a Value does not take dtype="),
    (lambda v: np.asarray(v), r"a Value is not converted to a NumPy array .* use v.data"),
    (lambda v: np.array([v, v]), r"a Value is not converted to a NumPy array"),
])
def test_the_rest_is_refused_naming_what_to_call(call, message) -> None:
    with pytest.raises(TypeError, match=message):
        call(Value(A))


def test_an_in_place_add_into_an_array_is_refused() -> None:
    total = np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"`array \+= value`.*x = x \+ value"):
        total += Value(A)
