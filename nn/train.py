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

import inspect
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from autograd import Value, no_grad

from . import data as _data
from ._checks import generator, positive_int
from .callbacks import Callbacks
from .evaluate import as_value, evaluate, metric_fns, predict, to_labels, true_labels
from .history import History
from .module import Module
from .optim import clip_grad_norm_
from .progress import CtrlC, Progress, fmt

__all__ = ["History", "evaluate", "fit", "predict", "to_labels"]

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def fit(model: Module, loss_fn: Callable[[Value, Any], Value], optimizer: Any,
        train: Any, val: Any = None, epochs: int = 100,
        batch_size: int = 32, patience: int | None = None, verbose: int | bool = True, *,
        scheduler: Any = None, clip_grad_norm: float | None = None, callbacks: Any = (),
        metrics: Any = None, seed: int | np.random.Generator | None = None,
        shuffle: bool = True, augment: Callable[[np.ndarray, np.random.Generator],
                                                 np.ndarray] | None = None,
        min_delta: float = 0.0, restore_best: bool | None = None, threshold: float = 0.5,
        file: TextIO | None = None) -> History:
    """Train `model` on `train` for up to `epochs` passes of mini-batches.

    train, val: an ``(X, y)`` pair of arrays (cut into shuffled batches of `batch_size`
        here), or a `nn.data.DataLoader` or any re-iterable of ``(X_batch, y_batch)``
        batches (a list of them, say), whose own batch size and order are used.

    Each step: ``optimizer.zero_grad()``, ``loss_fn(model(X_batch), y_batch)``,
    ``loss.backward()``, ``clip_grad_norm_`` (when `clip_grad_norm` is set),
    ``optimizer.step()`` (the document's ``new_weight = old_weight - learning_rate ×
    gradient`` for plain SGD). After each epoch: the training loss (mean over the epoch's
    samples, as measured while training, dropout on), the validation loss on `val` in
    ``eval()`` mode, the `metrics`, then ``scheduler.step()`` (``scheduler.step(loss)``
    for a schedule whose ``step`` takes the loss, as ``ReduceLROnPlateau``: the
    validation loss, or the training loss without validation data).

    scheduler: a learning-rate schedule (``nn.optim.StepLR(optimizer, ...)``), stepped once
        per epoch as in torch's usual loop.
    clip_grad_norm: rescale the gradients of ``model.parameters()`` to this joint norm at
        most, every step (``nn.clip_grad_norm_``).
    callbacks: objects with ``after_backward()``, ``after_step()`` and/or
        ``on_epoch_end(model, epoch, logs)`` (`nn.Monitor`, `nn.Replay`; nn/callbacks.py).
    metrics: names (``"accuracy"``, ``"precision"``, ``"recall"``, ``"f1"``), functions
        ``f(y_true, y_pred)`` on class labels, or a dict name -> function. Each is
        recorded under its name, on the validation data when there is some, else on the
        training batches; ``"train_<name>"`` always holds the training-batch value.
        Outputs become labels by `to_labels` (`threshold` for a single output column).
    patience: stop when the validation loss has not improved by more than `min_delta`
        for this many epochs, and put back the weights of the best epoch.
    restore_best: put the best epoch's weights back at the end; default: when `patience`
        is set.
    Ctrl-C: the first one finishes the step under way and returns (the epoch under way is
        dropped, ``stop_reason == "interrupted"``, and with validation data the best
        weights are kept); a second one raises KeyboardInterrupt at once.
    seed: the shuffling (and `augment`) Generator's seed; the same seed, the same order.
    augment: ``f(X_batch, rng) -> X_batch`` applied to every training batch.
    verbose: 0/False silent; 1/True a progress line per epoch (updating in place on a
        terminal, one printed line per epoch otherwise); 2 one printed line per epoch.
    file: where progress goes (default: sys.stdout).
    """
    tr, va = _check(model, loss_fn, optimizer, train, val, patience)
    epochs = positive_int(epochs, "fit: epochs", minimum=0)
    batch_size = positive_int(batch_size, "fit: batch_size")
    rng = generator(seed, "fit: seed")
    restore = (patience is not None) if restore_best is None else bool(restore_best)
    progress = Progress(verbose, file, epochs)
    trainer = _Trainer(model, loss_fn, optimizer, metric_fns(metrics), augment, rng,
                       threshold, progress, CtrlC(), _clip_norm(clip_grad_norm),
                       Callbacks(callbacks))
    step_schedule = _schedule(scheduler)
    history = History()
    best_state: dict[str, np.ndarray] | None = None
    waited = 0
    was_training = model.training
    try:
        trainer.stop.install()
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            batches, nb = _epoch_batches(tr, batch_size, shuffle, rng)
            values, train_scores = trainer.epoch(epoch, batches, nb)
            if not math.isfinite(values["train_loss"]):
                history.stop_reason = "non-finite loss"
                progress.note(f"Epoch {epoch}: the training loss is {values['train_loss']}; "
                              "stopping (try a smaller learning rate)")
                break
            if va is not None:  # measured on data the weights never learned from
                ev = _evaluate(model, loss_fn, va, trainer.fns, threshold)
                values["val_loss"] = ev.pop("loss")
                values.update(ev)
            else:
                values.update(train_scores)
            values.update({f"train_{k}": v for k, v in train_scores.items()})
            seconds = time.perf_counter() - start
            improved = va is not None and (history.best_val_loss is None or
                                           values["val_loss"] < history.best_val_loss - min_delta)
            state = model.state_dict() if improved else None
            # the epoch's bookkeeping: plain assignments, then the (slow) printing
            history._record(epoch, seconds, values)
            if improved:
                history.best_val_loss, history.best_epoch, best_state = \
                    values["val_loss"], epoch, state
            waited = 0 if improved else waited + 1
            progress.end(epoch, values, seconds, trainer.batches)
            step_schedule(values)
            trainer.callbacks.on_epoch_end(model, epoch, values)
            if patience is not None and waited >= patience:
                history.stop_reason = "early stopping"
                progress.note(f"Early stopping: validation loss has not improved for "
                              f"{patience} epochs (best {fmt(history.best_val_loss)} "
                              f"at epoch {history.best_epoch})")
                break
            if trainer.stop.requested:
                raise Interrupted
    except (Interrupted, KeyboardInterrupt) as e:
        if isinstance(e, KeyboardInterrupt) and (trainer.stop.installed or
                                                 trainer.stop.requested):
            raise  # the second Ctrl-C: stop now, as asked
        # (a KeyboardInterrupt where fit could not take over SIGINT, e.g. outside the
        # main thread, counts as the first Ctrl-C)
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


class Interrupted(Exception):
    """Raised inside `fit` at a clean point (between steps) after the first Ctrl-C."""


def _clip_norm(max_norm: Any) -> float | None:
    if max_norm is None:
        return None
    if isinstance(max_norm, bool) or not isinstance(max_norm, int | float | np.number) \
            or not max_norm > 0:
        raise ValueError(f"fit: clip_grad_norm must be a positive number (the largest "
                         f"gradient norm) or None, got {max_norm!r}")
    return float(max_norm)


def _schedule(scheduler: Any) -> Callable[[dict[str, float]], None]:
    """What to do with the schedule after each epoch: ``step()``, or ``step(loss)`` for a
    schedule that watches a loss (its step takes a required argument, as
    ReduceLROnPlateau's ``step(metrics)``)."""
    if scheduler is None:
        return lambda values: None
    step = getattr(scheduler, "step", None)
    if not callable(step):
        raise TypeError(f"fit: scheduler needs a step() method (nn.optim.StepLR, ...), got "
                        f"{type(scheduler).__name__}")
    try:
        required = [p for p in inspect.signature(step).parameters.values()
                    if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                           p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        required = []
    if required:
        return lambda values: step(values.get("val_loss", values["train_loss"]))
    return lambda values: step()


def _epoch_batches(source: Any, batch_size: int, shuffle: bool, rng: np.random.Generator
                   ) -> tuple[Any, int | None]:
    """One epoch's batches and how many (None when the iterable cannot tell)."""
    if isinstance(source, tuple):  # an (X, y) pair of arrays, checked by _check
        X, y = source
        order = np.random.default_rng(rng.integers(2**63)) if shuffle else None
        return (_data.batches(X, y, batch_size, shuffle=shuffle, seed=order),
                math.ceil(len(X) / batch_size))
    try:
        n = len(source)
    except TypeError:
        n = None
    return iter(source), n


def _evaluate(model: Module, loss_fn: Callable[[Value, Any], Value], source: Any,
              fns: dict[str, Any], threshold: float) -> dict[str, float]:
    """The loss and metrics on the validation data: arrays at once, a loader batch by batch
    (the loss weighted by each batch's size: the mean over the samples)."""
    if isinstance(source, tuple):
        return evaluate(model, loss_fn, source[0], source[1], fns, threshold=threshold)
    was_training = model.training
    model.eval()
    total, seen, outs, ys = 0.0, 0, [], []
    try:
        with no_grad():
            for xb, yb in _batches_of(source, "val"):
                out = as_value(model(xb), "model")
                total += as_value(loss_fn(out, yb), "loss_fn").item() * len(xb)
                seen += len(xb)
                if fns:
                    outs.append(np.asarray(out.data))
                    ys.append(np.asarray(yb))
    finally:
        model.train(was_training)
    if not seen:
        raise ValueError("fit: val gave no batches (an iterator already used up? pass a "
                         "DataLoader or a list of batches, which can be read every epoch)")
    result = {"loss": total / seen}
    if fns:
        yt = true_labels(np.concatenate(ys))
        yp = to_labels(np.concatenate(outs), threshold)
        result.update({name: float(fn(yt, yp)) for name, fn in fns.items()})
    return result


def _batches_of(source: Any, name: str) -> Any:
    """``(X_batch, y_batch)`` from an iterable of batches, each checked as it comes."""
    for i, batch in enumerate(source):
        if not isinstance(batch, tuple | list) or len(batch) != 2:
            raise TypeError(f"fit: each batch of {name} must be an (X, y) pair, batch {i} is "
                            f"{type(batch).__name__}"
                            + (f" of {len(batch)}" if isinstance(batch, tuple | list) else ""))
        yield _data._as_pair(batch[0], batch[1], f"fit ({name} batch {i})")


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
    clip: float | None
    callbacks: Callbacks
    batches: int | None = 0

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
        self.callbacks.after_backward()
        if self.clip is not None:
            clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()                               # w_new = w_old - lr × dL/dw
        self.callbacks.after_step()
        return loss.item(), out.data

    def epoch(self, epoch: int, batches: Any, nb: int | None
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
        for i, (xb, yb) in enumerate(_batches_of(batches, "train"), 1):
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
                raise Interrupted
        if not seen:
            raise ValueError(f"fit: epoch {epoch} had no training batches (an iterator "
                             f"already used up? pass a DataLoader or a list of batches, "
                             f"which can be read every epoch)")
        self.batches = i
        scores = {}
        if self.fns:
            yt = true_labels(np.concatenate(ys))
            yp = to_labels(np.concatenate(outs), self.threshold)
            scores = {name: float(fn(yt, yp)) for name, fn in self.fns.items()}
        return {"train_loss": total / seen}, scores


def _check(model: Any, loss_fn: Any, optimizer: Any, train: Any, val: Any, patience: Any
           ) -> tuple[Any, Any]:
    """fit's arguments checked up front: the training and validation data, each an
    ``(X, y)`` tuple of arrays or an iterable of batches."""
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"fit: loss_fn must be a function (output, y) -> Value, got "
                        f"{type(loss_fn).__name__}")
    for attr in ("zero_grad", "step"):
        if not callable(getattr(optimizer, attr, None)):
            raise TypeError(f"fit: optimizer needs a {attr}() method (nn.SGD, nn.Adam), got "
                            f"{type(optimizer).__name__}")
    tr = _source(train, "train")
    va = _source(val, "val") if val is not None else None
    if patience is not None:
        positive_int(patience, "fit: patience (or None)")
        if val is None:
            raise ValueError("fit: early stopping (patience) watches the validation loss; "
                             "pass val=(X_val, y_val) or a DataLoader")
    if isinstance(tr, tuple) and len(tr[0]) == 0 or getattr(tr, "__len__", None) and \
            len(tr) == 0:
        raise ValueError("fit: the training set is empty")
    return tr, va


def _source(data: Any, name: str) -> Any:
    """An ``(X, y)`` pair of arrays as a tuple of checked arrays; an iterable of batches
    (a DataLoader, a list of ``(X, y)`` tuples) as it is."""
    if isinstance(data, tuple | list) and len(data) == 2 and \
            not any(isinstance(part, tuple) for part in data):
        X, y = _data._as_pair(data[0], data[1], f"fit ({name})")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"fit: {name} X must be numeric, got dtype {X.dtype}")
        return X, y
    if isinstance(data, Iterable) and not isinstance(data, str | np.ndarray | Value):
        return data
    raise TypeError(f"fit: {name} must be an (X, y) pair of arrays, a nn.data.DataLoader "
                    f"or an iterable of (X, y) batches, got {type(data).__name__}")
