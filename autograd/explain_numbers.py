"""How explain() writes numbers and expressions: the document's rounding, subscripts, and
the precedence rules that decide where brackets go.

A written expression is an `E`: its text plus its precedence (`ATOM` < `POWER` < `PROD` <
`SUM`), so an operand is bracketed only when the document would bracket it:
``(0.5 × 0.8) + (0.7 × 0.3) + (-0.3)``, ``0.438 × (-0.246)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

WRITE_LIMIT = 16    # tensors with more elements are summarised, not written out
TERMS_LIMIT = 16    # a matmul element or a reduction with more terms than this is summarised

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
    """A number as an expression of its own."""
    t = fmt(x)
    return E(t, ATOM, t.startswith("-"))


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
