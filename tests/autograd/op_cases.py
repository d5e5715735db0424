"""The table of operations the autograd tests run: one row per op (and variant).

Each row names the op (``"op-variant"``; the part before ``-`` is the expected ``.op``),
the function on our Values, a NumPy reference, a PyTorch reference, the input shapes and
the domain the inputs are drawn from. ``SAME`` means the function itself also runs on
ndarrays (resp. torch tensors), so NumPy (resp. torch) computes the reference. A shape of
``()`` is a scalar Value (its data a Python float).

Adding an op to the engine means adding a line here; test_ops.py and
test_torch_crosscheck.py pick it up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import conv_reference as cref
import numpy as np

from autograd import (
    avg_pool2d,
    concatenate,
    conv1d,
    conv2d,
    max_pool1d,
    max_pool2d,
    maximum,
    minimum,
    stack,
    where,
)
from autograd.engine import apply
from autograd.ops.attention import attention
from autograd.ops.conv import (
    AVG_POOL_BACKWARD,
    CONV_TRANSPOSE,
    CONV_WEIGHT,
    POOL_GATHER,
    POOL_SCATTER,
    _argmax,
)
from autograd.ops.layer_norm import layer_norm
from autograd.ops.linalg import linear
from autograd.ops.losses import cross_entropy
from autograd.ops.norm import batch_norm
from autograd.ops.recurrent import gru_cell, lstm_cell, rnn_cell
from autograd.ops.shape import to_scalar

SAME = "same"


@dataclass(frozen=True)
class Case:
    name: str
    f: Callable[..., Any]
    ref: Any
    tref: Any
    shapes: tuple[tuple[int, ...], ...]
    domain: Any = "real"

    @property
    def op(self) -> str:
        return self.name.split("-")[0]

    def numpy_ref(self) -> Callable[..., Any]:
        return self.f if self.ref is SAME else self.ref

    def torch_ref(self) -> Callable[..., Any]:
        return self.f if self.tref is SAME else self.tref

    def inputs(self, rng: np.random.Generator) -> list[Any]:
        """Raw input data (floats for scalar inputs, float64 arrays otherwise)."""
        domains = self.domain if isinstance(self.domain, tuple) else (self.domain,) * len(
            self.shapes)
        return [sample(shape, d, rng) for shape, d in zip(self.shapes, domains)]


def sample(shape: tuple[int, ...], domain: str, rng: np.random.Generator) -> Any:
    """Random data of `shape` from `domain`, kept away from kinks and poles."""
    size = int(np.prod(shape))
    if domain == "real":
        x = rng.uniform(-2.0, 2.0, size)
    elif domain == "positive":
        x = rng.uniform(0.5, 2.0, size)
    elif domain == "nonzero":  # |x| >= 0.3: away from relu/abs kinks and division poles
        x = rng.uniform(0.3, 2.0, size) * rng.choice([-1.0, 1.0], size)
    elif domain == "distinct":  # entries at least 0.3 apart: max has a unique winner
        x = (rng.permutation(size) - size / 2) * 0.5 + rng.uniform(-0.1, 0.1, size)
    else:
        raise ValueError(f"unknown domain {domain!r}")
    return float(x[0]) if shape == () else x.reshape(shape)


def _np_batch_norm(x: Any, w: Any, b: Any, eps: float = 1e-5) -> Any:
    """Each channel (axis 1) normalised over every other axis, then γ x̂ + β."""
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return xhat * w.reshape(shape) + b.reshape(shape)


def _np_layer_norm(x: Any, w: Any, b: Any = None, eps: float = 1e-5) -> Any:
    """Each sample normalised over the last w.ndim axes, then w x̂ + b."""
    axes = tuple(range(x.ndim - w.ndim, x.ndim))
    xhat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return xhat * w if b is None else xhat * w + b


def C(name: str, f: Callable[..., Any], ref: Any, tref: Any, shapes: list[tuple[int, ...]],
      domain: Any = "real") -> Case:
    return Case(name, f, ref, tref, tuple(shapes), domain)


def _np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.log(_np_softmax(x, axis))


def _np_sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


def _affine(x: Any, w: Any, b: Any) -> Any:  # ndarrays and torch tensors alike
    return x @ w.T + b


def _torch() -> Any:  # torch is an extra: imported only by the torch references
    import torch
    return torch


_np_erf = np.vectorize(math.erf, otypes=[np.float64])


def _np_gelu(x: Any) -> Any:
    return x * 0.5 * (1.0 + _np_erf(x / math.sqrt(2.0)))


def _np_gelu_tanh(x: Any) -> Any:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _np_logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _F() -> Any:
    return _torch().nn.functional


def _torch_vjp(f: Any, shape: tuple[int, ...], at: Any = None) -> Any:
    """g ↦ the VJP of torch's f at `at` (zeros by default): torch's adjoint of a linear map,
    differentiable in g."""
    def vjp(g: Any) -> Any:
        t = _torch()
        z = t.tensor(np.zeros(shape) if at is None else at, requires_grad=True)
        return t.autograd.grad(f(z), z, g, create_graph=True)[0]
    return vjp


# fixed geometries for the convolution's adjoint ops and the pooling scatter/gather
_S2P1 = {"stride": (2, 2), "padding": (1, 1)}
_S2P1_1D = {"stride": (2,), "padding": (1,)}
_POOL_AT = np.random.default_rng(3).permutation(40).reshape(1, 2, 5, 4).astype(float)
_POOL = {"index": _argmax(_POOL_AT, (3, 2), (1, 2)), "shape": (1, 2, 5, 4), "ksize": (3, 2),
         "stride": (1, 2)}
_AVG = {"shape": (2, 2, 4, 6), "ksize": (2, 2), "stride": (2, 2)}


def _conv_transpose_t(g: Any, w: Any, stride: Any, padding: Any, size: Any) -> Any:
    k, out = w.shape[2:], g.shape[2:]
    extra = [n - ((o - 1) * s - 2 * p + kk) for n, o, s, p, kk in zip(size, out, stride, padding, k)]
    fn = _F().conv_transpose2d if len(k) == 2 else _F().conv_transpose1d
    return fn(g, w, stride=stride, padding=padding, output_padding=tuple(extra))


def _conv_weight_t(x: Any, g: Any, stride: Any, padding: Any, ksize: Any) -> Any:
    t = _torch()
    shape = (g.shape[1], x.shape[1], *ksize)
    fn = t.nn.grad.conv2d_weight if len(ksize) == 2 else t.nn.grad.conv1d_weight
    return fn(x, shape, g, stride=stride, padding=padding)


def _pool_gather_t(h: Any) -> Any:
    """torch.gather at the flat positions _POOL's index names."""
    n, c, oh, ow = _POOL["index"].shape
    r, s = np.divmod(_POOL["index"], _POOL["ksize"][1])
    rows = np.arange(oh)[:, None] * _POOL["stride"][0] + r
    cols = np.arange(ow)[None, :] * _POOL["stride"][1] + s
    pos = _torch().tensor((rows * _POOL["shape"][3] + cols).reshape(n, c, -1))
    return h.flatten(2).gather(2, pos).reshape(n, c, oh, ow)


_IDX = np.array([0, 3, 1])  # class indices for the (3, 4) logits of the cross_entropy rows
_COND = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])


# ---- recurrent cells: the textbook formulas (torch's docs), written out in NumPy ----------
def _np_rnn(x, h, w_ih, w_hh, b_ih, b_hh, act=np.tanh):
    return act(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def _np_gru(x, h, w_ih, w_hh, b_ih, b_hh):
    (xr, xz, xn), (hr, hz, hn) = np.split(x @ w_ih.T + b_ih, 3, 1), np.split(h @ w_hh.T + b_hh, 3, 1)
    r, z = _np_sigmoid(xr + hr), _np_sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def _np_lstm(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, 1)
    c2 = _np_sigmoid(f) * c + _np_sigmoid(i) * np.tanh(g)
    return np.concatenate([_np_sigmoid(o) * np.tanh(c2), c2], axis=1)


def _t_lstm(x, h, c, *w):
    return _torch().cat(_torch().lstm_cell(x, (h, c), *w), 1)


def _cell_shapes(gates, states=1, n=3, nin=4, hid=2):  # x, state(s), w_ih, w_hh, b_ih, b_hh
    return [(n, nin)] + [(n, hid)] * states + [(gates * hid, nin), (gates * hid, hid),
                                               (gates * hid,), (gates * hid,)]


def _np_attention(q, k, v, causal=False):
    s = (q @ k.swapaxes(-1, -2)) / np.sqrt(q.shape[-1])
    if causal:
        s = s + np.triu(np.full(s.shape[-2:], -np.inf), 1)
    return _np_softmax(s) @ v


def _t_attention(q, k, v, causal=False):
    s = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    if causal:
        s = s + _torch().full(s.shape[-2:], float("-inf"), dtype=s.dtype).triu(1)
    return s.softmax(-1) @ v

S, M, B = (), (3, 4), (2, 3, 4)  # scalar, matrix, batch
TWO = [M, M]
NZ2 = ("real", "nonzero")
POS_REAL = ("positive", "real")

CASES = [
    # name                     ours                               numpy       torch   shapes
    C("add",                   lambda a, b: a + b,                SAME,       SAME,   TWO),
    C("add-scalar",            lambda a, b: a + b,                SAME,       SAME,   [S, S]),
    C("add-broadcast",         lambda a, b: a + b,                SAME,       SAME,   [B, (3, 1)]),
    C("add-const",             lambda a: a + 1.5,                 SAME,       SAME,   [M]),
    C("sub",                   lambda a, b: a - b,                SAME,       SAME,   TWO),
    C("sub-scalar",            lambda a, b: a - b,                SAME,       SAME,   [S, S]),
    C("sub-broadcast",         lambda a, b: a - b,                SAME,       SAME,   [(3, 1), (4,)]),
    C("sub-rconst",            lambda a: 1.5 - a,                 SAME,       SAME,   [M]),
    C("mul",                   lambda a, b: a * b,                SAME,       SAME,   TWO),
    C("mul-scalar",            lambda a, b: a * b,                SAME,       SAME,   [S, S]),
    C("mul-broadcast",         lambda a, b: a * b,                SAME,       SAME,   [B, (4,)]),
    C("mul-scalar_tensor",     lambda a, b: a * b,                SAME,       SAME,   [S, M]),
    C("div",                   lambda a, b: a / b,                SAME,       SAME,   TWO, NZ2),
    C("div-scalar",            lambda a, b: a / b,                SAME,       SAME,   [S, S], NZ2),
    C("div-broadcast",         lambda a, b: a / b,                SAME,       SAME,   [M, (3, 1)], NZ2),
    C("div-rconst",            lambda a: 2.0 / a,                 SAME,       SAME,   [M], "nonzero"),
    C("pow-const",             lambda a: a ** 3,                  SAME,       SAME,   [M]),
    C("pow-const_scalar",      lambda a: a ** 3,                  SAME,       SAME,   [S]),
    C("pow-half",              lambda a: a ** 0.5,                SAME,       SAME,   [M], "positive"),
    C("pow-negative",          lambda a: a ** -2,                 SAME,       SAME,   [M], "nonzero"),
    C("pow-rconst",            lambda a: 2.0 ** a,                SAME,       SAME,   [M]),
    C("pow-value",             lambda a, b: a ** b,               SAME,       SAME,   TWO, POS_REAL),
    C("pow-value_scalar",      lambda a, b: a ** b,               SAME,       SAME,   [S, S], POS_REAL),
    C("pow-value_broadcast",   lambda a, b: a ** b,               SAME,       SAME,   [M, S], POS_REAL),
    C("neg",                   lambda a: -a,                      SAME,       SAME,   [M]),
    C("neg-scalar",            lambda a: -a,                      SAME,       SAME,   [S]),
    C("matmul-1d_1d",          lambda a, b: a @ b,                SAME,       SAME,   [(4,), (4,)]),
    C("matmul-2d_2d",          lambda a, b: a @ b,                SAME,       SAME,   [M, (4, 2)]),
    C("matmul-2d_1d",          lambda a, b: a @ b,                SAME,       SAME,   [M, (4,)]),
    C("matmul-1d_2d",          lambda a, b: a @ b,                SAME,       SAME,   [(3,), M]),
    C("matmul-3d_3d",          lambda a, b: a @ b,                SAME,       SAME,   [B, (2, 4, 2)]),
    C("matmul-batch_broadcast", lambda a, b: a @ b,               SAME,       SAME,   [(2, 1, 2, 3), (3, 3, 2)]),
    C("matmul-2d_3d",          lambda a, b: a @ b,                SAME,       SAME,   [(2, 3), B]),
    C("matmul-1d_3d",          lambda a, b: a @ b,                SAME,       SAME,   [(3,), B]),
    C("matmul-3d_1d",          lambda a, b: a @ b,                SAME,       SAME,   [B, (4,)]),
    C("exp",                   lambda a: a.exp(),                 np.exp,     SAME,   [M]),
    C("exp-scalar",            lambda a: a.exp(),                 np.exp,     SAME,   [S]),
    C("log",                   lambda a: a.log(),                 np.log,     SAME,   [M], "positive"),
    C("log-scalar",            lambda a: a.log(),                 np.log,     SAME,   [S], "positive"),
    C("sqrt",                  lambda a: a.sqrt(),                np.sqrt,    SAME,   [M], "positive"),
    C("sqrt-scalar",           lambda a: a.sqrt(),                np.sqrt,    SAME,   [S], "positive"),
    C("tanh",                  lambda a: a.tanh(),                np.tanh,    SAME,   [M]),
    C("tanh-scalar",           lambda a: a.tanh(),                np.tanh,    SAME,   [S]),
    C("sigmoid",               lambda a: a.sigmoid(),             _np_sigmoid, SAME,  [M]),
    C("sigmoid-scalar",        lambda a: a.sigmoid(),             _np_sigmoid, SAME,  [S]),
    C("relu",                  lambda a: a.relu(),                lambda a: np.maximum(a, 0), SAME, [M], "nonzero"),
    C("relu-scalar",           lambda a: a.relu(),                lambda a: np.maximum(a, 0), SAME, [S], "nonzero"),
    C("abs",                   lambda a: a.abs(),                 np.abs,     SAME,   [M], "nonzero"),
    C("abs-scalar",            lambda a: abs(a),                  np.abs,     SAME,   [S], "nonzero"),
    C("sum",                   lambda a: a.sum(),                 SAME,       SAME,   [M]),
    C("sum-scalar",            lambda a: a.sum(),                 np.sum,     SAME,   [S]),
    C("sum-axis0",             lambda a: a.sum(axis=0),           SAME,       SAME,   [M]),
    C("sum-axis_keepdims",     lambda a: a.sum(axis=-1, keepdims=True), SAME, SAME,   [B]),
    C("sum-axes",              lambda a: a.sum(axis=(0, 2)),      SAME,       SAME,   [B]),
    C("mean",                  lambda a: a.mean(),                SAME,       SAME,   [M]),
    C("mean-scalar",           lambda a: a.mean(),                np.mean,    SAME,   [S]),
    C("mean-axis1",            lambda a: a.mean(axis=1),          SAME,       SAME,   [M]),
    C("mean-axis_keepdims",    lambda a: a.mean(axis=0, keepdims=True), SAME, SAME,   [B]),
    C("mean-axes",             lambda a: a.mean(axis=(-1, 0)),    SAME,       SAME,   [B]),
    C("max",                   lambda a: a.max(),                 SAME,       lambda a: a.amax(), [M], "distinct"),
    C("max-axis1",             lambda a: a.max(axis=1),           SAME,       lambda a: a.amax(1), [M], "distinct"),
    C("max-axis_keepdims",     lambda a: a.max(axis=-1, keepdims=True), SAME,
      lambda a: a.amax(-1, keepdim=True), [B], "distinct"),
    C("max-axes",              lambda a: a.max(axis=(0, 2)),      SAME,       lambda a: a.amax((0, 2)), [B], "distinct"),
    C("reshape-ints",          lambda a: a.reshape(4, 3),         SAME,       SAME,   [M]),
    C("reshape-tuple",         lambda a: a.reshape((2, 6)),       SAME,       SAME,   [M]),
    C("reshape-flatten",       lambda a: a.reshape(-1),           SAME,       SAME,   [B]),
    C("reshape-infer",         lambda a: a.reshape(2, -1, 3),     SAME,       SAME,   [M]),
    C("transpose-reverse",     lambda a: a.transpose(),           SAME,       lambda a: a.permute(2, 1, 0), [B]),
    C("transpose-axes",        lambda a: a.transpose(1, 0, 2),    SAME,       lambda a: a.permute(1, 0, 2), [B]),
    C("transpose-tuple",       lambda a: a.transpose((2, 0, 1)),  SAME,       lambda a: a.permute(2, 0, 1), [B]),
    C("transpose-negative",    lambda a: a.transpose(-1, 0, 1),   SAME,       lambda a: a.permute(-1, 0, 1), [B]),
    C("transpose-T",           lambda a: a.T,                     SAME,       SAME,   [M]),
    C("transpose-T_1d",        lambda a: a.T,                     SAME,       lambda a: a, [(4,)]),
    C("broadcast_to",          lambda a: a.broadcast_to((2, 3, 4)), lambda a: np.broadcast_to(a, B),
      SAME, [(3, 1)]),
    C("getitem-int",           lambda a: a[1],                    SAME,       SAME,   [M]),
    C("getitem-negative_int",  lambda a: a[-1, 2],                SAME,       SAME,   [M]),
    C("getitem-slice",         lambda a: a[1:3],                  SAME,       SAME,   [(4, 3)]),
    C("getitem-step",          lambda a: a[:, ::-2],              SAME,       lambda a: a.flip(1)[:, ::2], [(3, 5)]),
    C("getitem-tuple",         lambda a: a[1:, 2],                SAME,       SAME,   [M]),
    C("getitem-ellipsis",      lambda a: a[..., 0],               SAME,       SAME,   [B]),
    C("getitem-newaxis",       lambda a: a[None, 1],              SAME,       SAME,   [M]),
    C("getitem-int_array",     lambda a: a[[2, 0]],               SAME,       SAME,   [M]),
    C("getitem-repeated",      lambda a: a[[0, 2, 0, 0]],         SAME,       SAME,   [M]),
    C("getitem-repeated_pairs", lambda a: a[np.array([0, 0, 1]), np.array([1, 1, 2])], SAME, SAME, [(2, 3)]),
    C("getitem-columns",       lambda a: a[:, [1, 1, 3]],         SAME,       SAME,   [M]),
    C("getitem-bool_mask",     lambda a: a[np.array([True, False, True])], SAME, lambda a: a[[0, 2]], [M]),
    C("softmax",               lambda a: a.softmax(),             _np_softmax, lambda a: a.softmax(-1), [M]),
    C("softmax-axis0",         lambda a: a.softmax(axis=0),       lambda a: _np_softmax(a, 0), lambda a: a.softmax(0), [M]),
    C("softmax-1d",            lambda a: a.softmax(),             _np_softmax, lambda a: a.softmax(-1), [(5,)]),
    C("softmax-axis1_3d",      lambda a: a.softmax(axis=1),       lambda a: _np_softmax(a, 1), lambda a: a.softmax(1), [B]),
    C("log_softmax",           lambda a: a.log_softmax(),         _np_log_softmax, lambda a: a.log_softmax(-1), [M]),
    C("log_softmax-axis0",     lambda a: a.log_softmax(axis=0),   lambda a: _np_log_softmax(a, 0),
      lambda a: a.log_softmax(0), [M]),
    C("log_softmax-1d",        lambda a: a.log_softmax(),         _np_log_softmax, lambda a: a.log_softmax(-1), [(5,)]),
    C("log_softmax-axis1_3d",  lambda a: a.log_softmax(axis=1),   lambda a: _np_log_softmax(a, 1),
      lambda a: a.log_softmax(1), [B]),
    C("linear",                lambda x, w, b: linear(x, w, b),   _affine,    _affine, [(5, 4), M, (3,)]),
    C("linear-1d",             lambda x, w, b: linear(x, w, b),   _affine,    _affine, [(4,), M, (3,)]),
    C("linear-3d",             lambda x, w, b: linear(x, w, b),   _affine,    _affine, [B, (5, 4), (5,)]),
    C("cross_entropy-rows",    lambda z, t: cross_entropy(z, t),
      lambda z, t: -(t * _np_log_softmax(z)).sum() / len(z),
      lambda z, t: -(t * z.log_softmax(-1)).sum() / len(z), [M, M], POS_REAL[::-1]),
    C("cross_entropy-index",   lambda z: cross_entropy(z, index=_IDX),
      lambda z: -_np_log_softmax(z)[np.arange(3), _IDX].mean(),
      lambda z: -z.log_softmax(-1)[np.arange(3), _IDX].mean(), [M]),
    C("to_scalar",             lambda a: to_scalar(a),            lambda a: float(a.reshape(())),
      lambda a: a.reshape(()), [(1,)]),
    C("min",                   lambda a: a.min(),                 SAME,       SAME,   [M], "distinct"),
    C("min-axis0",             lambda a: a.min(axis=0),           SAME,       lambda a: a.amin(0), [M], "distinct"),
    C("min-axes_keepdims",     lambda a: a.min(axis=(0, 2), keepdims=True), SAME,
      lambda a: a.amin((0, 2), keepdim=True), [B], "distinct"),
    C("var",                   lambda a: a.var(),                 SAME,       lambda a: a.var(correction=0), [M]),
    C("var-axis1",             lambda a: a.var(axis=1),           SAME,       lambda a: a.var(1, correction=0), [M]),
    C("var-axes_keepdims",     lambda a: a.var(axis=(0, -1), keepdims=True), SAME,
      lambda a: a.var((0, -1), correction=0, keepdim=True), [B]),
    C("logsumexp",             lambda a: a.logsumexp(),           _np_logsumexp, lambda a: a.logsumexp((0, 1)), [M]),
    C("logsumexp-axis1",       lambda a: a.logsumexp(axis=1),     lambda a: _np_logsumexp(a, 1),
      lambda a: a.logsumexp(1), [M]),
    C("logsumexp-keepdims",    lambda a: a.logsumexp(axis=0, keepdims=True), lambda a: _np_logsumexp(a, 0, True),
      lambda a: a.logsumexp(0, keepdim=True), [B]),
    C("clip",                  lambda a: a.clip(-1.0, 1.0),       SAME,       SAME,   [M]),
    C("clip-lower",            lambda a: a.clip(-0.5, None),      SAME,       SAME,   [M]),
    C("clip-upper_scalar",     lambda a: a.clip(None, 0.5),       lambda a: min(a, 0.5), SAME, [S]),
    C("leaky_relu",            lambda a: a.leaky_relu(),          lambda a: np.where(a > 0, a, 0.01 * a),
      lambda a: _torch().nn.functional.leaky_relu(a), [M], "nonzero"),
    C("leaky_relu-slope_scalar", lambda a: a.leaky_relu(0.2),     lambda a: a if a > 0 else 0.2 * a,
      lambda a: _torch().nn.functional.leaky_relu(a, 0.2), [S], "nonzero"),
    C("erf",                   lambda a: a.erf(),                 _np_erf,    SAME,   [M]),
    C("erf-scalar",            lambda a: a.erf(),                 math.erf,   SAME,   [S]),
    C("gelu",                  lambda a: a.gelu(),                _np_gelu,   lambda a: _torch().nn.functional.gelu(a), [B]),
    C("gelu-scalar",           lambda a: a.gelu(),                _np_gelu,   lambda a: _torch().nn.functional.gelu(a), [S]),
    C("gelu-tanh",             lambda a: a.gelu(approximate="tanh"), _np_gelu_tanh,
      lambda a: _torch().nn.functional.gelu(a, approximate="tanh"), [B]),
    C("gelu-tanh_scalar",      lambda a: a.gelu(approximate="tanh"), _np_gelu_tanh,
      lambda a: _torch().nn.functional.gelu(a, approximate="tanh"), [S]),
    C("maximum",               lambda a, b: maximum(a, b),        np.maximum, lambda a, b: _torch().maximum(a, b), TWO),
    C("maximum-broadcast",     lambda a, b: maximum(a, b),        np.maximum, lambda a, b: _torch().maximum(a, b),
      [M, (4,)]),
    C("maximum-scalar",        lambda a, b: maximum(a, b),        max,        lambda a, b: _torch().maximum(a, b), [S, S]),
    C("maximum-const",         lambda a: maximum(a, 0.5),         lambda a: np.maximum(a, 0.5),
      lambda a: a.clamp(min=0.5), [M]),
    C("minimum",               lambda a, b: minimum(a, b),        np.minimum, lambda a, b: _torch().minimum(a, b), TWO),
    C("minimum-broadcast",     lambda a, b: minimum(a, b),        np.minimum, lambda a, b: _torch().minimum(a, b),
      [(3, 1), M]),
    C("where",                 lambda a, b: where(_COND, a, b),   lambda a, b: np.where(_COND, a, b),
      lambda a, b: _torch().where(_torch().tensor(_COND), a, b), TWO),
    C("where-broadcast",       lambda a, b: where(_COND, a, b),   lambda a, b: np.where(_COND, a, b),
      lambda a, b: _torch().where(_torch().tensor(_COND), a, b), [(4,), (3, 1)]),
    C("where-scalar",          lambda a, b: where(False, a, b),   lambda a, b: b,
      lambda a, b: _torch().where(_torch().tensor(False), a, b), [S, S]),
    C("concatenate",           lambda a, b: concatenate([a, b]),  lambda a, b: np.concatenate([a, b]),
      lambda a, b: _torch().cat([a, b]), [M, (2, 4)]),
    C("concatenate-axis1_three", lambda a, b, c: concatenate([a, b, c], axis=-1),
      lambda a, b, c: np.concatenate([a, b, c], axis=-1), lambda a, b, c: _torch().cat([a, b, c], -1),
      [B, (2, 3, 1), (2, 3, 2)]),
    C("stack",                 lambda a, b: stack([a, b]),        lambda a, b: np.stack([a, b]),
      lambda a, b: _torch().stack([a, b]), TWO),
    C("stack-last_three",      lambda a, b, c: stack([a, b, c], axis=-1),
      lambda a, b, c: np.stack([a, b, c], axis=-1), lambda a, b, c: _torch().stack([a, b, c], -1),
      [M, M, M]),
    C("conv2d",                lambda x, w, b: conv2d(x, w, b),   cref.conv,  lambda x, w, b: _F().conv2d(x, w, b),
      [(2, 2, 5, 4), (3, 2, 3, 2), (3,)]),
    C("conv2d-stride_padding_pairs", lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
      lambda x, w, b: cref.conv(x, w, b, (2, 1), (1, 2)),
      lambda x, w, b: _F().conv2d(x, w, b, stride=(2, 1), padding=(1, 2)), [(2, 2, 6, 5), (3, 2, 3, 3), (3,)]),
    C("conv2d-no_bias_uneven", lambda x, w: conv2d(x, w, stride=2, padding=1),
      lambda x, w: cref.conv(x, w, None, (2, 2), (1, 1)),
      lambda x, w: _F().conv2d(x, w, stride=2, padding=1), [(1, 2, 6, 6), (2, 2, 3, 3)]),
    C("conv1d",                lambda x, w, b: conv1d(x, w, b, stride=2, padding=1),
      lambda x, w, b: cref.conv(x, w, b, (2,), (1,)),
      lambda x, w, b: _F().conv1d(x, w, b, stride=2, padding=1), [(2, 3, 7), (4, 3, 3), (4,)]),
    C("conv1d-no_bias",        lambda x, w: conv1d(x, w),         cref.conv,  lambda x, w: _F().conv1d(x, w),
      [(2, 2, 6), (3, 2, 4)]),
    C("conv_transpose2d",      lambda g, w: apply(CONV_TRANSPOSE[2], g, w, size=(6, 6), **_S2P1),
      lambda g, w: cref.conv_transpose(g, w, size=(6, 6), **_S2P1),
      lambda g, w: _conv_transpose_t(g, w, size=(6, 6), **_S2P1), [(2, 3, 3, 3), (3, 2, 3, 3)]),
    C("conv_transpose1d",      lambda g, w: apply(CONV_TRANSPOSE[1], g, w, size=(7,), **_S2P1_1D),
      lambda g, w: cref.conv_transpose(g, w, size=(7,), **_S2P1_1D),
      lambda g, w: _conv_transpose_t(g, w, size=(7,), **_S2P1_1D), [(2, 4, 4), (4, 3, 3)]),
    C("conv2d_weight",         lambda x, g: apply(CONV_WEIGHT[2], x, g, ksize=(3, 3), **_S2P1),
      lambda x, g: cref.conv_weight(x, g, ksize=(3, 3), **_S2P1),
      lambda x, g: _conv_weight_t(x, g, ksize=(3, 3), **_S2P1), [(2, 2, 6, 6), (2, 3, 3, 3)]),
    C("conv1d_weight",         lambda x, g: apply(CONV_WEIGHT[1], x, g, ksize=(3,), **_S2P1_1D),
      lambda x, g: cref.conv_weight(x, g, ksize=(3,), **_S2P1_1D),
      lambda x, g: _conv_weight_t(x, g, ksize=(3,), **_S2P1_1D), [(2, 3, 7), (2, 4, 4)]),
    C("max_pool2d",            lambda x: max_pool2d(x, 2),        lambda x: cref.pool(x, 2 * (2,), 2 * (2,), np.max),
      lambda x: _F().max_pool2d(x, 2), [(2, 2, 4, 6)], "distinct"),
    C("max_pool2d-overlap",    lambda x: max_pool2d(x, (3, 2), stride=(1, 2)),
      lambda x: cref.pool(x, (3, 2), (1, 2), np.max),
      lambda x: _F().max_pool2d(x, (3, 2), stride=(1, 2)), [(1, 2, 5, 4)], "distinct"),
    C("max_pool1d",            lambda x: max_pool1d(x, 3, 2),     lambda x: cref.pool(x, (3,), (2,), np.max),
      lambda x: _F().max_pool1d(x, 3, 2), [(2, 3, 7)], "distinct"),
    C("avg_pool2d",            lambda x: avg_pool2d(x, 2),        lambda x: cref.pool(x, (2, 2), (2, 2), np.mean),
      lambda x: _F().avg_pool2d(x, 2), [(2, 2, 4, 6)]),
    C("avg_pool2d-overlap",    lambda x: avg_pool2d(x, 3, (2, 1)), lambda x: cref.pool(x, (3, 3), (2, 1), np.mean),
      lambda x: _F().avg_pool2d(x, 3, (2, 1)), [(1, 2, 6, 5)]),
    C("avg_pool2d_backward",   lambda g: apply(AVG_POOL_BACKWARD[2], g, **_AVG),
      lambda g: cref.conv_transpose(g.reshape(4, 1, 2, 3), np.full((1, 1, 2, 2), 0.25), (2, 2), (0, 0),
                                    (4, 6)).reshape(2, 2, 4, 6),
      _torch_vjp(lambda z: _F().avg_pool2d(z, 2), (2, 2, 4, 6)), [(2, 2, 2, 3)]),
    C("pool_scatter",          lambda g: apply(POOL_SCATTER, g, **_POOL),
      lambda g: cref.pool_scatter(g, **_POOL),
      _torch_vjp(lambda z: _F().max_pool2d(z, (3, 2), stride=(1, 2)), (1, 2, 5, 4), _POOL_AT), [(1, 2, 3, 2)]),
    C("pool_gather",           lambda h: apply(POOL_GATHER, h, **_POOL), lambda h: cref.pool_gather(h, **_POOL),
      _pool_gather_t, [(1, 2, 5, 4)]),
    C("rnn_cell-tanh",         lambda *a: rnn_cell(*a),           _np_rnn,    lambda *a: _torch().rnn_tanh_cell(*a),
      _cell_shapes(1)),
    C("rnn_cell-relu",         lambda *a: rnn_cell(*a, nonlinearity="relu"),
      lambda *a: _np_rnn(*a, act=lambda v: np.maximum(v, 0)), lambda *a: _torch().rnn_relu_cell(*a),
      _cell_shapes(1)),
    C("gru_cell",              lambda *a: gru_cell(*a),           _np_gru,    lambda *a: _torch().gru_cell(*a),
      _cell_shapes(3)),
    C("lstm_cell",             lambda *a: lstm_cell(*a),          _np_lstm,   _t_lstm, _cell_shapes(4, 2)),
    C("batch_norm",            lambda x, w, b: batch_norm(x, w, b), _np_batch_norm,
      lambda x, w, b: _F().batch_norm(x, None, None, w, b, training=True), [(4, 3, 2, 3), (3,), (3,)]),
    C("batch_norm-features",   lambda x, w, b: batch_norm(x, w, b, eps=0.1), lambda *a: _np_batch_norm(*a, eps=0.1),
      lambda x, w, b: _F().batch_norm(x, None, None, w, b, training=True, eps=0.1), [(5, 2), (2,), (2,)]),
    C("layer_norm",            lambda x, w, b: layer_norm(x, w, b), _np_layer_norm,
      lambda x, w, b: _F().layer_norm(x, w.shape, w, b), [(3, 4, 5), (5,), (5,)]),
    C("layer_norm-two_axes_no_bias", lambda x, w: layer_norm(x, w, eps=0.1),
      lambda x, w: _np_layer_norm(x, w, eps=0.1),
      lambda x, w: _F().layer_norm(x, w.shape, w, None, eps=0.1), [(2, 3, 4), (3, 4)]),
    C("attention",             lambda q, k, v: attention(q, k, v), _np_attention, _t_attention,
      [(2, 3, 4), (2, 5, 4), (2, 5, 3)]),
    C("attention-causal_heads", lambda q, k, v: attention(q, k, v, causal=True),
      lambda q, k, v: _np_attention(q, k, v, True), lambda q, k, v: _t_attention(q, k, v, True),
      [(2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 2)]),
]

ELEMENTWISE = [c for c in CASES if c.op in ("add", "sub", "mul", "div", "pow", "neg", "exp", "log",
                                            "sqrt", "tanh", "sigmoid", "relu", "abs")]
