"""Every op of the derivative table: values against NumPy, gradients against central finite
differences (through `gradcheck`), second derivatives against finite differences of the
gradient. The ops themselves are listed once, in op_cases.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, basic_indices, integer_array_indices
from op_cases import CASES, Case

from autograd import Value, grad, gradcheck
from autograd.ops import OPS

IDS = [c.name for c in CASES]


def _rng(case: Case) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, case.name)))


def _weights(out: Value, rng: np.random.Generator) -> object:
    """A random upstream gradient shaped like `out` (so no op's gradient can hide behind a
    plain sum, e.g. the sum of a softmax is constant)."""
    return float(rng.uniform(0.5, 1.5)) if out.is_scalar else rng.uniform(-1.5, 1.5, out.shape)


def test_every_op_in_the_table_is_tested() -> None:
    tested = {c.op for c in CASES} | {"index_add"}  # index_add is getitem's gradient
    tested |= {"astype"}  # float64 → float32 is no case for float64 references: test_layout.py
    assert tested == set(OPS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_matches_numpy(case: Case) -> None:
    data = case.inputs(_rng(case))
    values = [Value(d) for d in data]
    out = case.f(*values)
    expected = case.numpy_ref()(*[np.array(d) if isinstance(d, np.ndarray) else d for d in data])
    assert isinstance(out, Value)
    if all(v.is_scalar for v in values) or case.op == "to_scalar":
        assert type(out.data) is float  # scalars in (or to_scalar), a scalar out
    else:
        assert isinstance(out.data, np.ndarray) and out.dtype == np.float64
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    for v, d in zip(values, data):  # no op writes into its inputs
        np.testing.assert_array_equal(v.data, d)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_records_op_and_parents(case: Case) -> None:
    values = [Value(d) for d in case.inputs(_rng(case))]
    out = case.f(*values)
    assert out.op == case.op
    assert [id(p) for p in out.parents] == [id(v) for v in values]
    assert all(any(x is v for x in out.inputs) for v in values)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_finite_differences(case: Case) -> None:
    rng = _rng(case)
    values = [Value(d) for d in case.inputs(rng)]
    w = _weights(case.f(*values), rng)
    assert gradcheck(lambda *xs: case.f(*xs) * w, *values)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_fills_grad_shaped_like_data(case: Case) -> None:
    rng = _rng(case)
    values = [Value(d) for d in case.inputs(rng)]
    out = case.f(*values)
    w = _weights(out, rng)
    (out * w).sum().backward()
    expected = grad((case.f(*values) * w).sum(), values)  # grad() agrees with backward()
    for v, e in zip(values, expected):
        if v.is_scalar:
            assert type(v.grad) is float and type(e) is float
        else:
            assert isinstance(v.grad, np.ndarray) and v.grad.shape == v.shape == e.shape
        assert np.all(np.isfinite(v.grad))
        np.testing.assert_allclose(v.grad, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_second_derivative_matches_finite_differences(case: Case) -> None:
    """h(x) = Σᵢ <∂L/∂xᵢ, uᵢ> built with create_graph=True; its gradient is the
    Hessian-vector product H·u, checked against central differences of ∂L/∂x.

    L = Σ (w·f + f²/2), so the gradient reaching the op depends on x too (a Value, not a
    constant): that runs each VJP on Values, including getitem's index_add."""
    rng = _rng(case)
    values = [Value(d) for d in case.inputs(rng)]
    w = _weights(case.f(*values), rng)
    us = [rng.uniform(-1, 1, v.shape) if v.shape else float(rng.uniform(-1, 1)) for v in values]

    def loss(*xs: Value) -> Value:
        out = case.f(*xs)
        return (out * w + 0.5 * out * out).sum()

    def hvp_objective(*xs: Value) -> Value:
        gs = grad(loss(*xs), xs, create_graph=True)
        total = Value(0.0)
        for g, u in zip(gs, us):
            assert isinstance(g, Value)
            total = total + (g * u).sum()
        return total

    # the differentiable gradient has the values of the plain one...
    first = grad(loss(*values), values)
    for g, g1 in zip(grad(loss(*values), values, create_graph=True), first):
        np.testing.assert_allclose(g.data, g1, rtol=1e-12, atol=1e-14)
    # ...and its own derivative matches finite differences of it
    assert gradcheck(hvp_objective, *values)


@st.composite
def indexings(draw: st.DrawFn) -> tuple:
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    if draw(st.booleans()):
        index = draw(basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    else:  # integer arrays, repeats allowed
        index = draw(integer_array_indices(shape, result_shape=array_shapes(max_dims=2,
                                                                             max_side=4)))
    return shape, index, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=30, deadline=None)
@given(indexings())
def test_random_indexing_values_and_gradients(case: tuple) -> None:
    """Random basic indices (slices, steps, ints, None, ...) and integer-array indices with
    repeats: the value is NumPy's, the gradient matches finite differences."""
    shape, index, seed = case
    rng = np.random.default_rng(seed)
    data = rng.uniform(-2, 2, shape)
    x = Value(data)
    out = x[index]
    np.testing.assert_array_equal(out.data, data[index])
    assert out.op == "getitem" and out.parents == (x,)
    w = rng.uniform(-1, 1, out.shape)
    assert gradcheck(lambda v: v[index] * w, x)
