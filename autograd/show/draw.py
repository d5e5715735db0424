"""Draw the computation graph behind a Value with Graphviz.

Every Value is a box showing its label, data and gradient; every operation is a small oval
between its inputs and its result, so the picture reads in the direction data flows, like
the document's forward pass (x → z = w·x + b → ReLU → softmax → loss). Parameters (leaves)
and the root are coloured apart from the intermediates.
"""

from __future__ import annotations

import html
import os
import shutil
from typing import Any

import numpy as np

from .._files import write_bytes
from ..engine import Value, topological_order
from .explain_numbers import fmt

MAX_NODES = 2000
MAX_DRAWN = 15000  # points: a picture wider or taller than this is refused, not drawn
MAX_SHOWN = 16  # tensors with more elements than this are summarised
PLUMBING = ("transpose", "reshape", "broadcast_to", "to_scalar")  # folded into their user
MATMULS = ("matmul", "linear")  # a constant array operand of these is the input x
FORMATS = (".svg", ".png", ".pdf", ".dot")
RANKDIRS = ("LR", "RL", "TB", "BT")

LEAF_COLOR = "#cfe8ff"   # parameters and inputs
ROOT_COLOR = "#ffd59e"   # the output / loss
INNER_COLOR = "#ffffff"  # intermediate results
OP_COLOR = "#eeeeee"
CONST_COLOR = "#f7f7f7"

OP_SYMBOLS = {
    "add": "+", "sub": "−", "mul": "×", "div": "÷", "pow": "^", "neg": "−x",
    "matmul": "@", "relu": "ReLU", "sigmoid": "σ", "sqrt": "√", "abs": "|x|",
    "softmax": "softmax", "log_softmax": "log_softmax", "broadcast_to": "broadcast",
    "getitem": "[ ]", "index_add": "index_add",
    "maximum": "max", "minimum": "min", "leaky_relu": "LeakyReLU", "gelu": "GELU",
    "concatenate": "concat", "logsumexp": "logsumexp", "conv_transpose1d": "conv1dᵀ",
    "conv_transpose2d": "conv2dᵀ",
    "rnn_cell": "RNN cell", "gru_cell": "GRU cell", "lstm_cell": "LSTM cell",
    "attention": "softmax(q kᵀ/√d) v",
    "batch_norm": "BatchNorm",
    "layer_norm": "LayerNorm",
}


DUST = 1e-12  # a number below this fraction of the graph's largest is rounding noise: 0


def _num(x: float) -> str:
    """A number as explain() writes it (one number, one rounding: 0.41, -0.438, 2.366,
    0.0035)."""
    return fmt(x)


def _dust_below(order: list[Value]) -> float:
    """Numbers smaller than this are float dust (-1.7e-18 where 0 was meant): DUST of the
    largest finite data or gradient in the graph."""
    top = 0.0
    for v in order:
        for x in (v.data, v.grad):
            a = np.abs(np.asarray(x, dtype=np.float64))
            a = a[np.isfinite(a)]
            if a.size:
                top = max(top, float(a.max()))
    return DUST * top


def _array_lines(a: np.ndarray, tiny: float = 0.0) -> list[str]:
    """A tensor's values as text lines, or a summary when it has more than MAX_SHOWN."""
    a = np.asarray(a)
    if tiny and a.dtype.kind == "f":
        a = np.where(np.abs(a) < tiny, 0.0, a)
    if a.size > MAX_SHOWN:
        return [f"min {_num(a.min())}  mean {_num(a.mean())}  max {_num(a.max())}"]
    if a.ndim == 0:
        return [_num(a)]
    text = np.array2string(a, separator=", ", formatter={"all": _num}, max_line_width=60)
    return text.splitlines()


def _value_text(x: Any, tiny: float = 0.0) -> list[str]:
    if isinstance(x, np.ndarray):
        return _array_lines(x, tiny)
    return [_num(0.0 if abs(x) < tiny else x)]


def _rows(v: Value, show_grad: bool, tiny: float = 0.0) -> list[tuple[str, list[str]]]:
    rows: list[tuple[str, list[str]]] = []
    if not v.is_scalar:
        rows.append(("shape", [str(v.shape)]))
    rows.append(("data", _value_text(v.data, tiny)))
    if v.op == "log_softmax":  # the probabilities the document shows, p = e^(log p)
        rows.append(("p", _value_text(np.exp(np.asarray(v.data, dtype=np.float64)))))
    if show_grad:
        rows.append(("grad", _value_text(v.grad, tiny)))
    return rows


def _html_table(title: str, rows: list[tuple[str, list[str]]], color: str) -> str:
    """An HTML-like Graphviz label (every text escaped, so {}|<> need no care)."""
    cells = []
    if title:
        cells.append(f'<TR><TD COLSPAN="2"><B>{html.escape(title)}</B></TD></TR>')
    for name, lines in rows:
        body = '<BR ALIGN="LEFT"/>'.join(html.escape(line) for line in lines)
        if len(lines) > 1:
            body += '<BR ALIGN="LEFT"/>'
        cells.append(f'<TR><TD ALIGN="LEFT"><I>{name}</I></TD>'
                     f'<TD ALIGN="LEFT" BALIGN="LEFT">{body}</TD></TR>')
    border = "2" if color == ROOT_COLOR else "0"  # the root gets a heavy frame as well
    return (f'<<TABLE BORDER="{border}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
            f'BGCOLOR="{color}">{"".join(cells)}</TABLE>>')


def _op_text(v: Value) -> str:
    """The op node's caption: its symbol plus its non-differentiable arguments."""
    text = OP_SYMBOLS.get(v.op, v.op)
    params = {k: p for k, p in v.params.items()
              if p is not None and not (k == "keepdims" and not p)}
    if v.op == "getitem":
        text = f"[{_param_text(params.pop('index', ''))}]"
    # arrays riding along (cross-entropy's class indices, masks) are data, not the op
    params = {k: p for k, p in params.items() if not isinstance(p, np.ndarray)}
    if params:
        text += " " + ", ".join(f"{k}={_param_text(p)}" for k, p in params.items())
    return text


def _param_text(p: Any) -> str:
    """An op argument, long index arrays shortened (`[0 1 1 ... 0 1 0]`) to keep captions short."""
    if isinstance(p, tuple):
        return ", ".join(_param_text(q) for q in p)
    if isinstance(p, np.ndarray):
        return np.array2string(p, threshold=8, edgeitems=3)
    return str(p)


def _const_text(c: Any) -> str:
    if isinstance(c, np.ndarray) and c.ndim > 0:
        lines = _array_lines(c)
        return (f"const {c.shape}\\n" if c.size > 1 else "") + "\\n".join(lines)
    return _num(c)


def folded_plumbing(order: list[Value], root: Value) -> dict[Value, Any]:
    """Plumbing Values (an unlabelled transpose, reshape, ... used once) that are not drawn:
    each maps to what it is computed from, and its consumer's edge is captioned instead."""
    uses: dict[Value, int] = {}
    for v in order:
        for x in v.parents:
            uses[x] = uses.get(x, 0) + 1
    return {v: v.inputs[0] for v in order
            if v.op in PLUMBING and not v.label and v is not root and uses.get(v) == 1}


def _source(x: Any, folded: dict[Value, Any]) -> tuple[Any, str]:
    """Where an operand really comes from, through folded plumbing, and the edge caption."""
    steps = []
    while isinstance(x, Value) and x in folded:
        steps.append("ᵀ" if x.op == "transpose" else x.op.replace("_", " ")
                     + (f" {x.shape}" if x.op != "to_scalar" else ""))
        x = folded[x]
    return x, " ".join(reversed(steps))


def _caption(text: str) -> dict[str, str]:
    return {"label": text, "fontsize": "9"} if text else {}


def _size(lines: list[str]) -> tuple[float, float]:
    """A node's drawn size in points, from its text (Helvetica 10: ~6 points a character)."""
    width = max((len(t) for t in lines), default=1) * 6.2 + 24
    return width, 15.0 * len(lines) + 8


def drawn_size(root: Value, rankdir: str = "LR") -> tuple[float, float]:
    """About how many points wide and tall `draw_graph(root)` comes out, without running
    Graphviz: nodes are ranked along the longest path (a constant just before its user),
    the ranks laid side by side."""
    along: dict[int, float] = {}
    across: dict[int, float] = {}
    for (w, h), r in _layout_nodes(root):
        a, c = (w, h) if rankdir in ("LR", "RL") else (h, w)
        along[r] = max(along.get(r, 0.0), a)
        across[r] = across.get(r, 0.0) + c + 18
    length = sum(along.values()) + 36 * max(len(along) - 1, 0)
    breadth = max(across.values(), default=0.0)
    return (length, breadth) if rankdir in ("LR", "RL") else (breadth, length)


def _layout_nodes(root: Value) -> list[tuple[tuple[float, float], int]]:
    """(estimated size, rank) of every drawn node."""
    order = topological_order(root)
    folded = folded_plumbing(order, root)
    rank: dict[Value, int] = {}
    out = []
    for v in order:
        if v in folded:
            continue
        lines = [v.label] if v.label else []
        for _, rows in _rows(v, True):
            lines.extend(f"grad {t}" for t in rows)
        if not v.parents:
            rank[v] = 0
            out.append((_size(lines), 0))
            continue
        sources = [_source(x, folded)[0] for x in v.inputs]
        op_rank = 1 + max((rank[x] for x in sources if isinstance(x, Value)), default=0)
        for x in sources:
            if not isinstance(x, Value):
                out.append((_size(_const_text(x).split("\\n")), op_rank - 1))
        rank[v] = op_rank + 1
        out.append((_size([_op_text(v)]), op_rank))
        out.append((_size(lines), rank[v]))
    return out


def draw_graph(root: Value, show_grad: bool = True, rankdir: str = "LR") -> Any:
    """The graph that computed `root`, as a ``graphviz.Digraph`` (display it in Jupyter,
    or render it with `save_graph`).

    One box per Value (label, data, grad; tensors show shape and values, or min/mean/max
    beyond 16 elements; a log-softmax also shows its probabilities p), one oval per
    operation, constants as small plain nodes (an array fed to a matmul is named the input
    x); edges go the way data flows. Plumbing (an unlabelled transpose or reshape used
    once) is folded into the edge it feeds, captioned ``ᵀ``. Leaves are blue, the root
    orange. Each Value's node has the SVG id ``v<i>``, i its place in topological order.
    A graph that would be drawn more than 15,000 points wide or tall is refused.
    """
    import graphviz

    if not isinstance(root, Value):
        raise TypeError(f"draw_graph() needs a Value, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    order = topological_order(root)
    if len(order) > MAX_NODES:
        raise ValueError(
            f"this graph has {len(order)} Values (nodes), more than draw_graph's limit of "
            f"{MAX_NODES}; draw part of it instead: pass a sub-expression (an intermediate "
            "Value, e.g. one layer's output) as root, or build the model from tensor Values "
            "(one node per layer) instead of scalar Values"
        )
    width, height = drawn_size(root, rankdir)
    if max(width, height) > MAX_DRAWN:
        raise ValueError(
            f"this graph of {len(order)} Values would be drawn about {width:,.0f} × "
            f"{height:,.0f} points, more than draw_graph's limit of {MAX_DRAWN:,} points a "
            "side; draw part of it instead: pass a sub-expression (an intermediate Value, "
            "e.g. one layer's output) as root, or build the model from tensor Values (one "
            "node per layer) instead of scalar Values"
        )
    folded = folded_plumbing(order, root)
    tiny = _dust_below(order)
    dot = graphviz.Digraph("autograd", graph_attr={"rankdir": rankdir},
                           node_attr={"fontname": "Helvetica", "fontsize": "10"})
    ids = {v: f"v{i}" for i, v in enumerate(order)}
    for v in order:
        if v in folded:
            continue
        vid = ids[v]
        color = ROOT_COLOR if v is root else (LEAF_COLOR if not v.parents else INNER_COLOR)
        dot.node(vid, label=_html_table(v.label, _rows(v, show_grad, tiny), color), shape="plain",
                 id=vid)
        if not v.parents:
            continue
        oid = vid + "_op"
        dot.node(oid, label=_op_text(v), shape="ellipse", style="filled",
                 fillcolor=OP_COLOR, margin="0.05,0.02", id=oid)
        for k, x in enumerate(v.inputs):
            src, caption = _source(x, folded)
            if isinstance(src, Value):
                dot.edge(ids[src], oid, **_caption(caption))
            else:
                cid = f"{oid}_c{k}"
                text = _const_text(src)
                if v.op in MATMULS and isinstance(src, np.ndarray) and src.ndim >= 1:
                    text = "input x\\n" + text
                dot.node(cid, label=text, shape="box", style="filled,dashed",
                         fillcolor=CONST_COLOR, fontsize="9", id=cid)
                dot.edge(cid, oid, style="dashed", **_caption(caption))
        dot.edge(oid, vid)
    return dot




def _install_hint(dot_path: str) -> str:
    return (f"Graphviz's `dot` program was not found, so the graph could not be rendered; "
            f"the DOT source was written to {dot_path} instead. Install Graphviz "
            "(Debian/Ubuntu: `sudo apt-get install graphviz`; macOS: `brew install graphviz`; "
            "or see https://graphviz.org/download/) and try again, or render the .dot file "
            "later with `dot -Tsvg`.")


def save_graph(root: Value, path: str | os.PathLike[str], **draw_kwargs: Any) -> Any:
    """Render `draw_graph(root, **draw_kwargs)` to `path`, the format taken from its
    extension (.svg, .png, .pdf, or .dot for the source alone), and return `path`.

    Without Graphviz's `dot` program the DOT source is still written beside the target
    (g.svg → g.dot) and a RuntimeError says how to install Graphviz.
    """
    import graphviz

    target = os.fspath(path)
    stem, ext = os.path.splitext(target)
    if ext.lower() not in FORMATS:
        raise ValueError(f"cannot tell the format of {target!r}: the extension must be one of "
                         f"{', '.join(FORMATS)}")
    source = draw_graph(root, **draw_kwargs).source
    if ext.lower() == ".dot":
        write_bytes(target, source.encode("utf-8"))
        return path
    dot_path = stem + ".dot"
    if shutil.which("dot") is None:
        write_bytes(dot_path, source.encode("utf-8"))
        raise RuntimeError(_install_hint(dot_path))
    try:  # pipe() returns the rendered bytes: graphviz leaves no stray source file
        data = graphviz.Source(source).pipe(format=ext.lower()[1:])
    except graphviz.ExecutableNotFound:
        write_bytes(dot_path, source.encode("utf-8"))
        raise RuntimeError(_install_hint(dot_path)) from None
    write_bytes(target, data)
    return path
