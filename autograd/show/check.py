"""A learner's backward pass, checked: hand-derived gradients against the engine's.

Karpathy's "backprop ninja" lecture has the learner derive every gradient of a network by
hand and compare each with PyTorch's using a small `cmp` (exact? approximately equal?
largest difference?). `check_backward(root, grads)` is that comparison for a whole graph
at once: one row per Value the learner gave a gradient for, in the order the backward pass
reaches them, so the first wrong row is where the mistake starts (every gradient computed
from a wrong one is wrong too). `save_html(root, path, check=grads)` marks the same rows on
the step-through page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from ..engine import Value, grad, topological_order

__all__ = ["BackwardCheck", "CheckRow", "check_backward"]


class CheckRow(NamedTuple):
    """One Value's comparison: `exact` (equal element for element), `approximate`
    (np.allclose at rtol 1e-5, atol 1e-8), `max_diff` (the largest absolute difference)."""

    label: str
    exact: bool
    approximate: bool
    max_diff: float
    value: Value
    note: str = ""


class BackwardCheck:
    """The rows of a check, in backward order (the root's side first); ``.ok`` when every
    row is approximately right; ``.first_wrong`` the row where the mistake starts (or None);
    ``str()`` the table."""

    def __init__(self, rows: list[CheckRow]) -> None:
        self.rows = rows

    @property
    def ok(self) -> bool:
        return all(r.approximate for r in self.rows)

    @property
    def first_wrong(self) -> CheckRow | None:
        return next((r for r in self.rows if not r.approximate), None)

    def __str__(self) -> str:
        width = max([len(r.label) for r in self.rows] + [5])
        lines = [f"{'value':<{width}} | exact | approximate | max difference"]
        for r in self.rows:
            mark = "" if r.approximate else "   <- wrong" + (
                " (the first, in backward order: the mistake starts here)"
                if r is self.first_wrong else "")
            lines.append(f"{r.label:<{width}} | {r.exact!s:<5} | {r.approximate!s:<11} | "
                         f"{r.max_diff:.3g}{mark}" + (f" ({r.note})" if r.note else ""))
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        wrong = sum(not r.approximate for r in self.rows)
        return f"<BackwardCheck: {len(self.rows)} values, {wrong} wrong>"


def check_backward(root: Value, grads: Mapping[Value, Any]) -> BackwardCheck:
    """Compare hand gradients `grads` ({Value of root's graph: d(root)/d(that Value)}) with
    the engine's, computed by `grad()` (no .grad is touched)."""
    if not isinstance(root, Value):
        raise TypeError(f"check_backward() needs a Value as root, got {type(root).__name__}")
    order = topological_order(root)
    position = {v: i for i, v in enumerate(order)}
    for v in grads:
        if not isinstance(v, Value):
            raise TypeError(f"check_backward: grads' keys must be Values, got {type(v).__name__}")
        if v not in position:
            raise ValueError(f"check_backward: {v.label or 'a Value'} with shape {v.shape} is "
                             "not in the root's graph")
    targets = sorted(grads, key=lambda v: -position[v])  # backward order: root's side first
    engine_grads = grad(root, targets)
    names = _names(order, root)
    rows = []
    for v, theirs in zip(targets, engine_grads):
        mine = np.asarray(grads[v].data if isinstance(grads[v], Value) else grads[v],
                          dtype=np.float64)
        theirs = np.asarray(theirs, dtype=np.float64)
        label = names[v]
        if mine.shape != theirs.shape:
            rows.append(CheckRow(label, False, False, float("inf"), v,
                                 f"shape {mine.shape}, expected {theirs.shape}"))
            continue
        with np.errstate(invalid="ignore"):
            diff = float(np.max(np.abs(mine - theirs))) if mine.size else 0.0
        rows.append(CheckRow(label, bool(np.array_equal(mine, theirs)),
                             bool(np.allclose(mine, theirs, rtol=1e-5, atol=1e-8)), diff, v))
    return BackwardCheck(rows)


def _names(order: list[Value], root: Value) -> dict[Value, str]:
    """Labels, or explain's names for unlabelled Values (v1, v2, ... and out for the root)."""
    names, count = {}, 0
    for v in order:
        if v.label:
            names[v] = v.label
        elif v is root:
            names[v] = "out"  # (as explain names an unlabelled result)
        else:
            count += 1
            names[v] = f"v{count}"
    return names
