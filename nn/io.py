"""Saving and loading models, the public names: `save`, `load` (`nn.load`), `read`.

The file format and its checks live in `nn/model_file.py` (which knows nothing of
modules); rebuilding a model from a file, through the registry of classes, lives in
`nn/module.py` beside the registry (`Module.save`, `Module.load`, `load`). This module
only gathers them (it imports both; neither imports it).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import model_file
from .model_file import FORMAT, MAX_DEPTH, VERSION, ModelFileError  # noqa: F401
from .module import Module, load  # noqa: F401


def save(model: Module, path: str | os.PathLike) -> str:
    """Write `model` to `path` atomically (``model.save(path)``); returns the path."""
    if not isinstance(model, Module):
        raise TypeError(f"save() needs a Module, got {type(model).__name__}")
    return model.save(path)


def read(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The architecture record and the weights stored in a model file, checked (without
    the architecture's shapes: no class is looked up)."""
    return model_file.read(path, lambda record: None)
