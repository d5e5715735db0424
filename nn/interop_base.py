"""What every conversion rule shares: the error, the `Rule` base class and its registry,
the conversion context, and the ONNX graph under construction.

`nn/interop_layers.py` defines one `Rule` per layer (registered here with `@rule`);
`nn/interop.py` is the public front (`to_torch`, `from_torch`, `export_onnx`) and imports
both, so neither of them imports the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value

from ._checks import extra_hint
from .module import Module

__all__ = ["OURS", "THEIRS", "ConversionError", "OnnxGraph", "Rule", "rule"]

OPSET = 17  # LayerNormalization needs 17; onnxruntime runs it everywhere it runs
_EXTRA = extra_hint("interop") + "  (torch==2.13.0, onnx, onnxruntime)"


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


def _from_torch_rule(t: Any, path: str) -> Rule:
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
