"""`History`: what `fit` measured, epoch by epoch, and its picture.

``history["train_loss"]`` should fall steadily; ``history["val_loss"]`` tells whether the
network generalises ("If validation loss stops decreasing while training loss keeps
dropping, you are overfitting"). `History.plot` draws both, and the metrics beside them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from autograd._files import atomic_write

from ._checks import extra_hint, install_hint

__all__ = ["History", "save_figure"]

_TRAIN, _VAL = "C0", "C1"  # one colour per data set, the same in both panels
_PLOT_HINT = (f"History.plot needs matplotlib, which is not installed. Install it with "
              f"`{install_hint('matplotlib')}` (or this project's `plot` extra: "
              f"`{extra_hint('plot')}`).")


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

    @property
    def interrupted(self) -> bool:
        """True when Ctrl-C ended training (``stop_reason == "interrupted"``): the numbers
        are those of an unfinished run."""
        return self.stop_reason == "interrupted"

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

    def _metric_curves(self) -> list[tuple[str, str, str, str]]:
        """(key, legend label, colour, line style) per metric curve: colour says which data
        (training blue, validation orange, as in the loss panel), line style which metric."""
        has_val = bool(self.history["val_loss"])
        names = [k for k in self.history if k not in ("train_loss", "val_loss")
                 and not k.startswith("train_") and self.history[k]]
        curves = []
        for i, name in enumerate(names):
            style = _styles()[i % 4]
            if has_val:
                curves.append((name, f"validation {name}", _VAL, style))
                if self.history.get(f"train_{name}"):
                    curves.append((f"train_{name}", f"training {name}", _TRAIN, style))
            else:
                curves.append((name, f"training {name}", _TRAIN, style))
        return curves

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
        curves = self._metric_curves()
        fig = Figure(figsize=(10 if curves else 6, 4), layout="constrained")
        axes = fig.subplots(1, 2 if curves else 1, squeeze=False)[0]
        ax = axes[0]
        ax.plot(self.epochs, self.history["train_loss"], color=_TRAIN, label="training loss")
        if self.history["val_loss"]:
            ax.plot(self.epochs, self.history["val_loss"], color=_VAL, label="validation loss")
        for a in axes:
            if self.best_epoch is not None:
                a.axvline(self.best_epoch, color="grey", linestyle=":",
                          label=f"best epoch ({self.best_epoch})")
            a.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(title or "Training and validation loss")
        ax.legend()
        if curves:
            for key, label, color, style in curves:
                axes[1].plot(self.epochs, self.history[key], color=color, linestyle=style,
                             label=label)
            axes[1].set_title("Metrics" + (" (validation data)" if self.history["val_loss"]
                                           else " (training batches)"))
            axes[1].legend()
        if path is None:
            return fig
        return save_figure(fig, path)


def _styles() -> list[str]:
    return ["-", "--", "-.", ":"]


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

