"""autograd.ops.erf: erf against Python's math.erf, and the float32 GELU built on Φ and φ against
its exact value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Value
from autograd.ops.erf import erf


def test_erf_is_within_two_ulp_of_math_erf_on_a_dense_grid() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-7.0, 7.0, 40001), rng.normal(0.0, 2.0, 20000),
                        np.geomspace(1e-300, 1e-3, 2000), -np.geomspace(1e-12, 1.0, 500)])
    ref = np.array([math.erf(v) for v in x])
    ulp = np.abs(erf(x) - ref) / np.spacing(np.abs(ref))
    assert ulp.max() <= 2.0, (ulp.max(), x[ulp.argmax()])


def test_erf_special_values() -> None:
    out = erf(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 6.0, -30.0]))
    np.testing.assert_array_equal(out[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(out[1]) and np.isnan(out[4])
    np.testing.assert_array_equal(out[5:], [1.0, -1.0])


def test_erf_of_a_zero_dimensional_array() -> None:
    assert float(erf(np.array(0.5))) == math.erf(0.5)


def test_erf_of_float32_rounds_as_the_full_series() -> None:
    # float32 inputs use a shorter series; rounded to float32 it is math.erf's value rounded
    # (99.8% of a dense grid) or one float32 ulp from it
    x = np.linspace(-7.0, 7.0, 140_001).astype(np.float32)
    got = erf(x).astype(np.float32)
    want = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
    assert ulps.max() <= 1
    assert np.mean(got == want) > 0.995


def _within_float32_rounding(ours: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Where ours (float32) is within 2 float32 ulp of the exact float64 value, or within
    1e-7 of it where that value is near zero (the ulp there is far below the rounding of
    the float32 arithmetic the value came from)."""
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    err = np.abs(ours.astype(np.float64) - exact)
    return (err <= 2 * ulp) | (err <= 1e-7)


def test_float32_gelu_and_its_gradient_are_exact_to_float32_rounding() -> None:
    x = np.linspace(-10, 10, 400_001).astype(np.float32)
    v = Value(x)
    y = v.gelu()
    y.backward(np.ones_like(x))
    assert y.data.dtype == v.grad.dtype == np.float32
    xs = x.astype(np.float64)
    cdf = 0.5 * np.vectorize(math.erfc)(-xs / math.sqrt(2.0))
    pdf = np.exp(-0.5 * xs * xs) / math.sqrt(2.0 * math.pi)
    ok_value = _within_float32_rounding(y.data, xs * cdf)
    ok_slope = _within_float32_rounding(v.grad, cdf + xs * pdf)
    assert ok_value.all(), x[~ok_value][:5]
    assert ok_slope.all(), x[~ok_slope][:5]


def test_float32_gelu_tanh_form_matches_its_float64_value() -> None:
    x = np.linspace(-10, 10, 100_001).astype(np.float32)
    v = Value(x)
    y = v.gelu(approximate="tanh")
    y.backward(np.ones_like(x))
    xs = x.astype(np.float64)
    z = math.sqrt(2.0 / math.pi) * (xs + 0.044715 * xs ** 3)
    t = np.tanh(z)
    slope = 0.5 * (1 + t) + 0.5 * xs / np.cosh(z) ** 2 * math.sqrt(2.0 / math.pi) * (
        1 + 3 * 0.044715 * xs * xs)
    assert y.data.dtype == v.grad.dtype == np.float32
    # float32 arithmetic throughout (as torch's): z = √(2/π)(x + 0.044715 x³) carries a float32
    # rounding that e^(-2|z|) amplifies by 2|z| (up to ~90 on [-10, 10]) in the left tail
    np.testing.assert_allclose(y.data, xs / (1 + np.exp(-2 * z)), rtol=2e-5, atol=1e-30)
    np.testing.assert_allclose(v.grad, slope, rtol=2e-5, atol=1e-7)


def test_gelu_refuses_an_unknown_approximation() -> None:
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        Value(np.ones(3)).gelu(approximate="erf")
