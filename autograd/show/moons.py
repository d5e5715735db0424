"""``python -m autograd.playground moons``: a two-input classifier trained live, drawn as
TensorFlow Playground draws one.

The data: two interleaved half circles ("two moons") with Gaussian noise, made with numpy
from a seed (200 training and 200 test points). The model: ``h = act(W1 x + b1)`` with a
chosen width and activation (tanh, relu, sigmoid), ``z = W2 h + b2``, ``P(class 1) =
sigmoid(z)``, trained by full-batch SGD on the binary cross-entropy
``L = mean((1 - y) z + log(1 + e^(-z)))`` (the stable form of
``-[y log p + (1 - y) log(1 - p)]``). The engine computes everything the page shows: the
loss, the accuracies, the decision boundary (P(class 1) on a grid over the plane) and each
hidden neuron's output on that grid. The page only paints the numbers it is sent.

API (JSON in and out; a bad request is a 4xx with ``{"error": ...}``):

- ``GET /api/state`` → the whole picture;
- ``POST /api/config`` with any of ``{"seed", "noise", "width", "activation", "lr"}``
  (and optionally ``"weights"``: ``{"W1", "b1", "W2", "b2"}``) → new data and weights;
- ``POST /api/step`` with ``{"lr": 0.5, "steps": 25}`` → that many SGD steps, their losses
  and the new picture.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from ..engine import Value, no_grad
from ..ops.functions import stack
from .playground import BadRequest

ACTIVATIONS = ("tanh", "relu", "sigmoid")
GRID = 32                        # the plane is drawn as GRID × GRID probabilities
EXTENT = (-1.6, 2.6, -1.1, 1.6)  # x from, x to, y from, y to: the moons and a margin
MAX_STEPS = 500                  # SGD steps one request may ask for
MAX_WIDTH = 16                   # hidden neurons
MAX_CURVE = 2000                 # losses kept for the curve (the latest)
DEFAULTS = {"seed": 0, "noise": 0.1, "width": 8, "activation": "tanh", "lr": 0.5}


def two_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` points on two half circles (class 0 on top, class 1 below and shifted), with
    Gaussian noise of spread `noise`; returns (points (n, 2), labels (n,) of 0.0/1.0)."""
    t = rng.uniform(0.0, math.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label == 0, np.cos(t), 1.0 - np.cos(t))
    y = np.where(label == 0, np.sin(t), 0.5 - np.sin(t))
    return np.stack([x, y], axis=1) + rng.normal(0.0, noise, (n, 2)), label.astype(np.float64)


def grid_points() -> np.ndarray:
    """The GRID × GRID points (row-major, top row first) the boundary is computed on."""
    x0, x1, y0, y1 = EXTENT
    xs = np.linspace(x0, x1, GRID)
    ys = np.linspace(y1, y0, GRID)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _check(config: dict[str, Any]) -> dict[str, Any]:
    """A client's settings, checked one by one (a clear 400 naming the bad one)."""
    out = dict(config)
    seed = out["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise BadRequest(f'"seed" must be a whole number from 0 to {2**32 - 1}, got {seed!r:.40}')
    noise = out["noise"]
    if isinstance(noise, bool) or not isinstance(noise, int | float) or \
            not (math.isfinite(noise) and 0 <= noise <= 1):
        raise BadRequest(f'"noise" must be a number from 0 to 1, got {noise!r:.40}')
    width = out["width"]
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= MAX_WIDTH:
        raise BadRequest(f'"width" (hidden neurons) must be a whole number from 1 to '
                         f"{MAX_WIDTH}, got {width!r:.40}")
    if out["activation"] not in ACTIVATIONS:
        raise BadRequest(f'"activation" must be one of {", ".join(ACTIVATIONS)}, got '
                         f"{str(out['activation'])[:40]!r}")
    out["lr"] = _lr(out["lr"])
    out["noise"] = float(noise)
    return out


def _lr(lr: Any) -> float:
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr) \
            or not 0 < lr <= 100:
        raise BadRequest(f'"lr" must be a positive number up to 100, got {str(lr)[:40]}')
    return float(lr)


class Moons:
    """The data, the network's weights and its settings; every number from the engine."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.configure({})

    def configure(self, changes: Any) -> None:
        """New settings: the data from (seed, noise), fresh weights from (seed, width),
        unless `changes` also gives "weights" (a shared link's exact state)."""
        if not isinstance(changes, dict):
            raise BadRequest("the request body must be a JSON object of settings")
        unknown = set(changes) - set(DEFAULTS) - {"weights"}
        if unknown:
            raise BadRequest(f"no setting named {min(unknown)[:40]!r}; the settings are "
                             f"{', '.join(DEFAULTS)} and weights")
        config = _check({**getattr(self, "config", DEFAULTS), **{k: v for k, v in
                         changes.items() if k in DEFAULTS}})
        rng = np.random.default_rng(config["seed"])
        points, labels = two_moons(400, config["noise"], rng)
        h = config["width"]
        weights = {"W1": rng.normal(0.0, 1.0, (h, 2)), "b1": np.zeros(h),
                   "W2": rng.normal(0.0, 1.0 / math.sqrt(h), (1, h)), "b2": np.zeros(1)}
        if "weights" in changes:
            weights = self._given_weights(changes["weights"], weights)
        self.config = config
        self.train = (points[:200], labels[:200])
        self.test = (points[200:], labels[200:])
        self.weights = weights
        self.losses: list[float] = []
        self.steps_done = 0

    @staticmethod
    def _given_weights(given: Any, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not isinstance(given, dict) or set(given) != set(like):
            raise BadRequest('"weights" must be an object with W1, b1, W2 and b2')
        out = {}
        for name, old in like.items():
            try:
                arr = np.array(given[name], dtype=np.float64)
            except (TypeError, ValueError, OverflowError, RecursionError):
                raise BadRequest(f"{name} must be a list of numbers") from None
            if arr.size != old.size or not np.all(np.isfinite(arr)):
                raise BadRequest(f"{name} needs {old.size} finite numbers for this width, "
                                 f"got {arr.size}")
            out[name] = arr.reshape(old.shape)
        return out

    def forward(self, points: np.ndarray, params: dict[str, Value]) -> tuple[Value, Value]:
        """The hidden outputs (n, width) and the logits (n,) of the points."""
        h = getattr(Value(points) @ params["W1"].T + params["b1"], self.config["activation"])()
        return h, (h @ params["W2"].T + params["b2"]).reshape(-1)

    def loss(self, params: dict[str, Value]) -> Value:
        """Binary cross-entropy on the training points, written stably from the logits."""
        points, y = self.train
        _, z = self.forward(points, params)
        softplus = stack([np.zeros(z.shape), -z], axis=-1).logsumexp(axis=-1)  # log(1 + e^-z)
        return ((1.0 - y) * z + softplus).mean()

    def step(self, lr: Any, steps: Any) -> list[float]:
        """`steps` SGD updates, w ← w - lr × dL/dw; returns the loss before each update.
        A step whose weights would not be finite is refused (422) and nothing changes."""
        lr = self.config["lr"] if lr is None else _lr(lr)
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
            raise BadRequest(f'"steps" must be a whole number from 1 to {MAX_STEPS}, got '
                             f"{steps!r:.40}")
        weights, losses = self.weights, []
        for _ in range(steps):
            params = {k: Value(v) for k, v in weights.items()}
            L = self.loss(params)
            L.backward()
            losses.append(float(L.data))
            with np.errstate(all="ignore"):
                weights = {k: v - lr * params[k].grad for k, v in weights.items()}
            if not all(np.all(np.isfinite(w)) for w in weights.values()) or \
                    not math.isfinite(losses[-1]):
                raise BadRequest(f"a step with lr = {lr:g} makes the weights overflow; nothing "
                                 "was changed (use a smaller learning rate)", 422)
        self.weights, self.config["lr"] = weights, lr
        self.losses = (self.losses + losses)[-MAX_CURVE:]
        self.steps_done += steps
        return losses

    def state(self) -> dict[str, Any]:
        """Everything the page draws, computed here by the engine."""
        with no_grad():
            params = {k: Value(v) for k, v in self.weights.items()}
            hidden, z = self.forward(grid_points(), params)
            p_grid = z.sigmoid().data
            loss = float(self.loss(params).data)
            acc = {}
            for name, (points, y) in (("train", self.train), ("test", self.test)):
                acc[name] = float(np.mean((self.forward(points, params)[1].data > 0) == (y > 0.5)))
        return {
            "config": dict(self.config), "steps_done": self.steps_done, "loss": loss,
            "accuracy": acc, "losses": self.losses,
            "grid": {"size": GRID, "extent": list(EXTENT),
                     "p": np.round(p_grid, 4).tolist(),
                     "hidden": np.round(hidden.data.T, 4).tolist()},
            "weights": {k: v.ravel().tolist() for k, v in self.weights.items()},
            "train": {"points": np.round(self.train[0], 4).tolist(),
                      "labels": self.train[1].astype(int).tolist()},
            "test": {"points": np.round(self.test[0], 4).tolist(),
                     "labels": self.test[1].astype(int).tolist()},
        }
