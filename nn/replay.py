"""Replay training: a two-input classifier's decision boundary and loss, epoch by epoch.

    replay = nn.Replay(X, y)              # the training points (two features) and labels
    for epoch in ...:                     # your loop
        ...
        replay.record(model, epoch, loss)
    replay.save_html("xor.html")

or ``nn.fit(..., callbacks=[replay])``, which records a frame after every epoch.

The page is one self-contained file (no network): the loss curve, and the model's
P(class 1) over the plane with the training points on top, at every recorded epoch under a
slider. The probabilities are computed here with the model itself; the page only draws them.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

import numpy as np

from autograd import Value, no_grad
from autograd._files import write_bytes
from autograd.show.template import fill


class Replay:
    """Records `model`'s P(class 1) on a grid over the points' range (padded by `pad`),
    `grid` × `grid` cells, at each `record` call."""

    def __init__(self, X: Any, y: Any, grid: int = 40, pad: float = 0.5) -> None:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[1] != 2:
            raise ValueError(f"Replay draws two-input classifiers: X must be (N, 2), got shape "
                             f"{X.shape}")
        if len(X) == 0:
            raise ValueError("Replay needs at least one training point to draw, got none")
        if not np.all(np.isfinite(X)):
            raise ValueError("Replay: X must be finite numbers (it sets the plane's range)")
        if y.shape != (len(X),):
            raise ValueError(f"Replay: y must hold one label per row of X ({len(X)}), got "
                             f"shape {y.shape}")
        if isinstance(grid, bool) or not isinstance(grid, int) or not 2 <= grid <= 200:
            raise ValueError(f"Replay: grid must be an int from 2 to 200, got {grid!r}")
        self.X, self.y, self.grid = X, y, grid
        lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
        self.extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        xs = np.linspace(lo[0], hi[0], grid)
        ys = np.linspace(hi[1], lo[1], grid)      # top row first, as the picture is drawn
        gx, gy = np.meshgrid(xs, ys)
        self.points = np.column_stack([gx.ravel(), gy.ravel()])
        self.epochs: list[int] = []
        self.losses: list[float] = []
        self.frames: list[list[int]] = []
        self.accuracy: list[float] = []

    def probabilities(self, model: Any, X: Any) -> np.ndarray:
        """P(class 1) for each row of X: softmax of two logits, or sigmoid of one."""
        with no_grad():
            out = model(Value(np.asarray(X, dtype=np.float64)))
        z = np.asarray(out.data if isinstance(out, Value) else out, dtype=np.float64)
        if z.ndim == 2 and z.shape[1] == 2:
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e[:, 1] / e.sum(axis=1)
        if z.ndim == 1 or z.shape[1] == 1:
            return 1 / (1 + np.exp(-z.reshape(-1)))
        raise ValueError(f"Replay: the model must return one or two logits per sample, got "
                         f"shape {z.shape}")

    def record(self, model: Any, epoch: int, loss: Any) -> None:
        """Add a frame: the boundary of `model` now, with this epoch's loss. A loss or an
        output that is not a finite number (training diverged) is refused, naming the
        epoch: the page would otherwise draw garbage or fail to save."""
        loss = float(loss.item() if isinstance(loss, Value) else loss)
        if not np.isfinite(loss):
            raise ValueError(f"Replay.record: the loss at epoch {epoch} is {loss}; training "
                             "diverged (try a smaller learning rate)")
        with np.errstate(all="ignore"):
            p = self.probabilities(model, self.points)
            on_points = self.probabilities(model, self.X)
        if not (np.all(np.isfinite(p)) and np.all(np.isfinite(on_points))):
            raise ValueError(f"Replay.record: the model's outputs at epoch {epoch} are not "
                             "finite numbers (NaN or infinity): training diverged")
        self.frames.append(np.rint(np.clip(p, 0, 1) * 255).astype(int).tolist())
        self.epochs.append(int(epoch))
        self.losses.append(loss)
        self.accuracy.append(float(np.mean((on_points > 0.5).astype(int) == self.y)))

    def on_epoch_end(self, model: Any, epoch: int, logs: dict[str, float]) -> None:
        """As a callback of `nn.fit` (``callbacks=[replay]``): a frame per epoch, with the
        epoch's training loss."""
        self.record(model, epoch, logs["train_loss"])

    def save_html(self, path: str | os.PathLike[str], title: str | None = None) -> Any:
        """Write the replay page and return `path`."""
        if not self.frames:
            raise ValueError("Replay.save_html: nothing recorded yet (call record() each epoch)")
        data = {"title": title or "Training replay", "grid": self.grid, "extent": self.extent,
                "epochs": self.epochs, "losses": self.losses, "accuracy": self.accuracy,
                "frames": self.frames, "points": self.X.tolist(),
                "labels": [int(v) for v in self.y]}
        template = resources.files("nn").joinpath("replay.html").read_text("utf-8")
        write_bytes(path, fill(template, data["title"], data).encode("utf-8"))
        return path
