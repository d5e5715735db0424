"""Forward mode: a tangent carried beside each value, as dual numbers carry a + bε.

Where reverse mode sends dL/d(node) from the output back to the inputs (one pass per
output), forward mode sends d(node)/dε forward from the inputs (one pass per input
direction): the inputs are perturbed along tangents ẋ, and each node's tangent is made from
its inputs' tangents by its op's JVPs, ``ẏ = Σᵢ jvp_i(ẋᵢ, y, *inputs)``, the "dot" of the
chain rule going the way the values went. The graph is walked once, in the order its nodes
were made (inputs before users), and nothing is walked backwards.

The tangents are Values computed with Value operations, so they have a graph of their own:
forward mode composes with reverse mode (`grad` of a `jvp`, a Hessian as `jacfwd(jacrev)`)
and with itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine import OPS, Value, enable_grad, topological_order

__all__ = ["explain_jvp", "push_tangents"]


def as_tangent(t: Any, like: Value) -> Value:
    """A tangent for `like`: a Value (kept, so it may be differentiated), or data of like's
    shape and dtype."""
    if isinstance(t, Value):
        v = t
    else:
        data = np.asarray(t, dtype=like.dtype) if not like.is_scalar else float(t)
        v = Value(data, requires_grad=False)
    if v.shape != like.shape:
        raise ValueError(f"a tangent must have its primal's shape {like.shape}, got {v.shape}")
    if type(like) is not Value:  # a batched primal (inside vmap): a batched tangent
        from .batching import match
        v = match(v, like)
    return v


def _order(outputs: Sequence[Value]) -> list[Value]:
    """Every node the outputs depend on, inputs before users (one list for several roots)."""
    seen: set[Value] = set()
    order = []
    for out in outputs:
        for v in topological_order(out):
            if v not in seen:
                seen.add(v)
                order.append(v)
    return order


def _fit(t: Any, node: Value) -> Value:
    """A node's tangent in the node's own form: its shape (a broadcast input's tangent is
    broadcast), and a scalar for a scalar node."""
    if not isinstance(t, Value):
        t = Value(t, requires_grad=False)
    if t.shape != node.shape:
        t = t.reshape(()) if t.size == 1 and not node.shape else t.broadcast_to(node.shape)
    if node.is_scalar and not t.is_scalar:
        t = _scalar(t)
    return t


def _scalar(t: Value) -> Value:
    from .ops.shape import to_scalar
    return to_scalar(t)


def push_tangents(outputs: Sequence[Value], seeds: dict[Value, Any]) -> list[Value]:
    """The outputs' tangents, given tangents of some nodes of their graph (`seeds`): one
    sweep in the order the nodes were made, each node's tangent from its op's JVPs. An
    output that does not depend on a seed gets a zero tangent."""
    with enable_grad():
        tangents: dict[Value, Value] = {v: as_tangent(t, v) for v, t in seeds.items()}
        for node in _order(outputs):
            if node in tangents or not node.op:
                continue
            inputs = node.inputs
            moving = [i for i, x in enumerate(inputs) if isinstance(x, Value) and x in tangents]
            if not moving:
                continue
            row = OPS[node.op]
            if row.jvp is None:
                raise NotImplementedError(
                    f"forward mode: the op {node.op!r} has no JVP in its table row "
                    f"(defop(..., jvp=(jvp_0, ...)))")
            params = node.params
            total = None
            for i in moving:
                part = row.jvp[i](tangents[inputs[i]], node, *inputs, **params)
                total = part if total is None else total + part
            tangents[node] = _fit(total, node)
        return [tangents[out] if out in tangents else _zeros(out) for out in outputs]


def _zeros(v: Value) -> Value:
    if type(v) is not Value:  # a batched Value (vmap): zeros of its own kind
        return v * 0.0
    return Value(0.0 if v.is_scalar else np.zeros_like(v.data), requires_grad=False)


def explain_jvp(output: Value, tangents: dict[Value, Any]) -> str:
    """A forward pass written as the document writes one, each line with the node's value
    and its tangent (for a small scalar graph): ``v3 = a × b = 6    v̇3 = 2 × 1 + 3 × 0 = 2``
    where each term is ∂v3/∂input × input's tangent."""
    order = _order([output])
    with enable_grad():
        seeds = {v: as_tangent(t, v) for v, t in tangents.items()}
    names: dict[Value, str] = {}
    count = 0
    for v in order:
        if not v.label and v is not output:
            count += 1
        names[v] = v.label or ("out" if v is output else f"v{count}")
    dots: dict[Value, float] = {v: float(np.sum(t.data)) for v, t in seeds.items()}
    lines = ["Inputs, each with its tangent:"]
    for v in order:
        if not v.op:
            lines.append(f"  {names[v]} = {_num(v.data)}    {_dot(names[v])} = "
                         f"{_num(dots.get(v, 0.0))}")
    lines.append("")
    lines.append("Forward pass, value and tangent (ẏ = Σ ∂y/∂x × ẋ):")
    for v in order:
        if not v.op:
            continue
        args = [names[x] if isinstance(x, Value) else _num(x) for x in v.inputs]
        terms, total = [], 0.0
        row = OPS[v.op]
        for i, x in enumerate(v.inputs):
            if not isinstance(x, Value) or x not in dots:
                continue
            local = float(np.sum(row.jvp[i](1.0 if x.is_scalar else np.ones_like(x.data),
                                            v.data, *[y.data if isinstance(y, Value) else y
                                                      for y in v.inputs], **v.params)))
            terms.append(f"{_num(local)} × {_num(dots[x])}")
            total += local * dots[x]
        dots[v] = total
        formula = f"{v.op}({', '.join(args)})"
        from .show.explain_writers import format_of
        f = format_of(v.op)
        if f is not None:
            try:
                formula = f.sym.format(*args)
            except (IndexError, KeyError):
                pass
        tangent = " + ".join(terms) + " = " if terms else ""
        lines.append(f"  {names[v]} = {formula} = {_num(v.data)}    "
                     f"{_dot(names[v])} = {tangent}{_num(total)}")
    return "\n".join(lines) + "\n"


def _dot(name: str) -> str:
    return name[0] + "\u0307" + name[1:]  # a dot above the first letter: ẋ, v̇3


def _num(x: Any) -> str:
    x = float(np.sum(x)) if np.size(x) == 1 else x
    return f"{x:.4g}" if isinstance(x, float) else str(x)
