"""What every layer beyond the MLP promises: float32 kept end to end, save/nn.load, freeze,
parameters(), draw_graph and explain. One parametrized row per layer."""

from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn
from autograd import Value, draw_graph, explain

NEEDS_CONV = pytest.mark.skipif(not hasattr(autograd, "conv2d"),
                                reason="autograd.conv1d/conv2d/pools land with the ops helper")
NEEDS_GELU = pytest.mark.skipif(not hasattr(Value, "gelu"),
                                reason="Value.gelu/leaky_relu land with the ops helper")
LAYERS = [  # (id, make(dtype), input shape, parameter names)
    ("Linear", lambda dt: nn.Linear(4, 3, seed=0, dtype=dt), (5, 4), ["w", "b"]),
    ("ReLU", lambda dt: nn.ReLU(dtype=dt), (2, 3), []),
    ("Tanh", lambda dt: nn.Tanh(dtype=dt), (2, 3), []),
    ("Sigmoid", lambda dt: nn.Sigmoid(dtype=dt), (2, 3), []),
    pytest.param("LeakyReLU", lambda dt: nn.LeakyReLU(0.1, dtype=dt), (2, 3), [],
                 marks=NEEDS_GELU),
    pytest.param("GELU", lambda dt: nn.GELU(dtype=dt), (2, 3), [], marks=NEEDS_GELU),
    ("Flatten", lambda dt: nn.Flatten(dtype=dt), (2, 3, 2), []),
    pytest.param("Conv1d", lambda dt: nn.Conv1d(2, 3, 3, stride=2, padding=1, seed=0,
                                                dtype=dt), (2, 2, 5), ["w", "b"],
                 marks=NEEDS_CONV),
    pytest.param("Conv2d", lambda dt: nn.Conv2d(2, 3, (2, 3), stride=(1, 2), padding=1,
                                                seed=0, dtype=dt), (2, 2, 4, 5), ["w", "b"],
                 marks=NEEDS_CONV),
    pytest.param("MaxPool1d", lambda dt: nn.MaxPool1d(2, dtype=dt), (2, 2, 5), [],
                 marks=NEEDS_CONV),
    pytest.param("MaxPool2d", lambda dt: nn.MaxPool2d(2, stride=1, dtype=dt), (2, 2, 3, 4), [],
                 marks=NEEDS_CONV),
    pytest.param("AvgPool2d", lambda dt: nn.AvgPool2d((2, 1), dtype=dt), (2, 2, 4, 3), [],
                 marks=NEEDS_CONV),
    ("BatchNorm1d", lambda dt: nn.BatchNorm1d(3, dtype=dt), (4, 3), ["w", "b"]),
    ("BatchNorm2d", lambda dt: nn.BatchNorm2d(2, dtype=dt), (3, 2, 2, 2), ["w", "b"]),
    ("LayerNorm", lambda dt: nn.LayerNorm((2, 3), dtype=dt), (4, 2, 3), ["w", "b"]),
]


def _x(shape, dtype):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize(("name", "make", "shape", "params"), LAYERS)
def test_float32_is_kept_end_to_end(name, make, shape, params):
    layer = make(np.float32)
    assert [n for n, _ in layer.named_parameters()] == params
    assert all(p.dtype == np.float32 for p in layer.parameters())
    x = Value(_x(shape, np.float32))
    out = layer(x)
    assert out.dtype == np.float32, name
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 and np.any(p.grad != 0) for p in layer.parameters())
    # list and float64 array inputs are converted to the layer's dtype
    assert layer(_x(shape, np.float64)).dtype == np.float32
    assert layer(_x(shape, np.float64).tolist()).dtype == np.float32


@pytest.mark.parametrize(("name", "make", "shape", "params"), LAYERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_and_load_give_the_same_layer(name, make, shape, params, dtype, tmp_path):
    layer = make(dtype)
    x = _x(shape, dtype)
    layer(x)  # a training step: BatchNorm's running statistics move
    for p in layer.parameters():
        p.data = p.data + np.asarray(0.25, dtype=dtype)  # not the initial values
    loaded = nn.load(layer.save(tmp_path / f"{name}.npz"))
    assert type(loaded) is type(layer) and repr(loaded) == repr(layer)
    assert loaded.config() == layer.config()
    assert type(layer).load(tmp_path / f"{name}.npz").config() == layer.config()
    for (k, a), (k2, b) in zip(layer.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    layer.eval()
    loaded.eval()
    np.testing.assert_array_equal(loaded(x).data, layer(x).data)


@pytest.mark.parametrize(("name", "make", "shape", "params"), LAYERS)
def test_frozen_layer_learns_nothing_but_passes_gradients_on(name, make, shape, params):
    layer = make(np.float64).freeze()
    x = Value(_x(shape, np.float64))
    out = layer(x)
    out.backward(np.random.default_rng(1).standard_normal(out.shape))  # not ones: Σ BN(x) is flat in x
    assert all(not p.requires_grad and not np.any(p.grad) for p in layer.parameters())
    assert np.any(x.grad != 0)
    if params:
        opt = nn.SGD(layer.parameters(), lr=0.1)
        before = [p.data.copy() for p in layer.parameters()]
        opt.step()
        for b, p in zip(before, layer.parameters()):
            np.testing.assert_array_equal(b, p.data)


@pytest.mark.parametrize(("name", "make", "shape", "params"), LAYERS)
def test_draw_graph_and_explain_show_the_layer(name, make, shape, params):
    model = nn.Sequential(make(np.float64))
    x = Value(_x(shape, np.float64), label="x")
    loss = model(x).sum()
    loss.backward()
    source = draw_graph(loss).source
    text = explain(loss)
    for p in params:
        assert f"layers.0.{p}" in source
        assert f"layers.0.{p}" in text
    assert "Forward pass" in text and "Backward pass" in text


# ---- an input of the wrong rank names the layer (issue 22: what held, kept) ----------------
_WRONG_RANK = {
    "Linear": (lambda: nn.Linear(3, 2), [(), (2, 3, 4, 5)]),
    "Layer": (lambda: nn.Layer(3, 2), [(), (4,)]),
    "Neuron": (lambda: nn.Neuron(3), [()]),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3), [(2, 5), (1, 2, 5, 5), (), (1, 2)]),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3), [(2, 5, 5), (1, 2, 5), (1, 1, 2, 5, 5), ()]),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), [(4,), (1, 1, 4, 4), ()]),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), [(4, 4), (1, 4, 4), (1, 1, 1, 4, 4)]),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), [(4, 4), (1, 1, 1, 4, 4), (4,)]),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), [(3,), (2, 3, 4, 4)]),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), [(2, 3), (2, 3, 4), (2, 3, 4, 4, 4)]),
    "LayerNorm": (lambda: nn.LayerNorm((3, 4)), [(4,), (2, 4)]),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2), [(4,), (1, 2, 3, 4)]),
    "RNN": (lambda: nn.RNN(3, 4), [(3,), (1, 2, 2, 3)]),
    "GRU": (lambda: nn.GRU(3, 4), [(3,), (1, 2, 2, 3)]),
    "LSTM": (lambda: nn.LSTM(3, 4), [(3,), (1, 2, 2, 3)]),
}
_RANK_CASES = [(name, shape) for name, (_, shapes) in _WRONG_RANK.items() for shape in shapes]


def test_there_are_at_least_35_wrong_rank_cases():
    assert len(_RANK_CASES) >= 35


@pytest.mark.parametrize("name,shape", _RANK_CASES)
def test_an_input_of_the_wrong_rank_is_an_error_naming_the_layer(name, shape):
    layer = _WRONG_RANK[name][0]()
    with pytest.raises((ValueError, TypeError)) as e:
        layer(np.zeros(shape))
    assert name in str(e.value) and "Traceback" not in str(e.value)
