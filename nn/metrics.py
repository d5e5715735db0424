"""Classification metrics: the document's Phase 6 ("Final Evaluation").

Every function takes ``(y_true, y_pred)``: two 1-D arrays of class labels of the same
length (ints, or any labels numpy can sort).

- accuracy: the share of samples classified correctly.
- precision of a class c: of the samples *predicted* c, the share that really are c,
  ``TP / (TP + FP)``.
- recall of a class c: of the samples that really are c, the share predicted c,
  ``TP / (TP + FN)``.
- F1: their harmonic mean, ``2 × precision × recall / (precision + recall)``.
- confusion matrix: ``C[i, j]`` counts samples of true class i predicted as class j
  (rows true, columns predicted, as scikit-learn's).

`average` selects how a multi-class score is summarised: ``"auto"`` (the default:
``"binary"`` for two classes one of which is `pos_label`, else ``"macro"``), ``"binary"`` (only the class
`pos_label`, default 1: needs at most two classes), ``"macro"`` (unweighted mean over
classes), ``"micro"`` (from the summed counts), ``"weighted"`` (mean weighted by each
class's number of true samples) or ``None`` (one score per class, in the order of
`labels`, by default the sorted labels present in either array). A ratio whose
denominator is 0 counts as `zero_division` (0.0 by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "f1",
    "precision",
    "precision_recall_f1",
    "recall",
]

_AVERAGES = ("auto", "binary", "macro", "micro", "weighted", None)


def _labels_pair(y_true: Any, y_pred: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.ndim == 2 and a.shape[1] == 1:
            continue
        if a.ndim != 1:
            hint = (" (these look like scores or one-hot rows: take .argmax(axis=1) first)"
                    if a.ndim == 2 else "")
            raise ValueError(f"{where}: {name} must be a 1-D array of class labels, got shape "
                             f"{a.shape}{hint}")
    t, p = t.reshape(-1), p.reshape(-1)
    if len(t) != len(p):
        raise ValueError(f"{where}: y_true and y_pred must have the same length, got "
                         f"{len(t)} and {len(p)}")
    if len(t) == 0:
        raise ValueError(f"{where}: y_true and y_pred are empty")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The share of samples whose predicted label equals the true one."""
    t, p = _labels_pair(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None
                     ) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``labels[i]`` predicted as
    ``labels[j]``; `labels` defaults to the sorted labels found in either array."""
    t, p = _labels_pair(y_true, y_pred, "confusion_matrix")
    labs = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    if labs.ndim != 1 or len(labs) == 0 or len(np.unique(labs)) != len(labs):
        raise ValueError(f"confusion_matrix: labels must be a non-empty list of distinct "
                         f"labels, got {labels!r}")
    k = len(labs)
    index = {lab.item() if hasattr(lab, "item") else lab: i for i, lab in enumerate(labs)}
    ti = np.array([index.get(v.item() if hasattr(v, "item") else v, -1) for v in t])
    pi = np.array([index.get(v.item() if hasattr(v, "item") else v, -1) for v in p])
    keep = (ti >= 0) & (pi >= 0)  # samples with a label outside `labels` are not counted
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (ti[keep], pi[keep]), 1)
    return cm


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision_recall_f1(y_true: Any, y_pred: Any, average: str | None = "auto",
                        pos_label: Any = 1, labels: Sequence[Any] | None = None,
                        zero_division: float = 0.0) -> tuple[Any, Any, Any]:
    """Precision, recall and F1 together, each a float (or an array when
    ``average=None``); see the module docstring for `average`."""
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    t, p = _labels_pair(y_true, y_pred, "precision/recall/f1")
    present = np.unique(np.concatenate([t, p]))
    if average == "auto":  # two classes, pos_label among them: its score; else the macro mean
        binary = len(present) <= 2 and (pos_label in present.tolist()
                                        or set(present.tolist()) <= {0, 1})
        average = "binary" if binary else "macro"
    if average == "binary":
        if len(present) > 2:
            raise ValueError(
                f"average='binary' needs at most two classes, found {len(present)} "
                f"({present.tolist()}); use average='macro' (mean over classes) or None "
                "(one score per class)")
        if len(present) == 2 and pos_label not in present.tolist():
            raise ValueError(f"pos_label={pos_label!r} is not one of the labels "
                             f"{present.tolist()}")
        labs = np.asarray([pos_label])
    else:
        labs = present if labels is None else np.asarray(labels)
        if labs.ndim != 1 or len(labs) == 0:
            raise ValueError(f"labels must be a non-empty list of labels, got {labels!r}")
    tp = np.array([np.sum((t == c) & (p == c)) for c in labs])
    pred_c = np.array([np.sum(p == c) for c in labs])  # TP + FP
    true_c = np.array([np.sum(t == c) for c in labs])  # TP + FN
    if average == "micro":
        tp, pred_c, true_c = (np.array([a.sum()]) for a in (tp, pred_c, true_c))
    prec = _ratio(tp, pred_c, zero_division)
    rec = _ratio(tp, true_c, zero_division)
    # the harmonic mean from the counts: 2TP / (2TP + FP + FN), 0 when the class was
    # predicted or present but never both, `zero_division` only when it was neither
    f = _ratio(2 * tp, pred_c + true_c, zero_division)
    if average is None:
        return prec, rec, f
    if average == "weighted":
        w = true_c.astype(float)
        if w.sum() == 0:
            z = float(zero_division)
            return z, z, z
        return tuple(float(np.average(v, weights=w)) for v in (prec, rec, f))  # type: ignore
    return float(np.mean(prec)), float(np.mean(rec)), float(np.mean(f))


def precision(y_true: Any, y_pred: Any, average: str | None = "auto", pos_label: Any = 1,
              labels: Sequence[Any] | None = None, zero_division: float = 0.0) -> Any:
    """TP / (TP + FP): of the samples predicted as the class, the share that are it."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, labels, zero_division)[0]


def recall(y_true: Any, y_pred: Any, average: str | None = "auto", pos_label: Any = 1,
           labels: Sequence[Any] | None = None, zero_division: float = 0.0) -> Any:
    """TP / (TP + FN): of the samples of the class, the share predicted as it."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, labels, zero_division)[1]


def f1(y_true: Any, y_pred: Any, average: str | None = "auto", pos_label: Any = 1,
       labels: Sequence[Any] | None = None, zero_division: float = 0.0) -> Any:
    """2 × precision × recall / (precision + recall)."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, labels, zero_division)[2]


def classification_report(y_true: Any, y_pred: Any, names: Sequence[str] | None = None
                          ) -> str:
    """A text table: precision, recall, F1 and support of every class, then accuracy and
    the macro averages."""
    t, p = _labels_pair(y_true, y_pred, "classification_report")
    labs = np.unique(np.concatenate([t, p]))
    prec, rec, f = precision_recall_f1(t, p, average=None)
    support = [int(np.sum(t == lab)) for lab in labs]
    names = [str(lab) for lab in labs] if names is None else [str(n) for n in names]
    if len(names) != len(labs):
        raise ValueError(f"classification_report: {len(names)} names for {len(labs)} classes")
    width = max(8, *(len(n) for n in names))
    lines = [f"{'class':>{width}}  precision  recall     f1  support"]
    for n, a, b, c, s in zip(names, prec, rec, f, support):
        lines.append(f"{n:>{width}}  {a:9.3f}  {b:6.3f}  {c:5.3f}  {s:7d}")
    lines.append(f"{'accuracy':>{width}}  {'':9}  {'':6}  {accuracy(t, p):5.3f}  {len(t):7d}")
    lines.append(f"{'macro':>{width}}  {np.mean(prec):9.3f}  {np.mean(rec):6.3f}  "
                 f"{np.mean(f):5.3f}  {len(t):7d}")
    return "\n".join(lines)
