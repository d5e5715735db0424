"""Data sets and mini-batches as PyTorch spells them: `Dataset`, `TensorDataset`, `DataLoader`.

    ds = nn.data.TensorDataset(X, y)                  # sample i is (X[i], y[i])
    loader = nn.data.DataLoader(ds, batch_size=32, shuffle=True, seed=0)
    for xb, yb in loader: ...                         # or nn.fit(model, loss, opt, loader)

A `Dataset` is anything with ``len(ds)`` and ``ds[i]``; the loader draws the indices of each
mini-batch (a new random order every pass when ``shuffle=True``, from one Generator seeded
by `seed`, so two loaders with the same seed give the same batches) and stacks the samples
into arrays ("collate"). `TensorDataset` hands over a whole batch at once (one fancy index
per array, not one Python call per sample): the same arrays default_collate would stack.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from autograd import Value

from ._checks import Seed, generator, positive_int

__all__ = ["DataLoader", "Dataset", "TensorDataset", "default_collate"]


class Dataset:
    """The base of a map-style data set: override ``__getitem__(i)`` (one sample) and
    ``__len__()`` (how many), as ``torch.utils.data.Dataset``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")


class TensorDataset(Dataset):
    """Sample i is ``(a[i], b[i], ...)`` for the arrays given, which share their first axis
    (as ``torch.utils.data.TensorDataset``). Arrays, lists or Values (their data)."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        arrays = [np.asarray(t.data if isinstance(t, Value) else t) for t in tensors]
        sizes = [a.shape[0] if a.ndim else None for a in arrays]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"TensorDataset: every array needs the same first axis (one row "
                             f"per sample), got shapes {shapes}")
        self.tensors = tuple(arrays)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(a[index] for a in self.tensors)

    def _batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """A whole batch at once: each array indexed by the batch's indices (what stacking
        the samples one by one would give)."""
        return tuple(a[indices] for a in self.tensors)


def default_collate(samples: list[Any]) -> Any:
    """Samples to one batch, as torch's default_collate: tuples field by field, dicts key by
    key, numbers and arrays stacked along a new first axis (Values by their data)."""
    first = samples[0]
    if isinstance(first, tuple | list):
        if any(len(s) != len(first) for s in samples):
            raise ValueError(f"DataLoader: samples have different numbers of fields "
                             f"({sorted({len(s) for s in samples})}); each sample must be "
                             f"the same kind of tuple")
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, Mapping):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    arrays = [np.asarray(s.data if isinstance(s, Value) else s) for s in samples]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"DataLoader: samples of different shapes {sorted(shapes)} cannot be "
                         f"stacked into one batch")
    return np.stack(arrays)


class DataLoader:
    """Mini-batches of `dataset`: ``batch_size`` samples each (the last one smaller unless
    ``drop_last``), in order or, with ``shuffle=True``, in a new random order every pass
    drawn from a Generator seeded once by `seed` (an int, a Generator, or None for fresh
    entropy). ``len(loader)`` is the number of batches per pass. As torch's DataLoader
    (without worker processes: batches are made in this process)."""

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 seed: Seed = None, drop_last: bool = False, collate_fn: Any = None) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader needs a data set with __getitem__ and __len__ "
                            f"(nn.data.TensorDataset(X, y), or a Dataset subclass), got "
                            f"{type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = positive_int(batch_size, "DataLoader: batch_size")
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.rng = generator(seed, "DataLoader: seed")
        self.collate_fn = default_collate if collate_fn is None else collate_fn

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        whole = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for start in range(0, stop, self.batch_size):
            index = order[start:start + self.batch_size]
            if whole:
                yield self.dataset._batch(index)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in index])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
