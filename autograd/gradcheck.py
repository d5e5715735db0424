"""Gradient checking: the engine's analytic gradients against central finite differences.

For each element xᵢ of each input, the numeric slope is
    (f(x + ε·eᵢ) - f(x - ε·eᵢ)) / 2ε,
which is accurate to O(ε²); the analytic one comes from one reverse pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import Value, grad


def gradcheck(f: Callable[..., Value], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, order: int = 1, modes: Sequence[str] = ("rev",)) -> bool:
    """Compare d(f(*inputs).sum())/d(input) with central differences, in float64. The
    analytic gradient is taken both by `grad()` and by `backward()` (the two paths through
    the reverse pass), and each must agree. With ``order=2`` second derivatives are checked
    too (the gradient of ⟨∇f, u⟩ for a random u, against central differences of the
    first-order gradient); with ``"fwd"`` in `modes` forward mode is checked (each input
    element's JVP against central differences of f's output).

    Returns True, or raises AssertionError naming the input, the element index, the analytic
    and the numeric value of the worst mismatch (|analytic - numeric| > atol + rtol·|numeric|).

    PyTorch's form works too: ``gradcheck(f, (x, y))`` or ``gradcheck(f, [x])``, one tuple
    (or list) of Values or arrays holding the inputs.
    """
    inputs = _unpacked(inputs)
    if not inputs:
        raise ValueError("gradcheck needs at least one input Value")
    unknown = set(modes) - {"rev", "fwd"}
    if unknown or not modes or order not in (1, 2):
        raise ValueError(f"gradcheck: modes are 'rev' and 'fwd' and order is 1 or 2; got "
                         f"modes={tuple(modes)!r}, order={order!r}")
    datas = []
    for i, x in enumerate(inputs):
        d = x.data if isinstance(x, Value) else Value(x).data
        datas.append(float(d) if isinstance(d, float) else np.array(d, dtype=np.float64))
    if "rev" in modes:
        _check_reverse(f, inputs, datas, eps, atol, rtol)
    if "fwd" in modes:
        _check_forward(f, inputs, datas, eps, atol, rtol)
    if order == 2:
        _check_second(f, inputs, datas, eps, atol, rtol)
    return True


def _check_reverse(f: Callable[..., Value], inputs: tuple[Any, ...], datas: list[Any],
                   eps: float, atol: float, rtol: float) -> None:

    def evaluate(values: list[Any]) -> Value:
        out = f(*values)
        if not isinstance(out, Value):
            raise TypeError(f"gradcheck: f must return a Value, it returned {type(out).__name__}")
        return out.sum() if out.size != 1 or out.shape else out

    # Both ways to the analytic gradient: grad() (which touches no .grad) and backward()
    leaves = [Value(d) for d in datas]
    by_grad = grad(evaluate(leaves), leaves)
    leaves = [Value(d) for d in datas]
    evaluate(leaves).backward()
    by_backward = [v.grad for v in leaves]

    worst = None  # (excess, input index, element index, analytic, numeric, path)
    for i, d in enumerate(datas):
        shape = np.shape(d)
        paths = (("grad()", np.asarray(by_grad[i], dtype=np.float64)),
                 ("backward()", np.asarray(by_backward[i], dtype=np.float64)))
        for idx in np.ndindex(shape):
            numeric = _central_difference(evaluate, datas, i, idx, eps)
            for path, a in paths:
                an = float(a[idx])
                excess = abs(an - numeric) - (atol + rtol * abs(numeric))
                if not np.isfinite(an) or not np.isfinite(numeric):  # agree only if identical
                    same = an == numeric or (np.isnan(an) and np.isnan(numeric))
                    excess = -np.inf if same else np.inf
                if excess > 0 and (worst is None or excess > worst[0]):
                    worst = (excess, i, idx, an, numeric, path)
    if worst is not None:
        _, i, idx, an, numeric, path = worst
        x = inputs[i]
        name = f" ({x.label!r})" if isinstance(x, Value) and x.label else ""
        where = f"element {idx}" if idx else "its only element"
        raise AssertionError(
            f"gradcheck failed for input {i}{name} at {where}: analytic gradient {an:.8g} "
            f"(by {path}), "
            f"numeric (central difference, eps={eps:g}) {numeric:.8g}, "
            f"difference {abs(an - numeric):.3g} > atol {atol:g} + rtol {rtol:g} × |numeric|"
        )


def _fail(what: str, i: int, idx: Any, an: Any, numeric: Any, eps: float, atol: float,
          rtol: float) -> None:
    """Raise when an analytic array differs from the numeric one beyond the tolerance."""
    an, numeric = np.asarray(an, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    bad = ~np.isclose(an, numeric, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        k = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.shape else ()
        where = f"element {idx}" if idx else "its only element"
        raise AssertionError(
            f"gradcheck ({what}) failed for input {i} at {where}: analytic {an[k]:.8g}, "
            f"numeric (central difference, eps={eps:g}) {numeric[k]:.8g}"
            + (f" (output element {k})" if k else ""))


def _check_forward(f: Callable[..., Value], inputs: tuple[Any, ...], datas: list[Any],
                   eps: float, atol: float, rtol: float) -> None:
    """Forward mode: the tangent of f's output along each input element, one sweep each."""
    from .forward import push_tangents
    leaves = [Value(d) for d in datas]
    out = _output(f, leaves)
    for i, d in enumerate(datas):
        for idx in np.ndindex(np.shape(d)):
            e = 1.0 if isinstance(d, float) else np.zeros_like(d)
            if not isinstance(d, float):
                e[idx] = 1.0
            tangent = push_tangents([out], {leaves[i]: e})[0].data
            numeric = (np.asarray(_output(f, _moved(datas, i, idx, eps)).data)
                       - np.asarray(_output(f, _moved(datas, i, idx, -eps)).data)) / (2 * eps)
            _fail("forward mode", i, idx, tangent, numeric, eps, atol, rtol)


def _check_second(f: Callable[..., Value], inputs: tuple[Any, ...], datas: list[Any],
                  eps: float, atol: float, rtol: float) -> None:
    """Second order: ∇⟨∇f, u⟩ (reverse over reverse) against central differences of ⟨∇f, u⟩."""
    rng = np.random.default_rng(0)
    us = [rng.uniform(-1, 1, np.shape(d)) for d in datas]

    def inner(values: list[Value], create_graph: bool) -> Any:
        gs = grad(_summed(f(*values)), values, create_graph=create_graph)
        total = 0.0
        for g, u in zip(gs, us):
            total = total + (g * u).sum() if create_graph else total + float(np.sum(g * u))
        return total

    leaves = [Value(d) for d in datas]
    s = inner(leaves, True)
    analytic = grad(s, leaves) if isinstance(s, Value) else [np.zeros(np.shape(d)) for d in datas]
    for i, d in enumerate(datas):
        for idx in np.ndindex(np.shape(d)):
            numeric = (inner(_moved(datas, i, idx, eps), False)
                       - inner(_moved(datas, i, idx, -eps), False)) / (2 * eps)
            _fail("second order", i, idx, np.asarray(analytic[i])[idx], numeric, eps,
                  atol, rtol)


def _moved(datas: list[Any], i: int, idx: tuple[int, ...], delta: float) -> list[Value]:
    values = []
    for j, d in enumerate(datas):
        if j == i:
            if isinstance(d, float):
                d = d + delta
            else:
                d = d.copy()
                d[idx] += delta
        values.append(Value(d))
    return values


def _summed(out: Any) -> Value:
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, it returned {type(out).__name__}")
    return out.sum() if out.size != 1 or out.shape else out


def _output(f: Callable[..., Value], values: list[Value]) -> Value:
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, it returned {type(out).__name__}")
    return out


def _unpacked(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """torch.autograd.gradcheck(f, inputs): one tuple, or one list of Values or arrays, is
    the sequence of inputs (a list of plain numbers stays one tensor input)."""
    if len(inputs) == 1 and isinstance(inputs[0], tuple | list):
        items = inputs[0]
        if isinstance(items, tuple) or (items and all(isinstance(x, Value | np.ndarray)
                                                       for x in items)):
            return tuple(items)
    return inputs


def _central_difference(evaluate: Callable[[list[Any]], Value], datas: list[Any], i: int,
                        idx: tuple[int, ...], eps: float) -> float:
    def at(delta: float) -> float:
        values = []
        for j, d in enumerate(datas):
            if j == i:
                if isinstance(d, float):
                    d = d + delta
                else:
                    d = d.copy()
                    d[idx] += delta
            values.append(Value(d))
        return float(evaluate(values).item())

    return (at(eps) - at(-eps)) / (2 * eps)
