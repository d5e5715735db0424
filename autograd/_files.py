"""Atomic file writing, shared by save_graph, nn.save and History.plot.

A file is written under a temporary name in its own directory, flushed to disk
(``os.fsync``), and renamed over the target with ``os.replace`` only once it is complete;
the directory is then fsynced so the rename itself survives a power cut. A crash or an
exception never leaves half a file (or removes the previous one). The temporary name
carries the writer's process id: a writer killed mid-write (SIGKILL, power cut) leaves
its temporary file behind, and the next write to the same path removes it (as does
`remove_strays`, which readers call: nn.load, the start of nn.serve).
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


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # ours: another write to the same path may be under way in a thread
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process (or a platform that cannot tell)
    return True


def remove_strays(path: str | os.PathLike[str], suffix: str = ".tmp") -> None:
    """Remove the temporary files that writers of `path` (with this `suffix`) killed midway
    left behind: the next write does it, and so can a reader (nn.load, the server's start).
    A writer still alive keeps its file."""
    path = os.fspath(path)
    _remove_strays(os.path.dirname(os.path.abspath(path)), "." + os.path.basename(path) + ".",
                   suffix)


def _remove_strays(directory: str, prefix: str, suffix: str) -> None:
    """Remove temporary files a killed writer of the same target left behind."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows cannot open a directory; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[BinaryIO]:
    """Yield a binary file open on a temporary file beside `path` (its name ends in
    `suffix`); on success it is fsynced, gets an ordinary file's mode and is renamed over
    `path` (then the directory is fsynced); on any exception it is removed and the
    exception goes on. A missing directory is a FileNotFoundError that names it."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: no directory {directory}")
    prefix = "." + os.path.basename(path) + "."
    _remove_strays(directory, prefix, suffix)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_dir(directory)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise OSError (naming the path) unless a file can be written at `path`: its
    directory exists and is writable, and it is not itself a directory. For commands that
    work a long time before they write (train, then save): check first, fail at once."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: no directory {directory}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"cannot write {path}: the directory {directory} is not "
                              "writable")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` atomically (see `atomic_write`)."""
    with atomic_write(path) as f:
        f.write(data)
