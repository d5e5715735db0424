"""Weight initialisers with ``torch.nn.init``'s names, arguments and numbers.

Each fills a parameter (a `Value`, or an ndarray) in place, keeps its dtype, and returns it:
``nn.init.kaiming_uniform_(layer.w, nonlinearity="relu", generator=0)``. Random draws come
from `generator` (a ``numpy.random.Generator``, an int seed, or None for a fresh one), so
the values differ from torch's but their distribution is the same.

The scaled ones keep the variance of activations steady from layer to layer (fan_in is the
number of inputs a unit reads, ``shape[1] × kernel size``; fan_out ``shape[0] × kernel``):
  xavier (Glorot): std = gain × √(2 / (fan_in + fan_out))
  kaiming (He):    std = gain / √fan,  gain = √(2 / (1 + a²)) for (leaky) ReLU
and a uniform draw on [-√3·std, √3·std] has that std.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd import Value

__all__ = ["calculate_gain", "constant_", "eye_", "kaiming_normal_", "kaiming_uniform_",
           "normal_", "ones_", "orthogonal_", "trunc_normal_", "uniform_", "xavier_normal_",
           "xavier_uniform_", "zeros_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for a nonlinearity, as torch: 1 for linear and sigmoid, 5/3 for
    tanh, √2 for relu, √(2 / (1 + slope²)) for leaky_relu (slope 0.01 by default), 3/4 for
    selu."""
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, int | float):
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; valid ones are "
                     + ", ".join(repr(n) for n in (*_LINEAR, "tanh", "relu", "leaky_relu",
                                                    "selu")))


def _rng(generator: Any) -> np.random.Generator:
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None or (isinstance(generator, int | np.integer)
                             and not isinstance(generator, bool)):
        return np.random.default_rng(generator)
    raise TypeError(f"generator must be a numpy Generator, an int seed or None, "
                    f"got {type(generator).__name__}")


def _shape(tensor: Any) -> tuple[int, ...]:
    if isinstance(tensor, Value):
        return tensor.shape
    if isinstance(tensor, np.ndarray) and tensor.dtype.kind == "f":
        return tensor.shape
    raise TypeError(f"nn.init fills a Value or a float ndarray in place, "
                    f"got {type(tensor).__name__}")


def _fill(tensor: Any, values: Any) -> Any:
    """Write `values` into the tensor's data in place, keeping its dtype; return it."""
    if isinstance(tensor, Value):
        if tensor.is_scalar:
            tensor.data = float(np.reshape(values, ()))
        else:
            tensor.data[...] = values
    else:
        tensor[...] = values
    return tensor


def _fans(tensor: Any) -> tuple[int, int]:
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer "
                         f"than 2 dimensions (got shape {shape}); use uniform_/normal_ for "
                         f"biases")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Any:
    """Fill with draws from U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, _shape(tensor)))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Any:
    """Fill with draws from N(mean, std²)."""
    return _fill(tensor, _rng(generator).normal(mean, std, _shape(tensor)))


def trunc_normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Any:
    """Fill with draws from N(mean, std²) restricted to [a, b] (redrawn until inside)."""
    rng, shape = _rng(generator), _shape(tensor)
    out = rng.normal(mean, std, shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor: Any, val: float) -> Any:
    _shape(tensor)
    return _fill(tensor, val)


def zeros_(tensor: Any) -> Any:
    return constant_(tensor, 0.0)


def ones_(tensor: Any) -> Any:
    return constant_(tensor, 1.0)


def eye_(tensor: Any) -> Any:
    """The identity matrix (2-D only), as torch.nn.init.eye_."""
    shape = _shape(tensor)
    if len(shape) != 2:
        raise ValueError(f"eye_ needs a 2-D tensor, got shape {shape}")
    return _fill(tensor, np.eye(*shape))


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """Glorot: U(-a, a) with a = gain × √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """Glorot: N(0, std²) with std = gain × √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Any:
    """He: U(-bound, bound), bound = √3 × gain / √fan (torch's defaults: leaky_relu, a=0,
    which is ReLU's gain √2)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Any:
    """He: N(0, std²), std = gain / √fan."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Any, gain: float = 1.0, generator: Any = None) -> Any:
    """A (semi-)orthogonal matrix (rows × the rest flattened), times gain, as torch's."""
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError(f"orthogonal_ needs a tensor of at least 2 dimensions, got {shape}")
    rows = shape[0]
    cols = math.prod(shape) // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(shape))
