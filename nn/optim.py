"""Optimizers: turn gradients into weight updates.

The document's rule is plain gradient descent, ``new_w = old_w - learning_rate × dL/dw``.
`SGD` adds momentum and weight decay, `Adam` adapts the step per weight, `AdamW` decays
the weights apart from the gradient; all follow ``torch.optim`` step for step, including
parameter groups (``[{"params": [...], "lr": ...}, ...]``) and ``state_dict()`` /
``load_state_dict()`` to resume training exactly. Weights are updated in place (``p.data``);
gradients are only read, never modified (a gradient array may be shared between Values).

`clip_grad_norm_` rescales gradients; the learning-rate schedules are in
`nn.optim.lr_scheduler` (as ``torch.optim.lr_scheduler``), also importable from here.
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


class SGD(Optimizer):
    """Stochastic gradient descent: ``w ← w - lr × g``.

    With weight decay, g = dL/dw + wd × w. With momentum, as torch.optim.SGD (dampening 0,
    not Nesterov): buf = g on the first step, then buf = momentum × buf + g, and the step
    uses buf."""

    _hyper = ("lr", "momentum", "weight_decay")

    def __init__(self, params: Iterable[Any] | Module, lr: float = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def _validate(self, group: dict[str, Any]) -> dict[str, Any]:
        group["momentum"] = _check("momentum", group["momentum"])
        group["weight_decay"] = _check("weight_decay", group["weight_decay"])
        return super()._validate(group)

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
        if type(p.data) is float:  # a scalar (p.is_scalar, without the call)
            g = float(g)
            if wd:
                g += wd * p.data
            if mom:
                buf = state.get("momentum_buffer")
                g = state["momentum_buffer"] = g if buf is None else mom * buf + g
            p.data = p.data - lr * g
            return
        if wd:
            g = g + wd * p.data
        if mom:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype)
            else:
                buf *= mom
                buf += g
            g = buf
        p.data -= lr * g


class Adam(Optimizer):
    """Adam, as torch.optim.Adam: per weight, running averages of the gradient (m) and of
    its square (v), bias-corrected, give the step ``lr × m̂ / (√v̂ + eps)``.

    ``weight_decay`` adds wd × w to the gradient first (L2, not AdamW's decoupled decay)."""

    _hyper = ("lr", "betas", "eps", "weight_decay")
    _decoupled = False

    def __init__(self, params: Iterable[Any] | Module, lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})

    def _validate(self, group: dict[str, Any]) -> dict[str, Any]:
        group["betas"] = _betas(group["betas"])
        group["eps"] = _check("eps", group["eps"])
        group["weight_decay"] = _check("weight_decay", group["weight_decay"])
        return super()._validate(group)

    def step(self) -> None:
        """Each group's array parameters of one dtype and one step count in a few array
        operations over flat buffers (the rest one at a time, as `_update`). The same
        numbers, operation for operation, as one parameter at a time: per-parameter numpy
        calls were ~10 per parameter (540 for the tiny GPT, 6% of its step)."""
        for group in self.param_groups:
            flat = []
            for p in group["params"]:
                if p._grad is None or not p.requires_grad:
                    continue
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = {}
                if type(p.data) is np.ndarray and _joins(p, st, flat, self.state):
                    flat.append(p)
                else:
                    self._update(p, p.grad, st, group)
            if flat:
                self._update_flat(flat, group)

    def _update_flat(self, params: list[Value], group: dict[str, Any]) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        b1, b2 = group["betas"]
        m, v = self._buffers(params)
        g = np.concatenate([np.ravel(p.grad) for p in params]).astype(m.dtype, copy=False)
        t = self.state[params[0]].get("step", 0) + 1
        for p in params:
            self.state[p]["step"] = t
        if wd and self._decoupled:  # AdamW: w ← w × (1 - lr × wd), before the Adam step
            for p in params:
                p.data *= 1.0 - lr * wd
        elif wd:
            g += wd * np.concatenate([p.data.ravel() for p in params])
        m += (1.0 - b1) * (g - m)  # torch's lerp: m + (1 - b1)(g - m)
        v *= b2
        g *= g
        g *= 1.0 - b2
        v += g
        denom = np.sqrt(v)
        denom /= math.sqrt(1.0 - b2 ** t)
        denom += eps
        step = np.divide(m, denom, out=denom)
        step *= lr / (1.0 - b1 ** t)
        start = 0
        for p in params:
            p.data -= step[start:start + p.data.size].reshape(p.data.shape)
            start += p.data.size

    def _buffers(self, params: list[Value]) -> tuple[np.ndarray, np.ndarray]:
        """The flat m and v of these parameters, each parameter's state entries views into
        them. Built again (from the entries' values) when the parameters or an entry changed
        (a new parameter, load_state_dict)."""
        first = self.state[params[0]].get("exp_avg")
        flat = None if first is None else first.base
        size = sum(p.data.size for p in params)
        if flat is not None and flat.size == size and all(
                self.state[p].get("exp_avg") is not None
                and self.state[p]["exp_avg"].base is flat for p in params):
            return flat, self.state[params[0]]["exp_avg_sq"].base
        dtype = params[0].data.dtype
        m, v = np.zeros(size, dtype=dtype), np.zeros(size, dtype=dtype)
        start = 0
        for p in params:
            st, n = self.state[p], p.data.size
            for name, buf in (("exp_avg", m), ("exp_avg_sq", v)):
                view = buf[start:start + n].reshape(p.data.shape)
                if name in st:
                    view[...] = st[name]
                st[name] = view
            st.setdefault("step", 0)
            start += n
        return m, v

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        b1, b2 = group["betas"]
        scalar = p.is_scalar
        if not state:
            state["step"] = 0
            state["exp_avg"] = 0.0 if scalar else np.zeros_like(p.data)
            state["exp_avg_sq"] = 0.0 if scalar else np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        if scalar:
            g = float(g)
        if wd and self._decoupled:  # AdamW: w ← w × (1 - lr × wd), before the Adam step
            if scalar:
                p.data = p.data * (1.0 - lr * wd)
            else:
                p.data *= 1.0 - lr * wd
        elif wd:
            g = g + wd * p.data
        bc1 = 1.0 - b1 ** t
        bc2_sqrt = math.sqrt(1.0 - b2 ** t)
        step_size = lr / bc1
        if scalar:
            m = state["exp_avg"] + (1.0 - b1) * (g - state["exp_avg"])
            v = state["exp_avg_sq"] * b2 + (1.0 - b2) * g * g
            state["exp_avg"], state["exp_avg_sq"] = m, v
            p.data = p.data - step_size * m / (math.sqrt(v) / bc2_sqrt + eps)
            return
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - b1) * (g - m)  # torch's lerp: m + (1 - b1)(g - m)
        v *= b2
        v += (1.0 - b2) * (g * g)
        denom = np.sqrt(v)
        denom /= bc2_sqrt
        denom += eps
        p.data -= step_size * (m / denom)


def _joins(p: Value, st: dict[str, Any], flat: list[Value],
           state: dict[Value, dict[str, Any]]) -> bool:
    """True when p can be updated with the flat batch so far: same dtype, same step count."""
    if not flat:
        return True
    first = flat[0]
    return (p.data.dtype == first.data.dtype
            and st.get("step", 0) == state[first].get("step", 0))


class AdamW(Adam):
    """AdamW, as torch.optim.AdamW: Adam with *decoupled* weight decay. Each step first
    shrinks the weights, ``w ← w × (1 - lr × weight_decay)``, then takes Adam's step on
    the plain gradient (the decay never enters m and v)."""

    _decoupled = True

    def __init__(self, params: Iterable[Any] | Module, lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def clip_grad_norm_(parameters: Iterable[Value] | Value | Module, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Rescale the gradients so that their joint norm is at most `max_norm`, as
    torch.nn.utils.clip_grad_norm_: the norm of all gradients taken together (as one
    vector) is computed; when it exceeds `max_norm` every gradient is multiplied by
    ``max_norm / (norm + 1e-6)``. Returns that total norm (before clipping), a float.

    New gradient arrays are set (a gradient array shared by two Values is not written)."""
    max_norm = _check("max_norm", max_norm)
    norm_type = float(norm_type)
    if not (norm_type > 0):
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type}")
    params = [p for p in _as_params(parameters) if p._grad is not None]
    if not params:
        return 0.0
    grads = [np.asarray(p.grad) for p in params]
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        per = [np.linalg.norm(g.ravel().astype(np.float64), ord=norm_type) for g in grads]
        total = float(np.linalg.norm(np.array(per), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {total}; "
                           "set error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p, g in zip(params, grads):
            p.grad = float(g) * coef if p.is_scalar else g * np.asarray(coef, dtype=g.dtype)
    return total


def clip_grad_value_(parameters: Iterable[Value] | Value | Module, clip_value: float) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]``, as torch's."""
    clip_value = _check("clip_value", clip_value)
    for p in _as_params(parameters):
        if p._grad is not None:
            g = np.clip(p.grad, -clip_value, clip_value)
            p.grad = float(g) if p.is_scalar else g


# The schedules, at torch's path (nn.optim.lr_scheduler.X) and here (nn.optim.X).
from . import lr_scheduler  # noqa: F401
from .lr_scheduler import (  # noqa: F401
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
    StepLR,
)
