"""A reverse-mode automatic differentiation engine on numpy.

`Value` holds a scalar (a Python float) or a tensor (an ndarray), records how it was
computed, and `backward()` applies the chain rule through the recorded graph.
"""

from . import func, ops  # noqa: F401  (ops registers every row of the table and Value's methods)
from .anomaly import AnomalyError, detect_anomaly
from .engine import Value, defop, grad, is_grad_enabled, no_grad, topological_order
from .function import Function
from .gradcheck import gradcheck
from .ops.conv import avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d
from .ops.functions import concatenate, maximum, minimum, stack, where
from .show.check import check_backward
from .show.explain import explain
from .show.html import save_html

__all__ = [
    "AnomalyError",
    "Function",
    "Value",
    "avg_pool2d",
    "check_backward",
    "concatenate",
    "conv1d",
    "conv2d",
    "defop",
    "detect_anomaly",
    "draw_graph",
    "explain",
    "func",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "max_pool1d",
    "max_pool2d",
    "maximum",
    "minimum",
    "no_grad",
    "save_graph",
    "save_html",
    "stack",
    "topological_order",
    "where",
]


def __getattr__(name: str):  # drawing (and its graphviz import) loads on first use
    if name in ("draw_graph", "save_graph"):
        from .show import draw
        return getattr(draw, name)
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
