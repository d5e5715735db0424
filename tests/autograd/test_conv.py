"""Convolution and pooling: random shapes against torch.nn.functional (values and every
gradient, float64), float32 kept, and each bad input refused with a message that names the
function, the shapes and what was expected."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, avg_pool2d, conv1d, conv2d, grad, max_pool1d, max_pool2d

torch = pytest.importorskip("torch", reason="the PyTorch cross-check needs torch==2.13.0")
F = torch.nn.functional


@st.composite
def conv_problems(draw: st.DrawFn) -> dict:
    d = draw(st.sampled_from([1, 2]))
    k = tuple(draw(st.integers(1, 4)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(d))
    size = tuple(draw(st.integers(max(1, kk - 2 * p), kk - 2 * p + 6))
                 for kk, p in zip(k, padding))
    return {"d": d, "k": k, "stride": stride, "padding": padding, "size": size,
            "n": draw(st.integers(1, 3)), "cin": draw(st.integers(1, 3)),
            "cout": draw(st.integers(1, 4)), "bias": draw(st.booleans()),
            "as_int": draw(st.booleans()), "seed": draw(st.integers(0, 2**32 - 1))}


def _arg(t: tuple[int, ...], as_int: bool) -> int | tuple[int, ...]:
    return t[0] if as_int and len(set(t)) == 1 else t


@settings(max_examples=60, deadline=None)
@given(conv_problems())
def test_random_convolutions_match_torch(p: dict) -> None:
    rng = np.random.default_rng(p["seed"])
    x = rng.normal(size=(p["n"], p["cin"], *p["size"]))
    w = rng.normal(size=(p["cout"], p["cin"], *p["k"]))
    b = rng.normal(size=p["cout"]) if p["bias"] else None
    stride, padding = _arg(p["stride"], p["as_int"]), _arg(p["padding"], p["as_int"])
    ours, theirs = (conv1d, F.conv1d) if p["d"] == 1 else (conv2d, F.conv2d)

    datas = [x, w] + ([b] if b is not None else [])
    vs = [Value(a) for a in datas]
    out = ours(vs[0], vs[1], vs[2] if b is not None else None, stride=stride, padding=padding)
    ts = [torch.tensor(a, requires_grad=True) for a in datas]
    tout = theirs(ts[0], ts[1], ts[2] if b is not None else None, stride=stride,
                  padding=padding)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed = rng.normal(size=out.shape)
    out.backward(seed)
    tout.backward(torch.tensor(seed))
    for v, t in zip(vs, ts):
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


@st.composite
def pool_problems(draw: st.DrawFn) -> dict:
    d = draw(st.sampled_from([1, 2]))
    kind = draw(st.sampled_from(["max", "avg"] if d == 2 else ["max"]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = None if draw(st.booleans()) else tuple(draw(st.integers(1, 3)) for _ in range(d))
    size = tuple(draw(st.integers(kk, kk + 5)) for kk in k)
    return {"d": d, "kind": kind, "k": k, "stride": stride, "size": size,
            "c": draw(st.integers(1, 3)), "seed": draw(st.integers(0, 2**32 - 1))}


@settings(max_examples=60, deadline=None)
@given(pool_problems())
def test_random_pools_match_torch(p: dict) -> None:
    rng = np.random.default_rng(p["seed"])
    x = rng.normal(size=(2, p["c"], *p["size"]))
    ours, theirs = {(1, "max"): (max_pool1d, F.max_pool1d), (2, "max"): (max_pool2d, F.max_pool2d),
                    (2, "avg"): (avg_pool2d, F.avg_pool2d)}[(p["d"], p["kind"])]
    v = Value(x)
    out = ours(v, p["k"], p["stride"])
    t = torch.tensor(x, requires_grad=True)
    tout = theirs(t, p["k"], p["stride"])
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed = rng.normal(size=out.shape)
    out.backward(seed)
    tout.backward(torch.tensor(seed))
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_gives_a_tie_to_the_first_entry_like_torch() -> None:
    x = np.maximum(np.random.default_rng(0).normal(size=(2, 2, 4, 4)), 0.0)
    x[0, 0, :2, :2] = 0.0  # a window of equal entries
    v, t = Value(x), torch.tensor(x, requires_grad=True)
    max_pool2d(v, 2).sum().backward()
    F.max_pool2d(t, 2).sum().backward()
    np.testing.assert_array_equal(v.grad, t.grad.numpy())


def test_overlapping_max_pool_routes_ties_and_repeats_like_torch() -> None:
    """Overlapping windows (3×3, stride 1, and 3×2, stride (2, 1)) over many equal entries:
    each window's gradient goes to its first maximum, and an entry that is the maximum of
    several windows collects all of theirs, as torch's."""
    x = np.maximum(np.random.default_rng(3).normal(size=(2, 3, 7, 6)), 0.0).round(1)
    for k, s in ((3, 1), ((3, 2), (2, 1))):
        v, t = Value(x), torch.tensor(x, requires_grad=True)
        seed = np.random.default_rng(4).normal(size=F.max_pool2d(t, k, s).shape)
        max_pool2d(v, k, s).backward(seed)
        F.max_pool2d(t, k, s).backward(torch.tensor(seed))
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_second_derivatives_of_a_conv_net_match_torch() -> None:
    """conv → tanh → max pool → conv → avg pool: the Hessian-vector product in every input."""
    rng = np.random.default_rng(1)
    datas = [rng.normal(size=s) for s in [(2, 2, 8, 7), (3, 2, 3, 3), (3,), (2, 3, 2, 2)]]
    us = [rng.normal(size=d.shape) for d in datas]

    def net(x, w1, b1, w2, fns):
        conv, mp, ap = fns
        h = mp(conv(x, w1, b1, stride=1, padding=1).tanh(), 2)
        return (ap(conv(h, w2, None, stride=1, padding=0), 2) ** 2).sum()

    vs = [Value(d) for d in datas]
    gs = grad(net(*vs, (conv2d, max_pool2d, avg_pool2d)), vs, create_graph=True)
    hv = grad(sum(((g * u).sum() for g, u in zip(gs, us)), Value(0.0)), vs)
    ts = [torch.tensor(d, requires_grad=True) for d in datas]
    tgs = torch.autograd.grad(net(*ts, (F.conv2d, F.max_pool2d, F.avg_pool2d)), ts,
                              create_graph=True)
    thv = torch.autograd.grad(sum((g * torch.tensor(u)).sum() for g, u in zip(tgs, us)), ts)
    for g, tg, h, th in zip(gs, tgs, hv, thv):
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h, th.numpy(), rtol=1e-9, atol=1e-11)


def test_float32_is_kept_through_conv_and_pools() -> None:
    rng = np.random.default_rng(2)
    x = Value(rng.normal(size=(2, 3, 6, 6)).astype(np.float32))
    w = Value(rng.normal(size=(4, 3, 3, 3)).astype(np.float32))
    b = Value(np.zeros(4, dtype=np.float32))
    for out in [conv2d(x, w, b, padding=1), max_pool2d(x, 2), avg_pool2d(x, 3, 1)]:
        assert out.dtype == np.float32
        for g in grad(out.sum(), [x, w, b] if out.op == "conv2d" else [x]):
            assert g.dtype == np.float32
    x1 = Value(rng.normal(size=(2, 1, 9)).astype(np.float32))
    w1 = Value(rng.normal(size=(2, 1, 3)).astype(np.float32))
    assert conv1d(x1, w1, stride=2).dtype == max_pool1d(x1, 3).dtype == np.float32


X4, W4 = np.zeros((2, 3, 8, 8)), np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize("call, message", [
    (lambda: conv2d(np.zeros((3, 8, 8)), W4),
     r"conv2d expects x of shape \(N, C, H, W\) \(4-D.*got shape \(3, 8, 8\)"),
    (lambda: conv2d(X4, np.zeros((4, 3, 3))), (r"conv2d expects w of shape \(C_out, C_in, KH, KW\), "
                                                r"got shape \(4, 3, 3\)")),
    (lambda: conv2d(X4, np.zeros((4, 1, 3, 3))),
     r"conv2d: x has 3 channels \(shape \(2, 3, 8, 8\)\) but w expects 1 input channels"),
    (lambda: conv1d(np.zeros((2, 2, 9)), np.zeros((4, 3, 3))),
     r"conv1d: x has 2 channels \(shape \(2, 2, 9\)\) but w expects 3"),
    (lambda: conv2d(X4, np.zeros((4, 3, 9, 3))),
     (r"conv2d: the kernel \(9, 3\) is larger than the input's spatial size \(8, 8\) "
      r"\(x shape \(2, 3, 8, 8\)\); expected a kernel of at most \(8, 8\)")),
    (lambda: conv2d(X4, np.zeros((4, 3, 11, 3)), padding=1),
     (r"kernel \(11, 3\) is larger than the input's spatial size \(10, 10\) "
      r"\(x shape \(2, 3, 8, 8\) padded by \(1, 1\)\)")),
    (lambda: conv2d(X4, W4, stride=0), (r"conv2d: stride must be a positive integer or a pair "
                                               r"of them, got 0")),
    (lambda: conv2d(X4, W4, stride=1.5), r"conv2d: stride must be a positive integer.*got 1.5"),
    (lambda: conv2d(X4, W4, stride=(1, 2, 3)), r"stride must be .* got \(1, 2, 3\)"),
    (lambda: conv1d(np.zeros((1, 1, 5)), np.zeros((1, 1, 2)), stride=(1, 1)),
     r"conv1d: stride must be a positive integer, got \(1, 1\)"),
    (lambda: conv2d(X4, W4, padding=-1), r"conv2d: padding must be a non-negative integer"),
    (lambda: conv2d(X4, W4, np.zeros(3)), (r"conv2d: b must have shape \(4,\), one per output "
                                                  r"channel, got shape \(3,\)")),
    (lambda: conv2d("x", W4), r"conv2d: x must be a Value or an array, got str"),
    (lambda: max_pool2d(np.zeros((2, 3, 8)), 2), r"max_pool2d expects x of shape \(N, C, H, W\)"),
    (lambda: max_pool1d(np.zeros((2, 3, 2)), 3),
     r"max_pool1d: the window \(3,\) is larger than the input's spatial size \(2,\)"),
    (lambda: avg_pool2d(X4, 0), r"avg_pool2d: kernel_size must be a positive integer"),
    (lambda: avg_pool2d(X4, 2, stride=(2, 0)), r"avg_pool2d: stride must be a positive"),
])
def test_bad_input_is_refused_with_a_message(call, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call()


@pytest.mark.parametrize("size", [(5, 9), (6, 14)])  # narrow rows and wide rows: both layouts
def test_stride_one_conv_on_narrow_and_wide_images_matches_torch(size) -> None:
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 3, *size)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    vs = [Value(a) for a in (x, w, b)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out, tout = conv2d(*vs, padding=1), F.conv2d(*ts, padding=1)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed = rng.normal(size=out.shape)
    out.backward(seed)
    tout.backward(torch.tensor(seed))
    for v, t in zip(vs, ts):
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)
