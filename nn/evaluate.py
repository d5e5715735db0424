"""Measuring a model on data: its outputs (`predict`), class labels from them (`to_labels`),
and the loss and metrics on a data set (`evaluate`), all in ``eval()`` mode without a graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from autograd import Value, no_grad

from . import data as _data
from . import metrics as _metrics
from .module import Module

__all__ = ["evaluate", "predict", "to_labels"]

MetricFn = Callable[[np.ndarray, np.ndarray], float]
_NAMED = {"accuracy": _metrics.accuracy, "precision": _metrics.precision,
          "recall": _metrics.recall, "f1": _metrics.f1}


def to_labels(outputs: Any, threshold: float = 0.5) -> np.ndarray:
    """Class labels from a model's outputs: the arg-max of each row when there are several
    columns (logits or probabilities), else ``output > threshold`` as 0/1 (one sigmoid
    output, or a regression onto 0/1 targets)."""
    out = outputs.data if isinstance(outputs, Value) else np.asarray(outputs)
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(len(out), -1)[:, 0] > threshold).astype(int) if out.ndim \
        else np.array([int(out > threshold)])


def true_labels(y: np.ndarray) -> np.ndarray:
    """Targets as class labels: one-hot or probability rows become their arg-max."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(len(y)) if y.ndim == 2 else y


def predict(model: Module, X: Any, batch_size: int = 1024) -> np.ndarray:
    """The model's outputs for every row of `X`, as an ndarray, in ``eval()`` mode and
    without recording a graph; the model's mode is restored afterwards."""
    X = np.asarray(X)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            parts = [np.asarray(as_value(model(X[i:i + batch_size]), "model").data)
                     for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(parts) if parts else np.empty((0,))


def as_value(v: Any, who: str) -> Value:
    """`v`, refused unless a Value (what a model or a loss function must return)."""
    if not isinstance(v, Value):
        raise TypeError(f"{who} must return a Value, got {type(v).__name__}")
    return v


def metric_fns(metrics: Any) -> dict[str, MetricFn]:
    """Metrics given as names, functions ``f(y_true, y_pred)`` or a dict, as name -> function."""
    if metrics is None:
        return {}
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    items = metrics.items() if isinstance(metrics, Mapping) else (
        (m if isinstance(m, str) else getattr(m, "__name__", f"metric{i}"), m)
        for i, m in enumerate(metrics))
    out: dict[str, MetricFn] = {}
    for name, m in items:
        if isinstance(m, str):
            if m not in _NAMED:
                raise ValueError(f"unknown metric {m!r}; named metrics are "
                                 f"{sorted(_NAMED)}, or pass a function (y_true, y_pred)")
            m = _NAMED[m]
        if not callable(m):
            raise TypeError(f"metric {name!r} must be a name or a function (y_true, y_pred), "
                            f"got {type(m).__name__}")
        if name in ("train_loss", "val_loss"):
            raise ValueError(f"a metric cannot be called {name!r}")
        out[name] = m
    return out


def evaluate(model: Module, loss_fn: Callable[[Value, Any], Value], X: Any, y: Any,
             metrics: Any = None, batch_size: int = 1024,
             threshold: float = 0.5) -> dict[str, float]:
    """``{"loss": ..., metric: ...}`` of the model on one data set, in ``eval()`` mode."""
    X, y = _data._as_pair(X, y, "evaluate")
    out = predict(model, X, batch_size)
    with no_grad():
        result = {"loss": as_value(loss_fn(Value(out), y), "loss_fn").item()}
    fns = metric_fns(metrics)
    if fns:
        yt, yp = true_labels(y), to_labels(out, threshold)
        result.update({name: float(fn(yt, yp)) for name, fn in fns.items()})
    return result

