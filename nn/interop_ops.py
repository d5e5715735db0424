"""One entry per op of the derivative table: how a traced step runs in torch and in ONNX.

A traced model (nn/trace.py) is a list of steps, each a row of ``autograd.engine.OPS``
with its arguments and parameters. Each entry below says, for one op name,

- ``torch(T, *args, **params)``: the same numbers with torch functions (``T`` is the torch
  module; args are tensors, or Python floats for scalar constants);
- ``onnx(g, *args, **params)``: the ONNX nodes that compute it, added to `g` (an
  `OnnxSteps`: ``g.op(...)`` adds a node, ``g.const(a)`` a weight, ``g.ints(shape)`` a
  shape whose entries may follow the batch, ``g.shape(name)`` the static shape of a value
  at the example's size); it returns the output's name.

Adding an op to the engine's table means adding its entry here (the test over the table,
tests/nn/test_trace.py, lists the ops that lack one). Entries are plain functions under
``RULES[name] = OpRule(torch=..., onnx=...)``; helpers they share come first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["RULES", "OpRule"]


@dataclass(frozen=True)
class OpRule:
    torch: Any
    onnx: Any


RULES: dict[str, OpRule] = {}


def rule(name: str, torch: Any, onnx: Any) -> None:
    RULES[name] = OpRule(torch, onnx)


# ---- helpers -------------------------------------------------------------------------------

def _axes(axis: Any, ndim: int) -> list[int]:
    """A reduction's axes as a list of non-negative ints (all of them for None)."""
    if axis is None:
        return list(range(ndim))
    items = axis if isinstance(axis, tuple | list) else (axis,)
    return [int(a) % ndim for a in items]


def _t_dims(axis: Any, x: Any) -> tuple[int, ...]:
    return tuple(_axes(axis, x.dim()))


def _t_reduce(fn: str) -> Any:
    def run(T: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        dims = _t_dims(axis, x)
        if not dims:
            return x
        return getattr(T, fn)(x, dim=dims, keepdim=keepdims)
    return run


def _o_reduce(op: str) -> Any:
    """ONNX ReduceX over `axis` (opset 17: ReduceSum takes the axes as an input, the others
    as an attribute)."""
    def run(g: Any, x: str, axis: Any = None, keepdims: bool = False) -> str:
        axes = _axes(axis, len(g.shape(x)))
        if not axes:
            return x
        if op == "ReduceSum":
            return g.op(op, [x, g.const(np.array(axes))], keepdims=int(keepdims))
        return g.op(op, [x], axes=axes, keepdims=int(keepdims))
    return run


def _o_unary(op: str) -> Any:
    return lambda g, x: g.op(op, [x])


def _o_binary(op: str) -> Any:
    return lambda g, a, b: g.op(op, [a, b])


def _o_scalar(g: Any, v: float) -> str:
    return g.const(np.float32(v))


def _t_erf_gelu(T: Any, x: Any) -> Any:
    return x * 0.5 * (1.0 + T.erf(x * math.sqrt(0.5)))


def _o_gelu(g: Any, x: str) -> str:
    """x × ½ (1 + erf(x / √2)) (ONNX's own Gelu needs opset 20)."""
    e = g.op("Erf", [g.op("Mul", [x, _o_scalar(g, math.sqrt(0.5))])])
    return g.op("Mul", [g.op("Mul", [x, _o_scalar(g, 0.5)]),
                        g.op("Add", [e, _o_scalar(g, 1.0)])])


def _tensor(T: Any, a: Any, like: Any = None) -> Any:
    """A constant array as a tensor (integers as int64, floats in `like`'s dtype)."""
    a = np.asarray(a)
    if a.dtype.kind in "biu":
        return T.as_tensor(a.astype(np.int64) if a.dtype.kind != "b" else a)
    dtype = like.dtype if like is not None and hasattr(like, "dtype") else None
    return T.as_tensor(a, dtype=dtype)


# ---- elementwise ---------------------------------------------------------------------------

rule("add", lambda T, a, b: a + b, _o_binary("Add"))
rule("sub", lambda T, a, b: a - b, _o_binary("Sub"))
rule("mul", lambda T, a, b: a * b, _o_binary("Mul"))
rule("div", lambda T, a, b: a / b, _o_binary("Div"))
rule("pow", lambda T, a, b: a ** b, _o_binary("Pow"))
rule("neg", lambda T, a: -a, _o_unary("Neg"))
rule("exp", lambda T, a: T.exp(a), _o_unary("Exp"))
rule("log", lambda T, a: T.log(a), _o_unary("Log"))
rule("sqrt", lambda T, a: T.sqrt(a), _o_unary("Sqrt"))
rule("tanh", lambda T, a: T.tanh(a), _o_unary("Tanh"))
rule("sigmoid", lambda T, a: T.sigmoid(a), _o_unary("Sigmoid"))
rule("relu", lambda T, a: T.relu(a), _o_unary("Relu"))
rule("abs", lambda T, a: T.abs(a), _o_unary("Abs"))
rule("erf", lambda T, a: T.erf(a), _o_unary("Erf"))
rule("gelu", _t_erf_gelu, _o_gelu)
rule("leaky_relu",
     lambda T, a, negative_slope: T.nn.functional.leaky_relu(a, negative_slope),
     lambda g, a, negative_slope: g.op("LeakyRelu", [a], alpha=float(negative_slope)))
rule("maximum", lambda T, a, b: T.maximum(a, b), _o_binary("Max"))
rule("minimum", lambda T, a, b: T.minimum(a, b), _o_binary("Min"))


def _t_clip(T: Any, a: Any, lo: Any = None, hi: Any = None) -> Any:
    lo = None if lo is None else _tensor(T, lo, a)
    hi = None if hi is None else _tensor(T, hi, a)
    return T.clamp(a, lo, hi)


def _o_clip(g: Any, a: str, lo: Any = None, hi: Any = None) -> str:
    """Max with the lower bound, Min with the upper (bounds may be arrays)."""
    if lo is not None:
        a = g.op("Max", [a, g.const(np.asarray(lo, dtype=np.float32))])
    if hi is not None:
        a = g.op("Min", [a, g.const(np.asarray(hi, dtype=np.float32))])
    return a if lo is not None or hi is not None else g.op("Identity", [a])


rule("clip", _t_clip, _o_clip)
rule("where",
     lambda T, a, b, cond: T.where(T.as_tensor(cond), a, b),
     lambda g, a, b, cond: g.op("Where", [g.const_bool(cond), a, b]))

# ---- reductions ----------------------------------------------------------------------------

rule("sum", _t_reduce("sum"), _o_reduce("ReduceSum"))
rule("mean", _t_reduce("mean"), _o_reduce("ReduceMean"))
rule("max", _t_reduce("amax"), _o_reduce("ReduceMax"))
rule("min", _t_reduce("amin"), _o_reduce("ReduceMin"))
rule("logsumexp", _t_reduce("logsumexp"), _o_reduce("ReduceLogSumExp"))


def _t_var(T: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return T.var(x, dim=_t_dims(axis, x), correction=0, keepdim=keepdims)


def _o_var(g: Any, x: str, axis: Any = None, keepdims: bool = False) -> str:
    axes = _axes(axis, len(g.shape(x)))
    centred = g.op("Sub", [x, g.op("ReduceMean", [x], axes=axes, keepdims=1)])
    return g.op("ReduceMean", [g.op("Mul", [centred, centred])], axes=axes,
                keepdims=int(keepdims))


rule("var", _t_var, _o_var)
rule("softmax", lambda T, x, axis: T.softmax(x, dim=axis),
     lambda g, x, axis: g.op("Softmax", [x], axis=int(axis)))
rule("log_softmax", lambda T, x, axis: T.log_softmax(x, dim=axis),
     lambda g, x, axis: g.op("LogSoftmax", [x], axis=int(axis)))

# ---- shape ---------------------------------------------------------------------------------

rule("reshape", lambda T, a, shape: a.reshape(shape),
     lambda g, a, shape: g.op("Reshape", [a, g.ints(shape)]))


def _o_transpose(g: Any, a: str, axes: Any) -> str:
    perm = list(axes) if axes is not None else list(range(len(g.shape(a))))[::-1]
    return g.op("Transpose", [a], perm=perm)


rule("transpose",
     lambda T, a, axes: a.permute(*(axes if axes is not None else range(a.dim())[::-1])),
     _o_transpose)
rule("broadcast_to", lambda T, a, shape: a.expand(*shape),
     lambda g, a, shape: g.op("Expand", [a, g.ints(shape)]))
rule("to_scalar", lambda T, a: a.reshape(()),
     lambda g, a: g.op("Reshape", [a, g.const(np.zeros(0, dtype=np.int64))]))
rule("concatenate", lambda T, *xs, axis: T.cat(xs, dim=axis),
     lambda g, *xs, axis: g.op("Concat", list(xs), axis=int(axis)))


def _o_stack(g: Any, *xs: str, axis: int) -> str:
    ax = g.const(np.array([axis]))
    return g.op("Concat", [g.op("Unsqueeze", [x, ax]) for x in xs], axis=int(axis))


rule("stack", lambda T, *xs, axis: T.stack(xs, dim=axis), _o_stack)

# ---- indexing ------------------------------------------------------------------------------
# x[index] with numpy's rules. Two cases are written as ONNX's own operators (so the batch
# axis stays free): basic indexing (ints, slices, None, ...) and one integer array on one
# axis (an embedding's lookup). Any other index is computed once, as the flat positions it
# picks (np.arange(size).reshape(shape)[index]), which fixes the shape of x.


def _is_array(p: Any) -> bool:
    return isinstance(p, np.ndarray) or (hasattr(p, "kind") and p.kind == "input")


def _parts(index: Any) -> tuple[Any, ...]:
    return index if isinstance(index, tuple) else (index,)


def _t_index(T: Any, index: Any) -> Any:
    """A numpy index for a torch tensor: arrays as int64 (or bool) tensors."""
    def one(p: Any) -> Any:
        if isinstance(p, np.ndarray):
            return T.as_tensor(p if p.dtype.kind == "b" else p.astype(np.int64))
        return p
    return tuple(one(p) for p in index) if isinstance(index, tuple) else one(index)


def _t_getitem(T: Any, a: Any, index: Any) -> Any:
    parts = _parts(index)
    if any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in parts):
        a, index = _t_flipped(a, parts)
    return a[_t_index(T, index)]


def _t_flipped(a: Any, parts: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """torch slices only forwards: each axis sliced with a negative step is flipped first
    and its slice rewritten to pick the same entries going forwards."""
    if any(_is_array(p) for p in parts) or parts.count(Ellipsis) > 1:
        raise NotImplementedError("a negative step beside an index array")
    ndim = a.dim()
    used = sum(1 for p in parts if p is not None and p is not Ellipsis)
    axis, flips, out = 0, [], []
    for p in parts:
        if p is Ellipsis:
            axis += ndim - used
            out.append(p)
            continue
        if isinstance(p, slice) and p.step is not None and p.step < 0:
            n = a.shape[axis]
            picked = range(*p.indices(n))
            flips.append(axis)
            p = slice(n - 1 - picked[0], n - picked[-1], -p.step) if len(picked) \
                else slice(0, 0)
        out.append(p)
        if p is not None:
            axis += 1
    return a.flip(flips), tuple(out)


def _positions(shape: tuple[int, ...], index: Any) -> np.ndarray:
    """The flat positions `index` picks from an array of `shape`."""
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)[index]


def _o_getitem(g: Any, a: str, index: Any) -> str:
    parts = _parts(index)
    arrays = [p for p in parts if _is_array(p)]
    if not arrays:
        return _o_basic_index(g, a, parts)
    if len(parts) == 1 and (not isinstance(parts[0], np.ndarray) or
                            parts[0].dtype.kind in "iu"):
        idx = g.index_input(parts[0])  # one integer array on axis 0: Gather
        return g.op("Gather", [a, idx], axis=0)
    shape = g.static_shape(a, "an index with several arrays or a mask")
    flat = g.op("Reshape", [a, g.const(np.array([-1]))])
    return g.op("Gather", [flat, g.const(_positions(shape, index))], axis=0)


def _o_basic_index(g: Any, a: str, parts: tuple[Any, ...]) -> str:
    """ints, slices, None and ... axis by axis: Slice, then Gather for ints (each drops
    its axis), Unsqueeze for None."""
    ndim = len(g.shape(a))
    used = sum(1 for p in parts if p is not None and p is not Ellipsis)
    expanded: list[Any] = []
    for p in parts:
        if p is Ellipsis:
            expanded.extend([slice(None)] * (ndim - used))
        else:
            expanded.append(p)
    expanded.extend([slice(None)] * (ndim - sum(p is not None for p in expanded)))
    out, axis = a, 0  # axis: where the next item acts in `out` (ints drop theirs)
    for p in expanded:
        if p is None:
            continue
        if isinstance(p, slice):
            if p != slice(None):
                step = 1 if p.step is None else p.step
                start = p.start if p.start is not None else (0 if step > 0 else -1)
                stop = p.stop if p.stop is not None else (
                    np.iinfo(np.int64).max if step > 0 else np.iinfo(np.int64).min)
                out = g.op("Slice", [out, g.ints((start,)), g.ints((stop,)),
                                     g.const(np.array([axis])), g.const(np.array([step]))])
            axis += 1
        else:
            out = g.op("Gather", [out, g.const(np.array(int(p)))], axis=axis)
    if any(p is None for p in expanded):
        # where each new axis lands: after the kept axes and new axes before it
        kept, where = 0, []
        for p in expanded:
            if p is None:
                where.append(kept + len(where))
            elif isinstance(p, slice):
                kept += 1
        out = g.op("Unsqueeze", [out, g.const(np.array(where))])
    return out if out != a else g.op("Identity", [a])


def _t_index_add(T: Any, gr: Any, index: Any, shape: Any) -> Any:
    pos = T.as_tensor(_positions(tuple(shape), index).reshape(-1))
    out = T.zeros(math.prod(shape), dtype=gr.dtype)
    return out.index_add(0, pos, gr.reshape(-1)).reshape(tuple(shape))


def _o_index_add(g: Any, gr: str, index: Any, shape: Any) -> str:
    pos = _positions(tuple(shape), index).reshape(-1)
    zeros = g.const(np.zeros(math.prod(shape), dtype=np.float32))
    flat = g.op("ScatterElements", [zeros, g.const(pos), g.op("Reshape", [
        gr, g.const(np.array([-1]))])], axis=0, reduction="add")
    return g.op("Reshape", [flat, g.const(np.array(shape))])


rule("getitem", _t_getitem, _o_getitem)
rule("index_add", _t_index_add, _o_index_add)

# ---- linear algebra ------------------------------------------------------------------------

rule("matmul", lambda T, a, b: T.matmul(a, b), _o_binary("MatMul"))


def _o_linear(g: Any, x: str, w: str, b: str) -> str:
    return g.op("Add", [g.op("MatMul", [x, g.op("Transpose", [w], perm=[1, 0])]), b])


rule("linear", lambda T, x, w, b: T.nn.functional.linear(x, w, b), _o_linear)

# ---- losses and normalisation --------------------------------------------------------------


def _t_cross_entropy(T: Any, z: Any, t: Any = None, index: Any = None) -> Any:
    logp = T.log_softmax(z, dim=-1)
    if index is not None:
        idx = index if hasattr(index, "dim") else T.as_tensor(np.asarray(index, np.int64))
        return -logp.gather(1, idx.reshape(-1, 1)).sum() / z.shape[0]
    return -(t * logp).sum() / z.shape[0]


def _o_cross_entropy(g: Any, z: str, t: str | None = None, index: Any = None) -> str:
    logp = g.op("LogSoftmax", [z], axis=-1)
    if index is not None:
        idx = g.op("Unsqueeze", [g.index_input(index), g.const(np.array([1]))])
        picked = g.op("GatherElements", [logp, idx], axis=1)
        return g.op("Neg", [g.op("ReduceMean", [picked], keepdims=0)])
    total = g.op("ReduceSum", [g.op("Mul", [t, logp])], keepdims=0)
    n = g.op("Cast", [g.dim_of(z, 0)], to=g.onnx.TensorProto.FLOAT)
    return g.op("Neg", [g.op("Div", [total, g.op("Squeeze", [n])])])


def _t_batch_norm(T: Any, x: Any, w: Any, b: Any, eps: float) -> Any:
    return T.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=eps)


def _o_batch_norm(g: Any, x: str, w: str, b: str, eps: float) -> str:
    """(x - mean) / √(var + ε) × γ + β with the batch's statistics per channel."""
    nd = len(g.shape(x))
    axes = [0, *range(2, nd)]
    per = g.const(np.array([1, -1] + [1] * (nd - 2)))
    mean = g.op("ReduceMean", [x], axes=axes, keepdims=1)
    centred = g.op("Sub", [x, mean])
    var = g.op("ReduceMean", [g.op("Mul", [centred, centred])], axes=axes, keepdims=1)
    inv = g.op("Div", [_o_scalar(g, 1.0), g.op("Sqrt", [g.op("Add", [var, _o_scalar(g, eps)])])])
    y = g.op("Mul", [g.op("Mul", [centred, inv]), g.op("Reshape", [w, per])])
    return g.op("Add", [y, g.op("Reshape", [b, per])])


def _t_layer_norm(T: Any, x: Any, w: Any, b: Any = None, *, eps: float, dims: int) -> Any:
    return T.nn.functional.layer_norm(x, tuple(w.shape), w, b, eps)


def _o_layer_norm(g: Any, x: str, w: str, b: str | None = None, *, eps: float,
                  dims: int) -> str:
    return g.op("LayerNormalization", [x, w] + ([] if b is None else [b]), axis=-int(dims),
                epsilon=float(eps))


rule("layer_norm", _t_layer_norm, _o_layer_norm)
rule("cross_entropy", _t_cross_entropy, _o_cross_entropy)
rule("batch_norm", _t_batch_norm, _o_batch_norm)

# ---- attention -----------------------------------------------------------------------------


def _t_attention(T: Any, q: Any, k: Any, v: Any, causal: bool = False,
                 scale: float = 1.0) -> Any:
    s = T.matmul(q, k.transpose(-1, -2)) * scale
    if causal:
        t = s.shape[-1]
        s = s.masked_fill(T.ones(t, t, dtype=T.bool).triu(1), float("-inf"))
    return T.matmul(T.softmax(s, dim=-1), v)


def _o_attention(g: Any, q: str, k: str, v: str, causal: bool = False,
                 scale: float = 1.0) -> str:
    nd = len(g.shape(k))
    perm = [*range(nd - 2), nd - 1, nd - 2]
    s = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=perm)]),
                     _o_scalar(g, scale)])
    if causal:
        t = g.shape(q)[-2]
        mask = np.triu(np.full((t, t), -np.inf, dtype=np.float32), 1)
        s = g.op("Add", [s, g.const(mask)])
    return g.op("MatMul", [g.op("Softmax", [s], axis=-1), v])


rule("attention", _t_attention, _o_attention)

# ---- recurrent cells -----------------------------------------------------------------------


def _t_lstm(T: Any, x: Any, h: Any, c: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    h2, c2 = T.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return T.cat([h2, c2], dim=-1)


def _o_affine2(g: Any, x: str, h: str, w_ih: str, w_hh: str, b_ih: str, b_hh: str
               ) -> tuple[str, str]:
    gi = _o_linear(g, x, w_ih, b_ih)
    gh = _o_linear(g, h, w_hh, b_hh)
    return gi, gh


def _o_cols(g: Any, a: str, start: int, stop: int) -> str:
    return g.op("Slice", [a, g.const(np.array([start])), g.const(np.array([stop])),
                          g.const(np.array([1]))])


def _o_rnn(g: Any, x: str, h: str, w_ih: str, w_hh: str, b_ih: str, b_hh: str,
           nonlinearity: str = "tanh") -> str:
    gi, gh = _o_affine2(g, x, h, w_ih, w_hh, b_ih, b_hh)
    return g.op("Tanh" if nonlinearity == "tanh" else "Relu", [g.op("Add", [gi, gh])])


def _o_gru(g: Any, x: str, h: str, w_ih: str, w_hh: str, b_ih: str, b_hh: str) -> str:
    """torch's gate order r, z, n; n = tanh(i_n + r × (W_hn h + b_hn))."""
    nh = g.shape(h)[-1]
    gi, gh = _o_affine2(g, x, h, w_ih, w_hh, b_ih, b_hh)
    rz = g.op("Sigmoid", [g.op("Add", [_o_cols(g, gi, 0, 2 * nh), _o_cols(g, gh, 0, 2 * nh)])])
    r, z = _o_cols(g, rz, 0, nh), _o_cols(g, rz, nh, 2 * nh)
    n = g.op("Tanh", [g.op("Add", [_o_cols(g, gi, 2 * nh, 3 * nh),
                                   g.op("Mul", [r, _o_cols(g, gh, 2 * nh, 3 * nh)])])])
    return g.op("Add", [n, g.op("Mul", [z, g.op("Sub", [h, n])])])


def _o_lstm(g: Any, x: str, h: str, c: str, w_ih: str, w_hh: str, b_ih: str, b_hh: str) -> str:
    """Gates i, f, g, o; [h', c'] side by side, as the engine's cell returns them."""
    nh = g.shape(h)[-1]
    gi, gh = _o_affine2(g, x, h, w_ih, w_hh, b_ih, b_hh)
    a = g.op("Add", [gi, gh])
    i, f, o = (g.op("Sigmoid", [_o_cols(g, a, k * nh, (k + 1) * nh)]) for k in (0, 1, 3))
    gg = g.op("Tanh", [_o_cols(g, a, 2 * nh, 3 * nh)])
    c2 = g.op("Add", [g.op("Mul", [f, c]), g.op("Mul", [i, gg])])
    h2 = g.op("Mul", [o, g.op("Tanh", [c2])])
    return g.op("Concat", [h2, c2], axis=-1)


rule("rnn_cell",
     lambda T, x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh":
         (T.rnn_tanh_cell if nonlinearity == "tanh" else T.rnn_relu_cell)(
             x, h, w_ih, w_hh, b_ih, b_hh),
     _o_rnn)
rule("gru_cell", lambda T, x, h, w_ih, w_hh, b_ih, b_hh: T.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh),
     _o_gru)
rule("lstm_cell", _t_lstm, _o_lstm)

# ---- convolution and pooling ---------------------------------------------------------------


def _fn(T: Any, name: str, d: int) -> Any:
    return getattr(T.nn.functional, f"{name}{d}d")


def _t_conv(d: int) -> Any:
    def run(T: Any, x: Any, w: Any, b: Any = None, *, stride: Any, padding: Any) -> Any:
        return _fn(T, "conv", d)(x, w, b, stride=stride, padding=padding)
    return run


def _o_conv(g: Any, x: str, w: str, b: str | None = None, *, stride: Any, padding: Any) -> str:
    return g.op("Conv", [x, w] + ([] if b is None else [b]), strides=list(stride),
                pads=list(padding) * 2)


def _extra(size: Any, out: tuple[int, ...], k: tuple[int, ...], stride: Any,
           padding: Any) -> list[int]:
    """How much longer `size` is than a transposed convolution's natural output."""
    return [int(s) - ((o - 1) * st - 2 * p + kk)
            for s, o, kk, st, p in zip(size, out, k, stride, padding)]


def _t_conv_transpose(d: int) -> Any:
    def run(T: Any, g: Any, w: Any, *, stride: Any, padding: Any, size: Any) -> Any:
        extra = _extra(size, tuple(g.shape[2:]), tuple(w.shape[2:]), stride, padding)
        return _fn(T, "conv_transpose", d)(g, w, stride=stride, padding=padding,
                                           output_padding=tuple(extra))
    return run


def _o_conv_transpose(g: Any, gr: str, w: str, *, stride: Any, padding: Any, size: Any) -> str:
    extra = _extra(size, tuple(g.shape(gr)[2:]), tuple(g.shape(w)[2:]), stride, padding)
    return g.op("ConvTranspose", [gr, w], strides=list(stride), pads=list(padding) * 2,
                output_padding=extra)


def _t_conv_weight(d: int) -> Any:
    def run(T: Any, x: Any, gr: Any, *, stride: Any, padding: Any, ksize: Any) -> Any:
        shape = (gr.shape[1], x.shape[1], *ksize)
        return getattr(T.nn.grad, f"conv{d}d_weight")(x, shape, gr, stride=stride,
                                                       padding=padding)
    return run


def _o_conv_weight(g: Any, x: str, gr: str, *, stride: Any, padding: Any, ksize: Any) -> str:
    """dL/dw as a convolution: the channels of x as a batch, g's as kernels, dilated by
    the stride; then cut to the kernel's size and put (out, in) first."""
    nd = len(g.shape(x))
    swap = [1, 0, *range(2, nd)]
    y = g.op("Conv", [g.op("Transpose", [x], perm=swap), g.op("Transpose", [gr], perm=swap)],
             dilations=list(stride), pads=list(padding) * 2)
    d = nd - 2
    y = g.op("Slice", [y, g.const(np.zeros(d, np.int64)), g.const(np.array(ksize)),
                       g.const(np.arange(2, 2 + d))])
    return g.op("Transpose", [y], perm=swap)


def _t_pool(kind: str, d: int) -> Any:
    def run(T: Any, x: Any, *, ksize: Any, stride: Any) -> Any:
        return _fn(T, kind, d)(x, ksize, stride)
    return run


def _o_pool(op: str) -> Any:
    def run(g: Any, x: str, *, ksize: Any, stride: Any) -> str:
        return g.op(op, [x], kernel_shape=list(ksize), strides=list(stride))
    return run


def _window_positions(index: np.ndarray, shape: tuple[int, ...], ksize: tuple[int, ...],
                      stride: tuple[int, ...]) -> np.ndarray:
    """Max pooling's chosen entries (an offset within each window) as flat positions in
    each (n, c) plane of the input: what scatter and gather need."""
    spatial = shape[2:]
    out = index.shape[2:]
    offs = np.array(list(np.ndindex(*ksize)))[index]             # (N, C, *out, d)
    grid = np.stack(np.meshgrid(*[np.arange(o) for o in out], indexing="ij"), axis=-1)
    coords = grid * np.array(stride) + offs                      # input coordinates
    flat = np.zeros(index.shape, dtype=np.int64)
    for axis, size in enumerate(spatial):
        flat = flat * size + coords[..., axis]
    return flat.reshape(index.shape[:2] + (-1,))


def _t_pool_scatter(T: Any, gr: Any, *, index: Any, shape: Any, ksize: Any, stride: Any) -> Any:
    pos = T.as_tensor(_window_positions(np.asarray(index), tuple(shape), ksize, stride))
    out = T.zeros(tuple(shape[:2]) + (math.prod(shape[2:]),), dtype=gr.dtype)
    return out.scatter_add(2, pos, gr.reshape(pos.shape)).reshape(tuple(shape))


def _t_pool_gather(T: Any, h: Any, *, index: Any, shape: Any, ksize: Any, stride: Any) -> Any:
    pos = T.as_tensor(_window_positions(np.asarray(index), tuple(shape), ksize, stride))
    return h.reshape(tuple(shape[:2]) + (-1,)).gather(2, pos).reshape(np.shape(index))


def _o_pool_scatter(g: Any, gr: str, *, index: Any, shape: Any, ksize: Any, stride: Any) -> str:
    pos = _window_positions(np.asarray(index), tuple(shape), ksize, stride)
    zeros = g.const(np.zeros(tuple(shape[:2]) + (math.prod(shape[2:]),), np.float32))
    flat = g.op("ScatterElements", [zeros, g.const(pos), g.op("Reshape", [
        gr, g.const(np.array(pos.shape))])], axis=2, reduction="add")
    return g.op("Reshape", [flat, g.const(np.array(shape))])


def _o_pool_gather(g: Any, h: str, *, index: Any, shape: Any, ksize: Any, stride: Any) -> str:
    pos = _window_positions(np.asarray(index), tuple(shape), ksize, stride)
    flat = g.op("Reshape", [h, g.const(np.array(tuple(shape[:2]) + (-1,)))])
    picked = g.op("GatherElements", [flat, g.const(pos)], axis=2)
    return g.op("Reshape", [picked, g.const(np.array(np.shape(index)))])


def _avg_kernel(channels: int, ksize: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.full((channels, 1, *ksize), 1.0 / math.prod(ksize), dtype=dtype)


def _t_avg_pool_backward(T: Any, gr: Any, *, shape: Any, ksize: Any, stride: Any) -> Any:
    """g / (window size) spread over each window: a transposed convolution per channel."""
    c = int(shape[1])
    w = T.as_tensor(_avg_kernel(c, ksize, np.float64)).to(gr.dtype)
    extra = _extra(shape[2:], tuple(gr.shape[2:]), ksize, stride, (0,) * len(ksize))
    return T.nn.functional.conv_transpose2d(gr, w, stride=stride, groups=c,
                                            output_padding=tuple(extra))


def _o_avg_pool_backward(g: Any, gr: str, *, shape: Any, ksize: Any, stride: Any) -> str:
    c = int(shape[1])
    extra = _extra(shape[2:], tuple(g.shape(gr)[2:]), ksize, stride, (0,) * len(ksize))
    return g.op("ConvTranspose", [gr, g.const(_avg_kernel(c, ksize, np.float32))],
                strides=list(stride), group=c, output_padding=extra)


for _d in (1, 2):
    rule(f"conv{_d}d", _t_conv(_d), _o_conv)
    rule(f"conv_transpose{_d}d", _t_conv_transpose(_d), _o_conv_transpose)
    rule(f"conv{_d}d_weight", _t_conv_weight(_d), _o_conv_weight)
    rule(f"max_pool{_d}d", _t_pool("max_pool", _d), _o_pool("MaxPool"))
rule("avg_pool2d", _t_pool("avg_pool", 2), _o_pool("AveragePool"))
rule("avg_pool2d_backward", _t_avg_pool_backward, _o_avg_pool_backward)
rule("pool_scatter", _t_pool_scatter, _o_pool_scatter)
rule("pool_gather", _t_pool_gather, _o_pool_gather)
