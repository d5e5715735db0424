"""The engine: the `Value` node, graph recording, and the reverse pass.

This file knows no operation. It keeps the derivative table (`OPS`, filled by `defop` in
`ops.py` and the files beside it): a row is an operation's forward function on raw data and
one vector-Jacobian product (VJP) per input. The engine records
which op made each Value from which inputs, and `backward()` applies the chain rule once
per node, in reverse topological order, handing each node's gradient to its op's VJPs
(dL/dx = dL/dout × dout/dx). Nothing recurses: a chain of millions of nodes is fine.

Speed: scalar graphs (micrograd-style networks) cost Python time per node, so nodes are
slotted objects holding their inputs in two slots, and the operator methods made here
(`binary_method`, `unary_method`) build scalar nodes without going through `apply`.

A Value's data is either a Python float (a *scalar*) or a numpy array (a *tensor*).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np


class Op:
    """One row of the derivative table: a name, the forward map on raw data, and for each
    input a VJP ``vjp(g, ans, *inputs, **params)`` returning dL/d(input) given g = dL/d(ans).

    VJPs are written with operations that numpy arrays and Values both support, so the same
    rule runs on raw arrays (first-order, fast) or on Values (``create_graph=True``).
    Optional metadata rides along in the same entry: `symbol` (the drawing's caption for the
    op node), `formula` (how explain writes it, e.g. ``"{0} + {1}"``), and any other keyword
    in `meta`. `vjps` is anything indexed by input position (a tuple, usually).
    """

    __slots__ = ("formula", "forward", "meta", "name", "symbol", "vjps")

    def __init__(self, name: str, forward: Callable[..., Any], vjps: Any = (),
                 symbol: str = "", formula: str = "", meta: dict[str, Any] | None = None) -> None:
        self.name, self.forward, self.vjps = name, forward, vjps
        self.symbol, self.formula, self.meta = symbol, formula, meta

    def _replace(self, **changes: Any) -> Op:
        """A copy with some fields changed (as a NamedTuple's `_replace`)."""
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields.update(changes)
        return Op(**fields)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


# The derivative table: op name -> Op. `defop` adds a row; ops live in `ops.py` and beside it.
OPS: dict[str, Op] = {}


def defop(name: str, forward: Callable[..., Any], *vjps: Callable[..., Any],
          **metadata: Any) -> Op:
    """Register an operation: its forward map on raw data and one VJP per input (plus
    optional metadata: ``symbol=``, ``formula=``, ...). Returns the `Op` to `apply`."""
    symbol, formula = metadata.pop("symbol", ""), metadata.pop("formula", "")
    op = OPS[name] = Op(name, forward, vjps, symbol, formula, metadata or None)
    return op


_grad_enabled = True
_new = object.__new__  # a bare instance; `apply` and the fast operators fill its slots
_UNSET = object()  # during a reverse pass: "reached, no gradient summed yet"
_NO = object()  # in a node's `_a`/`_b` slot: no input there


class _Rest(tuple):
    """A node's third input and on, kept in its `_b` slot (told apart from a constant)."""

    __slots__ = ()


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
    if type(data) is float:
        return data
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

    # Slots keep nodes small and quick to make. The op's inputs (Values and constants) sit in
    # `_a` and `_b` (`_NO` when absent; a `_Rest` tuple in `_b` for a third input and on), not
    # in a tuple: one object less per node to allocate, free, and for the garbage collector to
    # visit, which is where long scalar graphs spend much of their time.
    # `_g` sums a gradient during one reverse pass, `_n` counts the uses still to come.
    __slots__ = ("__weakref__", "_a", "_b", "_g", "_grad", "_n", "_params", "data", "label",
                 "op", "requires_grad")
    __array_ufunc__ = None  # make `ndarray + Value` call Value.__radd__, not numpy's loop

    def __init__(self, data: Any, label: str = "", requires_grad: bool = True) -> None:
        if isinstance(data, Value):
            label = label or data.label
            data = data.data.copy() if isinstance(data.data, np.ndarray) else data.data
        else:
            data = _as_data(data)
        _init_leaf(self, data, label, requires_grad)

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
        return tuple([x for x in _inputs(self) if isinstance(x, Value)])

    @property
    def inputs(self) -> tuple[Any, ...]:
        """Every input of the op, constants (plain numbers, arrays) included."""
        return _inputs(self)

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
        if (type(g) is not np.ndarray or g.shape != d.shape or g.dtype != d.dtype
                or not g.flags.writeable):  # e.g. the read-only broadcast that sum's VJP gives
            g = self._grad = _like(self, g)
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None or (type(value) is float and type(self.data) is float):
            self._grad = value  # None, or a float for a scalar (micrograd's `p.grad = 0`)
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
        """A leaf around already-validated data (no copy, no checks)."""
        v = _new(cls)
        _init_leaf(v, data, label, True)
        return v

    # ---- the reverse pass ----------------------------------------------------------------
    def backward(self, gradient: Any = None) -> None:
        """Fill ``.grad`` of every Value in the graph with d(self)/d(that Value), added to
        what is there (as in PyTorch). A size-1 Value seeds 1.0; any other needs `gradient`
        of its shape (the vector of a vector-Jacobian product)."""
        seed = _seed(self, gradient)
        _backprop(self, seed, create_graph=False, sink=_accumulate)


def _init_leaf(v: Value, data: Any, label: str, requires_grad: bool) -> None:
    """Fill the slots of a Value that has no history."""
    v.data = data
    v._grad = None
    v.label = label
    v.op = ""
    v._a = v._b = _NO
    v._params = None
    v.requires_grad = requires_grad
    v._g = None


def _inputs(node: Value) -> tuple[Any, ...]:
    """Every op input of `node`, in order (Values and constants); () for a leaf."""
    a = node._a
    if a is _NO:
        return ()
    b = node._b
    if b is _NO:
        return (a,)
    if type(b) is _Rest:
        return (a, *b)
    return (a, b)


def apply(op: Op, *inputs: Any, **params: Any) -> Value:
    """Run `op` forward on the inputs' data and, unless in `no_grad()`, record the node.

    Inputs are Values or constants (floats, arrays); constants never get a gradient. The
    result is a scalar when every input is a Python float, else a tensor."""
    datas = [x.data if isinstance(x, Value) else x for x in inputs]
    try:
        out = op.forward(*datas, **params) if params else op.forward(*datas)
    except (ValueError, IndexError, TypeError) as e:
        shapes = ", ".join(str(np.shape(d)) for d in datas)
        raise type(e)(f"{op.name} on inputs of shapes {shapes}: {e}") from None
    t = type(out)
    if t is not float and t is not np.ndarray:
        out = float(out) if all(type(d) is float for d in datas) else np.asarray(out)
    v = _new(Value)  # the slots are set by hand: this is the hot path of every op
    v.data = out
    v._grad = None
    v.label = ""
    v._g = None
    if _grad_enabled:
        v.op = op.name
        n = len(inputs)
        if n == 2:
            v._a, v._b = inputs
        elif n == 1:
            v._a = inputs[0]
            v._b = _NO
        elif n:
            v._a = inputs[0]
            v._b = _Rest(inputs[1:])
        else:
            v._a = v._b = _NO
        v._params = params or None
        rg = False
        for x in inputs:
            if isinstance(x, Value) and x.requires_grad:
                rg = True
                break
        v.requires_grad = rg
    else:
        v.op = ""
        v._a = v._b = _NO
        v._params = None
        v.requires_grad = True
    return v


# ---- Value's operator methods, made from table rows ------------------------------------
def operand(x: Any) -> Any:
    """A constant operand as raw data (a float or an ndarray), the Value itself, or None
    when it is not a number or array."""
    if isinstance(x, Value):
        return x
    if isinstance(x, bool | int | float):
        return float(x)
    if isinstance(x, np.ndarray | np.generic):
        return x if x.dtype.kind == "f" else np.asarray(x, dtype=np.float64)
    if isinstance(x, list | tuple):
        return np.asarray(Value(x).data)
    return None


_const = operand  # the older name, still imported by files beside ops.py


def binary_method(op: Op, reflected: bool = False) -> Callable[[Value, Any], Any]:
    """The operator method (``__add__``, or ``__radd__`` when `reflected`) for a two-input
    `op`. Two scalars (a scalar Value and a number, or two scalar Values) skip `apply`'s
    generality: the node is built here, its data from the table's own forward. Scalar graphs
    (micrograd-style networks, long chains) spend their time in this function."""
    fwd = op.forward
    name = op.name

    def general(self: Value, other: Any) -> Any:
        other = operand(other)
        if other is None:
            return NotImplemented
        return apply(op, other, self) if reflected else apply(op, self, other)

    def method(self: Value, other: Any) -> Any:
        sd = self.data
        if type(sd) is not float:
            return general(self, other)
        t = type(other)
        if t is Value:
            od = other.data
            if type(od) is not float:
                return general(self, other)
            rg = self.requires_grad or other.requires_grad
        elif t is float or t is int:
            try:
                od = other = float(other)
            except OverflowError:
                return general(self, other)
            rg = self.requires_grad
        else:
            return general(self, other)
        try:
            out = fwd(od, sd) if reflected else fwd(sd, od)
        except (ArithmeticError, ValueError, TypeError, IndexError):  # apply reports it
            return general(self, other)
        if type(out) is not float:
            out = float(out)
        v = _new(Value)
        v.data = out
        v._grad = v._g = v._params = None
        v.label = ""
        if _grad_enabled:
            v.op = name
            if reflected:
                v._a, v._b = other, self
            else:
                v._a, v._b = self, other
            v.requires_grad = rg
        else:
            v.op = ""
            v._a = v._b = _NO
            v.requires_grad = True
        return v

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


def unary_method(op: Op, doc: str = "") -> Callable[[Value], Value]:
    """The method for a one-input `op`; on a scalar it builds the node itself (its data from
    the table's forward, which should be quick on a Python float)."""
    fwd = op.forward
    name = op.name

    def method(self: Value) -> Value:
        sd = self.data
        if type(sd) is not float:
            return apply(op, self)
        try:
            out = fwd(sd)
        except (ArithmeticError, ValueError, TypeError, IndexError):  # apply reports it
            return apply(op, self)
        if type(out) is not float:
            out = float(out)
        v = _new(Value)
        v.data = out
        v._grad = v._g = v._params = None
        v.label = ""
        if _grad_enabled:
            v.op = name
            v._a = self
            v._b = _NO
            v.requires_grad = self.requires_grad
        else:
            v.op = ""
            v._a = v._b = _NO
            v.requires_grad = True
        return v

    method.__name__ = name
    method.__doc__ = doc
    return method


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
    return np.array(g, dtype=root.dtype)  # a copy: the caller's array must not become .grad


def topological_order(root: Value) -> list[Value]:
    """Every Value that `root` depends on, each after all of its parents, without recursion."""
    # Depth first with an explicit stack: a node is expanded on its first pop (pushed back,
    # then its unvisited parents above it, first parent on top) and emitted on its second.
    # Copies pushed by a second consumer before the first expansion are skipped as stale.
    order: list[Value] = []
    visited: set[Value] = set()
    done: set[Value] = set()
    stack = [root]
    push, pop, visit, finish, emit = stack.append, stack.pop, visited.add, done.add, order.append
    value_t = Value
    while stack:
        node = pop()
        if node in visited:
            if node not in done:
                finish(node)
                emit(node)
            continue
        prev = _inputs(node)
        if not prev:  # a leaf: nothing to wait for
            visit(node)
            finish(node)
            emit(node)
            continue
        visit(node)
        push(node)
        if len(prev) == 1:
            p = prev[0]
            if isinstance(p, value_t) and p not in visited:
                push(p)
        else:
            for p in reversed(prev):
                if isinstance(p, value_t) and p not in visited:
                    push(p)
    return order


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`.
    Works on raw arrays and on Values alike."""
    gshape = g.shape if hasattr(g, "shape") else ()
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:  # the gradient is smaller than its input (a broadcast constant): expand it
        return broadcast_to(g, shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if lead else g


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x repeated to `shape` as numpy broadcasting does; raw arrays and Values alike."""
    if isinstance(x, Value):
        return x.broadcast_to(shape)
    return np.broadcast_to(x, shape)


def _backprop(root: Value, seed: Any, create_graph: bool,
              sink: Callable[[Value, Any], None]) -> None:
    """The chain rule, once per node, in reverse topological order, without recursion.

    First pass: walk the graph from the root and count, for each Value that needs a
    gradient, how many uses (edges) it has in the graph, in its ``_n`` slot. Second pass: a
    node runs when all its uses have sent their part of its gradient (summed in ``_g``: a
    Value used twice gets both). `sink(node, g)` receives the total, then the op's VJPs send
    it on. Constants and ``requires_grad=False`` inputs get nothing and are not walked.

    Scalar nodes of the common ops (add, sub, mul, neg, relu, tanh) apply their rule inline;
    every other node goes through the table, ``OPS``. When the sink is `_accumulate`
    (``backward()``), an array already stored as one node's ``.grad`` in this pass (``add``
    hands g to both inputs; views share their base's memory) is copied before it is stored
    for a second node, so no two ``.grad`` arrays share memory.
    """
    global _grad_enabled
    value_t, ndarray = Value, np.ndarray
    # ---- pass 1: count the uses of every node that will receive a gradient. Between passes
    # every `_g` is None; here a reached node's `_g` becomes `_UNSET` (its "seen" mark, and
    # "no gradient yet" for pass 2).
    unset = _UNSET
    stack = [root]
    push, pop = stack.append, stack.pop
    no = _NO
    while stack:
        node = pop()
        x = node._a
        if x is no:
            continue
        if isinstance(x, value_t) and x.requires_grad:
            if x._g is None:
                x._g = unset
                x._n = 1
                push(x)
            else:
                x._n += 1
        x = node._b
        if x is no:
            continue
        if type(x) is _Rest:  # a third input and on
            for y in x:
                if isinstance(y, value_t) and y.requires_grad:
                    if y._g is None:
                        y._g = unset
                        y._n = 1
                        push(y)
                    else:
                        y._n += 1
        elif isinstance(x, value_t) and x.requires_grad:
            if x._g is None:
                x._g = unset
                x._n = 1
                push(x)
            else:
                x._n += 1
    # ---- pass 2: run each node once all its uses are in
    previous = _grad_enabled
    _grad_enabled = create_graph  # raw VJPs build nothing; Value VJPs build the new graph
    accumulate = sink is _accumulate
    fast = accumulate and not create_graph  # backward(): scalar rules may run inline
    handed: set[int] = set()  # ids of the arrays (their memory owners) stored as .grad
    root._g = seed
    push = stack.append  # `stack` is empty again: it now holds the nodes ready to run
    push(root)
    try:
        while stack:
            node = pop()
            g = node._g
            node._g = None
            if fast and type(node.data) is float:
                old = node._grad
                node._grad = g if old is None else old + g
                a = node._a
                if a is no:
                    continue
                op = node.op
                # scalar rules inline, for exact Values and float constants; anything else
                # (subclasses, ints, other ops) takes the general rule below
                if op == "mul" or op == "add" or op == "sub":
                    b = node._b
                    ta, tb = type(a), type(b)
                    if ta is value_t:
                        if tb is value_t:
                            if op == "mul":
                                ga, gb = g * b.data, g * a.data
                            else:
                                ga, gb = g, (g if op == "add" else -g)
                            if a.requires_grad:
                                o = a._g
                                a._g = ga if o is unset else o + ga
                                n = a._n - 1
                                a._n = n
                                if not n:
                                    push(a)
                            if b.requires_grad:
                                o = b._g
                                b._g = gb if o is unset else o + gb
                                n = b._n - 1
                                b._n = n
                                if not n:
                                    push(b)
                            continue
                        if tb is float:
                            if a.requires_grad:
                                ga = g * b if op == "mul" else g
                                o = a._g
                                a._g = ga if o is unset else o + ga
                                n = a._n - 1
                                a._n = n
                                if not n:
                                    push(a)
                            continue
                    elif ta is float and tb is value_t:
                        if b.requires_grad:
                            gb = g * a if op == "mul" else (g if op == "add" else -g)
                            o = b._g
                            b._g = gb if o is unset else o + gb
                            n = b._n - 1
                            b._n = n
                            if not n:
                                push(b)
                        continue
                elif (op == "relu" or op == "tanh" or op == "neg") and type(a) is value_t:
                    if a.requires_grad:
                        if op == "relu":
                            ga = g if a.data > 0 else g * 0.0
                        elif op == "tanh":
                            ga = g * (1.0 - node.data * node.data)
                        else:
                            ga = -g
                        o = a._g
                        a._g = ga if o is unset else o + ga
                        n = a._n - 1
                        a._n = n
                        if not n:
                            push(a)
                    continue
            else:
                if not accumulate:
                    sink(node, g)
                else:
                    if type(g) is ndarray:
                        base = g.base
                        key = id(g if base is None else base)
                        if key in handed:
                            g = g.copy()  # same memory as another node's .grad: give a copy
                        else:
                            handed.add(key)
                    old = node._grad
                    node._grad = g if old is None else old + g
                if node._a is no:
                    continue
            # the general rule: the op's VJPs from the table, on raw data or on Values
            for x, gi in input_grads(node, g, create_graph):
                o = x._g
                x._g = gi if o is unset else o + gi
                n = x._n - 1
                x._n = n
                if not n:
                    push(x)
    except BaseException:
        _clear(root)
        raise
    finally:
        _grad_enabled = previous


def input_grads(node: Value, g: Any, create_graph: bool = False) -> list[tuple[Value, Any]]:
    """One chain-rule step: given g = dL/d(node), the pairs (input, dL/d(input)) for each
    input Value of `node` that takes a gradient, from its op's VJPs in the table, each summed
    back to its input's shape. On raw data (first order), or with `create_graph` on the
    Values themselves, so the results are Values that can be differentiated again.
    `backward`, `grad` and `explain` all step through a graph with this."""
    inputs = _inputs(node)
    if not inputs:
        return []
    if create_graph:
        args: Sequence[Any] = inputs
        ans: Any = node
    else:
        args = [x.data if isinstance(x, Value) else x for x in inputs]
        ans = node.data
    params = node._params
    vjps = OPS[node.op].vjps
    ndarray = np.ndarray
    out = []
    for i, x in enumerate(inputs):
        if not isinstance(x, Value) or not x.requires_grad:
            continue
        vjp = vjps[i]
        gi = vjp(g, ans, *args, **params) if params else vjp(g, ans, *args)
        xd = x.data
        if type(gi) is not ndarray or type(xd) is not ndarray or gi.shape != xd.shape:
            gi = unbroadcast(gi, x.shape)
        out.append((x, gi))
    return out


def _clear(root: Value) -> None:
    """After a failed pass: every `_g` under root back to None."""
    root._g = None
    seen = {root}
    stack = [root]
    while stack:
        for x in _inputs(stack.pop()):
            if isinstance(x, Value) and x not in seen:
                seen.add(x)
                x._g = None
                stack.append(x)


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
