"""nn.Dropout: inverted dropout in train() mode, the identity in eval() mode."""

import numpy as np
import pytest

import nn
from autograd import Value


def test_eval_mode_is_the_identity():
    d = nn.Dropout(0.5, seed=0)
    x = Value(np.random.default_rng(0).normal(size=(4, 6)))
    d.eval()
    out = d(x)
    np.testing.assert_array_equal(out.data, x.data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((4, 6)))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_training_statistics_keep_the_expected_value(p):
    d = nn.Dropout(p, seed=1)
    x = np.ones((200, 500))
    out = d(x).data
    kept = out != 0
    # survivors are scaled by 1/(1-p); the rest are exactly 0
    np.testing.assert_allclose(out[kept], 1.0 / (1.0 - p))
    n = x.size
    drop_rate = 1.0 - kept.mean()
    assert abs(drop_rate - p) < 4 * np.sqrt(p * (1 - p) / n)  # within 4 standard errors
    assert abs(out.mean() - 1.0) < 4 * np.sqrt(p / (1 - p) / n)


def test_gradient_flows_only_through_kept_elements():
    d = nn.Dropout(0.5, seed=2)
    x = Value(np.arange(1.0, 41.0).reshape(5, 8))
    out = d(x)
    (out * 3.0).sum().backward()
    mask = out.data != 0
    np.testing.assert_allclose(x.grad, np.where(mask, 3.0 * 2.0, 0.0))


def test_masks_differ_per_call_and_repeat_for_a_seed():
    x = np.ones((10, 10))
    a, b = nn.Dropout(0.5, seed=3), nn.Dropout(0.5, seed=3)
    first = a(x).data
    np.testing.assert_array_equal(first, b(x).data)
    assert not np.array_equal(first, a(x).data)


def test_edges_and_bad_p():
    x = np.ones((3, 3))
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0.0)
    for bad in (-0.1, 1.5, "half", None):
        with pytest.raises(ValueError, match="Dropout probability"):
            nn.Dropout(bad)


def test_works_inside_sequential_and_follows_its_mode():
    model = nn.Sequential(nn.Layer(4, 50, "relu", seed=0), nn.Dropout(0.5, seed=0),
                          nn.Layer(50, 2, "linear", seed=1))
    x = np.random.default_rng(0).normal(size=(8, 4))
    assert len(model.parameters()) == 4  # Dropout has none
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    assert not np.array_equal(model(x).data, model(x).data)
    assert model.layers[1].training


def test_saved_and_loaded_with_the_model(tmp_path):
    model = nn.Sequential(nn.Layer(3, 5, "tanh", seed=0), nn.Dropout(0.25),
                          nn.Layer(5, 2, "linear", seed=1))
    path = model.save(tmp_path / "m.npz")
    again = nn.load(path)
    assert isinstance(again.layers[1], nn.Dropout) and again.layers[1].p == 0.25
    x = np.ones((2, 3))
    model.eval()
    again.eval()
    np.testing.assert_allclose(again(x).data, model(x).data)
