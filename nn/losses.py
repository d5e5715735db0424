"""Loss functions: how wrong a prediction is, as one differentiable number.

Each is built from engine operations, so ``loss.backward()`` reaches every weight.
"""

from __future__ import annotations

import functools
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


def _class_indices(target: Any, batch_shape: tuple[int, ...], nclass: int,
                   ignore_index: int = -100, who: str = "cross_entropy") -> np.ndarray | None:
    """Target as integer class indices shaped like the batch, or None if it is not
    (`ignore_index` entries are allowed through)."""
    if isinstance(target, Value):
        return None
    if isinstance(target, bool):
        raise TypeError(f"{who}: target must be a class index or rows, not a bool")
    arr = np.asarray(target)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: target must be numeric, got dtype {arr.dtype}")
    if arr.shape != batch_shape:
        return None
    # float labels such as 1.0 are accepted when whole numbers
    if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise ValueError(f"{who}: target of shape {arr.shape} reads as class "
                         "indices, but holds non-integer numbers")
    idx = arr.astype(np.int64)
    # one pass for both bounds: a negative index, seen as unsigned, is huge
    if idx.size and np.maximum.reduce(idx.view(np.uint64), axis=None) >= nclass:
        bad = idx[((idx < 0) | (idx >= nclass)) & (idx != ignore_index)].ravel()
        if bad.size:
            raise ValueError(f"{who}: class index {bad[0]} is out of range for {nclass} "
                             f"classes (valid: 0..{nclass - 1}, or ignore_index "
                             f"{ignore_index})")
    return idx


def cross_entropy(logits: Any, target: Any, reduction: str = "mean",
                  label_smoothing: float = 0.0, ignore_index: int = -100) -> Value:
    """Softmax and negative log-likelihood in one stable step, as torch's.

    ``L = -Σₖ yₖ log softmax(z)ₖ`` with ``log softmax(z) = z - max - log Σ e^(z - max)``, so
    logits of 1000 do not overflow. Its gradient with respect to the logits is the
    document's ``dL/dz = p - y``. `logits`: (C,) for one sample, (N, C), or (N, C, d1, ...)
    with the classes on axis 1. `target`: class indices (shaped like the logits without the
    class axis), or probability rows shaped like the logits. `reduction`: "mean" (over the
    samples whose target is not `ignore_index`), "sum" or "none" (one loss per sample);
    `label_smoothing` ε mixes the target with the uniform distribution, (1 - ε) y + ε / C."""
    _check_reduction(reduction, "cross_entropy")
    logits = _as_value(logits, "logits")
    if logits.ndim < 1 or logits.is_scalar:
        raise ValueError(f"cross_entropy: logits must be (C,), (N, C) or (N, C, d1, ...), got "
                         f"shape {logits.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    nclass = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
    batch_shape = (logits.shape[:1] + logits.shape[2:]) if logits.ndim > 1 else ()
    idx = _class_indices(target, batch_shape, nclass, ignore_index)
    plain = reduction == "mean" and not label_smoothing and logits.ndim == 2
    if plain and (idx is None or not np.any(idx == ignore_index)):
        if idx is not None:  # a batch: one fused node, whose gradient is (p - y) / n
            return _loss(fused_cross_entropy(logits, index=idx))
        rows = _as_target(target, logits.dtype)
        if np.shape(rows) == logits.shape:
            return _loss(fused_cross_entropy(logits, rows))
    last = logits if logits.ndim < 3 else logits.permute(0, *range(2, logits.ndim), 1)
    logp = last.log_softmax(axis=-1)
    if idx is not None:
        return _nll_last(logp, idx, reduction, label_smoothing, ignore_index)
    rows = _as_target(target, logits.dtype)
    if np.shape(rows) != logits.shape:
        raise ValueError(f"cross_entropy: logits have shape {logits.shape}, so target must be "
                         f"class indices of shape {batch_shape} or probability rows of shape "
                         f"{logits.shape}; got shape {np.shape(rows)}")
    if isinstance(rows, Value):
        rows = rows if rows.ndim < 3 else rows.permute(0, *range(2, rows.ndim), 1)
    elif rows.ndim > 2:
        rows = np.moveaxis(rows, 1, -1)
    if label_smoothing:
        rows = rows * (1.0 - label_smoothing) + label_smoothing / nclass
    return _reduce((logp * rows).sum(axis=-1) * -1.0, reduction)


def nll_loss(log_probs: Any, target: Any, reduction: str = "mean",
             ignore_index: int = -100) -> Value:
    """The negative log-likelihood of class indices under log-probabilities (a
    log_softmax's output), as torch's: -log p[target], averaged over the samples whose
    target is not `ignore_index`. Shapes as cross_entropy's ((C,), (N, C), (N, C, d...))."""
    _check_reduction(reduction, "nll_loss")
    x = _as_value(log_probs, "log_probs")
    if x.is_scalar:
        raise ValueError("nll_loss: input must be (C,), (N, C) or (N, C, d1, ...), got a "
                         "scalar")
    nclass = x.shape[1] if x.ndim > 1 else x.shape[0]
    batch_shape = (x.shape[:1] + x.shape[2:]) if x.ndim > 1 else ()
    idx = _class_indices(target, batch_shape, nclass, ignore_index, who="nll_loss")
    if idx is None:
        raise ValueError(f"nll_loss: target must be class indices of shape {batch_shape}, got "
                         f"shape {np.shape(_data_of(target))}")
    last = x if x.ndim < 3 else x.permute(0, *range(2, x.ndim), 1)
    return _nll_last(last, idx, reduction, 0.0, ignore_index)


def _data_of(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _nll_last(logp: Value, idx: np.ndarray, reduction: str, smoothing: float,
              ignore_index: int) -> Value:
    """-((1 - ε) log p[y] + ε mean_c log p_c) per sample (classes on the last axis), 0 for
    an ignored sample, then reduced; "mean" divides by the samples not ignored."""
    valid = idx != ignore_index
    nclass = logp.shape[-1]
    weights = np.zeros(logp.shape, dtype=logp.dtype)
    np.put_along_axis(weights, np.where(valid, idx, 0)[..., None], 1.0 - smoothing, axis=-1)
    weights += smoothing / nclass
    weights *= -valid[..., None].astype(weights.dtype)
    per = (logp * weights).sum(axis=-1)
    if reduction == "mean":
        return _loss(per.sum() * (1.0 / np.sum(valid))) if np.any(valid) else _loss(
            per.sum() * np.nan)  # torch: every target ignored gives nan
    return _reduce(per, reduction)


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, who: str, extra: tuple[str, ...] = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(f"{who}: reduction must be one of {', '.join(_REDUCTIONS + extra)}, "
                         f"got {reduction!r}")


def _loss(total: Value) -> Value:
    """A reduced loss as the other losses return it: a scalar Value labelled L."""
    out = to_scalar(total)
    out.label = "L"  # the document's name for the loss (explain: dL/dw)
    return out


def _reduce(per: Value, reduction: str) -> Value:
    if reduction == "none":
        return per
    return _loss(per.sum() if reduction == "sum" else per.mean())


def _elementwise_pair(x: Any, target: Any, who: str) -> tuple[Value, Any]:
    x = _as_value(x, "input")
    target = _as_target(target, x.dtype)
    if np.shape(_data_of(target)) != x.shape:
        raise ValueError(f"{who}: input has shape {x.shape} but target has shape "
                         f"{np.shape(_data_of(target))}; they must match")
    return x, target


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Value:
    """|input - target|, averaged (or summed, or per element); gradient sign(d), 0 at 0."""
    _check_reduction(reduction, "l1_loss")
    x, t = _elementwise_pair(input, target, "l1_loss")
    return _reduce(abs(x - t), reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean",
               delta: float = 1.0) -> Value:
    """½ d² where |d| < delta, else delta (|d| - ½ delta): quadratic near 0, linear beyond."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, t = _elementwise_pair(input, target, "huber_loss")
    d = x - t
    a = abs(d)
    near = np.asarray(a.data) < delta
    return _reduce(autograd.where(near, d * d * 0.5, (a - 0.5 * delta) * delta), reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean",
                   beta: float = 1.0) -> Value:
    """½ d² / beta where |d| < beta, else |d| - ½ beta (huber_loss / beta); beta = 0 is
    the L1 loss."""
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    x, t = _elementwise_pair(input, target, "smooth_l1_loss")
    d = x - t
    a = abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    near = np.asarray(a.data) < beta
    return _reduce(autograd.where(near, d * d * (0.5 / beta), a - 0.5 * beta), reduction)


def kl_div(input: Any, target: Any, reduction: str = "mean",
           log_target: bool = False) -> Value:
    """The Kullback-Leibler divergence Σ t (log t - input) of `target` from the distribution
    whose log-probabilities are `input` (torch's argument order; t log t is 0 where t = 0).
    "batchmean" divides the sum by the batch size (the true KL per sample); "mean", torch's
    default, by the number of elements."""
    _check_reduction(reduction, "kl_div", ("batchmean",))
    x, t = _elementwise_pair(input, target, "kl_div")
    if log_target:
        per = (t.exp() if isinstance(t, Value) else np.exp(t)) * (t - x)
    elif isinstance(t, Value):
        per = t * (t.log() - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            tlogt = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0).astype(x.dtype)
        per = tlogt - x * t
    if reduction == "batchmean":
        return _loss(per.sum() * (1.0 / (x.shape[0] if x.ndim else 1)))
    return _reduce(per, reduction)


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
