"""Optimizers: turn gradients into weight updates.

The document's rule is plain gradient descent, ``new_w = old_w - learning_rate × dL/dw``.
`SGD` adds momentum and weight decay, `Adam` adapts the step per weight; both follow
``torch.optim`` step for step. Weights are updated in place (``p.data``); gradients are
only read, never modified (a gradient array may be shared between Values).
"""

from __future__ import annotations

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


class Optimizer:
    """Holds the parameters to update; `step()` updates them, `zero_grad()` clears grads.

    Parameters with ``requires_grad=False`` (frozen) or without a gradient are skipped."""

    def __init__(self, params: Iterable[Value] | Module, lr: float) -> None:
        unique: dict[int, Value] = {}
        for p in _as_params(params):
            unique.setdefault(id(p), p)
        if not unique:
            raise ValueError("optimizer got an empty parameter list")
        self.params: list[Value] = list(unique.values())
        self.lr = _check("lr", lr)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (they accumulate across backward calls)."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        raise NotImplementedError

    def _live(self) -> Iterable[tuple[int, Value, Any]]:
        """(index, parameter, gradient) for the parameters that should move this step."""
        for i, p in enumerate(self.params):
            if p._grad is None or not p.requires_grad:
                continue
            yield i, p, p.grad

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in vars(self).items()
                         if k != "params" and not k.startswith("_"))
        return f"{type(self).__name__}({len(self.params)} parameters, {opts})"


class SGD(Optimizer):
    """Stochastic gradient descent: ``w ← w - lr × g``.

    With weight decay, g = dL/dw + wd × w. With momentum, as torch.optim.SGD (dampening 0,
    not Nesterov): buf = g on the first step, then buf = momentum × buf + g, and the step
    uses buf."""

    def __init__(self, params: Iterable[Value] | Module, lr: float = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _check("momentum", momentum)
        self.weight_decay = _check("weight_decay", weight_decay)
        self._buf: list[Any] = [None] * len(self.params)

    def step(self) -> None:
        lr, mom, wd, bufs = self.lr, self.momentum, self.weight_decay, self._buf
        for i, p, g in self._live():
            if p.is_scalar:
                g = float(g)
                if wd:
                    g += wd * p.data
                if mom:
                    g = g if bufs[i] is None else mom * bufs[i] + g
                    bufs[i] = g
                p.data = p.data - lr * g
                continue
            if wd:
                g = g + wd * p.data
            if mom:
                buf = bufs[i]
                if buf is None:
                    buf = bufs[i] = np.array(g, dtype=p.dtype)
                else:
                    buf *= mom
                    buf += g
                g = buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam, as torch.optim.Adam: per weight, running averages of the gradient (m) and of
    its square (v), bias-corrected, give the step ``lr × m̂ / (√v̂ + eps)``.

    ``weight_decay`` adds wd × w to the gradient first (L2, not AdamW's decoupled decay)."""

    def __init__(self, params: Iterable[Value] | Module, lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (_check("betas[0]", b1, 0.0, 1.0), _check("betas[1]", b2, 0.0, 1.0))
        self.eps = _check("eps", eps)
        self.weight_decay = _check("weight_decay", weight_decay)
        self._state: list[Any] = [None] * len(self.params)  # [step, m, v] per parameter

    def step(self) -> None:
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        b1, b2 = self.betas
        for i, p, g in self._live():
            st = self._state[i]
            scalar = p.is_scalar
            if st is None:
                zero = 0.0 if scalar else np.zeros_like(p.data)
                st = self._state[i] = [0, zero, 0.0 if scalar else np.zeros_like(p.data)]
            st[0] += 1
            t = st[0]
            if scalar:
                g = float(g)
            if wd:
                g = g + wd * p.data
            bc1 = 1.0 - b1 ** t
            bc2_sqrt = math.sqrt(1.0 - b2 ** t)
            step_size = lr / bc1
            if scalar:
                m = st[1] + (1.0 - b1) * (g - st[1])
                v = st[2] * b2 + (1.0 - b2) * g * g
                st[1], st[2] = m, v
                p.data = p.data - step_size * m / (math.sqrt(v) / bc2_sqrt + eps)
                continue
            m, v = st[1], st[2]
            m += (1.0 - b1) * (g - m)  # torch's lerp: m + (1 - b1)(g - m)
            v *= b2
            v += (1.0 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= bc2_sqrt
            denom += eps
            p.data -= step_size * (m / denom)
