"""Custom operations: `Function` subclasses (as torch.autograd.Function) and the public
`defop` (refusing a name already in the table unless replace=True)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograd import Function, Value, defop, explain, grad
from autograd.engine import OPS


@pytest.fixture(autouse=True)
def _table_as_it_was():
    """The rows these tests add (Function classes, test ops) leave the table afterwards,
    so the whole-table tests see the engine's own rows only."""
    before = set(OPS)
    yield
    for name in set(OPS) - before:
        del OPS[name]


class Cube(Function):
    formula = "{0}³"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_values
        return g * 3 * x * x

    @staticmethod
    def jvp(ctx, t):
        x, = ctx.saved_values
        return t * 3 * x * x


class Scale(Function):  # two inputs, no formula, a gradient left as None
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x, k)
        return x.data * k.data

    @staticmethod
    def backward(ctx, g):
        x, k = ctx.saved_values
        return g * k, (g * x).sum() if x.shape else g * x


def test_function_first_second_and_third_order_match_torch() -> None:
    x0 = np.array([0.5, -1.5, 2.0])
    x = Value(x0)
    y = Cube.apply(x)
    np.testing.assert_array_equal(y.data, x0 ** 3)
    g, = grad((y * y.tanh()).sum(), [x], create_graph=True)
    h, = grad(g.sum(), [x], create_graph=True)
    k, = grad(h.sum(), [x])
    xt = torch.tensor(x0, requires_grad=True)
    yt = xt ** 3
    gt, = torch.autograd.grad((yt * yt.tanh()).sum(), xt, create_graph=True)
    ht, = torch.autograd.grad(gt.sum(), xt, create_graph=True)
    kt, = torch.autograd.grad(ht.sum(), xt)
    for ours, theirs in ((g.data, gt), (h.data, ht), (k, kt)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12)


def test_function_backward_and_several_inputs() -> None:
    x, k = Value([1.0, 2.0]), Value(3.0)
    out = Scale.apply(x, k)
    out.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert k.grad == 3.0


def test_function_forward_sees_values_with_recording_off() -> None:
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            seen.append((type(x), y.requires_grad, y.op))
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = Value(1.5)
    out = Probe.apply(x)
    assert seen == [(Value, False, "")]
    assert out.op == "Probe" and out.data == 3.0 and grad(out, [x]) == (2.0,)


def test_function_explain_and_draw_show_its_name_and_formula() -> None:
    x = Value(2.0, label="x")
    y = Cube.apply(x)
    text = explain(y)
    assert "out = x³ = 8" in text and "too many terms" not in text
    z = Scale.apply(Value(2.0, label="a"), Value(4.0, label="b"))
    assert "out = Scale(a, b) = 8" in explain(z)
    from autograd import draw_graph
    source = draw_graph(y).source
    assert "label=Cube" in source and "ctx" not in source


def test_function_name_may_not_shadow_a_table_op() -> None:
    class tanh(Function):
        @staticmethod
        def forward(ctx, x):
            return x.data

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(ValueError, match="tanh"):
        tanh.apply(Value(1.0))


def test_defop_refuses_an_existing_name() -> None:
    with pytest.raises(ValueError, match="already in the table.*replace=True"):
        defop("tanh", np.tanh, lambda g, ans, a: g)


def test_defop_new_op_is_callable_on_values_numbers_and_arrays() -> None:
    square = defop("test_square_op", lambda a: a * a, lambda g, ans, a: 2 * g * a,
                   jvp=(lambda t, ans, a: 2 * t * a,), formula="{0}²")
    try:
        x = Value([1.0, 3.0])
        y = square(x)
        assert y.op == "test_square_op"
        np.testing.assert_array_equal(grad(y.sum(), [x])[0], [2.0, 6.0])
        assert square(3.0).data == 9.0
        np.testing.assert_array_equal(square(np.array([2.0])).data, [4.0])
        assert "out = a² = 4" in explain(square(Value(2.0, label="a")))
    finally:
        del OPS["test_square_op"]


def test_defop_replace_changes_the_row_and_the_value_method() -> None:
    old = OPS["tanh"]
    saved = {f: getattr(old, f) for f in ("forward", "vjps", "jvp", "symbol", "formula", "meta")}
    try:
        defop("tanh", lambda a: a * 0 + 7.0, lambda g, ans, a: g * 5.0, replace=True)
        x = Value(0.3)
        y = x.tanh()
        assert y.data == 7.0
        assert grad(y, [x]) == (5.0,)
        xs = Value([0.1, 0.2])
        np.testing.assert_array_equal(xs.tanh().data, [7.0, 7.0])
    finally:
        defop("tanh", saved["forward"], *saved["vjps"], jvp=saved["jvp"], replace=True,
              symbol=saved["symbol"], formula=saved["formula"], **(saved["meta"] or {}))
    x = Value(0.3)
    assert abs(x.tanh().data - np.tanh(0.3)) < 1e-15
    assert abs(grad(x.tanh(), [x])[0] - (1 - np.tanh(0.3) ** 2)) < 1e-15


def test_gradcheck_second_order_and_forward_mode_on_a_custom_op() -> None:
    from autograd import gradcheck
    x = Value(np.array([0.3, -0.7, 1.1]))
    assert gradcheck(lambda v: Cube.apply(v).tanh(), x, order=2, modes=("rev", "fwd"))


def test_gradcheck_catches_a_wrong_second_derivative_and_a_wrong_jvp() -> None:
    from autograd import gradcheck

    class FlatBackward(Function):  # right first derivative, but a backward that is a constant
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.data ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_values
            return g * Value(3 * x.data ** 2, requires_grad=False)  # loses x: no 2nd order

        @staticmethod
        def jvp(ctx, t):
            return t * 2.0  # wrong

    x = Value(np.array([0.5, 1.5]))
    assert gradcheck(FlatBackward.apply, x)  # first order, reverse: right
    with pytest.raises(AssertionError, match="second order"):
        gradcheck(FlatBackward.apply, x, order=2)
    with pytest.raises(AssertionError, match="forward mode"):
        gradcheck(FlatBackward.apply, x, modes=("fwd",))


class SinCos(Function):  # two outputs
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data), np.cos(x.data)

    @staticmethod
    def backward(ctx, gs, gc):
        x, = ctx.saved_values
        return gs * Value(np.cos(x.data)) - gc * Value(np.sin(x.data))

    @staticmethod
    def jvp(ctx, t):
        x, = ctx.saved_values
        return t * np.cos(x.data), -t * np.sin(x.data)


def test_function_with_two_outputs() -> None:
    x0 = np.array([0.3, 1.2])
    x = Value(x0)
    s, c = SinCos.apply(x)
    np.testing.assert_allclose(s.data, np.sin(x0))
    np.testing.assert_allclose(c.data, np.cos(x0))
    g, = grad((s * 2.0 + c * 3.0).sum(), [x])
    np.testing.assert_allclose(g, 2 * np.cos(x0) - 3 * np.sin(x0), rtol=1e-14)
    from autograd import func
    _, t = func.jvp(lambda v: SinCos.apply(v)[1], (x,), (np.ones(2),))
    np.testing.assert_allclose(t.data, -np.sin(x0), rtol=1e-14)
