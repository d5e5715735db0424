"""`LastStep`: the last time step of a sequence, so a recurrent layer can feed a classifier
inside `nn.Sequential`.

A recurrent layer returns ``(outputs, state)``, outputs shaped (N, T, hidden); a classifier
reads one vector per sample. ``LastStep()`` keeps ``outputs[:, -1]`` (for a one-direction
layer, the final state h), PyTorch's ``out[:, -1, :]`` idiom as a module:
``nn.Sequential(nn.Embedding(100, 16), nn.GRU(16, 32), nn.LastStep(), nn.Linear(32, 10))``.
It also takes a plain (N, T, features) sequence (an attention block's output).
"""

from __future__ import annotations

from typing import Any

from autograd import Value

from .module import Module


class LastStep(Module):
    """``(outputs, state)`` or ``outputs`` (N, T, F) → ``outputs[:, -1]`` (N, F)."""

    def forward(self, x: Any) -> Value:
        if isinstance(x, tuple | list):
            x = x[0]  # a recurrent layer's (outputs, state)
        if not isinstance(x, Value):
            x = Value(x, requires_grad=False)
        if x.ndim != 3:
            raise ValueError(f"LastStep expects a sequence batch (N, T, features) or a "
                             f"recurrent layer's (outputs, state), got shape {x.shape}")
        return x[:, -1]

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {}  # no weights
