"""Conv1d and Conv2d against torch.nn's, weights copied in: outputs and every gradient, in
float64 and float32, over many shapes; torch's init; bad input refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_twins import assert_twins, torch_module

import autograd
import nn

pytestmark = pytest.mark.skipif(not hasattr(autograd, "conv2d"),
                                reason="autograd.conv1d/conv2d land with the ops helper")
DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("args", "shape"), [
    ((1, 25, 5, 2, 1), (4, 1, 40)),  # the benchmark's first layer
    ((3, 2, 3), (2, 3, 7)),
    ((2, 4, 1, 3, 2), (3, 2, 6)),
])
def test_conv1d_matches_torch(args, shape, bias, dtype):
    torch = torch_module()
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    layer = nn.Conv1d(*args, bias=bias, seed=1, dtype=dtype)
    assert layer.w.shape == (args[1], args[0], args[2])
    assert_twins(layer, torch.nn.Conv1d(*args, bias=bias), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("args", "kwargs", "shape"), [
    ((1, 8, 3), {"padding": 1}, (5, 1, 8, 8)),  # the digits CNN's first layer
    ((3, 2, (2, 3)), {"stride": (2, 1), "padding": (1, 0)}, (2, 3, 5, 6)),
    ((2, 3, 4), {"stride": 3}, (2, 2, 7, 4)),
])
def test_conv2d_matches_torch(args, kwargs, shape, bias, dtype):
    torch = torch_module()
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    layer = nn.Conv2d(*args, **kwargs, bias=bias, seed=1, dtype=dtype)
    assert_twins(layer, torch.nn.Conv2d(*args, **kwargs, bias=bias), x)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_conv2d_matches_torch_over_shapes(data):
    torch = torch_module()
    draw = data.draw
    cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 7))
    w = draw(st.integers(max(1, kw - 2 * pw), 7))
    n = draw(st.integers(1, 3))
    x = np.random.default_rng(n * 7 + h).standard_normal((n, cin, h, w))
    args = (cin, cout, (kh, kw))
    kwargs = {"stride": (sh, sw), "padding": (ph, pw)}
    assert_twins(nn.Conv2d(*args, **kwargs, seed=2), torch.nn.Conv2d(*args, **kwargs), x)


@settings(max_examples=20, deadline=None)
@given(cin=st.integers(1, 3), cout=st.integers(1, 3), k=st.integers(1, 4), s=st.integers(1, 3),
       p=st.integers(0, 2), extra=st.integers(0, 5), n=st.integers(1, 3))
def test_conv1d_matches_torch_over_shapes(cin, cout, k, s, p, extra, n):
    torch = torch_module()
    length = max(1, k - 2 * p) + extra
    x = np.random.default_rng(length).standard_normal((n, cin, length))
    assert_twins(nn.Conv1d(cin, cout, k, s, p, seed=3), torch.nn.Conv1d(cin, cout, k, s, p), x)


def test_init_is_torchs_uniform_bound_of_the_fan_in():
    layer = nn.Conv2d(8, 16, 3, seed=0)
    bound = 1 / np.sqrt(8 * 9)
    assert layer.w.shape == (16, 8, 3, 3) and layer.b.shape == (16,)
    for p in (layer.w, layer.b):
        assert -bound <= p.data.min() and p.data.max() <= bound
    assert abs(layer.w.data.std() - bound / np.sqrt(3)) < 0.05 * bound
    np.testing.assert_array_equal(nn.Conv1d(2, 3, 3, seed=4).w.data,
                                  nn.Conv1d(2, 3, 3, seed=4).w.data)


def test_digits_cnn_matches_torch_end_to_end():
    torch = torch_module()
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1, seed=1),
                         nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(24, 10, seed=2))
    t = torch.nn
    theirs = t.Sequential(t.Conv2d(1, 4, 3, padding=1), t.BatchNorm2d(4), t.ReLU(),
                          t.MaxPool2d(2), t.Conv2d(4, 6, 3, padding=1), t.BatchNorm2d(6),
                          t.ReLU(), t.MaxPool2d(2), t.Flatten(), t.Linear(24, 10)).double()
    theirs.load_state_dict({k.replace("layers.", "").replace(".w", ".weight")
                            .replace(".b", ".bias"): torch.from_numpy(np.asarray(v))
                            for k, v in ours.state_dict().items()})
    x = np.random.default_rng(5).uniform(0, 1, (6, 1, 8, 8))
    labels = np.arange(6) % 10
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours.zero_grad()
        theirs.zero_grad()
        loss = nn.cross_entropy(ours(x), labels)
        loss_t = t.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(labels))
        loss.backward()
        loss_t.backward()
        assert loss.item() == pytest.approx(loss_t.item(), rel=1e-9)
        tp = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            key = name.replace("layers.", "").replace(".w", ".weight").replace(".b", ".bias")
            np.testing.assert_allclose(p.grad, tp[key].grad.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{mode}: {name}")


@pytest.mark.parametrize(("layer", "shape", "message"), [
    (nn.Conv2d(1, 8, 3), (64, 1, 8),
     (r"Conv2d\(1, 8, kernel_size=\(3, 3\), stride=\(1, 1\), padding=\(0, 0\)\) expects a "
     r"batch \(N, 1, H, W\), got 3-D input of shape \(64, 1, 8\); for a single sample add a "
     r"batch axis, x\[None\]")),
    (nn.Conv2d(3, 8, 3), (2, 1, 8, 8),
     (r"Conv2d\(3, 8, .*\) expects 3 input channel\(s\), got input of shape \(2, 1, 8, 8\) "
     r"with 1")),
    (nn.Conv2d(1, 2, 5, padding=1), (2, 1, 2, 8),
     (r"Conv2d\(1, 2, .*\): kernel \(5, 5\) is larger than the padded input \(4, 10\) "
     r"\(input shape \(2, 1, 2, 8\), padding \(1, 1\)\)")),
    (nn.Conv1d(2, 3, 4), (5, 2),
     (r"Conv1d\(2, 3, kernel_size=4, stride=1, padding=0\) expects a batch \(N, 2, L\), got "
     r"2-D input of shape \(5, 2\); for a single sample")),
    (nn.Conv1d(2, 3, 4), (1, 5, 2, 2),
     r"Conv1d\(2, 3, .*\) expects a batch \(N, 2, L\), got 4-D input of shape \(1, 5, 2, 2\)$"),
    (nn.Conv1d(2, 3, 4), (1, 2, 3),
     r"kernel \(4,\) is larger than the padded input \(3,\)"),
])
def test_bad_input_is_refused_by_name(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(np.zeros(shape))


@pytest.mark.parametrize(("make", "message"), [
    (lambda: nn.Conv2d(1, 2, 3, stride=0),
     r"Conv2d stride must be a positive int or a tuple of 2 positive ints, got 0"),
    (lambda: nn.Conv2d(1, 2, 3, stride=1.5), r"Conv2d stride must be a positive int .*got 1.5"),
    (lambda: nn.Conv2d(1, 2, 3, stride=(1, 0)), r"Conv2d stride .* got \(1, 0\)"),
    (lambda: nn.Conv1d(1, 2, 3, stride=(1, 1)),
     r"Conv1d stride must be a positive int, got \(1, 1\)"),
    (lambda: nn.Conv2d(1, 2, 0), r"Conv2d kernel_size must be a positive int"),
    (lambda: nn.Conv2d(1, 2, (3, 3, 3)), r"Conv2d kernel_size .* got \(3, 3, 3\)"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1),
     r"Conv2d padding must be a non-negative int or a tuple of 2 non-negative ints, got -1"),
    (lambda: nn.Conv1d(0, 2, 3), r"Conv1d in_channels must be a positive integer, got 0"),
    (lambda: nn.Conv2d(1, True, 3), r"Conv2d out_channels must be a positive integer"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_one_output_element_is_a_neuron_on_a_patch():
    """out[n, o, i, j] = b[o] + Σ w[o] × (the patch of x under the kernel)."""
    layer = nn.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=1, seed=6)
    x = np.random.default_rng(7).standard_normal((2, 2, 5, 4))
    out = layer(x).data
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    n, o, i, j = 1, 2, 1, 3
    patch = xp[n, :, i * 2:i * 2 + 2, j:j + 3]
    assert out[n, o, i, j] == pytest.approx(np.sum(layer.w.data[o] * patch) + layer.b.data[o],
                                            rel=1e-12)
    assert out.shape == (2, 3, (5 + 2 - 2) // 2 + 1, 4 + 2 - 3 + 1)
