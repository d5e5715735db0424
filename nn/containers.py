"""`ModuleList` and `ModuleDict`: sub-modules held in a list or under names, as torch's.

They have no `forward` of their own (the module holding them decides how to call them);
their parameters are named as torch names them (``0.w``, ``encoder.w``), so state dicts
line up, and they save, load and convert like any other module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module, Sequential, model_class, unknown_class_message


class ModuleList(Module):
    """A list of modules: ``ModuleList([nn.Linear(4, 4) for _ in range(3)])``; indexing,
    `append`, `extend`, `insert`, `len` and iteration as a list."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        self._items: list[Module] = []
        self.extend(modules or [])

    def _sync(self) -> None:
        for key in [k for k in vars(self) if k.isdigit()]:
            delattr(self, key)
        for i, m in enumerate(self._items):
            object.__setattr__(self, str(i), m)  # named "0", "1", ...: torch's parameter names
        self._relabel()

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__}")
        self._items.append(module)
        self._sync()
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError(f"ModuleList holds Modules, got {type(m).__name__}")
            self._items.append(m)
        self._sync()
        return self

    def insert(self, index: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__}")
        self._items.insert(index, module)
        self._sync()

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return ModuleList(self._items[i])
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: call its modules in your own "
                                  "forward (or use nn.Sequential)")

    def config(self) -> dict[str, Any]:
        return {"modules": [{"class": type(m).__name__, "config": m.config()}
                            for m in self._items]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModuleList:
        return cls([sub_cls.from_config(sub) for _, sub_cls, sub in Sequential._entries(config)])

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        shapes = {}
        for i, sub_cls, sub in Sequential._entries(config):
            part = sub_cls.state_shapes(sub)
            if part is None:
                return None
            shapes.update({f"{i}.{k}": s for k, s in part.items()})
        return shapes

    def extra_repr(self) -> str:
        return f"{len(self._items)} modules"


class ModuleDict(Module):
    """Modules under names: ``ModuleDict({"encoder": ..., "head": ...})``; ``d["head"]``,
    `keys`, `values`, `items`, `len`, ``in`` and iteration over the names, as a dict."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        self._items: dict[str, Module] = {}
        for key, m in (modules or {}).items():
            self[key] = m

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_") or \
                key in ("training",) or hasattr(type(self), key):
            raise ValueError(f"ModuleDict key {key!r} must be a name (an identifier, not "
                             "starting with '_', not an attribute of ModuleDict)")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict holds Modules, got {type(module).__name__} for {key!r}")
        self._items[key] = module
        object.__setattr__(self, key, module)
        self._relabel()

    def __getitem__(self, key: str) -> Module:
        return self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def keys(self) -> Any:
        return self._items.keys()

    def values(self) -> Any:
        return self._items.values()

    def items(self) -> Any:
        return self._items.items()

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: call its modules in your own "
                                  "forward")

    def config(self) -> dict[str, Any]:
        return {"modules": {k: {"class": type(m).__name__, "config": m.config()}
                            for k, m in self._items.items()}}

    @staticmethod
    def _entries(config: dict[str, Any]) -> Iterator[tuple[str, type[Module], dict[str, Any]]]:
        modules = config.get("modules", {})
        if not isinstance(modules, dict):
            raise TypeError("ModuleDict config: 'modules' must be a dict")
        for key, entry in modules.items():
            name = entry.get("class") if isinstance(entry, dict) else None
            sub = entry.get("config", {}) if isinstance(entry, dict) else None
            if not isinstance(name, str) or not isinstance(sub, dict):
                raise TypeError(f"ModuleDict item {key!r} is not a {{'class', 'config'}} record")
            cls = model_class(name)
            if cls is None:
                raise ValueError(f"ModuleDict item {key!r}: " + unknown_class_message(name))
            yield key, cls, sub

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModuleDict:
        return cls({k: sub_cls.from_config(sub) for k, sub_cls, sub in cls._entries(config)})

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        shapes = {}
        for key, sub_cls, sub in cls._entries(config):
            part = sub_cls.state_shapes(sub)
            if part is None:
                return None
            shapes.update({f"{key}.{k}": s for k, s in part.items()})
        return shapes

    def extra_repr(self) -> str:
        return ", ".join(self._items)
