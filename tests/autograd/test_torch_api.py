"""The release-3 tensor API beyond the op_cases rows: random shapes and axes against torch
(hypothesis), the answers that are arrays (argmax, sort's indices, any/all), dtype
conversion, and the errors bad input gets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import autograd as A
from autograd import Value, gradcheck

torch = pytest.importorskip("torch", reason="the torch API is checked against torch")

AXIS_OPS = {  # name: (ours, torch's), each (x, axis)
    "cumsum": (lambda x, d: x.cumsum(d), lambda t, d: t.cumsum(d)),
    "cumprod": (lambda x, d: x.cumprod(d), lambda t, d: t.cumprod(d)),
    "logcumsumexp": (lambda x, d: x.logcumsumexp(d), lambda t, d: t.logcumsumexp(d)),
    "cummax": (lambda x, d: x.cummax(d).values, lambda t, d: t.cummax(d).values),
    "prod": (lambda x, d: x.prod(d), lambda t, d: t.prod(d)),
    "std": (lambda x, d: x.std(d, ddof=1), lambda t, d: t.std(d)),
    "norm": (lambda x, d: x.norm(dim=d), lambda t, d: t.norm(dim=d)),
    "norm3": (lambda x, d: x.norm(3, dim=d, keepdim=True), lambda t, d: t.norm(3, d, True)),
    "sort": (lambda x, d: x.sort(d, descending=True).values,
             lambda t, d: t.sort(dim=d, descending=True, stable=True).values),
    "flip": (lambda x, d: x.flip(d), lambda t, d: t.flip(d)),
    "roll": (lambda x, d: x.roll(2, d), lambda t, d: t.roll(2, d)),
    "softplus": (lambda x, d: A.softplus(x).sum(d), lambda t, d: torch.nn.functional.softplus(
        t).sum(d)),
    "unsqueeze_squeeze": (lambda x, d: x.unsqueeze(d).squeeze(d), lambda t, d: t.unsqueeze(
        d).squeeze(d)),
}


def _compare(ours: Value, xs: list[Value], theirs, ts: list, rng: np.random.Generator) -> None:
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.uniform(-1, 1, ours.shape)
    (ours * w).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-11)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(AXIS_OPS)), array_shapes(min_dims=1, max_dims=3, min_side=2,
                                                       max_side=4),
       st.integers(0, 2**32 - 1), st.data())
def test_ops_that_take_an_axis_match_torch_on_random_shapes(name, shape, seed, data) -> None:
    rng = np.random.default_rng(seed)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    x0 = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.37 - 1.1  # distinct, nonzero
    ours, theirs = AXIS_OPS[name]
    x, t = Value(x0), torch.tensor(x0, requires_grad=True)
    _compare(ours(x, d), [x], theirs(t, d), [t], rng)


@settings(max_examples=40, deadline=None)
@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       st.integers(0, 2**32 - 1))
def test_atan2_and_scatter_free_binary_ops_broadcast_as_torch(shapes, seed) -> None:
    rng = np.random.default_rng(seed)
    a0, b0 = (rng.uniform(0.3, 2, s) * rng.choice([-1, 1], s) for s in shapes.input_shapes)
    a, b = Value(a0), Value(b0)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    _compare(A.atan2(a, b), [a, b], torch.atan2(ta, tb), [ta, tb], rng)


@settings(max_examples=30, deadline=None)
@given(array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4), st.integers(0, 2**32 - 1),
       st.sampled_from(["constant", "reflect", "replicate", "circular"]), st.data())
def test_pad_matches_torch_on_random_shapes(shape, seed, mode, data) -> None:
    rng = np.random.default_rng(seed)
    k = data.draw(st.integers(1, min(len(shape), 2)))
    widths = tuple(data.draw(st.integers(0, shape[-1 - i // 2] - 1)) for i in range(2 * k))
    x0 = rng.uniform(-1, 1, shape)
    x, t = Value(x0), torch.tensor(x0, requires_grad=True)
    tt = t.reshape((1,) * (3 - len(shape)) + shape) if mode != "constant" and len(shape) < 3 else t
    tout = torch.nn.functional.pad(tt, widths, mode=mode).reshape(
        A.pad(x, widths, mode).shape)
    _compare(A.pad(x, widths, mode), [x], tout, [t], rng)


def test_index_answers_are_arrays_as_torch() -> None:
    x0 = np.array([[3.0, 1.0, 3.0], [0.0, -2.0, 5.0]])
    x, t = Value(x0), torch.tensor(x0)
    for ours, theirs in ((x.argmax(), t.argmax()), (x.argmax(1), t.argmax(1)),
                         (x.argmin(dim=0, keepdim=True), t.argmin(0, keepdim=True)),
                         (x.any(1), t.any(1)), (x.all(), t.all()), (x.cummax(1).indices,
                                                                    t.cummax(1).indices),
                         (x.cummin(0).indices, t.cummin(0).indices),
                         (x.sort(1, stable=True).indices, t.sort(dim=1, stable=True).indices),
                         (x.argsort(0, descending=True), t.argsort(dim=0, descending=True,
                                                                   stable=True))):
        assert isinstance(ours, np.ndarray)
        np.testing.assert_array_equal(ours, theirs.numpy())


def test_topk_indices_and_values() -> None:
    x0 = np.array([[0.5, 2.0, -1.0, 3.0], [1.0, 0.0, 4.0, -2.0]])
    top = Value(x0).topk(2)
    ttop = torch.tensor(x0).topk(2)
    np.testing.assert_array_equal(top.indices, ttop.indices.numpy())
    np.testing.assert_array_equal(top.values.data, ttop.values.numpy())


def test_astype_float_double_bring_the_gradient_back_in_the_input_dtype() -> None:
    x = Value(np.array([1.5, -2.0, 0.25]))
    y = x.float()
    assert y.dtype == np.float32 and y.op == "astype"
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, 2 * x.data, rtol=1e-7)
    z = Value(np.ones(2, dtype=np.float32))
    (z.double() * 3.0).sum().backward()
    assert z.double().dtype == np.float64 and z.grad.dtype == np.float32
    s = Value(2.0)
    (s.float() * 2.0).sum().backward()
    assert type(s.grad) is float and s.grad == 2.0
    assert gradcheck(lambda v: v.astype(np.float64) * v, Value(np.array([0.5, 1.5])))
    with pytest.raises(TypeError, match="astype converts between float32 and float64"):
        x.astype(np.int64)


def test_integer_and_boolean_arrays_do_not_change_a_float32_values_dtype() -> None:
    x = Value(np.ones(3, dtype=np.float32))
    for other in (np.array([1, 2, 3]), np.array([True, False, True]), np.int64(2)):
        assert (x * other).dtype == np.float32
        assert (other + x).dtype == np.float32
    assert x.masked_fill(np.array([True, False, True]), 2.0).dtype == np.float32


def test_scatter_add_reads_only_index_shape_of_src() -> None:
    """torch reads src only where index reaches (its own backward fails on a larger src);
    the gradient of the rest is zero: checked against central differences."""
    idx = np.array([[0, 2, 1, 0], [2, 2, 0, 1]])
    rng = np.random.default_rng(0)
    a, s = Value(rng.normal(size=(3, 4))), Value(rng.normal(size=(3, 5)))
    out = a.scatter_add(0, idx, s)
    expected = torch.tensor(a.data).scatter_add(0, torch.tensor(idx), torch.tensor(s.data))
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-14)
    w = rng.normal(size=(3, 4))
    assert gradcheck(lambda x, y: x.scatter_add(0, idx, y) * w, a, s)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.cumsum(2), IndexError, r"cumsum: axis 2 is out of range .*-2 <= axis < 2"),
    (lambda x: x.topk(-1), ValueError, r"topk: k=-1 must be between 0 and the size 3"),
    (lambda x: x.topk(4), ValueError, r"topk: k=4"),
    (lambda x: x.prod(axis=5), IndexError, r"prod: axis 5 is out of range"),
    (lambda x: x.std(ddof=6), ValueError, r"std: ddof=6 needs to be below the 6 entries"),
    (lambda x: x.gather(1, np.array([[0.5]])), TypeError, r"gather takes an integer index"),
    (lambda x: x.gather(1, np.array([0, 1])), ValueError, r"gather: index has 1 dimensions"),
    (lambda x: x.gather(1, np.array([[0, 3]])), IndexError, r"gather: index out of range"),
    (lambda x: x.index_select(0, [[0]]), ValueError, r"index_select takes a 1-d index"),
    (lambda x: x.masked_fill(np.ones(3), 0.0), TypeError, r"masked_fill takes a boolean mask"),
    (lambda x: x.masked_fill(np.ones((3, 3), bool), 0.0), ValueError,
     r"masked_fill: a mask of shape \(3, 3\) does not broadcast"),
    (lambda x: x.permute(0, 0), ValueError, r"permute needs a permutation"),
    (lambda x: x.view(4, 2), ValueError, r"view: shape \(4, 2\) is invalid for a tensor of 6"),
    (lambda x: x.expand(4, 3), ValueError, r"expand: shape \(2, 3\) cannot expand"),
    (lambda x: x.repeat(2), ValueError, r"repeat: 1 repeats for a tensor of 2 dims"),
    (lambda x: x.unsqueeze(4), IndexError, r"unsqueeze: dim 4 is out of range"),
    (lambda x: x.triu().reshape(-1).triu(), ValueError, r"triu needs a matrix"),
    (lambda x: A.pad(x, (3, 3), "reflect"), ValueError, r"reflect padding \(3, 3\) must be"),
    (lambda x: A.pad(x, (1,)), ValueError, r"pad: needs an even number"),
    (lambda x: A.pad(x, (1, 1), "zeros"), ValueError, r"pad: mode must be one of"),
    (lambda x: A.einsum("ij,jk->ik", x, x), ValueError, r"einsum on inputs of shapes"),
    (lambda x: A.einsum("ii->i", x), ValueError, r"einsum: a letter repeated within one"),
    (lambda x: A.einsum("ij->k", x), ValueError, r"einsum: output letter 'k' is in no operand"),
    (lambda x: A.hardtanh(x, 1.0, -1.0), ValueError, r"hardtanh needs min_val <= max_val"),
    (lambda x: x.round(0.5), TypeError, r"round takes an integer number of decimals"),
    (lambda x: x.norm("nuc"), TypeError, r"norm: p must be a number or 'fro'"),
])
def test_bad_input_names_the_op_and_what_was_expected(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call(Value(np.arange(6.0).reshape(2, 3)))
