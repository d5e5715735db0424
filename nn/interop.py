"""Interoperability: a model goes to PyTorch and comes back, or out to ONNX.

- `to_torch(model)`: an equivalent ``torch.nn.Module`` (weights copied, dtype and
  train/eval mode kept), for training at scale or with the rest of PyTorch's tools.
- `from_torch(module)`: this project's model from a ``torch.nn.Module`` built of the layers
  it knows, to be drawn (`draw_graph`) and explained (`explain`) number by number.
- `export_onnx(model, path, example_input)`: an ONNX file (float32, a dynamic batch axis,
  evaluation semantics) that any ONNX runtime runs and Netron draws.

Each layer's conversion is one `Rule` in `nn/interop_layers.py`, registered under the
class name of the layer here and of its twin in ``torch.nn``. Only exact classes convert:
a subclass with its own ``forward`` has no counterpart and is refused by name, never
approximated. torch and onnx are imported only when these functions are called (the
`interop` extra), so the rest of the project never needs them.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from autograd import Value, no_grad
from autograd._files import atomic_write

from .module import Module

__all__ = ["ConversionError", "Rule", "export_onnx", "from_torch", "rule", "to_torch"]

OPSET = 17  # LayerNormalization needs 17; onnxruntime runs it everywhere it runs
_EXTRA = "pip install -e '.[interop]'  (torch==2.13.0, onnx, onnxruntime)"


class ConversionError(TypeError):
    """A module with no counterpart on the other side (named in the message)."""


class Rule:
    """How one layer converts. Subclasses set `ours` (the nn class name), `theirs` (the
    torch.nn class names it comes back from) and define the directions they support:
    ``to_torch(m, ctx)``, ``from_torch(t, ctx)`` and ``onnx(m, graph, x)`` (the last
    returns the name of the output, or a tuple of names)."""

    ours: str = ""
    theirs: tuple[str, ...] = ()

    def to_torch(self, m: Module, ctx: _Context) -> Any:
        raise ConversionError(f"{m.__class__.__name__} has no PyTorch counterpart")

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        raise ConversionError(f"torch {type(t).__name__} has no counterpart in nn")

    def onnx(self, m: Module, g: OnnxGraph, x: Any) -> Any:
        raise ConversionError(f"{m.__class__.__name__} has no ONNX export")


OURS: dict[str, Rule] = {}    # nn class name -> rule
THEIRS: dict[str, Rule] = {}  # torch class name -> rule


def rule(cls: type[Rule]) -> type[Rule]:
    """Class decorator: register one layer's conversion (both directions and ONNX)."""
    r = cls()
    if r.ours:
        OURS[r.ours] = r
    for name in r.theirs:
        THEIRS[name] = r
    return cls


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(f"nn.to_torch/from_torch need PyTorch: {_EXTRA}") from None
    return torch


def _rule_for(m: Module, path: str) -> Rule:
    """The rule for exactly this class (a subclass is a different layer), or a refusal."""
    from . import interop_layers  # noqa: F401 (registers the rules)
    r = OURS.get(type(m).__name__)
    if r is None or not _is_nn_class(type(m)):
        where = f" at {path!r}" if path else ""
        raise ConversionError(
            f"{type(m).__name__}{where} has no counterpart outside this engine (a layer with "
            f"its own forward cannot be converted without guessing what it computes); "
            f"convertible layers: {', '.join(sorted(OURS))}")
    return r


def _is_nn_class(cls: type) -> bool:
    """True for the library's own classes (a user's subclass lives in the user's module)."""
    return cls.__module__.split(".")[0] == "nn"


class _Context:
    """What the conversion of one model shares: torch itself, the float dtype, a way to
    convert children (with their dotted path for messages)."""

    def __init__(self, torch: Any, dtype: Any, path: str = "") -> None:
        self.torch, self.dtype, self.path = torch, dtype, path

    def child(self, name: str) -> _Context:
        return _Context(self.torch, self.dtype, f"{self.path}.{name}" if self.path else name)

    def tensor(self, a: Any) -> Any:
        """A torch tensor copy of a parameter or buffer (its dtype kept)."""
        return self.torch.tensor(np.array(a.data if isinstance(a, Value) else a))

    def array(self, t: Any) -> np.ndarray:
        """A numpy copy of a torch parameter or buffer."""
        return t.detach().cpu().numpy().copy()

    def torch_dtype(self, m: Module) -> Any:
        """The torch dtype matching a layer's float dtype."""
        return self.torch.float64 if np.dtype(m.dtype) == np.float64 else self.torch.float32

    def to_torch(self, m: Module, name: str) -> Any:
        ctx = self.child(name)
        return _rule_for(m, ctx.path).to_torch(m, ctx)

    def from_torch(self, t: Any, name: str) -> Module:
        ctx = self.child(name)
        return _from_torch_rule(t, ctx.path).from_torch(t, ctx)


def to_torch(model: Module) -> Any:
    """An equivalent ``torch.nn.Module``: weights and buffers copied (not shared), float64
    or float32 kept, the same train/eval mode. Raises ConversionError naming the first
    layer that has no torch counterpart."""
    if not isinstance(model, Module):
        raise TypeError(f"to_torch needs an nn.Module, got {type(model).__name__}")
    torch = _import_torch()
    out = _rule_for(model, "").to_torch(model, _Context(torch, None))
    return out.train(model.training)


def _from_torch_rule(t: Any, path: str) -> Rule:
    from . import interop_layers  # noqa: F401
    name = type(t).__name__
    r = THEIRS.get(name)
    if r is None or not (type(t).__module__.startswith("torch.nn")
                         or type(t).__module__ == "nn.interop_layers"):
        where = f" at {path!r}" if path else ""
        raise ConversionError(
            f"torch module {name}{where} has no counterpart in nn (a module with its own "
            f"forward cannot be converted without guessing what it computes); convertible "
            f"torch modules: {', '.join(sorted(THEIRS))}")
    return r


def from_torch(module: Any) -> Module:
    """This project's model from a ``torch.nn.Module`` made of the layers nn knows
    (``Linear``, ``Sequential``, activations, ``Conv1d/2d``, ...): weights copied, dtype
    and mode kept. Raises ConversionError naming the first module it cannot convert."""
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    _check_convertible(module, torch)
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


# ---- ONNX ------------------------------------------------------------------------------

class OnnxGraph:
    """The nodes and weights of an ONNX graph under construction, built with the onnx
    package's own helpers; every value is float32 (indices int64)."""

    def __init__(self) -> None:
        try:
            import onnx
        except ImportError:
            raise ImportError(f"nn.export_onnx needs the onnx package: {_EXTRA}") from None
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._n = 0

    def _name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, a: Any, hint: str = "w") -> str:
        """A weight or constant: float data as float32, integer data as int64."""
        a = np.asarray(a.data if isinstance(a, Value) else a)
        a = a.astype(np.int64 if a.dtype.kind in "biu" else np.float32)
        name = self._name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(a, name))
        return name

    def op(self, op_type: str, inputs: list[str], outputs: int = 1, **attrs: Any) -> Any:
        """Add one node; returns its output name (or a list of `outputs` names)."""
        names = [self._name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, names, **attrs))
        return names[0] if outputs == 1 else names

    def convert(self, m: Module, x: Any, path: str = "") -> Any:
        return _rule_for(m, path).onnx(m, self, x)


def _shapes(out: Any) -> list[tuple[int, ...]]:
    items = out if isinstance(out, tuple | list) else (out,)
    flat: list[Any] = []
    for item in items:
        flat.extend(item if isinstance(item, tuple | list) else (item,))
    return [np.shape(v.data if isinstance(v, Value) else v) for v in flat]


def export_onnx(model: Module, path: str | os.PathLike, example_input: Any) -> str:
    """Write `model` as an ONNX file (evaluation semantics: Dropout off, BatchNorm's running
    statistics) with float32 weights and a dynamic first (batch) axis; `example_input`
    (one batch) fixes the other axes. The file passes ``onnx.checker.check_model``.
    Returns the path."""
    if not isinstance(model, Module):
        raise TypeError(f"export_onnx needs an nn.Module, got {type(model).__name__}")
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
    names = ["output"] if len(flat) == 1 else [f"output_{i}" for i in range(len(flat))]
    for inner, outer in zip(flat, names):
        g.nodes.append(helper.make_node("Identity", [inner], [outer]))
    outputs = [helper.make_tensor_value_info(n, tp.FLOAT, ["batch", *s[1:]])
               for n, s in zip(names, shapes)]
    graph = helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, g.initializers)
    onnx_model = helper.make_model(graph, producer_name="nn-autograd-basics",
                                   opset_imports=[helper.make_opsetid("", OPSET)])
    onnx_model.ir_version = 8
    g.onnx.checker.check_model(onnx_model, full_check=True)
    path = os.fspath(path)
    with atomic_write(path, suffix=".onnx") as f:
        f.write(onnx_model.SerializeToString())
    return path

