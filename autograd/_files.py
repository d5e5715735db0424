"""Atomic file writing, shared by save_graph, nn.save and History.plot.

A file is written under a temporary name in its own directory and renamed over the target
with ``os.replace`` only once it is complete, so a crash or an exception never leaves half
a file (or removes the previous one).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[BinaryIO]:
    """Yield a binary file open on a temporary file beside `path` (its name ends in
    `suffix`); on success it gets an ordinary file's mode and is renamed over `path`, on any
    exception it is removed and the exception goes on."""
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix,
                               dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
