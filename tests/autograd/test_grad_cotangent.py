"""grad(..., gradient=v, create_graph=True) with a Value v keeps v in the new graph, so a
JVP can be computed by two VJPs (the cotangent's derivative), as in PyTorch."""

from __future__ import annotations

import numpy as np
import torch

from autograd import Value, grad


def test_jvp_by_two_vjps_matches_torch() -> None:
    rng = np.random.default_rng(0)
    x0, u0, t0 = rng.normal(size=(3, 4))
    x, u = Value(x0), Value(u0)
    y = (x * x).tanh() * x.sin() if hasattr(Value, "sin") else (x * x).tanh() * x.exp()
    g, = grad(y, [x], gradient=u, create_graph=True)  # uᵀJ, a function of u
    jv, = grad((g * Value(t0)).sum(), [u])  # d(uᵀJ t)/du = J t
    xt = torch.tensor(x0, requires_grad=True)
    ut = torch.tensor(u0, requires_grad=True)
    yt = (xt * xt).tanh() * (xt.sin() if hasattr(Value, "sin") else xt.exp())
    gt, = torch.autograd.grad(yt, xt, grad_outputs=ut, create_graph=True)
    jvt, = torch.autograd.grad((gt * torch.tensor(t0)).sum(), ut)
    np.testing.assert_allclose(jv, jvt.numpy(), rtol=1e-12)


def test_scalar_cotangent_value() -> None:
    x, u = Value(3.0), Value(0.5)
    g, = grad(x * x, [x], gradient=u, create_graph=True)
    assert g.data == 3.0  # 2 x u
    assert grad(g, [u]) == (6.0,)  # d(2xu)/du = 2x
    assert grad(g, [x]) == (1.0,)  # d(2xu)/dx = 2u


def test_without_create_graph_a_value_gradient_is_its_data() -> None:
    x = Value([1.0, 2.0])
    g, = grad(x * x, [x], gradient=Value([1.0, 1.0]))
    np.testing.assert_array_equal(g, [2.0, 4.0])
