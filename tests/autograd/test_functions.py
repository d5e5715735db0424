"""What the op table cannot say about the tensor building blocks: ties, bounds, float32,
scalars, float(v), and the errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Value, concatenate, grad, maximum, minimum, stack, where


@pytest.mark.parametrize("fn, expected", [(maximum, ([1.0, 0.5, 0.0], [0.0, 0.5, 1.0])),
                                          (minimum, ([0.0, 0.5, 1.0], [1.0, 0.5, 0.0]))])
def test_maximum_and_minimum_split_a_tie_equally(fn, expected) -> None:
    a, b = Value([3.0, 2.0, 1.0]), Value([1.0, 2.0, 3.0])
    fn(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, expected[0])
    np.testing.assert_array_equal(b.grad, expected[1])


def test_min_ties_share_the_gradient() -> None:
    x = Value([[1.0, 1.0, 2.0], [0.0, 3.0, 0.0]])
    x.min(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5]])


def test_clip_gradient_is_one_inside_and_on_the_bounds_zero_outside() -> None:
    x = Value([-2.0, -1.0, 0.0, 1.0, 2.0])
    y = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(y.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(Value([3.0, -3.0]).clip().data, [3.0, -3.0])


def test_clip_refuses_a_value_bound_and_names_maximum() -> None:
    with pytest.raises(TypeError, match="lower bound is a constant.*autograd.maximum"):
        Value([1.0]).clip(Value(0.0), None)


def test_logsumexp_is_stable_for_large_and_infinite_inputs() -> None:
    x = Value([1000.0, 1000.0])
    assert x.logsumexp().item() == pytest.approx(1000.0 + np.log(2.0), rel=1e-15)
    x.logsumexp().backward()
    np.testing.assert_allclose(x.grad, [0.5, 0.5])
    assert Value([-np.inf, -np.inf]).logsumexp().item() == -np.inf


def test_float32_stays_float32() -> None:
    x = Value(np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3))
    outs = [x.gelu(), x.leaky_relu(), x.clip(-1, 1), x.var(axis=0), x.logsumexp(axis=1),
            x.min(axis=0), x.erf(), maximum(x, 0.0), minimum(x, x * 2),
            where(x.data > 0, x, 0.0), concatenate([x, x]), stack([x, x], axis=1)]
    for out in outs:
        assert out.dtype == np.float32, out.op
        (g,) = grad(out.sum(), x)
        assert g.dtype == np.float32, out.op


def test_float_of_a_one_element_value() -> None:
    assert float(Value(2.5)) == 2.5
    assert float(Value([[4.0]])) == 4.0
    with pytest.raises(TypeError, match=r"float\(\) needs a Value with one element.*\(2,\)"):
        float(Value([1.0, 2.0]))


def test_stack_of_scalars_gives_a_vector_and_scalar_gradients() -> None:
    a, b = Value(1.0), Value(2.0)
    s = stack([a, b, 3.0])
    np.testing.assert_array_equal(s.data, [1.0, 2.0, 3.0])
    (s * np.array([1.0, 2.0, 3.0])).sum().backward()
    assert (a.grad, b.grad) == (1.0, 2.0) and type(a.grad) is float


def test_where_takes_a_numeric_mask_and_refuses_strings() -> None:
    x = Value([1.0, 2.0])
    np.testing.assert_array_equal(where(np.array([1, 0]), x, -x).data, [1.0, -2.0])
    with pytest.raises(TypeError, match="where needs a boolean condition"):
        where(np.array(["a", "b"]), x, x)


@pytest.mark.parametrize("call, message", [
    (lambda: concatenate([Value(1.0), Value([2.0])]), "input 0 is a scalar"),
    (lambda: concatenate([]), "at least one tensor"),
    (lambda: stack([]), "at least one tensor"),
    (lambda: concatenate([Value(np.ones((2, 3))), Value(np.ones((2, 4)))]),
     r"concatenate on inputs of shapes \(2, 3\), \(2, 4\)"),
    (lambda: stack([Value([1.0]), Value([1.0, 2.0])]), r"stack on inputs of shapes \(1,\), \(2,\)"),
    (lambda: maximum(Value([1.0]), "x"), "maximum takes Values, numbers or arrays, got str"),
])
def test_bad_input_is_refused_with_a_message(call, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ---- edge values as torch has them (issue 22) ----------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gelu_gradient_at_subnormal_and_tiny_inputs_is_torchs(dtype):
    torch = pytest.importorskip("torch")
    info = np.finfo(dtype)
    xs = np.array([info.smallest_subnormal, 3 * info.smallest_subnormal, -2 * info.tiny,
                   info.tiny, 4 * info.tiny, 1e-30, 0.0, -0.0, 1e-3, -2.5, 7.0], dtype=dtype)
    v = Value(xs)
    v.gelu().sum().backward()
    t = torch.tensor(xs, requires_grad=True)
    torch.nn.functional.gelu(t).sum().backward()
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=4 * info.eps, atol=0)
    assert v.grad.dtype == dtype


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_maximum_and_minimum_pass_a_nans_gradient_through_as_torch(fn):
    torch = pytest.importorskip("torch")
    nan = np.nan
    a_data = np.array([nan, 1.0, 2.0, nan, 3.0, 1.0])
    b_data = np.array([0.0, nan, 1.0, nan, 3.0, 2.0])
    a, b = Value(a_data), Value(b_data)
    g = np.arange(1.0, 7.0)
    ({"maximum": maximum, "minimum": minimum}[fn](a, b) * g).sum().backward()
    ta = torch.tensor(a_data, requires_grad=True)
    tb = torch.tensor(b_data, requires_grad=True)
    (getattr(torch, fn)(ta, tb) * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(a.grad, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())


@pytest.mark.parametrize("shape,axis", [((0, 3), 0), ((0, 3), 1), ((2, 0), 1), ((0,), 0),
                                        ((0, 3), None)])
def test_var_over_an_empty_axis_gives_torchs_empty_gradient(shape, axis):
    torch = pytest.importorskip("torch")
    import warnings
    x = Value(np.ones(shape))
    t = torch.ones(shape, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():  # numpy's and torch's: "degrees of freedom <= 0"
        warnings.simplefilter("ignore")
        y = x.var(axis=axis)
        ty = t.var(correction=0) if axis is None else t.var(dim=axis, correction=0)
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.shape == tuple(t.grad.shape) == shape
    np.testing.assert_array_equal(x.grad, t.grad.numpy())
