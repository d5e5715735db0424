"""The derivative table's rows, one file per family of operations.

Every operation is one ``defop(name, forward, vjp_0, vjp_1, ...)`` entry (the table itself,
`OPS`, lives in `autograd/engine.py`, which names no op). To find an op's rule, open the file
of its family:

- `arithmetic.py`: ``+ - * / **``, negation, exp, log, sqrt, tanh, sigmoid, relu, abs
- `reductions.py`: sum, mean, max, softmax, log_softmax
- `shape.py`: reshape, transpose, broadcast_to, indexing, to_scalar
- `linalg.py`: ``@`` and the fused affine map `linear`
- `losses.py`: the fused softmax cross-entropy
- `functions.py`: min, var, logsumexp, clip, leaky_relu, gelu, erf; concatenate, stack,
  where, maximum, minimum
- `conv.py`: convolution and pooling; `norm.py`: batch norm; `layer_norm.py`: layer norm; `attention.py`: scaled
  dot-product attention; `recurrent.py`: the RNN, GRU and LSTM cells
- `resample.py`: conv options (groups, dilation, 'same'), conv_transpose, pool padding and
  ceil_mode, adaptive average pooling, interpolate (built on the rows above)
- `erf.py`: the error function numpy lacks (for gelu)
- `elementwise.py`: trigonometric and hyperbolic functions, log2 log10 log1p expm1, square
  rsqrt reciprocal, atan2, floor ceil round trunc sign
- `statistics.py`: prod, std, norm; argmax argmin any all (arrays)
- `scans.py`: cumsum cumprod cummax cummin logcumsumexp, sort topk argsort
- `layout.py`: squeeze unsqueeze permute view flatten expand repeat flip roll triu tril, pad,
  astype/float/double
- `einsum.py`: einsum
- `indexing.py`: gather, scatter_add, index_select, masked_fill
- `activations.py`: softplus elu selu celu silu mish hardtanh relu6 hardsigmoid hardswish
  softsign logsigmoid
- `numpy_routing.py`: ``np.exp(v)``, ``np.concatenate([...])`` and friends on Values
"""

from ..engine import OPS, Op, defop
from . import (  # noqa: F401  (importing a family registers its rows and Value methods)
    activations,
    arithmetic,
    attention,
    conv,
    einsum,
    elementwise,
    functions,
    indexing,
    layer_norm,
    layout,
    linalg,
    losses,
    norm,
    numpy_routing,
    recurrent,
    reductions,
    resample,
    scans,
    shape,
    statistics,
)

__all__ = ["OPS", "Op", "defop"]
