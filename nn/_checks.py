"""Argument checks shared by every part of nn: written once, so every layer, loader and
training loop refuses bad sizes, seeds and dtypes with the same clear message."""

from __future__ import annotations

from typing import Any

import numpy as np

Seed = int | np.random.Generator | None


def positive_int(n: Any, name: str, minimum: int = 1) -> int:
    """`n` as an int, refused (ValueError naming `name`) unless it is an integer (not a
    bool) of at least `minimum`; ``minimum=0`` accepts zero."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        kind = "a positive integer" if minimum == 1 else \
            "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {n!r}")
    return int(n)


def generator(seed: Seed, name: str = "seed") -> np.random.Generator:
    """A numpy Generator from `seed`: a Generator is used as it is (shared), an int seeds a
    new one (the same int, the same numbers), None draws fresh entropy."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise TypeError(f"{name} must be an int, a numpy Generator or None, "
                        f"got {type(seed).__name__}")
    return np.random.default_rng(seed)


def float_dtype(dtype: Any) -> np.dtype:
    """float64 or float32 as a numpy dtype; anything else is refused."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float64 or float32, got {dtype!r}") from None
    if dt not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dt}")
    return dt


def python_command() -> str:
    """The command that runs this interpreter, as a user would type it: ``.venv/bin/python``
    when it is the venv under the current directory, else its full path. Every "install
    this" message names it, so the advice installs into the interpreter that needs it."""
    import os
    import sys
    exe = sys.executable or "python3"
    try:
        rel = os.path.relpath(exe)
    except ValueError:  # another drive (Windows)
        return exe
    return rel if not rel.startswith("..") else exe


def install_hint(what: str) -> str:
    """``<this python> -m pip install <what>``."""
    return f"{python_command()} -m pip install {what}"


def extra_hint(extra: str) -> str:
    """How to add one of the project's extras (``demos``, ``interop``...) from a checkout,
    into this interpreter."""
    return install_hint(f"-e '.[{extra}]'")
