"""A reverse-mode automatic differentiation engine on numpy.

`Value` holds a scalar (a Python float) or a tensor (an ndarray), records how it was
computed, and `backward()` applies the chain rule through the recorded graph.
"""

from . import (  # noqa: F401  (Value's operators and methods; attention, recurrent cells, batch norm)
    attention,
    norm,
    numpy_functions,
    ops,
    recurrent,
)
from .conv import avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d
from .engine import Value, grad, is_grad_enabled, no_grad, topological_order
from .explain import explain  # eager: the submodule shares the function's name
from .functions import concatenate, maximum, minimum, stack, where
from .gradcheck import gradcheck
from .html import save_html

__all__ = [
    "Value",
    "avg_pool2d",
    "concatenate",
    "conv1d",
    "conv2d",
    "draw_graph",
    "explain",
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
        from . import draw
        return getattr(draw, name)
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
