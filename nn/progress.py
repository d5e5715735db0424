"""What `fit` shows while it runs, and how it stops cleanly on Ctrl-C.

`Progress` prints the document's ``Epoch 10: train loss 0.143, val loss 0.151, ...`` line per
epoch (updating in place on a terminal); `CtrlC` turns the first Ctrl-C into a request to
stop after the current step.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, TextIO

__all__ = ["CtrlC", "Progress", "fmt"]


def fmt(v: float) -> str:
    return f"{v:.3f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3g}"


class Progress:
    """The progress display: on a terminal one line per epoch that updates in place
    ("\\r") as batches finish; elsewhere (a file, a pipe, CI logs) only the finished line.
    ``verbose=0``: silent; 1: as described; 2: only finished lines, even on a terminal."""

    def __init__(self, verbose: int | bool, stream: TextIO | None, epochs: int) -> None:
        self.stream = sys.stdout if stream is None else stream
        self.on = bool(verbose)
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(verbose == 1 and isatty is not None and isatty())
        self.width = len(str(epochs))
        self.epochs = epochs
        self.last = 0.0

    def batch(self, epoch: int, done: int, total: int | None, loss: float,
              start: float) -> None:
        """`total` is None for batches from an iterable that does not know its length."""
        now = time.perf_counter()
        if not self.live or (now - self.last < 0.1 and (total is None or done < total)):
            return
        self.last = now
        of = "" if total is None else f"/{total}"
        self.stream.write(f"\rEpoch {epoch:>{self.width}}/{self.epochs}: batch {done}{of}"
                          f", train loss {fmt(loss)}, {now - start:.1f}s\x1b[K")
        self.stream.flush()

    def end(self, epoch: int, values: Mapping[str, float], seconds: float, nb: int) -> None:
        if not self.on:
            return
        has_val = "val_loss" in values
        parts = [f"{k.replace('_', ' ')} {fmt(v)}" if k.endswith("loss") or not has_val
                 else f"val {k} {fmt(v)}" for k, v in values.items()
                 if k == "train_loss" or not k.startswith("train_")]
        line = f"Epoch {epoch}: " + ", ".join(parts) + f" ({nb} batches, {seconds:.2f}s)"
        self.stream.write(("\r" + line + "\x1b[K" if self.live else line) + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        if self.on:
            self.stream.write(("\n" if self.live else "") + text + "\n")
            self.stream.flush()


class CtrlC:
    """While `fit` runs, the first Ctrl-C (SIGINT) only asks training to stop: the loop
    notices it after the current step, so weights and history are never caught half-way
    through an update. A second Ctrl-C raises KeyboardInterrupt at once. Installed only in
    the main thread, and only over Python's default handler (`installed` says whether it
    was). Also a context manager, for a demo's own loop::

        with CtrlC() as stop:
            for step in ...:
                ...
                if stop.requested:
                    break
    """

    def __init__(self) -> None:
        self.requested = False
        self._old: Any = None

    @property
    def installed(self) -> bool:
        return self._old is not None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            self.uninstall()  # a third Ctrl-C is Python's own again
            raise KeyboardInterrupt
        self.requested = True
        sys.stderr.write("\nCtrl-C: stopping after this step (press it again to stop now)\n")

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._old = signal.signal(signal.SIGINT, self._handler)

    def uninstall(self) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None

    def __enter__(self) -> CtrlC:  # noqa: PYI034 (typing.Self is Python 3.11+)
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

