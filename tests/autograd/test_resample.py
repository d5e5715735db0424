"""Convolution and pooling options, transposed convolution, adaptive pooling and
interpolation against torch.nn.functional (float64 values and gradients, float32 kept),
second derivatives against central differences, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as A
from autograd import Value, grad, gradcheck

torch = pytest.importorskip("torch", reason="checked against torch.nn.functional")
F = torch.nn.functional

RNG = np.random.default_rng(0)
X2, X1 = RNG.normal(size=(2, 4, 7, 6)), RNG.normal(size=(2, 4, 9))
W2G, B6 = RNG.normal(size=(6, 2, 3, 2)), RNG.normal(size=6)
W1D = RNG.normal(size=(4, 1, 4))
WT2, BT = RNG.normal(size=(4, 3, 3, 3)), RNG.normal(size=3)
WT1 = RNG.normal(size=(4, 2, 3))
DISTINCT = RNG.permutation(2 * 4 * 7 * 6).reshape(2, 4, 7, 6) * 0.1

CASES = {  # name: (ours, torch's, inputs)
    "conv2d_groups_dilation": (
        lambda x, w, b: A.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(2, 1), groups=2),
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(2, 1), groups=2),
        (X2, W2G, B6)),
    "conv2d_same_dilated_grouped": (lambda x, w: A.conv2d(x, w, padding="same", dilation=2, groups=2),
                                    lambda x, w: F.conv2d(x, w, padding="same", dilation=2, groups=2),
                                    (X2, W2G)),
    "conv1d_depthwise_same": (lambda x, w: A.conv1d(x, w, padding="same", groups=4),
                              lambda x, w: F.conv1d(x, w, padding="same", groups=4), (X1, W1D)),
    "conv1d_valid_dilated": (lambda x, w: A.conv1d(x, w, padding="valid", dilation=2, groups=4),
                             lambda x, w: F.conv1d(x, w, padding="valid", dilation=2, groups=4),
                             (X1, W1D)),
    "conv_transpose2d": (lambda x, w, b: A.conv_transpose2d(x, w, b, 2, 1, 1),
                         lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1), (X2, WT2, BT)),
    "conv_transpose1d": (lambda x, w: A.conv_transpose1d(x, w, stride=3, padding=1),
                         lambda x, w: F.conv_transpose1d(x, w, stride=3, padding=1), (X1, WT1)),
    "max_pool2d_padding_ceil": (lambda x: A.max_pool2d(x, 3, 2, padding=1, ceil_mode=True),
                                lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True),
                                (DISTINCT,)),
    "max_pool1d_ceil": (lambda x: A.max_pool1d(x, 2, ceil_mode=True),
                        lambda x: F.max_pool1d(x, 2, ceil_mode=True), (DISTINCT[:, :, 0, :].copy(),)),
    "avg_pool2d_padding": (lambda x: A.avg_pool2d(x, 3, 2, padding=1),
                           lambda x: F.avg_pool2d(x, 3, 2, padding=1), (X2,)),
    "adaptive_avg_pool2d": (lambda x: A.adaptive_avg_pool2d(x, (3, 4)),
                            lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (X2,)),
    "adaptive_avg_pool1d": (lambda x: A.adaptive_avg_pool1d(x, 4),
                            lambda x: F.adaptive_avg_pool1d(x, 4), (X1,)),
    "nearest_size": (lambda x: A.interpolate(x, size=(10, 4)),
                     lambda x: F.interpolate(x, size=(10, 4)), (X2,)),
    "nearest_scale": (lambda x: A.interpolate(x, scale_factor=2.5),
                      lambda x: F.interpolate(x, scale_factor=2.5), (X1,)),
    "bilinear": (lambda x: A.interpolate(x, size=(11, 5), mode="bilinear"),
                 lambda x: F.interpolate(x, size=(11, 5), mode="bilinear"), (X2,)),
    "bilinear_align_corners": (
        lambda x: A.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
        lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True), (X2,)),
    "linear_scale": (lambda x: A.interpolate(x, scale_factor=1.7, mode="linear"),
                     lambda x: F.interpolate(x, scale_factor=1.7, mode="linear"), (X1,)),
}


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name: str, dtype: str, rtol: float) -> None:
    ours, theirs, inputs = CASES[name]
    inputs = [a.astype(dtype) for a in inputs]
    vs = [Value(a) for a in inputs]
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    out, tout = ours(*vs), theirs(*ts)
    assert out.shape == tuple(tout.shape) and out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=rtol)
    w = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for v, t in zip(vs, ts):
        assert v.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=rtol, atol=rtol * 10)


@pytest.mark.parametrize("name", ["conv2d_groups_dilation", "conv_transpose1d", "bilinear",
                                  "max_pool2d_padding_ceil"])
def test_second_derivatives_match_central_differences(name: str) -> None:
    ours, _, inputs = CASES[name]
    small = [a[:1, ...] if a.ndim > 2 and a is not inputs[1 if len(inputs) > 1 else 0] else a
             for a in inputs]
    vs = [Value(a) for a in small]
    u = [np.random.default_rng(2).normal(size=v.shape) for v in vs]

    def hvp(*xs):
        out = ours(*xs)
        gs = grad((out * out).sum() * 0.5, xs, create_graph=True)
        return sum(((g * ui).sum() for g, ui in zip(gs, u)), Value(0.0))
    assert gradcheck(hvp, *vs)


@pytest.mark.parametrize("call, message", [
    (lambda: A.conv2d(X2, RNG.normal(size=(6, 3, 3, 3)), groups=3),
     r"groups=3 must divide the input channels \(4\)"),
    (lambda: A.conv2d(X2, W2G, groups=4, dilation=2), r"groups=4 must divide .* output channels \(6\)"),
    (lambda: A.conv2d(X2, RNG.normal(size=(4, 1, 3, 3)), groups=2), r"expects 2 input channels with groups=2"),
    (lambda: A.conv2d(X2, W2G, groups=2, padding="full"), "padding must be an int"),
    (lambda: A.conv2d(X2, W2G, groups=2, padding="same", stride=2), "needs stride 1"),
    (lambda: A.conv_transpose2d(X2, WT2, stride=2, output_padding=2), "output_padding"),
    (lambda: A.max_pool2d(X2, 2, padding=2), r"padding \(2, 2\) must be at most half"),
    (lambda: A.interpolate(X2, size=4, scale_factor=2), "exactly one of size and scale_factor"),
    (lambda: A.interpolate(X1, size=4, mode="bilinear"), "mode 'bilinear' needs input with 2"),
    (lambda: A.adaptive_avg_pool2d(X1[0, 0], 2), "adaptive_avg_pool2d expects input"),
])
def test_bad_options_name_the_op(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
