"""vmap against torch.func.vmap: each op once on the batch (batching rules), composed with
grad/jacrev/jacfwd/vmap, in_dims/out_dims, and the per-sample loop fallback's warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.func as tf

from autograd import Value, func
from autograd.engine import OPS
from autograd.ops.attention import attention
from autograd.ops.conv import conv2d, max_pool2d
from autograd.ops.linalg import linear

rng = np.random.default_rng(0)


def ours_or_torch(x):
    return isinstance(x, Value)


def _close(a, b, rtol=1e-10, atol=1e-12):
    if isinstance(b, tuple | list):
        for x, y in zip(a, b):
            _close(x, y, rtol, atol)
        return
    assert a.shape == tuple(b.shape), (a.shape, tuple(b.shape))
    np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=rtol, atol=atol)


def _both(fn, *arrays, **kw):
    ours = fn(func, *[Value(a) for a in arrays], **kw)
    theirs = fn(tf, *[torch.tensor(a) for a in arrays], **kw)
    _close(ours, theirs)


def elementwise(x, y):
    return (x * y).tanh() + (x - y).exp() / (1.0 + y * y) + abs(x) ** 1.5


def reductions(x):
    if ours_or_torch(x):
        return x.sum(axis=0) + x.max(axis=-1).sum() + x.mean() * x.softmax(axis=0).sum(axis=0)
    return x.sum(0) + x.amax(-1).sum() + x.mean() * torch.softmax(x, 0).sum(0)


def shapes(x):
    return (x.reshape(-1)[1:5] * 2.0).reshape(2, 2).T @ x[:2, :2] + x.T[0, :2]


def mlp_loss(p, x, y):
    if ours_or_torch(x):
        z = linear(linear(x, p[0], p[1]).relu(), p[2], p[3])
        return -(z.log_softmax(axis=-1) * y).sum()
    z = torch.relu(x @ p[0].T + p[1]) @ p[2].T + p[3]
    return -(torch.log_softmax(z, -1) * y).sum()


def test_elementwise_with_broadcast_and_unbatched_arguments() -> None:
    x, y = rng.normal(size=(5, 3, 4)), rng.normal(size=(4,))
    _both(lambda m, a, b: m.vmap(elementwise, in_dims=(0, None))(a, b), x, y)
    _both(lambda m, a, b: m.vmap(elementwise, in_dims=(None, 0))(b, a), x, y)
    _both(lambda m, a, b: m.vmap(elementwise, in_dims=(1, None), out_dims=1)(a, b), x, y)


def test_reductions_shapes_and_matmul() -> None:
    x = rng.normal(size=(6, 3, 4))
    _both(lambda m, a: m.vmap(reductions)(a), x)
    _both(lambda m, a: m.vmap(shapes)(a), rng.normal(size=(6, 4, 4)))
    v, w = rng.normal(size=(6, 4)), rng.normal(size=(6, 4, 3))
    _both(lambda m, a, b: m.vmap(lambda p, q: p @ q)(a, b), v, w)  # 1-D @ 2-D per sample
    _both(lambda m, a, b: m.vmap(lambda p, q: q.T @ p)(a, b), v, w)  # 2-D @ 1-D
    _both(lambda m, a, b: m.vmap(lambda p, q: p @ q, in_dims=(0, None))(a, b), v, w[0])
    _both(lambda m, a, b: m.vmap(lambda p, q: p @ q, in_dims=(None, 0))(a, b), v[0], w)


def test_per_sample_gradients_of_an_mlp_match_torch_and_a_loop() -> None:
    ws = [rng.normal(size=(8, 5)) * 0.5, rng.normal(size=8), rng.normal(size=(3, 8)),
          rng.normal(size=3)]
    x, y = rng.normal(size=(7, 5)), np.eye(3)[rng.integers(0, 3, 7)]
    ours = func.vmap(func.grad(mlp_loss), in_dims=(None, 0, 0))([Value(w) for w in ws],
                                                                 Value(x), Value(y))
    theirs = tf.vmap(tf.grad(mlp_loss), in_dims=(None, 0, 0))([torch.tensor(w) for w in ws],
                                                               torch.tensor(x), torch.tensor(y))
    _close(ours, theirs)
    for i in range(7):  # sample i's gradient, alone
        alone = func.grad(mlp_loss)([Value(w) for w in ws], Value(x[i]), Value(y[i]))
        for o, a in zip(ours, alone):
            np.testing.assert_allclose(o.data[i], a.data, rtol=1e-12, atol=1e-14)


def test_vmap_of_jacobians_and_hessians_and_vmap_of_vmap() -> None:
    def f(x):
        return (x.tanh() * x.relu()).sum()

    x = rng.normal(size=(4, 3))
    _both(lambda m, a: m.vmap(m.hessian(f))(a), x)
    _both(lambda m, a: m.vmap(m.jacrev(elementwise, argnums=1), in_dims=(0, None))(a, a[0]), x)
    _both(lambda m, a: m.vmap(m.jacfwd(reductions))(a), rng.normal(size=(3, 2, 4)))
    _both(lambda m, a: m.vmap(m.vmap(elementwise, in_dims=(0, None)), in_dims=(None, 0))(a, a),
          x)
    _both(lambda m, a: m.grad(lambda b: m.vmap(f)(b).sum())(a), x)  # grad of vmap


def test_conv_and_attention_layers() -> None:
    xs, w = rng.normal(size=(3, 2, 1, 5, 5)), rng.normal(size=(2, 1, 3, 3))

    def conv(x, k):
        if ours_or_torch(x):
            return max_pool2d(conv2d(x, k, padding=1).relu(), 2)
        return torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(
            x, k, padding=1)), 2)

    _both(lambda m, a, b: m.vmap(conv, in_dims=(0, None))(a, b), xs, w)
    with pytest.warns(UserWarning, match="'conv2d_weight'"):  # k's per-sample gradient: a loop
        _both(lambda m, a, b: m.vmap(m.grad(lambda x, k: conv(x, k).sum()), in_dims=(0, None))(
            a, b), xs, w)
    q, k, v = (rng.normal(size=(4, 3, 2)) for _ in range(3))

    def att(q, k, v):
        if ours_or_torch(q):
            return attention(q, k, v, causal=True)
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # attention: the per-sample loop
        _both(lambda m, a, b, c: m.vmap(att)(a, b, c), q, k, v)


def test_an_op_without_a_rule_loops_and_warns_once_per_call_naming_it() -> None:
    q, k, v = (Value(rng.normal(size=(5, 3, 2))) for _ in range(3))
    f = func.vmap(lambda a, b, c: attention(a, b, c) + attention(c, b, a))
    with pytest.warns(UserWarning, match="no batching rule for the op 'attention'") as record:
        out = f(q, k, v)
    assert sum("attention" in str(w.message) for w in record) == 1  # once per vmap call
    for i in range(5):
        alone = attention(q[i], k[i], v[i]) + attention(v[i], k[i], q[i])
        np.testing.assert_allclose(out.data[i], alone.data, rtol=1e-12)
    with pytest.warns(UserWarning, match="attention"):
        f(q, k, v)  # a new call warns again


def test_each_op_runs_once_for_the_whole_batch() -> None:
    calls = []
    op = OPS["tanh"]
    forward = op.forward

    def counting(x):
        calls.append(np.shape(x))
        return forward(x)

    op.forward = counting
    try:
        func.vmap(lambda x: x.tanh().sum())(Value(rng.normal(size=(32, 4))))
    finally:
        op.forward = forward
    assert calls == [(32, 4)]


def test_batch_sizes_must_agree_and_data_dependent_calls_are_refused() -> None:
    with pytest.raises(ValueError, match="batch size"):
        func.vmap(lambda a, b: a + b)(Value(np.ones((2, 3))), Value(np.ones((3, 3))))
    with pytest.raises(RuntimeError, match="depends on the sample"):
        func.vmap(lambda a: a.sum().item())(Value(np.ones((2, 3))))
