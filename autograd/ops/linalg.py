"""Linear algebra: the matrix product ``@`` (1-D, 2-D and batched, as numpy defines it) and
the fused affine map ``linear`` (``x @ w.T + b`` as one node, as nn's layers use it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, apply, binary_method, defop
from ._common import _data, _mT, _shape


def _matmul(a: Any, b: Any) -> Any:
    sa, sb = np.shape(a), np.shape(b)
    if not sa or not sb:
        raise ValueError(f"@ needs operands with at least one axis, got shapes {sa} and {sb}; "
                         "use * to multiply by a scalar")
    k_right = sb[-2] if len(sb) > 1 else sb[0]
    if sa[-1] != k_right:
        where = "second-to-last" if len(sb) > 1 else "only"
        raise ValueError(f"shapes {sa} @ {sb} do not match: the left operand's last axis "
                         f"({sa[-1]}) must equal the right operand's {where} axis ({k_right})")
    return np.matmul(a, b)


# ---- matmul's VJPs, for 1-D, 2-D and batched operands as numpy defines them -------------
def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 2 and nb == 2:
        return g @ b.T
    if nb == 1:  # ans = a · b over a's last axis: dL/da = g ⊗ b
        return g.reshape(_shape(g) + (1,)) * b
    if na == 1:  # a acts as a (1, k) row
        g1 = g.reshape(_shape(g)[:-1] + (1,) + _shape(g)[-1:])
        ga = g1 @ _mT(b)
        return ga.reshape(_shape(ga)[:-2] + _shape(ga)[-1:])
    return g @ _mT(b)


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = len(_shape(a)), len(_shape(b))
    if na == 2 and nb == 2:
        return a.T @ g
    if na == 1:  # dL/db = a ⊗ g (an outer product, batched over g's leading axes)
        if nb == 1:
            return a * g
        return a.reshape((-1, 1)) * g.reshape(_shape(g)[:-1] + (1,) + _shape(g)[-1:])
    if nb == 1:  # b acts as a (k, 1) column
        gb = _mT(a) @ g.reshape(_shape(g) + (1,))
        return gb.reshape(_shape(gb)[:-1])
    return _mT(a) @ g


MATMUL = defop("matmul", _matmul, _matmul_vjp_a, _matmul_vjp_b)


# ---- fused ops: one node where the step-by-step graph would need several ----------------
# nn uses them for batches: fewer Python steps, and no intermediate gradient arrays (each
# of which a Value in the graph would keep as its .grad).
def _linear(x: Any, w: Any, b: Any) -> Any:
    """x @ wᵀ + b, w shaped (nout, nin) as the document writes a layer's weights."""
    sx = x.shape if type(x) is np.ndarray else np.shape(x)
    sw = w.shape if type(w) is np.ndarray else np.shape(w)
    if len(sw) != 2 or not sx or sx[-1] != sw[1]:
        raise ValueError(f"linear needs w of shape (nout, nin) and x with nin = {sw[-1:]} "
                         f"features in its last axis; got x {sx} and w {sw}")
    if (b.shape if type(b) is np.ndarray else np.shape(b)) != sw[:1]:
        raise ValueError(f"linear needs b of shape {sw[:1]} (one per output), got {np.shape(b)}")
    # (np.dot is np.matmul for 2-D operands, the same numbers, with less call overhead;
    # leading axes are folded into one: numpy runs (N, T, E) @ (E, F) as N small products,
    # which made the tiny GPT's linears 1.5× slower)
    if len(sx) > 2 and type(x) is np.ndarray:
        out = np.dot(x.reshape(-1, sx[-1]), w.T).reshape(sx[:-1] + sw[:1])
    else:
        out = np.dot(x, w.T) if len(sx) == 2 else np.matmul(x, w.T)
    out += b  # out is a fresh array: add in place
    return out


def _linear_vjp_x(g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    if type(g) is np.ndarray and type(w) is np.ndarray:
        if g.ndim == 2:
            return np.dot(g, w)
        if g.ndim > 2:  # leading axes folded into one product, as in the forward
            return np.dot(g.reshape(-1, g.shape[-1]), w).reshape(g.shape[:-1] + w.shape[1:])
    return g @ w


def _linear_vjp_w(g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    """dL/dw = gᵀ x, summed over the batch (every leading axis of x)."""
    if type(g) is np.ndarray and type(x) is np.ndarray and x.ndim >= 2:
        return np.dot(g.reshape(-1, g.shape[-1]).T, x.reshape(-1, x.shape[-1]))
    nd = len(_shape(x))
    if nd == 1:
        return g.reshape((-1, 1)) * x
    if nd > 2:
        g = g.reshape((-1, _shape(w)[0]))
        x = x.reshape((-1, _shape(w)[1]))
    return _mT(g) @ x


def _linear_vjp_b(g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    if type(g) is np.ndarray and g.ndim == 2:
        return np.add.reduce(g, axis=0)
    if type(g) is np.ndarray and g.ndim > 2:  # as one matrix's columns
        return np.add.reduce(g.reshape(-1, g.shape[-1]), axis=0)
    nd = len(_shape(g))
    return g if nd == 1 else g.sum(axis=tuple(range(nd - 1)))


LINEAR = defop("linear", _linear, _linear_vjp_x, _linear_vjp_w, _linear_vjp_b)


def linear(x: Any, w: Any, b: Any = None) -> Value:
    """``x @ w.T + b`` as one node (a layer's affine map; w shaped (nout, nin), b (nout,);
    no b: zeros). The same numbers and gradients as the three-node graph, with a third of
    the bookkeeping and no intermediate gradient arrays."""
    if b is None:
        wd = _data(w)
        b = np.zeros(np.shape(wd)[:1], dtype=np.result_type(wd))
    return apply(LINEAR, x, w, b)


Value.__matmul__ = binary_method(MATMUL)
Value.__rmatmul__ = binary_method(MATMUL, reflected=True)
