"""The rows of op_cases.py in the modes test_ops.py does not cover: float32 against torch's
float32 (the dtype kept end to end), forward mode (each row's JVP against central
differences and against the row's own VJPs), and the piecewise ops exactly on their kinks,
where the derivative is a convention (torch's)."""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import CASES, Case

import autograd as A
from autograd import Value, grad
from autograd.ops import OPS

torch = pytest.importorskip("torch", reason="the float32 and kink checks compare with torch")

FLOAT32_ASIDE = {  # rows whose float32 check does not apply
    "to_scalar": "its result is a Python float by design",
    "avg_pool2d_backward": "the torch reference is a float64 VJP",
    "pool_scatter": "the torch reference is a float64 VJP",
}
TENSOR_CASES = [c for c in CASES if all(s != () for s in c.shapes) and c.op not in FLOAT32_ASIDE]
JVP_CASES = [c for c in CASES if OPS[c.op].jvp is not None]


def _rng(case: Case, salt: int = 0) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, case.name)) + salt)


@pytest.mark.parametrize("case", TENSOR_CASES, ids=[c.name for c in TENSOR_CASES])
def test_float32_stays_float32_and_matches_torch(case: Case) -> None:
    rng = _rng(case, 11)
    data = [d.astype(np.float32) for d in case.inputs(rng)]
    values = [Value(d) for d in data]
    out = case.f(*values)
    assert out.dtype == np.float32, f"{case.name}: float32 in, {out.dtype} out"
    w = rng.uniform(-1.5, 1.5, out.shape).astype(np.float32)
    (out * w).sum().backward()

    ts = [torch.tensor(d, requires_grad=True) for d in data]
    tout = case.torch_ref()(*ts)
    assert tout.dtype == torch.float32
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=2e-5, atol=2e-6)
    for v, t in zip(values, ts):
        assert v.grad.dtype == np.float32, f"{case.name}: a float32 input got a {v.grad.dtype} grad"
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=2e-4, atol=2e-5)


def _jvp(out: Value, values: list[Value], tangents: list[object], on_values: bool) -> object:
    """The output's tangent from the row's JVPs: Σᵢ jvp_i(tᵢ, ans, *inputs, **params)."""
    row = OPS[out.op]
    inputs = out.inputs if on_values else [x.data if isinstance(x, Value) else x
                                           for x in out.inputs]
    ans = out if on_values else out.data
    total = np.zeros(out.shape)
    for i, x in enumerate(out.inputs):
        if not any(x is v for v in values):
            continue
        t = tangents[next(k for k, v in enumerate(values) if v is x)]
        ti = row.jvp[i](Value(t) if on_values else t, ans, *inputs, **out.params)
        total = total + (ti.data if isinstance(ti, Value) else ti)
    return np.broadcast_to(total, out.shape)


@pytest.mark.parametrize("case", JVP_CASES, ids=[c.name for c in JVP_CASES])
def test_jvp_matches_central_differences_and_the_vjp(case: Case) -> None:
    rng = _rng(case, 23)
    data = case.inputs(rng)
    values = [Value(d) for d in data]
    out = case.f(*values)
    assert out.op == case.op and set(map(id, out.parents)) == set(map(id, values))
    tangents = [rng.uniform(-1, 1, np.shape(d)) if np.shape(d) else float(rng.uniform(-1, 1))
                for d in data]
    jvp = _jvp(out, values, tangents, on_values=False)

    h = 1e-6
    plus = case.f(*[Value(d + h * t) for d, t in zip(data, tangents)]).data
    minus = case.f(*[Value(d - h * t) for d, t in zip(data, tangents)]).data
    np.testing.assert_allclose(jvp, (np.asarray(plus) - minus) / (2 * h), rtol=1e-6, atol=1e-7)

    # <J t, w> = <t, Jᵀ w>: forward and reverse mode are one Jacobian
    w = rng.uniform(-1, 1, out.shape)
    vjps = grad((out * (float(w) if out.is_scalar else w)).sum(), values)
    reverse = sum(float(np.sum(g * t)) for g, t in zip(vjps, tangents))
    np.testing.assert_allclose(float(np.sum(jvp * w)), reverse, rtol=1e-10, atol=1e-12)

    # the JVP runs on Values too (forward mode over reverse mode, higher orders)
    np.testing.assert_allclose(_jvp(out, values, tangents, on_values=True), jvp, rtol=1e-12)


KINKS = np.array([-6.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 3.0, 6.0, 20.0, 21.0])
PIECEWISE = {  # ours, torch's
    "relu": (lambda x: x.relu(), lambda t: t.relu()),
    "abs": (lambda x: abs(x), lambda t: t.abs()),
    "floor": (lambda x: x.floor(), lambda t: t.floor()),
    "ceil": (lambda x: x.ceil(), lambda t: t.ceil()),
    "round": (lambda x: x.round(), lambda t: t.round()),
    "trunc": (lambda x: x.trunc(), lambda t: t.trunc()),
    "sign": (lambda x: x.sign(), lambda t: t.sign()),
    "elu": (lambda x: A.elu(x, 0.7), lambda t: torch.nn.functional.elu(t, 0.7)),
    "selu": (A.selu, torch.nn.functional.selu),
    "celu": (lambda x: A.celu(x, 2.0), lambda t: torch.nn.functional.celu(t, 2.0)),
    "softplus": (A.softplus, torch.nn.functional.softplus),
    "softplus_beta": (lambda x: A.softplus(x, 2.0, 6.0),
                      lambda t: torch.nn.functional.softplus(t, 2.0, 6.0)),
    "hardtanh": (A.hardtanh, torch.nn.functional.hardtanh),
    "relu6": (A.relu6, torch.nn.functional.relu6),
    "hardsigmoid": (A.hardsigmoid, torch.nn.functional.hardsigmoid),
    "hardswish": (A.hardswish, torch.nn.functional.hardswish),
    "softsign": (A.softsign, torch.nn.functional.softsign),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
    "clip": (lambda x: x.clip(-1.0, 3.0), lambda t: t.clamp(-1.0, 3.0)),
}


@pytest.mark.parametrize("name", sorted(PIECEWISE))
def test_piecewise_gradients_on_the_kinks_are_torchs(name: str) -> None:
    ours, theirs = PIECEWISE[name]
    x = Value(KINKS.copy())
    out = ours(x)
    out.sum().backward()
    t = torch.tensor(KINKS, requires_grad=True)
    tout = theirs(t)
    tout.sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-300)
