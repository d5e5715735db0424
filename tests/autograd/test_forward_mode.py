"""Forward mode over the whole derivative table: every row has a JVP, and every op of
op_cases.py (its JVP column) gives the tangent that central differences give, that the
reverse mode gives by duality (⟨u, J v⟩ = ⟨Jᵀ u, v⟩), and that torch.func.jvp gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from op_cases import CASES, Case

from autograd import Value, func, grad
from autograd.forward import explain_jvp
from autograd.ops import OPS

IDS = [c.name for c in CASES]


def _rng(case: Case) -> np.random.Generator:
    return np.random.default_rng(7 + sum(map(ord, case.name)))


def _like(d: object, rng: np.random.Generator) -> object:
    return float(rng.uniform(-1, 1)) if isinstance(d, float) else rng.uniform(-1, 1, np.shape(d))


def test_every_row_of_the_table_has_a_jvp_per_input() -> None:
    missing = [name for name, op in OPS.items() if op.jvp is None]
    assert not missing, f"rows without a JVP (forward mode): {missing}"
    for case in CASES:  # each tested op's inputs each find their JVP
        out = case.f(*[Value(d) for d in case.inputs(_rng(case))])
        for i, x in enumerate(out.inputs):
            if isinstance(x, Value):
                assert callable(OPS[out.op].jvp[i]), (case.name, i)


def _setup(case: Case) -> tuple[list, list]:
    rng = _rng(case)
    data = case.inputs(rng)
    return data, [_like(d, rng) for d in data]


def _shifted(data: list, tangents: list, eps: float) -> list:
    return [Value(d + eps * t) if isinstance(d, float) else Value(np.asarray(d) + eps * t)
            for d, t in zip(data, tangents)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jvp_matches_central_differences_and_the_vjp(case: Case) -> None:
    data, tangents = _setup(case)
    values = [Value(d) for d in data]
    out, tout = func.jvp(case.f, tuple(values), tuple(tangents))
    assert tout.shape == out.shape
    np.testing.assert_array_equal(out.data, case.f(*values).data)
    eps = 1e-6
    numeric = (np.asarray(case.f(*_shifted(data, tangents, eps)).data)
               - np.asarray(case.f(*_shifted(data, tangents, -eps)).data)) / (2 * eps)
    np.testing.assert_allclose(tout.data, numeric, rtol=1e-5, atol=1e-6)
    # duality with reverse mode: ⟨u, J v⟩ = ⟨Jᵀ u, v⟩
    u = _like(out.data, np.random.default_rng(1))
    fresh = [Value(d) for d in data]
    pulled = grad(case.f(*fresh), fresh, gradient=u)
    lhs = float(np.sum(np.asarray(u) * np.asarray(tout.data)))
    rhs = sum(float(np.sum(np.asarray(g) * np.asarray(t))) for g, t in zip(pulled, tangents))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jvp_matches_torch_func(case: Case) -> None:
    data, tangents = _setup(case)
    _out, tout = func.jvp(case.f, tuple(Value(d) for d in data), tuple(tangents))
    ts = tuple(torch.tensor(d, dtype=torch.float64) for d in data)
    tts = tuple(torch.tensor(t, dtype=torch.float64) for t in tangents)
    _, expected = torch.func.jvp(case.torch_ref(), ts, tts)
    np.testing.assert_allclose(tout.data, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_jvp_of_an_unused_input_is_zero_and_consts_pass() -> None:
    x, y = Value([1.0, 2.0]), Value(3.0)
    _out, t = func.jvp(lambda a, b: a * 2.0, (x, y), (np.ones(2), 1.0))
    np.testing.assert_array_equal(t.data, [2.0, 2.0])
    _out, t = func.jvp(lambda a, b: b * 1.0, (x, y), (np.ones(2), 0.0))
    assert t.data == 0.0


def test_explain_jvp_writes_value_and_tangent() -> None:
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    z = x * y + x.tanh()
    z.label = "z"
    text = explain_jvp(z, {x: 1.0, y: 0.0})
    dot = "\u0307"  # the dot above: ẋ
    assert f"  x = 2    x{dot} = 1\n" in text and f"  y = 3    y{dot} = 0\n" in text
    assert f"  v1 = x × y = 6    v{dot}1 = 3 × 1 + 2 × 0 = 3\n" in text
    d = 1 - np.tanh(2.0) ** 2
    assert f"  v2 = tanh(x) = {np.tanh(2.0):.4g}    v{dot}2 = {d:.4g} × 1 = {d:.4g}\n" in text
    assert text.endswith(f"  z = v1 + v2 = {6 + np.tanh(2.0):.4g}    z{dot} = 1 × 3 + 1 × "
                         f"{d:.4g} = {3 + d:.4g}\n")


def test_explain_with_tangents_is_the_forward_mode_text() -> None:
    from autograd import explain
    x = Value(1.5, label="x")
    y = (x * x).tanh()
    assert explain(y, tangents={x: 1.0}) == explain_jvp(y, {x: 1.0})
    assert explain(y, tangents={x: 1.0}).strip().endswith(
        f"= {(1 - np.tanh(2.25) ** 2) * 3.0:.4g}")
