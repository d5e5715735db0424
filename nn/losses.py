"""Loss functions: how wrong a prediction is, as one differentiable number.

Each is built from engine operations, so ``loss.backward()`` reaches every weight.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd
from autograd import Value
from autograd.ops.losses import cross_entropy as fused_cross_entropy
from autograd.ops.shape import to_scalar


def _as_value(x: Any, name: str) -> Value:
    if isinstance(x, Value):
        return x
    try:
        return Value(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be a Value, list or ndarray of numbers: {e}") from None


def _as_target(t: Any, dtype: np.dtype, name: str = "target") -> Any:
    """A target as a Value (kept: gradients may flow to it) or an ndarray constant of the
    prediction's float dtype, so float32 data stays float32 through the loss."""
    if isinstance(t, Value):
        return t
    try:
        arr = np.asarray(t, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be numeric, got {type(t).__name__}: {e}") from None
    return arr


def _returns_scalar(loss: Callable[..., Value]) -> Callable[..., Value]:
    """Every loss returns a scalar Value (``.data`` a Python float), whatever the batch."""
    @functools.wraps(loss)
    def wrapper(*args: Any, **kwargs: Any) -> Value:
        out = to_scalar(loss(*args, **kwargs))
        out.label = "L"  # the document's name for the loss (explain: dL/dw)
        return out
    return wrapper


@_returns_scalar
def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Value:
    """Squared error between prediction and target.

    ``"mean"``: the mean of (pred - target)²; ``"sum"``: the sum; ``"half_sum"``: the
    document's ``Loss = (1/2) × Σ (predicted - true)²``. Shapes must match exactly."""
    if reduction not in ("mean", "sum", "half_sum"):
        raise ValueError(f"unknown reduction {reduction!r}; use 'mean', 'sum' or 'half_sum'")
    pred = _as_value(pred, "pred")
    target = _as_target(target, pred.dtype)
    if np.shape(target) != pred.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape "
                         f"{np.shape(target)}; they must match")
    diff = pred - target
    sq = diff * diff
    if reduction == "mean":
        return sq.mean()
    total = sq.sum()
    return total if reduction == "sum" else total * 0.5


def _class_indices(target: Any, batch_shape: tuple[int, ...], nclass: int) -> np.ndarray | None:
    """Target as integer class indices shaped like the batch, or None if it is not."""
    if isinstance(target, Value):
        return None
    if isinstance(target, bool):
        raise TypeError("cross_entropy: target must be a class index or rows, not a bool")
    arr = np.asarray(target)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"cross_entropy: target must be numeric, got dtype {arr.dtype}")
    if arr.shape != batch_shape:
        return None
    # float labels such as 1.0 are accepted when whole numbers
    if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise ValueError(f"cross_entropy: target of shape {arr.shape} reads as class "
                         "indices, but holds non-integer numbers")
    idx = arr.astype(np.int64)
    # one pass for both bounds: a negative index, seen as unsigned, is huge
    if idx.size and np.maximum.reduce(idx.view(np.uint64), axis=None) >= nclass:
        bad = idx[(idx < 0) | (idx >= nclass)].ravel()[0]
        raise ValueError(f"cross_entropy: class index {bad} is out of range for {nclass} "
                         f"classes (valid: 0..{nclass - 1})")
    return idx


@_returns_scalar
def cross_entropy(logits: Any, target: Any) -> Value:
    """Softmax and negative log-likelihood in one stable step, averaged over the batch.

    ``L = -Σₖ yₖ log softmax(z)ₖ`` with ``log softmax(z) = z - max - log Σ e^(z - max)``, so
    logits of 1000 do not overflow. Its gradient with respect to the logits is the
    document's ``dL/dz = p - y``. `logits`: (N, C) or one sample's (C,). `target`: class
    indices ((N,) or an int), or one-hot/probability rows shaped like the logits."""
    logits = _as_value(logits, "logits")
    if logits.ndim not in (1, 2):
        raise ValueError(f"cross_entropy: logits must be (C,) for one sample or (N, C) for a "
                         f"batch, got shape {logits.shape}")
    nclass = logits.shape[-1]
    batch_shape = logits.shape[:-1]
    n = math.prod(batch_shape)
    idx = _class_indices(target, batch_shape, nclass)
    if len(batch_shape) == 1:  # a batch: one fused node, whose gradient is (p - y) / n
        if idx is not None:
            return fused_cross_entropy(logits, index=idx)
        rows = _as_target(target, logits.dtype)
        if np.shape(rows) == logits.shape:
            return fused_cross_entropy(logits, rows)
    logp = logits.log_softmax(axis=-1)
    if idx is not None:  # pick log p of the true class with a one-hot mask (fast backward)
        weights = np.zeros(logits.shape, dtype=logits.dtype)
        if batch_shape:
            weights[np.arange(n), idx] = -1.0 / n
        else:
            weights[int(idx)] = -1.0
        return (logp * weights).sum()
    rows = _as_target(target, logits.dtype)
    if np.shape(rows) != logits.shape:
        raise ValueError(f"cross_entropy: logits have shape {logits.shape}, so target must be "
                         f"class indices of shape {batch_shape} or probability rows of shape "
                         f"{logits.shape}; got shape {np.shape(rows)}")
    return (logp * rows).sum() * (-1.0 / n)


def _check_pair(x: Value, target: Any, who: str) -> Any:
    target = _as_target(target, x.dtype)
    if np.shape(target) != x.shape:
        raise ValueError(f"{who}: {'prob' if who == 'binary_cross_entropy' else 'logits'} has "
                         f"shape {x.shape} but target has shape {np.shape(target)}; they "
                         f"must match")
    return target


@_returns_scalar
def binary_cross_entropy(prob: Any, target: Any) -> Value:
    """``L = -mean(y log p + (1 - y) log(1 - p))`` over all elements, for probabilities p
    in [0, 1] (e.g. a sigmoid output); anything else is refused (logits belong in
    `binary_cross_entropy_with_logits`).

    As torch does, each log is kept at or above -100, so p = 0 or 1 gives a large finite
    loss; nothing else is clipped, so a confident wrong prediction (sigmoid(-20) for a
    true 1) keeps its full gradient, dL/dz = p - y ≈ -1."""
    prob = _as_value(prob, "prob")
    target = _check_pair(prob, target, "binary_cross_entropy")
    data = np.asarray(prob.data)
    if data.size and not (np.all(data >= 0) and np.all(data <= 1)):  # NaN fails both
        raise ValueError(f"binary_cross_entropy takes probabilities in [0, 1] (e.g. a "
                         f"sigmoid output), got values from {np.nanmin(data):.4g} to "
                         f"{np.nanmax(data):.4g}{' and NaN' if np.isnan(data).any() else ''}"
                         f"; for logits (raw scores) use "
                         f"nn.binary_cross_entropy_with_logits(logits, target)")
    ll = target * _log100(prob) + (1.0 - target) * _log100(1.0 - prob)
    return ll.sum() * (-1.0 / max(prob.size, 1))


def _log100(p: Value) -> Value:
    """``max(log p, -100)``, as torch's BCE takes it: finite at p = 0 (whose gradient is 0),
    exact everywhere else. The inner clip only keeps log's gradient 1/p finite at 0."""
    return p.clip(float(np.finfo(p.dtype).smallest_subnormal), None).log().clip(-100.0, None)


@_returns_scalar
def binary_cross_entropy_with_logits(logits: Any, target: Any) -> Value:
    """Binary cross-entropy of ``sigmoid(logits)``, in one stable step, mean over elements.

    ``L = (1 - y) z + log(1 + e^(-z))``, the second term written as
    ``logsumexp([0, -z])``, so no logit overflows or loses its gradient:
    dL/dz = sigmoid(z) - y for any z (as ``torch.nn.functional.binary_cross_entropy_with_
    logits``)."""
    z = _as_value(logits, "logits")
    target = _check_pair(z, target, "binary_cross_entropy_with_logits")
    zt = z if not z.is_scalar else z.reshape(1)
    softplus = autograd.stack([np.zeros(zt.shape, dtype=zt.dtype), -zt], axis=-1) \
        .logsumexp(axis=-1)
    ll = (1.0 - target) * zt + softplus
    return ll.sum() * (1.0 / max(z.size, 1))
