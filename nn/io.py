"""Saving and loading models: one ``.npz`` file holding the weights and the architecture.

The archive holds one array per parameter (``param/layers.0.w``...) and ``__model__``, a
JSON text naming the format, the class and its constructor arguments. Loading rebuilds
the class from that record and copies the weights in, so no pickled code is ever run.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from autograd._files import atomic_write

from .module import REGISTRY, Module

FORMAT = "nn-autograd-model"
VERSION = 1
_META = "__model__"
_PREFIX = "param/"


class ModelFileError(ValueError):
    """A file that is not a saved model, or holds a different architecture than asked for."""


def save(model: Module, path: str | os.PathLike) -> str:
    """Write `model` to `path` (exactly that name) atomically: a temporary file in the same
    directory, then ``os.replace``, so a crash never leaves half a file. Returns the path."""
    if not isinstance(model, Module):
        raise TypeError(f"save() needs a Module, got {type(model).__name__}")
    path = os.fspath(path)
    meta = {"format": FORMAT, "version": VERSION, "class": type(model).__name__,
            "config": model.config()}
    arrays = {_PREFIX + name: arr for name, arr in model.state_dict().items()}
    arrays[_META] = np.array(json.dumps(meta))
    with atomic_write(path, suffix=".npz") as f:
        np.savez(f, **arrays)
    return path


def read(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The architecture record and the weights stored in a model file, checked."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError):
        raise ModelFileError(f"{path!r} is not a model file saved by nn (it is not an .npz "
                             "archive)") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{path!r} is a single .npy array, not a model file saved by nn")
    with archive:
        if _META not in archive.files:
            raise ModelFileError(f"{path!r} is an .npz archive but not a model saved by nn: it "
                                 f"has no {_META!r} record (arrays: {archive.files[:5]})")
        try:
            meta = json.loads(str(archive[_META]))
        except (ValueError, TypeError) as e:
            raise ModelFileError(f"{path!r}: the architecture record is not valid JSON: {e}") \
                from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ModelFileError(f"{path!r} does not hold a model in the {FORMAT!r} format")
        if meta.get("version") != VERSION:
            raise ModelFileError(f"{path!r} has format version {meta.get('version')!r}; this "
                                 f"nn reads version {VERSION}")
        weights = {name[len(_PREFIX):]: archive[name] for name in archive.files
                   if name.startswith(_PREFIX)}
    return meta, weights


def load(path: str | os.PathLike, expect: type[Module] | None = None) -> Module:
    """Rebuild the model saved at `path`. With `expect` (as ``MLP.load`` passes), a file
    holding another class is refused."""
    meta, weights = read(path)
    name = meta.get("class")
    if expect is not None and name != expect.__name__:
        raise ModelFileError(f"{os.fspath(path)!r} holds a model of class {name}, not "
                             f"{expect.__name__}; use nn.load() to load any model")
    cls = REGISTRY.get(name)
    if cls is None:
        raise ModelFileError(f"{os.fspath(path)!r} holds an unknown model class {name!r}")
    config = meta.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"{os.fspath(path)!r}: the architecture record has no config")
    try:
        model = cls.from_config(config)
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"{os.fspath(path)!r}: cannot build {name} from {config}: {e}") \
            from None
    try:
        model.load_state_dict(weights)
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"{os.fspath(path)!r}: the weights do not fit the {name} it "
                             f"describes: {e}") from None
    return model
