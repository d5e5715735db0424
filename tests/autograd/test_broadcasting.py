"""NumPy broadcasting in + - * / and @ with Values, Python numbers and ndarrays on either
side, and reductions over random axes: values against NumPy, each input's gradient summed
back to its own shape, constants never receiving one."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from autograd import Value, gradcheck

SETTINGS = settings(max_examples=30, deadline=None)

OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _local_derivatives(op: str, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∂(a op b)/∂a and ∂(a op b)/∂b, elementwise on the broadcast shape."""
    one = np.ones(np.broadcast_shapes(a.shape, b.shape))
    if op == "+":
        return one, one
    if op == "-":
        return one, -one
    if op == "*":
        return one * b, one * a
    return one / b, -one * a / (b * b)


def _sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Add every entry of g onto the entry of an array of `shape` it was broadcast from
    (written with bincount, independently of the engine's axis bookkeeping)."""
    size = int(np.prod(shape))
    owner = np.broadcast_to(np.arange(size).reshape(shape), g.shape)
    return np.bincount(owner.ravel(), weights=g.ravel(), minlength=size).reshape(shape)


def _operand(kind: str, data: np.ndarray) -> object:
    if kind == "value":
        return Value(data)  # a tensor Value (0-d when the shape is ())
    if kind == "scalar":
        return Value(float(data))
    if kind == "frozen":
        return Value(data, requires_grad=False)
    if kind == "array":
        return data.copy()
    return float(data)  # "number"


@st.composite
def binary_cases(draw: st.DrawFn) -> tuple[str, list[str], list[np.ndarray], np.ndarray]:
    shapes = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                max_side=3)).input_shapes
    kinds = []
    for shape in shapes:
        options = ["value", "value", "array", "frozen"]
        if shape == ():
            options += ["number", "scalar"]
        kinds.append(draw(st.sampled_from(options)))
    if not any(k in ("value", "scalar") for k in kinds):
        kinds[draw(st.integers(0, 1))] = "value"
    op = draw(st.sampled_from(sorted(OPS)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    datas = [rng.uniform(-2, 2, s) for s in shapes]
    if op == "/":  # keep the denominator away from zero
        datas[1] = np.sign(datas[1] + 1e-9) * (np.abs(datas[1]) + 0.5)
    upstream = rng.uniform(-1, 1, np.broadcast_shapes(*shapes))
    return op, kinds, [np.asarray(d, dtype=np.float64) for d in datas], upstream


@SETTINGS
@given(binary_cases())
def test_binary_ops_broadcast_values_and_gradients(case: tuple) -> None:
    op, kinds, datas, upstream = case
    a, b = (_operand(k, d) for k, d in zip(kinds, datas))
    out = OPS[op](a, b)
    expected = OPS[op](datas[0], datas[1])

    assert isinstance(out, Value) and out.op == {"+": "add", "-": "sub", "*": "mul",
                                                 "/": "div"}[op]
    assert out.shape == np.shape(expected)
    assert type(out.data) is (float if all(k in ("number", "scalar") for k in kinds)
                              else np.ndarray)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13)
    assert [id(p) for p in out.parents] == [id(x) for x in (a, b) if isinstance(x, Value)]

    seed = float(upstream) if out.is_scalar else upstream
    (out * seed).sum().backward()
    local = _local_derivatives(op, datas[0], datas[1])
    for x, kind, d, dlocal in zip((a, b), kinds, datas, local):
        if kind in ("array", "number"):
            np.testing.assert_array_equal(x, d)  # a constant is neither changed nor graded
            continue
        if kind == "frozen":  # requires_grad=False: no gradient reaches it
            assert not np.any(x.grad)
            continue
        assert np.shape(x.grad) == np.shape(d)
        assert type(x.grad) is (float if kind == "scalar" else np.ndarray)
        np.testing.assert_allclose(x.grad, _sum_to(upstream * dlocal, d.shape),
                                   rtol=1e-12, atol=1e-12)


@SETTINGS
@given(binary_cases())
def test_binary_op_gradients_match_finite_differences(case: tuple) -> None:
    op, kinds, datas, upstream = case
    seed = float(upstream) if upstream.shape == () else upstream
    a, b = (_operand(k, d) for k, d in zip(kinds, datas))
    if isinstance(a, Value) and a.requires_grad:
        assert gradcheck(lambda x: OPS[op](x, b) * seed, a)
    if isinstance(b, Value) and b.requires_grad:
        assert gradcheck(lambda y: OPS[op](a, y) * seed, b)


@st.composite
def reduction_cases(draw: st.DrawFn) -> tuple:
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    n = len(shape)
    if draw(st.booleans()):
        axis = None
    elif draw(st.booleans()):
        axis = draw(st.integers(-n, n - 1))
    else:
        picked = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n))
        axis = tuple(a - n if draw(st.booleans()) else a for a in picked)
    keepdims = draw(st.booleans())
    name = draw(st.sampled_from(["sum", "mean", "max"]))
    seed = draw(st.integers(0, 2**32 - 1))
    return name, shape, axis, keepdims, seed


@SETTINGS
@given(reduction_cases())
def test_reductions_over_random_axes(case: tuple) -> None:
    name, shape, axis, keepdims, seed = case
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    data = ((rng.permutation(size) + rng.uniform(0, 0.2, size)) * 0.3).reshape(shape)  # no ties
    x = Value(data)
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(data, axis=axis, keepdims=keepdims)
    assert out.op == name and out.params == {"axis": axis, "keepdims": keepdims}
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13)

    w = rng.uniform(-1, 1, out.shape)
    (out * w).sum().backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == shape
    assert gradcheck(lambda v: getattr(v, name)(axis=axis, keepdims=keepdims) * w, x)


@st.composite
def matmul_cases(draw: st.DrawFn) -> tuple:
    shapes = draw(mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)",
                                                max_dims=3, max_side=3)).input_shapes
    kinds = draw(st.sampled_from([("value", "value"), ("value", "array"), ("array", "value")]))
    return shapes, kinds, draw(st.integers(0, 2**32 - 1))


@SETTINGS
@given(matmul_cases())
def test_matmul_1d_2d_and_batched_shapes(case: tuple) -> None:
    """@ as NumPy defines it (1-D operands promoted and the added axis removed, batch axes
    broadcast); each operand's gradient has its own shape and matches finite differences."""
    shapes, kinds, seed = case
    rng = np.random.default_rng(seed)
    datas = [rng.uniform(-2, 2, s) for s in shapes]
    a, b = (_operand(k, d) for k, d in zip(kinds, datas))
    out = a @ b
    expected = datas[0] @ datas[1]
    assert out.op == "matmul" and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    w = rng.uniform(-1, 1, out.shape)
    if isinstance(a, Value):
        assert gradcheck(lambda x: (x @ b) * w, a)
    if isinstance(b, Value):
        assert gradcheck(lambda y: (a @ y) * w, b)
    (out * w).sum().backward()
    for x in (a, b):
        if isinstance(x, Value):
            assert x.grad.shape == x.shape


def test_number_times_value_on_either_side() -> None:
    v = Value(np.array([1.0, -2.0, 3.0]))
    for out in (2 * v, v * 2, 2.0 * v, np.float64(2.0) * v):
        np.testing.assert_array_equal(out.data, [2.0, -4.0, 6.0])
        assert out.parents == (v,)
    (2 * v).sum().backward()
    np.testing.assert_array_equal(v.grad, [2.0, 2.0, 2.0])


def test_array_minus_value_and_value_minus_array() -> None:
    arr = np.array([[10.0, 20.0], [30.0, 40.0]])
    v = Value(np.array([1.0, 2.0]))  # broadcast along the rows
    out = arr - v
    assert isinstance(out, Value) and out.op == "sub"
    np.testing.assert_array_equal(out.data, [[9.0, 18.0], [29.0, 38.0]])
    out.sum().backward()
    np.testing.assert_array_equal(v.grad, [-2.0, -2.0])  # -1 from each of two rows
    v.zero_grad()
    (v - arr).sum().backward()
    np.testing.assert_array_equal(v.grad, [2.0, 2.0])
    np.testing.assert_array_equal(arr, [[10.0, 20.0], [30.0, 40.0]])


@pytest.mark.parametrize("left", [True, False], ids=["v@arr", "arr@v"])
def test_matmul_with_an_array_on_either_side(left: bool) -> None:
    rng = np.random.default_rng(3)
    arr = rng.normal(size=(3, 3))
    v = Value(rng.normal(size=(3, 2)) if left else rng.normal(size=(2, 3)))
    out = v @ arr[:2] if left else arr[:, :2] @ v
    const = arr[:2] if left else arr[:, :2]
    np.testing.assert_allclose(out.data, v.data @ const if left else const @ v.data)
    assert out.op == "matmul" and out.parents == (v,)
    g = rng.normal(size=out.shape)
    out.backward(g)
    np.testing.assert_allclose(v.grad, g @ const.T if left else const.T @ g, rtol=1e-13)


def test_scalar_value_broadcast_against_a_tensor_gets_the_summed_gradient() -> None:
    s = Value(0.5)
    t = Value(np.arange(6.0).reshape(2, 3))
    (s * t).sum().backward()
    assert type(s.grad) is float and s.grad == pytest.approx(15.0)
    np.testing.assert_array_equal(t.grad, np.full((2, 3), 0.5))
