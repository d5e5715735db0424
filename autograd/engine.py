"""The engine: the `Value` node, graph recording, and the reverse pass.

This file knows no operation. An operation is a row of the table in `ops.py`: a forward
function on raw data and one vector-Jacobian product (VJP) per input. The engine records
which op made each Value from which inputs, and `backward()` walks the graph once, in
reverse topological order, handing each node's gradient to its op's VJPs (the chain rule:
dL/dx = dL/dout × dout/dx).

A Value's data is either a Python float (a *scalar*) or a numpy array (a *tensor*).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, NamedTuple, Sequence

import numpy as np


class Op(NamedTuple):
    """One row of the derivative table: a name, the forward map on raw data, and for each
    input a VJP ``vjp(g, ans, *inputs, **params)`` returning dL/d(input) given g = dL/d(ans).

    VJPs are written with operations that numpy arrays and Values both support, so the same
    rule runs on raw arrays (first-order, fast) or on Values (``create_graph=True``).
    """

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Callable[..., Any], ...]


_grad_enabled = True


def is_grad_enabled() -> bool:
    """True unless inside a `no_grad()` block."""
    return _grad_enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Values computed inside the block record no history (they are leaves)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def _as_data(data: Any) -> float | np.ndarray:
    """Validate user data: a Python number gives a float, anything array-like an ndarray
    of float64 (float32 is kept)."""
    if isinstance(data, bool | int | float) and not isinstance(data, np.ndarray):
        return float(data)
    if isinstance(data, str | bytes):
        raise TypeError(f"Value data must be a number, list or numpy array, got a string: {data!r}")
    if not isinstance(data, list | tuple | np.ndarray | np.generic):
        raise TypeError(
            f"Value data must be a number, list, tuple or numpy array, got {type(data).__name__}"
        )
    try:
        arr = np.asarray(data)
    except ValueError as e:  # numpy refuses ragged nesting
        raise ValueError(
            f"Value data must be rectangular (every row the same length); got a ragged "
            f"{type(data).__name__}: {e}"
        ) from None
    if arr.dtype == np.float32:
        return arr.copy() if arr is data else arr
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Value data must be numeric; got an array of dtype {arr.dtype} "
            f"({'ragged or mixed objects' if arr.dtype == object else arr.dtype.name})"
        )
    return np.array(arr, dtype=np.float64)


class Value:
    """A node of the computation graph: data, the gradient dL/d(data), and how it was made.

    ``Value(2.0)`` is a scalar (``.data`` is a float); ``Value([[1, 2], [3, 4]])`` is a
    tensor (``.data`` is an ndarray). Operators and methods build new Values and record the
    graph; ``backward()`` fills ``.grad`` of every Value in it.
    """

    __slots__ = ("data", "_grad", "label", "op", "_inputs", "_prev", "_params",
                 "requires_grad", "_g", "__weakref__")
    __array_ufunc__ = None  # make `ndarray + Value` call Value.__radd__, not numpy's loop

    def __init__(self, data: Any, label: str = "", requires_grad: bool = True) -> None:
        if isinstance(data, Value):
            label = label or data.label
            data = data.data.copy() if isinstance(data.data, np.ndarray) else data.data
        else:
            data = _as_data(data)
        self.data = data
        self._grad = None
        self.label = label
        self.op = ""
        self._inputs = ()
        self._prev = ()
        self._params = None
        self.requires_grad = requires_grad
        self._g = None

    # ---- what a Value is ---------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        d = self.data
        return d.shape if type(d) is np.ndarray else ()

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        d = self.data
        return d.size if type(d) is np.ndarray else 1

    @property
    def dtype(self) -> np.dtype:
        d = self.data
        return d.dtype if type(d) is np.ndarray else np.dtype(np.float64)

    @property
    def is_scalar(self) -> bool:
        """True when data is a Python float (not a numpy array, not even a 0-d one)."""
        return type(self.data) is not np.ndarray

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from (empty for a leaf)."""
        return self._prev

    @property
    def inputs(self) -> tuple[Any, ...]:
        """Every input of the op, constants (plain numbers, arrays) included."""
        return self._inputs

    @property
    def params(self) -> dict[str, Any]:
        """The op's non-differentiable arguments (axis, shape, index...)."""
        return dict(self._params or {})

    @property
    def grad(self) -> float | np.ndarray:
        """dL/d(this Value), shaped like data; zero until a backward pass reaches it."""
        g = self._grad
        d = self.data
        if type(d) is not np.ndarray:
            return 0.0 if g is None else float(g)
        if g is None:
            return np.zeros_like(d)
        if type(g) is not np.ndarray or g.shape != d.shape or g.dtype != d.dtype:
            g = np.broadcast_to(np.asarray(g, dtype=d.dtype), d.shape).copy()
            self._grad = g
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        if isinstance(value, Value):
            value = value.data
        if np.shape(value) != self.shape:
            raise ValueError(f"grad must have shape {self.shape} (the data's), got {np.shape(value)}")
        self._grad = value

    def zero_grad(self) -> None:
        """Reset the gradient to zero (gradients accumulate across backward calls)."""
        self._grad = None

    def item(self) -> float:
        if self.size != 1:
            raise ValueError(f"item() needs a Value with one element, this one has shape {self.shape}")
        return float(self.data) if self.is_scalar else float(self.data.reshape(()))

    def numpy(self) -> np.ndarray:
        """A copy of data as an ndarray."""
        return np.array(self.data, dtype=self.dtype)

    def detach(self) -> Value:
        """The same data, no history."""
        return Value._leaf(self.data, self.label)

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self.op else ""
        if self.is_scalar:
            return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{op}{name})"
        body = np.array2string(self.data, precision=4, threshold=16, separator=", ")
        return f"Value({body}, shape={self.shape}, dtype={self.dtype}{op}{name})"

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a Value of shape {self.shape} is ambiguous; "
                "compare .data, or use .item()"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self.is_scalar or self.ndim == 0:
            raise TypeError("len() of a scalar Value")
        return self.shape[0]

    # ---- graph construction -------------------------------------------------------------
    @classmethod
    def _leaf(cls, data: Any, label: str = "") -> Value:
        v = cls.__new__(cls)
        v.data = data
        v._grad = None
        v.label = label
        v.op = ""
        v._inputs = ()
        v._prev = ()
        v._params = None
        v.requires_grad = True
        v._g = None
        return v

    # ---- the reverse pass ----------------------------------------------------------------
    def backward(self, gradient: Any = None) -> None:
        """Fill ``.grad`` of every Value in the graph with d(self)/d(that Value), added to
        what is there (as in PyTorch). A size-1 Value seeds 1.0; any other needs `gradient`
        of its shape (the vector of a vector-Jacobian product)."""
        seed = _seed(self, gradient)
        _backprop(self, seed, create_graph=False, sink=_accumulate)


def apply(op: Op, *inputs: Any, **params: Any) -> Value:
    """Run `op` forward on the inputs' data and, unless in `no_grad()`, record the node.

    Inputs are Values or constants (floats, arrays); constants never get a gradient. The
    result is a scalar when every input is a Python float, else a tensor."""
    datas = [x.data if isinstance(x, Value) else x for x in inputs]
    try:
        out = op.forward(*datas, **params)
    except (ValueError, IndexError, TypeError) as e:
        shapes = ", ".join(str(np.shape(d)) for d in datas)
        raise type(e)(f"{op.name} on inputs of shapes {shapes}: {e}") from None
    if type(out) is not float and type(out) is not np.ndarray:
        out = float(out) if all(type(d) is float for d in datas) else np.asarray(out)
    v = Value._leaf(out)
    if _grad_enabled:
        prev = tuple(x for x in inputs if isinstance(x, Value))
        v.op = op.name
        v._inputs = inputs
        v._prev = prev
        v._params = params or None
        v.requires_grad = any(p.requires_grad for p in prev)
    return v


def _accumulate(node: Value, g: Any) -> None:
    old = node._grad
    node._grad = g if old is None else old + g


def _seed(root: Value, gradient: Any) -> Any:
    shape = root.shape
    if gradient is None:
        if root.size != 1:
            raise ValueError(
                f"backward() on a Value of shape {shape} needs a `gradient` of shape {shape} "
                "(only a single-element Value seeds 1.0 by itself); call .sum() first, or pass one"
            )
        return 1.0 if root.is_scalar else np.ones_like(root.data)
    if isinstance(gradient, Value):
        gradient = gradient.data
    g = gradient if isinstance(gradient, float | int) and not shape else np.asarray(gradient)
    if np.shape(g) != shape:
        raise ValueError(f"gradient must have the shape of the Value, {shape}; got {np.shape(g)}")
    if root.is_scalar:
        return float(g)
    return np.asarray(g, dtype=root.dtype)


def topological_order(root: Value) -> list[Value]:
    """Every Value that `root` depends on, each after all of its parents, without recursion."""
    order: list[Value] = []
    seen = {root}
    stack = [(root, iter(root._prev))]
    push, pop = stack.append, stack.pop
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p not in seen:
                seen.add(p)
                push((p, iter(p._prev)))
                break
        else:
            pop()
            order.append(node)
    return order


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`.
    Works on raw arrays and on Values alike."""
    gshape = g.shape if hasattr(g, "shape") else ()
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:  # the gradient is smaller than its input (a broadcast constant): expand it
        return _broadcast_to(g, shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if lead else g


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(x, Value):
        return x.broadcast_to(shape)
    return np.broadcast_to(x, shape)


def _backprop(root: Value, seed: Any, create_graph: bool,
              sink: Callable[[Value, Any], None]) -> None:
    """The chain rule, once per node, in reverse topological order.

    Each node's incoming gradients are summed in ``node._g`` (a Value used twice gets both
    contributions), then `sink(node, g)` receives the total and the op's VJPs send it on to
    the inputs that need a gradient. Constants and ``requires_grad=False`` inputs get none.
    """
    from .ops import OPS  # the table; imported here so this file names no op

    global _grad_enabled
    order = topological_order(root)
    previous = _grad_enabled
    _grad_enabled = create_graph  # raw VJPs build nothing; Value VJPs build the new graph
    root._g = seed
    try:
        for node in reversed(order):
            g = node._g
            if g is None:
                continue
            node._g = None
            sink(node, g)
            if not node._prev:
                continue
            rule = OPS[node.op]
            inputs = node._inputs
            if create_graph:
                args = inputs
                ans = node
            else:
                args = [x.data if isinstance(x, Value) else x for x in inputs]
                ans = node.data
            params = node._params
            for i, x in enumerate(inputs):
                if not isinstance(x, Value) or not x.requires_grad:
                    continue
                vjp = rule.vjps[i]
                gi = vjp(g, ans, *args, **params) if params else vjp(g, ans, *args)
                gi = unbroadcast(gi, x.shape)
                old = x._g
                x._g = gi if old is None else old + gi
    finally:
        _grad_enabled = previous
        for node in order:
            node._g = None


def grad(output: Value, inputs: Value | Sequence[Value], gradient: Any = None,
         create_graph: bool = False) -> tuple[Any, ...]:
    """d(output)/d(input) for each input, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the results are Values with their own graph, so they can be
    differentiated again (second and higher derivatives)."""
    if not isinstance(output, Value):
        raise TypeError(f"grad() needs a Value as output, got {type(output).__name__}")
    single = isinstance(inputs, Value)
    targets = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(targets):
        if not isinstance(t, Value):
            raise TypeError(f"grad() inputs must be Values; input {i} is {type(t).__name__}")
    wanted = {t: None for t in targets}
    found: dict[Value, Any] = {}

    def sink(node: Value, g: Any) -> None:
        if node in wanted:
            found[node] = g

    _backprop(output, _seed(output, gradient), create_graph, sink)
    results = []
    for t in targets:
        g = found.get(t)
        if g is None:
            g = 0.0 if t.is_scalar else np.zeros_like(t.data)
        if create_graph:
            results.append(g if isinstance(g, Value) else Value._leaf(_like(t, g)))
        else:
            results.append(_like(t, g))
    return tuple(results)


def _like(t: Value, g: Any) -> Any:
    """A raw gradient in the form of t's data: float for scalars, ndarray of t's dtype."""
    if t.is_scalar:
        return float(g)
    return np.broadcast_to(np.asarray(g, dtype=t.dtype), t.shape).copy()
