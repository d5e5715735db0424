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

import html
import math
from typing import Any

import numpy as np

from ..engine import Value, input_grads, topological_order
from .explain_numbers import (
    DIGITS,
    PROD,
    SUM,
    TERMS_LIMIT,
    WRITE_LIMIT,
    E,
    atom,
    checked,
    const_sym,
    current_digits,
    element,
    exp_text,
    fmt,
    result,
    short_name,
    summary,
    times,
    values_text,
)
from .explain_writers import FORMATS

__all__ = ["FORMATS", "explain", "explain_steps", "fmt"]

_SQUARES = {"2": "²", "3": "³"}  # small powers written as superscripts, everywhere
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
        self.paths: dict[Value, str] = {}  # a parameter's attribute path, shown once
        shorts = [short_name(v.label, v.ndim) for v in self.order if v.label]
        for v in self.order:
            self.expr[v] = self._build(v)
            self.inlined[v] = self._inline(v)
            if self.inlined[v]:
                self.as_arg[v] = self.expr[v]
                continue
            self.as_arg[v] = self._atoms(v.data)
            if v.label:
                name = short_name(v.label, v.ndim)
                unique = shorts.count(name) == 1 and name not in (x.label for x in self.order)
                self.names[v] = name if unique or name == v.label else v.label
                if self.names[v] != v.label:
                    self.paths[v] = v.label
            elif v is root:
                self.names[v] = "out"  # a loss is labelled L (nn's losses are)
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

    def rebuild(self, v: Value) -> Any:
        """v's element expressions again, from numbers written at the current precision
        (the Values written inside it rebuilt too)."""
        nodes, _ = _region(self, v)
        local: dict[Value, Any] = {}
        for n in reversed(nodes):
            args = [local[x] if isinstance(x, Value) and x in local
                    else self._atoms(x.data if isinstance(x, Value) else x) for x in n.inputs]
            local[n] = FORMATS[n.op].elem(n, args)
        return local[v]

    def name(self, v: Value, idx: Any = None) -> str:
        return element(self.names[v], idx, v.shape)

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
            if n.op == "pow" and args[1] in _SQUARES:  # x², as the numbers are written
                template, args[1] = "{0}{1}", _SQUARES[args[1]]
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
        path = f"   ({gr.paths[v]})" if v in gr.paths else ""
        if v.size <= WRITE_LIMIT:
            steps.append((v, [f"  {gr.name(v)} = {values_text(v.data)}{path}"]))
        else:
            steps.append((v, [(f"  {gr.name(v)}{path}: shape {v.shape}, {v.size} values "
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
    exprs = {DIGITS: expr}
    for idx in np.ndindex(data.shape):
        step = _checked_step(gr, v, idx, exprs, result(data[idx]))
        lines.append(f"    {gr.name(v, idx if v.shape else None)} = {step}"
                     if v.shape else f"  {gr.name(v)} = {step}")
    return lines


def _checked_step(gr: _Graph, v: Value, idx: Any, exprs: dict[int, Any], value: str) -> str:
    """``expression = each term's value = result`` for one element, its operands written
    with just enough digits that every number on the line can be recomputed from the
    others at the precision shown (3 decimals when that suffices, as the document)."""
    def make() -> tuple[list[str], E]:
        d = current_digits()
        if d not in exprs:
            exprs[d] = gr.rebuild(v)
        e = exprs[d][idx]
        return e.text.split(" = "), e

    if exprs[DIGITS][idx].text == value:
        return value
    return checked(make, value)


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
    rule = f"chain rule: d{R}/dx = d{R}/dy × dy/dx for each y made from x"
    steps: list[Step] = [(None, [f"Backward pass ({rule}), {start}:"])]
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
    """dL/dxᵢ = Σⱼ dL/doutⱼ × doutⱼ/dxᵢ for every element of x, with the numbers; a zero
    says why, and the root's own step says where its local derivative comes from."""
    eq = "+=" if partial else "="
    if jac_rows is None or x.size > WRITE_LIMIT:
        return [(f"  d{R}/d{gr.name(x)} {eq} d{R}/d{gr.name(out)} × d{gr.name(out)}/"
                 f"d{gr.name(x)}: shape {x.shape} ({summary(gx)}) — too large to write out "
                 f"(more than {WRITE_LIMIT} elements)")]
    jac = _jacobian(jac_rows, x)
    g = np.ravel(np.asarray(g_out, dtype=np.float64))
    total = np.ravel(np.asarray(gx, dtype=np.float64))
    is_root = out is gr.root and out.size == 1 and g[0] == 1.0
    lines = []
    for i, idx in enumerate(np.ndindex(*x.shape) if x.shape else [None]):
        xi = gr.name(x, idx)
        js = [j for j in range(out.size) if jac[j, i] != 0 and g[j] != 0]
        why = ""
        if is_root:
            o = gr.name(out)
            why = _derivation(gr, out, x, i)
            if not why and jac[0, i] == 0:
                why = _why_zero(gr, out, x, i, jac, g)[1]
            lines.append(f"  d{R}/d{xi} {eq} ∂{o}/∂{xi} = {fmt(total[i])}{why}")
            continue
        if not js:
            js, why = _why_zero(gr, out, x, i, jac, g)
        if not js:
            lines.append(f"  d{R}/d{xi} {eq} 0" + (why or f" (nothing reaches {xi} through "
                                                        f"{gr.name(out)})"))
            continue
        outs = [gr.name(out, _unravel(j, out.shape)) for j in js]
        if len(js) == 1:
            form = f"d{R}/d{outs[0]} × d{outs[0]}/d{xi}"
        else:
            form = (" + ".join(f"d{R}/d{o} × d{o}/d{xi}" for o in outs) if len(js) <= 3
                    else f"Σⱼ d{R}/d{gr.names[out]}ⱼ × d{gr.names[out]}ⱼ/d{xi}")
        nums = _products([(g[j], jac[j, i]) for j in js], total[i])
        lines.append(f"  d{R}/d{xi} {eq} {form} = {nums}{why}")
    return lines


def _jacobian(rows: list[dict[Value, Any]], x: Value) -> np.ndarray:
    """d(out_j)/d(x_i) as a (out.size, x.size) array, from one VJP per element of out."""
    return np.stack([np.ravel(np.asarray(row.get(x, 0.0), dtype=np.float64)) * np.ones(x.size)
                     for row in rows])


def _why_zero(gr: _Graph, out: Value, x: Value, i: int, jac: np.ndarray,
              g: np.ndarray) -> tuple[list[int], str]:
    """For a gradient that is 0: the elements of out it goes through, and why."""
    through = [j for j in range(out.size) if jac[j, i] != 0]
    if through:  # the path exists, but nothing comes down it
        names = ", ".join(f"d{gr.root_name}/d{gr.name(out, _unravel(j, out.shape))}"
                          for j in through[:3])
        return through, f" — {names} is 0, so nothing reaches {gr.name(x, _idx(x, i))}"
    if out.op == "relu":  # a ReLU that was off: find where x feeds its input
        pre = out.inputs[0]
        pre_data = np.ravel(np.asarray(pre.data if isinstance(pre, Value) else pre))
        if out.size == x.size and not gr.inlined.get(pre, False):
            through = [i]
        elif isinstance(pre, Value) and gr.inlined.get(pre, False):
            nodes, _ = _region(gr, out)
            inner = [_vjp(nodes[1:], _seed_like(pre, j)) for j in range(pre.size)]
            pj = _jacobian(inner, x)
            through = [j for j in range(pre.size) if pj[j, i] != 0]
        off = [j for j in through if pre_data[j] <= 0]
        if off:
            z = ", ".join(f"{gr.name(out, _unravel(j, out.shape))}'s input is "
                          f"{fmt(pre_data[j])}" for j in off[:3])
            return off, f" — the ReLU was off ({z} ≤ 0), so no gradient passes"
    if out.op in ("max", "max_pool1d", "max_pool2d") and out.inputs[0] is x:
        return [], (f" — {gr.name(x, _idx(x, i))} is not the maximum of its "
                    f"{'window' if out.op != 'max' else 'values'}, so {out.op} passes it nothing")
    if out.size == x.size:
        return [i], f" — d{gr.name(out, _unravel(i, out.shape))}/d{gr.name(x, _idx(x, i))} is 0 here"
    return [], ""


def _idx(x: Value, i: int) -> Any:
    return _unravel(i, x.shape)


# ---- where the root's local derivative comes from ---------------------------------------
def _derivation(gr: _Graph, out: Value, x: Value, i: int) -> str:
    """`` — since R = ..., dR/dxᵢ = f₁ × f₂ = ...``: the local derivative of the root's
    step, read off the ops between x and the root (a chain of elementwise ops and full
    sums), or "" when the step is not such a chain."""
    path = _path(gr, out, x)
    if path is None:
        return ""
    factors, k = [], i
    for node, pos in path:
        f = _local(node, pos, k)
        if f is None:
            return ""
        factors.append(f)
        if node.op in ("sum", "mean", "matmul"):
            k = None
    forms = " × ".join(f"({t})" if t.startswith("-") else t for t, _ in factors)
    nums = " × ".join(fmt(v) if v >= 0 else f"({fmt(v)})" for _, v in factors)
    value = result(math.prod(v for _, v in factors))
    text = " = ".join(dict.fromkeys([forms, nums, value]))  # each form once
    return f" — from {gr.name(out)} = {gr.sym(out)}: d/d{gr.name(x, _idx(x, i))} = {text}"


def _path(gr: _Graph, out: Value, x: Value) -> list[tuple[Value, int]] | None:
    """The ops from x up to out within out's line, as (node, which input), bottom first;
    None if x enters more than once."""
    nodes, _ = _region(gr, out)
    users = [(n, k) for n in nodes for k, y in enumerate(n.inputs) if y is x]
    if len(users) != 1:
        return None
    path = [users[0]]
    while path[-1][0] is not out:
        child = path[-1][0]
        parent = gr.uses[child][0]
        path.append((parent, next(k for k, y in enumerate(parent.inputs) if y is child)))
    return path


def _elem(a: Any, k: int | None) -> float:
    arr = np.ravel(np.asarray(a.data if isinstance(a, Value) else a, dtype=np.float64))
    return float(arr[0] if arr.size == 1 or k is None else arr[k])


def _local(node: Value, pos: int, k: int | None) -> tuple[str, float] | None:
    """d(node)/d(its input at `pos`) at element k, as (formula, value)."""
    op, ins = node.op, node.inputs
    if op in ("sum", "mean") and node.params.get("axis") is None:
        n = np.size(ins[0].data if isinstance(ins[0], Value) else ins[0])
        return ("1", 1.0) if op == "sum" else (f"1/{n}", 1.0 / n)
    if op == "matmul" and all(np.ndim(y.data if isinstance(y, Value) else y) == 1 for y in ins):
        w = _elem(ins[1 - pos], k)  # a dot product: d(w · x)/dxₖ = wₖ
        return fmt(w), w
    if op not in _LOCAL or (node.size != 1 and k is None):
        return None
    other = ins[1 - pos] if len(ins) == 2 else None
    shapes_ok = all(np.size(y.data if isinstance(y, Value) else y) in (1, node.size)
                    for y in ins)
    if not shapes_ok:
        return None
    return _LOCAL[op](pos, _elem(ins[pos], k), _elem(other, k) if other is not None else 0.0,
                      _elem(node, k))


_LOCAL = {  # d(out)/d(input `pos`), from the input's value u, the other's w and out's y
    "add": lambda pos, u, w, y: ("1", 1.0),
    "sub": lambda pos, u, w, y: ("1", 1.0) if pos == 0 else ("-1", -1.0),
    "mul": lambda pos, u, w, y: (fmt(w), w),
    "neg": lambda pos, u, w, y: ("-1", -1.0),
    "to_scalar": lambda pos, u, w, y: ("1", 1.0),
    "relu": lambda pos, u, w, y: (f"ReLU'({fmt(u)})", 1.0 if u > 0 else 0.0),
    "tanh": lambda pos, u, w, y: (f"(1 - {fmt(y)}²)", 1 - y * y),
    "sigmoid": lambda pos, u, w, y: (f"{fmt(y)} × (1 - {fmt(y)})", y * (1 - y)),
    "exp": lambda pos, u, w, y: (exp_text(u), y),
    "log": lambda pos, u, w, y: (f"1/{fmt(u)}", 1 / u),
    "div": lambda pos, u, w, y: (f"1/{fmt(w)}", 1 / w) if pos == 0 else None,
    "pow": lambda pos, u, w, y: (
        (f"2 × {fmt(u) if u >= 0 else '(' + fmt(u) + ')'}", 2 * u) if w == 2
        else (f"{fmt(w)} × {fmt(u)}^{fmt(w - 1)}", w * u ** (w - 1))) if pos == 0 else None,
}


def _products(pairs: list[tuple[float, float]], total: float) -> str:
    """``a × b = total``, or ``(a × b) + (c × d) = ab + cd = total``: each product's value
    before the sum, every number recomputable from the ones on the line."""
    def make() -> tuple[list[str], E]:
        terms = tuple(("+", E(f"({times(a, b)})", PROD, value=a * b)) for a, b in pairs)
        if len(terms) == 1:
            return [times(*pairs[0])], E("")
        e = E(" + ".join(t.text for _, t in terms), SUM, terms=terms)
        return [e.text], e
    return checked(make, result(total))


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
        def make(i: int = i) -> tuple[list[str], E]:
            return [" + ".join(f"({fmt(p[i])})" if p[i] < 0 else fmt(p[i]) for p in flat)], E("")
        nums = checked(make, result(sum(p[i] for p in flat)))
        lines.append(f"  d{R}/d{gr.name(x, idx)} = {nums} (summed over its {len(parts)} uses)")
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


class Explanation(str):
    """explain()'s text: a plain ``str`` that also shows as itself, line by line, at the
    Python prompt and in Jupyter (instead of one quoted line full of ``\\n``)."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f'<pre style="line-height: 1.4">{html.escape(str(self))}</pre>'


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
    return Explanation("\n".join(lines) + "\n")
