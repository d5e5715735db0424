"""The optimizers' base class: parameter groups, `step()` over them, `zero_grad()`, and
``state_dict()`` / ``load_state_dict()`` in torch's layout. The optimizers (`optim.py`) and
the learning-rate schedules (`lr_scheduler.py`) both build on it; it imports neither, so no
module imports one that imports it back.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Value

from .module import Module, _as_params


def _check(name: str, value: float, low: float = 0.0, high: float | None = None) -> float:
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and value >= high):
        bound = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def _betas(betas: Any) -> tuple[float, float]:
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    return _check("betas[0]", b1, 0.0, 1.0), _check("betas[1]", b2, 0.0, 1.0)


def _array(x: Any) -> Any:
    """A state entry as a float (scalar parameters) or a fresh ndarray (torch tensors too)."""
    if hasattr(x, "detach"):  # a torch tensor, from a torch optimizer's state_dict
        x = x.detach().cpu().numpy()
    return float(x) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else np.array(x)


class Optimizer:
    """Holds parameter groups; `step()` updates the parameters, `zero_grad()` clears grads.

    ``params`` is a Module, an iterable of Values, or a list of dicts (parameter groups),
    each with a ``"params"`` entry and optional hyperparameters overriding the defaults.
    Parameters with ``requires_grad=False`` (frozen) or without a gradient are skipped."""

    _hyper: tuple[str, ...] = ()  # the hyperparameters a group holds besides "params"

    def __init__(self, params: Iterable[Any] | Module, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Value, dict[str, Any]] = {}  # per parameter (Values hash by identity)
        items = [params] if isinstance(params, Module | Value) else list(params)
        if items and all(isinstance(g, dict) for g in items):
            for g in items:
                self.add_param_group(g)
        else:
            self.add_param_group({"params": params if isinstance(params, Module | Value)
                                  else items})
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones: defaults)."""
        if "params" not in group:
            raise ValueError("a parameter group needs a 'params' entry")
        unknown = set(group) - {"params", *self._hyper, "initial_lr"}
        if unknown:
            raise ValueError(f"{type(self).__name__} parameter group has unknown keys "
                             f"{sorted(unknown)}; valid ones are {list(self._hyper)}")
        seen = {id(p) for p in self.params}
        unique: dict[int, Value] = {}
        for p in _as_params(group["params"]):
            if id(p) in seen:
                raise ValueError("some parameters appear in more than one parameter group")
            unique.setdefault(id(p), p)
        full = {**self.defaults, **group, "params": list(unique.values())}
        self.param_groups.append(self._validate(full))

    def _validate(self, group: dict[str, Any]) -> dict[str, Any]:
        group["lr"] = _check("lr", group["lr"])
        return group

    @property
    def params(self) -> list[Value]:
        """Every parameter, group after group."""
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        value = _check("lr", value)
        for g in self.param_groups:
            g["lr"] = value

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (they accumulate across backward calls)."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None or not p.requires_grad:
                    continue
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = {}
                self._update(p, p.grad, st, group)

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    # ---- resuming -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A copy of the optimizer's state, as torch lays it out: ``{"state": {index: {...}},
        "param_groups": [{hyperparameters..., "params": [index, ...]}]}``, parameters
        numbered in order over the groups."""
        index = {id(p): i for i, p in enumerate(self.params)}
        groups = []
        for g in self.param_groups:
            entry = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            entry["params"] = [index[id(p)] for p in g["params"]]
            groups.append(entry)
        state = {index[id(p)]: copy.deepcopy(st) for p, st in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` (also one of the same torch optimizer): the groups
        must hold as many parameters as this optimizer's, the state arrays their shapes."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("load_state_dict needs a dict with 'state' and 'param_groups', as "
                             "state_dict() returns")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"state dict has {len(groups)} parameter groups, this "
                             f"{type(self).__name__} has {len(self.param_groups)}")
        mapping: dict[int, Value] = {}
        for gi, (saved, ours) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(ours["params"]):
                raise ValueError(f"parameter group {gi} of the state dict has "
                                 f"{len(saved['params'])} parameters, this optimizer's has "
                                 f"{len(ours['params'])}")
            mapping.update(zip(saved["params"], ours["params"]))
        new_state: dict[Value, dict[str, Any]] = {}
        for key, st in state_dict["state"].items():
            if key not in mapping:
                raise ValueError(f"state dict holds state for parameter {key}, which no group has")
            p = mapping[key]
            new_state[p] = entry = {}
            for name, value in st.items():
                value = _array(value)
                if name == "step":
                    entry[name] = int(float(value))
                    continue
                if np.shape(value) != p.shape:
                    raise ValueError(f"state dict entry {name!r} of parameter {key} has shape "
                                     f"{np.shape(value)}, the parameter has shape {p.shape}")
                entry[name] = float(value) if p.is_scalar else np.array(value, dtype=p.dtype)
        new_groups = []
        for saved, ours in zip(groups, self.param_groups):
            hyper = {k: (tuple(v) if k == "betas" else v) for k, v in saved.items()
                     if k in (*self._hyper, "initial_lr")}
            new_groups.append(self._validate({**ours, **hyper}))
        self.param_groups = new_groups  # everything checked first: a failed load changes nothing
        self.state = new_state

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.param_groups[0].items() if k != "params")
        more = f", {len(self.param_groups)} groups" if len(self.param_groups) > 1 else ""
        return f"{type(self).__name__}({len(self.params)} parameters{more}, {opts})"
