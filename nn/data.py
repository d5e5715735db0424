"""Data preparation: the document's Phase 2 ("Data Preprocessing").

- `split`: training (70%), validation (15%) and test (15%) parts, disjoint, the same for
  the same seed, optionally stratified (each class keeps its share in every part).
- `batches`: mini-batches of a data set, shuffled with their own seed; the last partial
  batch is kept. `Dataset`, `TensorDataset` and `DataLoader` are the same as torch spells
  them (nn/dataloader.py).
- `load_digits`: scikit-learn's 8×8 handwritten digits, scaled to [0, 1] (the demos' data).
- `scale_pixels` ([0, 255] to [0, 1]) and `Standardizer` (per-feature mean and standard
  deviation, fitted on the training part only, then applied to every part); `Standardizer`
  and `ScalePixels` are also modules, so the preprocessing can be a model's first step and
  travel inside its saved file.
- Image augmentations on ``(N, H, W)`` arrays: `flip`, `shift`, `rotate`, `noise`,
  `brightness`. Each is a pure function of the images and a ``numpy.random.Generator``:
  it returns new images and never changes its input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from autograd import Value

from ._checks import extra_hint, generator, install_hint, positive_int
from .dataloader import DataLoader, Dataset, TensorDataset
from .module import Module

__all__ = [
    "DataLoader",
    "Dataset",
    "ScalePixels",
    "Standardizer",
    "TensorDataset",
    "batches",
    "brightness",
    "compose",
    "flip",
    "load_digits",
    "noise",
    "one_hot",
    "rotate",
    "scale_pixels",
    "shift",
    "split",
]

Pair = tuple[np.ndarray, np.ndarray]


def _as_pair(X: Any, y: Any, where: str) -> Pair:
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{where}: X and y must be arrays with one row per sample, "
                         f"got shapes {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{where}: X and y must have the same number of rows (samples), "
                         f"got {len(X)} and {len(y)}")
    return X, y


def _counts(n: int, fractions: np.ndarray) -> np.ndarray:
    """Split n items into parts by fractions, rounding the cumulative boundaries so the
    parts always add up to n."""
    bounds = np.rint(np.cumsum(fractions) * n).astype(int)
    bounds[-1] = n
    return np.diff(np.concatenate([[0], bounds]))


def split(X: Any, y: Any, fractions: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0,
          *, stratify: bool = False) -> tuple[Pair, ...]:
    """Shuffle the samples and cut them into parts: ``(train, val, test)``, each an
    ``(X, y)`` pair, for the default three fractions.

    The parts are disjoint and cover every sample; the same seed gives the same parts.
    With ``stratify=True`` every class is split by the same fractions on its own, so each
    part keeps the class proportions of the whole (to within one sample per class).
    """
    X, y = _as_pair(X, y, "split")
    f = np.asarray(fractions, dtype=float)
    if f.ndim != 1 or len(f) < 2 or np.any(f < 0) or not np.isclose(f.sum(), 1.0):
        raise ValueError(f"split: fractions must be two or more non-negative numbers adding "
                         f"up to 1, e.g. (0.7, 0.15, 0.15); got {tuple(fractions)}")
    rng = generator(seed, "split: seed")
    parts: list[list[np.ndarray]] = [[] for _ in f]
    if stratify:
        if y.ndim != 1:
            raise ValueError(f"split: stratify=True needs y as one class label per sample "
                             f"(1-D), got shape {y.shape}")
        for label in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == label))
            for k, piece in enumerate(np.split(idx, np.cumsum(_counts(len(idx), f))[:-1])):
                parts[k].append(piece)
        order = [rng.permutation(np.concatenate(p)) for p in parts]
    else:
        idx = rng.permutation(len(X))
        order = np.split(idx, np.cumsum(_counts(len(X), f))[:-1])
    return tuple((X[i], y[i]) for i in order)


def batches(X: Any, y: Any, batch_size: int, shuffle: bool = True,
            seed: int | np.random.Generator | None = None) -> Iterator[Pair]:
    """Yield ``(X_batch, y_batch)`` of `batch_size` rows; the last batch holds what is left.

    With ``shuffle=True`` the order is a random permutation drawn from `seed` (an int or a
    Generator; the same int gives the same order, None a fresh one each time)."""
    X, y = _as_pair(X, y, "batches")
    batch_size = positive_int(batch_size, "batches: batch_size")
    n = len(X)
    order = generator(seed, "batches: seed").permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        i = order[start:start + batch_size]
        yield X[i], y[i]


def one_hot(y: Any, num_classes: int | None = None) -> np.ndarray:
    """Class indices to one-hot rows: 1 -> [0, 1] for two classes (the document's
    "True label: "1" -> [1, 0]" orders its classes the other way round: pass the index
    your network uses for each class)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu" and not (
            y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ValueError(f"one_hot: y must be a 1-D array of integer class indices, got "
                         f"shape {y.shape} dtype {y.dtype}")
    y = y.astype(int)
    k = int(y.max()) + 1 if num_classes is None and len(y) else int(num_classes or 0)
    if len(y) and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"one_hot: class indices must lie in [0, {k}), got {y.min()}..{y.max()}")
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


# ---- normalisation ---------------------------------------------------------------------

def scale_pixels(X: Any, max_value: float = 255.0) -> np.ndarray:
    """Pixel values from [0, max_value] to [0, 1] ("divide by 255"), as float64."""
    X = np.asarray(X, dtype=np.float64)
    if max_value <= 0:
        raise ValueError(f"scale_pixels: max_value must be positive, got {max_value}")
    return X / float(max_value)


def load_digits(scaled: bool = True) -> Pair:
    """scikit-learn's 1,797 handwritten digits (8×8 images shipped inside its package, no
    download) as (X, y): X of shape (1797, 64) with pixels scaled from 0..16 to [0, 1]
    (``scaled=False``: the raw pixels 0..16, for a model that scales them itself), y the
    digits 0-9. Raises ImportError saying what to install when scikit-learn is missing."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError(f"the digits data set comes with scikit-learn, which is not "
                          f"installed: {install_hint('scikit-learn')}  (or, in a checkout: "
                          f"{extra_hint('demos')})") from None
    digits = sklearn_digits()
    if not scaled:
        return digits.data.astype(np.float64), digits.target
    return scale_pixels(digits.data, max_value=16.0), digits.target


def _as_value(x: Any) -> Value:
    """A module's input as a Value: a Value as it is (gradients reach it), float32 arrays
    kept float32, anything else float64."""
    if isinstance(x, Value):
        return x
    a = np.asarray(x)
    return Value(a if a.dtype in (np.float32, np.float64) else a.astype(np.float64),
                 requires_grad=False)


class Standardizer(Module):
    """Per-feature standardisation: ``(x - mean) / std`` with the mean and standard
    deviation of the *training* data only, so no information from the validation or test
    parts leaks into training. Features that are constant in training get std 1.

    It is also a module: put the fitted Standardizer first in the model,
    ``nn.Sequential(scaler, nn.Layer(...), ...)``, and the model takes raw inputs; the
    statistics are buffers, saved in the same ``.npz`` (and applied by ``nn.serve``).
    `shape` (the shape of one sample) only matters to a model rebuilt from a file."""

    def __init__(self, shape: int | Sequence[int] | None = None) -> None:
        super().__init__()
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        if shape is not None:
            shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
            self._keep(np.zeros(shape), np.ones(shape))

    def _keep(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    @property
    def nin(self) -> int | None:
        """The number of features of a flat sample (what a server checks each row for)."""
        return int(self.mean.shape[0]) if self.mean is not None and self.mean.ndim == 1 \
            else None

    def fit(self, X: Any) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim < 2 or len(X) == 0:
            raise ValueError(f"Standardizer.fit: X must have one row per sample (2-D or more) "
                             f"and at least one row, got shape {X.shape}")
        std = X.std(axis=0)
        self._keep(X.mean(axis=0), np.where(std > 0, std, 1.0))
        return self

    def _check(self, X: Any) -> np.ndarray:
        if self.mean is None:
            raise RuntimeError("Standardizer: call fit(X_train) before transform")
        X = np.asarray(X, dtype=np.float64)
        if X.shape[1:] != self.mean.shape:
            raise ValueError(f"Standardizer: fitted on samples of shape {self.mean.shape}, "
                             f"got samples of shape {X.shape[1:]}")
        return X

    def transform(self, X: Any) -> np.ndarray:
        return (self._check(X) - self.mean) / self.std

    def fit_transform(self, X: Any) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        return self._check(X) * self.std + self.mean

    def forward(self, x: Any) -> Value:
        """The model's first step: the same numbers as `transform`, as a Value (a float32
        input stays float32)."""
        if self.mean is None:
            raise RuntimeError("Standardizer: call fit(X_train) before using it in a model")
        x = _as_value(x)
        if x.shape[-self.mean.ndim:] != self.mean.shape:
            raise ValueError(f"Standardizer: fitted on samples of shape {self.mean.shape}, "
                             f"got input of shape {x.shape}")
        return (x - self.mean.astype(x.dtype)) / self.std.astype(x.dtype)

    def config(self) -> dict[str, Any]:
        return {"shape": None if self.mean is None else list(self.mean.shape)}

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        shape = config.get("shape")
        if shape is None:
            return {}
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return {"mean": shape, "std": shape}

    def extra_repr(self) -> str:
        return "not fitted" if self.mean is None else f"{self.mean.shape} per sample"


class ScalePixels(Module):
    """Pixel scaling as a model's first module: ``x / max_value`` ([0, max_value] to
    [0, 1]), the same numbers as `scale_pixels`, saved with the model."""

    def __init__(self, max_value: float = 255.0) -> None:
        super().__init__()
        if isinstance(max_value, bool) or not isinstance(max_value, int | float | np.number) \
                or not 0 < max_value < np.inf:
            raise ValueError(f"ScalePixels: max_value must be a positive number, "
                             f"got {max_value!r}")
        self.max_value = float(max_value)

    def forward(self, x: Any) -> Value:
        return _as_value(x) / self.max_value

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        return {}

    def extra_repr(self) -> str:
        return f"max_value={self.max_value}"


# ---- augmentation ----------------------------------------------------------------------

def _images(images: Any, rng: Any, where: str) -> np.ndarray:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{where}: rng must be a numpy.random.Generator "
                        f"(np.random.default_rng(seed)), got {type(rng).__name__}")
    x = np.asarray(images)
    if x.ndim != 3:
        raise ValueError(f"{where}: images must be an (N, H, W) array, got shape {x.shape}; "
                         "reshape flat rows first, e.g. X.reshape(-1, 8, 8)")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{where}: images must be numeric, got dtype {x.dtype}")
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _clip(x: np.ndarray, clip: tuple[float, float] | None) -> np.ndarray:
    return x if clip is None else np.clip(x, clip[0], clip[1])


def flip(images: Any, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability `p`."""
    x = _images(images, rng, "flip")
    which = rng.random(len(x)) < p
    out = x.copy()
    out[which] = x[which, :, ::-1]
    return out


def shift(images: Any, rng: np.random.Generator, max_shift: int = 1,
          fill: float = 0.0) -> np.ndarray:
    """Move each image by a random whole number of pixels, up to `max_shift` in each
    direction (rows and columns drawn separately); pixels moved in are `fill`."""
    x = _images(images, rng, "shift")
    if max_shift < 0:
        raise ValueError(f"shift: max_shift must be >= 0, got {max_shift}")
    n, h, w = x.shape
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    out = np.full_like(x, fill)
    for k in range(n):
        a, b = int(dy[k]), int(dx[k])
        if abs(a) >= h or abs(b) >= w:
            continue
        out[k, max(a, 0):h + min(a, 0), max(b, 0):w + min(b, 0)] = \
            x[k, max(-a, 0):h + min(-a, 0), max(-b, 0):w + min(-b, 0)]
    return out


def rotate(images: Any, rng: np.random.Generator, max_degrees: float = 10.0,
           fill: float = 0.0) -> np.ndarray:
    """Turn each image about its centre by a random angle in [-max_degrees, max_degrees]
    (bilinear interpolation; pixels from outside the image are `fill`)."""
    x = _images(images, rng, "rotate")
    n, h, w = x.shape
    angles = np.deg2rad(rng.uniform(-max_degrees, max_degrees, size=n))
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
    out = np.empty_like(x)
    for k in range(n):
        c, s = np.cos(angles[k]), np.sin(angles[k])
        # where each output pixel comes from: the inverse rotation of its position
        sy = c * yy + s * xx + cy
        sx = -s * yy + c * xx + cx
        sy = np.clip(sy, -1.0, h) + 1.0  # into padded coordinates; outside reads `fill`
        sx = np.clip(sx, -1.0, w) + 1.0
        y0 = np.minimum(np.floor(sy).astype(int), h)
        x0 = np.minimum(np.floor(sx).astype(int), w)
        fy, fx = sy - y0, sx - x0
        p = padded[k]
        out[k] = ((1 - fy) * (1 - fx) * p[y0, x0] + (1 - fy) * fx * p[y0, x0 + 1]
                  + fy * (1 - fx) * p[y0 + 1, x0] + fy * fx * p[y0 + 1, x0 + 1])
    return out


def noise(images: Any, rng: np.random.Generator, std: float = 0.05,
          clip: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """Add Gaussian noise of standard deviation `std` to every pixel, then clip to `clip`
    (None: no clipping)."""
    x = _images(images, rng, "noise")
    if std < 0:
        raise ValueError(f"noise: std must be >= 0, got {std}")
    return _clip(x + rng.normal(0.0, std, size=x.shape).astype(x.dtype), clip)


def brightness(images: Any, rng: np.random.Generator, max_delta: float = 0.2,
               clip: tuple[float, float] | None = (0.0, 1.0)) -> np.ndarray:
    """Make each image brighter or darker: add one random number in
    [-max_delta, max_delta] to all its pixels, then clip to `clip` (None: no clipping)."""
    x = _images(images, rng, "brightness")
    delta = rng.uniform(-max_delta, max_delta, size=(len(x), 1, 1)).astype(x.dtype)
    return _clip(x + delta, clip)


def compose(*augmentations: Callable[[np.ndarray, np.random.Generator], np.ndarray]
            ) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """One augmentation applying several in turn with the same Generator, e.g.
    ``compose(shift, lambda x, r: noise(x, r, std=0.1))``."""
    def apply(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for aug in augmentations:
            images = aug(images, rng)
        return images
    return apply
