"""The fused recurrent cells against the same step written with the table's small ops
(linear, σ, tanh, slicing, concatenate): values, gradients and second derivatives agree;
the one-node-per-step graph; bad shapes. (Each cell's own row in op_cases.py checks it
against NumPy, finite differences and torch's cells.)"""

import numpy as np
import pytest

from autograd import Value, concatenate, grad, topological_order
from autograd.ops.linalg import linear
from autograd.ops.recurrent import gru_cell, lstm_cell, rnn_cell

N, NIN, HID = 3, 4, 2


def _composed_rnn(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    a = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    return a.tanh() if nonlinearity == "tanh" else a.relu()


def _composed_gru(x, h, w_ih, w_hh, b_ih, b_hh):
    gi, gh = linear(x, w_ih, b_ih), linear(h, w_hh, b_hh)
    r = (gi[:, :HID] + gh[:, :HID]).sigmoid()
    z = (gi[:, HID:2 * HID] + gh[:, HID:2 * HID]).sigmoid()
    n = (gi[:, 2 * HID:] + r * gh[:, 2 * HID:]).tanh()
    return (1 - z) * n + z * h


def _composed_lstm(x, h, c, w_ih, w_hh, b_ih, b_hh):
    a = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f = a[:, :HID].sigmoid(), a[:, HID:2 * HID].sigmoid()
    g, o = a[:, 2 * HID:3 * HID].tanh(), a[:, 3 * HID:].sigmoid()
    c2 = f * c + i * g
    return concatenate([o * c2.tanh(), c2], axis=-1)


CELLS = {  # name: (fused, composed, gates, states)
    "rnn_tanh": (rnn_cell, _composed_rnn, 1, 1),
    "rnn_relu": (lambda *a: rnn_cell(*a, nonlinearity="relu"),
                 lambda *a: _composed_rnn(*a, nonlinearity="relu"), 1, 1),
    "gru": (gru_cell, _composed_gru, 3, 1),
    "lstm": (lstm_cell, _composed_lstm, 4, 2),
}


def _inputs(gates: int, states: int, seed: int) -> list[Value]:
    rng = np.random.default_rng(seed)
    shapes = [(N, NIN)] + [(N, HID)] * states + [(gates * HID, NIN), (gates * HID, HID),
                                                 (gates * HID,), (gates * HID,)]
    return [Value(rng.uniform(-1.5, 1.5, s)) for s in shapes]


@pytest.mark.parametrize("name", CELLS)
def test_fused_cell_equals_the_step_by_step_composition(name):
    fused, composed, gates, states = CELLS[name]
    xs = _inputs(gates, states, seed=len(name))
    rng = np.random.default_rng(7)
    w = rng.uniform(-1, 1, (N, HID * (2 if name == "lstm" else 1)))
    us = [rng.uniform(-1, 1, x.shape) for x in xs]

    def loss(f, *v):
        out = f(*v)
        return (out * w + 0.5 * out * out).sum()  # the gradient at the cell depends on x

    a, b = fused(*xs), composed(*xs)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-13, atol=1e-15)
    ga = grad(loss(fused, *xs), xs)
    gb = grad(loss(composed, *xs), xs)
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)
    # second derivatives: the gradient of <∂L/∂inputs, u> (a Hessian-vector product)
    hv = []
    for f in (fused, composed):
        gs = grad(loss(f, *xs), xs, create_graph=True)
        total = sum((g * u).sum() for g, u in zip(gs, us))
        hv.append(grad(total, xs))
    for u, v in zip(*hv):
        np.testing.assert_allclose(u, v, rtol=1e-11, atol=1e-13)


def test_one_node_per_step():
    fused, composed, gates, states = CELLS["gru"]
    x, h, *w = _inputs(gates, states, seed=1)
    for _ in range(5):
        h = fused(x, h, *w)
    inner = [v for v in topological_order(h) if v.op]
    assert [v.op for v in inner] == ["gru_cell"] * 5
    h2 = _inputs(gates, states, seed=1)[1]
    for _ in range(5):
        h2 = composed(x, h2, *w)
    assert len([v for v in topological_order(h2) if v.op]) > 15 * 5  # what fusing saves


def test_float32_stays_float32():
    xs = [Value(v.data.astype(np.float32)) for v in _inputs(3, 1, seed=2)]
    out = gru_cell(*xs)
    out.sum().backward()
    assert out.dtype == np.float32 and all(x.grad.dtype == np.float32 for x in xs)


def test_memo_does_not_mix_up_two_nodes_with_the_same_upstream_gradient():
    x, h, *w = _inputs(3, 1, seed=3)
    a, b = gru_cell(x, h, *w), gru_cell(h @ np.ones((HID, NIN)), h, *w)
    g = np.ones((N, HID))
    ga = grad(a, [x, h] + w, gradient=g)
    gb = grad(b, [h] + w, gradient=g)
    both = grad(a + b, [h] + w, gradient=g)
    for u, v, s in zip(ga[1:], gb, both):
        np.testing.assert_allclose(u + v, s, rtol=1e-13)


@pytest.mark.parametrize("bad", ["x", "h", "w_hh"])
def test_bad_shapes_name_every_input(bad):
    x, h, w_ih, w_hh, b_ih, b_hh = (v.data for v in _inputs(3, 1, seed=4))
    args = {"x": x, "h": h, "w_hh": w_hh}
    args[bad] = args[bad][:, :1]
    with pytest.raises(ValueError, match=r"gru_cell needs x \(N, input\).*got x \("):
        gru_cell(args["x"], args["h"], w_ih, args["w_hh"], b_ih, b_hh)
