"""Recurrent layers: RNN, GRU and LSTM, one layer, batch first, as torch.nn's.

A recurrent layer reads a sequence x of shape (N, T, input_size) one time step at a time,
carrying a state h (for the LSTM, h and a cell state c) from step to step:
``h_t = cell(x_t, h_{t-1})``. It returns every step's h, ``outputs`` of shape
(N, T, hidden), and the final state. Each step is one node of the graph (a fused cell of
`autograd.recurrent`), so a sequence of 40 steps is a few dozen nodes, and gradients flow
back through every step (backpropagation through time).

Parameters as torch names them, its ``weight_ih_l0`` here ``w_ih``: ``w_ih`` (G·hidden,
input_size), ``w_hh`` (G·hidden, hidden), ``b_ih``, ``b_hh`` (G·hidden,), gates in torch's
order (GRU r, z, n: G = 3; LSTM i, f, g, o: G = 4; RNN G = 1), all drawn from
U(-1/√hidden, 1/√hidden) as torch draws them. ``bidirectional=True`` adds a second set
(``w_ih_reverse``...) run over the reversed sequence; each step's two states are joined,
giving outputs (N, T, 2·hidden) and a state (2, N, hidden), as torch does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd import Value, concatenate, stack
from autograd.ops.recurrent import gru_cell, lstm_cell, rnn_cell

from ._checks import float_dtype, generator, positive_int
from .module import Module

_NAMES = ("w_ih", "w_hh", "b_ih", "b_hh")
SUMMARY_STEPS = 8  # longer sequences label only their first and last steps' states


class _Recurrent(Module):
    """What RNN, GRU and LSTM share: parameters, input checks and the loop over time."""

    gates = 1
    n_states = 1  # arrays of the state (the LSTM has two: h and c)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 bidirectional: bool = False, seed: int | np.random.Generator | None = None,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        self.input_size = positive_int(input_size, "input_size")
        self.hidden_size = positive_int(hidden_size, "hidden_size")
        self.bias = bool(bias)
        self.bidirectional = bool(bidirectional)
        self.dtype = float_dtype(dtype)
        rng = generator(seed)
        bound = 1.0 / math.sqrt(self.hidden_size)
        gh = self.gates * self.hidden_size
        shapes = {"w_ih": (gh, self.input_size), "w_hh": (gh, self.hidden_size),
                  "b_ih": (gh,), "b_hh": (gh,)}
        for suffix in ("", "_reverse") if self.bidirectional else ("",):
            for name in _NAMES:
                if name.startswith("b") and not self.bias:
                    continue
                data = rng.uniform(-bound, bound, shapes[name]).astype(self.dtype)
                setattr(self, name + suffix, Value(data, label=name + suffix))

    # ---- the cell, one step --------------------------------------------------------------
    def _cell(self, x: Any, state: tuple[Any, ...], weights: tuple[Any, ...]) -> Any:
        """One time step: the next state, as a tuple."""
        raise NotImplementedError

    def _weights(self, suffix: str) -> tuple[Any, ...]:
        return tuple(getattr(self, n + suffix, None) for n in _NAMES)

    # ---- checks ----------------------------------------------------------------------------
    def _check_input(self, x: Any) -> Any:
        if not isinstance(x, Value):
            try:
                x = np.asarray(x, dtype=self.dtype)
            except (TypeError, ValueError) as e:
                raise TypeError(f"{self!r} expects a numeric array or Value, got "
                                f"{type(x).__name__}: {e}") from None
        shape = x.shape
        if len(shape) != 3 or shape[2] != self.input_size:
            hint = (" (one sequence of shape (T, features)? add a batch axis: x[None])"
                    if len(shape) == 2 and shape[-1] == self.input_size else "")
            raise ValueError(f"{self!r} expects input of shape (N, T, {self.input_size}) "
                             f"(batch, time, features); got shape {shape}{hint}")
        if shape[1] == 0:
            raise ValueError(f"{self!r} got a sequence of length 0 (input shape {shape})")
        return x

    def _state_shape(self) -> str:
        return "(2, N, hidden)" if self.bidirectional else "(N, hidden)"

    def _check_state(self, s: Any, n: int, what: str) -> Any:
        if s is None:
            shape = (2 if self.bidirectional else 1, n, self.hidden_size)
            return np.zeros(shape, dtype=self.dtype)
        if not isinstance(s, Value):
            s = np.asarray(s, dtype=self.dtype)
        want = (2, n, self.hidden_size) if self.bidirectional else (n, self.hidden_size)
        if s.shape != want:
            raise ValueError(f"{self!r}: the initial state {what} must have shape {want} "
                             f"{self._state_shape()} for input of batch size {n}; got shape "
                             f"{s.shape}")
        return s if self.bidirectional else s.reshape(1, n, self.hidden_size)

    def _initial(self, state: Any, n: int) -> list[tuple[Any, ...]]:
        """Per direction, the initial state as a tuple of (N, hidden) arrays or Values."""
        if self.n_states == 1:
            parts = (self._check_state(state, n, "h0"),)
        else:
            if state is not None and (not isinstance(state, tuple | list) or len(state) != 2):
                raise ValueError(f"{self!r}: the initial state must be a pair (h0, c0), each "
                                 f"{self._state_shape()}; got {type(state).__name__}")
            h0, c0 = (None, None) if state is None else state
            parts = (self._check_state(h0, n, "h0"), self._check_state(c0, n, "c0"))
        dirs = 2 if self.bidirectional else 1
        return [tuple(p[d] for p in parts) for d in range(dirs)]

    # ---- the loop over time ---------------------------------------------------------------
    def _direction(self, x: Any, state: tuple[Any, ...], suffix: str,
                   reverse: bool) -> tuple[list[Any], tuple[Any, ...]]:
        """Run the cell over the sequence (backwards when `reverse`): each step's h in time
        order, and the final state."""
        t_len = x.shape[1]
        weights = self._weights(suffix)
        hs: list[Any] = [None] * t_len
        steps = range(t_len - 1, -1, -1) if reverse else range(t_len)
        for k, t in enumerate(steps):
            state = self._cell(x[:, t], state, weights)
            if k < 2 or k >= t_len - 2 or t_len <= SUMMARY_STEPS:
                arrow = "←" if reverse else ""
                state[0].label = f"h{arrow}[t={t + 1}]"  # drawings and explain read steps
            hs[t] = state[0]
        return hs, state

    def forward(self, x: Any, state: Any = None) -> tuple[Value, Any]:
        """``(outputs, state)``: outputs (N, T, hidden) (bidirectional: 2·hidden) and the
        final state (N, hidden) (bidirectional: (2, N, hidden); LSTM: the pair (h, c))."""
        x = self._check_input(x)
        init = self._initial(state, x.shape[0])
        hs, last = self._direction(x, init[0], "", reverse=False)
        outputs = stack(hs, axis=1)
        finals = [last]
        if self.bidirectional:
            hs_b, last_b = self._direction(x, init[1], "_reverse", reverse=True)
            outputs = concatenate([outputs, stack(hs_b, axis=1)], axis=-1)
            finals.append(last_b)
        if self.bidirectional:
            parts = tuple(stack([f[i] for f in finals], axis=0) for i in range(self.n_states))
        else:
            parts = finals[0]
        return outputs, (parts if self.n_states > 1 else parts[0])

    # ---- files and printing --------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        out = {"input_size": self.input_size, "hidden_size": self.hidden_size,
               "bias": self.bias, "bidirectional": self.bidirectional, "dtype": self.dtype.name}
        return out

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        nin = positive_int(config.get("input_size"), "input_size")
        hidden = positive_int(config.get("hidden_size"), "hidden_size")
        gh = cls.gates * hidden
        shapes = {"w_ih": (gh, nin), "w_hh": (gh, hidden), "b_ih": (gh,), "b_hh": (gh,)}
        return {name + suffix: shapes[name]
                for suffix in (("", "_reverse") if config.get("bidirectional") else ("",))
                for name in _NAMES if config.get("bias", True) or not name.startswith("b")}

    def extra_repr(self) -> str:
        extra = ", bidirectional=True" if self.bidirectional else ""
        return f"{self.input_size}, {self.hidden_size}{extra}"


class RNN(_Recurrent):
    """``RNN(input_size, hidden_size, nonlinearity="tanh")``: h' = act(x w_ihᵀ + b_ih +
    h w_hhᵀ + b_hh), act tanh or ReLU, as ``torch.nn.RNN(batch_first=True)``."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bias: bool = True, bidirectional: bool = False,
                 seed: int | np.random.Generator | None = None, dtype: Any = np.float64) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, bidirectional, seed, dtype)

    def _cell(self, x: Any, state: tuple[Any, ...], weights: tuple[Any, ...]) -> Any:
        return (rnn_cell(x, state[0], *weights, nonlinearity=self.nonlinearity),)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "nonlinearity": self.nonlinearity}

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity}"


class GRU(_Recurrent):
    """``GRU(input_size, hidden_size)``: gated recurrence (reset r, update z, new n), as
    ``torch.nn.GRU(batch_first=True)``; h' = (1 - z) × n + z × h."""

    gates = 3

    def _cell(self, x: Any, state: tuple[Any, ...], weights: tuple[Any, ...]) -> Any:
        return (gru_cell(x, state[0], *weights),)


class LSTM(_Recurrent):
    """``LSTM(input_size, hidden_size)``: gates i, f, g, o and a cell state c, as
    ``torch.nn.LSTM(batch_first=True)``; called as ``lstm(x, (h0, c0))``, returns
    ``(outputs, (h, c))``."""

    gates = 4
    n_states = 2

    def _cell(self, x: Any, state: tuple[Any, ...], weights: tuple[Any, ...]) -> Any:
        hc = lstm_cell(x, state[0], state[1], *weights)
        nh = self.hidden_size
        return hc[:, :nh], hc[:, nh:]
