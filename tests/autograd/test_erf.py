"""autograd._erf.erf, the error function numpy lacks, against Python's math.erf."""

from __future__ import annotations

import math

import numpy as np

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
