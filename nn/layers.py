"""Neuron, Layer and MLP: the document's building blocks.

A neuron computes ``output = activation(w₁×x₁ + w₂×x₂ + ... + wₙ×xₙ + b)``. A layer is
``nout`` neurons side by side: its weight matrix ``w`` has one row per neuron (as the
document writes them), so a whole batch goes through in one matrix product,
``activation(x @ w.T + b)``. An MLP chains layers; its last layer is linear and returns
logits (softmax lives in the loss).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd
from autograd import Value
from autograd.ops.linalg import linear

from ._checks import float_dtype, generator, positive_int
from .module import Module

ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear")


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; valid ones are "
                         + ", ".join(repr(a) for a in ACTIVATIONS))
    return activation


def _activate(z: Value, activation: str) -> Value:
    if activation == "relu":
        return z.relu()
    if activation == "tanh":
        return z.tanh()
    if activation == "sigmoid":
        return z.sigmoid()
    return z


def init_weights(nout: int, nin: int, activation: str, rng: np.random.Generator,
                 dtype: np.dtype) -> np.ndarray:
    """Random weights scaled to keep activations' variance steady across layers:
    He (std √(2/nin)) before ReLU, Glorot/Xavier (std √(2/(nin+nout))) otherwise."""
    std = np.sqrt(2.0 / nin) if activation == "relu" else np.sqrt(2.0 / (nin + nout))
    return (rng.standard_normal((nout, nin)) * std).astype(dtype)


def _as_input(x: Any, nin: int, dtype: np.dtype, who: str) -> Any:
    """The input as a Value (kept, so gradients reach it) or an ndarray constant, after
    checking that its last axis holds `nin` features."""
    if isinstance(x, list | tuple) and _holds_values(x):
        x = _stack(x, who)  # the micrograd way, [Value(1.0), Value(2.0)]: each gets its grad
    elif not isinstance(x, Value):
        try:
            x = np.asarray(x, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{who} expects numeric input: a Value, an ndarray, or a list of "
                            f"numbers or of Values; got a {type(x).__name__} it cannot read "
                            f"as numbers ({e})") from None
    shape = x.shape
    if len(shape) == 0 or shape[-1] != nin:
        raise ValueError(f"{who} expects inputs with {nin} features, got shape {shape}")
    return x


def _holds_values(x: list | tuple) -> bool:
    return any(isinstance(i, Value) or (isinstance(i, list | tuple) and _holds_values(i))
               for i in x)


def _stack(x: list | tuple, who: str) -> Value:
    """A list of Values (and numbers), or rows of them, as one tensor Value whose
    gradient flows back to every element."""
    try:
        return autograd.stack([_stack(i, who) if isinstance(i, list | tuple) else i for i in x])
    except (TypeError, ValueError) as e:
        raise ValueError(f"{who}: cannot stack the input's Values into one array ({e})") \
            from None


def _as_tensor(x: Any, dtype: np.dtype, who: str) -> Value:
    """The input as a Value: a Value is kept (gradients reach it); lists and arrays become a
    constant Value of the layer's dtype."""
    if isinstance(x, Value):
        return x
    if isinstance(x, list | tuple) and _holds_values(x):
        return _stack(x, who)
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who} expects numeric input (a list, ndarray or Value), "
                        f"got {type(x).__name__}: {e}") from None
    return Value(arr, requires_grad=False)


class Neuron(Module):
    """One neuron: ``activation(w · x + b)`` with ``w`` of shape (nin,) and a scalar ``b``."""

    def __init__(self, nin: int, activation: str = "relu",
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.nin = positive_int(nin, "nin")
        self.activation = _check_activation(activation)
        self.dtype = float_dtype(dtype)
        w = init_weights(1, self.nin, activation, generator(seed), self.dtype)[0]
        self.w = Value(w, label="w")
        self.b = Value(0.0, label="b")

    def forward(self, x: Any) -> Value:
        x = _as_input(x, self.nin, self.dtype, "Neuron")
        return _activate(x @ self.w + self.b, self.activation)

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation, "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {"w": (positive_int(config.get("nin"), "nin"),), "b": ()}

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self.activation}"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs: ``activation(x @ w.T + b)``.

    ``w`` has shape (nout, nin), row i being neuron i's weights; ``b`` has shape (nout,).
    A 1-D input is one sample; a 2-D input is a batch, one sample per row."""

    def __init__(self, nin: int, nout: int, activation: str = "relu",
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.nin = positive_int(nin, "nin")
        self.nout = positive_int(nout, "nout")
        self.activation = _check_activation(activation)
        self.dtype = float_dtype(dtype)
        self.w = Value(init_weights(self.nout, self.nin, activation, generator(seed), self.dtype),
                       label="w")
        self.b = Value(np.zeros(self.nout, dtype=self.dtype), label="b")

    def forward(self, x: Any) -> Value:
        x = _as_input(x, self.nin, self.dtype, "Layer")
        if x.ndim >= 2:  # a batch: one fused node, x @ w.T + b (same numbers, less overhead)
            return _activate(linear(x, self.w, self.b), self.activation)
        return _activate(x @ self.w.T + self.b, self.activation)  # one sample: step by step

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation,
                "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        nin, nout = positive_int(config.get("nin"), "nin"), positive_int(config.get("nout"), "nout")
        return {"w": (nout, nin), "b": (nout,)}

    def extra_repr(self) -> str:
        return f"{self.nin} -> {self.nout}, activation={self.activation}"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(4, [3, 2])`` is the document's 4→3→2 network.

    Hidden layers use `activation`; the last layer is linear and returns logits."""

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.nin = positive_int(nin, "nin")
        if isinstance(nouts, int | np.integer):
            nouts = [nouts]
        nouts = [positive_int(n, f"nouts[{i}]") for i, n in enumerate(nouts)]
        if not nouts:
            raise ValueError("nouts must list at least one layer size")
        self.nouts = nouts
        self.activation = _check_activation(activation)
        self.dtype = float_dtype(dtype)
        rng = generator(seed)
        sizes = [self.nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1],
                  activation if i < len(nouts) - 1 else "linear", seed=rng, dtype=self.dtype)
            for i in range(len(nouts))
        ]
        self._relabel()

    def forward(self, x: Any) -> Value:
        for layer in self.layers:
            x = layer(x)
        return x

    @classmethod
    def from_weights(cls, weights: Sequence[tuple[Any, Any]], activation: str = "relu") -> MLP:
        """An MLP with the given ``[(W1, b1), (W2, b2), ...]``, each W shaped (nout, nin)."""
        arrays = []
        for i, pair in enumerate(weights):
            try:
                w, b = pair
            except (TypeError, ValueError):
                raise ValueError(f"weights[{i}] must be a pair (W, b)") from None
            w = np.asarray(w.data if isinstance(w, Value) else w)
            b = np.asarray(b.data if isinstance(b, Value) else b)
            if w.dtype.kind not in "biuf" or b.dtype.kind not in "biuf":
                raise TypeError(f"weights[{i}] must be numeric arrays")
            if w.ndim != 2:
                raise ValueError(f"weights[{i}]: W must be 2-D (nout, nin), got shape {w.shape}")
            if b.shape != (w.shape[0],):
                raise ValueError(f"weights[{i}]: b must have shape ({w.shape[0]},) to match W of "
                                 f"shape {w.shape}, got {b.shape}")
            if arrays and w.shape[1] != arrays[-1][0].shape[0]:
                raise ValueError(f"weights[{i}]: W has {w.shape[1]} inputs but the previous layer "
                                 f"has {arrays[-1][0].shape[0]} outputs")
            arrays.append((w, b))
        if not arrays:
            raise ValueError("from_weights needs at least one (W, b) pair")
        dtype = np.float32 if all(w.dtype == np.float32 for w, _ in arrays) else np.float64
        model = cls(arrays[0][0].shape[1], [w.shape[0] for w, _ in arrays], activation,
                    seed=0, dtype=dtype)
        for layer, (w, b) in zip(model.layers, arrays):
            layer.w.data = np.array(w, dtype=dtype)
            layer.b.data = np.array(b, dtype=dtype)
        return model

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nouts": list(self.nouts), "activation": self.activation,
                "dtype": self.dtype.name}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        nouts = config.get("nouts")
        nouts = [nouts] if isinstance(nouts, int) else nouts
        if not isinstance(nouts, list):
            raise TypeError(f"nouts must be a list of layer sizes, got {nouts!r}")
        sizes = [positive_int(config.get("nin"), "nin"),
                 *[positive_int(n, f"nouts[{i}]") for i, n in enumerate(nouts)]]
        shapes = {}
        for i in range(len(nouts)):
            shapes[f"layers.{i}.w"] = (sizes[i + 1], sizes[i])
            shapes[f"layers.{i}.b"] = (sizes[i + 1],)
        return shapes

    def extra_repr(self) -> str:
        sizes = " -> ".join(str(n) for n in [self.nin, *self.nouts])
        return f"{sizes}, activation={self.activation}, parameters={self.num_parameters()}"


def torch_uniform(shape: tuple[int, ...], fan_in: int, rng: np.random.Generator,
                  dtype: np.dtype) -> np.ndarray:
    """PyTorch's default init for Linear and Conv weights and biases: U(-1/√fan_in,
    1/√fan_in) (its kaiming-uniform with a = √5 gives exactly this bound)."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Linear(Layer):
    """An affine map ``x @ w.T + b`` with no activation: ``Layer(nin, nout, "linear")``,
    initialised and named as ``torch.nn.Linear`` (w (nout, nin), b (nout,), both
    U(-1/√nin, 1/√nin)); ``bias=False`` leaves b out (``.b`` is None)."""

    def __init__(self, nin: int, nout: int, bias: bool = True,
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        Module.__init__(self)
        self.nin = positive_int(nin, "nin")
        self.nout = positive_int(nout, "nout")
        self.activation = "linear"
        self.bias = bool(bias)
        self.dtype = float_dtype(dtype)
        rng = generator(seed)
        self.w = Value(torch_uniform((self.nout, self.nin), self.nin, rng, self.dtype), label="w")
        self.b = Value(torch_uniform((self.nout,), self.nin, rng, self.dtype), label="b") \
            if self.bias else None

    def forward(self, x: Any) -> Value:
        x = _as_input(x, self.nin, self.dtype, f"Linear({self.nin}, {self.nout})")
        if x.ndim >= 2:
            return linear(x, self.w, self.b)
        out = x @ self.w.T
        return out if self.b is None else out + self.b

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "bias": self.bias, "dtype": self.dtype.name}

    def extra_repr(self) -> str:
        return f"{self.nin} -> {self.nout}, bias={self.bias}"
