"""Anomaly detection: where did the first NaN or infinity come from?

    with detect_anomaly():
        loss = model(x)          # a NaN made here raises at once, naming the op
        loss.backward()          # ... and one made here names the op whose VJP made it

Inside the block every row of the derivative table runs with a check around its forward
and its VJPs: the first result that holds a NaN or an infinity raises `AnomalyError` (a
`FloatingPointError`) naming the op, its inputs' shapes and ranges, the pass (forward or
backward), the file and line of the user's code that made the node, and, for a small
node, the line `explain()` writes for it. The forward checks also note where each result
was made, so a backward failure can point at the user's line too.

Outside the block nothing is checked, and nothing is on the hot path: entering swaps the
rows' functions for checking ones and leaving puts the very same functions back (the
Value methods that keep a row's forward are made again each way), so the code that runs
outside is the code that ran before.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import engine
from .engine import OPS, Op, Value

__all__ = ["AnomalyError", "detect_anomaly"]


class AnomalyError(FloatingPointError):
    """A NaN or infinity was made inside `detect_anomaly()`. Attributes: `op`, `phase`
    ("forward" or "backward"), `site` ("file:line" of the user's code, or "")."""

    def __init__(self, message: str, op: str, phase: str, site: str) -> None:
        super().__init__(message)
        self.op, self.phase, self.site = op, phase, site


_LIBRARY = tuple(os.path.dirname(os.path.abspath(p)) + os.sep
                 for p in (engine.__file__, os.path.join(os.path.dirname(engine.__file__),
                                                         "..", "nn", "x")))
_lock = threading.RLock()
_state: dict[str, Any] = {"depth": 0, "saved": {}, "sites": {}, "paused": False}


def _user_site() -> str:
    """file:line of the innermost frame outside autograd/ and nn/ (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None:
        raw = frame.f_code.co_filename
        name = os.path.abspath(raw)
        if not (name.startswith(_LIBRARY) or raw.startswith("<autograd")
                or "contextlib" in name):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


def _bad(x: Any) -> bool:
    d = x.data if isinstance(x, Value) else x
    if isinstance(d, float):
        return not math.isfinite(d)
    if isinstance(d, np.ndarray) and d.dtype.kind in "fc":
        return not np.isfinite(d).all()
    return False


def _describe(x: Any) -> str:
    d = x.data if isinstance(x, Value) else x
    if isinstance(d, float | int):
        return f"a number {d:g}"
    a = np.asarray(d)
    if a.dtype.kind not in "biuf" or a.size == 0:
        return f"shape {a.shape}"
    finite = a[np.isfinite(a)]
    span = (f"range [{finite.min():.4g}, {finite.max():.4g}]" if finite.size
            else "no finite values")
    odd = []
    if np.isnan(a).any():
        odd.append(f"{int(np.isnan(a).sum())} NaN")
    if np.isinf(a).any():
        odd.append(f"{int(np.isinf(a).sum())} inf")
    return f"shape {a.shape}, {span}" + (f", {', '.join(odd)}" if odd else "")


def _what(out: Any) -> str:
    d = np.asarray(out.data if isinstance(out, Value) else out)
    kinds = [k for k, m in (("NaN", np.isnan(d)), ("inf", np.isinf(d))) if m.any()]
    return " and ".join(kinds)


def _explain_line(op: Op, datas: tuple[Any, ...], params: dict[str, Any]) -> str:
    """explain()'s forward line for the op on these inputs (small inputs only), or ""."""
    if sum(np.size(d) for d in datas) > 16:
        return ""
    from .show.explain import explain
    _state["paused"] = True
    try:
        leaves = [Value(d, label=f"input{i}") if isinstance(d, float | np.ndarray)
                  else d for i, d in enumerate(datas)]
        node = engine.apply(op, *leaves, **params)
        text = explain(node)
    except Exception:  # noqa: BLE001  (the message is extra; the anomaly is the error)
        return ""
    finally:
        _state["paused"] = False
    lines = text.split("Forward pass:", 1)[-1].split("Backward pass", 1)[0].strip("\n")
    return "\n".join(line for line in lines.splitlines() if line.strip())


def _checked_forward(op: Op, forward: Callable[..., Any]) -> Callable[..., Any]:
    def checked(*datas: Any, **params: Any) -> Any:
        out = forward(*datas, **params)
        if _state["paused"]:
            return out
        if type(out) is not float and type(out) is not np.ndarray:  # as apply keeps it
            out = (float(out) if all(isinstance(d, float) for d in datas)
                   else np.asarray(out))
        site = _user_site()
        if _bad(out):
            inputs = "; ".join(f"input {i}: {_describe(d)}" for i, d in enumerate(datas))
            line = _explain_line(op, datas, params)
            raise AnomalyError(
                f"forward pass: {op.name} made {_what(out)} ({_describe(out)}) from {inputs}"
                + (f"; made at {site}" if site else "")
                + (f"\n{line}" if line else ""), op.name, "forward", site)
        _state["sites"][id(out)] = (out, site)  # (out kept: its id stays its own)
        return out
    checked.__wrapped__ = forward
    return checked


class _CheckedVjps:
    """A row's VJPs, each checked: indexed as the row's own (a tuple, or per input)."""

    def __init__(self, op: Op, vjps: Any) -> None:
        self.op, self.vjps, self.cache = op, vjps, {}

    def __getitem__(self, i: int) -> Callable[..., Any]:
        f = self.cache.get(i)
        if f is None:
            f = self.cache[i] = self._check(i, self.vjps[i])
        return f

    def __len__(self) -> int:
        return len(self.vjps)

    def _check(self, i: int, vjp: Callable[..., Any]) -> Callable[..., Any]:
        op = self.op

        def checked(g: Any, ans: Any, *inputs: Any, **params: Any) -> Any:
            gi = vjp(g, ans, *inputs, **params)
            if not _state["paused"] and _bad(gi) and not _bad(g):
                data = ans.data if isinstance(ans, Value) else ans
                site = _state["sites"].get(id(data), (None, ""))[1]
                parts = "; ".join(f"input {k}: {_describe(x)}" for k, x in enumerate(inputs))
                raise AnomalyError(
                    f"backward pass: the VJP of {op.name} for its input {i} made {_what(gi)} "
                    f"({_describe(gi)}) from the gradient dL/d(out) ({_describe(g)}); the "
                    f"node's output: {_describe(ans)}; {parts}"
                    + (f"; the node was made at {site}" if site else ""),
                    op.name, "backward", site)
            return gi
        return checked


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `AnomalyError` at the first NaN or infinity made in a forward or backward pass
    inside the block (all threads). Nested blocks are one block."""
    with _lock:
        _state["depth"] += 1
        if _state["depth"] == 1:
            _install()
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _remove()


def _install() -> None:
    saved = _state["saved"]
    for op in list(OPS.values()):
        saved[op] = (op.forward, op.vjps)
        op.forward = _checked_forward(op, op.forward)
        op.vjps = _CheckedVjps(op, op.vjps)
        engine._remake_methods(op)


def _remove() -> None:
    for op, (forward, vjps) in _state["saved"].items():
        op.forward, op.vjps = forward, vjps
        engine._remake_methods(op)
    _state["saved"] = {}
    _state["sites"] = {}
