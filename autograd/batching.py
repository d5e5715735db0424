"""vmap: a function of one sample run on a whole batch, each op once.

Inside ``vmap(f)(xs)`` f receives *batched Values*: each looks like one sample (its
`shape` is a sample's) while its data holds the whole batch along a leading axis. Every op
f applies to one reaches `batch_op` first (the engine's `apply` hands it over), which runs
the op once on the batch through the op's *batching rule*:

- elementwise ops broadcast: a batched input gets its batch axis in front of the result's
  axes (``(B, 1, .., *sample)``), unbatched ones broadcast as they are;
- reductions, softmax and friends: the sample's axes move one place right;
- reshape, transpose, broadcast_to, indexing, ``@`` and linear: their arguments are
  rewritten for the leading batch axis;
- convolution and pooling: the batch folds into their own batch axis N;
- any other op (or an unusual case of one above) runs once per sample in a loop and is
  stacked, with a warning, once per vmap call, naming the op.

The batched result is recorded as a node of the sample-level graph too (same op, same
inputs, same parameters), so a reverse pass inside vmap (``vmap(grad(f))``) runs the VJPs on
batched Values: their ops go through the same rules, and a parameter shared by every
sample gets one gradient per sample (the per-sample gradients), not their sum.

Data-dependent constants: a rule that computes a mask from the data (relu's, max's) sees the
whole batch's data, so the mask has the batch axis in front; an array constant with one axis
more than the batched inputs and the batch's size in front is taken as batched.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine
from .engine import Value

__all__ = ["vmap"]


class _Level:
    """One running vmap call: its batch size and the ops it has warned about."""

    __slots__ = ("depth", "size", "warned")

    def __init__(self, size: int, depth: int) -> None:
        self.size, self.depth, self.warned = size, depth, set()


_levels: list[_Level] = []
# batched node -> (its level, the Value holding its data with the batch axis in front)
_info: weakref.WeakKeyDictionary[Value, tuple[_Level, Any]] = weakref.WeakKeyDictionary()


class Batched(Value):
    """A Value that stands for one sample of a batch (see the module's docstring)."""

    __slots__ = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(_info[self][1].shape[1:])

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def is_scalar(self) -> bool:
        return False

    def item(self) -> float:
        raise RuntimeError("vmap: item() (or float(), bool()) of a batched Value depends on "
                           "the sample; vmap maps functions whose ops do not branch on data")

    __bool__ = item  # type: ignore[assignment]
    __float__ = item  # type: ignore[assignment]

    def __repr__(self) -> str:
        level, _inner = _info[self]
        return (f"Batched(sample shape={self.shape}, batch={level.size}, "
                f"level={level.depth}, op={self.op!r})")


class _Made:
    """A stand-in row for `apply` that records a node whose data is already computed."""

    __slots__ = ("name", "out")

    def __init__(self, name: str, out: Any) -> None:
        self.name, self.out = name, out

    def forward(self, *datas: Any, **params: Any) -> Any:
        return self.out


def _wrap(inner: Any, level: _Level, op_name: str = "", inputs: tuple[Any, ...] = (),
          params: dict[str, Any] | None = None) -> Batched:
    """The batched node for `inner` (a Value with the batch in front): a leaf, or the
    node of op `op_name` on `inputs` (recorded, so a reverse pass inside vmap finds it)."""
    if not isinstance(inner, Value):
        inner = Value(inner, requires_grad=False)
    data = inner.data
    if op_name:
        node = engine.apply(_Made(op_name, data), *inputs, **(params or {}))
    else:
        node = Value._leaf(data)
        node.requires_grad = inner.requires_grad
    node.__class__ = Batched
    _info[node] = (level, inner)
    return node


def _level_of(x: Any) -> _Level | None:
    if type(x) is Batched:
        return _info[x][0]
    return None


# ---- the hook the engine calls --------------------------------------------------------------
def batch_op(op: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Value | None:
    """Run `op` on inputs of which some are batched, once for the whole batch; None when
    none is (the ordinary path)."""
    if type(op) is _Made:
        return None
    level = None
    for x in inputs:
        lv = _level_of(x)
        if lv is not None and (level is None or lv.depth > level.depth):
            level = lv
    if level is None:
        return None
    B = level.size
    ins, flags = [], []
    for x in inputs:
        if _level_of(x) is level:
            ins.append(_info[x][1])
            flags.append(True)
        else:
            ins.append(x)
            flags.append(False)
    # a raw array made from batched data (a mask) carries the batch axis in front
    depth = max((len(i.shape) - 1 for i, f in zip(ins, flags) if f), default=0)
    for k, x in enumerate(ins):
        if not flags[k] and isinstance(x, np.ndarray) and x.ndim > depth and x.ndim \
                and x.shape[0] == B and depth >= 0 and _from_batch(x, ins, flags):
            flags[k] = True
    rule = RULES.get(op.name)
    out = rule(op, ins, flags, params, B) if rule is not None else None
    if out is None:
        out = _loop(op, ins, flags, params, level)
    return _wrap(out, level, op.name, inputs, params)


def _from_batch(x: np.ndarray, ins: list[Any], flags: list[bool]) -> bool:
    """True when x's shape is the batch's with a batched input's (broadcast) sample shape."""
    for i, f in zip(ins, flags):
        if f:
            try:
                np.broadcast_shapes(x.shape[1:], tuple(i.shape[1:]))
                return True
            except ValueError:
                continue
    return False


def _loop(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
          level: _Level) -> Any:
    """The fallback: the op once per sample, the results stacked (and a warning)."""
    if op.name not in level.warned:
        level.warned.add(op.name)
        warnings.warn(f"vmap: no batching rule for the op {op.name!r} with these inputs; it "
                      f"runs once per sample ({level.size} times) in a loop", stacklevel=4)
    from .ops.functions import stack
    outs = []
    for b in range(level.size):
        args = [x[b] if f else x for x, f in zip(ins, flags)]
        outs.append(engine.apply(op, *args, **params))
    return stack(outs)


# ---- helpers on raw arrays and Values alike ---------------------------------------------------
def _nd(x: Any, batched: bool) -> int:
    n = len(x.shape) if hasattr(x, "shape") else 0
    return n - 1 if batched else n


def _reshape(x: Any, shape: tuple[int, ...]) -> Any:
    return x.reshape(shape) if isinstance(x, Value) else np.reshape(x, shape)


def _lift(x: Any, to_nd: int) -> Any:
    """A batched x (B, *s) as (B, 1, .., 1, *s) with `to_nd` sample axes."""
    s = tuple(x.shape)
    return _reshape(x, s[:1] + (1,) * (to_nd - (len(s) - 1)) + s[1:])


def _plain(op: Any, ins: list[Any], params: dict[str, Any]) -> Any:
    return engine.apply(op, *ins, **params)


# ---- the rules --------------------------------------------------------------------------------
def _elementwise(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
                 B: int) -> Any:
    nd = max(_nd(x, f) for x, f in zip(ins, flags))
    if "cond" in params:  # where's mask: a constant of the sample's shape (or the batch's)
        cond = params["cond"]
        if cond.ndim and cond.shape[0] == B and cond.ndim > nd:
            nd = max(nd, cond.ndim - 1)
            params = {**params, "cond": _lift(cond, nd)}
        else:
            nd = max(nd, cond.ndim)
    return _plain(op, [_lift(x, nd) if f else x for x, f in zip(ins, flags)], params)


def _axes(axis: Any, nd: int) -> Any:
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, tuple):
        return tuple(a % nd + 1 for a in axis)
    return axis % nd + 1


def _reduction(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
               B: int) -> Any:
    if len(ins) != 1:
        return None
    nd = _nd(ins[0], True)
    if nd == 0:
        if params.get("axis") not in (None, 0, -1, ()):
            return None
        return _plain(op, ins, {**params, "axis": ()}) if op.name in ("sum", "mean", "max",
                                                                       "min") else None
    return _plain(op, ins, {**params, "axis": _axes(params.get("axis"), nd)})


def _reshape_rule(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
                  B: int) -> Any:
    return _plain(op, ins, {**params, "shape": (B, *params["shape"])})


def _transpose(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
               B: int) -> Any:
    nd = _nd(ins[0], True)
    axes = params["axes"]
    axes = tuple(range(nd, 0, -1)) if axes is None else tuple(a % nd + 1 for a in axes)
    return _plain(op, ins, {**params, "axes": (0, *axes)})


def _broadcast(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
               B: int) -> Any:
    shape = tuple(params["shape"])
    return _plain(op, [_lift(ins[0], len(shape))], {**params, "shape": (B, *shape)})


def _index(index: Any) -> tuple[Any, ...]:
    return (slice(None), *(index if isinstance(index, tuple) else (index,)))


def _getitem(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
             B: int) -> Any:
    index = params["index"]
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [p for p in parts if isinstance(p, np.ndarray) and p.dtype.kind in "iub"]
    if len(arrays) > 1 and any(p is None or isinstance(p, slice) for p in parts):
        return None  # advanced indices apart: numpy moves their axis first
    return _plain(op, ins, {**params, "index": _index(index)})


def _index_add(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
               B: int) -> Any:
    return _plain(op, ins, {**params, "index": _index(params["index"]),
                            "shape": (B, *params["shape"])})


def _to_scalar(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
               B: int) -> Any:
    return _reshape(ins[0], (B,))


def _matmul(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
            B: int) -> Any:
    """``a @ b`` for a batch: 1-D operands become (1, k) rows and (k, 1) columns, batched
    operands get the batch axis in front of every other, then numpy's broadcasting matmul
    runs once, and the added axes go."""
    (a, b), (fa, fb) = ins, flags
    na, nb = _nd(a, fa), _nd(b, fb)
    if fa and not fb and nb == 2:  # (B, .., k) @ (k, m): numpy's own broadcasting, one GEMM
        return _plain(op, [a, b], params)
    if na == 1:
        a = _reshape(a, tuple(a.shape[:-1]) + (1, a.shape[-1]))
    if nb == 1:
        b = _reshape(b, tuple(b.shape) + (1,))
    r = max(max(na, 2), max(nb, 2))
    a = _lift(a, r) if fa else a
    b = _lift(b, r) if fb else b
    out = _plain(op, [a, b], params)
    shape = tuple(out.shape)
    if na == 1:
        shape = shape[:-2] + shape[-1:]
    if nb == 1:
        shape = shape[:-1]
    return _reshape(out, shape) if shape != tuple(out.shape) else out


def _linear(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
            B: int) -> Any:
    if flags[1] or flags[2]:  # per-sample weights: x @ wᵀ + b by the rules above
        x, w, b = ins
        wt = _transpose(_TRANSPOSE(), [w], [True], {"axes": None}, B) if flags[1] else w.T
        xw = _matmul(_MATMUL(), [x, wt], [flags[0], flags[1]], {}, B)
        return _elementwise(_ADD(), [xw, b], [flags[0] or flags[1], flags[2]], {}, B)
    return _plain(op, ins, params)


def _fold_n(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
            B: int) -> Any:
    """Convolution and pooling take a batch N already: (B, N, ...) folds into (B·N, ...)
    when only the first input is batched."""
    if not flags[0] or any(flags[1:]):
        return None
    x = ins[0]
    s = tuple(x.shape)
    params = dict(params)
    for key in ("index",):  # pool scatter/gather's chosen entries: per sample, like x
        if key in params:
            idx = np.asarray(params[key])
            if idx.ndim == len(s):
                params[key] = idx.reshape((s[0] * s[1],) + idx.shape[2:])
            else:
                params[key] = np.broadcast_to(idx, (B,) + idx.shape).reshape(
                    (B * idx.shape[0],) + idx.shape[1:])
    if "shape" in params:
        shp = tuple(params["shape"])
        params["shape"] = (B * shp[0],) + shp[1:]
    out = _plain(op, [_reshape(x, (s[0] * s[1],) + s[2:]), *ins[1:]], params)
    return _reshape(out, (s[0], s[1]) + tuple(out.shape[1:]))


def _TRANSPOSE() -> Any:
    return engine.OPS["transpose"]


def _MATMUL() -> Any:
    return engine.OPS["matmul"]


def _ADD() -> Any:
    return engine.OPS["add"]


RULES: dict[str, Callable[..., Any]] = {
    **{name: _elementwise for name in (
        "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "tanh", "sigmoid",
        "relu", "abs", "clip", "leaky_relu", "erf", "gelu", "maximum", "minimum", "where")},
    **{name: _reduction for name in ("sum", "mean", "max", "min", "var", "logsumexp",
                                     "softmax", "log_softmax")},
    "reshape": _reshape_rule, "transpose": _transpose, "broadcast_to": _broadcast,
    "getitem": _getitem, "index_add": _index_add, "to_scalar": _to_scalar,
    "matmul": _matmul, "linear": _linear,
    **{name: _fold_n for name in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
                                  "max_pool1d", "max_pool2d", "avg_pool2d",
                                  "avg_pool2d_backward", "pool_scatter", "pool_gather")},
}


# ---- vmap itself ---------------------------------------------------------------------------------
def _dims(in_dims: Any, n: int) -> list[Any]:
    if isinstance(in_dims, int) or in_dims is None:
        return [in_dims] * n
    dims = list(in_dims)
    if len(dims) != n:
        raise ValueError(f"vmap: in_dims has {len(dims)} entries for {n} arguments")
    return dims


def vmap(f: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0) -> Callable[..., Any]:
    """f mapped over axis `in_dims` of its arguments (None: not mapped; one entry per
    argument, or one int for all), the results stacked along `out_dims`, as torch.func.vmap."""
    from .func import _as_value, tree_flatten, tree_unflatten

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dims = _dims(in_dims, len(args))
        sizes = set()
        for a, d in zip(args, dims):
            if d is not None:
                for leaf in tree_flatten(a)[0]:
                    sizes.add(np.shape(leaf.data if isinstance(leaf, Value) else leaf)[d])
        if len(sizes) != 1:
            raise ValueError("vmap: the mapped arguments must share one batch size; got "
                             f"{sorted(sizes) or 'no mapped argument'}")
        level = _Level(sizes.pop(), len(_levels))
        _levels.append(level)
        previous = engine._interpose
        engine._interpose = batch_op
        try:
            with engine.enable_grad():
                new = []
                for a, d in zip(args, dims):
                    if d is None:
                        new.append(a)
                        continue
                    leaves, spec = tree_flatten(a)
                    new.append(tree_unflatten([_enter(_as_value(x), d, level) for x in leaves],
                                              spec))
                out = f(*new, **kwargs)
                leaves, spec = tree_flatten(out)
                odims = _dims(out_dims, len(leaves)) if not isinstance(out_dims, int) \
                    else [out_dims] * len(leaves)
                result = [_leave(_as_value(x), d, level) for x, d in zip(leaves, odims)]
        finally:
            _levels.pop()
            engine._interpose = previous if _levels else None
        return tree_unflatten(result, spec)
    return wrapper


def _enter(x: Value, d: int, level: _Level) -> Batched:
    """x with its axis d moved in front, as one sample of the batch."""
    if d % max(x.ndim, 1) != 0:
        axes = list(range(x.ndim))
        axes.insert(0, axes.pop(d % x.ndim))
        x = x.transpose(*axes)
    return _wrap(x, level)


def _leave(x: Value, d: int, level: _Level) -> Value:
    """A result as the batch: its data with the batch axis at `d` (an unbatched result is
    repeated for every sample)."""
    if _level_of(x) is level:
        inner = _info[x][1]
    else:
        inner = x.reshape((1, *x.shape)).broadcast_to((level.size, *x.shape))
    nd = len(inner.shape)
    if d is None or d % nd == 0:
        return inner
    axes = list(range(1, nd))
    axes.insert(d % nd, 0)
    return inner.transpose(*axes)


def ones_like(v: Value) -> Value | None:
    """The seed dL/dL = 1 for a batched scalar (one per sample), or None for a plain one."""
    if type(v) is not Batched:
        return None
    level, inner = _info[v]
    return _wrap(np.ones(inner.shape, dtype=inner.dtype), level)


def match(t: Value, like: Value) -> Value:
    """A tangent or cotangent `t` for a batched `like`, batched too (the same for every
    sample when t is not): rules that read masks from the data then meet batched operands."""
    if type(like) is not Batched or _level_of(t) is _info[like][0]:
        return t
    level = _info[like][0]
    return _wrap(t.reshape((1, *t.shape)).broadcast_to((level.size, *t.shape)), level)


def _join(op: Any, ins: list[Any], flags: list[bool], params: dict[str, Any],
          B: int) -> Any:
    """stack / concatenate: unbatched inputs repeated for each sample, the axis moved."""
    nd = max(_nd(x, f) for x, f in zip(ins, flags))
    parts = []
    for x, f in zip(ins, flags):
        if not f:
            x = x if isinstance(x, Value) else Value(x, requires_grad=False)
            x = x.reshape((1, *x.shape)).broadcast_to((B, *x.shape))
        parts.append(x)
    axis = params["axis"] % (nd + 1 if op.name == "stack" else nd) + 1
    return _plain(op, parts, {**params, "axis": axis})


RULES["stack"] = RULES["concatenate"] = _join


def per_sample(rule: Callable[..., Any]) -> Callable[..., Any]:
    """For a rule (a VJP, a JVP) that reads its inputs' data with a sample's shape in mind
    (max's mask, max pooling's chosen entries): inside vmap it runs once per sample, on each
    sample's slices, and the answers are stacked; outside it is the rule itself."""
    @functools.wraps(rule)
    def wrapper(*args: Any, **params: Any) -> Any:
        levels = [_info[a][0] for a in args if type(a) is Batched]
        if not levels:
            return rule(*args, **params)
        level = max(levels, key=lambda lv: lv.depth)
        from .ops.functions import stack
        outs = []
        for b in range(level.size):
            outs.append(rule(*[_info[a][1][b] if _level_of(a) is level else a for a in args],
                             **params))
        return _wrap(stack(outs), level)
    return wrapper
