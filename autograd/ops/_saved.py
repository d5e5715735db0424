"""What a forward pass leaves for its backward pass, kept beside its output array.

A rule's VJPs receive the node's inputs and its answer, nothing else; some of them would
otherwise redo work the forward pass did (a convolution's patches, a max pool's choice of
entry, GELU's exponential). The forward keeps such a residual here, keyed by its output
array, and the VJP asks for it by that array: it lives as long as the output does (a weak
reference drops it with the array) and only while gradients are being recorded. A VJP that
finds nothing (the forward ran under no_grad, or the answer is a Value in a higher-order
pass) recomputes what it needs: the residual is a saving, never a requirement.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..engine import is_grad_enabled

_kept: dict[int, tuple[weakref.ref, Any]] = {}


def keep(out: np.ndarray, residual: Any) -> None:
    """Remember `residual` for the backward pass of the node whose answer is `out`."""
    if is_grad_enabled() and type(out) is np.ndarray:
        key = id(out)
        _kept[key] = (weakref.ref(out, lambda _, k=key: _kept.pop(k, None)), residual)


def kept(ans: Any) -> Any:
    """The residual kept for the answer `ans`, or None."""
    entry = _kept.get(id(ans))
    return entry[1] if entry is not None and entry[0]() is ans else None
