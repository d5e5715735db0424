"""atomic_write: the file appears whole under its name, or not at all."""

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autograd._files import atomic_write, write_bytes


def test_success_replaces_the_file_with_an_ordinary_mode(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(target, suffix=".bin") as f:
        f.write(b"new")
        assert target.read_bytes() == b"old"  # not visible until the block ends
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_an_exception_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as f:
        f.write(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_file_and_directory_are_fsynced_around_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode)))
        real_fsync(fd)

    def replace(a, b):
        events.append(("replace", None))
        real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with atomic_write(tmp_path / "out.bin") as f:
        f.write(b"data")
    # the file's bytes reach the disk before the rename, the rename before we return
    assert events == [("fsync", False), ("replace", None), ("fsync", True)]


_KILLED_WRITER = """
import os, signal, sys
from autograd._files import atomic_write, write_bytes
with atomic_write(sys.argv[1], suffix=".npz") as f:
    f.write(b"half a model")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_writer_killed_mid_write_leaves_a_stray_the_next_write_removes(tmp_path):
    target = tmp_path / "model.npz"
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(target)],
                          cwd=Path(__file__).resolve().parents[2], timeout=60, check=False)
    assert proc.returncode == -signal.SIGKILL
    strays = [p.name for p in tmp_path.iterdir()]
    assert len(strays) == 1 and strays[0].startswith(".model.npz.") and not target.exists()
    other = tmp_path / ".other.npz.1.x.npz"  # another target's temporary: not ours to touch
    other.write_bytes(b"")
    with atomic_write(target, suffix=".npz") as f:
        f.write(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "model.npz"]
    assert target.read_bytes() == b"whole"


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_write(target) as f1:  # a second write to the same path while one is open
        f1.write(b"first")
        with atomic_write(target) as f2:
            f2.write(b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_missing_directory_is_named_and_nothing_is_written(tmp_path):
    target = tmp_path / "nowhere" / "model.npz"
    with pytest.raises(FileNotFoundError, match=f"no directory {tmp_path / 'nowhere'}"):
        write_bytes(target, b"data")
    assert not (tmp_path / "nowhere").exists()
