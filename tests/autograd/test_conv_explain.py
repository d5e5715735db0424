"""explain() writes a convolution's output elements as the document writes a neuron."""

from __future__ import annotations

import numpy as np

from autograd import Value, conv1d, conv2d, explain


def test_each_output_element_is_the_kernel_times_its_patch_plus_the_bias() -> None:
    x = Value(np.array([[[[0.1, 0.7, 0.2], [0.2, 0.8, 0.2], [0.1, 0.6, 0.3]]]]), label="x")
    w = Value(np.array([[[[0.5, -0.2], [0.3, 0.9]]]]), label="w")
    b = Value([-0.1], label="b")
    y = conv2d(x, w, b)
    y.label = "y"
    loss = (y * y).sum()
    loss.label = "L"
    loss.backward()
    text = explain(loss)
    assert ("    y₁,₁,₁,₂ = (0.5 × 0.7) + (-0.2 × 0.2) + (0.3 × 0.8) + (0.9 × 0.2) - 0.1 "
            "= 0.35 - 0.04 + 0.24 + 0.18 - 0.1 = 0.63") in text.splitlines()
    # the kernel's gradient: every patch weighted by dL/dy, as a neuron's weight gradient
    expected = 2 * (y.data * x.data[0, 0, 1:, 1:]).sum()
    line = next(s for s in text.splitlines() if s.startswith("  dL/dw₁,₁,₂,₂ = "))
    assert line.endswith(f"= {round(float(expected), 3):g}")


def test_padded_zeros_are_left_out_of_the_sum() -> None:
    k = Value(np.array([[[1.0, 2.0]]]), label="k")
    x = Value(np.array([[[3.0, 4.0, 5.0]]]), label="x")
    text = explain(conv1d(x, k, padding=1, stride=2))
    lines = text.splitlines()
    assert "    out₁,₁,₁ = (2 × 3) = 6" in lines  # the left padded zero × 1 is not written
    assert "    out₁,₁,₂ = (1 × 4) + (2 × 5) = 4 + 10 = 14" in lines
