"""Write out the hand calculation behind a Value, the way the source document does.

``explain(root)`` lists the inputs and parameters, then every step of the forward pass with
its numbers (``z₁ = (0.6 × 0.9) + (0.4 × 0.2) + (0.5 × 0.8) + (0.3 × 0.3) - 0.4 = 0.71``),
and, once a backward pass has run, every chain-rule step
(``dL/dw = dL/dz × dz/dw = -0.438 × 0.71 = -0.311``).

How each operation is written is one entry of the table `FORMATS` below, keyed by op name
like the derivative table `autograd.ops.OPS`. Unlabelled arithmetic that is used once is
written inside the expression of the step that uses it (as the document writes a weighted
sum on one line); every labelled Value, every function (ReLU, σ, softmax, ...) and every
Value used twice gets its own line. Unlabelled Values are named v1, v2, ... in forward order.
Tensor elements carry subscripts counted from 1, as in the document (z₁, w₂,₃).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .engine import Value, topological_order, unbroadcast
from .ops import OPS

WRITE_LIMIT = 16    # tensors with more elements are summarised, not written out
TERMS_LIMIT = 16    # a matmul element with more products than this is summarised
BUILD_LIMIT = 4096  # element expressions are only built for tensors up to this size
TEXT_LIMIT = 300    # an expression longer than this gets its own line instead of inlining

ATOM, POWER, PROD, SUM = 0, 1, 2, 3  # precedence of a written expression
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def fmt(x: Any) -> str:
    """A number as the document writes it: 3 decimals, trailing zeros trimmed (0.71,
    -0.438, 2.366, 1), 3 significant digits below 0.01 (0.0035)."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if abs(x) < 1e-12:
        return "0"
    if 0.01 <= abs(x) < 1e6:
        s = f"{x:.3f}".rstrip("0").rstrip(".")
    else:
        s = f"{x:.3g}"
    return "0" if s in ("-0", "0") else s


@dataclass(frozen=True)
class E:
    """A written expression: its text, precedence, whether it is a negative number, and
    whether it is a matmul's sum of products (so a bias is then written ``- 0.4``).
    (A plain class, not a tuple, so numpy keeps it as one object in object arrays.)"""

    text: str
    prec: int = ATOM
    neg: bool = False
    dot: bool = False


def atom(x: Any) -> E:
    t = fmt(x)
    return E(t, ATOM, t.startswith("-"))


def _paren(e: E, wrap: bool) -> str:
    return f"({e.text})" if wrap else e.text


def _in_sum(e: E, right: bool = False) -> str:
    """An operand of + or -: products and negative numbers in brackets, as the document
    writes ``(0.5 × 0.8) + (0.7 × 0.3) + (-0.3)``."""
    return _paren(e, e.prec == PROD or (right and (e.neg or e.prec == SUM)))


def _in_prod(e: E, right: bool = False) -> str:
    return _paren(e, e.prec == SUM or (right and (e.neg or (e.prec == PROD and "/" in e.text))))


def _arg(e: E) -> str:
    return e.text


# ---- element builders: one per op, from the inputs' element expressions ------------------
def _ew(fn: Callable[..., E]) -> Callable[[Value, list[Any]], Any]:
    """An elementwise builder: broadcast the inputs' expression arrays, apply fn per element
    (fn also receives the element's value)."""
    def build(v: Value, args: list[Any]) -> Any:
        if any(a is None for a in args):
            return None
        arrs = np.broadcast_arrays(*args, np.asarray(v.data, dtype=object))
        out = np.empty(arrs[0].shape, dtype=object)
        for idx in np.ndindex(out.shape):
            out[idx] = fn(*(a[idx] for a in arrs))
        return out
    return build


def _add(a: E, b: E, value: Any, scalar: bool = True) -> E:
    if b.neg and b.prec == ATOM and (a.dot or not scalar):
        return E(f"{_in_sum(a)} - {b.text[1:]}", SUM)  # a bias: "... - 0.4"
    return E(f"{_in_sum(a)} + {_in_sum(b, True)}", SUM)


def _build_add(v: Value, args: list[Any]) -> Any:
    scalar = v.is_scalar
    return _ew(lambda a, b, val: _add(a, b, val, scalar))(v, args)


def _pow(a: E, b: E, value: Any) -> E:
    sup = {"2": "²", "3": "³"}.get(b.text)
    base = _paren(a, a.prec != ATOM or a.neg)
    return E(f"{base}{sup}" if sup else f"{base}^{_paren(b, b.prec != ATOM or b.neg)}", POWER)


def _sigmoid(a: E, value: Any) -> E:
    """σ(x) = 1 / (1 + e^(-x)), written out as the document does."""
    x = float(_num(a))
    e = math.exp(-x) if x > -700 else math.inf
    return E(f"σ({a.text}) = 1 / (1 + {_e(-x)}) = 1 / (1 + {fmt(e)}) = 1 / {fmt(1 + e)}")


def _num(e: E) -> float:
    try:
        return float(e.text)
    except ValueError:
        return math.nan


def _matmul(v: Value, args: list[Any]) -> Any:
    """Each element as the sum of its products; the weight-like factor (a leaf Value when
    the other side is not one) is written first, as in ``(w × x)``."""
    a, b = args
    if a is None or b is None:
        return None
    k = a.shape[-1]
    if k > TERMS_LIMIT:
        return None
    swap = _weight_first(v)
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    lead = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2 = np.broadcast_to(a2, lead + a2.shape[-2:])
    b2 = np.broadcast_to(b2, lead + b2.shape[-2:])
    out = np.empty(lead + (a2.shape[-2], b2.shape[-1]), dtype=object)
    for idx in np.ndindex(out.shape):
        *bt, i, j = idx
        terms = []
        for t in range(k):
            x, w = a2[(*bt, i, t)], b2[(*bt, t, j)]
            if swap:
                x, w = w, x
            terms.append(f"({_in_prod(x)} × {_in_prod(w, True)})")
        out[idx] = E(" + ".join(terms), SUM if k > 1 else PROD, dot=True)
    return out.reshape(np.shape(v.data))


def _weight_first(v: Value) -> bool:
    """True when the right operand holds the weights: a leaf (seen through an unlabelled
    transpose/reshape), when the left is not one, or the ``x @ W.T`` pattern."""
    def source(x: Any) -> tuple[bool, bool]:
        moved = False
        while isinstance(x, Value) and x.op in ("transpose", "reshape") and not x.label:
            moved, x = moved or x.op == "transpose", x.inputs[0]
        return isinstance(x, Value) and not x.parents, moved
    (a_leaf, a_t), (b_leaf, b_t) = source(v.inputs[0]), source(v.inputs[1])
    return b_leaf and (not a_leaf or (b_t and not a_t))


def _reduce(join: Callable[[list[E], int], E]) -> Callable[[Value, list[Any]], Any]:
    def build(v: Value, args: list[Any]) -> Any:
        (a,) = args
        if a is None:
            return None
        axis, keep = v.params.get("axis"), v.params.get("keepdims", False)
        axes = tuple(range(a.ndim)) if axis is None else tuple(
            ax % a.ndim for ax in (axis if isinstance(axis, tuple) else (axis,)))
        moved = np.moveaxis(a, axes, tuple(range(-len(axes), 0)))
        flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
        n = flat.shape[-1]
        if n > TERMS_LIMIT:
            return None
        out = np.empty(flat.shape[:-1], dtype=object)
        for idx in np.ndindex(out.shape):
            out[idx] = join(list(flat[idx]), n)
        return out.reshape(np.shape(v.data)) if keep or out.shape != np.shape(v.data) else out
    return build


def _sum_join(es: list[E], n: int) -> E:
    if n == 1:
        return es[0]
    return E(" + ".join(_in_sum(e, True) for e in es), SUM)


def _mean_join(es: list[E], n: int) -> E:
    return E(f"({_sum_join(es, n).text}) / {n}", PROD)


def _view(fn: Callable[[np.ndarray, Value], Any]) -> Callable[[Value, list[Any]], Any]:
    def build(v: Value, args: list[Any]) -> Any:
        (a,) = args
        if a is None:
            return None
        out = fn(a, v)
        if isinstance(out, E):  # a single element picked out
            box = np.empty((), dtype=object)
            box[()] = out
            return box
        return out
    return build


def _func(template: str) -> Callable[[Value, list[Any]], Any]:
    return _ew(lambda a, val: E(template.format(_arg(a)), ATOM))


class Fmt(NamedTuple):
    """How one op is written: a symbolic form, an element builder (None: write the value
    only), whether it may be written inside the expression that uses it, and optional
    whole-node forward/backward writers for ops that need several lines (softmax)."""

    sym: str
    elem: Callable[[Value, list[Any]], Any] | None
    inline: bool = False
    lines: Callable[..., list[str]] | None = None
    back: Callable[..., list[str] | None] | None = None


def _exp_rows(v: Value) -> tuple[np.ndarray, list[tuple[Any, np.ndarray, Any]]]:
    """The input z of a (log-)softmax node and, for each row along its axis, (the row's
    index, e^z of the row, Σ e^z); an overflow to inf is written as inf, not warned about."""
    z = np.asarray(v.inputs[0].data if isinstance(v.inputs[0], Value) else v.inputs[0])
    axis = v.params.get("axis", -1) % max(z.ndim, 1)
    rows = []
    with np.errstate(over="ignore"):
        for row in _rows(z.shape, axis):
            ez = np.exp(z[row])
            rows.append((row, ez, ez.sum()))
    return z, rows


def _softmax_lines(v: Value, name: Callable[[Value, Any], str], args: list[Any]) -> list[str]:
    """softmax(zᵢ) = e^zᵢ / Σⱼ e^zⱼ: the exponentials, their sum, each quotient."""
    z, rows = _exp_rows(v)
    lines = []
    for row, ez, total in rows:
        for zi, e in zip(z[row], ez):
            lines.append(f"  {_e(zi)} = {fmt(e)}")
        lines.append(f"  Sum = {' + '.join(fmt(e) for e in ez)} = {fmt(total)}")
        for i, e in zip(_flat(z.shape, row), ez):
            lines.append(f"  {name(v, i)} = {fmt(e)} / {fmt(total)} = {fmt(e / total)}")
    return lines


def _log_softmax_lines(v: Value, name: Callable[[Value, Any], str],
                       args: list[Any]) -> list[str]:
    """log softmax(z)ᵢ = zᵢ - log Σⱼ e^zⱼ."""
    z, rows = _exp_rows(v)
    lines = []
    for row, ez, total in rows:
        lse = math.log(total) if math.isfinite(total) else float(np.logaddexp.reduce(z[row]))
        exps = " + ".join(_e(zi) for zi in z[row])
        zname = name(v.inputs[0]) if isinstance(v.inputs[0], Value) else "z"
        lines.append(f"  log Σ e^{zname} = log({exps}) = log({' + '.join(fmt(e) for e in ez)}) "
                     f"= log({fmt(total)}) = {fmt(lse)}")
        for i, zi in zip(_flat(z.shape, row), z[row]):
            lines.append(f"  {name(v, i)} = {fmt(zi)} - {fmt(lse)} = {fmt(zi - lse)}")
    return lines


def _log_softmax_back(v: Value, g: np.ndarray, names: Callable[[Any, Any], str],
                      root: str) -> list[str] | None:
    """With g = dL/d(log p) = -y × c (the negative log-likelihood of a target y whose rows
    sum to 1, c = 1 or 1/batch), dL/dzᵢ = gᵢ - pᵢ Σⱼ gⱼ = (pᵢ - yᵢ) × c: the document's
    ``dL/dz = p - y``. Other g get the generic chain-rule lines (None)."""
    z = v.inputs[0]
    if not isinstance(z, Value):
        return None
    axis = v.params.get("axis", -1) % max(z.ndim, 1)
    p = np.exp(np.asarray(v.data, dtype=np.float64))
    g = np.asarray(g, dtype=np.float64)
    c = -g.sum(axis=axis, keepdims=True)
    if not (np.all(c > 0) and np.allclose(c, c.flat[0])):
        return None
    c = float(c.flat[0])
    y = -g / c
    if np.any(y < -1e-12):
        return None
    zv = z
    lines = [(f"  (log-softmax then the negative log-likelihood, i.e. softmax + cross-entropy: "
              f"d{root}/dz = p - y with p = softmax({names(zv, None)}), y the target)")]
    scale = "" if abs(c - 1) < 1e-12 else f" × {fmt(c)}"
    for i in np.ndindex(p.shape):
        d = (p[i] - y[i]) * c
        pi, yi = f"p{_sub(i, p.shape)}", f"y{_sub(i, p.shape)}"
        calc = f"{fmt(p[i])} - {fmt(y[i])}" if not scale else f"({fmt(p[i])} - {fmt(y[i])}){scale}"
        form = f"{pi} - {yi}" if not scale else f"({pi} - {yi}){scale}"
        lines.append(f"  d{root}/d{names(zv, i)} = {form} = {calc} = {fmt(d)}")
    return lines


def _e(x: float) -> str:
    t = fmt(x)
    return f"e^({t})" if t.startswith("-") else f"e^{t}"


def _rows(shape: tuple[int, ...], axis: int) -> list[tuple[Any, ...]]:
    """Index tuples selecting each 1-D slice along `axis`."""
    if not shape:
        return [()]
    other = [n for k, n in enumerate(shape) if k != axis]
    rows = []
    for idx in np.ndindex(*other):
        full = list(idx)
        full.insert(axis, slice(None))
        rows.append(tuple(full))
    return rows


def _flat(shape: tuple[int, ...], row: tuple[Any, ...]) -> list[tuple[int, ...]]:
    return [idx for idx in np.ndindex(*shape)
            if all(isinstance(r, slice) or r == i for r, i in zip(row, idx))]


def _sub(idx: Any, shape: tuple[int, ...]) -> str:
    """Subscripts counted from 1: (0,) → ₁, (1, 2) → ₂,₃; nothing for a scalar."""
    if idx is None or not shape:
        return ""
    return ",".join(str(i + 1).translate(_SUBSCRIPT) for i in idx)


# The table: how each op is written (mirrors autograd.ops.OPS).
FORMATS: dict[str, Fmt] = {
    "add": Fmt("{0} + {1}", _build_add, inline=True),
    "sub": Fmt("{0} - {1}", _ew(lambda a, b, val: E(f"{_in_sum(a)} - {_in_sum(b, True)}",
                                                    SUM)), inline=True),
    "mul": Fmt("{0} × {1}", _ew(lambda a, b, val: E(f"{_in_prod(a)} × {_in_prod(b, True)}",
                                                    PROD)), inline=True),
    "div": Fmt("{0} / {1}", _ew(lambda a, b, val: E(
        f"{_in_prod(a)} / {_paren(b, b.prec != ATOM or b.neg)}", PROD)), inline=True),
    "pow": Fmt("{0}^{1}", _ew(_pow), inline=True),
    "neg": Fmt("-{0}", _ew(lambda a, val: E(f"-{_paren(a, a.prec != ATOM or a.neg)}", PROD)),
               inline=True),
    "matmul": Fmt("{0} @ {1}", _matmul, inline=True),
    "exp": Fmt("e^{0}", _ew(lambda a, val: E(f"e^{_paren(a, a.prec != ATOM or a.neg)}"))),
    "log": Fmt("log({0})", _func("log({})")),
    "sqrt": Fmt("√{0}", _func("√({})")),
    "tanh": Fmt("tanh({0})", _func("tanh({})")),
    "sigmoid": Fmt("σ({0})", _ew(_sigmoid)),
    "relu": Fmt("ReLU({0})", _func("ReLU({})")),
    "abs": Fmt("|{0}|", _func("|{}|")),
    "sum": Fmt("sum({0})", _reduce(_sum_join), inline=True),
    "mean": Fmt("mean({0})", _reduce(_mean_join), inline=True),
    "max": Fmt("max({0})", _reduce(lambda es, n: E(f"max({', '.join(e.text for e in es)})"))),
    "reshape": Fmt("{0}", _view(lambda a, v: a.reshape(np.shape(v.data))), inline=True),
    "transpose": Fmt("{0}.T", _view(lambda a, v: np.transpose(a, v.params.get("axes"))),
                     inline=True),
    "broadcast_to": Fmt("{0}", _view(lambda a, v: np.broadcast_to(a, np.shape(v.data))),
                        inline=True),
    "getitem": Fmt("{0}[…]", _view(lambda a, v: a[v.params["index"]]), inline=True),
    "index_add": Fmt("index_add({0})", None),
    "to_scalar": Fmt("{0}", _view(lambda a, v: a.reshape(())), inline=True),
    "softmax": Fmt("softmax({0})", None, lines=_softmax_lines),
    "log_softmax": Fmt("log_softmax({0})", None, lines=_log_softmax_lines,
                       back=_log_softmax_back),
    # fused ops that nn uses for batches: written as formulas, values shown whole
    "linear": Fmt("{0} @ {1}.T + {2}", None),
    "cross_entropy": Fmt("cross_entropy({0})", None),
}


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
        return self.names[v] + _sub(idx, v.shape)

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
                    text = _const_sym(x)
                elif x in forms:
                    text = forms[x]
                    if " " in text and f"({{{i}}})" not in template:
                        text = f"({text})"  # an inlined sub-expression, bracketed
                else:
                    text = self.names[x]
                args.append(text)
            forms[n] = template.format(*args)
        return forms[v]


def _const_sym(x: Any) -> str:
    if isinstance(x, np.ndarray) and x.size > 1:
        return f"const{x.shape}" if x.size > 4 else np.array2string(
            x, separator=", ", formatter={"all": fmt})
    return fmt(np.asarray(x).reshape(()))


def _values_text(data: Any) -> str:
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 0:
        return fmt(arr)
    text = np.array2string(arr, separator=", ", formatter={"all": fmt}, max_line_width=10**6)
    return " ".join(text.split())


def _summary(data: Any) -> str:
    a = np.asarray(data, dtype=np.float64)
    return f"min {fmt(a.min())}, mean {fmt(a.mean())}, max {fmt(a.max())}"


def _forward(gr: _Graph) -> list[str]:
    leaves = [v for v in gr.order if not v.parents]
    lines = ["Inputs and parameters:"]
    for v in leaves:
        if v.size <= WRITE_LIMIT:
            lines.append(f"  {gr.name(v)} = {_values_text(v.data)}")
        else:
            lines.append(f"  {gr.name(v)}: shape {v.shape}, {v.size} values ({_summary(v.data)})"
                         f" — too large to write out (more than {WRITE_LIMIT} elements)")
    lines.append("")
    lines.append("Forward pass:")
    for v in gr.order:
        if not v.parents or gr.inlined[v]:
            continue
        f = FORMATS.get(v.op)
        head = f"  {gr.name(v)} = {gr.sym(v)}"
        if f is not None and f.lines is not None and v.size <= WRITE_LIMIT:
            lines.append(head)
            lines.extend("  " + s for s in f.lines(v, gr.name, None))
            continue
        expr = gr.expr[v]
        if expr is None and f is not None and f.elem is None and v.size <= WRITE_LIMIT:
            lines.append(f"{head} = {_values_text(v.data)}")  # no element formula: values
            continue
        if expr is None or v.size > WRITE_LIMIT:
            why = (f"more than {WRITE_LIMIT} elements" if v.size > WRITE_LIMIT
                   else f"sums of more than {TERMS_LIMIT} products" if v.op == "matmul"
                   else f"a {v.op} over more than {TERMS_LIMIT} terms"
                   if v.op in ("sum", "mean", "max")
                   else "its inputs are too large" if expr is None
                   else "not written element by element")
            if v.size == 1:
                lines.append(f"{head} = {fmt(v.item())} (too many terms to write out: {why})")
            else:
                lines.append(f"{head}: shape {v.shape} ({_summary(v.data)}) — too large to "
                             f"write out ({why})")
            continue
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
    """Send `seed` = d(something)/d(out) back through the region with the derivative table;
    return what reaches each boundary Value."""
    inner = set(nodes)
    g: dict[Value, Any] = {nodes[0]: seed}
    reached: dict[Value, Any] = {}
    for n in nodes:
        gn = g.pop(n, None)
        if gn is None:
            continue
        rule = OPS[n.op]
        args = [x.data if isinstance(x, Value) else x for x in n.inputs]
        params = n._params or {}
        for i, x in enumerate(n.inputs):
            if not isinstance(x, Value) or not x.requires_grad:
                continue
            gi = unbroadcast(rule.vjps[i](gn, n.data, *args, **params), x.shape)
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


def _backward(gr: _Graph) -> list[str]:
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
        start = f"from d{R}/d{R} = {_values_text(seed)}"
    else:  # a tensor root: its stored gradient came from some loss further on
        R = "L" if R != "L" else "Loss"
        start = f"from the gradient {gr.name(root)} holds, d{R}/d{gr.name(root)} = " \
                f"{_values_text(seed)}"
    lines = [f"Backward pass (chain rule: d{R}/dx = d{R}/dout × dout/dx), {start}:"]
    for out in reversed(shown):
        if len(parts.get(out, ())) > 1:
            lines.extend(_total_lines(gr, out, parts[out], R))
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
            lines.extend(special)
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
                lines.extend(_edge_lines(gr, out, x, jac, g_out, gx, R, n_users[x] > 1))
    return lines


def _edge_lines(gr: _Graph, out: Value, x: Value, jac_rows: list[dict[Value, Any]] | None,
                g_out: Any, gx: Any, R: str, partial: bool) -> list[str]:
    """dL/dxᵢ = Σⱼ dL/doutⱼ × doutⱼ/dxᵢ for every element of x, with the numbers."""
    eq = "+=" if partial else "="
    if jac_rows is None or x.size > WRITE_LIMIT:
        return [(f"  d{R}/d{gr.name(x)} {eq} d{R}/d{gr.name(out)} × d{gr.name(out)}/"
                 f"d{gr.name(x)}: shape {x.shape} ({_summary(gx)}) — too large to write out "
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
            nums = _times(g[js[0]], jac[js[0], i])
        else:
            form = (" + ".join(f"d{R}/d{o} × d{o}/d{xi}" for o in outs) if len(js) <= 3
                    else f"Σⱼ d{R}/d{gr.names[out]}ⱼ × d{gr.names[out]}ⱼ/d{xi}")
            nums = " + ".join(f"({_times(g[j], jac[j, i])})" for j in js)
        lines.append(f"  d{R}/d{xi} {eq} {form} = {nums} = {fmt(total[i])}")
    return lines


def _times(a: float, b: float) -> str:
    """``a × b`` with a negative right factor in brackets: -0.438 × 0.71, 0.438 × (-0.246)."""
    tb = fmt(b)
    return f"{fmt(a)} × {'(' + tb + ')' if tb.startswith('-') else tb}"


def _unravel(j: int, shape: tuple[int, ...]) -> Any:
    return np.unravel_index(j, shape) if shape else None


def _total_lines(gr: _Graph, x: Value, parts: list[Any], R: str) -> list[str]:
    """A Value used by several steps: its gradient is the sum of what each step sends."""
    if x.size > WRITE_LIMIT:
        return [(f"  d{R}/d{gr.name(x)} = the sum over its {len(parts)} uses: shape {x.shape} "
                 f"({_summary(sum(parts))})")]
    lines = []
    flat = [np.ravel(np.asarray(p, dtype=np.float64)) for p in parts]
    for i, idx in enumerate(np.ndindex(*x.shape) if x.shape else [None]):
        nums = " + ".join(f"({fmt(p[i])})" if p[i] < 0 else fmt(p[i]) for p in flat)
        lines.append(f"  d{R}/d{gr.name(x, idx)} = {nums} = {fmt(sum(p[i] for p in flat))} "
                     f"(summed over its {len(parts)} uses)")
    return lines


def explain(root: Value) -> str:
    """The hand calculation behind `root`, written like the source document: inputs and
    parameters, each forward step in forward (topological) order with its formula and
    numbers, and — once ``backward()`` has run — each chain-rule step,
    ``dL/dx = dL/dout × dout/dx = ... = ...``."""
    if not isinstance(root, Value):
        raise TypeError(f"explain() needs a Value, got {type(root).__name__}")
    gr = _Graph(root)
    lines = _forward(gr)
    if root._grad is not None and root.parents:
        lines.append("")
        lines.extend(_backward(gr))
    return "\n".join(lines) + "\n"
