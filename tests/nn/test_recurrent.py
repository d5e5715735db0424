"""RNN, GRU and LSTM against torch.nn's with copied weights: outputs, final state, every
parameter and input gradient (initial state included), with and without an initial state,
T = 1 and T > 1, one and two directions, float64 and float32; gradients through time by
finite differences; bad input; the layer lifecycle (save/load, freeze, draw, explain)."""

import numpy as np
import pytest

import nn
from autograd import Value, draw_graph, explain, gradcheck, topological_order

LAYERS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
N, NIN, HID = 3, 2, 4


def _torch_name(name: str) -> str:
    """w_ih -> weight_ih_l0, b_hh_reverse -> bias_hh_l0_reverse."""
    reverse = name.endswith("_reverse")
    base = name.removesuffix("_reverse").replace("w_", "weight_").replace("b_", "bias_")
    return base + "_l0" + ("_reverse" if reverse else "")


def _twin(layer):
    torch = pytest.importorskip("torch")
    kind = type(layer).__name__
    kwargs = {"nonlinearity": layer.nonlinearity} if kind == "RNN" else {}
    ref = getattr(torch.nn, kind)(layer.input_size, layer.hidden_size, batch_first=True,
                                  bidirectional=layer.bidirectional,
                                  dtype=getattr(torch, layer.dtype.name), **kwargs)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            getattr(ref, _torch_name(name)).copy_(torch.tensor(p.data))
    return torch, ref


def _state_list(state):
    return list(state) if isinstance(state, tuple) else [state]


CASES = [(kind, t, init, bi) for kind in LAYERS for t in (1, 5) for init in (False, True)
         for bi in (False, True)]


@pytest.mark.parametrize("kind, t, init, bidirectional", CASES,
                         ids=[f"{k}-T{t}-{'h0' if i else 'zero'}-{'bi' if b else 'uni'}"
                              for k, t, i, b in CASES])
@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 1e-9, 1e-12),
                                               (np.float32, 1e-5, 1e-6)], ids=["f64", "f32"])
def test_matches_torch_with_copied_weights(kind, t, init, bidirectional, dtype, rtol, atol):
    rng = np.random.default_rng(t + 2 * init + 4 * bidirectional)
    layer = LAYERS[kind](NIN, HID, bidirectional=bidirectional, seed=5, dtype=dtype)
    torch, ref = _twin(layer)
    d = 2 if bidirectional else 1
    x = Value(rng.uniform(-1, 1, (N, t, NIN)).astype(dtype))
    tx = torch.tensor(x.data, requires_grad=True)
    states, tstates = None, None
    if init:
        n_parts = 2 if kind == "LSTM" else 1
        shape = (d, N, HID) if bidirectional else (N, HID)
        parts = [Value(rng.uniform(-1, 1, shape).astype(dtype)) for _ in range(n_parts)]
        tparts = [torch.tensor(p.data.reshape(d, N, HID), requires_grad=True) for p in parts]
        states = tuple(parts) if kind == "LSTM" else parts[0]
        tstates = tuple(tparts) if kind == "LSTM" else tparts[0]

    out, state = layer(x, states)
    tout, tstate = ref(tx, tstates)
    assert out.shape == (N, t, d * HID) and out.dtype == dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    for s, ts in zip(_state_list(state), _state_list(tstate)):
        assert s.shape == ((d, N, HID) if bidirectional else (N, HID))
        np.testing.assert_allclose(s.data, ts.detach().numpy().reshape(s.shape), rtol=rtol,
                                   atol=atol)

    # a loss that reads every output and every part of the final state
    w_out = rng.uniform(-1, 1, out.shape).astype(dtype)
    w_st = [rng.uniform(-1, 1, s.shape).astype(dtype) for s in _state_list(state)]
    loss = (out * w_out).sum()
    tloss = (tout * torch.tensor(w_out)).sum()
    for s, ts, w in zip(_state_list(state), _state_list(tstate), w_st):
        loss = loss + (s * w).sum()
        tloss = tloss + (ts * torch.tensor(w.reshape(ts.shape))).sum()
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=rtol, atol=atol)
    for name, p in layer.named_parameters():
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad, getattr(ref, _torch_name(name)).grad.numpy(),
                                   rtol=rtol, atol=atol, err_msg=name)
    if init:
        for p, tp in zip(_state_list(states), _state_list(tstates)):
            np.testing.assert_allclose(p.grad, tp.grad.numpy().reshape(p.shape), rtol=rtol,
                                       atol=atol)


@pytest.mark.parametrize("kind", LAYERS)
def test_gradients_through_time_match_finite_differences(kind):
    layer = LAYERS[kind](NIN, 2, seed=1)
    rng = np.random.default_rng(0)
    w = rng.uniform(-1, 1, (2, 3, 2))
    names = [n for n, _ in layer.named_parameters()]

    def f(x, *params):
        for name, p in zip(names, params):
            setattr(layer, name, p)
        out, _ = layer(x)
        return out * w

    params = [Value(p.data) for p in layer.parameters()]
    assert gradcheck(f, Value(rng.uniform(-1, 1, (2, 3, NIN))), *params)


def test_a_sequence_is_one_node_per_step():
    layer = nn.GRU(1, 6, bidirectional=True, seed=0)
    out, _ = layer(np.zeros((4, 40, 1)))
    ops = [v.op for v in topological_order(out.sum()) if v.op]
    assert ops.count("gru_cell") == 80  # 40 steps, two directions
    assert len(ops) <= 85  # plus stacking the steps, joining the directions, the sum


def test_rnn_relu_and_no_bias():
    layer = nn.RNN(NIN, HID, nonlinearity="relu", bias=False, seed=2)
    assert [n for n, _ in layer.named_parameters()] == ["w_ih", "w_hh"]
    x = np.random.default_rng(1).uniform(-1, 1, (N, 3, NIN))
    _, h = layer(x)
    hh = np.zeros((N, HID))
    for t in range(3):
        hh = np.maximum(x[:, t] @ layer.w_ih.data.T + hh @ layer.w_hh.data.T, 0)
    np.testing.assert_allclose(h.data, hh, rtol=1e-14)


@pytest.mark.parametrize("kind", LAYERS)
def test_bad_input_names_the_layer_the_shapes_and_what_was_expected(kind):
    layer = LAYERS[kind](NIN, HID)
    name = f"{kind}\\({NIN}, {HID}"
    with pytest.raises(ValueError, match=rf"{name}.*expects input of shape \(N, T, {NIN}\).*"
                                         r"got shape \(5, 2\).*add a batch axis"):
        layer(np.zeros((5, NIN)))  # one sequence without its batch axis
    with pytest.raises(ValueError, match=rf"{name}.*\(N, T, {NIN}\).*got shape \(3, 5, 7\)"):
        layer(np.zeros((3, 5, 7)))  # wrong feature width
    x = np.zeros((3, 5, NIN))
    bad = np.zeros((2, HID))
    if kind == "LSTM":
        with pytest.raises(ValueError, match=rf"{name}.*h0 must have shape \(3, {HID}\).*"
                                             r"got shape \(2, 4\)"):
            layer(x, (bad, np.zeros((3, HID))))
        with pytest.raises(ValueError, match=r"pair \(h0, c0\)"):
            layer(x, np.zeros((3, HID)))
    else:
        with pytest.raises(ValueError, match=rf"{name}.*h0 must have shape \(3, {HID}\).*"
                                             r"batch size 3; got shape \(2, 4\)"):
            layer(x, bad)


def test_bidirectional_state_shape_is_checked():
    layer = nn.GRU(NIN, HID, bidirectional=True)
    with pytest.raises(ValueError, match=r"must have shape \(2, 3, 4\) \(2, N, hidden\)"):
        layer(np.zeros((3, 5, NIN)), np.zeros((3, HID)))


@pytest.mark.parametrize("kind", LAYERS)
def test_lifecycle_float32_state_dict_save_load_freeze(kind, tmp_path):
    layer = LAYERS[kind](NIN, HID, bidirectional=True, seed=3, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(2, 4, NIN)).astype(np.float32)
    out, _ = layer(x)
    assert out.dtype == np.float32 and all(p.dtype == np.float32 for p in layer.parameters())
    assert list(layer.state_dict()) == ["w_ih", "w_hh", "b_ih", "b_hh", "w_ih_reverse",
                                        "w_hh_reverse", "b_ih_reverse", "b_hh_reverse"]
    back = nn.load(layer.save(tmp_path / "rnn.npz"))
    assert type(back) is type(layer) and back.bidirectional
    np.testing.assert_array_equal(back(x)[0].data, out.data)
    layer.freeze()
    xv = Value(x)
    layer(xv)[0].sum().backward()
    assert xv.grad.any() and not any(p.grad.any() for p in layer.parameters())


def test_a_short_sequence_draws_and_explains_every_step():
    layer = nn.GRU(1, 1, seed=0)
    _, h = layer(np.array([[[0.5], [-1.0], [2.0]]]))
    h.backward()
    dot = draw_graph(h).source
    assert dot.count("GRU cell") == 3
    assert all(f"h[t={t}]" in dot for t in (1, 2, 3))
    text = explain(h)
    assert "h[t=2] = GRU cell(-1, h[t=1])" in text
    # backpropagation through time, one chain-rule step per time step
    assert "dh[t=3]/dh[t=1][1,1] = dh[t=3]/dh[t=2][1,1] × dh[t=2][1,1]/dh[t=1][1,1]" in text


def test_a_long_sequence_labels_only_its_first_and_last_steps():
    layer = nn.GRU(1, 2, seed=0)
    out, _ = layer(np.zeros((1, 30, 1)))
    labels = [v.label for v in topological_order(out) if v.label.startswith("h[")]
    assert labels == ["h[t=1]", "h[t=2]", "h[t=29]", "h[t=30]"]
