"""Every op against PyTorch in float64: values, gradients for a random upstream gradient, and
second derivatives (Hessian-vector products). Skipped, visibly, when torch is absent; CI
installs it (the `crosscheck` extra)."""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import CASES, Case

from autograd import Value, grad

torch = pytest.importorskip("torch", reason="the PyTorch cross-check needs torch==2.13.0")

IDS = [c.name for c in CASES]


def _setup(case: Case) -> tuple[list[float | np.ndarray], object, list[object]]:
    rng = np.random.default_rng(sum(map(ord, case.name)) + 7)
    data = case.inputs(rng)
    out = case.f(*[Value(d) for d in data])
    w = float(rng.uniform(0.5, 1.5)) if out.is_scalar else rng.uniform(-1.5, 1.5, out.shape)
    us = [float(rng.uniform(-1, 1)) if np.shape(d) == () else rng.uniform(-1, 1, np.shape(d))
          for d in data]
    return data, w, us


def _tensors(data: list) -> list:
    return [torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_and_gradient_match_torch(case: Case) -> None:
    data, w, _ = _setup(case)
    values = [Value(d) for d in data]
    out = case.f(*values)
    out.backward(w)

    ts = _tensors(data)
    tout = case.torch_ref()(*ts)
    tout.backward(torch.tensor(w, dtype=torch.float64))

    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    for v, t in zip(values, ts):
        assert np.shape(v.grad) == tuple(t.shape)
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_second_derivatives_match_torch(case: Case) -> None:
    """∇(<∇L, u>) = H·u for L = Σ (w·f + f²/2), from both engines."""
    data, w, us = _setup(case)

    values = [Value(d) for d in data]
    out = case.f(*values)
    gs = grad((out * w + 0.5 * out * out).sum(), values, create_graph=True)
    dot = sum(((g * u).sum() for g, u in zip(gs, us)), Value(0.0))
    hv = grad(dot, values)

    ts = _tensors(data)
    tout = case.torch_ref()(*ts)
    tw = torch.tensor(w, dtype=torch.float64)
    tgs = torch.autograd.grad((tout * tw + 0.5 * tout * tout).sum(), ts, create_graph=True)
    tdot = sum((g * torch.tensor(u, dtype=torch.float64)).sum() for g, u in zip(tgs, us))
    thv = torch.autograd.grad(tdot, ts, allow_unused=True)

    for g, tg in zip(gs, tgs):
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12, atol=1e-14)
    for h, th in zip(hv, thv):
        expected = np.zeros(np.shape(h)) if th is None else th.numpy()
        np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_max_ties_share_the_gradient_like_torch_amax(axis: object) -> None:
    data = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]])
    x = Value(data)
    x.max(axis=axis).sum().backward()
    t = torch.tensor(data, requires_grad=True)
    (t.amax() if axis is None else t.amax(dim=axis)).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-15)


def test_mlp_loss_gradient_and_hessian_vector_product_match_torch() -> None:
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    p0 = [rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=4)]
    v = [rng.normal(size=p.shape) for p in p0]

    def loss(W1, b1, W2, Xc, yc):
        h = (Xc @ W1 + b1).tanh()
        return ((h @ W2 - yc) ** 2).mean()

    params = [Value(p) for p in p0]
    gs = grad(loss(*params, X, y), params, create_graph=True)
    hv = grad(sum(((g * vi).sum() for g, vi in zip(gs, v)), Value(0.0)), params)

    tp = _tensors(p0)
    tgs = torch.autograd.grad(loss(*tp, torch.tensor(X), torch.tensor(y)), tp, create_graph=True)
    thv = torch.autograd.grad(sum((g * torch.tensor(vi)).sum() for g, vi in zip(tgs, v)), tp)
    for g, tg, h, th in zip(gs, tgs, hv, thv):
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(h, th.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("base, exponent", [([0.0, 2.0], 2.0), ([0.0, 2.0], 0.5), ([0.0, 1.5], 0.0),
                                            ([0.0, 0.5], -1.0), (0.0, 0.0), (0.0, 3.0)])
def test_pow_with_a_zero_base_matches_torch(base: object, exponent: float) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        x, e = Value(np.array(base) if isinstance(base, list) else base), Value(exponent)
        (x ** e).sum().backward()
    tx = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    te = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
    (tx ** te).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(e.grad, te.grad.numpy(), rtol=1e-14)
