"""How explain() writes numbers and expressions: the document's rounding, subscripts, and
the precedence rules that decide where brackets go.

A written expression is an `E`: its text plus its precedence (`ATOM` < `POWER` < `PROD` <
`SUM`), so an operand is bracketed only when the document would bracket it:
``(0.5 × 0.8) + (0.7 × 0.3) + (-0.3)``, ``0.438 × (-0.246)``.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import math
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

WRITE_LIMIT = 16    # tensors with more elements are summarised, not written out
TERMS_LIMIT = 16    # a matmul element or a reduction with more terms than this is summarised

ATOM, POWER, PROD, SUM = 0, 1, 2, 3  # precedence of a written expression
DIGITS = 3      # the document's precision; a line that does not check is written finer
MAX_DIGITS = 8
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_digits = contextvars.ContextVar("digits", default=DIGITS)


@contextlib.contextmanager
def precision(digits: int) -> Iterator[None]:
    """Write operands with `digits` decimals (significant digits below 0.01) inside."""
    token = _digits.set(digits)
    try:
        yield
    finally:
        _digits.reset(token)


def fmt(x: Any, digits: int | None = None) -> str:
    """A number as the document writes it: 3 decimals, trailing zeros trimmed (0.71,
    -0.438, 2.366, 1), 3 significant digits below 0.01 (0.0035); more inside
    ``precision(d)`` or with `digits`."""
    d = _digits.get() if digits is None else digits
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if abs(x) < 10.0 ** -(4 * d):
        return "0"
    if 0.01 <= abs(x) < 1e6:
        s = f"{x:.{d}f}".rstrip("0").rstrip(".")
    else:
        s = f"{x:.{d}g}"
    return "0" if s in ("-0", "0") else s


def result(x: Any) -> str:
    """A line's result: always at the document's precision."""
    return fmt(x, DIGITS)


@dataclass(frozen=True)
class E:
    """A written expression: its text, precedence, whether it is a negative number,
    whether it is a matmul's sum of products, the value it stands for, and — for a sum —
    its top-level terms as (sign, E) pairs, so a line can show the products' values
    before the total: ``(0.5 × 0.8) + (0.7 × 0.3) - 0.3 = 0.4 + 0.21 - 0.3 = 0.31``.
    (A plain class, not a tuple, so numpy keeps it as one object in object arrays.)"""

    text: str
    prec: int = ATOM
    neg: bool = False
    dot: bool = False
    value: float = math.nan
    terms: tuple[tuple[str, E], ...] = ()


def atom(x: Any) -> E:
    """A number as an expression of its own."""
    t = fmt(x)
    return E(t, ATOM, t.startswith("-"), value=float(x))


def terms_of(e: E) -> tuple[tuple[str, E], ...]:
    return e.terms or (("+", e),)


def term_values(e: E) -> str | None:
    """The middle step of a sum: each term's value (``0.4 + 0.21 + 0.1 - 0.3``), computed
    from the operands as written, or None when every term is already a plain number."""
    if len(e.terms) < 2 or all(t.prec == ATOM for _, t in e.terms):
        return None
    out = []
    for k, (sign, t) in enumerate(e.terms):
        v = evaluate(t.text)  # what the written operands give, as a learner would compute it
        v = t.value if v is None else v
        v = -v if sign == "-" else v
        if not math.isfinite(v):
            return None
        text = fmt(abs(v))
        out.append(("-" + text if v < 0 and text != "0" else text) if k == 0
                   else f"{'-' if v < 0 and text != '0' else '+'} {text}")
    return " ".join(out)


# ---- checking a line: every number recomputable from the numbers written on it ----------
_FUNCS = {"sqrt": math.sqrt, "log": math.log, "tanh": math.tanh, "abs": abs, "max": max,
          "min": min, "relu": lambda x: max(x, 0.0),
          "sig": lambda x: 1 / (1 + math.exp(-x)) if x > -700 else 0.0}
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}


def evaluate(text: str) -> float | None:
    """The value of a written numeric expression (``(0.5 × 0.8) + e^(-2)``, ``σ(2)``,
    ``ReLU(0.41)``), or None if it holds anything but numbers and known functions."""
    t = re.sub(r"\|([^|]*)\|", r"abs(\1)", text)
    t = re.sub(r"(?<![\w.])e\^", "E**", t)
    for a, b in (("×", "*"), ("−", "-"), ("²", "**2"), ("³", "**3"), ("^", "**"),
                 ("√", "sqrt"), ("σ", "sig"), ("ReLU", "relu")):
        t = t.replace(a, b)
    try:
        tree = ast.parse(t.strip(), mode="eval")
        return float(_eval(tree.body))
    except (SyntaxError, ValueError, TypeError, KeyError, ZeroDivisionError, OverflowError):
        return None


def _eval(n: ast.AST) -> float:
    if isinstance(n, ast.Constant) and isinstance(n.value, int | float):
        return n.value
    if isinstance(n, ast.Name) and n.id == "E":
        return math.e
    if isinstance(n, ast.BinOp) and type(n.op) in _BINOPS:
        return _BINOPS[type(n.op)](_eval(n.left), _eval(n.right))
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub | ast.UAdd):
        v = _eval(n.operand)
        return -v if isinstance(n.op, ast.USub) else v
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and not n.keywords:
        return _FUNCS[n.func.id](*(_eval(a) for a in n.args))
    raise ValueError("not a numeric expression")


def half_unit(text: str) -> float:
    """Half a unit of the last digit written: 0.41 → 0.005, 0.00876 → 0.000005, 2 → 0.5."""
    m = re.fullmatch(r"-?(\d+)(?:\.(\d+))?(?:e([-+]?\d+))?", text.strip())
    if not m:
        return math.nan
    decimals = len(m.group(2) or "") - int(m.group(3) or 0)
    return 0.5 * 10.0 ** -decimals


def line_checks(segments: list[str]) -> bool:
    """True when every numeric segment of ``a = b = ... = r`` gives the written result r to
    the precision r is written at (segments with names in them are skipped)."""
    r_text = segments[-1]
    r = evaluate(r_text)
    if r is None or not math.isfinite(r):
        return True
    tol = half_unit(r_text) * (1 + 1e-9) + 1e-12
    if not math.isfinite(tol):
        return True
    for seg in segments[:-1]:
        v = evaluate(seg)
        if v is not None and math.isfinite(v) and abs(v - r) > tol:
            return False
    return True


def number(e: E) -> float:
    """The number an atom stands for (nan for anything else)."""
    try:
        return float(e.text)
    except ValueError:
        return math.nan


def paren(e: E, wrap: bool) -> str:
    return f"({e.text})" if wrap else e.text


def in_sum(e: E, right: bool = False) -> str:
    """An operand of + or -: products and negative numbers in brackets, as the document
    writes ``(0.5 × 0.8) + (0.7 × 0.3) + (-0.3)``."""
    return paren(e, e.prec == PROD or (right and (e.neg or e.prec == SUM)))


def in_prod(e: E, right: bool = False) -> str:
    """An operand of × or /: sums in brackets, and a negative right factor."""
    return paren(e, e.prec == SUM or (right and (e.neg or (e.prec == PROD and "/" in e.text))))


def exp_text(x: float) -> str:
    """e^x with a negative exponent bracketed: e^0.713, e^(-2)."""
    t = fmt(x)
    return f"e^({t})" if t.startswith("-") else f"e^{t}"


def times(a: float, b: float) -> str:
    """``a × b`` with a negative right factor in brackets: -0.438 × 0.71, 0.438 × (-0.246)."""
    tb = fmt(b)
    return f"{fmt(a)} × {'(' + tb + ')' if tb.startswith('-') else tb}"


def sub(idx: Any, shape: tuple[int, ...]) -> str:
    """Subscripts counted from 1: (0,) → ₁, (1, 2) → ₂,₃; nothing for a scalar."""
    if idx is None or not shape:
        return ""
    return ",".join(str(i + 1).translate(_SUBSCRIPT) for i in idx)


def element(name: str, idx: Any, shape: tuple[int, ...]) -> str:
    """The name of one element, counted from 1 as the document counts: subscripts (z₁,
    w₂,₃), or brackets (v1[1], W₂[1,1], h[t=2][1,1]) when the name already ends in a
    digit, a subscript or a bracket, where subscripts would run into it (q₃₁: element 1
    of q₃, or q₃₁?)."""
    if idx is None or not shape:
        return name
    if name[-1:].isdigit() or name.endswith("]"):  # (isdigit: true for ₀-₉ too)
        return f"{name}[{','.join(str(i + 1) for i in idx)}]"
    return name + sub(idx, shape)


def short_name(path: str, ndim: int) -> str:
    """A parameter's name as the document writes it, from its attribute path: the layer's
    number counted from 1 as a subscript, a matrix in capitals (``layers.1.w`` → W₂,
    ``layers.1.b`` → b₂); a path without a number keeps its last two parts
    (``fc1.w`` → W of fc1 as ``W_fc1``). A label that is not a path is kept as it is."""
    parts = path.split(".")
    if len(parts) < 2 or not all(parts):
        return path
    last = parts[-1].upper() if ndim == 2 and len(parts[-1]) == 1 else parts[-1]
    numbers = [q for q in parts[:-1] if q.isdigit()]
    if numbers:
        return last + str(int(numbers[-1]) + 1).translate(_SUBSCRIPT)
    return f"{last}_{parts[-2]}"


def values_text(data: Any) -> str:
    """A scalar or a small tensor's values on one line: 0.41, [-0.438, 0.438]."""
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 0:
        return fmt(arr)
    text = np.array2string(arr, separator=", ", formatter={"all": fmt}, max_line_width=10**6)
    return " ".join(text.split())


def summary(data: Any) -> str:
    """A large tensor in three numbers."""
    a = np.asarray(data, dtype=np.float64)
    return f"min {fmt(a.min())}, mean {fmt(a.mean())}, max {fmt(a.max())}"


def const_sym(x: Any) -> str:
    """A constant operand inside a symbolic formula."""
    if isinstance(x, np.ndarray) and x.size > 1:
        return f"const{x.shape}" if x.size > 4 else np.array2string(
            x, separator=", ", formatter={"all": fmt})
    return fmt(np.asarray(x).reshape(()))


def terms_check(e: E, middle: str | None) -> bool:
    """Each term of a sum gives the value written for it in the middle step."""
    if middle is None:
        return True
    written = re.split(r" (?=[+-] )", middle)
    for (_, t), w in zip(e.terms, written):
        shown = w.removeprefix("+ ").removeprefix("- ").lstrip("-")
        got = evaluate(t.text)
        if got is not None and abs(abs(got) - float(shown)) > half_unit(shown) * (1 + 1e-9):
            return False
    return True


def current_digits() -> int:
    return _digits.get()


def checked(make: Callable[[], tuple[list[str], E]], value: str) -> str:
    """``segments = terms' values = value``: `make()` writes the segments (its E gives a
    sum's terms), with the fewest digits (3 or more) at which every number on the line can
    be recomputed from the others at the precision shown: each segment gives `value`, each
    term of a sum the value written for it. Operands may get one digit more than the
    terms' values, so a rounded operand still gives its product's written value."""
    line = ""
    for d_op, d_mid in _PRECISIONS:
        with precision(d_op):
            segments, e = make()
        with precision(d_mid):
            middle = term_values(e) if e.terms else None
        segments = [s for s in segments if s] + ([middle] if middle else [])
        line = " = ".join(segments + [value])
        if line_checks(segments + [value]) and terms_check(e, middle):
            break
    return line


# (operand digits, term-value digits), tried in turn: 3 and 3 first, as the document
_PRECISIONS = [(DIGITS, DIGITS)] + [p for k in range(DIGITS, MAX_DIGITS)
                                    for p in ((k + 1, k), (k + 1, k + 1))]
