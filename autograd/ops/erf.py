"""erf(x) = (2/√π) ∫₀ˣ e^(-t²) dt on numpy arrays, to double precision (numpy has none).

erf is entire, so around any centre c it is its Taylor series, and every derivative is
known in closed form: erf⁽ᵏ⁺¹⁾(c) = (2/√π) (-1)ᵏ Hₖ(c) e^(-c²), with Hₖ the (physicists')
Hermite polynomials, H₀ = 1, H₁ = 2c, Hₖ₊₁ = 2c Hₖ - 2k Hₖ₋₁. The table below holds those
coefficients for centres c = 0, 1/8, 2/8, ..., 6 (erf(c) itself from `math.erf`); each |x|
is evaluated by Horner's rule in d = |x| - c with its nearest centre, |d| ≤ 1/16, where
degree 11 leaves a truncation error below 1e-18. The centre 0 makes the series odd, so tiny
x keep full relative precision. Beyond 6, erf is 1 in double precision (erfc(6) ≈ 2e-17).
Measured against `math.erf` on a dense grid: at most 2 ulp (tests/autograd/test_erf.py).
"""

from __future__ import annotations

import math

import numpy as np

_STEP = 0.125   # distance between centres
_DEGREE = 11    # terms after erf(c); |d| ≤ 1/16 makes the 12th below 1e-18
_TOP = 6.0      # erf(x) rounds to ±1 from here on
_DEGREE_32 = 5  # enough for float32 inputs: truncation below 3e-9, a twentieth of an ulp


def _coefficients() -> np.ndarray:
    """Row k, column j: the coefficient of dᵏ in the Taylor series of erf at centre j·step."""
    columns = []
    for j in range(int(_TOP / _STEP) + 1):
        c = j * _STEP
        h = [1.0, 2.0 * c]
        for k in range(1, _DEGREE):
            h.append(2.0 * c * h[k] - 2.0 * k * h[k - 1])
        scale = 2.0 / math.sqrt(math.pi) * math.exp(-c * c)
        columns.append([math.erf(c)] + [scale * (-1) ** k * h[k] / math.factorial(k + 1)
                                        for k in range(_DEGREE)])
    return np.array(columns).T.copy()


_TABLE = _coefficients()


def erf(x: np.ndarray | float) -> np.ndarray:
    """The error function, elementwise, in float64 (NaN stays NaN, ±inf gives ±1). A
    float32 array needs fewer terms: its result, rounded to float32, is the same."""
    shape = np.shape(x)
    degree = _DEGREE_32 if np.result_type(x) == np.float32 else _DEGREE
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    ax = np.abs(x)
    with np.errstate(invalid="ignore", over="ignore"):  # inf and NaN are set below
        # fmin, unlike minimum, drops NaN (the NaN entries are set below): a valid index
        j = np.fmin(np.rint(ax * (1.0 / _STEP)), _TABLE.shape[1] - 1).astype(np.intp)
        d = ax - j * _STEP
        acc = _TABLE[degree].take(j)
        for k in range(degree - 1, -1, -1):
            acc *= d
            acc += _TABLE[k].take(j)
    acc[ax >= _TOP] = 1.0
    acc[np.isnan(x)] = np.nan
    return np.copysign(acc, x).reshape(shape)


# ---- the normal distribution's Φ and φ, for GELU --------------------------------------------
# Φ(x) = ½ (1 + erf(x/√2)) and φ(x) = e^(-x²/2)/√(2π). Mills' ratio M(t) = (1 - Φ(t)) / φ(t)
# is smooth and slowly varying on t ≥ 0 (M(0) = √(π/2), M(t) ≈ 1/t for large t), so
#     1 - Φ(|x|) = φ(x) M(|x|),   Φ(x) = that for x < 0, 1 minus it for x ≥ 0,
# one exponential (shared with GELU's derivative Φ + x φ) and one polynomial, no branch and
# no table. The map u = (t - c)/(t + c) takes [0, ∞) onto [-1, 1); there (t + c) M(t) is a
# polynomial of degree 11 in u to a relative 1e-8 (a sixth of a float32 ulp), its
# coefficients computed below from math.erfc by Chebyshev interpolation.
_MILLS_C = 3.0
_MILLS_DEGREE = 11
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _mills(t: float) -> float:
    """(1 - Φ(t)) / φ(t) in float64: from math.erfc, or its asymptotic series far out."""
    if t > 26.0:  # erfc underflows beyond ~37; here the series is exact to 1e-11
        s = 1.0 / (t * t)
        return (1.0 - s * (1.0 - s * (3.0 - s * (15.0 - 105.0 * s)))) / t
    return math.erfc(t / math.sqrt(2.0)) * math.exp(0.5 * t * t) * math.sqrt(math.pi / 2.0)


def _mills_polynomial() -> np.ndarray:
    """Power-basis coefficients (lowest first) of (t + c) M(t) as a polynomial in u."""
    n = 200
    theta = np.pi * (np.arange(n) + 0.5) / n
    u = np.cos(theta)  # Chebyshev nodes: interpolation there is near-best
    t = _MILLS_C * (1.0 + u) / (1.0 - u)
    f = np.array([_mills(v) for v in t]) * (t + _MILLS_C)
    k = np.arange(_MILLS_DEGREE + 1)
    cheb = 2.0 / n * (np.cos(k[:, None] * theta) * f).sum(axis=1)
    cheb[0] /= 2.0
    return np.polynomial.chebyshev.cheb2poly(cheb)


_MILLS = _mills_polynomial()


_BLOCK = 16384  # elements per block: the float64 temporaries stay in the CPU's cache


def normal_cdf_pdf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Φ(x), φ(x)) in float64 for a float array, each within 1e-8 relative (so exact
    after rounding to float32; Φ near 0 for x ≪ 0 keeps its relative precision).

    Evaluated in blocks of _BLOCK elements: the ~30 passes of the polynomial then run over
    arrays that fit in the cache instead of going out to memory each time (measured: 1.8×
    faster on the tiny GPT's (1024, 256) activations)."""
    a = np.asarray(x)
    flat = a.reshape(-1)
    cdf, pdf = np.empty(flat.size), np.empty(flat.size)
    for i in range(0, flat.size, _BLOCK):
        _cdf_pdf_block(flat[i:i + _BLOCK], cdf[i:i + _BLOCK], pdf[i:i + _BLOCK])
    return cdf.reshape(a.shape), pdf.reshape(a.shape)


def _cdf_pdf_block(x: np.ndarray, cdf: np.ndarray, pdf: np.ndarray) -> None:
    """Φ and φ of the 1-D block x, written into cdf and pdf."""
    a = x.astype(np.float64)
    t = np.abs(a)
    d = t + _MILLS_C
    u = t - _MILLS_C
    u /= d
    acc = np.full_like(u, _MILLS[-1])
    for c in _MILLS[-2::-1]:  # Horner's rule, in place
        acc *= u
        acc += c
    acc /= d                  # M(|x|)
    np.multiply(a, a, out=pdf)
    pdf *= -0.5
    np.exp(pdf, out=pdf)
    pdf *= _INV_SQRT_2PI      # φ(x)
    acc *= pdf                # 1 - Φ(|x|)
    np.subtract(1.0, acc, out=cdf)
    np.copyto(cdf, acc, where=a < 0)
