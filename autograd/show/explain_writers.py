"""How each operation is written by explain(): the table `FORMATS`, keyed by op name like
the derivative table.

An entry (`Fmt`) gives the op's symbolic form (``{0} × {1}``), an element builder that
writes each element of the result from its inputs' written elements (``(0.5 × 0.8)``), and
for the ops that need several lines (softmax) whole-node forward and backward writers.
Adding an op means adding its entry here; a test fails when one is missing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..engine import Value
from .explain_numbers import (
    ATOM,
    POWER,
    PROD,
    SUM,
    TERMS_LIMIT,
    WRITE_LIMIT,
    E,
    checked,
    exp_text,
    fmt,
    in_prod,
    in_sum,
    number,
    paren,
    result,
    sub,
    summary,
    terms_of,
    values_text,
)


# ---- element builders: one per op, from the inputs' element expressions ----------------
def _ew(fn: Callable[..., E]) -> Callable[[Value, list[Any]], Any]:
    """An elementwise builder: broadcast the inputs' expression arrays, apply fn per element
    (fn also receives the element's value)."""
    def build(v: Value, args: list[Any]) -> Any:
        if any(a is None for a in args):
            return None
        arrs = np.broadcast_arrays(*args, np.asarray(v.data, dtype=object))
        out = np.empty(arrs[0].shape, dtype=object)
        for idx in np.ndindex(out.shape):
            *es, val = (a[idx] for a in arrs)
            out[idx] = dataclasses.replace(fn(*es, val), value=float(val))
        return out
    return build


def _left_terms(a: E) -> tuple[tuple[str, E], ...]:
    """The terms of a left operand of + or -: a sum written without brackets adds its own."""
    return terms_of(a) if a.prec == SUM else (("+", a),)


def _add(a: E, b: E, value: Any) -> E:
    if b.neg and b.prec == ATOM:  # a bias: "... - 0.4", as the document writes it
        minus = E(b.text[1:], value=-b.value)
        return E(f"{in_sum(a)} - {minus.text}", SUM, terms=_left_terms(a) + (("-", minus),))
    return E(f"{in_sum(a)} + {in_sum(b, True)}", SUM, terms=_left_terms(a) + (("+", b),))


def _sub(a: E, b: E, value: Any) -> E:
    return E(f"{in_sum(a)} - {in_sum(b, True)}", SUM, terms=_left_terms(a) + (("-", b),))


def _pow(a: E, b: E, value: Any) -> E:
    sup = {"2": "²", "3": "³"}.get(b.text)
    base = paren(a, a.prec != ATOM or a.neg)
    return E(f"{base}{sup}" if sup else f"{base}^{paren(b, b.prec != ATOM or b.neg)}", POWER)


def _sigmoid(a: E, value: Any) -> E:
    """σ(x) = 1 / (1 + e^(-x)), written out as the document does."""
    x = float(number(a))
    e = math.exp(-x) if x > -700 else math.inf
    return E(f"σ({a.text}) = 1 / (1 + {exp_text(-x)}) = 1 / (1 + {fmt(e)}) = 1 / {fmt(1 + e)}")


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
    values = np.asarray(v.data, dtype=np.float64).reshape(out.shape)
    for idx in np.ndindex(out.shape):
        *bt, i, j = idx
        terms = []
        for t in range(k):
            x, w = a2[(*bt, i, t)], b2[(*bt, t, j)]
            if swap:
                x, w = w, x
            terms.append(("+", E(f"({in_prod(x)} × {in_prod(w, True)})", PROD,
                                 value=x.value * w.value)))
        text = " + ".join(t.text for _, t in terms)
        out[idx] = E(text, SUM if k > 1 else PROD, dot=True, value=float(values[idx]),
                     terms=tuple(terms) if k > 1 else ())
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
        values = np.asarray(v.data, dtype=np.float64).reshape(out.shape)
        for idx in np.ndindex(out.shape):
            out[idx] = dataclasses.replace(join(list(flat[idx]), n), value=float(values[idx]))
        return out.reshape(np.shape(v.data)) if keep or out.shape != np.shape(v.data) else out
    return build


def _sum_join(es: list[E], n: int) -> E:
    if n == 1:
        return es[0]
    return E(" + ".join(in_sum(e, True) for e in es), SUM,
             terms=tuple(("+", e) for e in es))


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
    return _ew(lambda a, val: E(template.format(a.text), ATOM))


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
            lines.append("  " + checked(lambda zi=zi: ([exp_text(zi)], E("")), result(e)))
        lines.append("  Sum = " + checked(lambda ez=ez: ([" + ".join(fmt(e) for e in ez)], E("")),
                                         result(total)))
        for i, e in zip(_flat(z.shape, row), ez):
            lines.append(f"  {name(v, i)} = " + checked(
                lambda e=e, total=total: ([f"{fmt(e)} / {fmt(total)}"], E("")),
                result(e / total)))
    return lines


def _log_softmax_lines(v: Value, name: Callable[[Value, Any], str],
                       args: list[Any]) -> list[str]:
    """log softmax(z)ᵢ = zᵢ - log Σⱼ e^zⱼ."""
    z, rows = _exp_rows(v)
    lines = []
    for row, ez, total in rows:
        lse = math.log(total) if math.isfinite(total) else float(np.logaddexp.reduce(z[row]))
        zname = name(v.inputs[0]) if isinstance(v.inputs[0], Value) else "z"
        lines.append(f"  log Σ e^{zname} = " + checked(
            lambda ez=ez, total=total, zs=z[row]: (
                [f"log({' + '.join(exp_text(zi) for zi in zs)})", f"log({' + '.join(fmt(e) for e in ez)})",
                 f"log({fmt(total)})"], E("")), result(lse)))
        for i, zi in zip(_flat(z.shape, row), z[row]):
            lines.append(f"  {name(v, i)} = " + checked(
                lambda zi=zi, lse=lse: ([f"{fmt(zi)} - {fmt(lse)}"], E("")), result(zi - lse)))
    return lines


def _cell_data(v: Value) -> list[np.ndarray]:
    """A recurrent cell's inputs as float64 arrays, a single sample as a batch of one."""
    return [np.atleast_2d(np.asarray(x.data if isinstance(x, Value) else x, dtype=np.float64))
            if i < 3 else np.asarray(x.data if isinstance(x, Value) else x, dtype=np.float64)
            for i, x in enumerate(v.inputs)]


def _gate_line(name: str, formula: str, value: np.ndarray) -> str:
    """One gate: its formula and, when small enough to read, its numbers."""
    shown = values_text(value[0] if value.shape[0] == 1 else value) \
        if value.size <= WRITE_LIMIT else f"shape {value.shape} ({summary(value)})"
    return f"  {name} = {formula} = {shown}"


def _sig(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # σ(a), without overflow


def _cell_names(v: Value, name: Callable[..., str], k: int) -> tuple[str, ...]:
    return tuple(name(x) if isinstance(x, Value) else n
                 for x, n in zip(v.inputs[:k], ("x", "h₋₁", "c₋₁")))


def _gru_lines(v: Value, name: Callable[..., str], args: list[Any]) -> list[str]:
    """The GRU cell as its gates (torch's order r, z, n), each with its numbers."""
    x, h, w_ih, w_hh, b_ih, b_hh = _cell_data(v)[:6]
    xn, hn = _cell_names(v, name, 2)
    nh = h.shape[-1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r, z = _sig(gi[:, :nh] + gh[:, :nh]), _sig(gi[:, nh:2 * nh] + gh[:, nh:2 * nh])
    n = np.tanh(gi[:, 2 * nh:] + r * gh[:, 2 * nh:])
    return [_gate_line("r", f"σ({xn} W_irᵀ + b_ir + {hn} W_hrᵀ + b_hr)", r),
            _gate_line("z", f"σ({xn} W_izᵀ + b_iz + {hn} W_hzᵀ + b_hz)", z),
            _gate_line("n", f"tanh({xn} W_inᵀ + b_in + r ⊙ ({hn} W_hnᵀ + b_hn))", n),
            _gate_line(name(v), f"(1 - z) ⊙ n + z ⊙ {hn}", (1 - z) * n + z * h)]


def _lstm_lines(v: Value, name: Callable[..., str], args: list[Any]) -> list[str]:
    """The LSTM cell as its gates (torch's order i, f, g, o) and the new cell state."""
    x, h, c, w_ih, w_hh, b_ih, b_hh = _cell_data(v)[:7]
    xn, hn, cn = _cell_names(v, name, 3)
    nh = h.shape[-1]
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, o = _sig(a[:, :nh]), _sig(a[:, nh:2 * nh]), _sig(a[:, 3 * nh:])
    g = np.tanh(a[:, 2 * nh:3 * nh])
    c2 = f * c + i * g
    pre = f"{xn} W_i·ᵀ + b_i· + {hn} W_h·ᵀ + b_h·"
    return [_gate_line("i", f"σ({pre.replace('·', 'i')})", i),
            _gate_line("f", f"σ({pre.replace('·', 'f')})", f),
            _gate_line("g", f"tanh({pre.replace('·', 'g')})", g),
            _gate_line("o", f"σ({pre.replace('·', 'o')})", o),
            _gate_line("c", f"f ⊙ {cn} + i ⊙ g", c2),
            _gate_line("h", "o ⊙ tanh(c)", o * np.tanh(c2)),
            f"    {name(v)} = [h, c] (both states, side by side)"]


def _rnn_lines(v: Value, name: Callable[..., str], args: list[Any]) -> list[str]:
    """The plain RNN cell: one nonlinearity of both affine maps."""
    x, h, w_ih, w_hh, b_ih, b_hh = _cell_data(v)[:6]
    xn, hn = _cell_names(v, name, 2)
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    act = v.params.get("nonlinearity", "tanh")
    out = np.tanh(a) if act == "tanh" else np.maximum(a, 0.0)
    fn = "tanh" if act == "tanh" else "ReLU"
    return [_gate_line(name(v), f"{fn}({xn} W_ihᵀ + b_ih + {hn} W_hhᵀ + b_hh)", out)]


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
        pi, yi = f"p{sub(i, p.shape)}", f"y{sub(i, p.shape)}"
        calc = f"{fmt(p[i])} - {fmt(y[i])}" if not scale else f"({fmt(p[i])} - {fmt(y[i])}){scale}"
        form = f"{pi} - {yi}" if not scale else f"({pi} - {yi}){scale}"
        lines.append(f"  d{root}/d{names(zv, i)} = {form} = {calc} = {fmt(d)}")
    return lines


def _cross_entropy_back(v: Value, g: Any, names: Callable[[Any, Any], str],
                        root: str) -> list[str] | None:
    """The fused softmax + cross-entropy of a batch of n rows: dL/dz = g × (p - y) / n,
    the document's p - y, written per element (y one-hot from the class indices)."""
    z = v.inputs[0]
    if not isinstance(z, Value) or z.ndim != 2 or z.size > 16:
        return None
    t = v.inputs[1] if len(v.inputs) > 1 else None
    zd = np.asarray(z.data, dtype=np.float64)
    n = zd.shape[0]
    e = np.exp(zd - zd.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    index = v.params.get("index")
    if index is not None:
        y = np.zeros_like(p)
        y[np.arange(n), np.asarray(index)] = 1.0
    elif t is not None and not isinstance(t, Value):
        y = np.asarray(t, dtype=np.float64)
        if not np.allclose(y.sum(axis=1), 1.0):
            return None
    else:
        return None
    gs = float(np.asarray(g, dtype=np.float64).reshape(()))
    scale = gs / n
    lines = [f"  (softmax + cross-entropy over {n} rows: d{root}/d{names(z, None)} = "
             f"(p - y) / {n}" + (f" × {fmt(gs)}" if gs != 1 else "")
             + ", p = softmax of each row, y the one-hot target)"]
    for i in np.ndindex(p.shape):
        pi, yi = f"p{sub(i, p.shape)}", f"y{sub(i, p.shape)}"
        tail = f" × {fmt(gs)}" if gs != 1 else ""
        lines.append(f"  d{root}/d{names(z, i)} = ({pi} - {yi}) / {n}{tail} = " + checked(
            lambda i=i, tail=tail: ([f"({fmt(p[i])} - {fmt(y[i])}) / {n}{tail}"], E("")),
            result((p[i] - y[i]) * scale)))
    return lines


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


# ---- the tensor building blocks (autograd/functions.py) ----------------------------------
class _AllArgs(str):
    """The symbolic form of an op with any number of inputs: ``name(a, b, c, ...)``."""

    def format(self, *args: Any, **kwargs: Any) -> str:
        return f"{self}({', '.join(args)})"


def _joined(join: Callable[..., Any]) -> Callable[[Value, list[Any]], Any]:
    """concatenate/stack: the inputs' written elements, joined as the op joins the data."""
    def build(v: Value, args: list[Any]) -> Any:
        if any(a is None for a in args):
            return None
        return join([np.asarray(a, dtype=object) for a in args], axis=v.params["axis"])
    return build


def _where(v: Value, args: list[Any]) -> Any:
    if any(a is None for a in args):
        return None
    a, b, cond = np.broadcast_arrays(*args, v.params["cond"])
    return np.where(cond, a, b)


def _clip(v: Value, args: list[Any]) -> Any:
    lo, hi = v.params.get("lo"), v.params.get("hi")
    bounds = ", ".join("none" if x is None else (fmt(x) if np.ndim(x) == 0 else "…")
                       for x in (lo, hi))
    return _func(f"clip({{}}, {bounds})")(v, args)


def _pair(name: str) -> Callable[[Value, list[Any]], Any]:
    return _ew(lambda a, b, val: E(f"{name}({a.text}, {b.text})"))


_BLOCKS = {
    "min": Fmt("min({0})", _reduce(lambda es, n: E(f"min({', '.join(e.text for e in es)})"))),
    "var": Fmt("var({0})", None),
    "logsumexp": Fmt("logsumexp({0})", _reduce(lambda es, n: E(
        f"log({' + '.join('e^' + paren(e, e.prec != ATOM or e.neg) for e in es)})"))),
    "clip": Fmt("clip({0})", _clip),
    "leaky_relu": Fmt("LeakyReLU({0})", _func("LeakyReLU({})")),
    "erf": Fmt("erf({0})", _func("erf({})")),
    "gelu": Fmt("GELU({0})", _func("GELU({})")),
    "maximum": Fmt("max({0}, {1})", _pair("max")),
    "minimum": Fmt("min({0}, {1})", _pair("min")),
    "where": Fmt("where(cond, {0}, {1})", _where),
    "concatenate": Fmt(_AllArgs("concatenate"), _joined(np.concatenate), inline=True),
    "stack": Fmt(_AllArgs("stack"), _joined(np.stack), inline=True),
}


def _conv(v: Value, args: list[Any]) -> Any:
    """Each output element of a convolution as the document writes a neuron: the kernel's
    weights times the patch under it, summed, plus the bias,
    ``y₁,₁,₁,₁ = (w₁,₁,₁,₁ × x₁,₁,₁,₁) + (w₁,₁,₁,₂ × x₁,₁,₁,₂) + ... - 0.1``.
    The same neuron (kernel o, bias o) slides over the input; padded zeros add nothing and
    are left out."""
    x, w = args[0], args[1]
    b = args[2] if len(args) > 2 else None
    if x is None or w is None or (len(args) > 2 and b is None):
        return None
    if w[0].size > TERMS_LIMIT:
        return None
    stride, padding = v.params["stride"], v.params["padding"]
    out = np.empty(np.shape(v.data), dtype=object)
    values = np.asarray(v.data, dtype=np.float64)
    for idx in np.ndindex(out.shape):
        n, o, *pos = idx
        terms = []
        for c, *off in np.ndindex(w.shape[1:]):
            at = [p * s + k - q for p, s, k, q in zip(pos, stride, off, padding)]
            if any(not 0 <= i < size for i, size in zip(at, x.shape[2:])):
                continue  # a padded zero
            wi, xi = w[(o, c, *off)], x[(n, c, *at)]
            terms.append(("+", E(f"({in_prod(wi)} × {in_prod(xi, True)})", PROD,
                                 value=wi.value * xi.value)))
        total = sum(t.value for _, t in terms)
        e = E(" + ".join(t.text for _, t in terms) or "0", SUM if len(terms) > 1 else PROD,
              dot=True, value=total, terms=tuple(terms) if len(terms) > 1 else ())
        out[idx] = e if b is None else _add(e, b[o], float(values[idx]))
    return out


# convolution and pooling (autograd/conv.py), and the adjoint ops their gradients use
_BLOCKS["conv1d"] = Fmt(_AllArgs("conv1d"), _conv)
_BLOCKS["conv2d"] = Fmt(_AllArgs("conv2d"), _conv)
_BLOCKS.update({name: Fmt(_AllArgs(name), None) for name in (
    "conv_transpose1d", "conv_transpose2d", "conv1d_weight",
    "conv2d_weight", "max_pool1d", "max_pool2d", "avg_pool2d", "avg_pool2d_backward",
    "pool_scatter", "pool_gather")})


# The table: how each op is written (mirrors autograd.ops.OPS).
FORMATS: dict[str, Fmt] = {
    "add": Fmt("{0} + {1}", _ew(_add), inline=True),
    "sub": Fmt("{0} - {1}", _ew(_sub), inline=True),
    "mul": Fmt("{0} × {1}", _ew(lambda a, b, val: E(f"{in_prod(a)} × {in_prod(b, True)}",
                                                    PROD)), inline=True),
    "div": Fmt("{0} / {1}", _ew(lambda a, b, val: E(
        f"{in_prod(a)} / {paren(b, b.prec != ATOM or b.neg)}", PROD)), inline=True),
    "pow": Fmt("{0}^{1}", _ew(_pow), inline=True),
    "neg": Fmt("-{0}", _ew(lambda a, val: E(f"-{paren(a, a.prec != ATOM or a.neg)}", PROD)),
               inline=True),
    "matmul": Fmt("{0} @ {1}", _matmul, inline=True),
    "exp": Fmt("e^{0}", _ew(lambda a, val: E(f"e^{paren(a, a.prec != ATOM or a.neg)}"))),
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
    "cross_entropy": Fmt("cross_entropy({0})", None, back=_cross_entropy_back),
    # one time step of a recurrent layer (autograd/recurrent.py): x and the state in, h' out
    "rnn_cell": Fmt("RNN cell({0}, {1})", None, lines=_rnn_lines),
    "gru_cell": Fmt("GRU cell({0}, {1})", None, lines=_gru_lines),
    "lstm_cell": Fmt("LSTM cell({0}, {1}, {2})", None, lines=_lstm_lines),
    # training-mode batch normalisation (autograd/norm.py), nn.BatchNorm1d/2d's step
    "batch_norm": Fmt("batch_norm({0}, γ={1}, β={2})", None),
    # layer normalisation over the last axes (autograd/ops/layer_norm.py), nn.LayerNorm's step
    "layer_norm": Fmt("layer_norm({0}, w={1}, b={2})", None),
    "attention": Fmt("softmax({0} {1}ᵀ / √d) {2}", None),
    **_BLOCKS,
}
