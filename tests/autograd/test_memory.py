"""What a graph keeps alive (README, "Memory"): every Value of a graph keeps its data and its
gradient while the graph is referenced, and nothing else keeps any of it. The previous
step's graph goes as soon as `loss` is rebound, with the collector off (no cycles), and
neither backward(), grad(), parameters nor the engine hold on to a graph."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import nn
from autograd import Value, grad


@pytest.fixture
def no_collector():
    """Freed by reference counting alone: a graph that needs the collector is a cycle."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _tensor_step(model, opt, x, y):
    loss = nn.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def _intermediates(root):
    from autograd import topological_order
    return [v for v in topological_order(root) if v.parents]


def test_the_previous_steps_graph_goes_when_loss_is_rebound(no_collector) -> None:
    rng = np.random.default_rng(0)
    model = nn.MLP(6, [5, 3], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    x, y = rng.standard_normal((4, 6)), np.array([0, 1, 2, 1])
    loss = _tensor_step(model, opt, x, y)
    old = [weakref.ref(v) for v in _intermediates(loss)]
    assert old and all(r() is not None for r in old)
    loss = _tensor_step(model, opt, x, y)  # the loop as users write it
    assert all(r() is None for r in old)
    assert all(r() is not None for r in (weakref.ref(v) for v in _intermediates(loss)))


def test_a_scalar_graph_is_freed_without_the_collector(no_collector) -> None:
    a, b = Value(0.5), Value(-2.0)
    loss = ((a * b + a).tanh() * 3.0 - b.relu()) ** 2
    loss.backward()
    refs = [weakref.ref(v) for v in _intermediates(loss)]
    del loss
    assert all(r() is None for r in refs)
    assert a.grad != 0.0 and b.grad != 0.0  # the leaves keep their gradients


def test_grad_and_create_graph_leave_nothing_behind(no_collector) -> None:
    x = Value(np.array([0.3, -0.7]))
    y = (x.exp() * x).sum()
    refs = [weakref.ref(v) for v in _intermediates(y)]
    (g,) = grad(y, x, create_graph=True)
    gg = grad(g.sum(), x)
    assert np.all(np.isfinite(gg[0]))
    g_refs = [weakref.ref(v) for v in _intermediates(g)]
    del y, g
    assert all(r() is None for r in refs + g_refs)


def test_an_interrupted_pass_leaves_no_reference_to_the_graph(no_collector) -> None:
    from autograd.engine import OPS, apply, defop

    def boom(g, ans, a):
        raise RuntimeError("stop")

    op = defop("test_boom", lambda a: a * 1.0, boom)
    try:
        x = Value(np.ones(3))
        y = (apply(op, x * 2.0) * 3.0).sum()
        refs = [weakref.ref(v) for v in _intermediates(y)]
        with pytest.raises(RuntimeError, match="stop"):
            y.backward()
        del y
        assert all(r() is None for r in refs)
    finally:
        del OPS["test_boom"]


def test_every_value_of_a_small_graph_keeps_its_gradient() -> None:
    """What learners rely on: draw_graph/explain show a gradient at every node."""
    w = Value(np.array([[0.6, 0.4], [-0.2, 0.9]]), label="w")
    h = Value(np.array([0.9, 0.2]), label="h")
    z = (w @ h).tanh()
    loss = ((z - 1.0) * (z - 1.0)).sum()
    loss.backward()
    from autograd import topological_order
    for v in topological_order(loss):
        assert np.any(np.asarray(v.grad) != 0.0), (v.op, v.label)
    # and each is d(loss)/d(that node): check one intermediate by hand
    np.testing.assert_allclose(z.grad, 2.0 * (z.data - 1.0))
