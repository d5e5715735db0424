"""A traced model (nn/trace.py) as a torch module, and as an ONNX graph.

`traced_torch_module(graph, model)` builds a ``torch.nn.Module`` that holds the model's
parameters and buffers (copied) and whose ``forward`` runs the traced steps in order, each
with its op's torch entry from nn/interop_ops.py: an interpreter over the recorded graph, so
torch's autograd, optimizers and DistributedDataParallel see ordinary torch operations.
The batch size is free; an input of another shape (a sequence of another length) has the
nn model traced again on it, once per shape, the same torch parameters used throughout.
`onnx_steps(graph, g)` adds the same steps to an ONNX graph with each op's ONNX entry.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from .interop_base import ConversionError, OnnxGraph
from .interop_ops import RULES
from .module import Module
from .trace import Dim, Filled, Graph, Ref

__all__ = ["OnnxSteps", "onnx_steps", "traced_torch_module"]


def _rule(op: str, side: str) -> Any:
    entry = RULES.get(op)
    fn = getattr(entry, side, None) if entry is not None else None
    if fn is None:
        raise ConversionError(f"op {op!r} has no {side} entry in nn/interop_ops.py; add one "
                              f"to convert models that use it")
    return fn


def _key(name: str) -> str:
    """A dotted parameter name as a torch attribute name (torch refuses dots there)."""
    return name.replace(".", "__")


# ---- torch ---------------------------------------------------------------------------------

@cache
def _traced_class() -> type:
    import torch

    class TracedModule(torch.nn.Module):
        """A model traced from nn, run op by op with torch. ``nn_names`` maps each torch
        parameter and buffer back to its name in the nn model; `nn.from_torch` uses it
        (with the model's class and config) to bring the weights back."""

        def __init__(self, graph: Graph, model: Module, dynamic: bool = True) -> None:
            super().__init__()
            self.model_name = type(model).__name__
            try:
                self.nn_config = model.config()
            except TypeError:  # the class cannot describe how to rebuild it
                self.nn_config = None
            self.weights = torch.nn.ParameterDict({
                _key(n): torch.nn.Parameter(torch.tensor(np.array(v.data)),
                                            requires_grad=bool(v.requires_grad))
                for n, v in graph.params.items()})
            self.stats = torch.nn.Module()
            for n, a in graph.buffers.items():
                self.stats.register_buffer(_key(n), torch.tensor(np.array(a)))
            self.nn_names = {**{f"weights.{_key(n)}": n for n in graph.params},
                             **{f"stats.{_key(n)}": n for n in graph.buffers}}
            consts: list[Any] = []
            for i, c in enumerate(graph.consts):
                if isinstance(c, np.ndarray):
                    name = f"const_{i}"
                    self.register_buffer(name, torch.as_tensor(c.copy()), persistent=False)
                    consts.append(name)
                else:
                    consts.append(c)
            # One plan (steps, outputs, constants) per input shape: another sequence length
            # is traced again, with the nn model kept for that (not a torch submodule).
            self.nn_model, self.dynamic = model, dynamic
            self.plans = {self._shape_key([s for s, _ in graph.inputs]):
                          (graph.steps, graph.outputs, consts)}

        @property
        def steps(self) -> list[Any]:
            return next(iter(self.plans.values()))[0]

        def _shape_key(self, shapes: list[tuple[int, ...]]) -> tuple[Any, ...]:
            return tuple(tuple(s[1:]) if self.dynamic and s else tuple(s) for s in shapes)

        def _plan(self, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
            key = self._shape_key([tuple(x.shape) for x in inputs])
            plan = self.plans.get(key)
            if plan is None:  # a new length: trace the nn model on these very inputs
                from .trace import trace
                arrays = [x.detach().cpu().numpy() for x in inputs]
                graph = trace(self.nn_model, tuple(arrays) if len(arrays) > 1 else arrays[0],
                              self.dynamic)
                unknown = {_key(n) for n in graph.params} - set(self.weights)
                if unknown:
                    raise ConversionError(f"{self.model_name} uses other parameters at "
                                          f"input shape {key}: {sorted(unknown)}")
                consts = [torch.as_tensor(c.copy()) if isinstance(c, np.ndarray) else c
                          for c in graph.consts]
                plan = self.plans[key] = (graph.steps, graph.outputs, consts)
            return plan

        def _value(self, ref: Ref, inputs: tuple[Any, ...], env: list[Any], n: int,
                   consts: list[Any]) -> Any:
            if ref.kind == "step":
                return env[ref.key]
            if ref.kind == "input":
                return inputs[ref.key]
            if ref.kind == "param":
                return self.weights[_key(ref.key)]
            if ref.kind == "buffer":
                return getattr(self.stats, _key(ref.key))
            c = consts[ref.key]
            if isinstance(c, str):
                return getattr(self, c)
            if isinstance(c, Filled):
                return torch.full(_resolve(c.shape, n, inputs), c.value,
                                  dtype=getattr(torch, c.dtype))
            return c

        def forward(self, *inputs: Any) -> Any:
            steps, outputs, consts = self._plan(inputs)
            n = int(inputs[0].shape[0]) if inputs and inputs[0].dim() else 1
            env: list[Any] = []
            for step in steps:
                args = [self._value(r, inputs, env, n, consts) for r in step.args]
                params = {k: _resolve(v, n, inputs) for k, v in step.params.items()}
                env.append(_rule(step.op, "torch")(torch, *args, **params))

            def out(o: Any) -> Any:
                if isinstance(o, tuple):
                    return tuple(out(i) for i in o)
                return self._value(o, inputs, env, n, consts)
            return out(outputs)

        def extra_repr(self) -> str:
            return f"traced from nn.{self.model_name}: {len(self.steps)} steps"

    TracedModule.__module__ = __name__
    return TracedModule


def _resolve(v: Any, n: int, inputs: tuple[Any, ...]) -> Any:
    """Parameters at batch size n: `Dim`s as ints, input Refs as the inputs."""
    if isinstance(v, Dim):
        return v.value(n)
    if isinstance(v, Ref):
        return inputs[v.key]
    if isinstance(v, tuple):
        return tuple(_resolve(i, n, inputs) for i in v)
    if isinstance(v, slice):
        return slice(_resolve(v.start, n, inputs), _resolve(v.stop, n, inputs),
                     _resolve(v.step, n, inputs))
    return v


def traced_torch_module(graph: Graph, model: Module, dynamic: bool = True) -> Any:
    for op in graph.ops():
        _rule(op, "torch")
    return _traced_class()(graph, model, dynamic)


# ---- ONNX ----------------------------------------------------------------------------------

class OnnxSteps(OnnxGraph):
    """An ONNX graph under construction for traced steps: knows each value's shape at the
    example's batch size, and builds shapes whose entries follow the batch (`ints`)."""

    def __init__(self, graph: Graph, input_names: list[str], dynamic: bool = True) -> None:
        super().__init__()
        self.graph, self.dynamic = graph, dynamic
        self.input_names = input_names
        self.shapes: dict[str, tuple[Any, ...]] = {}
        self._batch: str | None = None

    def shape(self, name: str) -> tuple[int, ...]:
        """The static shape of a value at the example's batch size."""
        n = self.graph.batch
        return tuple(d.value(n) if isinstance(d, Dim) else d for d in self.shapes[name])

    def static_shape(self, name: str, what: str) -> tuple[int, ...]:
        if any(isinstance(d, Dim) for d in self.shapes[name]):
            raise ConversionError(f"ONNX export: {what} on a value whose shape follows the "
                                  f"batch is not supported with a free batch axis; export "
                                  f"with dynamic_batch=False")
        return self.shape(name)

    def const_bool(self, a: Any) -> str:
        name = self._name("mask")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(a, bool), name))
        return name

    def batch(self) -> str:
        """[N], the first input's batch size, as a 1-element int64 tensor (made once)."""
        if self._batch is None:
            self._batch = self.dim_of(self.input_names[0], 0)
        return self._batch

    def dim_of(self, name: str, axis: int) -> str:
        return self.op("Gather", [self.op("Shape", [name]), self.const(np.array([axis]))],
                       axis=0)

    def ints(self, values: Any) -> str:
        """A 1-D int64 tensor of `values`; `Dim` entries computed from the batch size."""
        values = tuple(values)
        if not any(isinstance(v, Dim) for v in values):
            return self.const(np.array(values, dtype=np.int64).reshape(len(values)))
        pieces = []
        for v in values:
            if isinstance(v, Dim):
                p = self.batch()
                if v.a != 1:
                    p = self.op("Mul", [p, self.const(np.array([v.a]))])
                if v.c:
                    p = self.op("Add", [p, self.const(np.array([v.c]))])
                pieces.append(p)
            else:
                pieces.append(self.const(np.array([v])))
        return self.op("Concat", pieces, axis=0)

    def index_input(self, p: Any) -> str:
        """An index array: a graph input (the model's token ids) or a constant."""
        if isinstance(p, Ref):
            return self.input_names[p.key]
        return self.const(np.asarray(p).astype(np.int64))


def onnx_steps(graph: Graph, g: OnnxSteps) -> list[str]:
    """Add every step to `g`; returns the names of the outputs, flattened in order."""
    for op in graph.ops():
        _rule(op, "onnx")
    names: list[str] = []
    weights: dict[tuple[str, Any], str] = {}

    def value(ref: Ref) -> str:
        if ref.kind == "step":
            return names[ref.key]
        if ref.kind == "input":
            return g.input_names[ref.key]
        if (ref.kind, ref.key) in weights:
            return weights[(ref.kind, ref.key)]
        if ref.kind == "param":
            data = graph.params[ref.key].data
        elif ref.kind == "buffer":
            data = graph.buffers[ref.key]
        else:
            data = graph.consts[ref.key]
        if isinstance(data, Filled):
            name = g.op("Expand", [g.const(np.array(data.value, dtype=np.float32)),
                                   g.ints(data.shape)])
            g.shapes[name] = data.shape
        else:
            name = g.const(np.asarray(data))
            g.shapes[name] = np.shape(data)
        weights[(ref.kind, ref.key)] = name
        return name

    for name, (shape, _) in zip(g.input_names, graph.inputs):
        free = g.dynamic and shape
        g.shapes[name] = (Dim(1, 0),) + tuple(shape[1:]) if free else tuple(shape)
    for step in graph.steps:
        args = [value(r) for r in step.args]
        out = _rule(step.op, "onnx")(g, *args, **step.params)
        names.append(out)
        g.shapes[out] = step.shape

    flat: list[str] = []

    def collect(o: Any) -> None:
        if isinstance(o, tuple):
            for i in o:
                collect(i)
        else:
            flat.append(value(o))
    collect(graph.outputs)
    return flat
