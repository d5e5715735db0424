"""autograd.func against torch.func: the same functions written once for both engines
(Values and tensors share the operators and these methods), each transform's result
compared in float64 at rtol 1e-10 and in float32."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.func as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, func, no_grad
from autograd.ops.attention import attention
from autograd.ops.conv import conv2d


def _is_ours(x) -> bool:
    return isinstance(x, Value)


# ---- functions written once for both engines -----------------------------------------------
def chain(x):
    return ((x * x).tanh() * x.exp() + x.sigmoid() / (1.5 + x * x)).sum()


def broadcast(a, b):
    return ((a + b) * (a - b.exp())).mean()


def reductions(x):
    if _is_ours(x):
        return x.max(axis=1).sum() + x.mean(axis=0).sum() * x.sum()
    return x.amax(dim=1).sum() + x.mean(dim=0).sum() * x.sum()


def softmaxes(x):
    if _is_ours(x):
        return x.softmax(axis=-1) * 2.0 + x.log_softmax(axis=-1)
    return torch.softmax(x, -1) * 2.0 + torch.log_softmax(x, -1)


def mlp(w1, b1, w2, x):
    h = (x @ w1.T + b1).tanh()
    out = h @ w2.T
    return (out * out).mean()


def conv_layer(w, x):
    if _is_ours(x):
        return (conv2d(x, w, stride=1, padding=1).tanh() ** 2).sum()
    return (torch.nn.functional.conv2d(x, w, stride=1, padding=1).tanh() ** 2).sum()


def attention_layer(q, k, v):
    if _is_ours(q):
        return attention(q, k, v, causal=True)
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)


def _ours(*arrays, dtype=np.float64):
    return [Value(np.asarray(a, dtype=dtype)) for a in arrays]


def _theirs(*arrays, dtype=torch.float64):
    return [torch.tensor(np.asarray(a), dtype=dtype) for a in arrays]


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    if isinstance(theirs, tuple | list):
        assert isinstance(ours, tuple | list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b, rtol, atol)
        return
    assert isinstance(ours, Value), type(ours)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=atol)


rng = np.random.default_rng(0)
X3 = rng.normal(size=(3, 4))
A, B = rng.normal(size=(3, 4)), rng.normal(size=(4,))
W1, B1, W2, XB = rng.normal(size=(5, 4)), rng.normal(size=5), rng.normal(size=(2, 5)), \
    rng.normal(size=(6, 4))
CW, CX = rng.normal(size=(2, 1, 3, 3)) * 0.5, rng.normal(size=(1, 1, 4, 4))
Q, K, V = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))

CASES = {  # name: (function, arrays, argnums)
    "chain": (chain, [X3], 0),
    "broadcast": (broadcast, [A, B], (0, 1)),
    "reductions": (reductions, [X3], 0),
    "mlp": (mlp, [W1, B1, W2, XB], (0, 1, 2)),
    "conv": (conv_layer, [CW, CX], (0, 1)),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("transform", ["grad", "grad_and_value", "jacrev", "jacfwd"])
def test_scalar_functions_match_torch_func(name: str, transform: str) -> None:
    f, arrays, argnums = CASES[name]
    ours = getattr(func, transform)(f, argnums=argnums)(*_ours(*arrays))
    theirs = getattr(tf, transform)(f, argnums=argnums)(*_theirs(*arrays))
    _close(ours, theirs)


@pytest.mark.parametrize("name", ["chain", "broadcast", "reductions"])
def test_hessians_match_torch_func(name: str) -> None:
    f, arrays, _ = CASES[name]
    _close(func.hessian(f)(*_ours(*arrays)), tf.hessian(f)(*_theirs(*arrays)))


@pytest.mark.parametrize("f, arrays", [(softmaxes, [X3]), (attention_layer, [Q, K, V])])
def test_vector_functions_jacobians_vjp_jvp(f, arrays) -> None:
    n = len(arrays)
    nums = tuple(range(n))
    _close(func.jacrev(f, argnums=nums)(*_ours(*arrays)),
           tf.jacrev(f, argnums=nums)(*_theirs(*arrays)))
    _close(func.jacfwd(f, argnums=nums)(*_ours(*arrays)),
           tf.jacfwd(f, argnums=nums)(*_theirs(*arrays)))
    tangents = [np.cos(np.arange(a.size)).reshape(a.shape) for a in arrays]
    o, t = func.jvp(f, tuple(_ours(*arrays)), tuple(_ours(*tangents)))
    to, tt = tf.jvp(f, tuple(_theirs(*arrays)), tuple(_theirs(*tangents)))
    _close(o, to)
    _close(t, tt)
    out, pull = func.vjp(f, *_ours(*arrays))
    _tout, tpull = tf.vjp(f, *_theirs(*arrays))
    u = np.sin(np.arange(out.size)).reshape(out.shape)
    _close(pull(Value(u)), tpull(torch.tensor(u)))


def test_float32_matches_torch_func() -> None:
    f, arrays, argnums = CASES["mlp"]
    ours = func.grad(f, argnums=argnums)(*_ours(*arrays, dtype=np.float32))
    theirs = tf.grad(f, argnums=argnums)(*_theirs(*arrays, dtype=torch.float32))
    for a in ours:
        assert a.dtype == np.float32
    _close(ours, theirs, rtol=1e-5, atol=1e-6)
    ours = func.jacfwd(softmaxes)(*_ours(X3, dtype=np.float32))
    assert ours.dtype == np.float32
    _close(ours, tf.jacfwd(softmaxes)(*_theirs(X3, dtype=torch.float32)), rtol=1e-5, atol=1e-6)


def test_has_aux_and_output_structure() -> None:
    def f(x, y):
        loss = (x * y).sum()
        return loss, {"loss": loss, "x2": x * 2}

    x, y = _ours(A, A * 2)
    (gx, gy), aux = func.grad(f, argnums=(0, 1), has_aux=True)(x, y)
    (tgx, tgy), taux = tf.grad(f, argnums=(0, 1), has_aux=True)(*_theirs(A, A * 2))
    _close([gx, gy], [tgx, tgy])
    _close(aux["x2"], taux["x2"])
    g, (value, aux) = func.grad_and_value(f, has_aux=True)(x, y)
    _close(g, tgx)
    _close(value, taux["loss"])
    _out, pull, aux = func.vjp(f, x, y, has_aux=True)
    gx2, gy2 = pull(1.0)
    _close([gx2, gy2], [tgx, tgy])
    # pytree arguments: a dict of parameters
    params = {"w": Value(A), "b": Value(B)}
    g = func.grad(lambda p, z: ((z @ p["w"].T).tanh() + p["b"].sum()).sum())(params, Value(A))
    assert set(g) == {"w", "b"} and g["w"].shape == A.shape and g["b"].shape == B.shape


def test_argnums_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="argnums"):
        func.grad(chain, argnums=3)(Value(X3))
    with pytest.raises(ValueError, match="single number"):
        func.grad(softmaxes)(Value(X3))


def test_nested_to_third_order_match_torch() -> None:
    def g(x):
        return (x.tanh() * x.exp()).sum()

    x0 = np.array([0.3, -0.8])
    ours = func.jacfwd(func.jacrev(func.grad(g)))(Value(x0))
    theirs = tf.jacfwd(tf.jacrev(tf.grad(g)))(torch.tensor(x0))
    _close(ours, theirs)
    s = func.grad(func.grad(func.grad(lambda x: x.tanh() * x * x)))(Value(0.7))
    ts = tf.grad(tf.grad(tf.grad(lambda x: x.tanh() * x * x)))(torch.tensor(0.7, dtype=torch.float64))
    assert s.data == pytest.approx(ts.item(), rel=1e-12)
    # forward over reverse over forward, with an argument captured from outside
    ours = func.jvp(lambda x: func.grad(lambda y: func.jvp(g, (y,), (x,))[1])(x), (Value(x0),),
                    (Value(np.ones(2)),))[1]
    theirs = tf.jvp(lambda x: tf.grad(lambda y: tf.jvp(g, (y,), (x,))[1])(x),
                    (torch.tensor(x0),), (torch.ones(2, dtype=torch.float64),))[1]
    _close(ours, theirs)


def test_no_perturbation_confusion() -> None:
    # d/dx [ x · d/dy (x + y) ] at y = x: the inner derivative is 1, so the answer is 1
    # (a nested transform that mixed up x and y would give 2)
    ours = func.grad(lambda x: x * func.grad(lambda y: x + y)(x))(Value(1.0))
    assert ours.data == 1.0


def test_inside_no_grad_and_grads_untouched() -> None:
    x = Value(X3)
    with no_grad():
        g = func.grad(chain)(x)
        h = func.hessian(chain)(x)
    _close(g, tf.grad(chain)(torch.tensor(X3)))
    _close(h, tf.hessian(chain)(torch.tensor(X3)))
    assert x._grad is None and not np.any(x.grad)


def test_functional_call_matches_torch() -> None:
    import nn
    model = nn.MLP(4, [5, 2], activation="tanh")
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    tmodel = tmodel.double()
    names = [n for n, _ in model.named_parameters()]
    tnames = [n for n, _ in tmodel.named_parameters()]
    new = {n: Value(rng.normal(size=p.shape)) for n, p in model.named_parameters()}
    tnew = {tn: torch.tensor(new[n].data) for n, tn in zip(names, tnames)}
    before = {n: p for n, p in model.named_parameters()}

    def loss(params, x):
        return (func.functional_call(model, params, (x,)) ** 2).mean()

    def tloss(params, x):
        return (tf.functional_call(tmodel, params, (x,)) ** 2).mean()

    g = func.grad(loss)(new, Value(XB))
    tg = tf.grad(tloss)(tnew, torch.tensor(XB))
    for n, tn in zip(names, tnames):
        _close(g[n], tg[tn])
    assert dict(model.named_parameters()) == before  # the module's own are back


# ---- random graphs: jvp against central differences and against vjp ---------------------------
UNARY = [lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x * x, lambda x: x.exp() * 0.3,
         lambda x: (x * x + 1.0).log(), lambda x: (x * x + 0.5).sqrt(), lambda x: x.softmax(),
         lambda x: x - x.mean(), lambda x: x * x.sum()]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b * 0.5,
          lambda a, b: a / (b * b + 1.0)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(UNARY) - 1), st.integers(0, len(BINARY) - 1),
                          st.integers(0, 100)), min_size=1, max_size=6),
       st.integers(0, 2 ** 31 - 1))
def test_random_graphs_jvp_against_differences_and_vjp(program, seed) -> None:
    r = np.random.default_rng(seed)

    def f(x):
        nodes = [x]
        for u, b, pick in program:
            other = nodes[pick % len(nodes)]
            nodes.append(BINARY[b](UNARY[u](nodes[-1]), other))
        return nodes[-1]

    x0, t0 = r.uniform(-1, 1, 4), r.uniform(-1, 1, 4)
    out, tangent = func.jvp(f, (Value(x0),), (Value(t0),))
    eps = 1e-6
    numeric = (f(Value(x0 + eps * t0)).data - f(Value(x0 - eps * t0)).data) / (2 * eps)
    np.testing.assert_allclose(tangent.data, numeric, rtol=1e-5, atol=1e-6)
    u = r.uniform(-1, 1, out.shape)
    _, pull = func.vjp(f, Value(x0))
    pulled, = pull(Value(u))
    assert math.isclose(float(np.sum(u * tangent.data)), float(np.sum(pulled.data * t0)),
                        rel_tol=1e-9, abs_tol=1e-12)
