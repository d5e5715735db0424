"""One conversion rule per layer: to torch, from torch, and into an ONNX graph.

Each `@rule` class below is the whole story of one layer: which ``torch.nn`` class is its
twin, how the weights map (here ``w``/``b``, there ``weight``/``bias``; the layouts are the
same, so nothing is transposed), and which ONNX operators compute it in evaluation mode.
A few layers have no single torch class with the same call (the recurrent layers and
attention return or take something else there); they become small torch modules defined
here, which `from_torch` also reads back.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

import nn
from autograd import Value

from .interop_base import ConversionError, OnnxGraph, Rule, _Context, rule
from .module import Module

_ACTS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
_ONNX_ACTS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def _copy(ctx: _Context, t: Any, **arrays: Any) -> Any:
    """Copy our arrays into torch module `t`'s parameters/buffers of those names; a
    parameter copied from a Value keeps whether it is trained (``requires_grad``)."""
    with ctx.torch.no_grad():
        for name, a in arrays.items():
            if a is not None:
                target = getattr(t, name)
                target.copy_(ctx.tensor(a))
                if isinstance(a, Value) and isinstance(target, ctx.torch.nn.Parameter):
                    target.requires_grad_(a.requires_grad)
    return t


def _set(m: Module, **tensors: Any) -> Module:
    """Copy torch tensors into our module's parameters (Values, keeping whether each is
    trained) or buffers (arrays)."""
    for name, t in tensors.items():
        if t is None:
            continue
        a = t.detach().cpu().numpy()
        current = getattr(m, name)
        if isinstance(current, Value):
            current.data = np.array(a, dtype=current.dtype)
            current.requires_grad = bool(t.requires_grad)
        else:
            setattr(m, name, np.array(a, dtype=np.asarray(current).dtype))
    return m


def _refuse(t: Any, ctx: _Context, why: str) -> None:
    where = f" at {ctx.path!r}" if ctx.path else ""
    raise ConversionError(f"torch {type(t).__name__}{where}: {why} has no counterpart in nn")


def _affine(g: OnnxGraph, x: str, w: Any, b: Any) -> str:
    """x @ wᵀ + b for any number of leading axes."""
    y = g.op("MatMul", [x, g.const(np.asarray(w.data).T)])
    return y if b is None else g.op("Add", [y, g.const(b)])


# ---- preprocessing -----------------------------------------------------------------------

@rule
class StandardizerRule(Rule):
    """nn.data.Standardizer: (x - mean) / std, the training data's statistics."""

    ours, theirs = "Standardizer", ("Standardize",)

    def _stats(self, m: Any) -> tuple[np.ndarray, np.ndarray]:
        if m.mean is None:
            raise ConversionError("Standardizer is not fitted: call fit(X_train) first")
        return m.mean, m.std

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        mean, std = self._stats(m)
        return _torch_modules()["Standardize"](ctx.tensor(mean), ctx.tensor(std))

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        s = nn.data.Standardizer()
        s._keep(ctx.array(t.mean).astype(np.float64), ctx.array(t.std).astype(np.float64))
        return s

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        mean, std = self._stats(m)
        return g.op("Div", [g.op("Sub", [x, g.const(mean)]), g.const(std)])


@rule
class ScalePixelsRule(StandardizerRule):
    """nn.data.ScalePixels: x / max_value (comes back from torch as a Standardizer)."""

    ours, theirs = "ScalePixels", ()

    def _stats(self, m: Any) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(()), np.array(m.max_value)


# ---- the MLP family ----------------------------------------------------------------------

@rule
class LayerRule(Rule):
    """Layer(nin, nout, activation) = torch Linear, followed by the activation module."""

    ours = "Layer"

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        nn_ = ctx.torch.nn
        lin = _copy(ctx, nn_.Linear(m.nin, m.nout, dtype=ctx.torch_dtype(m)),
                    weight=m.w, bias=m.b)
        act = _ACTS.get(m.activation)
        return lin if act is None else nn_.Sequential(lin, getattr(nn_, act)())

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        y = _affine(g, x, m.w, m.b)
        act = _ONNX_ACTS.get(m.activation)
        return y if act is None else g.op(act, [y])


@rule
class LinearRule(Rule):
    ours, theirs = "Linear", ("Linear",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        t = ctx.torch.nn.Linear(m.nin, m.nout, bias=m.b is not None, dtype=ctx.torch_dtype(m))
        return _copy(ctx, t, weight=m.w, bias=m.b)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        m = nn.Linear(t.in_features, t.out_features, bias=t.bias is not None, dtype=ctx.dtype)
        return _set(m, w=t.weight,
                    b=None if t.bias is None else t.bias)

    onnx = LayerRule.onnx


@rule
class NeuronRule(Rule):
    """Neuron(nin) = Linear(nin, 1), its activation, and the size-1 axis dropped."""

    ours = "Neuron"

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        nn_ = ctx.torch.nn
        lin = _copy(ctx, nn_.Linear(m.nin, 1, dtype=ctx.torch_dtype(m)),
                    weight=np.asarray(m.w.data)[None], bias=np.asarray([m.b.data]))
        lin.weight.requires_grad_(m.w.requires_grad)
        lin.bias.requires_grad_(m.b.requires_grad)
        act = _ACTS.get(m.activation)
        return nn_.Sequential(lin, *([getattr(nn_, act)()] if act else []), nn_.Flatten(-2))

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        y = g.op("Add", [g.op("MatMul", [x, g.const(m.w)]), g.const(np.float32(m.b.data))])
        act = _ONNX_ACTS.get(m.activation)
        return y if act is None else g.op(act, [y])


@rule
class MLPRule(Rule):
    """MLP = torch Sequential(Linear, activation, ..., Linear)."""

    ours = "MLP"

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        mods: list[Any] = []
        for i, layer in enumerate(m.layers):
            t = ctx.to_torch(layer, f"layers.{i}")
            mods.extend(t if isinstance(t, ctx.torch.nn.Sequential) else [t])
        return ctx.torch.nn.Sequential(*mods)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        for i, layer in enumerate(m.layers):
            x = g.convert(layer, x, f"layers.{i}")
        return x


@rule
class SequentialRule(Rule):
    ours, theirs = "Sequential", ("Sequential",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return ctx.torch.nn.Sequential(*[ctx.to_torch(c, f"layers.{i}")
                                         for i, c in enumerate(m.layers)])

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        return nn.Sequential(*[ctx.from_torch(c, name) for name, c in t.named_children()])

    onnx = MLPRule.onnx


class ConvTransposeRule(Rule):
    """ConvTranspose1d/2d: the same arguments and weight layout (in, out, *k) both ways."""

    ours, theirs = "ConvTranspose2d", ("ConvTranspose1d", "ConvTranspose2d")

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        cls = getattr(ctx.torch.nn, type(m).__name__)
        c = m.config()
        t = cls(c["in_channels"], c["out_channels"], c["kernel_size"], stride=c["stride"],
                padding=c["padding"], output_padding=c["output_padding"], bias=m.bias,
                dtype=ctx.torch_dtype(m))
        return _copy(ctx, t, weight=m.w, bias=m.b)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        if t.groups != 1 or any(d != 1 for d in t.dilation) or t.padding_mode != "zeros":
            _refuse(t, ctx, "groups, dilation or a padding_mode")
        d = len(t.kernel_size)
        one = (lambda v: v[0] if d == 1 else tuple(v))
        m = getattr(nn, type(t).__name__)(t.in_channels, t.out_channels, one(t.kernel_size),
                                          stride=one(t.stride), padding=one(t.padding),
                                          output_padding=one(t.output_padding),
                                          bias=t.bias is not None, dtype=ctx.dtype)
        return _set(m, w=t.weight, b=t.bias)


rule(ConvTransposeRule)
rule(type("ConvTranspose1dRule", (ConvTransposeRule,), {"ours": "ConvTranspose1d",
                                                        "theirs": ()}))


class _NoWeightsRule(Rule):
    def to_torch(self, m: Any, ctx: _Context) -> Any:
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in m.config().items()
              if k != "dtype"}
        return getattr(ctx.torch.nn, self.ours)(**kw)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        names = {"AdaptiveAvgPool1d": ("output_size",), "AdaptiveAvgPool2d": ("output_size",),
                 "Upsample": ("size", "scale_factor", "mode", "align_corners")}[self.ours]
        return getattr(nn, self.ours)(**{n: getattr(t, n) for n in names}, dtype=ctx.dtype)


for _name in ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "Upsample"):
    rule(type(f"{_name}Rule", (_NoWeightsRule,), {"ours": _name, "theirs": (_name,)}))


@rule
class ModuleListRule(Rule):
    ours, theirs = "ModuleList", ("ModuleList",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return ctx.torch.nn.ModuleList([ctx.to_torch(c, str(i)) for i, c in enumerate(m)])

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        return nn.ModuleList([ctx.from_torch(c, name) for name, c in t.named_children()])


@rule
class ModuleDictRule(Rule):
    ours, theirs = "ModuleDict", ("ModuleDict",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return ctx.torch.nn.ModuleDict({k: ctx.to_torch(c, k) for k, c in m.items()})

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        return nn.ModuleDict({name: ctx.from_torch(c, name) for name, c in t.named_children()})


@rule
class Dropout2dRule(Rule):
    ours, theirs = "Dropout2d", ("Dropout2d",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return ctx.torch.nn.Dropout2d(m.p)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        if t.inplace:
            _refuse(t, ctx, "inplace=True")
        return nn.Dropout2d(t.p)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        return x  # evaluation mode: the identity


@rule
class DropoutRule(Rule):
    ours, theirs = "Dropout", ("Dropout",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return ctx.torch.nn.Dropout(m.p)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        if t.inplace:
            _refuse(t, ctx, "inplace=True")
        return nn.Dropout(t.p)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        return x  # evaluation mode: the identity


# ---- activations and Flatten -------------------------------------------------------------

class _ActivationRule(Rule):
    onnx_op = ""

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return getattr(ctx.torch.nn, self.ours)()

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        return getattr(nn, self.ours)(dtype=ctx.dtype)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        return g.op(self.onnx_op, [x])


for _name, _op in (("ReLU", "Relu"), ("Tanh", "Tanh"), ("Sigmoid", "Sigmoid")):
    rule(type(f"{_name}Rule", (_ActivationRule,),
              {"ours": _name, "theirs": (_name,), "onnx_op": _op}))


@rule
class LeakyReLURule(Rule):
    ours, theirs = "LeakyReLU", ("LeakyReLU",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return ctx.torch.nn.LeakyReLU(m.negative_slope)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        return nn.LeakyReLU(t.negative_slope, dtype=ctx.dtype)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        return g.op("LeakyRelu", [x], alpha=float(m.negative_slope))


@rule
class GELURule(Rule):
    ours, theirs = "GELU", ("GELU",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return ctx.torch.nn.GELU(approximate=m.approximate)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        if t.approximate not in ("none", "tanh"):
            _refuse(t, ctx, f"approximate={t.approximate!r}")
        return nn.GELU(t.approximate, dtype=ctx.dtype)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        """x × Φ(x) = x × (1 + erf(x / √2)) / 2 (ONNX's own Gelu needs opset 20)."""
        if m.approximate != "none":
            raise ConversionError(f"GELU(approximate={m.approximate!r}) has no ONNX export "
                                  "here (only the exact erf form)")
        erf = g.op("Erf", [g.op("Mul", [x, g.const(np.float32(1 / math.sqrt(2)))])])
        half = g.op("Mul", [x, g.const(np.float32(0.5))])
        return g.op("Mul", [half, g.op("Add", [erf, g.const(np.float32(1.0))])])


class _HyperRule(Rule):
    """The release-3 activations: torch's class of the same name with the same
    hyperparameters both ways; `onnx_ops(m, g, x)` writes the ONNX graph."""

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return getattr(ctx.torch.nn, self.ours)(**{n: getattr(m, n) for n, _ in m._args})

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        cls = getattr(nn, self.ours)
        if getattr(t, "inplace", False):
            _refuse(t, ctx, "inplace=True")
        return cls(**{n: float(getattr(t, n)) for n, _ in cls._args}, dtype=ctx.dtype)


def _softplus_onnx(g: OnnxGraph, x: str, beta: float = 1.0) -> str:
    if beta == 1.0:
        return g.op("Softplus", [x])
    scaled = g.op("Softplus", [g.op("Mul", [x, g.const(np.float32(beta))])])
    return g.op("Div", [scaled, g.const(np.float32(beta))])


def _clip_onnx(g: OnnxGraph, x: str, low: float, high: float) -> str:
    return g.op("Clip", [x, g.const(np.float32(low)), g.const(np.float32(high))])


_NEW_ACTIVATION_ONNX = {  # ours: (x, m, g) -> the output's name
    "ELU": lambda g, x, m: g.op("Elu", [x], alpha=float(m.alpha)),
    "CELU": lambda g, x, m: g.op("Celu", [x], alpha=float(m.alpha)),
    "SELU": lambda g, x, m: g.op("Selu", [x]),
    "Softplus": lambda g, x, m: _softplus_onnx(g, x, m.beta),
    "SiLU": lambda g, x, m: g.op("Mul", [x, g.op("Sigmoid", [x])]),
    "Mish": lambda g, x, m: g.op("Mul", [x, g.op("Tanh", [_softplus_onnx(g, x)])]),
    "Hardtanh": lambda g, x, m: _clip_onnx(g, x, m.min_val, m.max_val),
    "ReLU6": lambda g, x, m: _clip_onnx(g, x, 0.0, 6.0),
    "Hardsigmoid": lambda g, x, m: g.op("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5),
    "Hardswish": lambda g, x, m: g.op("HardSwish", [x]),
    "Softsign": lambda g, x, m: g.op("Softsign", [x]),
    "LogSigmoid": lambda g, x, m: g.op("Neg", [_softplus_onnx(g, g.op("Neg", [x]))]),
    "Identity": lambda g, x, m: x,
}
for _name, _write in _NEW_ACTIVATION_ONNX.items():
    rule(type(f"{_name}Rule", (_HyperRule,), {
        "ours": _name, "theirs": (_name,),
        "onnx": lambda self, m, g, x, _w=_write: _w(g, x, m)}))


@rule
class FlattenRule(Rule):
    ours, theirs = "Flatten", ("Flatten",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return ctx.torch.nn.Flatten(m.start_dim, m.end_dim)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        return nn.Flatten(t.start_dim, t.end_dim, dtype=ctx.dtype)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        if (m.start_dim, m.end_dim) != (1, -1):
            raise ConversionError(f"Flatten({m.start_dim}, {m.end_dim}) has no ONNX export "
                                  f"here (only Flatten(1, -1), all axes but the batch)")
        return g.op("Flatten", [x], axis=1)


# ---- convolution and pooling -------------------------------------------------------------

def _pair(v: Any, d: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, tuple | list) else (int(v),) * d


@rule
class ConvRule(Rule):
    """Conv1d/Conv2d: the same class name, arguments and weight layout on both sides."""

    ours, theirs = "Conv2d", ("Conv1d", "Conv2d")

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        t = getattr(ctx.torch.nn, type(m).__name__)(
            m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
            bias=m.b is not None, dtype=ctx.torch_dtype(m))
        return _copy(ctx, t, weight=m.w, bias=m.b)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        d = len(t.kernel_size)
        for attr, plain in (("dilation", (1,) * d), ("groups", 1), ("padding_mode", "zeros")):
            if getattr(t, attr) != plain:
                _refuse(t, ctx, f"{attr}={getattr(t, attr)!r}")
        if isinstance(t.padding, str):
            _refuse(t, ctx, f"padding={t.padding!r}")
        one = (lambda v: v[0]) if d == 1 else tuple
        m = getattr(nn, type(t).__name__)(
            t.in_channels, t.out_channels, one(t.kernel_size), stride=one(t.stride),
            padding=one(t.padding), bias=t.bias is not None, dtype=ctx.dtype)
        return _set(m, w=t.weight, b=None if t.bias is None else t.bias)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        d = np.asarray(m.w.data).ndim - 2
        k, s, p = _pair(m.kernel_size, d), _pair(m.stride, d), _pair(m.padding, d)
        inputs = [x, g.const(m.w)] + ([] if m.b is None else [g.const(m.b)])
        return g.op("Conv", inputs, kernel_shape=list(k), strides=list(s), pads=list(p + p))


rule(type("Conv1dRule", (ConvRule,), {"ours": "Conv1d", "theirs": ()}))


@rule
class PoolRule(Rule):
    """MaxPool1d, MaxPool2d, AvgPool2d: a window and a stride, no padding."""

    ours, theirs = "MaxPool2d", ("MaxPool1d", "MaxPool2d", "AvgPool2d")

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return getattr(ctx.torch.nn, type(m).__name__)(m.kernel_size, m.stride)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        name = type(t).__name__
        plain = {"padding": 0, "ceil_mode": False}
        if name.startswith("Max"):
            plain.update(dilation=1, return_indices=False)
        else:
            plain.update(divisor_override=None)
        for attr, value in plain.items():
            if getattr(t, attr) not in (value, (value,) * 2):
                _refuse(t, ctx, f"{attr}={getattr(t, attr)!r}")
        return getattr(nn, name)(t.kernel_size, t.stride, dtype=ctx.dtype)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        name = type(m).__name__
        d = int(name[-2])
        op = "MaxPool" if name.startswith("Max") else "AveragePool"
        return g.op(op, [x], kernel_shape=list(_pair(m.kernel_size, d)),
                    strides=list(_pair(m.stride, d)))


for _name in ("MaxPool1d", "AvgPool2d"):
    rule(type(f"{_name}Rule", (PoolRule,), {"ours": _name, "theirs": ()}))


# ---- normalisation -----------------------------------------------------------------------

@rule
class BatchNormRule(Rule):
    """BatchNorm1d/2d, running statistics (and the batch count) included."""

    ours, theirs = "BatchNorm2d", ("BatchNorm1d", "BatchNorm2d")

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        t = getattr(ctx.torch.nn, type(m).__name__)(
            m.num_features, eps=m.eps, momentum=m.momentum, dtype=ctx.torch_dtype(m))
        return _copy(ctx, t, weight=m.w, bias=m.b, running_mean=m.running_mean,
                     running_var=m.running_var, num_batches_tracked=m.num_batches_tracked)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        if not t.affine or not t.track_running_stats:
            _refuse(t, ctx, "affine=False or track_running_stats=False")
        m = getattr(nn, type(t).__name__)(t.num_features, eps=t.eps, momentum=t.momentum,
                                          dtype=ctx.dtype)
        return _set(m, w=t.weight, b=t.bias,
                    running_mean=t.running_mean,
                    running_var=t.running_var,
                    num_batches_tracked=t.num_batches_tracked)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        return g.op("BatchNormalization", [x, g.const(m.w), g.const(m.b),
                                           g.const(m.running_mean), g.const(m.running_var)],
                    epsilon=float(m.eps))


rule(type("BatchNorm1dRule", (BatchNormRule,), {"ours": "BatchNorm1d", "theirs": ()}))


@rule
class LayerNormRule(Rule):
    ours, theirs = "LayerNorm", ("LayerNorm",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        t = ctx.torch.nn.LayerNorm(m.normalized_shape, eps=m.eps, bias=m.b is not None,
                                   dtype=ctx.torch_dtype(m))
        return _copy(ctx, t, weight=m.w, bias=m.b)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        if not t.elementwise_affine:
            _refuse(t, ctx, "elementwise_affine=False")
        m = nn.LayerNorm(tuple(t.normalized_shape), eps=t.eps, bias=t.bias is not None,
                         dtype=ctx.dtype)
        return _set(m, w=t.weight, b=None if t.bias is None else t.bias)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        inputs = [x, g.const(m.w)] + ([] if m.b is None else [g.const(m.b)])
        return g.op("LayerNormalization", inputs, axis=-len(m.normalized_shape),
                    epsilon=float(m.eps))


@rule
class GroupNormRule(Rule):
    ours, theirs = "GroupNorm", ("GroupNorm",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        t = ctx.torch.nn.GroupNorm(m.num_groups, m.num_channels, eps=m.eps, affine=m.affine,
                                   dtype=ctx.torch_dtype(m))
        return _copy(ctx, t, weight=m.w, bias=m.b) if m.affine else t

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        m = nn.GroupNorm(t.num_groups, t.num_channels, eps=t.eps, affine=t.affine,
                         dtype=ctx.dtype)
        return _set(m, w=t.weight, b=t.bias) if t.affine else m

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        """Reshape to (N, G, -1), normalise the last axis, reshape back, scale and shift
        per channel (ONNX's GroupNormalization needs opset 18)."""
        shape = g.op("Shape", [x])
        grouped = g.op("Reshape", [x, g.const(np.array([0, m.num_groups, -1], np.int64))])
        mean = g.op("ReduceMean", [grouped], axes=[2])
        centred = g.op("Sub", [grouped, mean])
        var = g.op("ReduceMean", [g.op("Mul", [centred, centred])], axes=[2])
        std = g.op("Sqrt", [g.op("Add", [var, g.const(np.float32(m.eps))])])
        out = g.op("Reshape", [g.op("Div", [centred, std]), shape])
        if not m.affine:
            return out
        per_channel = (-1, 1, 1)
        w = g.const(np.asarray(m.w.data, np.float32).reshape(per_channel))
        b = g.const(np.asarray(m.b.data, np.float32).reshape(per_channel))
        return g.op("Add", [g.op("Mul", [out, w]), b])


# ---- embeddings and attention ------------------------------------------------------------

@rule
class EmbeddingRule(Rule):
    ours, theirs = "Embedding", ("Embedding",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        t = ctx.torch.nn.Embedding(m.num_embeddings, m.embedding_dim, dtype=ctx.torch_dtype(m))
        return _copy(ctx, t, weight=m.w)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        for attr in ("padding_idx", "max_norm"):
            if getattr(t, attr) is not None:
                _refuse(t, ctx, f"{attr}={getattr(t, attr)!r}")
        if t.sparse:
            _refuse(t, ctx, "sparse=True")
        m = nn.Embedding(t.num_embeddings, t.embedding_dim, dtype=ctx.dtype)
        return _set(m, w=t.weight)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        return g.op("Gather", [g.const(m.w), x], axis=0)


@cache
def _torch_modules() -> dict[str, type]:
    """torch modules with nn's calling conventions, for the layers whose torch twin is
    called differently (built once, when torch is first needed)."""
    import torch

    class SelfAttention(torch.nn.Module):
        """torch's MultiheadAttention called as nn's: ``forward(x, causal=False)`` is
        batch-first self-attention returning only the outputs."""

        def __init__(self, attn: Any) -> None:
            super().__init__()
            self.attn = attn

        def forward(self, x: Any, causal: bool = False) -> Any:
            t = x.shape[-2]
            mask = torch.ones(t, t, dtype=torch.bool).triu(1) if causal else None
            return self.attn(x, x, x, attn_mask=mask, need_weights=False)[0]

    class Recurrent(torch.nn.Module):
        """torch's RNN/GRU/LSTM (one layer, batch first) called as nn's: a one-direction
        state in and out is (N, hidden), not (1, N, hidden)."""

        def __init__(self, rnn: Any) -> None:
            super().__init__()
            self.rnn = rnn

        def forward(self, x: Any, state: Any = None) -> Any:
            lstm = isinstance(self.rnn, torch.nn.LSTM)
            one = not self.rnn.bidirectional

            def inner(s: Any) -> Any:
                return s.unsqueeze(-3) if one else s

            def outer(s: Any) -> Any:
                return s.squeeze(-3) if one else s

            if state is not None:
                state = tuple(inner(s) for s in state) if lstm else inner(state)
            out, h = self.rnn(x, state)
            return out, (outer(h[0]), outer(h[1])) if lstm else outer(h)

    class Standardize(torch.nn.Module):
        """``(x - mean) / std``: nn.data's Standardizer (and ScalePixels) as a torch module,
        the statistics as buffers."""

        def __init__(self, mean: Any, std: Any) -> None:
            super().__init__()
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)

        def forward(self, x: Any) -> Any:
            return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    class LastStep(torch.nn.Module):
        """nn.LastStep: ``out[:, -1]`` of a sequence, or of a recurrent layer's (out, h)."""

        def forward(self, x: Any) -> Any:
            return (x[0] if isinstance(x, tuple | list) else x)[:, -1]

    classes = {"SelfAttention": SelfAttention, "Recurrent": Recurrent,
               "Standardize": Standardize, "LastStep": LastStep}
    for cls in classes.values():
        cls.__module__ = __name__
    return classes


@rule
class MultiheadAttentionRule(Rule):
    ours, theirs = "MultiheadAttention", ("MultiheadAttention", "SelfAttention")

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        attn = ctx.torch.nn.MultiheadAttention(m.embed_dim, m.num_heads, bias=m.b_in is not None,
                                               batch_first=True, dtype=ctx.torch_dtype(m))
        _copy(ctx, attn, in_proj_weight=m.w_in, in_proj_bias=m.b_in)
        _copy(ctx, attn.out_proj, weight=m.w_out, bias=m.b_out)
        return _torch_modules()["SelfAttention"](attn)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        a = t.attn if type(t).__name__ == "SelfAttention" else t
        if not a.batch_first:
            _refuse(t, ctx, "batch_first=False (nn's attention is batch first)")
        if not a._qkv_same_embed_dim or a.bias_k is not None or a.add_zero_attn:
            _refuse(t, ctx, "separate key/value sizes, add_bias_kv or add_zero_attn")
        if a.dropout:
            _refuse(t, ctx, f"dropout={a.dropout}")
        m = nn.MultiheadAttention(a.embed_dim, a.num_heads, bias=a.in_proj_bias is not None,
                                  dtype=ctx.dtype)
        bias = a.in_proj_bias is not None
        return _set(m, w_in=a.in_proj_weight, w_out=a.out_proj.weight,
                    b_in=a.in_proj_bias if bias else None,
                    b_out=a.out_proj.bias if bias else None)

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> str:
        """softmax(q kᵀ / √d) v per head, the heads side by side, then the out projection."""
        e, h = m.embed_dim, m.num_heads
        d = e // h
        qkv = _affine(g, x, m.w_in, m.b_in)                                  # (N, T, 3E)
        qkv = g.op("Reshape", [qkv, g.const(np.array([0, 0, 3, h, d]))])
        qkv = g.op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])                # (3, N, h, T, d)
        q, k, v = g.op("Split", [qkv], outputs=3, axis=0)
        q, k, v = (g.op("Squeeze", [a, g.const(np.array([0]))]) for a in (q, k, v))
        q = g.op("Mul", [q, g.const(np.float32(1 / math.sqrt(d)))])
        scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
        y = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])        # (N, h, T, d)
        y = g.op("Transpose", [y], perm=[0, 2, 1, 3])
        y = g.op("Reshape", [y, g.const(np.array([0, 0, e]))])
        return _affine(g, y, m.w_out, m.b_out)


@rule
class LastStepRule(Rule):
    ours, theirs = "LastStep", ("LastStep",)

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        return _torch_modules()["LastStep"]()

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        return nn.LastStep()

    def onnx(self, m: Any, g: OnnxGraph, x: Any) -> str:
        seq = x[0] if isinstance(x, tuple | list) else x
        return g.op("Gather", [seq, g.const(np.array(-1))], axis=1)


# ---- recurrent layers --------------------------------------------------------------------

# gate blocks in ONNX's order, as indices into torch's: GRU z, r, h from torch's r, z, n;
# LSTM i, o, f, c from torch's i, f, g, o
_ONNX_GATES = {"RNN": [0], "GRU": [1, 0, 2], "LSTM": [0, 3, 1, 2]}


@rule
class RecurrentRule(Rule):
    """RNN, GRU, LSTM: one layer, batch first, torch's parameter layout and gate order
    (``w_ih`` is torch's ``weight_ih_l0``, ``w_ih_reverse`` its ``weight_ih_l0_reverse``)."""

    ours, theirs = "GRU", ("RNN", "GRU", "LSTM", "Recurrent")
    _PAIRS = (("w_ih", "weight_ih_l0"), ("w_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
              ("b_hh", "bias_hh_l0"))

    def _names(self, m: Any) -> list[tuple[str, str]]:
        suffixes = ("", "_reverse") if m.bidirectional else ("",)
        return [(a + s, b + s) for s in suffixes for a, b in self._PAIRS
                if m.bias or not a.startswith("b")]

    def to_torch(self, m: Any, ctx: _Context) -> Any:
        name = type(m).__name__
        kw = {"nonlinearity": m.nonlinearity} if name == "RNN" else {}
        rnn = getattr(ctx.torch.nn, name)(m.input_size, m.hidden_size, bias=m.bias,
                                          batch_first=True, bidirectional=m.bidirectional,
                                          dtype=ctx.torch_dtype(m), **kw)
        _copy(ctx, rnn, **{theirs: getattr(m, ours) for ours, theirs in self._names(m)})
        return _torch_modules()["Recurrent"](rnn)

    def from_torch(self, t: Any, ctx: _Context) -> Module:
        r = t.rnn if type(t).__name__ == "Recurrent" else t
        if r.num_layers != 1 or not r.batch_first or getattr(r, "proj_size", 0):
            _refuse(t, ctx, "num_layers > 1, batch_first=False or proj_size")
        name = type(r).__name__
        kw = {"nonlinearity": r.nonlinearity} if name == "RNN" else {}
        m = getattr(nn, name)(r.input_size, r.hidden_size, bias=r.bias,
                              bidirectional=r.bidirectional, dtype=ctx.dtype, **kw)
        return _set(m, **{ours: getattr(r, theirs)
                          for ours, theirs in self._names(m)})

    def onnx(self, m: Any, g: OnnxGraph, x: str) -> tuple[Any, ...]:
        """ONNX's RNN/GRU/LSTM operator on the time-major sequence, gates reordered."""
        name, hsz = type(m).__name__, m.hidden_size
        order = _ONNX_GATES[name]
        suffixes = ("", "_reverse") if m.bidirectional else ("",)
        g_count = len(order)

        def gates(a: Any) -> np.ndarray:
            a = np.zeros(g_count * hsz) if a is None else np.asarray(a.data)
            return np.concatenate([a[i * hsz:(i + 1) * hsz] for i in order])

        def stacked(attr: str) -> np.ndarray:
            return np.stack([gates(getattr(m, attr + s, None)) for s in suffixes])

        bias = np.concatenate([stacked("b_ih"), stacked("b_hh")], axis=1)
        attrs: dict[str, Any] = {"hidden_size": hsz,
                                 "direction": "bidirectional" if m.bidirectional
                                 else "forward"}
        if name == "GRU":
            attrs["linear_before_reset"] = 1  # torch applies r after W_hn h + b_hn
        if name == "RNN":
            act = "Relu" if m.nonlinearity == "relu" else "Tanh"
            attrs["activations"] = [act] * len(suffixes)
        xt = g.op("Transpose", [x], perm=[1, 0, 2])                          # (T, N, I)
        outs = g.op(name, [xt, g.const(stacked("w_ih")), g.const(stacked("w_hh")),
                           g.const(bias)], outputs=3 if name == "LSTM" else 2, **attrs)
        y = g.op("Transpose", [outs[0]], perm=[2, 0, 1, 3])                  # (N, T, dirs, H)
        y = g.op("Reshape", [y, g.const(np.array([0, 0, -1]))])              # (N, T, dirs·H)
        if m.bidirectional:
            states = list(outs[1:])                                          # (2, N, H)
        else:
            states = [g.op("Squeeze", [s, g.const(np.array([0]))]) for s in outs[1:]]
        return (y, tuple(states)) if name == "LSTM" else (y, states[0])


for _name in ("RNN", "LSTM"):
    rule(type(f"{_name}Rule", (RecurrentRule,), {"ours": _name, "theirs": ()}))
