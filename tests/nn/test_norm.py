"""BatchNorm1d, BatchNorm2d and LayerNorm against torch.nn's, weights copied in; running
statistics over several training steps, then eval; bad input refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_twins import TOL, assert_twins, torch_module

import nn

DTYPES = [np.float64, np.float32]
BATCHNORMS = [  # (ours, torch's name, input shape)
    (nn.BatchNorm1d, "BatchNorm1d", (6, 3)),
    (nn.BatchNorm1d, "BatchNorm1d", (4, 3, 5)),
    (nn.BatchNorm2d, "BatchNorm2d", (4, 3, 2, 5)),
]


def _affine(layer: nn.Module, rng: np.random.Generator) -> None:
    """γ and β away from their ones/zeros start, so their gradients are really tested."""
    layer.w.data = rng.uniform(0.5, 1.5, layer.w.shape).astype(layer.dtype)
    if layer.b is not None:
        layer.b.data = rng.uniform(-1, 1, layer.b.shape).astype(layer.dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("ours", "theirs", "shape"), BATCHNORMS)
@pytest.mark.parametrize("momentum", [0.3, None])
def test_batchnorm_matches_torch_in_training_then_eval(ours, theirs, shape, momentum, dtype):
    torch = torch_module()
    rng = np.random.default_rng(1)
    layer = ours(shape[1], momentum=momentum, dtype=dtype)
    _affine(layer, rng)
    twin = getattr(torch.nn, theirs)(shape[1], momentum=momentum)
    tol = TOL[np.dtype(dtype)]
    for step in range(4):  # each step a new batch: the running statistics move
        x = (rng.standard_normal(shape) * 2 + step).astype(dtype)
        assert_twins(layer, twin, x, seed=step)
        for name in ("running_mean", "running_var"):
            ours_stat = getattr(layer, name)
            assert ours_stat.dtype == dtype
            np.testing.assert_allclose(ours_stat, getattr(twin, name).numpy(), **tol,
                                       err_msg=f"{name} after step {step + 1}")
        assert int(layer.num_batches_tracked) == int(twin.num_batches_tracked) == step + 1
        twin.zero_grad()
        layer.zero_grad()
    layer.eval()
    twin.eval()
    x = rng.standard_normal(shape).astype(dtype)
    assert_twins(layer, twin, x, seed=9)
    before = layer.running_mean.copy()
    layer(x)  # eval mode: the running statistics stay put
    np.testing.assert_array_equal(layer.running_mean, before)


def test_batchnorm_running_statistics_are_saved_and_loaded(tmp_path):
    rng = np.random.default_rng(2)
    model = nn.Sequential(nn.Linear(3, 2, seed=0), nn.BatchNorm1d(2, momentum=0.5))
    bn = model.layers[-1]
    for _ in range(3):
        model(rng.standard_normal((5, 3)))
    state = model.state_dict()
    assert {"layers.1.running_mean", "layers.1.running_var",
            "layers.1.num_batches_tracked"} <= set(state)
    loaded = nn.load(model.save(tmp_path / "bn.npz"))
    lbn = loaded.layers[-1]
    np.testing.assert_array_equal(lbn.running_mean, bn.running_mean)
    np.testing.assert_array_equal(lbn.running_var, bn.running_var)
    assert int(lbn.num_batches_tracked) == 3 and lbn.momentum == 0.5
    x = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(loaded.eval()(x).data, model.eval()(x).data)


def test_batchnorm_state_dict_round_trip_and_mismatch():
    a, b = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    a(np.arange(12.0).reshape(4, 3) ** 2)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(b.running_var, a.running_var)
    state = a.state_dict()
    state["running_mean"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"running_mean: expected shape \(3,\), got \(4,\)"):
        b.load_state_dict(state)
    np.testing.assert_array_equal(b.running_mean, a.running_mean)  # a failed load changes nothing


def test_batchnorm_buffers_are_not_parameters():
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["w", "b"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    np.testing.assert_array_equal(bn.w.data, np.ones(4))
    np.testing.assert_array_equal(bn.b.data, np.zeros(4))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("normalized_shape", "shape"), [(5, (3, 5)), (4, (2, 3, 4)),
                                                         ((3, 4), (2, 3, 4)), (6, (6,))])
def test_layernorm_matches_torch(normalized_shape, shape, dtype):
    torch = torch_module()
    layer = nn.LayerNorm(normalized_shape, dtype=dtype)
    _affine(layer, np.random.default_rng(3))
    x = (np.random.default_rng(4).standard_normal(shape) * 3 + 1).astype(dtype)
    assert_twins(layer, torch.nn.LayerNorm(normalized_shape), x)


def test_layernorm_without_bias_matches_torch():
    torch = torch_module()
    layer = nn.LayerNorm(4, bias=False)
    assert layer.b is None and [n for n, _ in layer.named_parameters()] == ["w"]
    assert_twins(layer, torch.nn.LayerNorm(4, bias=False),
                 np.random.default_rng(5).standard_normal((3, 4)))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 5), c=st.integers(1, 4), h=st.integers(1, 4), w=st.integers(1, 4))
def test_batchnorm2d_normalises_each_channel(n, c, h, w):
    x = np.random.default_rng(n * 100 + c * 10 + h + w).standard_normal((n, c, h, w)) * 5 + 2
    y = nn.BatchNorm2d(c)(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-9)
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-9)


@pytest.mark.parametrize(("layer", "x", "message"), [
    (nn.BatchNorm2d(3), np.zeros((2, 3, 4)),
     r"BatchNorm2d\(3\) expects input \(N, 3, H, W\), got 3-D input of shape \(2, 3, 4\)"),
    (nn.BatchNorm2d(3), np.zeros((2, 4, 5, 5)),
     r"BatchNorm2d\(3\) expects input \(N, 3, H, W\), got 4 channels \(shape \(2, 4, 5, 5\)\)"),
    (nn.BatchNorm1d(3), np.zeros((4, 2)),
     r"BatchNorm1d\(3\) expects input \(N, 3\) or \(N, 3, L\), got 2 channels"),
    (nn.BatchNorm1d(3), np.zeros((1, 3)),
     r"BatchNorm1d in train\(\) mode needs more than one value per channel .* shape \(1, 3\)"),
    (nn.LayerNorm((3, 4)), np.zeros((2, 4, 3)),
     r"LayerNorm\(\(3, 4\)\) expects input whose last 2 axes are \(3, 4\), got shape \(2, 4, 3\)"),
    (nn.LayerNorm(5), np.zeros(()),
     r"LayerNorm\(\(5,\)\) expects input whose last 1 axes are \(5,\), got shape \(\)"),
])
def test_bad_input_is_refused_by_name(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer(x)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: nn.BatchNorm1d(0), "BatchNorm1d num_features must be a positive integer, got 0"),
    (lambda: nn.BatchNorm2d(3, eps=0), "BatchNorm2d eps must be a positive number, got 0"),
    (lambda: nn.BatchNorm2d(3, momentum=1.5), r"momentum must be a number in \[0, 1\] or None"),
    (lambda: nn.LayerNorm(()), "LayerNorm normalized_shape must name at least one axis"),
    (lambda: nn.LayerNorm("4"), "LayerNorm normalized_shape must be a positive integer, got '4'"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_eval_mode_gives_one_sample_the_batch_answer():
    bn = nn.BatchNorm1d(3)
    rng = np.random.default_rng(6)
    for _ in range(3):
        bn(rng.standard_normal((8, 3)))
    bn.eval()
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(bn(x[1:2]).data, bn(x).data[1:2], rtol=1e-12)
