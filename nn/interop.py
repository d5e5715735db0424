"""Interoperability: a model goes to PyTorch and comes back, or out to ONNX.

- `to_torch(model, example_input=None)`: an equivalent ``torch.nn.Module`` (weights
  copied, dtype and train/eval mode kept), for training at scale or with the rest of
  PyTorch's tools (DistributedDataParallel included: demos/ddp.py).
- `from_torch(module)`: this project's model from a ``torch.nn.Module`` built of the layers
  it knows (or one that `to_torch` traced), to be drawn (`draw_graph`) and explained
  (`explain`) number by number.
- `export_onnx(model, path, example_input)`: an ONNX file (float32, a dynamic batch axis,
  evaluation semantics) that any ONNX runtime runs and Netron draws.

Two ways to convert. A model built only of the library's layers (`Sequential`, `MLP`,
`Conv2d`, `GRU`, ...) converts layer by layer: one `Rule` per layer in
`nn/interop_layers.py`, giving torch's own modules (``torch.nn.Linear``...) and ONNX's own
operators (``LSTM``...). A module with its own ``forward`` is converted by tracing
(nn/trace.py): its forward runs once on `example_input`, the engine's record of that run
is the model's graph, and each op of it maps to torch and ONNX by one entry of
nn/interop_ops.py. torch and onnx are imported only when these functions are called (the
`interop` extra), so the rest of the project never needs them.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from autograd import Value, no_grad
from autograd._files import atomic_write

from . import interop_layers  # noqa: F401 (registers one Rule per layer)
from .interop_base import (
    OPSET,
    OURS,
    ConversionError,
    OnnxGraph,
    Rule,
    _Context,
    _from_torch_rule,
    _import_torch,
    _is_nn_class,
    _rule_for,
    rule,
)
from .module import Module, model_class, unknown_class_message

__all__ = ["ConversionError", "Rule", "export_onnx", "from_torch", "rule", "to_torch"]


def _by_layers(model: Module) -> bool:
    """True when every module of the tree is one of the library's layers with a Rule."""
    return all(type(m).__name__ in OURS and _is_nn_class(type(m)) for m in model.modules())


def _needs_example(model: Module, fn: str) -> ConversionError:
    path, first = next((p, m) for p, m in model.named_modules()
                       if not (type(m).__name__ in OURS and _is_nn_class(type(m))))
    where = f" at {path!r}" if path else ""
    return ConversionError(
        f"{fn}: {type(first).__name__}{where} has its own forward (no layer rule converts "
        f"it); pass example_input (one batch) so the model's forward can be traced")


def to_torch(model: Module, example_input: Any = None, *, dynamic_batch: bool = True) -> Any:
    """An equivalent ``torch.nn.Module``: weights and buffers copied (not shared), float64
    or float32 kept, the same train/eval mode.

    A model made of the library's layers becomes torch's own modules. A module with its own
    ``forward`` is traced on `example_input` (one batch; a tuple for several inputs) and
    becomes a module that runs the recorded ops with torch, for any batch size unless
    ``dynamic_batch=False`` (an input of another shape, a sequence of another length, is
    traced again); it computes as the model in ``eval()`` mode did when traced (Dropout off,
    BatchNorm's running statistics), and `from_torch` brings it back."""
    if not isinstance(model, Module):
        raise TypeError(f"to_torch needs an nn.Module, got {type(model).__name__}")
    torch = _import_torch()
    if not _by_layers(model):
        if example_input is None:
            raise _needs_example(model, "to_torch")
        from .interop_traced import traced_torch_module
        from .trace import trace
        out = traced_torch_module(trace(model, example_input, dynamic_batch), model,
                                  dynamic_batch)
        _check_traced(model, out, example_input, torch)
        return out.train(model.training)
    out = _rule_for(model, "").to_torch(model, _Context(torch, None))
    return out.train(model.training)


def _check_traced(model: Module, module: Any, example: Any, torch: Any) -> None:
    """The traced module must give the model's own outputs on the example: a last check
    that every step's torch entry computes what the engine's op did."""
    items = list(example) if isinstance(example, tuple) else [example]
    arrays = [np.asarray(x.data if isinstance(x, Value) else x) for x in items]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            want = model(*[a if a.dtype.kind in "biu" else Value(a) for a in arrays])
        with torch.no_grad():
            got = module(*[torch.as_tensor(a) for a in arrays])
    finally:
        model.train(was_training)
    wants = want if isinstance(want, tuple | list) else (want,)
    gots = got if isinstance(got, tuple | list) else (got,)
    for w, g in zip(_flat(wants), _flat(gots)):
        single = np.asarray(w.data).dtype == np.float32 or g.dtype == torch.float32
        tol = 1e-4 if single else 1e-8
        w = np.asarray(w.data, dtype=np.float64)
        g = g.detach().cpu().numpy().astype(np.float64)
        if w.shape != g.shape or not np.allclose(g, w, rtol=tol, atol=tol * max(
                1.0, float(np.abs(w).max(initial=0.0)))):
            raise ConversionError(
                f"to_torch: the traced {type(model).__name__} does not reproduce the model on "
                f"example_input (shapes {w.shape} and {g.shape}); a step of its forward "
                f"has no faithful torch entry in nn/interop_ops.py")


def _flat(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(_flat(item) if isinstance(item, tuple | list) else [item])
    return out


def from_torch(module: Any) -> Module:
    """This project's model from a ``torch.nn.Module`` made of the layers nn knows
    (``Linear``, ``Sequential``, activations, ``Conv1d/2d``, ...), or from one `to_torch`
    traced (the model's class, registered with `nn.register`, is built again from its
    config): weights copied, dtype and mode kept. Raises ConversionError naming the first
    module it cannot convert."""
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    _check_convertible(module, torch)
    if type(module).__name__ == "TracedModule" and type(module).__module__ == \
            "nn.interop_traced":
        return _from_traced(module)
    floats = [p.dtype for p in [*module.parameters(), *module.buffers()]
              if p.dtype.is_floating_point]
    # a module without weights computes in any dtype: nn's default, float64, then
    dtype = np.float32 if floats and floats[0] == torch.float32 else np.float64
    out = _from_torch_rule(module, "").from_torch(module, _Context(torch, dtype))
    return out.train(module.training)


def _check_convertible(module: Any, torch: Any) -> None:
    """What no layer's rule can carry over, refused by name before anything is converted:
    hooks (they change what a module computes, and nn has none) and weights that are not
    float32 or float64 (complex would lose its imaginary part; half precision would change
    the numbers' precision without saying so)."""
    hooks = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
             "_backward_pre_hooks")
    for path, m in module.named_modules():
        found = [h.strip("_").replace("_", " ")[:-1] for h in hooks if getattr(m, h, None)]
        if found:
            where = f" at {path!r}" if path else ""
            raise ConversionError(f"torch {type(m).__name__}{where} has a {found[0]} (hooks "
                                  "change what a module computes and have no counterpart in "
                                  "nn); remove it before converting")
    globals_ = [getattr(torch.nn.modules.module, f"_global{h}", None) for h in hooks]
    if any(globals_):
        raise ConversionError("a global torch module hook is registered (it would change "
                              "what every module computes); remove it before converting")
    tensors = [*module.named_parameters(), *module.named_buffers()]
    for name, t in tensors:
        if (t.dtype.is_floating_point or t.dtype.is_complex) \
                and t.dtype not in (torch.float32, torch.float64):
            owner = module.get_submodule(name.rpartition(".")[0]) if "." in name else module
            raise ConversionError(
                f"torch {type(owner).__name__} weight {name!r} has dtype {t.dtype}; nn "
                f"computes in float32 or float64 (convert the model first with .float() or "
                f".double(){'; a complex weight has no real counterpart' if t.dtype.is_complex else ''})")


def _from_traced(module: Any) -> Module:
    """The traced model's class built from its config, then the torch weights copied in."""
    cls = model_class(module.model_name)
    if cls is None:
        raise ConversionError(f"from_torch: {unknown_class_message(module.model_name)}")
    if module.nn_config is None:
        raise ConversionError(f"from_torch: {module.model_name} could not describe its "
                              f"constructor arguments when it was traced; define its config()")
    model = cls.from_config(module.nn_config)
    state = model.state_dict()
    for key, tensor in module.state_dict().items():
        name = module.nn_names.get(key)
        if name is not None:
            state[name] = tensor.detach().cpu().numpy().astype(np.asarray(state[name]).dtype)
    model.load_state_dict(state)
    return model.train(module.training)


def _shapes(out: Any) -> list[tuple[int, ...]]:
    items = out if isinstance(out, tuple | list) else (out,)
    flat: list[Any] = []
    for item in items:
        flat.extend(item if isinstance(item, tuple | list) else (item,))
    return [np.shape(v.data if isinstance(v, Value) else v) for v in flat]


def export_onnx(model: Module, path: str | os.PathLike, example_input: Any, *,
                dynamic_batch: bool = True) -> str:
    """Write `model` as an ONNX file (evaluation semantics: Dropout off, BatchNorm's running
    statistics) with float32 weights and a dynamic first (batch) axis; `example_input`
    (one batch) fixes the other axes. A module with its own ``forward`` is traced on it
    (see `to_torch`). The file passes ``onnx.checker.check_model``. Returns the path."""
    if not isinstance(model, Module):
        raise TypeError(f"export_onnx needs an nn.Module, got {type(model).__name__}")
    if not _by_layers(model):
        return _export_traced(model, path, example_input, dynamic_batch)
    g = OnnxGraph()
    helper, tp = g.onnx.helper, g.onnx.TensorProto
    x = np.asarray(example_input.data if isinstance(example_input, Value) else example_input)
    if x.ndim < 2:
        raise ValueError(f"export_onnx: example_input must be a batch (its first axis the "
                         f"batch), got shape {x.shape}; add one with x[None]")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            shapes = _shapes(model(x))
        out = g.convert(model, "input")
    finally:
        model.train(was_training)
    out_names = list(out) if isinstance(out, tuple | list) else [out]
    flat = []
    for o in out_names:
        flat.extend(o if isinstance(o, tuple | list) else [o])
    in_type = tp.INT64 if x.dtype.kind in "biu" else tp.FLOAT
    inputs = [helper.make_tensor_value_info("input", in_type, ["batch", *x.shape[1:]])]
    return _write(g, model, path, inputs, flat, [["batch", *s[1:]] for s in shapes])


def _export_traced(model: Module, path: str | os.PathLike, example_input: Any,
                   dynamic_batch: bool) -> str:
    from .interop_traced import OnnxSteps, onnx_steps
    from .trace import Dim, trace
    graph = trace(model, example_input, dynamic_batch)
    names = ["input"] if len(graph.inputs) == 1 else [f"input_{i}"
                                                     for i in range(len(graph.inputs))]
    g = OnnxSteps(graph, names, dynamic_batch)
    helper, tp = g.onnx.helper, g.onnx.TensorProto
    inputs = [helper.make_tensor_value_info(
        n, tp.INT64 if np.dtype(dt).kind in "biu" else tp.FLOAT,
        ["batch" if dynamic_batch else shape[0], *shape[1:]])
        for n, (shape, dt) in zip(names, graph.inputs)]
    flat = onnx_steps(graph, g)

    def dims(shape: tuple[Any, ...]) -> list[Any]:
        return [("batch" if d == Dim(1, 0) else f"{d.a}*batch+{d.c}") if isinstance(d, Dim)
                else d for d in shape]
    return _write(g, model, path, inputs, flat, [dims(g.shapes[n]) for n in flat])


def _write(g: OnnxGraph, model: Module, path: str | os.PathLike, inputs: list[Any],
           flat: list[str], shapes: list[list[Any]]) -> str:
    """The outputs named, the model checked and written atomically."""
    helper, tp = g.onnx.helper, g.onnx.TensorProto
    names = ["output"] if len(flat) == 1 else [f"output_{i}" for i in range(len(flat))]
    for inner, outer in zip(flat, names):
        g.nodes.append(helper.make_node("Identity", [inner], [outer]))
    outputs = [helper.make_tensor_value_info(n, tp.FLOAT, s) for n, s in zip(names, shapes)]
    graph = helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, g.initializers)
    onnx_model = helper.make_model(graph, producer_name="nn-autograd-basics",
                                   opset_imports=[helper.make_opsetid("", OPSET)])
    onnx_model.ir_version = 8
    g.onnx.checker.check_model(onnx_model, full_check=True)
    path = os.fspath(path)
    with atomic_write(path, suffix=".onnx") as f:
        f.write(onnx_model.SerializeToString())
    return path
