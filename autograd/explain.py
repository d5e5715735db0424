"""Write out the hand calculation behind a Value, the way the source document does.

``explain(root)`` lists the inputs and parameters, then every step of the forward pass with
its numbers (``z₁ = (0.6 × 0.9) + (0.4 × 0.2) + (0.5 × 0.8) + (0.3 × 0.3) - 0.4 = 0.71``),
and, once a backward pass has run, every chain-rule step
(``dL/dw = dL/dz × dz/dw = -0.438 × 0.71 = -0.311``).

This file is the walk over the graph: which Values get a line, their names, the forward
lines and the backward lines. How numbers and brackets are written lives in
`explain_numbers`; how each op is written, in the table `explain_writers.FORMATS`.
Unlabelled arithmetic that is used once is written inside the expression of the step that
uses it (as the document writes a weighted sum on one line); every labelled Value, every
function (ReLU, σ, softmax, ...) and every Value used twice gets its own line. Unlabelled
Values are named v1, v2, ... in forward order. Tensor elements carry subscripts counted
from 1, as in the document (z₁, w₂,₃).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import Value, input_grads, topological_order
from .explain_numbers import (
    TERMS_LIMIT,
    WRITE_LIMIT,
    atom,
    const_sym,
    fmt,
    sub,
    summary,
    times,
    values_text,
)
from .explain_writers import FORMATS

__all__ = ["FORMATS", "explain", "explain_steps", "fmt"]

BUILD_LIMIT = 4096  # element expressions are only built for tensors up to this size
TEXT_LIMIT = 300    # an expression longer than this gets its own line instead of inlining


# ---- the walk ---------------------------------------------------------------------------
class _Graph:
    """Names, element expressions and inlining decisions for every Value under root."""

    def __init__(self, root: Value) -> None:
        self.root = root
        self.order = topological_order(root)
        self.uses: dict[Value, list[Value]] = {v: [] for v in self.order}
        for v in self.order:
            for x in v.parents:
                self.uses[x].append(v)
        self.inlined: dict[Value, bool] = {}
        self.expr: dict[Value, Any] = {}     # a Value's own expression (element array)
        self.as_arg: dict[Value, Any] = {}   # how consumers write it
        self.names: dict[Value, str] = {}
        count = 0
        for v in self.order:
            self.expr[v] = self._build(v)
            self.inlined[v] = self._inline(v)
            if self.inlined[v]:
                self.as_arg[v] = self.expr[v]
                continue
            self.as_arg[v] = self._atoms(v.data)
            if v.label:
                self.names[v] = v.label
            elif v is root:
                self.names[v] = "L"
            else:
                count += 1
                self.names[v] = f"v{count}"
        self.root_name = self.names[root]

    @staticmethod
    def _atoms(data: Any) -> Any:
        arr = np.asarray(data)
        if arr.size > BUILD_LIMIT:
            return None
        out = np.empty(arr.shape, dtype=object)
        for idx in np.ndindex(arr.shape):
            out[idx] = atom(arr[idx])
        return out

    def _build(self, v: Value) -> Any:
        if not v.parents:
            return None
        f = FORMATS.get(v.op)
        if f is None or f.elem is None or np.size(v.data) > BUILD_LIMIT:
            return None
        args = [self.as_arg[x] if isinstance(x, Value) else self._atoms(x) for x in v.inputs]
        return f.elem(v, args)

    def _inline(self, v: Value) -> bool:
        if v.label or v is self.root or not v.parents or len(self.uses[v]) != 1:
            return False
        f, user = FORMATS.get(v.op), FORMATS.get(self.uses[v][0].op)
        if not (f and f.inline and user and user.inline) or self.expr[v] is None:
            return False
        return all(len(e.text) <= TEXT_LIMIT for e in self.expr[v].flat)

    def name(self, v: Value, idx: Any = None) -> str:
        return self.names[v] + sub(idx, v.shape)

    def sym(self, v: Value) -> str:
        """The symbolic formula of v's step (names of displayed inputs, inlined ones
        expanded), without recursion: built from the inputs' symbolic forms."""
        forms: dict[Value, str] = {}
        stack = [v]
        while stack:
            n = stack[-1]
            pending = [x for x in n.parents if self.inlined[x] and x not in forms]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            f = FORMATS.get(n.op)
            template = f.sym if f else n.op + "(" + ", ".join(
                f"{{{i}}}" for i in range(len(n.inputs))) + ")"
            args = []
            for i, x in enumerate(n.inputs):
                if not isinstance(x, Value):
                    text = const_sym(x)
                elif x in forms:
                    text = forms[x]
                    if " " in text and f"({{{i}}})" not in template:
                        text = f"({text})"  # an inlined sub-expression, bracketed
                else:
                    text = self.names[x]
                args.append(text)
            forms[n] = template.format(*args)
        return forms[v]



Step = tuple[Value | None, list[str]]  # the Value a group of lines is about (None: a heading)


def _forward(gr: _Graph, inner: bool = False) -> list[Step]:
    """The inputs, then one step per displayed Value in forward order (with `inner`, also
    one per Value written inside another's expression)."""
    steps: list[Step] = [(None, ["Inputs and parameters:"])]
    for v in gr.order:
        if v.parents:
            continue
        if v.size <= WRITE_LIMIT:
            steps.append((v, [f"  {gr.name(v)} = {values_text(v.data)}"]))
        else:
            steps.append((v, [(f"  {gr.name(v)}: shape {v.shape}, {v.size} values "
                              f"({summary(v.data)}) — too large to write out (more than "
                              f"{WRITE_LIMIT} elements)")]))
    steps.append((None, ["", "Forward pass:"]))
    for v in gr.order:
        if not v.parents:
            continue
        if gr.inlined[v]:
            if inner:
                steps.append((v, _inner_lines(gr, v)))
            continue
        steps.append((v, _node_lines(gr, v)))
    return steps


def _inner_lines(gr: _Graph, v: Value) -> list[str]:
    """A Value written inside its user's line, on a line of its own (for step-through)."""
    user = gr.uses[v][0]
    while gr.inlined[user]:
        user = gr.uses[user][0]
    head = f"  (part of {gr.names[user]}) {gr.sym(v)}"
    data = np.asarray(v.data)
    texts = [gr.expr[v][idx].text for idx in np.ndindex(data.shape)]
    values = [fmt(data[idx]) for idx in np.ndindex(data.shape)]
    if texts == values:  # a view (transpose, reshape): nothing to compute, only values
        return [f"{head} = {values_text(v.data)}"]
    if not v.shape:
        return [f"{head} = {texts[0]} = {values[0]}"]
    return [head + ":"] + [f"    {t} = {x}" for t, x in zip(texts, values)]


def _node_lines(gr: _Graph, v: Value) -> list[str]:
    """The forward line(s) of one displayed Value."""
    f = FORMATS.get(v.op)
    head = f"  {gr.name(v)} = {gr.sym(v)}"
    if f is not None and f.lines is not None and v.size <= WRITE_LIMIT:
        return [head] + ["  " + s for s in f.lines(v, gr.name, None)]
    expr = gr.expr[v]
    if expr is None and f is not None and f.elem is None and v.size <= WRITE_LIMIT:
        return [f"{head} = {values_text(v.data)}"]  # no element formula: values
    if expr is None or v.size > WRITE_LIMIT:
        why = (f"more than {WRITE_LIMIT} elements" if v.size > WRITE_LIMIT
               else f"sums of more than {TERMS_LIMIT} products" if v.op == "matmul"
               else f"a {v.op} over more than {TERMS_LIMIT} terms"
               if v.op in ("sum", "mean", "max")
               else "its inputs are too large" if expr is None
               else "not written element by element")
        if v.size == 1:
            return [f"{head} = {fmt(v.item())} (too many terms to write out: {why})"]
        return [(f"{head}: shape {v.shape} ({summary(v.data)}) — too large to "
                f"write out ({why})")]
    lines = []
    if v.shape and gr.sym(v) != gr.names[v]:
        lines.append(head + ":")
    data = np.asarray(v.data)
    for idx in np.ndindex(data.shape):
        text, value = expr[idx].text, fmt(data[idx])
        step = f"{text} = {value}" if text != value else value
        lines.append(f"    {gr.name(v, idx if v.shape else None)} = {step}"
                     if v.shape else f"  {gr.name(v)} = {step}")
    return lines


# ---- the backward pass, written out --------------------------------------------------------
def _region(gr: _Graph, out: Value) -> tuple[list[Value], list[Value]]:
    """`out` with the inlined Values written inside it (a tree: each is used once), and
    the displayed Values feeding it; every inlined node comes after its only user."""
    nodes, bounds, seen = [out], [], set()
    stack = [out]
    while stack:
        n = stack.pop()
        for x in n.parents:
            if gr.inlined[x]:
                nodes.append(x)
                stack.append(x)
            elif x not in seen and x.requires_grad:
                seen.add(x)
                bounds.append(x)
    return nodes, bounds


def _vjp(nodes: list[Value], seed: Any) -> dict[Value, Any]:
    """Send `seed` = d(something)/d(out) back through the region, one chain-rule step per
    node (the engine's `input_grads`, as backward does); return what reaches each boundary
    Value."""
    inner = set(nodes)
    g: dict[Value, Any] = {nodes[0]: seed}
    reached: dict[Value, Any] = {}
    for n in nodes:
        gn = g.pop(n, None)
        if gn is None:
            continue
        for x, gi in input_grads(n, gn):
            box = g if x in inner else reached
            box[x] = gi if x not in box else box[x] + gi
    return reached


def _seed_like(v: Value, flat_index: int | None) -> Any:
    if v.is_scalar:
        return 1.0
    s = np.zeros(v.shape, dtype=np.float64)
    if flat_index is not None:
        s.flat[flat_index] = 1.0
    return s


def _backward(gr: _Graph) -> list[Step]:
    """One step per chain-rule group, about the Value whose gradient it writes, from the
    root back to the leaves."""
    root, R = gr.root, gr.root_name
    shown = [v for v in gr.order if not gr.inlined[v]]
    regions = {v: _region(gr, v) for v in shown if v.parents}
    n_users: dict[Value, int] = {}
    for _, bounds in regions.values():
        for x in bounds:
            n_users[x] = n_users.get(x, 0) + 1
    seed = 1.0 if root.size == 1 else np.asarray(root.grad, dtype=np.float64)
    if root.is_scalar:
        seed = float(np.asarray(seed).reshape(()))
    elif root.size == 1:
        seed = np.ones(root.shape)
    grads: dict[Value, Any] = {root: seed}
    parts: dict[Value, list[Any]] = {}
    if root.size == 1:
        start = f"from d{R}/d{R} = {values_text(seed)}"
    else:  # a tensor root: its stored gradient came from some loss further on
        R = "L" if R != "L" else "Loss"
        start = f"from the gradient {gr.name(root)} holds, d{R}/d{gr.name(root)} = " \
                f"{values_text(seed)}"
    steps: list[Step] = [
        (None, [f"Backward pass (chain rule: d{R}/dx = d{R}/dout × dout/dx), {start}:"])]
    for out in reversed(shown):
        if len(parts.get(out, ())) > 1:
            steps.append((out, _total_lines(gr, out, parts[out], R)))
        if out not in regions or out not in grads:
            continue
        nodes, bounds = regions[out]
        g_out = grads[out]
        contrib = _vjp(nodes, g_out)
        f = FORMATS.get(out.op)
        special = None
        if f is not None and f.back is not None and out.size <= WRITE_LIMIT:
            special = f.back(out, g_out, gr.name, R)
        if special is not None:
            steps.append((out.inputs[0] if isinstance(out.inputs[0], Value) else out, special))
        jac = None
        if special is None and out.size <= WRITE_LIMIT:  # rows: d(out_j)/d(each input)
            jac = [_vjp(nodes, _seed_like(out, j)) for j in range(out.size)]
        for x in bounds:
            gx = contrib.get(x)
            if gx is None:
                continue
            grads[x] = gx if x not in grads else grads[x] + gx
            parts.setdefault(x, []).append(gx)
            if special is None:
                steps.append((x, _edge_lines(gr, out, x, jac, g_out, gx, R, n_users[x] > 1)))
    return steps


def _edge_lines(gr: _Graph, out: Value, x: Value, jac_rows: list[dict[Value, Any]] | None,
                g_out: Any, gx: Any, R: str, partial: bool) -> list[str]:
    """dL/dxᵢ = Σⱼ dL/doutⱼ × doutⱼ/dxᵢ for every element of x, with the numbers."""
    eq = "+=" if partial else "="
    if jac_rows is None or x.size > WRITE_LIMIT:
        return [(f"  d{R}/d{gr.name(x)} {eq} d{R}/d{gr.name(out)} × d{gr.name(out)}/"
                 f"d{gr.name(x)}: shape {x.shape} ({summary(gx)}) — too large to write out "
                 f"(more than {WRITE_LIMIT} elements)")]
    jac = np.stack([np.ravel(np.asarray(row.get(x, 0.0), dtype=np.float64)) * np.ones(x.size)
                    for row in jac_rows])
    g = np.ravel(np.asarray(g_out, dtype=np.float64))
    total = np.ravel(np.asarray(gx, dtype=np.float64))
    is_root = out is gr.root and out.size == 1 and g[0] == 1.0
    lines = []
    for i, idx in enumerate(np.ndindex(*x.shape) if x.shape else [None]):
        xi = gr.name(x, idx)
        js = [j for j in range(out.size) if jac[j, i] != 0 and g[j] != 0]
        if is_root:
            lines.append(f"  d{R}/d{xi} {eq} {fmt(jac[0, i])}")
            continue
        if not js and out.size == x.size:
            js = [i]  # an elementwise step sending nothing back (a ReLU that is off)
        if not js:
            lines.append(f"  d{R}/d{xi} {eq} 0 (nothing reaches {xi} through {gr.name(out)})")
            continue
        outs = [gr.name(out, _unravel(j, out.shape)) for j in js]
        if len(js) == 1:
            form = f"d{R}/d{outs[0]} × d{outs[0]}/d{xi}"
            nums = times(g[js[0]], jac[js[0], i])
        else:
            form = (" + ".join(f"d{R}/d{o} × d{o}/d{xi}" for o in outs) if len(js) <= 3
                    else f"Σⱼ d{R}/d{gr.names[out]}ⱼ × d{gr.names[out]}ⱼ/d{xi}")
            nums = " + ".join(f"({times(g[j], jac[j, i])})" for j in js)
        lines.append(f"  d{R}/d{xi} {eq} {form} = {nums} = {fmt(total[i])}")
    return lines


def _unravel(j: int, shape: tuple[int, ...]) -> Any:
    return np.unravel_index(j, shape) if shape else None


def _total_lines(gr: _Graph, x: Value, parts: list[Any], R: str) -> list[str]:
    """A Value used by several steps: its gradient is the sum of what each step sends."""
    if x.size > WRITE_LIMIT:
        return [(f"  d{R}/d{gr.name(x)} = the sum over its {len(parts)} uses: shape {x.shape} "
                 f"({summary(sum(parts))})")]
    lines = []
    flat = [np.ravel(np.asarray(p, dtype=np.float64)) for p in parts]
    for i, idx in enumerate(np.ndindex(*x.shape) if x.shape else [None]):
        nums = " + ".join(f"({fmt(p[i])})" if p[i] < 0 else fmt(p[i]) for p in flat)
        lines.append(f"  d{R}/d{gr.name(x, idx)} = {nums} = {fmt(sum(p[i] for p in flat))} "
                     f"(summed over its {len(parts)} uses)")
    return lines


def explain_steps(root: Value, inner: bool = False) -> tuple[list[Step], list[Step]]:
    """explain()'s lines grouped by the Value each group is about: (forward, backward),
    the backward part empty until gradients exist. With `inner`, Values written inside
    another's expression get a group of their own too (the step-through page uses this)."""
    if not isinstance(root, Value):
        raise TypeError(f"explain() needs a Value, got {type(root).__name__}")
    gr = _Graph(root)
    forward = _forward(gr, inner)
    backward = _backward(gr) if root._grad is not None and root.parents else []
    return forward, backward


def explain(root: Value) -> str:
    """The hand calculation behind `root`, written like the source document: inputs and
    parameters, each forward step in forward (topological) order with its formula and
    numbers, and — once ``backward()`` has run — each chain-rule step,
    ``dL/dx = dL/dout × dout/dx = ... = ...``."""
    forward, backward = explain_steps(root)
    lines = [line for _, group in forward for line in group]
    if backward:
        lines.append("")
        lines.extend(line for _, group in backward for line in group)
    return "\n".join(lines) + "\n"
