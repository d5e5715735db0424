"""Tracing: a model's forward pass, run once, read back as a graph of table ops.

The engine records every op a forward pass runs: each Value knows its ``.op`` (a row of
``autograd.engine.OPS``), its ``.inputs`` (Values and constants) and its ``.params``. So
running a module with its own ``forward`` on an example input and walking back from the
outputs gives the model's computation as a list of steps, whatever Python the forward was
written in. `nn.to_torch` and `nn.export_onnx` turn those steps into torch and ONNX
operators, one table entry per op (nn/interop_ops.py).

What a step's arguments are made of is sorted out here: the model's **parameters** (found
by identity among ``model.named_parameters()``), its **buffers** (BatchNorm's running
statistics, by identity), the **inputs** (the example's Values or arrays, also found when a
forward passes an input array as an op parameter, as an Embedding's indices), **earlier
steps**, and **constants** (everything else: numbers, masks, positions).

The batch axis is kept free by tracing twice, at the example's batch size N and at N + 1,
and comparing: a number in the ops' parameters that differs between the two traces (a
reshape to ``(N·T, E)``, a zero state of N rows) is written as ``a × N + c`` (a `Dim`), a
constant made of one repeated value is written as that value spread to its shape. What
differs in any other way (the forward's steps depend on the batch size) is refused by name.
The forward runs in ``eval()`` mode: Dropout off, BatchNorm with its running statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Value

from .module import Module

__all__ = ["Dim", "Filled", "Graph", "Ref", "Step", "trace"]


class TraceError(TypeError):
    """A forward pass that cannot be read back as a graph (named in the message)."""


@dataclass(frozen=True)
class Ref:
    """Where a step's argument comes from: ``kind`` is "input", "param", "buffer", "step"
    or "const"; ``key`` the input's position, the parameter's or buffer's dotted name, the
    step's index or the constant's index."""

    kind: str
    key: Any


@dataclass(frozen=True)
class Dim:
    """An integer that follows the batch size N: ``a × N + c``."""

    a: int
    c: int

    def value(self, n: int) -> int:
        return self.a * n + self.c


@dataclass(frozen=True)
class Filled:
    """A constant that is one value repeated over a shape whose entries may be `Dim`s (a
    zero initial state of N rows, say)."""

    value: float
    shape: tuple[Any, ...]
    dtype: str


@dataclass
class Step:
    """One op of the forward pass: its table name, its arguments, its parameters (with
    `Dim`s where they follow the batch) and the shape it made at the example's size."""

    op: str
    args: list[Ref]
    params: dict[str, Any]
    shape: tuple[int, ...]
    dtype: str


@dataclass
class Graph:
    """A traced forward pass: the inputs (example shapes and dtypes), the steps in an order
    where every argument comes first, the outputs (Refs, nested as the model returned
    them), the parameters and buffers by name, the constants, and the example batch size."""

    inputs: list[tuple[tuple[int, ...], str]]
    steps: list[Step]
    outputs: Any
    params: dict[str, Value]
    buffers: dict[str, np.ndarray]
    consts: list[Any] = field(default_factory=list)
    batch: int = 1

    def ops(self) -> list[str]:
        return sorted({s.op for s in self.steps})


# ---- one trace --------------------------------------------------------------------------

def _as_inputs(example: Any) -> list[Any]:
    """The example as a list of model arguments: floats as Values (the graph starts at
    them), integer arrays (token ids) as arrays."""
    items = list(example) if isinstance(example, tuple) else [example]
    out = []
    for x in items:
        a = np.asarray(x.data if isinstance(x, Value) else x)
        if a.dtype.kind in "biu":
            out.append(a)
        elif a.dtype.kind == "f":
            out.append(Value(a))
        else:
            raise TraceError(f"example input of dtype {a.dtype} cannot be traced; give a float "
                             f"or integer array")
    return out


def _flat_outputs(out: Any, where: str = "output") -> list[Value]:
    items = out if isinstance(out, tuple | list) else [out]
    flat: list[Value] = []
    for i, item in enumerate(items):
        if isinstance(item, tuple | list):
            flat.extend(_flat_outputs(item, f"{where}[{i}]"))
        elif isinstance(item, Value):
            flat.append(item)
        else:
            raise TraceError(f"the forward returned a {type(item).__name__} at {where}; only "
                             f"Values (or tuples of them) can be traced")
    return flat


def _order(outputs: list[Value]) -> list[Value]:
    """Every Value the outputs depend on, each after its inputs (an iterative depth-first
    walk: no recursion, so deep graphs are fine)."""
    order: list[Value] = []
    done: set[int] = set()
    stack: list[tuple[Value, bool]] = [(v, False) for v in reversed(outputs)]
    while stack:
        v, expanded = stack.pop()
        if id(v) in done:
            continue
        if expanded:
            done.add(id(v))
            order.append(v)
            continue
        stack.append((v, True))
        stack.extend((p, False) for p in reversed(v.parents) if id(p) not in done)
    return order


class _Recorder:
    """Sorts the leaves and constants of one forward pass into Refs."""

    def __init__(self, model: Module, inputs: list[Any]) -> None:
        self.params = dict(model.named_parameters())
        self.param_ids = {id(v): name for name, v in self.params.items()}
        self.buffers = dict(model.named_buffers())
        self.buffer_ids = {id(a): name for name, a in self.buffers.items()}
        self.inputs = inputs
        self.input_data = [x.data if isinstance(x, Value) else x for x in inputs]
        self.consts: list[Any] = []
        self.step_of: dict[int, int] = {}

    def input_of(self, data: Any) -> int | None:
        """The input whose data this is (the same array, or a copy of it: a forward may
        wrap its input in a fresh Value)."""
        if not isinstance(data, np.ndarray):
            return None
        for i, a in enumerate(self.input_data):
            if data is a or (data.shape == a.shape and data.dtype.kind == a.dtype.kind
                             and np.may_share_memory(data, a)):
                return i
        for i, a in enumerate(self.input_data):
            if data.shape == a.shape and a.size > 1 and np.array_equal(data, a):
                return i
        return None

    def const(self, value: Any) -> Ref:
        self.consts.append(value)
        return Ref("const", len(self.consts) - 1)

    def ref(self, x: Any) -> Ref:
        if isinstance(x, Value):
            if id(x) in self.step_of:
                return Ref("step", self.step_of[id(x)])
            if id(x) in self.param_ids:
                return Ref("param", self.param_ids[id(x)])
            for i, v in enumerate(self.inputs):
                if x is v:
                    return Ref("input", i)
            i = self.input_of(x.data)
            if i is not None:
                return Ref("input", i)
            x = x.data
        if isinstance(x, np.ndarray):
            if id(x) in self.buffer_ids:
                return Ref("buffer", self.buffer_ids[id(x)])
            i = self.input_of(x)
            if i is not None:
                return Ref("input", i)
        return self.const(x)

    def param(self, value: Any) -> Any:
        """An op parameter: an input array passed as one (indices) becomes its Ref."""
        if isinstance(value, np.ndarray) and value.dtype.kind in "biu":
            i = self.input_of(value)
            if i is not None:
                return Ref("input", i)
        if isinstance(value, tuple):
            return tuple(self.param(v) for v in value)
        return value


def _trace_once(model: Module, example: Any) -> Graph:
    inputs = _as_inputs(example)
    was_training = model.training
    model.eval()
    try:
        out = model(*inputs)
    finally:
        model.train(was_training)
    flat = _flat_outputs(out)
    rec = _Recorder(model, inputs)
    steps: list[Step] = []
    for v in _order(flat):
        if not v.op:
            continue  # a leaf: a parameter, an input or a constant, found when used
        if v.op not in _known_ops():
            raise TraceError(f"op {v.op!r} is not in the derivative table")
        args = [rec.ref(x) for x in v.inputs]
        params = {k: rec.param(p) for k, p in v.params.items()}
        rec.step_of[id(v)] = len(steps)
        steps.append(Step(v.op, args, params, tuple(np.shape(v.data)),
                          np.asarray(v.data).dtype.name))

    def out_ref(o: Any) -> Any:
        if isinstance(o, tuple | list):
            return tuple(out_ref(i) for i in o)
        return rec.ref(o)

    shapes = [(tuple(np.shape(d)), np.asarray(d).dtype.name) for d in rec.input_data]
    n = shapes[0][0][0] if shapes and shapes[0][0] else 1
    return Graph(shapes, steps, out_ref(out), rec.params, rec.buffers, rec.consts, n)


def _known_ops() -> Any:
    from autograd.engine import OPS
    return OPS


# ---- two traces: the batch axis kept free ---------------------------------------------------

def _grown(example: Any, k: int) -> Any:
    """The example with `k` more samples (its first ones, repeated) on axis 0 of every
    input."""
    items = list(example) if isinstance(example, tuple) else [example]
    grown = []
    for x in items:
        a = np.asarray(x.data if isinstance(x, Value) else x)
        grown.append(np.concatenate([a, a[np.arange(k) % len(a)]]))
    return tuple(grown) if isinstance(example, tuple) else grown[0]


def trace(model: Module, example: Any, dynamic_batch: bool = True) -> Graph:
    """The forward pass of `model` on `example` (an array, a Value, or a tuple of them for
    several inputs) as a `Graph`; with `dynamic_batch` every size that follows the batch
    is a `Dim`.

    A forward may take another path for small batches than for larger ones, computing the
    same numbers (nn.MultiheadAttention writes a tiny attention out step by step): when
    the example's batch and one more run different ops, the next sizes up are tried, and
    the first two that agree give the graph."""
    if not isinstance(model, Module):
        raise TypeError(f"trace needs an nn.Module, got {type(model).__name__}")
    g = _trace_once(model, example)
    first = np.shape(example[0] if isinstance(example, tuple) else np.asarray(
        example.data if isinstance(example, Value) else example))
    if not dynamic_batch or not first:
        return g
    error = None
    for k in range(4):
        try:
            base = g if k == 0 else _trace_once(model, _grown(example, k))
            return _merge(base, _trace_once(model, _grown(example, k + 1)),
                          type(model).__name__)
        except TraceError as e:
            error = error or e
        except Exception as e:  # noqa: BLE001 (any failure: the model takes only this batch)
            raise TraceError(f"{type(model).__name__} failed on a batch of {g.batch + k + 1} "
                             f"(traced at {g.batch} to find the batch axis): {e}") from None
    raise error


def _merge(g: Graph, g2: Graph, name: str) -> Graph:
    """`g` with whatever differs in `g2` (one more sample) written in terms of N."""
    n = g.batch
    where = f"{name}: the forward's steps depend on the batch size"
    if [s.op for s in g.steps] != [s.op for s in g2.steps]:
        raise TraceError(f"{where} (a batch of {n + 1} ran other ops than a batch of {n}); "
                         f"convert with dynamic_batch=False for this batch size only")
    for s, s2 in zip(g.steps, g2.steps):
        if s.args != s2.args:
            raise TraceError(f"{where} (op {s.op!r} takes other arguments)")
        s.params = {k: _sym(v, s2.params[k], n, f"{where} (op {s.op!r}, {k})")
                    for k, v in s.params.items()}
        s.shape = _sym(s.shape, s2.shape, n, where)
    g.consts = [_sym_const(c, c2, n, where) for c, c2 in zip(g.consts, g2.consts)]
    return g


def _sym(a: Any, b: Any, n: int, where: str) -> Any:
    """a (at batch n) and b (at n + 1) as one description: equal parts kept, integers
    that differ as a `Dim`."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or isinstance(a, str):
        if a != b:
            raise TraceError(f"{where}: {a!r} became {b!r}")
        return a
    if isinstance(a, int | np.integer) and isinstance(b, int | np.integer):
        return int(a) if a == b else Dim(int(b - a), int(a - (b - a) * n))
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(_sym(x, y, n, where) for x, y in zip(a, b))
    if isinstance(a, slice) and isinstance(b, slice):
        return slice(*(_sym(x, y, n, where) for x, y in ((a.start, b.start), (a.stop, b.stop),
                                                         (a.step, b.step))))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape == b.shape and np.array_equal(a, b):
            return a
        raise TraceError(f"{where}: an array parameter changes with the batch size")
    if isinstance(a, float | Ref) or a is Ellipsis:
        if a != b and not (isinstance(a, float) and np.isnan(a) and np.isnan(b)):
            raise TraceError(f"{where}: {a!r} became {b!r}")
        return a
    if a != b:
        raise TraceError(f"{where}: {a!r} became {b!r}")
    return a


def _sym_const(a: Any, b: Any, n: int, where: str) -> Any:
    """A constant that grows with the batch is kept when it is one repeated value."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        return a
    if a.shape == b.shape:
        return a  # (a constant of the same shape: the one traced at the example's size)
    if a.size and np.all(a == a.flat[0]) and b.size and np.all(b == a.flat[0]):
        return Filled(float(a.flat[0]), _sym(a.shape, b.shape, n, where), a.dtype.name)
    raise TraceError(f"{where}: a constant of shape {a.shape} (at batch {n}) holds different "
                     f"values at batch {n + 1}; build it from the input instead")
