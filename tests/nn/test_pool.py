"""MaxPool1d, MaxPool2d and AvgPool2d against torch.nn's: outputs and input gradients, in
float64 and float32, over shapes; bad input refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_twins import assert_twins, torch_module

import autograd
import nn

pytestmark = pytest.mark.skipif(not hasattr(autograd, "max_pool2d"),
                                reason="autograd's pools land with the ops helper")
DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("ours", "theirs", "args", "shape"), [
    (nn.MaxPool1d, "MaxPool1d", (2,), (3, 2, 7)),
    (nn.MaxPool1d, "MaxPool1d", (3, 1), (2, 2, 6)),
    (nn.MaxPool2d, "MaxPool2d", (2,), (3, 2, 8, 8)),
    (nn.MaxPool2d, "MaxPool2d", ((2, 3), (1, 2)), (2, 2, 5, 7)),
    (nn.AvgPool2d, "AvgPool2d", (2,), (3, 2, 5, 4)),
    (nn.AvgPool2d, "AvgPool2d", ((3, 2), 1), (2, 3, 4, 5)),
])
def test_pool_matches_torch(ours, theirs, args, shape, dtype):
    torch = torch_module()
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    assert_twins(ours(*args, dtype=dtype), getattr(torch.nn, theirs)(*args), x)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["MaxPool2d", "AvgPool2d"]), kh=st.integers(1, 3),
       kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       eh=st.integers(0, 4), ew=st.integers(0, 4), c=st.integers(1, 3))
def test_pool2d_matches_torch_over_shapes(kind, kh, kw, sh, sw, eh, ew, c):
    torch = torch_module()
    x = np.random.default_rng(eh * 5 + ew).standard_normal((2, c, kh + eh, kw + ew))
    assert_twins(getattr(nn, kind)((kh, kw), (sh, sw)), getattr(torch.nn, kind)((kh, kw), (sh, sw)),
                 x)


def test_stride_defaults_to_the_kernel_size():
    assert nn.MaxPool2d(3).stride == (3, 3)
    assert nn.MaxPool1d(4).stride == 4
    assert nn.AvgPool2d((2, 3)).stride == (2, 3)
    assert nn.MaxPool2d(2)(np.zeros((1, 1, 8, 6))).shape == (1, 1, 4, 3)


@pytest.mark.parametrize(("layer", "shape", "message"), [
    (nn.MaxPool2d(2), (4, 8, 8),
     (r"MaxPool2d\(kernel_size=\(2, 2\), stride=\(2, 2\)\) expects a batch \(N, C, H, W\), got "
     r"3-D input of shape \(4, 8, 8\)")),
    (nn.AvgPool2d(3), (1, 1, 2, 5),
     (r"AvgPool2d\(kernel_size=\(3, 3\), stride=\(3, 3\)\): kernel \(3, 3\) is larger than the "
     r"padded input \(2, 5\)")),
    (nn.MaxPool1d(2), (4, 8),
     r"MaxPool1d\(kernel_size=2, stride=2\) expects a batch \(N, C, L\), got 2-D input"),
])
def test_bad_input_is_refused_by_name(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(np.zeros(shape))


@pytest.mark.parametrize(("make", "message"), [
    (lambda: nn.MaxPool2d(0), r"MaxPool2d kernel_size must be a positive int"),
    (lambda: nn.MaxPool2d(2, stride=0), r"MaxPool2d stride must be a positive int .* got 0"),
    (lambda: nn.AvgPool2d(2, stride=2.0), r"AvgPool2d stride must be a positive int .* got 2.0"),
    (lambda: nn.MaxPool1d((2, 2)), r"MaxPool1d kernel_size must be a positive int, got \(2, 2\)"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()
