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
- `erf.py`: the error function numpy lacks (for gelu)
- `numpy_routing.py`: ``np.exp(v)``, ``np.concatenate([...])`` and friends on Values
"""

from ..engine import OPS, Op, defop
from . import (  # noqa: F401  (importing a family registers its rows and Value methods)
    arithmetic,
    attention,
    conv,
    functions,
    layer_norm,
    linalg,
    losses,
    norm,
    numpy_routing,
    recurrent,
    reductions,
    shape,
)

__all__ = ["OPS", "Op", "defop"]
