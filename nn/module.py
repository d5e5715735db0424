"""`Module`: the base of every network part, and `Sequential`, a chain of modules.

A Module finds its parameters (the `Value`s it owns) and its sub-modules by looking at its
attributes, in the order they were set, descending into lists, tuples and dicts. Names are
dotted paths such as ``layers.0.w``. Attributes whose names start with ``_`` are private
and not searched. The walk uses an explicit stack (no recursion) and visits each module
once, so shared or cyclic references cannot loop.

Buffers are arrays a module keeps that are not learned (BatchNorm's running statistics):
registered with `register_buffer`, they travel in `state_dict()` and saved files beside the
parameters, but no optimizer sees them.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import numpy as np

from autograd import Value

#: The classes `nn.load` may build, by name: the library's own (registered as they are
#: defined) and the user's, registered explicitly with `register`. A model file names its
#: class; nothing outside this table (and a load's ``classes=``) is ever built from a file.
REGISTRY: dict[str, type[Module]] = {}
_EXTRA: contextvars.ContextVar[Mapping[str, type[Module]] | None] = \
    contextvars.ContextVar("nn_load_classes", default=None)
M = TypeVar("M", bound=type)
_STRUCTURE = [0]  # counts changes to any module's parameters or sub-modules (for labels)


def register(cls: M) -> M:
    """Let `nn.load` rebuild models of this class (a decorator: ``@nn.register``).

    The class must be an `nn.Module` subclass whose ``config()`` returns the constructor
    arguments (the default reads attributes named like the arguments). A class of the
    library cannot be replaced."""
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"nn.register takes an nn.Module subclass, got {cls!r}")
    old = REGISTRY.get(cls.__name__)
    if old is not None and old is not cls and _is_library(old):
        raise ValueError(f"nn.register: {cls.__name__!r} is the name of the library's "
                         f"{old.__module__}.{old.__name__}; give your class another name")
    REGISTRY[cls.__name__] = cls
    return cls


def _is_library(cls: type) -> bool:
    return cls.__module__ == "nn" or cls.__module__.startswith("nn.")


@contextlib.contextmanager
def known_classes(extra: Mapping[str, type[Module]]
                  ) -> Iterator[Callable[[str], type[Module] | None]]:
    """While loading: a lookup of the registered classes plus `extra` (a load's
    ``classes=``), which nested containers (`Sequential.from_config`) use too."""
    token = _EXTRA.set({**(_EXTRA.get() or {}), **extra})
    try:
        yield model_class
    finally:
        _EXTRA.reset(token)


def model_class(name: str) -> type[Module] | None:
    """The class `nn.load` builds for `name`, or None when it is not registered."""
    return (_EXTRA.get() or {}).get(name) or REGISTRY.get(name)


def unknown_class_message(name: Any) -> str:
    """Why a file's class cannot be built, and what to do about it."""
    defined = [c for c in _subclasses() if c.__name__ == name]
    where = (f" (a class {name} is defined in {defined[0].__module__}, but not registered)"
             if defined else "")
    return (f"unknown model class {name!r}{where}. nn.load builds only registered classes: "
            f"import or define the class, then pass it, nn.load(path, classes=[{name}]), "
            f"or register it once with @nn.register above its definition (its config() "
            f"must return its constructor arguments)")


def _subclasses() -> Iterator[type[Module]]:
    stack = list(Module.__subclasses__())
    seen = set()
    while stack:
        c = stack.pop()
        if c not in seen:
            seen.add(c)
            yield c
            stack.extend(c.__subclasses__())


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    """(name, item) for the Modules and Values directly held by a module's attributes."""
    for name, value in vars(obj).items():
        if not name.startswith("_"):
            yield from _children_of(name, value)


def _children_of(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """(name, item) for the Modules and Values held by one attribute (lists and dicts
    one level deep: ``layers.0``, ``heads.q``)."""
    if isinstance(value, Module | Value):
        yield name, value
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if isinstance(item, Module | Value):
                yield f"{name}.{i}", item
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, Module | Value):
                yield f"{name}.{key}", item


class HookHandle:
    """What `register_forward_hook` returns: ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable[..., Any]) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Module:
    """A part of a network: holds parameters and sub-modules, and maps inputs to outputs.

    Subclasses set their parameters (`Value`s) and sub-modules as attributes and define
    ``forward``; calling the module calls ``forward``.
    """

    training: bool = True  # class default, so subclasses work even without super().__init__()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if _is_library(cls):  # the user's classes are registered explicitly (`register`)
            REGISTRY[cls.__name__] = cls

    def __init__(self) -> None:
        self.training = True

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if isinstance(value, Module | Value | list | tuple | dict) and not name.startswith("_"):
            _STRUCTURE[0] += 1  # the tree may have changed: labels are brought up to date

    def _label_parameters(self) -> None:
        """Label each parameter with its attribute path from this module (``fc1.w``), so
        `explain` and `draw_graph` tell them apart. A label of one's own (anything that is
        not the tail of the path) is kept. Runs when a module is called after its tree
        changed; every module under it is marked, so calling one alone keeps the names."""
        version = _STRUCTURE[0]
        for _, module in self.named_modules():
            object.__setattr__(module, "_labels_at", version)
        for name, p in self.named_parameters():
            label = p.label
            if not label or (label != name and name.endswith("." + label)):
                p.label = name

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.__dict__.get("_labels_at") != _STRUCTURE[0]:
            self._label_parameters()
        out = self.forward(*args, **kwargs)
        for hook in self.__dict__.get("_forward_hooks", ()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> HookHandle:
        """Call ``hook(module, inputs, output)`` after every forward of this module, as
        torch's hook of the same name (a result other than None replaces the output).
        Returns a handle whose ``remove()`` takes the hook off again."""
        hooks = self.__dict__.setdefault("_forward_hooks", [])
        hooks.append(hook)
        return HookHandle(hooks, hook)

    # ---- walking the tree -----------------------------------------------------------------
    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ("") and every sub-module, depth first."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            if id(module) in seen:  # shared or cyclic: keep the first name only
                continue
            seen.add(id(module))
            yield prefix, module
            subs = [(f"{prefix}.{n}" if prefix else n, m)
                    for n, m in _children(module) if isinstance(m, Module)]
            stack.extend(reversed(subs))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, in attribute order; each Value once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, item in _children(module):
                if isinstance(item, Value) and id(item) not in seen:
                    seen.add(id(item))
                    yield (f"{prefix}.{name}" if prefix else name), item

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """Keep `array` as attribute `name`: saved and loaded with the weights, not learned."""
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, array)

    def _buffer_slots(self) -> Iterator[tuple[str, Module, str]]:
        """(dotted name, owning module, attribute) for every registered buffer."""
        for prefix, module in self.named_modules():
            for name in module.__dict__.get("_buffer_names", ()):
                yield (f"{prefix}.{name}" if prefix else name), module, name

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) for every registered buffer, module by module."""
        for dotted, module, name in self._buffer_slots():
            yield dotted, getattr(module, name)

    def parameters(self) -> list[Value]:
        """Every parameter Value, in the order of `named_parameters()`."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of scalar weights (elements) over all parameters."""
        return sum(p.size for p in self.parameters())

    def _relabel(self) -> None:
        """Set each parameter's label to its dotted name, so graph drawings show it."""
        for name, p in self.named_parameters():
            p.label = name

    # ---- gradients, modes, freezing -----------------------------------------------------
    def zero_grad(self) -> None:
        """Reset every parameter's gradient (gradients accumulate across backward calls)."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``.training``) here and in every sub-module; returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)`` (Dropout becomes the identity)."""
        return self.train(False)

    def freeze(self) -> Module:
        """Stop learning these parameters: backward skips them and optimizers leave them."""
        for p in self.parameters():
            p.requires_grad = False
            p.zero_grad()
        return self

    def unfreeze(self) -> Module:
        """Undo `freeze()`."""
        for p in self.parameters():
            p.requires_grad = True
        return self

    # ---- weights as arrays ----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's data and every buffer, keyed by its dotted name."""
        state = {name: np.array(p.data, dtype=p.dtype) for name, p in self.named_parameters()}
        state.update((name, np.array(b)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays from `state` into the parameters and buffers; keys and shapes must
        match exactly."""
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict needs a dict of arrays, got {type(state).__name__}")
        params: dict[str, Any] = dict(self.named_parameters())
        params.update(self.named_buffers())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise ValueError(f"state dict does not fit {type(self).__name__}: " + "; ".join(parts))
        arrays = {}
        bad = []
        for name, p in params.items():
            arr = np.asarray(state[name].data if isinstance(state[name], Value) else state[name])
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"state dict entry {name!r} must be numeric, got dtype {arr.dtype}")
            if arr.shape != np.shape(p):
                bad.append(f"{name}: expected shape {np.shape(p)}, got {arr.shape}")
            arrays[name] = arr
        if bad:
            raise ValueError("state dict shapes do not match the model: " + "; ".join(bad))
        owners = {dotted: (m, name) for dotted, m, name in self._buffer_slots()}
        for name, p in params.items():  # all checked first: a failed load changes nothing
            if name in owners:
                module, attr = owners[name]
                setattr(module, attr, np.array(arrays[name], dtype=p.dtype))
            elif p.is_scalar:
                p.data = float(arrays[name])
            else:
                p.data = np.array(arrays[name], dtype=p.dtype)

    # ---- architecture and files ---------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module's architecture (JSON-able).

        The default reads, for each argument of ``__init__``, the attribute of the same
        name; modules whose attributes differ from their arguments override this."""
        out = {}
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if hasattr(self, name):
                out[name] = getattr(self, name)
            elif param.default is param.empty:
                raise TypeError(f"{type(self).__name__} cannot describe its architecture: "
                                f"no attribute {name!r} for its argument; define config()")
        try:
            json.dumps(out)
        except TypeError as e:
            raise TypeError(f"{type(self).__name__}.config() is not JSON-able: {e}") from None
        return out

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Module:
        """Build a module (with fresh weights) from the output of `config()`."""
        return cls(**config)

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        """The shape of every `state_dict()` entry of ``cls.from_config(config)``, worked
        out without building it, so `nn.load` can check a file's arrays before allocating
        any; None when the class does not say (it is then built first, then checked)."""
        return None

    def save(self, path: str) -> str:
        """Write weights and architecture to one ``.npz`` file (atomically); returns path."""
        from .io import save
        return save(self, path)

    @classmethod
    def load(cls, path: str) -> Module:
        """Rebuild a model saved with `save()`; refuses a file holding another class."""
        from .io import load
        return load(path, expect=None if cls is Module else cls)

    # ---- printing -----------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, item in _children(self):
            if isinstance(item, Module):
                body = repr(item).replace("\n", "\n  ")
                lines.append(f"  ({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Layer(2, 8, "tanh"), Dropout(0.5),
    Layer(8, 2, "linear"))``. Children are named ``layers.0``, ``layers.1``..."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], list | tuple):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules; item {i} is {type(m).__name__}")
        self.layers = list(modules)
        self._relabel()

    def forward(self, x: Any) -> Any:
        for m in self.layers:
            x = m(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def config(self) -> dict[str, Any]:
        return {"modules": [{"class": type(m).__name__, "config": m.config()}
                            for m in self.layers]}

    @staticmethod
    def _entries(config: dict[str, Any]) -> Iterator[tuple[int, type[Module], dict[str, Any]]]:
        """(index, class, config) of each item of a Sequential's config, checked."""
        modules = config.get("modules", [])
        if not isinstance(modules, list):
            raise TypeError("Sequential config: 'modules' must be a list")
        for i, entry in enumerate(modules):
            name = entry.get("class") if isinstance(entry, dict) else None
            sub = entry.get("config", {}) if isinstance(entry, dict) else None
            if not isinstance(name, str) or not isinstance(sub, dict):
                raise TypeError(f"Sequential item {i} is not a {{'class', 'config'}} record")
            cls = model_class(name)
            if cls is None:
                raise ValueError(f"Sequential item {i}: " + unknown_class_message(name))
            yield i, cls, sub

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        return cls(*[sub_cls.from_config(sub) for _, sub_cls, sub in cls._entries(config)])

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        shapes = {}
        for i, sub_cls, sub in cls._entries(config):
            part = sub_cls.state_shapes(sub)
            if part is None:
                return None
            shapes.update({f"layers.{i}.{k}": s for k, s in part.items()})
        return shapes

    def extra_repr(self) -> str:
        return f"{len(self.layers)} modules, {self.num_parameters()} parameters"


def _as_params(params: Iterable[Any] | Module) -> list[Value]:
    """Parameters from a Module or an iterable of Values (for optimizers)."""
    if isinstance(params, Module):
        return params.parameters()
    if isinstance(params, Value):
        return [params]
    out = []
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"parameters must be Values; item {i} is {type(p).__name__}")
        out.append(p)
    return out
