"""save_html: one self-contained page that steps through the calculation behind a Value.

The page holds the graph as `draw_graph` draws it (rendered to SVG by Graphviz and
inlined), every Value's data and gradient, and explain()'s lines grouped by the Value each
is about. "Next"/"Previous" (or the arrow keys) walk the forward pass node by node, then
the backward pass; the current node is highlighted and its lines shown; clicking a node
shows its full data and gradient as a table. Everything is inline: no network, it opens
from disk. The page's script lives in `page.html` beside this file; it only displays
numbers computed here (the playground recomputes them in Python, never in JavaScript).
"""

from __future__ import annotations

import html as _html
import json
import math
import os
import re
from collections import Counter
from importlib import resources
from typing import Any

import numpy as np

from .._files import write_bytes
from ..engine import Value, topological_order
from .explain import explain_steps
from .explain_numbers import fmt

MAX_NODES = 2000     # beyond this the page shows a summary only (as draw_graph refuses)
MAX_SENT = 4096      # elements of one tensor written into the page; larger ones summarised


def _numbers(a: Any) -> dict[str, Any]:
    """A Value's data or gradient for the page: shape, the values (flat, row-major; at
    most MAX_SENT), and min/mean/max. Non-finite numbers become the strings 'nan', 'inf'."""
    arr = np.asarray(a, dtype=np.float64)
    flat = arr.ravel()[:MAX_SENT]
    vals = [float(x) if math.isfinite(x) else str(x) for x in flat.tolist()]
    out = {"shape": list(arr.shape), "values": vals, "truncated": arr.size > MAX_SENT}
    if arr.size:
        with np.errstate(all="ignore"):
            out.update(min=fmt(np.min(arr)), mean=fmt(np.mean(arr)), max=fmt(np.max(arr)))
    return out


def _svg(root: Value) -> str:
    """draw_graph's picture as inline SVG (no XML prolog, doctype or comments)."""
    import graphviz

    from .draw import draw_graph

    source = draw_graph(root).source
    try:
        svg = graphviz.Source(source).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "save_html draws the graph with Graphviz's `dot` program, which was not found; "
            "install Graphviz (Debian/Ubuntu: `sudo apt-get install graphviz`; macOS: "
            "`brew install graphviz`) and try again") from None
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)


def _drawn_ids(order: list[Value], root: Value) -> dict[str, str]:
    """For each Value that draw_graph folds away (plumbing), the drawn node that shows it:
    the op node of its user."""
    from .draw import folded_plumbing

    ids = {v: f"v{i}" for i, v in enumerate(order)}
    folded = folded_plumbing(order, root)
    user = {x: v for v in order for x in v.parents}
    out = {}
    for v in folded:
        u = user[v]
        while u in folded:
            u = user[u]
        out[ids[v]] = ids[u] + "_op"
    return out


def _summary(order: list[Value], root: Value, why: str) -> dict[str, Any]:
    ops = Counter(v.op for v in order if v.parents)
    leaves = [v for v in order if not v.parents]
    return {
        "why": why,
        "values": len(order),
        "ops": sorted(ops.items(), key=lambda kv: -kv[1]),
        "leaves": [[v.label or f"leaf {i + 1}", list(v.shape), v.size]
                   for i, v in enumerate(leaves[:50])],
        "more_leaves": max(len(leaves) - 50, 0),
        "root": _numbers(root.data),
    }


def page_state(root: Value, title: str | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (the playground sends this too)."""
    if not isinstance(root, Value):
        raise TypeError(f"save_html() needs a Value, got {type(root).__name__}")
    order = topological_order(root)
    ids = {v: f"v{i}" for i, v in enumerate(order)}
    state: dict[str, Any] = {"title": title or f"Calculation of {root.label or 'the result'}",
                             "root": ids[root], "svg": None, "summary": None, "steps": [],
                             "nodes": {}, "drawn": {}, "has_grad": False}
    if len(order) > MAX_NODES:
        state["summary"] = _summary(order, root, (
            f"This graph has {len(order):,} Values, more than the {MAX_NODES:,} a page "
            "draws; here is a summary instead. Pass a sub-expression (one layer's output) "
            "to see it drawn."))
        return state
    try:
        state["svg"] = _svg(root)
    except ValueError as e:  # too big to draw: say so, summarise
        state["summary"] = _summary(order, root, f"Too big to draw: {e}.")
        return state
    forward, backward = explain_steps(root, inner=True)
    state["has_grad"] = bool(backward)  # explain writes a backward pass once there is one
    names: dict[Value, str] = {}
    for phase, groups in (("forward", forward), ("backward", backward)):
        for v, lines in groups:
            if v is None:
                continue
            state["steps"].append({"node": ids[v], "phase": phase, "lines": lines})
            if phase == "forward" and v not in names:  # explain's name, or its formula
                head = lines[0].strip()
                names[v] = (head.split(") ", 1)[1] if head.startswith("(part of ")
                            else head).split(" = ", 1)[0].split(":", 1)[0]
    for v in order:
        state["nodes"][ids[v]] = {
            "name": v.label or names.get(v, ""), "op": v.op or "leaf", "shape": list(v.shape),
            "data": _numbers(v.data), "grad": _numbers(v.grad),
            "leaf": not v.parents}
    if state["svg"] is not None:
        state["drawn"] = _drawn_ids(order, root)
    return state


def _repr_html_(v: Value) -> str | None:
    """Jupyter shows a Value as its graph (draw_graph's picture, inline SVG); None — the
    plain repr — when the graph is too big to draw or Graphviz is missing."""
    if len(topological_order(v)) > 300:
        return None
    try:
        return f'<div style="overflow:auto">{_svg(v)}</div>'
    except (RuntimeError, ValueError, OSError):
        return None


Value._repr_html_ = _repr_html_  # type: ignore[attr-defined]  (display hook, not math)


def render_page(state: dict[str, Any], live: dict[str, Any] | None = None) -> str:
    """The page's HTML with `state` (and, for the playground, its `live` settings) inline."""
    template = resources.files("autograd.show").joinpath("page.html").read_text("utf-8")
    data = json.dumps({"state": state, "live": live}, allow_nan=False)
    data = data.replace("</", "<\\/")  # never ends the script element early
    return (template.replace("__TITLE__", _html.escape(state["title"]))
            .replace("__DATA__", data))


def save_html(root: Value, path: str | os.PathLike[str], title: str | None = None) -> Any:
    """Write one self-contained HTML file that steps through the calculation of `root`:
    "Next"/"Previous" (and the arrow keys) walk the forward pass node by node and then the
    backward pass, highlighting the current node beside its line of explain(); clicking a
    node shows its full data and gradient. A graph too big to draw gets a summary instead.
    Returns `path`."""
    write_bytes(path, render_page(page_state(root, title)).encode("utf-8"))
    return path
