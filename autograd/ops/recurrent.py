"""Recurrent cells as single nodes: one time step of an RNN, a GRU or an LSTM.

A recurrent layer applies the same cell at every time step. Written with small ops, one
GRU step is some twenty nodes, and a sequence of 40 steps is bound by Python's cost per
node; as one node per step, a layer over 40 steps is a few dozen nodes. Each cell is one
entry of the derivative table with PyTorch's arguments and gate order
(``torch.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)``), so torch's weights copy in unchanged:

    RNN:   h' = tanh(x w_ihᵀ + b_ih + h w_hhᵀ + b_hh)                  (or ReLU)
    GRU:   r = σ(a_r), z = σ(a_z)       (a = x w_ihᵀ + b_ih + h w_hhᵀ + b_hh, gates r, z, n)
           n = tanh(x w_inᵀ + b_in + r × (h w_hnᵀ + b_hn))
           h' = (1 - z) × n + z × h
    LSTM:  i, f, o = σ(a_i), σ(a_f), σ(a_o), g = tanh(a_g)            (gates i, f, g, o)
           c' = f × c + i × g,  h' = o × tanh(c')

Every cell is an affine map of x and one of h feeding elementwise gates, so its backward
pass has one shape: the gates give dL/d(x w_ihᵀ + b_ih) and dL/d(h w_hhᵀ + b_hh) (the
"shared" part), and from those each input's VJP is one product or sum, as in `linear`.
The shared part is written once per cell with operations that numpy arrays and Values both
support: on arrays it is the fast first-order rule, on Values (``create_graph=True``) the
same lines build a differentiable graph, so second derivatives work. The engine calls one
VJP per input; on arrays the shared part is computed once per node and reused by the next
VJPs of the same node (a one-entry memo keyed by the node's gradient and output objects).

The LSTM's state is two arrays; the cell returns them side by side, ``[h', c']`` of shape
(N, 2H), and the layer slices them apart.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..engine import Value, apply, defop, is_grad_enabled
from .arithmetic import SIGMOID, TANH
from .functions import concatenate


# ---- helpers that run on raw arrays and on Values alike --------------------------------
def _on_either(op: Any) -> Any:
    """The table's `op` on raw data (its forward) or on Values (a recorded node)."""
    def fn(x: Any) -> Any:
        return apply(op, x) if isinstance(x, Value) else op.forward(x)
    fn.__name__ = op.name
    return fn


sigmoid = _on_either(SIGMOID)
tanh = _on_either(TANH)


def _join(parts: list[Any]) -> Any:
    """Blocks of shape (N, H) side by side along the last axis: (N, k·H)."""
    if any(isinstance(p, Value) for p in parts):
        return concatenate(parts, axis=-1)
    return np.concatenate(parts, axis=-1)


def _check(name: str, x: Any, states: tuple[Any, ...], w_ih: Any, w_hh: Any, b_ih: Any,
           b_hh: Any, gates: int) -> None:
    """Shapes as torch's cells take them, or a ValueError saying which one is off."""
    try:
        n, nin = x.shape
        gh, hid = w_hh.shape
        ok = (gh == gates * hid and w_ih.shape == (gh, nin) and b_ih.shape == (gh,)
              and b_hh.shape == (gh,) and all(s.shape == (n, hid) for s in states))
    except (AttributeError, ValueError):
        ok = False
    if not ok:
        got = [("x", x), *[(f"state {i}", s) for i, s in enumerate(states)], ("w_ih", w_ih),
               ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh)]
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in got)
        raise ValueError(f"{name} needs x (N, input), each state (N, hidden), w_ih "
                         f"({gates}·hidden, input), w_hh ({gates}·hidden, hidden) and biases "
                         f"({gates}·hidden,); got {shapes}")


# ---- what a forward pass keeps for its backward pass ------------------------------------
# The gates a cell computed forward are kept beside its output array (as torch's autograd
# saves tensors for backward) until that array is freed, so the backward pass on arrays does
# not compute them again. On Values the backward pass computes them anew, as Values.
_saved: dict[int, tuple[Any, Any]] = {}  # id(output array) -> (weakref to it, the gates)


def _save(out: np.ndarray, gates: tuple[Any, ...]) -> None:
    if is_grad_enabled():  # (no graph is recorded, so no backward pass will ask)
        key = id(out)
        _saved[key] = (weakref.ref(out, lambda _, k=key: _saved.pop(k, None)), gates)


def _gates_of(ans: Any) -> Any:
    """The gates saved for output `ans`, or None (a Value, or nothing saved)."""
    entry = _saved.get(id(ans))
    if entry is not None and entry[0]() is ans:
        return entry[1]
    return None


# ---- the shared backward part: one memo for the VJPs of one node -----------------------
_memo: list[Any] = [None, None, None, None]  # rule, g, ans, its result


def _shared(rule: Any, g: Any, ans: Any, inputs: tuple[Any, ...], params: dict) -> Any:
    """rule(g, ans, *inputs, **params), computed once for the successive VJPs of one node.

    Only raw arrays are memoised: on Values each call builds its own graph, so nothing of a
    differentiable graph is kept alive here."""
    if isinstance(g, Value) or isinstance(ans, Value):
        return rule(g, ans, *inputs, **params)
    m = _memo
    if m[0] is rule and m[1] is g and m[2] is ans:
        return m[3]
    out = rule(g, ans, *inputs, **params)
    m[0], m[1], m[2], m[3] = rule, g, ans, out
    return out


def _vjps(rule: Any, n_states: int) -> tuple[Any, ...]:
    """The VJPs of a cell with inputs (x, *states, w_ih, w_hh, b_ih, b_hh), given its
    `rule(g, ans, *inputs) -> (d_ih, d_hh, direct)`: dL/d(x w_ihᵀ + b_ih), dL/d(h w_hhᵀ +
    b_hh), and the gradient each state gets other than through w_hh (or None)."""
    k = n_states  # inputs: 0 = x, 1..k = states (h first), then w_ih, w_hh, b_ih, b_hh

    def part(g: Any, ans: Any, inputs: tuple[Any, ...], params: dict) -> Any:
        return _shared(rule, g, ans, inputs, params)

    def vjp_x(g: Any, ans: Any, *a: Any, **p: Any) -> Any:
        return part(g, ans, a, p)[0] @ a[k + 1]

    def vjp_state(i: int) -> Any:
        def vjp(g: Any, ans: Any, *a: Any, **p: Any) -> Any:
            _, d_hh, direct = part(g, ans, a, p)
            through_w = d_hh @ a[k + 2] if i == 0 else None
            if direct[i] is None:
                return through_w
            return direct[i] if through_w is None else through_w + direct[i]
        return vjp

    def vjp_w_ih(g: Any, ans: Any, *a: Any, **p: Any) -> Any:
        return part(g, ans, a, p)[0].T @ a[0]

    def vjp_w_hh(g: Any, ans: Any, *a: Any, **p: Any) -> Any:
        return part(g, ans, a, p)[1].T @ a[1]

    def vjp_b_ih(g: Any, ans: Any, *a: Any, **p: Any) -> Any:
        return part(g, ans, a, p)[0].sum(axis=0)

    def vjp_b_hh(g: Any, ans: Any, *a: Any, **p: Any) -> Any:
        return part(g, ans, a, p)[1].sum(axis=0)

    return (vjp_x, *[vjp_state(i) for i in range(k)], vjp_w_ih, vjp_w_hh, vjp_b_ih, vjp_b_hh)


# ---- RNN --------------------------------------------------------------------------------
def _rnn_cell(x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any,
              nonlinearity: str = "tanh") -> Any:
    _check("rnn_cell", x, (h,), w_ih, w_hh, b_ih, b_hh, 1)
    a = x @ w_ih.T + b_ih + (h @ w_hh.T + b_hh)
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def _rnn_rule(g: Any, ans: Any, x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any,
              nonlinearity: str = "tanh") -> Any:
    """dL/da = g × (1 - h'²) for tanh, g × [a > 0] for ReLU (h' > 0 exactly there)."""
    if nonlinearity == "tanh":
        da = g * (1 - ans * ans)
    else:
        on = np.asarray((ans.data if isinstance(ans, Value) else ans) > 0)
        da = g * on.astype(np.result_type(ans.data if isinstance(ans, Value) else ans))
    return da, da, (None,)


# ---- GRU --------------------------------------------------------------------------------
def _gru_gates(x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    """r, z, n and h w_hnᵀ + b_hn (the part of n's input that r scales)."""
    nh = h.shape[-1]
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    rz = sigmoid(gi[:, :2 * nh] + gh[:, :2 * nh])
    hn = gh[:, 2 * nh:]
    r, z = rz[:, :nh], rz[:, nh:]
    n = tanh(gi[:, 2 * nh:] + r * hn)
    return r, z, n, hn


def _gru_cell(x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    _check("gru_cell", x, (h,), w_ih, w_hh, b_ih, b_hh, 3)
    gates = _gru_gates(x, h, w_ih, w_hh, b_ih, b_hh)
    _, z, n, _ = gates
    out = n + z * (h - n)  # = (1 - z) × n + z × h
    _save(out, gates)
    return out


def _gru_rule(g: Any, ans: Any, x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any,
              b_hh: Any) -> Any:
    """Back through h' = n + z(h - n), n = tanh(a_n + r·hn), r = σ(a_r), z = σ(a_z)."""
    r, z, n, hn = _gates_of(ans) or _gru_gates(x, h, w_ih, w_hh, b_ih, b_hh)
    da_n = g * (1 - z) * (1 - n * n)
    da_z = g * (h - n) * (z * (1 - z))
    da_r = da_n * hn * (r * (1 - r))
    return _join([da_r, da_z, da_n]), _join([da_r, da_z, da_n * r]), (g * z,)


# ---- LSTM -------------------------------------------------------------------------------
def _lstm_gates(x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    nh = h.shape[-1]
    a = x @ w_ih.T + b_ih + (h @ w_hh.T + b_hh)
    s = sigmoid(a)  # i, f and o are sigmoids (the g block of s goes unused)
    return s[:, :nh], s[:, nh:2 * nh], tanh(a[:, 2 * nh:3 * nh]), s[:, 3 * nh:]


def _lstm_cell(x: Any, h: Any, c: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    _check("lstm_cell", x, (h, c), w_ih, w_hh, b_ih, b_hh, 4)
    gates = _lstm_gates(x, h, w_ih, w_hh, b_ih, b_hh)
    i, f, gg, o = gates
    c2 = f * c + i * gg
    out = np.concatenate([o * np.tanh(c2), c2], axis=-1)
    _save(out, gates)
    return out


def _lstm_rule(g: Any, ans: Any, x: Any, h: Any, c: Any, w_ih: Any, w_hh: Any, b_ih: Any,
               b_hh: Any) -> Any:
    """Back through [h', c'] with c' = f·c + i·g and h' = o·tanh(c')."""
    nh = h.shape[-1]
    i, f, gg, o = _gates_of(ans) or _lstm_gates(x, h, w_ih, w_hh, b_ih, b_hh)
    gh, gc = g[:, :nh], g[:, nh:]
    tc = tanh(ans[:, nh:])
    dc = gc + gh * o * (1 - tc * tc)  # everything that reaches c'
    d = _join([dc * gg * (i * (1 - i)), dc * c * (f * (1 - f)), dc * i * (1 - gg * gg),
               gh * tc * (o * (1 - o))])
    return d, d, (None, dc * f)


# ---- forward mode ----------------------------------------------------------------------
# One input's tangent enters a cell through ġi = d(x w_ihᵀ + b_ih), through ġh = d(h w_hhᵀ +
# b_hh), or straight into a state (h in the GRU's z·h, c in the LSTM's f·c); each cell's
# tangent rule takes those three (None where nothing enters) and carries them through its
# gates, as the forward pass carries the values.
def _plus(*parts: Any) -> Any:
    """The sum of the parts that are not None (None when all are)."""
    out = None
    for p in parts:
        if p is not None:
            out = p if out is None else out + p
    return out


def _times(a: Any, d: Any) -> Any:
    return None if d is None else a * d


def _cols(d: Any, lo: int, hi: int) -> Any:
    return None if d is None else d[:, lo:hi]


def _rnn_tangent(d_ih: Any, d_hh: Any, direct: tuple[Any, ...], ans: Any, x: Any, h: Any,
                 w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, nonlinearity: str = "tanh") -> Any:
    """ḣ' = (1 - h'²) ȧ for tanh, [a > 0] ȧ for ReLU."""
    return _rnn_rule(_plus(d_ih, d_hh), ans, x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity)[0]


def _gru_tangent(d_ih: Any, d_hh: Any, direct: tuple[Any, ...], ans: Any, x: Any, h: Any,
                 w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    """ḣ' = (1 - z) ṅ + ż (h - n) + z ḣ, with ṙ, ż from their gates' inputs and
    ṅ = (1 - n²)(ȧ_n + ṙ hn + r ḣn)."""
    nh = h.shape[-1]
    r, z, n, hn = _gru_gates(x, h, w_ih, w_hh, b_ih, b_hh)
    dr = _times(r * (1 - r), _plus(_cols(d_ih, 0, nh), _cols(d_hh, 0, nh)))
    dz = _times(z * (1 - z), _plus(_cols(d_ih, nh, 2 * nh), _cols(d_hh, nh, 2 * nh)))
    dn = _times(1 - n * n, _plus(_cols(d_ih, 2 * nh, 3 * nh), _times(hn, dr),
                                 _times(r, _cols(d_hh, 2 * nh, 3 * nh))))
    return _plus(_times(1 - z, dn), _times(h - n, dz), _times(z, direct[0]))


def _lstm_tangent(d_ih: Any, d_hh: Any, direct: tuple[Any, ...], ans: Any, x: Any, h: Any,
                  c: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    """ċ' = ḟ c + f ċ + i̇ g + i ġ and ḣ' = ȯ tanh(c') + o (1 - tanh²(c')) ċ'."""
    nh = h.shape[-1]
    i, f, gg, o = _lstm_gates(x, h, w_ih, w_hh, b_ih, b_hh)
    da = _plus(d_ih, d_hh)

    def gate(k: int, slope: Any) -> Any:  # block k (i, f, g, o) of ȧ through its gate
        return _times(slope, _cols(da, k * nh, (k + 1) * nh))

    dc = _plus(_times(c, gate(1, f * (1 - f))), _times(f, direct[1]),
               _times(gg, gate(0, i * (1 - i))), _times(i, gate(2, 1 - gg * gg)))
    tc = tanh(ans[:, nh:])
    dh = _plus(_times(tc, gate(3, o * (1 - o))), _times(o * (1 - tc * tc), dc))
    return _join([dh, dc])


def _jvps(rule: Any, n_states: int) -> tuple[Any, ...]:
    """The JVPs of a cell with inputs (x, *states, w_ih, w_hh, b_ih, b_hh), each giving
    `rule` the ġi, ġh and direct state tangents its input's tangent makes."""
    k = n_states

    def make(j: int) -> Any:
        def jvp(t: Any, ans: Any, *a: Any, **p: Any) -> Any:
            d_ih = d_hh = None
            direct: list[Any] = [None] * k
            if j == 0:
                d_ih = t @ a[k + 1].T
            elif j <= k:
                direct[j - 1] = t
                if j == 1:
                    d_hh = t @ a[k + 2].T
            elif j == k + 1:
                d_ih = a[0] @ t.T
            elif j == k + 2:
                d_hh = a[1] @ t.T
            elif j == k + 3:  # a bias: one row, broadcast over the batch
                d_ih = t.reshape((1, -1))
            else:
                d_hh = t.reshape((1, -1))
            return rule(d_ih, d_hh, tuple(direct), ans, *a, **p)
        return jvp

    return tuple(make(j) for j in range(k + 5))


RNN_CELL = defop("rnn_cell", _rnn_cell, *_vjps(_rnn_rule, 1), jvp=_jvps(_rnn_tangent, 1))
GRU_CELL = defop("gru_cell", _gru_cell, *_vjps(_gru_rule, 1), jvp=_jvps(_gru_tangent, 1))
LSTM_CELL = defop("lstm_cell", _lstm_cell, *_vjps(_lstm_rule, 2), jvp=_jvps(_lstm_tangent, 2))


def _bias(b: Any, w: Any) -> Any:
    if b is not None:
        return b
    wd = w.data if isinstance(w, Value) else w
    return np.zeros(np.shape(wd)[:1], dtype=np.result_type(wd))


def _args(*xs: Any) -> list[Any]:
    """Values and arrays as they are; lists and numbers as float64 arrays."""
    return [x if isinstance(x, Value | np.ndarray) else np.asarray(x, dtype=np.float64)
            for x in xs]


def rnn_cell(x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any = None, b_hh: Any = None,
             nonlinearity: str = "tanh") -> Value:
    """One Elman RNN step as one node: act(x w_ihᵀ + b_ih + h w_hhᵀ + b_hh), (N, H)."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return apply(RNN_CELL, *_args(x, h, w_ih, w_hh, _bias(b_ih, w_ih), _bias(b_hh, w_hh)),
                 nonlinearity=nonlinearity)


def gru_cell(x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any = None,
             b_hh: Any = None) -> Value:
    """One GRU step as one node (torch's gate order r, z, n): h' of shape (N, H)."""
    return apply(GRU_CELL, *_args(x, h, w_ih, w_hh, _bias(b_ih, w_ih), _bias(b_hh, w_hh)))


def lstm_cell(x: Any, h: Any, c: Any, w_ih: Any, w_hh: Any, b_ih: Any = None,
              b_hh: Any = None) -> Value:
    """One LSTM step as one node (gate order i, f, g, o): [h', c'] side by side, (N, 2H)."""
    return apply(LSTM_CELL, *_args(x, h, c, w_ih, w_hh, _bias(b_ih, w_ih), _bias(b_hh, w_hh)))
