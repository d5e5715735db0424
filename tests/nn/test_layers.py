"""Neuron, Layer and MLP: shapes, the document's worked examples, init, input checks."""

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value
from demos.document import (  # the document's inputs and weights
    DIGIT_B1,
    DIGIT_W1,
    DIGIT_X,
    DOG_B1,
    DOG_W1,
    DOG_X,
    NEURON_B,
    NEURON_W,
    NEURON_X,
    digit_network,
)
from demos.document import dog_cat_network as dog_cat


# ---- the document's numbers -------------------------------------------------------------
def test_dog_cat_forward_pass_matches_document():
    model = dog_cat()
    hidden = model.layers[0](DOG_X)
    np.testing.assert_allclose(hidden.data, [0.71, 0.44, 0.27], atol=1e-12)
    logits = model(DOG_X)
    np.testing.assert_allclose(logits.data, [0.713, 0.464], atol=1e-12)
    probs = logits.softmax().data
    assert round(float(probs[0]), 3) == 0.562
    assert round(float(probs[1]), 3) == 0.438


def test_dog_cat_gradient_and_sgd_step_match_document():
    model = dog_cat()
    loss = nn.cross_entropy(model(DOG_X), 0)  # true label: dog
    loss.backward()
    w_out = model.layers[1].w
    p_dog = float(model(DOG_X).softmax().data[0])
    # dL/dz_dog = p_dog - y_dog = -0.438, dL/dw1 = dL/dz_dog × h1 = -0.438 × 0.71 = -0.311
    assert w_out.grad[0, 0] == pytest.approx((p_dog - 1.0) * 0.71, rel=1e-12)
    assert w_out.grad[0, 0] == pytest.approx(-0.311, abs=5e-4)
    np.testing.assert_allclose(model.layers[1].b.grad, [p_dog - 1.0, 1.0 - p_dog], rtol=1e-12)
    grad = float(w_out.grad[0, 0])
    nn.SGD(model.parameters(), lr=0.01).step()
    assert w_out.data[0, 0] == 0.8 - 0.01 * grad  # new_w = old_w - lr × dL/dw, exactly
    assert round(float(w_out.data[0, 0]), 5) == 0.80311


def test_single_neuron_example():
    neuron = nn.Neuron(3, activation="relu")
    neuron.w.data[:] = NEURON_W
    neuron.b.data = NEURON_B
    assert neuron(NEURON_X).item() == pytest.approx(0.41, abs=1e-12)


def test_digit_network_builds_from_document_numbers():
    model = digit_network()
    assert [(la.nin, la.nout) for la in model.layers] == [(16, 4), (4, 3), (3, 2)]
    assert model.num_parameters() == 16 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2
    h1 = model.layers[0](DIGIT_X).data
    # Neuron 1 matches the document (2.04). For neurons 2-4 the document's sums (0.31, 0.49,
    # 0.36) do not follow from its own weights; the true sums are checked against numpy.
    assert h1[0] == pytest.approx(2.04, abs=1e-12)
    expected = np.maximum(np.array(DIGIT_W1) @ np.array(DIGIT_X) + np.array(DIGIT_B1), 0)
    np.testing.assert_allclose(h1, expected, rtol=1e-12)
    # From the document's stated hidden outputs on, its numbers hold layer by layer.
    h2 = model.layers[1]([2.04, 0.11, 0.19, 0.26])
    np.testing.assert_allclose(h2.data, [1.121, 0.517, 0.285], atol=1e-12)
    out = model.layers[2]([1.121, 0.517, 0.285])
    np.testing.assert_allclose(out.data, [0.861, 0.210], atol=5e-4)
    assert round(float(out.softmax().data[0]), 3) == 0.657


# ---- shapes, batches ---------------------------------------------------------------------
def test_parameter_shapes_and_counts():
    neuron = nn.Neuron(5)
    assert neuron.w.shape == (5,) and neuron.b.shape == () and neuron.b.is_scalar
    assert neuron.num_parameters() == 6
    layer = nn.Layer(4, 3)
    assert layer.w.shape == (3, 4) and layer.b.shape == (3,)
    assert layer.num_parameters() == 15
    mlp = nn.MLP(4, [8, 8, 2])
    assert len(mlp.layers) == 3
    assert mlp.num_parameters() == (4 * 8 + 8) + (8 * 8 + 8) + (8 * 2 + 2)
    assert [la.activation for la in mlp.layers] == ["relu", "relu", "linear"]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_single_sample_equals_batch_row(activation):
    rng = np.random.default_rng(1)
    model = nn.MLP(5, [7, 3], activation=activation, seed=3)
    X = rng.standard_normal((6, 5))
    batch = model(X)
    assert batch.shape == (6, 3)
    for i in range(6):
        np.testing.assert_allclose(model(X[i]).data, batch.data[i], rtol=1e-12, atol=1e-14)
    neuron = nn.Neuron(5, activation=activation, seed=0)
    nb = neuron(X)
    assert nb.shape == (6,)
    for i in range(6):
        assert float(neuron(list(X[i])).data) == pytest.approx(float(nb.data[i]), rel=1e-12)


def test_activations_applied():
    layer = nn.Layer(2, 2, activation="sigmoid")
    layer.w.data[:] = [[1.0, 0.0], [0.0, 1.0]]
    np.testing.assert_allclose(layer([2.0, -2.0]).data, [0.8807970779778823, 0.11920292202211755])
    layer.activation = "tanh"
    np.testing.assert_allclose(layer([2.0, -2.0]).data, np.tanh([2.0, -2.0]))
    layer.activation = "relu"
    np.testing.assert_allclose(layer([2.0, -2.0]).data, [2.0, 0.0])


def test_batch_gradient_equals_sum_of_per_sample_gradients():
    model = nn.MLP(3, [4, 2], activation="tanh", seed=0)
    X = np.random.default_rng(0).standard_normal((5, 3))
    model(X).sum().backward()
    batch_grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    for row in X:
        model(row).sum().backward()
    for g_batch, p in zip(batch_grads, model.parameters()):
        np.testing.assert_allclose(p.grad, g_batch, rtol=1e-10, atol=1e-12)


def test_value_input_gets_gradient():
    layer = nn.Layer(3, 2, activation="linear", seed=0)
    x = Value([1.0, 2.0, 3.0])
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad, layer.w.data.sum(axis=0))


# ---- input checks ------------------------------------------------------------------------
def test_wrong_input_width_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Layer expects inputs with 4 features, got shape \(3,\)"):
        nn.Layer(4, 2)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="4 features"):
        nn.MLP(4, [2])(np.ones((5, 3)))
    with pytest.raises(ValueError, match="Neuron expects inputs with 2 features"):
        nn.Neuron(2)(Value([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        nn.Layer(1, 1)(3.0)
    with pytest.raises(TypeError, match="numeric"):
        nn.Layer(2, 1)(["a", "b"])


def test_unknown_activation_lists_valid_ones():
    with pytest.raises(ValueError, match="'gelu'.*'relu', 'sigmoid', 'tanh', 'linear'"):
        nn.MLP(2, [3, 1], activation="gelu")
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Neuron(2, activation="softmax")


def test_bad_sizes_refused():
    with pytest.raises(ValueError, match="nin"):
        nn.Layer(0, 3)
    with pytest.raises(ValueError, match=r"nouts\[1\]"):
        nn.MLP(2, [3, -1])
    with pytest.raises(ValueError, match="at least one"):
        nn.MLP(2, [])


def test_from_weights_checks_shapes():
    with pytest.raises(ValueError, match="previous layer has 3 outputs"):
        nn.MLP.from_weights([(DOG_W1, DOG_B1), (np.ones((2, 4)), np.ones(2))])
    with pytest.raises(ValueError, match=r"b must have shape \(3,\)"):
        nn.MLP.from_weights([(DOG_W1, [0.0, 0.0])])
    with pytest.raises(ValueError, match="2-D"):
        nn.MLP.from_weights([(np.ones(3), np.ones(3))])


# ---- initialisation ------------------------------------------------------------------------
def test_seed_makes_init_reproducible():
    a, b = nn.MLP(3, [5, 2], seed=42), nn.MLP(3, [5, 2], seed=42)
    c = nn.MLP(3, [5, 2], seed=43)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert not np.array_equal(a.layers[0].w.data, c.layers[0].w.data)
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(nn.Layer(3, 4, seed=g1).w.data, nn.Layer(3, 4, seed=g2).w.data)
    assert not np.array_equal(a.layers[0].w.data[:2], a.layers[1].w.data[:, :3])


def test_he_and_glorot_scales():
    relu = nn.Layer(400, 300, activation="relu", seed=0).w.data
    assert relu.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    tanh = nn.Layer(400, 300, activation="tanh", seed=0).w.data
    assert tanh.std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    assert np.all(nn.Layer(4, 3, seed=0).b.data == 0)


def test_float32_models_stay_float32():
    model = nn.MLP(3, [4, 2], dtype=np.float32, seed=0)
    assert all(p.dtype == np.float32 for p in model.parameters())
    out = model(np.ones((2, 3)))
    assert out.dtype == np.float32
    nn.cross_entropy(out, [0, 1]).backward()
    assert model.layers[0].w.grad.dtype == np.float32
    with pytest.raises(ValueError, match="float64 or float32"):
        nn.Layer(2, 2, dtype=np.int32)


def test_repr_is_readable():
    text = repr(nn.MLP(4, [3, 2]))
    assert "MLP(4 -> 3 -> 2, activation=relu, parameters=23" in text
    assert "(layers.0): Layer(4 -> 3, activation=relu)" in text
    assert "(layers.1): Layer(3 -> 2, activation=linear)" in text


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_forward_and_gradients_match_torch(activation):
    torch = pytest.importorskip("torch")
    model = nn.MLP(5, [6, 4, 3], activation=activation, seed=0)
    X = np.random.default_rng(2).standard_normal((7, 5))
    y = np.array([0, 2, 1, 1, 0, 2, 2])
    loss = nn.cross_entropy(model(X), y)
    loss.backward()
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    params = [torch.tensor(p.data, requires_grad=True) for p in model.parameters()]
    h = torch.tensor(X)
    for i in range(0, len(params), 2):
        h = torch.nn.functional.linear(h, params[i], params[i + 1])
        if i < len(params) - 2:
            h = act(h)
    tl = torch.nn.functional.cross_entropy(h, torch.tensor(y))
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-12)
    for p, t in zip(model.parameters(), params):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_layer_rows_are_neurons():
    layer = nn.Layer(4, 3, activation="sigmoid", seed=5)
    X = np.random.default_rng(5).standard_normal((6, 4))
    out = layer(X).data
    for i in range(3):
        neuron = nn.Neuron(4, activation="sigmoid")
        neuron.w.data[:] = layer.w.data[i]
        neuron.b.data = float(layer.b.data[i])
        np.testing.assert_allclose(neuron(X).data, out[:, i], rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(nin=st.integers(1, 6), nouts=st.lists(st.integers(1, 6), min_size=1, max_size=3),
       batch=st.integers(1, 5), activation=st.sampled_from(nn.ACTIVATIONS),
       seed=st.integers(0, 2 ** 16))
def test_any_mlp_shape_batch_and_count(nin, nouts, batch, activation, seed):
    model = nn.MLP(nin, nouts, activation=activation, seed=seed)
    sizes = [nin, *nouts]
    assert model.num_parameters() == sum(a * b + b for a, b in pairwise(sizes))
    X = np.random.default_rng(seed).standard_normal((batch, nin))
    out = model(X)
    assert out.shape == (batch, nouts[-1])
    np.testing.assert_allclose(model(X[0]).data, out.data[0], rtol=1e-12, atol=1e-14)


# ---- Linear: torch's affine layer --------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
def test_linear_matches_torch(shape, bias, dtype):
    from layer_twins import assert_twins, torch_module
    torch = torch_module()
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    layer = nn.Linear(4, 3, bias=bias, seed=1, dtype=dtype)
    assert_twins(layer, torch.nn.Linear(4, 3, bias=bias), x)
    assert isinstance(layer, nn.Layer) and (layer.b is None) == (not bias)


def test_linear_init_is_torchs_uniform_bound():
    layer = nn.Linear(400, 300, seed=0)
    bound = 1 / np.sqrt(400)
    for p in (layer.w, layer.b):
        assert p.data.min() >= -bound and p.data.max() <= bound
        assert p.data.max() > 0.95 * bound  # uniform over the whole range, not a normal
        assert abs(p.data.std() - bound / np.sqrt(3)) < 0.05 * bound
    np.testing.assert_array_equal(nn.Linear(4, 3, seed=5).w.data, nn.Linear(4, 3, seed=5).w.data)


def test_linear_refuses_a_wrong_feature_width():
    with pytest.raises(ValueError, match=r"Linear\(4, 3\) expects inputs with 4 features, "
                                         r"got shape \(5, 6\)"):
        nn.Linear(4, 3)(np.zeros((5, 6)))


def test_a_list_of_values_feeds_a_neuron_the_micrograd_way():
    """nn.Neuron(2)([Value(1.0), Value(2.0)]): the Values are stacked, each gets its grad."""
    x = [Value(1.0), Value(2.0)]
    n = nn.Neuron(2, activation="linear", seed=0)
    out = n(x)
    out.backward()
    np.testing.assert_allclose(out.data, n.w.data @ [1.0, 2.0])
    assert [v.grad for v in x] == pytest.approx(list(n.w.data))
    assert n.w.grad == pytest.approx([1.0, 2.0])
    rows = [[Value(1.0), 0.5], [Value(-1.0), Value(3.0)]]  # a batch, numbers mixed in
    layer = nn.Layer(2, 3, "tanh", seed=1)
    layer(rows).sum().backward()
    dz = 1 - np.tanh(np.array([[1.0, 0.5], [-1.0, 3.0]]) @ layer.w.data.T) ** 2
    np.testing.assert_allclose([rows[1][0].grad, rows[1][1].grad], dz[1] @ layer.w.data)
    with pytest.raises(TypeError, match="got a list it cannot read as numbers"):
        n(["a", "b"])
