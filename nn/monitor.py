"""The training doctor: what each layer's activations and gradients look like, in numbers
and in words.

A network that does not learn usually shows it in a few statistics long before the loss
says so (Karpathy's "Building makemore" lectures diagnose networks this way by hand):

- **saturated units**: a tanh or sigmoid output within 0.03 of its bounds passes almost no
  gradient back (tanh' = 1 - tanh², which is ~0 there);
- **dead ReLUs**: a unit that is never positive over a batch gets no gradient at all;
- **vanishing or exploding gradients**: the gradients of the first layers are orders of
  magnitude smaller (or larger) than those of the last;
- **the update-to-data ratio**: how much one step changes a weight relative to its size;
  about 1e-3 (log10 ≈ -3) is healthy, far below means the learning rate is too small,
  far above means it is too large;
- **NaN or infinity** anywhere.

``monitor = nn.Monitor(model)`` watches every layer's output through a forward hook. In a
hand-written loop call ``monitor.after_backward()`` after ``loss.backward()`` and
``monitor.after_step()`` after ``optimizer.step()``; with `fit`, pass it in
``callbacks=[monitor]``. Then read ``monitor.warnings``, print ``monitor.report()``, or
draw ``monitor.plot(path)`` / ``monitor.save_html(path)``.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Value
from autograd._files import write_bytes

from .module import Module

SATURATION = 0.03  # a tanh/sigmoid output this close to a bound counts as saturated
HEALTHY_UPDATE = 1e-3  # the update-to-data ratio that trains well (log10: -3)
BINS = 30  # histogram bins


def _own_weights(module: Module) -> bool:
    return any(isinstance(v, Value) for v in vars(module).values())


def _kind(module: Module) -> str | None:
    """The nonlinearity a module's output comes out of: relu, tanh, sigmoid, or None (an
    activation module, or a layer with weights of its own and an `activation`)."""
    name = type(module).__name__.lower()
    if name in ("relu", "tanh", "sigmoid"):
        return name
    activation = getattr(module, "activation", None) if _own_weights(module) else None
    return activation if activation in ("relu", "tanh", "sigmoid") else None


def _units(out: np.ndarray) -> np.ndarray:
    """The output as (samples, units): units are features (last axis) for a dense layer,
    channels (axis 1) for convolutions and other (N, C, ...) outputs."""
    if out.ndim <= 1:
        return out.reshape(1, -1)
    if out.ndim == 2:
        return out
    return np.moveaxis(out, 1, -1).reshape(-1, out.shape[1])


@dataclass
class LayerStats:
    """One watched layer's history: a row per forward pass, and its latest histogram."""

    name: str
    kind: str | None
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    saturated: list[float] = field(default_factory=list)  # share of outputs (tanh/sigmoid)
    dead: list[float] = field(default_factory=list)  # share of units never positive (relu)
    nonfinite: list[int] = field(default_factory=list)
    histogram: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class ParamStats:
    """One parameter's history: gradient spread and the two ratios, a row per step."""

    name: str
    grad_std: list[float] = field(default_factory=list)
    grad_to_data: list[float] = field(default_factory=list)
    update_to_data: list[float] = field(default_factory=list)
    nonfinite: list[int] = field(default_factory=list)
    histogram: tuple[np.ndarray, np.ndarray] | None = None


class Monitor:
    """Records per layer the activations' mean, spread, saturated share and dead units,
    and per weight the gradient's spread, gradient-to-data and update-to-data ratios.

    `warnings` says in words what is wrong and what to try; `report()`, `plot(path)` and
    `save_html(path)` show the numbers.
    """

    def __init__(self, model: Module) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Monitor needs an nn.Module, got {type(model).__name__}")
        self.model = model
        self.layers: dict[str, LayerStats] = {}
        self.params: dict[str, ParamStats] = {}
        self.losses: list[float] = []
        self.steps = 0
        self._before: dict[str, np.ndarray] = {}
        self._handles = []
        for name, module in model.named_modules():
            if _own_weights(module) or _kind(module) is not None:
                key = name or type(module).__name__
                self.layers[key] = LayerStats(key, _kind(module))
                self._handles.append(module.register_forward_hook(self._hook(key)))
        for name, p in model.named_parameters():
            if p.requires_grad and p.ndim >= 2:  # weights; biases start at 0 (no ratio)
                self.params[name] = ParamStats(name)

    def _hook(self, key: str) -> Any:
        """The forward hook of one watched layer (its weights, or an activation module)."""
        def record(module: Module, inputs: tuple, out: Any) -> None:
            if isinstance(out, Value) and not out.is_scalar:
                self._record_layer(self.layers[key], out.data)
        return record

    def remove(self) -> None:
        """Stop watching (take the forward hooks off the model)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # ---- recording -------------------------------------------------------------------------
    def _record_layer(self, stats: LayerStats, out: np.ndarray) -> None:
        finite = np.isfinite(out)
        stats.nonfinite.append(int(out.size - np.count_nonzero(finite)))
        values = out[finite].astype(np.float64)
        stats.mean.append(float(values.mean()) if values.size else math.nan)
        stats.std.append(float(values.std()) if values.size else math.nan)
        if values.size:
            stats.histogram = np.histogram(values, bins=BINS)
        if stats.kind == "tanh":
            stats.saturated.append(float(np.mean(np.abs(values) > 1 - SATURATION)))
        elif stats.kind == "sigmoid":
            near = (values < SATURATION) | (values > 1 - SATURATION)
            stats.saturated.append(float(np.mean(near)))
        elif stats.kind == "relu":
            alive = np.any(_units(out) > 0, axis=0)
            stats.dead.append(float(1 - np.mean(alive)) if alive.size else 0.0)

    def after_backward(self, loss: Any = None) -> None:
        """Read every watched weight's gradient (call after ``loss.backward()``)."""
        if loss is not None:
            self.losses.append(float(loss.item() if isinstance(loss, Value) else loss))
        named = dict(self.model.named_parameters())
        for name, stats in self.params.items():
            p = named[name]
            g = np.asarray(p.grad, dtype=np.float64)
            stats.nonfinite.append(int(g.size - np.count_nonzero(np.isfinite(g))))
            stats.grad_std.append(float(g.std()))
            stats.grad_to_data.append(float(g.std() / (np.std(p.data) + 1e-12)))
            if np.isfinite(g).all():
                stats.histogram = np.histogram(g, bins=BINS)
            self._before[name] = np.array(p.data, dtype=np.float64)

    def after_step(self) -> None:
        """Measure how far the step moved each weight (call after ``optimizer.step()``)."""
        named = dict(self.model.named_parameters())
        for name, stats in self.params.items():
            if name in self._before:
                new = np.asarray(named[name].data, dtype=np.float64)
                update = (new - self._before[name]).std()
                stats.update_to_data.append(float(update / (new.std() + 1e-12)))
        self._before = {}
        self.steps += 1

    # ---- the diagnosis -------------------------------------------------------------------------
    @property
    def warnings(self) -> list[str]:
        """What looks wrong, in words that name the layer and the fix to try."""
        found: list[str] = []
        for stats in self.layers.values():
            found += _layer_warnings(stats)
        found += _gradient_warnings(list(self.params.values()))
        for stats in self.params.values():
            found += _param_warnings(stats)
        if any(not math.isfinite(x) for x in self.losses):
            first = next(i for i, x in enumerate(self.losses) if not math.isfinite(x))
            found.append(f"the loss became {self.losses[first]} at step {first}: run the step "
                         "inside autograd.detect_anomaly() to find the op and line that made "
                         "it, and lower the learning rate")
        return found

    def report(self) -> str:
        """The latest numbers per layer and per weight, then the warnings."""
        lines = [f"Monitor after {self.steps} step(s)", "",
                 f"{'layer':<22}{'kind':<9}{'mean':>10}{'std':>10}{'saturated':>11}{'dead':>8}"]
        for key, s in self.layers.items():
            if s.mean:
                sat = f"{s.saturated[-1]:.0%}" if s.saturated else "-"
                dead = f"{s.dead[-1]:.0%}" if s.dead else "-"
                lines.append(f"{key:<22}{s.kind or '-':<9}{s.mean[-1]:>10.4f}"
                             f"{s.std[-1]:>10.4f}{sat:>11}{dead:>8}")
        lines += ["", f"{'weight':<22}{'grad std':>12}{'grad/data':>12}{'log10 update/data':>19}"]
        for key, p in self.params.items():
            if p.grad_std:
                ud = f"{math.log10(p.update_to_data[-1]):.2f}" if p.update_to_data and \
                    p.update_to_data[-1] > 0 else "-"
                lines.append(f"{key:<22}{p.grad_std[-1]:>12.3e}{p.grad_to_data[-1]:>12.3e}"
                             f"{ud:>19}")
        lines += ["", "warnings:" if self.warnings else "no warnings"]
        lines += [f"- {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Monitor({len(self.layers)} layers, {len(self.params)} weights, {self.steps} steps)"

    # ---- drawings --------------------------------------------------------------------------------
    def plot(self, path: str | os.PathLike[str]) -> str:
        """Activation histograms, gradient histograms and update-to-data curves (with the
        1e-3 guide) in one figure, written to `path` (needs matplotlib)."""
        from .monitor_drawing import plot
        return plot(self, path)

    def save_html(self, path: str | os.PathLike[str], title: str = "Training doctor") -> str:
        """The same as a self-contained HTML page (inline SVG, no scripts)."""
        from .monitor_drawing import page
        write_bytes(path, page(self, html.escape(title)).encode("utf-8"))
        return os.fspath(path)


def _layer_warnings(s: LayerStats) -> list[str]:
    """Saturated, dead or non-finite outputs of one layer."""
    found = []
    at = "at init" if len(s.mean) <= 1 else f"at forward pass {len(s.mean)}"
    if s.nonfinite and s.nonfinite[-1]:
        found.append(f"layer {s.name}: {s.nonfinite[-1]} NaN or infinite outputs {at}: run the "
                     "step inside autograd.detect_anomaly() to find the op that made them")
    if s.saturated and s.saturated[-1] > 0.25:
        found.append(f"layer {s.name}: {s.saturated[-1]:.0%} of {s.kind} units saturated {at} "
                     "(their gradient is ~0): scale the weights down (Kaiming/Xavier "
                     "initialisation) or add normalisation (BatchNorm/LayerNorm)")
    if s.dead and s.dead[-1] > 0.25:
        found.append(f"layer {s.name}: {s.dead[-1]:.0%} of ReLU units dead (never positive over "
                     f"the batch) {at}: check the bias and weight initialisation, lower the "
                     "learning rate, or try LeakyReLU")
    return found


def _gradient_warnings(params: list[ParamStats]) -> list[str]:
    """Gradients that shrink or grow by orders of magnitude from the last layer to the first."""
    seen = [p for p in params if p.grad_to_data and math.isfinite(p.grad_to_data[-1])]
    if len(seen) < 2:
        return []
    first, last = seen[0], seen[-1]
    if last.grad_to_data[-1] == 0:
        return []
    ratio = first.grad_to_data[-1] / last.grad_to_data[-1]
    if ratio < 1e-2:
        return [(f"vanishing gradients: {first.name}'s gradient-to-data ratio is {ratio:.1e} "
                f"times {last.name}'s: use ReLU-family activations, a better initialisation, "
                "normalisation or residual connections")]
    if ratio > 1e2:
        return [(f"exploding gradients: {first.name}'s gradient-to-data ratio is {ratio:.1e} "
                f"times {last.name}'s: scale the weights down, add normalisation, or clip "
                "gradients (nn.clip_grad_norm_)")]
    return []


def _param_warnings(p: ParamStats) -> list[str]:
    """Non-finite gradients, and update-to-data ratios far from ~1e-3."""
    if p.nonfinite and p.nonfinite[-1]:
        return [(f"weight {p.name}: NaN or infinite gradient at step {len(p.grad_std) - 1}: "
                "lower the learning rate and look for log(0), division by zero or overflow "
                "(autograd.detect_anomaly() names the op)")]
    recent = [u for u in p.update_to_data[-10:] if u > 0 and math.isfinite(u)]
    if not recent:
        return []
    level = math.log10(float(np.median(recent)))
    if level < -4.5:
        return [(f"weight {p.name}: updates are {10 ** level:.0e} of the weights (healthy: "
                "~1e-3): the learning rate looks too small")]
    if level > -1.5:
        return [(f"weight {p.name}: updates are {10 ** level:.0e} of the weights (healthy: "
                "~1e-3): the learning rate looks too large")]
    return []
