"""The engine: the `Value` node, graph recording, and the reverse pass.

This file knows no operation. It keeps the derivative table (`OPS`, filled by `defop` in
`ops.py` and the files beside it): a row is an operation's forward function on raw data and
one vector-Jacobian product (VJP) per input. The engine records
which op made each Value from which inputs, and `backward()` applies the chain rule once
per node, in reverse topological order, handing each node's gradient to its op's VJPs
(dL/dx = dL/dout × dout/dx). The order comes from the number each node gets when it is
made (an op's result is numbered above its inputs), taken highest first. Nothing recurses:
a chain of millions of nodes is fine.

Speed: scalar graphs (micrograd-style networks) cost Python time per node, so nodes are
slotted objects holding their inputs in two slots, and the operator methods made here
(`binary_method`, `unary_method`) build scalar nodes without going through `apply`.

A Value's data is either a Python float (a *scalar*) or a numpy array (a *tensor*).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import heapq
import inspect
import itertools
import operator
import re
import threading
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

    __slots__ = ("formula", "forward", "jvp", "meta", "name", "symbol", "vjps")

    def __init__(self, name: str, forward: Callable[..., Any], vjps: Any = (),
                 symbol: str = "", formula: str = "", meta: dict[str, Any] | None = None,
                 jvp: Any = None) -> None:
        self.name, self.forward, self.vjps = name, forward, vjps
        self.symbol, self.formula, self.meta = symbol, formula, meta
        self.jvp = jvp  # forward mode: one ``jvp_i(t, ans, *inputs, **params)`` per input

    def __setattr__(self, name: str, value: Any) -> None:
        global _table_version
        object.__setattr__(self, name, value)
        _table_version += 1  # a row edited in place: the reverse pass is rewritten

    def _replace(self, **changes: Any) -> Op:
        """A copy with some fields changed (as a NamedTuple's `_replace`)."""
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields.update(changes)
        return Op(**fields)

    def __call__(self, *inputs: Any, **params: Any) -> Value:
        """``op(x, y, ...)``: `apply` the op to Values, numbers or arrays."""
        return apply(self, *[x if isinstance(x, Value) else operand(x) for x in inputs],
                     **params)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


# The derivative table: op name -> Op. `defop` adds a row; ops live in `ops.py` and beside it.
class _Table(dict):
    """The table: a dict that counts its changes (the reverse pass is rewritten after one)."""

    def _changed(self) -> None:
        global _table_version
        _table_version += 1

    def __setitem__(self, key: str, value: Op) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def pop(self, *args: Any) -> Any:
        self._changed()
        return super().pop(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._changed()
        return super().setdefault(key, default)


_table_version = 0
OPS: dict[str, Op] = _Table()


def defop(name: str, forward: Callable[..., Any], *vjps: Callable[..., Any],
          jvp: Any = None, replace: bool = False, **metadata: Any) -> Op:
    """Register an operation: its forward map on raw data, one VJP per input, optionally
    one JVP per input (``jvp=(jvp_0, ...)``, forward mode), plus optional metadata
    (``symbol=``, ``formula=``, ...). Returns the `Op`; calling it (``op(x, y)``) applies it.

    A name already in the table is refused unless ``replace=True``: then the row is changed
    in place, so every caller of the old row (Value's methods included) gets the new one."""
    symbol, formula = metadata.pop("symbol", ""), metadata.pop("formula", "")
    old = OPS.get(name)
    if old is None:
        op = OPS[name] = Op(name, forward, vjps, symbol, formula, metadata or None, jvp)
        return op
    if not replace:
        raise ValueError(f"an op named {name!r} is already in the table; pass replace=True "
                         "to change it for the whole process, or choose another name")
    fields = {"forward": forward, "vjps": vjps, "symbol": symbol, "formula": formula,
              "meta": metadata or None, "jvp": jvp}
    for field, value in fields.items():
        setattr(old, field, value)
    _remake_methods(old)
    return old


def _remake_methods(op: Op) -> None:
    """After a row changed in place: Value's methods made from it (which keep its forward
    for speed) are made again."""
    for attr, method in list(vars(Value).items()):
        remake = getattr(method, "_remake", None)
        if remake is not None and getattr(method, "_op", None) is op:
            setattr(Value, attr, remake())


_made = itertools.count(1)  # next(_made): a new node's number, above all its inputs'
_new = object.__new__  # a bare instance; `apply` and the operator methods fill its slots


class _Absent:
    """The marker in a node's `_a`/`_b` slot for "no input there": one object, which
    `copy`, `deepcopy` and pickle give back as itself (found by its name)."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "_NO"

    def __repr__(self) -> str:
        return "_NO"


_NO = _Absent()


class _Rest(tuple):
    """A node's third input and on, kept in its `_b` slot (told apart from a constant)."""

    __slots__ = ()


# ---- grad mode, per thread (as in PyTorch) -----------------------------------------------
class _Mode(threading.local):
    off = 0  # how many no_grad() blocks this thread is inside


_mode = _Mode()
# The threads inside a no_grad() block right now. While it is empty, which it almost always
# is, recording is on in every thread and the hot paths look no further. A thread is added
# after its own count goes up and removed after it is back down, so it is never missing
# while its recording is off.
_off_threads: set[int] = set()


def is_grad_enabled() -> bool:
    """True unless this thread is inside a `no_grad()` block."""
    return not _off_threads or not _mode.off


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Values computed inside the block, in this thread, record no history and have
    ``requires_grad=False``. Other threads keep recording."""
    previous = _mode.off
    me = threading.get_ident()
    try:  # every change inside the try, each a plain assignment: an interrupt at any point
        _mode.off = previous + 1  # leaves the finally to put back what was there
        _off_threads.add(me)
        yield
    finally:
        _mode.off = previous
        if not previous:
            _off_threads.discard(me)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Recording on in this thread for the block, even inside `no_grad()` (as
    torch.enable_grad; the transforms of `autograd.func` record their graphs with it)."""
    return _recording()


@contextlib.contextmanager
def _recording() -> Iterator[None]:
    """Recording on in this thread for the block, even inside no_grad() (create_graph)."""
    previous = _mode.off
    try:
        _mode.off = 0
        yield
    finally:
        _mode.off = previous


def _number(x: bool | float) -> float:
    """A Python number as a float; an int beyond float's range is a ValueError."""
    try:
        return float(x)
    except OverflowError:
        digits = int(abs(int(x)).bit_length() * 0.30103) + 1  # (str() refuses huge ints)
        raise ValueError(f"an integer of about {digits} digits is too large for a float64 "
                         "Value (the largest float is about 1.8e308)") from None


def _as_data(data: Any) -> float | np.ndarray:
    """Validate user data: a Python number gives a float, anything array-like an ndarray
    of float64 (float32 is kept)."""
    if type(data) is float:
        return data
    if isinstance(data, bool | int | float) and not isinstance(data, np.ndarray):
        return _number(data)
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
    # `_g` sums a gradient during one reverse pass (`_seen`: which pass; `_g` is unset until
    # a pass reaches the node, `_label` until one is given, `_params` in the nodes the
    # operator methods make). `_n` is the node's number, from one counter as nodes are made,
    # so an input is always numbered below its user, and the reverse pass runs the nodes
    # from the highest number down.
    __slots__ = ("__weakref__", "_a", "_b", "_g", "_grad", "_label", "_n", "_params", "_seen",
                 "data", "op", "requires_grad")
    __array_ufunc__ = None  # numpy_functions.py replaces this: ndarray + Value, np.exp(v) ...

    def __init__(self, data: Any, label: str = "", requires_grad: bool = True) -> None:
        if isinstance(data, Value):
            label = label or data.label
            data = data.data.copy() if isinstance(data.data, np.ndarray) else data.data
        else:
            data = _as_data(data)
        _init_leaf(self, data, label, requires_grad)

    # ---- what a Value is ---------------------------------------------------------------
    @property
    def label(self) -> str:
        """A name shown by draw_graph and explain ("" for none)."""
        return getattr(self, "_label", "")  # (left unset in nodes made by ops: one store less)

    @label.setter
    def label(self, value: str) -> None:
        self._label = _check_label(value)

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
        return dict(getattr(self, "_params", None) or {})

    @property
    def grad(self) -> float | np.ndarray:
        """dL/d(this Value), shaped like data; zero until a backward pass reaches it."""
        g = self._grad
        d = self.data
        if type(d) is not np.ndarray:
            return 0.0 if g is None else float(g)
        if g is None:
            return np.zeros_like(d)
        if (type(g) is not np.ndarray or g.shape != d.shape
                or (g.dtype is not d.dtype and g.dtype != d.dtype)  # (`is`: the usual, quick)
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
        """The same data (not a copy), no history, ``requires_grad=False``."""
        return _unrecorded(self.data, self.label)

    def __setstate__(self, state: Any) -> None:
        """Unpickling and `copy`: the saved slots, and a number drawn now. A copy made with
        the original's number would share its place in the reverse pass, and a Value from
        another process could be numbered above the ones made from it here."""
        slots = state[1] if isinstance(state, tuple) else state  # (None, {slot: value})
        for name, value in (slots or {}).items():
            object.__setattr__(self, name, value)
        self._n = next(_made)  # (its inputs were restored first: theirs are lower)

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


def _check_label(label: Any) -> str:
    if type(label) is not str:
        if not isinstance(label, str):
            raise TypeError(f"a Value's label must be a string, got {type(label).__name__} "
                            f"{label!r}")
        label = str(label)
    return label


def _init_leaf(v: Value, data: Any, label: str, requires_grad: bool) -> None:
    """Fill the slots of a Value that has no history."""
    v.data = data
    v._grad = None
    v._label = _check_label(label)
    v.op = ""
    v._a = v._b = _NO
    v._params = None
    v.requires_grad = requires_grad
    v._seen = None
    v._n = next(_made)


def _unrecorded(data: Any, label: str = "") -> Value:
    """A Value with no history and ``requires_grad=False``: a result computed inside
    `no_grad()`, or a detached one."""
    v = _new(Value)
    _init_leaf(v, data, label, False)
    return v


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
    if _interpose is not None:  # inside vmap: the batching rules see every op first
        made = _interpose(op, inputs, params)
        if made is not None:
            return made
    datas = [*inputs]  # (a loop, not a comprehension: no frame per op)
    rg = False
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            datas[i] = x.data
            if x.requires_grad:
                rg = True
    try:
        out = op.forward(*datas, **params) if params else op.forward(*datas)
    except (ValueError, IndexError, TypeError) as e:
        shapes = ", ".join(str(np.shape(d)) for d in datas)
        raise type(e)(f"{op.name} on inputs of shapes {shapes}: {e}") from None
    t = type(out)
    if t is not float and t is not np.ndarray:
        # a scalar when every input is one (np.float64 counts: it is a float, as precise)
        out = float(out) if all(isinstance(d, float) for d in datas) else np.asarray(out)
    if _off_threads and _mode.off:  # not is_grad_enabled(), inlined
        return _unrecorded(out)
    v = _new(Value)  # the slots are set by hand: this is the hot path of every op
    v.data = out
    v._grad = v._seen = None
    v.op = op.name
    if type(out) is float:  # a scalar's constants are floats (the reverse pass relies on it)
        inputs = tuple([_scalar_input(x) for x in inputs])
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
    v.requires_grad = rg  # (found in the first loop)
    v._n = next(_made)
    return v


# vmap (batching.py) sets this while a vmap call runs: ``_interpose(op, inputs, params)``
# returns the node for an op on batched Values, or None for the ordinary path.
_interpose: Callable[[Any, tuple[Any, ...], dict[str, Any]], Value | None] | None = None


def _scalar_input(x: Any) -> Any:
    """An input of a scalar node as kept: a Value, or a number as a Python float."""
    if type(x) is float or isinstance(x, Value):
        return x
    if isinstance(x, bool | int | float | np.number):
        return float(x)
    raise TypeError(f"a scalar node's input must be a Value or a number, got {type(x).__name__}")


# ---- Value's operator methods, made from table rows ------------------------------------
def operand(x: Any) -> Any:
    """A constant operand as raw data (a float or an ndarray), the Value itself, or None
    when it is not a number or array."""
    if isinstance(x, Value):
        return x
    if isinstance(x, np.ndarray | np.generic):  # before float: np.float64 is strong (NumPy 2)
        return x if x.dtype.kind == "f" else np.asarray(x, dtype=np.float64)
    if isinstance(x, bool | int | float):
        return _number(x)
    if isinstance(x, list | tuple):
        return np.asarray(Value(x).data)
    return None


_const = operand  # the older name, still imported by files beside ops.py


# A Python operator that is an op's forward is written as itself in the scalar method (the
# same arithmetic, without a call); any other forward is called.
_SYNTAX = {operator.add: "{0} + {1}", operator.sub: "{0} - {1}", operator.mul: "{0} * {1}"}
_BINARY = """
def make(general, fwd, name):
  def method(self, other):
    sd = self.data
    if type(sd) is not float:
        return general(self, other)
    t = type(other)
    if t is Value:
        od = other.data
        if type(od) is not float:
            return general(self, other)
        rg = self.requires_grad or other.requires_grad
    elif t is float:
        od = other
        rg = self.requires_grad
    elif t is int:
        try:
            od = other = float(other)
        except OverflowError:
            return general(self, other)
        rg = self.requires_grad
    else:
        return general(self, other)
{compute}
    if _off_threads and _mode.off:  # not is_grad_enabled(), inlined
        return _unrecorded(out)
    v = _new(Value)
    v.data = out
    v._grad = v._seen = None
    v.op = name
    v._a = {first}
    v._b = {second}
    v.requires_grad = rg
    v._n = next(_made)
    return v
  return method
"""
_CALL = """    try:
        out = fwd({0}, {1})
    except (ArithmeticError, ValueError, TypeError, IndexError):  # apply reports it
        return general(self, other)
    if type(out) is not float:
        out = float(out)"""


def binary_method(op: Op, reflected: bool = False) -> Callable[[Value, Any], Any]:
    """The operator method (``__add__``, or ``__radd__`` when `reflected`) for a two-input
    `op`. Two scalars (a scalar Value and a number, or two scalar Values) skip `apply`'s
    generality: the node is built here, its data from the table's own forward. Scalar graphs
    (micrograd-style networks, long chains) spend their time in this function."""

    def general(self: Value, other: Any) -> Any:
        if isinstance(other, np.ndarray | np.generic) and other.dtype.kind in "biu" and type(
                self.data) is np.ndarray:  # integer and boolean data take the tensor's float
            other = np.asarray(other, dtype=self.data.dtype)  # dtype, as torch: float32 stays
        other = operand(other)
        if other is None:
            return NotImplemented
        return apply(op, other, self) if reflected else apply(op, self, other)

    args = ("od", "sd") if reflected else ("sd", "od")
    syntax = _SYNTAX.get(op.forward)
    compute = f"    out = {syntax.format(*args)}" if syntax else _CALL.format(*args)
    first, second = ("other", "self") if reflected else ("self", "other")
    made: dict[str, Any] = {}
    source = _BINARY.format(compute=compute, first=first, second=second)
    exec(compile(source, f"<autograd.engine: Value method for {op.name}>", "exec"),  # noqa: S102
         globals(), made)  # the method reads the engine's globals (grad mode) live
    method = made["make"](general, op.forward, op.name)
    method.__name__ = f"__{'r' if reflected else ''}{op.name}__"
    method._op, method._remake = op, lambda: binary_method(op, reflected)  # (defop replace=)
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
        if _off_threads and _mode.off:  # not is_grad_enabled(), inlined
            return _unrecorded(out)
        v = _new(Value)
        v.data = out
        v._grad = v._seen = None
        v.op = name
        v._a = self
        v._b = _NO
        v.requires_grad = self.requires_grad
        v._n = next(_made)
        return v

    method.__name__ = name
    method.__doc__ = doc
    method._op, method._remake = op, lambda: unary_method(op, doc)  # (defop replace=)
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


# One reverse pass at a time, process-wide: passes over graphs that share Values (the same
# parameters) would otherwise interleave their sums in the shared nodes. (Reentrant, so a
# VJP that itself differentiates does not deadlock.)
_pass_lock = threading.RLock()


def _backprop(root: Value, seed: Any, create_graph: bool,
              sink: Callable[[Value, Any], None]) -> None:
    """The chain rule, once per node, in reverse topological order, in one pass, without
    recursion.

    Every Value is numbered as it is made (``_n``, from one counter), so an op's result is
    numbered above its inputs. When the pass takes the nodes from the highest number down,
    every user of a node has sent its part of the node's gradient (summed in ``_g``: a
    Value used twice gets both) before the node's turn comes; no uses are counted first and
    nothing is sorted. At its turn `sink(node, g)` receives the total, then the op's VJPs
    from the table send it on. Constants and ``requires_grad=False`` inputs get nothing and
    are not walked.

    The reached nodes wait in `slots`, indexed by how far below the root's number they are
    (a node takes its slot when its first gradient part arrives). A leaf below the slots (a
    parameter, usually) waits in a list to the end, since it sends nothing on; any other
    node too far below for them (one made long before the rest of the graph and kept, or a
    sparse graph's) waits in a heap and starts slots of its own when every node above it is
    done (`_place`). So the walk goes back through the graph in the reverse of the order it
    was built, each part's nodes together: ordering the nodes by height instead took every
    part of a step (each data point's subgraph) once per height, and the reverse pass of a
    scalar MLP step half as long again.

    A node is marked as reached by this pass alone: its ``_seen`` slot holds the pass's own
    `token`, so whatever an interrupted pass (an exception, Ctrl-C) left behind is never
    mistaken for this pass's sums, and grad mode is not touched (create_graph switches
    recording on for this thread only). One pass runs at a time (`_pass_lock`), so
    concurrent passes over shared parameters queue instead of mixing their sums.
    """
    with _pass_lock:
        try:
            if create_graph:
                with _recording():  # VJPs on Values build the gradient's own graph
                    _run_pass(root, seed, True, sink)
            else:
                _run_pass(root, seed, False, sink)
        except BaseException:
            _clear(root)  # drop partial sums (memory); correctness does not depend on it
            raise


def _run_pass(root: Value, seed: Any, create_graph: bool,
              sink: Callable[[Value, Any], None]) -> None:
    """The loop `_compile_pass` writes, from the root with its seed."""
    global _pass_fn, _pass_version
    if _pass_version != _table_version:  # rows were added since: write the loop again
        _pass_fn, _pass_version = _compile_pass(), _table_version
    token = object()
    root._seen = token
    root._g = seed
    _pass_fn(root, token, create_graph, sink)


# ---- the reverse pass, written from the table ----------------------------------------
# Scalar graphs (micrograd-style networks) cost Python time per node, and a function call
# per VJP was a third of the reverse pass. So the loop is written from the table: each op
# with one or two inputs and plain VJPs gets a branch of its own, where a VJP that is a
# lambda of pure arithmetic on its arguments (``lambda g, ans, a, b: g * b``) is pasted in
# as that expression and any other VJP is called. Every other node, and every tensor node,
# takes `input_grads`. The table stays the only place a rule is written: a row added or
# edited makes the loop be written again.
#
# A scalar node's inputs are Values or Python floats (`apply` turns other numbers into
# floats), so one type test tells a constant from a Value.
_PASS = """
def run_pass(root, token, create_graph, sink):
    no, ndarray = _NO, np.ndarray
{names}
    accumulate = sink is _accumulate
    handed = set()  # ids of the arrays (their memory owners) stored as .grad
    top = root._n
    slots = [root]  # slots[d]: the node reached numbered top - d, or None
    size = 1  # len(slots)
    empty = 0  # how many empty slots the walk has passed
    far = []  # a heap of the nodes too far below the slots for them: (-number, node)
    low = 0  # the highest number in far: the slots stay above it
    leaves = []  # leaves reached from far below: they wait to the end
    while True:
      for node in slots:
        if node is None:
            empty += 1
            continue
        g = node._g
        ans = node.data
        if type(ans) is not float or create_graph:  # a tensor node, or a gradient's graph
            node._g = None
            if not accumulate:
                sink(node, g)
            else:
                if type(g) is ndarray:  # no two .grad arrays share memory
                    base = g.base
                    key = id(g if base is None else base)
                    if key in handed:
                        g = g.copy()
                        key = id(g)
                    handed.add(key)
                old = node._grad
                node._grad = g if old is None else old + g
            if node._a is no:
                continue
        else:  # a scalar node: the table's VJPs on numbers (its _g stays: a float, .grad's)
            if accumulate:
                old = node._grad
                node._grad = g if old is None else old + g
            else:
                sink(node, g)
            a = node._a
            if a is no:
                continue
            b = node._b
            op = node.op
            if b is no:
{unary}
            else:
{binary}
        for x, gi in input_grads(node, g, create_graph):
{send_x}
      if far:  # the slots done: the next ones start at the highest far node
          node = heappop(far)[1]
          top = node._n
          slots = [node]
          size = 1
          empty = 0
          low = -far[0][0] if far else 0
      elif leaves:
          slots, leaves = leaves, []
      else:
          break
"""
_SEND = """if {x}._seen is token:
    {x}._g = {x}._g + {gx}
else:  # its first part: the node takes its slot
    {x}._seen = token
    {x}._g = {gx}
    d = top - {x}._n
    if d < size:
        slots[d] = {x}
    elif {x}._a is no:  # a leaf below the slots sends nothing on: it waits to the end
        leaves.append({x})
    else:
        size, low = place({x}, d, slots, size, empty, top, low, far)"""


def _place(x: Value, d: int, slots: list[Value | None], size: int, empty: int, top: int,
           low: int, far: list[tuple[int, Value]]) -> tuple[int, int]:
    """Where a node `x` that is not a leaf, reached `d` below the root's number `top` and
    beyond the slots, waits; returns the slots' new length and far's highest number.

    The slots are extended down to x, and a quarter more, when x is less than twice their
    length below them and they are not all but empty (`empty`: the empty slots the walk has
    passed, under 63 in 64 of their length). Otherwise x waits in the heap `far`, and the
    slots never reach below its highest number, `low`. So the slots stay within a small
    factor of the nodes they hold, whatever else was made between those nodes."""
    if d < top - low and d < 2 * size + 64 and empty < size - (size >> 6):
        new = min(d + 1 + (size >> 2) + 8, top - low)
        slots.extend([None] * (new - size))
        slots[d] = x
        return new, low
    heapq.heappush(far, (-x._n, x))
    return size, max(low, x._n)


_pass_fn: Callable[..., None] = lambda *args: None  # written on first use
_pass_version = -1


def _indent(text: str, depth: int) -> str:
    return "\n".join(" " * depth + line for line in text.splitlines())


def _send(x: str, gx: str, expr: str) -> str:
    """Code that sends the gradient `expr` to input `x` when it takes one."""
    return (f"if {x}.requires_grad:\n    {gx} = {expr}\n"
            f"{_indent(_SEND.format(x=x, gx=gx), 4)}")


def _loads(exprs: Sequence[str], **sources: str) -> str:
    """Assignments of the data names (`ad`, `bd`) that the expressions use."""
    lines = [f"{name} = {src}" for name, src in sources.items()
             if any(re.search(rf"\b{name}\b", e) for e in exprs)]
    return "\n".join(lines)  # (a blank line when none)


def _unary_branch(k: str, expr: str) -> str:
    return (f"if op is {k}:\n{_indent(_loads([expr], ad='a.data'), 4)}\n"
            f"{_indent(_send('a', 'ga', expr), 4)}\n    continue")


def _binary_branch(k: str, ea: str, eb: str) -> str:
    """One op's branch: x op constant, constant op x, and x op y."""
    return (f"if op is {k}:\n"
            f"    if type(b) is float:\n{_indent(_loads([ea], ad='a.data', bd='b'), 8)}\n"
            f"{_indent(_send('a', 'ga', ea), 8)}\n        continue\n"
            f"    if type(a) is float:\n{_indent(_loads([eb], ad='a', bd='b.data'), 8)}\n"
            f"{_indent(_send('b', 'gb', eb), 8)}\n        continue\n"
            f"{_indent(_loads([ea, eb], ad='a.data', bd='b.data'), 4)}\n"
            f"{_indent(_send('a', 'ga', ea), 4)}\n{_indent(_send('b', 'gb', eb), 4)}\n"
            f"    continue")


def _compile_pass() -> Callable[..., None]:
    """Write the reverse pass's loop, a branch per op of one or two inputs whose VJPs are plain
    functions of (g, ans, inputs): pure-arithmetic lambdas pasted in, others called."""
    unary, binary, names = [], [], []
    env: dict[str, Any] = {}
    for name, op in OPS.items():
        vjps = op.vjps
        if not isinstance(vjps, tuple) or len(vjps) not in (1, 2):
            continue
        params = ("g", "ans", "ad") if len(vjps) == 1 else ("g", "ans", "ad", "bd")
        if not all(_positional(f, len(params)) for f in vjps):
            continue
        k = f"k{len(names)}"  # the name, compared by identity (a miss takes input_grads)
        names.append(f"{k} = {name!r}")
        exprs = []
        for i, f in enumerate(vjps):
            expr = _arithmetic(f, params)
            if expr is None:  # called: bound to a name of the loop's own
                env[f"{k}_{i}"] = f
                expr = f"{k}_{i}({', '.join(params)})"
            exprs.append(expr)
        if len(vjps) == 1:
            unary.append(_unary_branch(k, exprs[0]))
        else:
            binary.append(_binary_branch(k, *exprs))
    source = _PASS.format(names=_indent("\n".join(names), 4),
                          unary=_indent("\n".join(unary) or "pass", 16),
                          binary=_indent("\n".join(binary) or "pass", 16),
                          send_x=_indent(_SEND.format(x="x", gx="gi"), 12))
    env.update(np=np, _NO=_NO, _accumulate=_accumulate, input_grads=input_grads,
               heappop=heapq.heappop, place=_place)
    exec(compile(source, "<autograd.engine: reverse pass>", "exec"), env)  # noqa: S102
    return env["run_pass"]


def _positional(f: Any, n: int) -> bool:
    """True when `f` is a Python function taking exactly `n` positional arguments."""
    code = getattr(f, "__code__", None)
    return (code is not None and code.co_argcount == n and not code.co_kwonlyargcount
            and not f.__defaults__ and not code.co_flags & (inspect.CO_VARARGS
                                                            | inspect.CO_VARKEYWORDS))


def _arithmetic(f: Any, names: tuple[str, ...]) -> str | None:
    """The body of `f` as an expression in `names`, when f is a lambda of plain arithmetic
    on its own arguments (no globals, attributes or calls: it means the same on floats
    pasted in as called); else None."""
    code = getattr(f, "__code__", None)
    if (code is None or f.__name__ != "<lambda>" or code.co_names or code.co_freevars
            or f.__defaults__ or f.__kwdefaults__ or code.co_argcount != len(names)
            or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)):
        return None
    for node in _lambdas(code.co_filename).get(code.co_firstlineno, ()):
        try:
            made = compile(ast.Expression(node), code.co_filename, "eval").co_consts[0]
        except (SyntaxError, ValueError, IndexError):
            continue
        if (getattr(made, "co_code", None) != code.co_code or made.co_consts != code.co_consts
                or made.co_varnames != code.co_varnames):
            continue
        rename = dict(zip(code.co_varnames, names))
        body = _Rename(rename).visit(copy.deepcopy(node.body))  # (the parsed tree is cached)
        return f"({ast.unparse(body)})"
    return None


@functools.cache
def _lambdas(filename: str) -> dict[int, list[ast.Lambda]]:
    """The lambdas of a source file by first line (parsed once per file)."""
    try:
        with open(filename, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return {}
    out: dict[int, list[ast.Lambda]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            out.setdefault(node.lineno, []).append(node)
    return out


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(self.names.get(node.id, node.id), node.ctx), node)


def input_grads(node: Value, g: Any, create_graph: bool = False) -> list[tuple[Value, Any]]:
    """One chain-rule step: given g = dL/d(node), the pairs (input, dL/d(input)) for each
    input Value of `node` that takes a gradient, from its op's VJPs in the table, each summed
    back to its input's shape. On raw data (first order), or with `create_graph` on the
    Values themselves, so the results are Values that can be differentiated again.
    `backward`, `grad` and `explain` all step through a graph with this."""
    a = node._a
    if a is _NO:
        return []
    b = node._b
    inputs = (a,) if b is _NO else (a, *b) if type(b) is _Rest else (a, b)
    value_t = Value
    wanted = []  # (position, input) of the inputs that take a gradient
    if create_graph:
        args: Sequence[Any] = inputs
        ans: Any = node
        for i, x in enumerate(inputs):
            if isinstance(x, value_t) and x.requires_grad:
                wanted.append((i, x))
    else:
        args = [*inputs]  # the inputs' raw data (loops, not comprehensions: no extra frames)
        for i, x in enumerate(inputs):
            if isinstance(x, value_t):
                args[i] = x.data
                if x.requires_grad:
                    wanted.append((i, x))
        ans = node.data
    params = getattr(node, "_params", None)  # (unset in nodes the operator methods make)
    vjps = OPS[node.op].vjps
    ndarray = np.ndarray
    out = []
    for i, x in wanted:
        gi = vjps[i](g, ans, *args, **params) if params else vjps[i](g, ans, *args)
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
    differentiated again (second and higher derivatives), with respect to a Value
    `gradient` too (a JVP by two VJPs)."""
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

    if create_graph and isinstance(gradient, Value):
        if gradient.shape != output.shape:
            raise ValueError(f"gradient must have the shape of the Value, {output.shape}; "
                             f"got {gradient.shape}")
        seed = gradient  # the cotangent stays in the new graph: d(result)/d(gradient) works
    else:
        seed = _seed(output, gradient)
    _backprop(output, seed, create_graph, sink)
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
