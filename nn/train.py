"""The training loop: the document's Phase 4 ("Training"), written once.

`fit` is the document's "Complete Training Loop" over mini-batches::

    for each epoch:
        for each batch: forward pass, loss, backward pass, update   (one `_Trainer.step`)
        the epoch's average training loss, the validation loss, the metrics; print them
        stop early when the validation loss stops improving

("If validation loss stops decreasing while training loss keeps dropping, you are
overfitting ... Stopping training earlier"). It returns a `History` (nn/history.py);
measuring on validation data is `evaluate` (nn/evaluate.py), the progress line and Ctrl-C
handling are in nn/progress.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from autograd import Value

from . import data as _data
from ._checks import generator, positive_int
from .evaluate import as_value, evaluate, metric_fns, predict, to_labels, true_labels
from .history import History
from .module import Module
from .progress import CtrlC, Progress, fmt

__all__ = ["History", "evaluate", "fit", "predict", "to_labels"]

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def fit(model: Module, loss_fn: Callable[[Value, Any], Value], optimizer: Any,
        train: tuple[Any, Any], val: tuple[Any, Any] | None = None, epochs: int = 100,
        batch_size: int = 32, patience: int | None = None, verbose: int | bool = True, *,
        metrics: Any = None, seed: int | np.random.Generator | None = None,
        shuffle: bool = True, augment: Callable[[np.ndarray, np.random.Generator],
                                                 np.ndarray] | None = None,
        min_delta: float = 0.0, restore_best: bool | None = None, threshold: float = 0.5,
        file: TextIO | None = None) -> History:
    """Train `model` on ``train = (X, y)`` for up to `epochs` passes of mini-batches.

    Each step: ``optimizer.zero_grad()``, ``loss_fn(model(X_batch), y_batch)``,
    ``loss.backward()``, ``optimizer.step()`` (the document's
    ``new_weight = old_weight - learning_rate × gradient`` for plain SGD). After each
    epoch: the training loss (mean over the epoch's samples, as measured while training,
    dropout on), the validation loss on `val` in ``eval()`` mode, and the `metrics`.

    metrics: names (``"accuracy"``, ``"precision"``, ``"recall"``, ``"f1"``), functions
        ``f(y_true, y_pred)`` on class labels, or a dict name -> function. Each is
        recorded under its name, on the validation data when there is some, else on the
        training batches; ``"train_<name>"`` always holds the training-batch value.
        Outputs become labels by `to_labels` (`threshold` for a single output column).
    patience: stop when the validation loss has not improved by more than `min_delta`
        for this many epochs, and put back the weights of the best epoch.
    restore_best: put the best epoch's weights back at the end; default: when `patience`
        is set. Ctrl-C ends training cleanly (the epoch under way is dropped) and, with
        validation data, always keeps the best weights.
    seed: the shuffling (and `augment`) Generator's seed; the same seed, the same order.
    augment: ``f(X_batch, rng) -> X_batch`` applied to every training batch.
    verbose: 0/False silent; 1/True a progress line per epoch (updating in place on a
        terminal, one printed line per epoch otherwise); 2 one printed line per epoch.
    file: where progress goes (default: sys.stdout).
    """
    Xtr, ytr, Xva, yva = _check(model, loss_fn, optimizer, train, val, patience)
    epochs = positive_int(epochs, "fit: epochs", minimum=0)
    batch_size = positive_int(batch_size, "fit: batch_size")
    rng = generator(seed, "fit: seed")
    restore = (patience is not None) if restore_best is None else bool(restore_best)
    progress = Progress(verbose, file, epochs)
    trainer = _Trainer(model, loss_fn, optimizer, metric_fns(metrics), augment, rng,
                       threshold, progress, CtrlC())
    history = History()
    best_state: dict[str, np.ndarray] | None = None
    waited = 0
    was_training = model.training
    try:
        trainer.stop.install()
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = np.random.default_rng(rng.integers(2**63)) if shuffle else None
            batches = _data.batches(Xtr, ytr, batch_size, shuffle=shuffle, seed=order)
            values, train_scores = trainer.epoch(epoch, batches, math.ceil(len(Xtr) / batch_size))
            if not math.isfinite(values["train_loss"]):
                history.stop_reason = "non-finite loss"
                progress.note(f"Epoch {epoch}: the training loss is {values['train_loss']}; "
                              "stopping (try a smaller learning rate)")
                break
            if Xva is not None:  # measured on data the weights never learned from
                ev = evaluate(model, loss_fn, Xva, yva, trainer.fns, threshold=threshold)
                values["val_loss"] = ev.pop("loss")
                values.update(ev)
            else:
                values.update(train_scores)
            values.update({f"train_{k}": v for k, v in train_scores.items()})
            seconds = time.perf_counter() - start
            improved = Xva is not None and (history.best_val_loss is None or
                                            values["val_loss"] < history.best_val_loss - min_delta)
            state = model.state_dict() if improved else None
            # the epoch's bookkeeping: plain assignments, then the (slow) printing
            history._record(epoch, seconds, values)
            if improved:
                history.best_val_loss, history.best_epoch, best_state = \
                    values["val_loss"], epoch, state
            waited = 0 if improved else waited + 1
            progress.end(epoch, values, seconds, trainer.batches)
            if patience is not None and waited >= patience:
                history.stop_reason = "early stopping"
                progress.note(f"Early stopping: validation loss has not improved for "
                              f"{patience} epochs (best {fmt(history.best_val_loss)} "
                              f"at epoch {history.best_epoch})")
                break
            if trainer.stop.requested:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        history._truncate()  # an epoch caught half-recorded is dropped whole
        history.stop_reason = "interrupted"
        restore = restore or best_state is not None
        progress.note(f"Interrupted after {len(history)} finished epochs"
                      + (f"; keeping the best weights (epoch {history.best_epoch})"
                         if best_state is not None else ""))
    finally:
        trainer.stop.uninstall()
        model.train(was_training)
    if history.stop_reason == "non-finite loss" and best_state is not None:
        restore = True
    if restore and best_state is not None:
        model.load_state_dict(best_state)
        history.restored = True
    return history


@dataclass
class _Trainer:
    """What every training step needs, so one step and one epoch read as the document's."""

    model: Module
    loss_fn: Callable[[Value, Any], Value]
    optimizer: Any
    fns: dict[str, Callable[[np.ndarray, np.ndarray], float]]
    augment: Augment | None
    rng: np.random.Generator
    threshold: float
    progress: Progress
    stop: CtrlC
    batches: int = 0

    def step(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, np.ndarray]:
        """One step: forward pass, loss, backpropagation, update. Returns the loss and the
        outputs as plain numbers; the step's graph goes when this returns."""
        self.optimizer.zero_grad()
        self.model.zero_grad()  # also parameters the optimizer does not hold
        out = as_value(self.model(xb), "model")             # forward pass: the prediction
        loss = as_value(self.loss_fn(out, yb), "loss_fn")   # how wrong it is
        if loss.size != 1:
            raise ValueError(f"fit: loss_fn must return a single number, got a Value "
                             f"of shape {loss.shape}")
        loss.backward()                                     # dL/dw for every weight
        self.optimizer.step()                               # w_new = w_old - lr × dL/dw
        return loss.item(), out.data

    def epoch(self, epoch: int, batches: Any, nb: int
              ) -> tuple[dict[str, float], dict[str, float]]:
        """Every batch once, in ``train()`` mode: ``{"train_loss": mean over the samples}``
        and the metrics on the training batches. Stops at a non-finite loss; a Ctrl-C
        leaves after a whole step."""
        self.model.train()
        self.batches = nb
        start = time.perf_counter()
        total, seen = 0.0, 0
        outs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        for i, (xb, yb) in enumerate(batches, 1):
            if self.augment is not None:
                xb = np.asarray(self.augment(xb, self.rng))
            value, out = self.step(xb, yb)
            if self.fns:
                outs.append(np.asarray(out))
                ys.append(yb)
            total += value * len(xb)
            seen += len(xb)
            self.progress.batch(epoch, i, nb, total / seen, start)
            if not math.isfinite(value):
                break
            if self.stop.requested:  # Ctrl-C: leave at this clean point, after a whole step
                raise KeyboardInterrupt
        scores = {}
        if self.fns:
            yt = true_labels(np.concatenate(ys))
            yp = to_labels(np.concatenate(outs), self.threshold)
            scores = {name: float(fn(yt, yp)) for name, fn in self.fns.items()}
        return {"train_loss": total / seen}, scores


def _check(model: Any, loss_fn: Any, optimizer: Any, train: Any, val: Any, patience: Any
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """fit's arguments checked up front: the training and validation arrays."""
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"fit: loss_fn must be a function (output, y) -> Value, got "
                        f"{type(loss_fn).__name__}")
    for attr in ("zero_grad", "step"):
        if not callable(getattr(optimizer, attr, None)):
            raise TypeError(f"fit: optimizer needs a {attr}() method (nn.SGD, nn.Adam), got "
                            f"{type(optimizer).__name__}")
    Xtr, ytr = _pair(train, "train")
    Xva, yva = _pair(val, "val") if val is not None else (None, None)
    if patience is not None:
        positive_int(patience, "fit: patience (or None)")
        if val is None:
            raise ValueError("fit: early stopping (patience) watches the validation loss; "
                             "pass val=(X_val, y_val)")
    if len(Xtr) == 0:
        raise ValueError("fit: the training set is empty")
    return Xtr, ytr, Xva, yva


def _pair(pair: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise TypeError(f"fit: {name} must be an (X, y) pair of arrays, got "
                        f"{type(pair).__name__}")
    X, y = _data._as_pair(pair[0], pair[1], f"fit ({name})")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"fit: {name} X must be numeric, got dtype {X.dtype}")
    return X, y
