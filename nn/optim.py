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

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Value

from .module import Module, _as_params
from .optimizer import Optimizer, _array, _betas, _check  # noqa: F401  (nn.optim.Optimizer)


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


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop: a running average of g² (weight `alpha`) scales each
    weight's step, ``w ← w - lr × g / (√avg + eps)``. `centered` subtracts the running
    mean's square from avg (an estimate of the variance); `momentum` keeps a buffer of the
    scaled steps."""

    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params: Iterable[Any] | Module, lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": bool(centered)})

    def _validate(self, group: dict[str, Any]) -> dict[str, Any]:
        group["alpha"] = _check("alpha", group["alpha"])
        group["eps"] = _check("eps", group["eps"])
        group["weight_decay"] = _check("weight_decay", group["weight_decay"])
        group["momentum"] = _check("momentum", group["momentum"])
        return super()._validate(group)

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        mom, centered = group["momentum"], group["centered"]
        w = np.array(p.data, dtype=np.float64 if p.is_scalar else p.dtype)
        g = np.array(g, dtype=w.dtype)
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(w)
            if mom:
                state["momentum_buffer"] = np.zeros_like(w)
            if centered:
                state["grad_avg"] = np.zeros_like(w)
        state["step"] += 1
        if wd:
            g = g + wd * w
        sq = state["square_avg"] = state["square_avg"] * alpha + (1.0 - alpha) * (g * g)
        if centered:
            ga = state["grad_avg"] = state["grad_avg"] + (1.0 - alpha) * (g - state["grad_avg"])
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if mom:
            buf = state["momentum_buffer"] = state["momentum_buffer"] * mom + g / avg
            w = w - lr * buf
        else:
            w = w - lr * (g / avg)
        _store(p, w, state)


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad: the sum of every g² so far scales each weight's
    step, ``w ← w - lr_t × g / (√sum + eps)``, lr_t = lr / (1 + (t - 1) × lr_decay)."""

    _hyper = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params: Iterable[Any] | Module, lr: float = 0.01, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> None:
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "eps": eps})

    def _validate(self, group: dict[str, Any]) -> dict[str, Any]:
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            group[name] = _check(name, group[name])
        return super()._validate(group)

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        w = np.array(p.data, dtype=np.float64 if p.is_scalar else p.dtype)
        g = np.array(g, dtype=w.dtype)
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(w, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        clr = group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"] = state["sum"] + g * g
        w = w - clr * (g / (np.sqrt(s) + group["eps"]))
        _store(p, w, state)


def _store(p: Value, w: np.ndarray, state: dict[str, Any]) -> None:
    """The new weights into p in place (a float for a scalar parameter, its state too)."""
    if p.is_scalar:
        p.data = float(w)
        for k, v in state.items():
            if isinstance(v, np.ndarray):
                state[k] = float(v)
    else:
        p.data[...] = w


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
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
