"""Each derivative rule lives once, in the table (issue 9): change a row and every path
changes with it — scalar backward(), tensor backward(), grad() and create_graph=True."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from autograd import Value, engine, grad
from autograd.engine import OPS

X = 0.3


def _all_paths(f):
    """df/dx at X by every path — scalar backward, tensor backward, grad(), the Value that
    grad(create_graph=True) gives — and the second derivative through that Value."""
    s = Value(X)
    f(s).backward()
    t = Value(np.array([X, X]))
    f(t).sum().backward()
    v = Value(X)
    (g,) = grad(f(v), v)
    w = Value(X)
    (gc,) = grad(f(w), w, create_graph=True)
    (g2,) = grad(gc, w)
    return s.grad, float(t.grad[0]), g, gc.data, g2


def _doubled(op_name, which=0):
    """The row of `op_name` with VJP `which` doubled (still pure arithmetic on its inputs,
    so the compiled reverse pass pastes the new rule in)."""
    op = OPS[op_name]
    vjps = list(op.vjps)
    vjps[which] = {
        "tanh": lambda g, ans, a: g * 2.0 * (1 - ans * ans),
        "mul": lambda g, ans, a, b: g * b * 2.0,
        "add": lambda g, ans, a, b: g * 2.0,
    }[op_name]
    return op._replace(vjps=tuple(vjps))


CASES = {
    "tanh": (lambda v: v.tanh(), 1 - np.tanh(X) ** 2, -2 * np.tanh(X) * (1 - np.tanh(X) ** 2)),
    "mul": (lambda v: v * v, 2 * X, 2.0),
    "add": (lambda v: (v + v) * v, 4 * X, 4.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_breaking_a_rule_in_the_table_changes_every_path(name, monkeypatch) -> None:
    f, d1, d2 = CASES[name]
    before = _all_paths(f)
    np.testing.assert_allclose(before[:4], [d1] * 4, rtol=1e-12)
    np.testing.assert_allclose(before[4], d2, rtol=1e-12)
    monkeypatch.setitem(OPS, name, _doubled(name))
    after = _all_paths(f)
    for path, a, b in zip(("scalar backward", "tensor backward", "grad", "create_graph"),
                          after[:4], before[:4]):
        assert a != pytest.approx(b), f"{path} did not see the edited rule"
    monkeypatch.undo()
    np.testing.assert_allclose(_all_paths(f), before, rtol=1e-12)


def test_a_rule_edited_in_place_is_seen_too() -> None:
    op = OPS["tanh"]
    old = op.vjps
    try:
        op.vjps = (lambda g, ans, a: g * 0.0,)
        x = Value(X)
        x.tanh().backward()
        assert x.grad == 0.0
    finally:
        op.vjps = old
    x = Value(X)
    x.tanh().backward()
    assert x.grad == pytest.approx(1 - np.tanh(X) ** 2)


def test_a_rule_that_is_not_plain_arithmetic_is_called(monkeypatch) -> None:
    calls = []

    def counting(g, ans, a, b):
        calls.append(1)
        return g * b

    monkeypatch.setitem(OPS, "mul", OPS["mul"]._replace(vjps=(counting, OPS["mul"].vjps[1])))
    x = Value(2.0)
    (x * 3.0).backward()
    assert x.grad == 3.0 and calls == [1]


def test_the_engine_names_no_op() -> None:
    source = inspect.getsource(engine)
    for name in OPS:
        for quoted in (f'"{name}"', f"'{name}'"):
            assert quoted not in source, f"engine.py names the op {name}"


def test_the_rules_are_pasted_again_when_the_loop_is_written_again() -> None:
    """Writing the reverse pass must not spoil the parsed rules it pastes from: after a
    table change the loop is written again, with the same arithmetic pasted in."""
    names = ("g", "ans", "ad", "bd")
    first = engine._arithmetic(OPS["mul"].vjps[0], names)
    again = engine._arithmetic(OPS["mul"].vjps[0], names)
    assert first == again == "(g * bd)"
