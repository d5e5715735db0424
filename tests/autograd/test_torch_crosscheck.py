"""Every op against PyTorch in float64: values, gradients for a random upstream gradient, and
second derivatives (Hessian-vector products). Skipped, visibly, when torch is absent; CI
installs it (the `crosscheck` extra)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    if not tdot.requires_grad:  # a step function's gradient (floor, sign): constant zero
        thv = (None,) * len(ts)
    else:
        try:
            thv = torch.autograd.grad(tdot, ts, allow_unused=True)
        except RuntimeError as e:  # torch has no second derivative for a few ops
            if "not implemented" not in str(e):
                raise
            pytest.skip(f"torch has no second derivative here: {e}")

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


# ---- random programs: many ops composed, every intermediate used in the loss -------------

def _is_ours(x: object) -> bool:
    return isinstance(x, Value)


def _ndim(x: object) -> int:
    return x.ndim if _is_ours(x) else x.dim()


UNARY_STEPS = {
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "exp_tanh": lambda x: x.tanh().exp(),
    "log": lambda x: (x * x + 1.0).log(),
    "sqrt": lambda x: (x * x + 0.5).sqrt(),
    "abs": lambda x: abs(x),
    "relu": lambda x: x.relu(),
    "neg": lambda x: -x,
    "pow": lambda x: x ** 2,
    "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(),
    "sum_last": lambda x: x.sum(axis=-1) if _ndim(x) else x,
    "mean_first_keep": lambda x: x.mean(axis=0, keepdims=True) if _ndim(x) else x,
    "max_last": lambda x: (x.max(axis=-1) if _is_ours(x) else x.amax(-1)) if _ndim(x) else x,
    "softmax": lambda x: x.softmax(-1) if _ndim(x) else x,
    "log_softmax": lambda x: x.log_softmax(-1) if _ndim(x) else x,
    "T": lambda x: x.T if _ndim(x) == 2 else x,
    "flatten": lambda x: x.reshape(-1) if _ndim(x) else x,
    "pick": lambda x: x[..., [0, 0, -1]] if _ndim(x) else x,
}
BINARY_STEPS = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y * y + 1.0),
    "rconst": lambda x, y: 1.5 * x - y / 2.0,
}


@st.composite
def programs(draw: st.DrawFn) -> tuple[list, int]:
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY_STEPS))), draw(st.integers(0, 99))))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY_STEPS))),
                          draw(st.integers(0, 99)), draw(st.integers(0, 99))))
    return steps, draw(st.integers(0, 2**32 - 1))


def _run(steps: list, pool: list) -> list:
    """Apply the steps, each result joining the pool; a binary step whose operands do not
    broadcast is skipped (the same way for both engines)."""
    for step in steps:
        if len(step) == 2:
            name, i = step
            pool.append(UNARY_STEPS[name](pool[i % len(pool)]))
            continue
        name, i, j = step
        x, y = pool[i % len(pool)], pool[j % len(pool)]
        try:
            np.broadcast_shapes(tuple(x.shape), tuple(y.shape))
        except ValueError:
            continue
        pool.append(BINARY_STEPS[name](x, y))
    return pool




@settings(max_examples=30, deadline=None)
@given(programs())
def test_random_programs_match_torch(program: tuple) -> None:
    steps, seed = program
    rng = np.random.default_rng(seed)
    data = [rng.uniform(-1.5, 1.5, (2, 3)), rng.uniform(-1.5, 1.5, 3), float(rng.uniform(-1, 1)),
            rng.uniform(-1.5, 1.5, (2, 1))]
    leaves = [Value(d) for d in data]
    tleaves = _tensors(data)
    ours, theirs = _run(steps, list(leaves)), _run(steps, list(tleaves))
    assert len(ours) == len(theirs)

    loss, tloss = Value(0.0), torch.tensor(0.0, dtype=torch.float64)
    for v, t in zip(ours, theirs):
        assert v.shape == tuple(t.shape)
        np.testing.assert_allclose(v.data, t.detach().numpy(), rtol=1e-12, atol=1e-13)
        w = rng.uniform(-1, 1, v.shape)
        loss = loss + (v * (float(w) if v.is_scalar else w)).sum()
        tloss = tloss + (t * torch.tensor(w)).sum()
    loss.backward()
    tloss.backward()
    for v, t in zip(leaves, tleaves):
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
