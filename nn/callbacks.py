"""What `fit` tells the objects given in ``callbacks=[...]``, and when.

A callback is any object with one or more of these methods (each optional):

- ``after_backward()``: every step, once the gradients exist (before clipping and the
  update): where `nn.Monitor` reads the gradients;
- ``after_step()``: every step, after the optimizer's update: the update-to-data ratios;
- ``on_epoch_end(model, epoch, logs)``: after each finished epoch, `logs` being that epoch's
  numbers (``{"train_loss": ..., "val_loss": ..., "accuracy": ...}``): where `nn.Replay`
  records a frame.

A plain function is taken as ``on_epoch_end(model, epoch, logs)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["Callbacks"]

HOOKS = ("after_backward", "after_step", "on_epoch_end")


class Callbacks:
    """The callbacks of one `fit` call, sorted by hook: ``cbs.after_step()`` calls every
    callback's ``after_step``, in the order given."""

    def __init__(self, callbacks: Iterable[Any] | None) -> None:
        if callbacks is None:
            callbacks = ()
        if not isinstance(callbacks, Iterable) or isinstance(callbacks, str):
            callbacks = (callbacks,)  # one callback given without a list
        self.hooks: dict[str, list[Callable[..., Any]]] = {h: [] for h in HOOKS}
        for cb in callbacks:
            found = [h for h in HOOKS if callable(getattr(cb, h, None))]
            if found:
                for h in found:
                    self.hooks[h].append(getattr(cb, h))
            elif callable(cb):
                self.hooks["on_epoch_end"].append(cb)
            else:
                raise TypeError(f"fit: callback {cb!r} has none of the methods "
                                f"{', '.join(HOOKS)} and is not a function "
                                f"(model, epoch, logs)")

    def after_backward(self) -> None:
        for f in self.hooks["after_backward"]:
            f()

    def after_step(self) -> None:
        for f in self.hooks["after_step"]:
            f()

    def on_epoch_end(self, model: Any, epoch: int, logs: Mapping[str, float]) -> None:
        for f in self.hooks["on_epoch_end"]:
            f(model, epoch, dict(logs))
