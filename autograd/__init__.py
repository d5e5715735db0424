"""A reverse-mode automatic differentiation engine on numpy.

`Value` holds a scalar (a Python float) or a tensor (an ndarray), records how it was
computed, and `backward()` applies the chain rule through the recorded graph.
"""

from . import func, ops  # noqa: F401  (ops registers every row of the table and Value's methods)
from .anomaly import AnomalyError, detect_anomaly
from .engine import Value, defop, grad, is_grad_enabled, no_grad, topological_order
from .function import Function
from .gradcheck import gradcheck
from .ops.activations import (
    celu,
    elu,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
)
from .ops.einsum import einsum
from .ops.elementwise import atan2, pow
from .ops.functions import concatenate, maximum, minimum, stack, where
from .ops.layout import pad
from .ops.resample import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    interpolate,
)
from .ops.resample import avg_pool2d_options as avg_pool2d
from .ops.resample import max_pool1d_options as max_pool1d
from .ops.resample import max_pool2d_options as max_pool2d
from .show.check import check_backward
from .show.explain import explain
from .show.html import save_html

__all__ = [
    "AnomalyError",
    "Function",
    "Value",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "atan2",
    "avg_pool2d",
    "celu",
    "check_backward",
    "concatenate",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "defop",
    "detect_anomaly",
    "draw_graph",
    "einsum",
    "elu",
    "explain",
    "func",
    "grad",
    "gradcheck",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "interpolate",
    "is_grad_enabled",
    "logsigmoid",
    "max_pool1d",
    "max_pool2d",
    "maximum",
    "minimum",
    "mish",
    "no_grad",
    "pad",
    "pow",
    "relu6",
    "save_graph",
    "save_html",
    "selu",
    "silu",
    "softplus",
    "softsign",
    "stack",
    "topological_order",
    "where",
]


def __getattr__(name: str):  # drawing (and its graphviz import) loads on first use
    if name in ("draw_graph", "save_graph"):
        from .show import draw
        return getattr(draw, name)
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
