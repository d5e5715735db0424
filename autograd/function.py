"""Custom operations as classes, as ``torch.autograd.Function``:

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.data ** 3
        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_values
            return g * 3 * x * x          # Value operations: differentiable again
        @staticmethod
        def jvp(ctx, t):                  # optional: forward mode
            x, = ctx.saved_values
            return t * 3 * x * x

    y = Cube.apply(x)

Each subclass is one row of the derivative table (named after the class), so the graph,
`grad`, `explain` and `draw_graph` treat it as any other op. The row's forward returns the
result `forward` already computed (it runs once per call, on the inputs as Values with
recording off); its VJPs and JVPs call `backward` and `jvp` with the call's `ctx`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import OPS, Op, Value, apply, defop, no_grad, operand


class FunctionCtx:
    """What one call of a custom op keeps for its backward: `save_for_backward(*values)`,
    then `saved_values`; any other attribute may be set freely (``ctx.scale = 2``)."""

    def __init__(self) -> None:
        self.saved_values: tuple[Any, ...] = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self._result: Any = None
        self._grads: tuple[Any, Any] | None = None  # (g, backward's answer) of the last call

    def save_for_backward(self, *values: Any) -> None:
        """Keep Values (or arrays) for backward; they stay in the graph, so a backward
        written with Value operations is differentiable again."""
        self.saved_values = values

    def __repr__(self) -> str:
        return "ctx"


class Function:
    """Subclass with static ``forward(ctx, *inputs)`` and ``backward(ctx, *grad_outputs)``
    (optionally ``jvp(ctx, *tangents)``) and call ``MyOp.apply(*inputs)``."""

    @staticmethod
    def forward(ctx: FunctionCtx, *inputs: Any) -> Any:
        raise NotImplementedError("a Function needs a static forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function needs a static backward(ctx, *grad_outputs)")

    formula = ""  # how explain writes it, e.g. "{0}³" (empty: its inputs and result)

    @classmethod
    def apply(cls, *inputs: Any) -> Value:
        """Run forward on the inputs (as Values, recording off) and record one node."""
        values = []
        for i, x in enumerate(inputs):
            v = x if isinstance(x, Value) else operand(x)
            if v is None:
                raise TypeError(f"{cls.__name__}.apply: input {i} must be a Value, number or "
                                f"array, got {type(x).__name__}")
            values.append(v if isinstance(v, Value) else Value(v, requires_grad=False))
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(v.requires_grad for v in values)
        with no_grad():
            out = cls.forward(ctx, *values)
        scalar = all(v.is_scalar for v in values)
        if not isinstance(out, tuple):
            ctx._result = (_data(out, scalar),)
            return apply(_row(cls), *values, _ctx=ctx)
        # several outputs: one node each, on the same inputs and ctx; node j's VJPs call
        # backward with g in place j and zeros elsewhere (backward is linear in them)
        ctx._result = tuple(_data(o, scalar) for o in out)
        row = _row(cls)
        return tuple(apply(row, *values, _ctx=ctx, _out=j) for j in range(len(out)))


def _data(out: Any, scalar: bool) -> Any:
    """A forward result as a node's data: a float (scalar inputs) or an ndarray."""
    data = out.data if isinstance(out, Value) else out
    if not isinstance(data, float | np.ndarray):
        data = float(data) if np.ndim(data) == 0 and scalar else np.asarray(data,
                                                                             dtype=np.float64)
    return data


def _row(cls: type[Function]) -> Op:
    """The table row of a Function subclass, made on its first call (and again when the
    class was redefined, as in a notebook)."""
    name = cls.__name__
    row = OPS.get(name)
    if row is not None and row.meta and row.meta.get("function") is cls:
        return row
    if row is not None and not (row.meta and "function" in row.meta):
        raise ValueError(f"a custom Function may not take the name of the table's op {name!r}; "
                         "rename the class")
    n = _arity(cls)
    jvps = tuple(_jvp(cls, i) for i in range(n)) if _has(cls, "jvp") else None
    return defop(name, _forward, *[_vjp(cls, i) for i in range(n)], jvp=jvps, replace=True,
                 symbol=name, formula=cls.formula, function=cls)


def _has(cls: type, name: str) -> bool:
    return any(name in vars(k) for k in cls.__mro__ if k is not Function and k is not object)


def _arity(cls: type[Function]) -> int:
    """How many inputs forward takes (after ctx); a *args forward gets up to 16."""
    code = cls.forward.__code__
    if code.co_flags & 0x04:  # *inputs
        return 16
    return code.co_argcount - 1


def _forward(*datas: Any, _ctx: FunctionCtx, _out: int = 0) -> Any:
    return _ctx._result[_out]  # computed by Function.apply, which had the inputs as Values


def _grad_outputs(g: Any, ctx: FunctionCtx, out: int, first_order: bool) -> list[Any]:
    """backward's arguments for output `out`'s gradient g: zeros for the other outputs."""
    grads = []
    for j, d in enumerate(ctx._result):
        if j == out:
            grads.append(g if isinstance(g, Value) else Value(g, requires_grad=False))
        else:
            grads.append(Value(0.0 if isinstance(d, float) else np.zeros_like(d),
                               requires_grad=False))
    return grads


def _vjp(cls: type[Function], i: int) -> Any:
    def vjp(g: Any, ans: Any, *inputs: Any, _ctx: FunctionCtx, _out: int = 0) -> Any:
        """Input i's part of backward's answer (backward runs once per gradient g)."""
        if _ctx._grads is None or _ctx._grads[0] is not g:
            first_order = not isinstance(ans, Value)  # (create_graph hands the node itself)
            grads = _grad_outputs(g, _ctx, _out, first_order)
            if first_order:  # raw g: backward sees Values, builds no graph, gives data
                with no_grad():
                    answer = cls.backward(_ctx, *grads)
            else:
                answer = cls.backward(_ctx, *grads)
            if not isinstance(answer, tuple):
                answer = (answer,)
            if first_order:
                answer = tuple(a.data if isinstance(a, Value) else a for a in answer)
            _ctx._grads = (g, answer)
        answer = _ctx._grads[1]
        if i >= len(answer):
            raise ValueError(f"{cls.__name__}.backward returned {len(answer)} gradients for "
                             f"{len(inputs)} inputs")
        gi = answer[i]
        return 0.0 * g if gi is None else gi
    return vjp


def _jvp(cls: type[Function], i: int) -> Any:
    def jvp(t: Any, ans: Any, *inputs: Any, _ctx: FunctionCtx, _out: int = 0) -> Any:
        """The output's tangent due to input i's (jvp is linear in the tangents)."""
        zeros = [t if j == i else 0.0 * (x if isinstance(x, Value) else np.asarray(x))
                 for j, x in enumerate(inputs)]
        out = cls.jvp(_ctx, *zeros)
        return out[_out] if isinstance(out, tuple) else out
    return jvp


__all__ = ["Function", "FunctionCtx"]
