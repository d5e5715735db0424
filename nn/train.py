"""The training loop: the document's Phase 4 ("Training"), written once.

`fit` runs epochs of mini-batches (forward pass, loss, backward pass, optimizer step: the
document's Steps 2-5), measures the training and validation loss after every epoch, any
metrics asked for, stops early when the validation loss stops improving ("If validation
loss stops decreasing while training loss keeps dropping, you are overfitting ... Stopping
training earlier") and returns a `History` that can be printed or plotted.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import numpy as np

from autograd import Value, no_grad
from autograd._files import atomic_write

from . import data as _data
from . import metrics as _metrics
from .module import Module

__all__ = ["History", "evaluate", "fit", "predict", "to_labels"]

MetricFn = Callable[[np.ndarray, np.ndarray], float]
_NAMED = {"accuracy": _metrics.accuracy, "precision": _metrics.precision,
          "recall": _metrics.recall, "f1": _metrics.f1}
_PLOT_HINT = ("History.plot needs matplotlib, which is not installed. Install it with "
              "`pip install matplotlib` (or this project's `plot` extra: "
              "`pip install -e '.[plot]'`).")


class History:
    """What `fit` measured: ``history["train_loss"]``, ``history["val_loss"]`` and one list
    per metric, one entry per finished epoch.

    Also: ``epochs`` (1-based numbers), ``times`` (seconds per epoch), ``best_epoch`` and
    ``best_val_loss`` (when there was validation data), ``stop_reason`` ("completed",
    "early stopping", "interrupted" or "non-finite loss") and ``restored`` (True when the
    weights of `best_epoch` were put back)."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
        self.epochs: list[int] = []
        self.times: list[float] = []
        self.best_epoch: int | None = None
        self.best_val_loss: float | None = None
        self.stop_reason = "completed"
        self.restored = False

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epochs)

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        best = f", best_epoch={self.best_epoch}" if self.best_epoch is not None else ""
        return f"History({len(self)} epochs: {keys}{best}, stop_reason={self.stop_reason!r})"

    def _record(self, epoch: int, seconds: float, values: Mapping[str, float]) -> None:
        for key, v in values.items():
            self.history.setdefault(key, []).append(v)
        self.times.append(seconds)
        self.epochs.append(epoch)  # last: an epoch counts once all of it is recorded

    def _truncate(self) -> None:
        """Drop what an interrupted `_record` left behind (epochs is appended last)."""
        n = len(self.epochs)
        del self.times[n:]
        for v in self.history.values():
            del v[n:]

    def plot(self, path: str | os.PathLike | None = None, title: str | None = None) -> Any:
        """Draw the training and validation loss per epoch (and, in a second panel, the
        metrics) with matplotlib; the best epoch is marked. With `path` the picture is
        written there (format from the extension: .svg, .png, .pdf) and the path returned;
        without, the matplotlib Figure is returned. Needs matplotlib (the `plot` extra)."""
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(_PLOT_HINT) from None
        if not self.epochs:
            raise ValueError("History.plot: no finished epoch to draw")
        others = [k for k in self.history if k not in ("train_loss", "val_loss")
                  and self.history[k]]
        fig = Figure(figsize=(10 if others else 6, 4), layout="constrained")
        axes = fig.subplots(1, 2 if others else 1, squeeze=False)[0]
        ax = axes[0]
        ax.plot(self.epochs, self.history["train_loss"], label="training loss")
        if self.history["val_loss"]:
            ax.plot(self.epochs, self.history["val_loss"], label="validation loss")
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="grey", linestyle=":",
                       label=f"best epoch ({self.best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(title or "Training and validation loss")
        ax.legend()
        if others:
            for k in others:
                axes[1].plot(self.epochs, self.history[k], label=k)
            axes[1].set_xlabel("epoch")
            axes[1].set_title("Metrics")
            axes[1].legend()
        if path is None:
            return fig
        return save_figure(fig, path)


def save_figure(fig: Any, path: str | os.PathLike) -> str:
    """Write a matplotlib Figure to `path` atomically (a temporary file, then
    ``os.replace``); the format comes from the extension. Returns the path."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if not ext:
        raise ValueError(f"give the picture's file an extension (.svg, .png, .pdf), "
                         f"got {path!r}")
    with atomic_write(path, suffix=ext) as f:
        fig.savefig(f, format=ext[1:])
    return path


# ---- helpers ----------------------------------------------------------------------------

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


def _true_labels(y: np.ndarray) -> np.ndarray:
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
            parts = [np.asarray(_value(model(X[i:i + batch_size]), "model").data)
                     for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(parts) if parts else np.empty((0,))


def _value(v: Any, who: str) -> Value:
    if not isinstance(v, Value):
        raise TypeError(f"{who} must return a Value, got {type(v).__name__}")
    return v


def _metric_fns(metrics: Any) -> dict[str, MetricFn]:
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
        result = {"loss": _value(loss_fn(Value(out), y), "loss_fn").item()}
    fns = _metric_fns(metrics)
    if fns:
        yt, yp = _true_labels(y), to_labels(out, threshold)
        result.update({name: float(fn(yt, yp)) for name, fn in fns.items()})
    return result


def _fmt(v: float) -> str:
    return f"{v:.3f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3g}"


class _Progress:
    """The progress display: on a terminal one line per epoch that updates in place
    ("\\r") as batches finish; elsewhere (a file, a pipe, CI logs) only the finished line.
    ``verbose=0``: silent; 1: as described; 2: only finished lines, even on a terminal."""

    def __init__(self, verbose: int | bool, stream: TextIO | None, epochs: int) -> None:
        self.stream = sys.stdout if stream is None else stream
        self.on = bool(verbose)
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(verbose == 1 and isatty is not None and isatty())
        self.width = len(str(epochs))
        self.epochs = epochs
        self.last = 0.0

    def batch(self, epoch: int, done: int, total: int, loss: float, start: float) -> None:
        now = time.perf_counter()
        if not self.live or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        self.stream.write(f"\rEpoch {epoch:>{self.width}}/{self.epochs}: batch {done}/{total}"
                          f", train loss {_fmt(loss)}, {now - start:.1f}s\x1b[K")
        self.stream.flush()

    def end(self, epoch: int, values: Mapping[str, float], seconds: float, nb: int) -> None:
        if not self.on:
            return
        has_val = "val_loss" in values
        parts = [f"{k.replace('_', ' ')} {_fmt(v)}" if k.endswith("loss") or not has_val
                 else f"val {k} {_fmt(v)}" for k, v in values.items()
                 if k == "train_loss" or not k.startswith("train_")]
        line = f"Epoch {epoch}: " + ", ".join(parts) + f" ({nb} batches, {seconds:.2f}s)"
        self.stream.write(("\r" + line + "\x1b[K" if self.live else line) + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        if self.on:
            self.stream.write(("\n" if self.live else "") + text + "\n")
            self.stream.flush()


class _CtrlC:
    """While `fit` runs, the first Ctrl-C (SIGINT) only asks training to stop: the loop
    notices it after the current step, so weights and history are never caught half-way
    through an update. A second Ctrl-C interrupts at once. Installed only in the main
    thread, and only over Python's default handler."""

    def __init__(self) -> None:
        self.requested = False
        self._old: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._old = signal.signal(signal.SIGINT, self._handler)

    def uninstall(self) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None


# ---- fit ----------------------------------------------------------------------------------

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
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) \
            or batch_size < 1:
        raise ValueError(f"fit: batch_size must be a positive integer, got {batch_size!r}")
    if patience is not None:
        if isinstance(patience, bool) or not isinstance(patience, int | np.integer) \
                or patience < 1:
            raise ValueError(f"fit: patience must be a positive integer or None, got "
                             f"{patience!r}")
        if val is None:
            raise ValueError("fit: early stopping (patience) watches the validation loss; "
                             "pass val=(X_val, y_val)")
    if len(Xtr) == 0:
        raise ValueError("fit: the training set is empty")
    fns = _metric_fns(metrics)
    restore = (patience is not None) if restore_best is None else bool(restore_best)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    progress = _Progress(verbose, file, int(epochs))
    history = History()
    best_state: dict[str, np.ndarray] | None = None
    waited = 0
    was_training = model.training
    nb = math.ceil(len(Xtr) / batch_size)
    stop = _CtrlC()
    try:
        stop.install()
        for epoch in range(1, int(epochs) + 1):
            start = time.perf_counter()
            model.train()
            total, seen = 0.0, 0
            train_out: list[np.ndarray] = []
            train_y: list[np.ndarray] = []
            order_rng = np.random.default_rng(rng.integers(2**63)) if shuffle else None
            for i, (xb, yb) in enumerate(
                    _data.batches(Xtr, ytr, batch_size, shuffle=shuffle, seed=order_rng), 1):
                if augment is not None:
                    xb = np.asarray(augment(xb, rng))
                optimizer.zero_grad()
                model.zero_grad()  # also parameters the optimizer does not hold
                out = _value(model(xb), "model")
                loss = _value(loss_fn(out, yb), "loss_fn")
                if loss.size != 1:
                    raise ValueError(f"fit: loss_fn must return a single number, got a Value "
                                     f"of shape {loss.shape}")
                loss.backward()
                optimizer.step()
                value = loss.item()
                if fns:
                    train_out.append(np.asarray(out.data))
                    train_y.append(yb)
                del out, loss  # the step's graph goes now, not at the next step
                total += value * len(xb)
                seen += len(xb)
                progress.batch(epoch, i, nb, total / seen, start)
                if not math.isfinite(value):
                    break
                if stop.requested:  # Ctrl-C: leave at this clean point, after a whole step
                    raise KeyboardInterrupt
            values = {"train_loss": total / seen}
            if not math.isfinite(values["train_loss"]):
                history.stop_reason = "non-finite loss"
                progress.note(f"Epoch {epoch}: the training loss is {values['train_loss']}; "
                              "stopping (try a smaller learning rate)")
                break
            train_scores = {}
            if fns:
                yt = _true_labels(np.concatenate(train_y))
                yp = to_labels(np.concatenate(train_out), threshold)
                train_scores = {name: float(fn(yt, yp)) for name, fn in fns.items()}
            if Xva is not None:
                ev = evaluate(model, loss_fn, Xva, yva, fns, threshold=threshold)
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
            progress.end(epoch, values, seconds, nb)
            if patience is not None and waited >= patience:
                history.stop_reason = "early stopping"
                progress.note(f"Early stopping: validation loss has not improved for "
                              f"{patience} epochs (best {_fmt(history.best_val_loss)} "
                              f"at epoch {history.best_epoch})")
                break
            if stop.requested:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        history._truncate()  # an epoch caught half-recorded is dropped whole
        history.stop_reason = "interrupted"
        restore = restore or best_state is not None
        progress.note(f"Interrupted after {len(history)} finished epochs"
                      + (f"; keeping the best weights (epoch {history.best_epoch})"
                         if best_state is not None else ""))
    finally:
        stop.uninstall()
        model.train(was_training)
    if history.stop_reason == "non-finite loss" and best_state is not None:
        restore = True
    if restore and best_state is not None:
        model.load_state_dict(best_state)
        history.restored = True
    return history


def _pair(pair: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise TypeError(f"fit: {name} must be an (X, y) pair of arrays, got "
                        f"{type(pair).__name__}")
    X, y = _data._as_pair(pair[0], pair[1], f"fit ({name})")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"fit: {name} X must be numeric, got dtype {X.dtype}")
    return X, y
