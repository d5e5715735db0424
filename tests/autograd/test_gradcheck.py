"""gradcheck itself: it passes correct gradients and catches wrong ones, naming the input,
the element, the analytic and the numeric value of the worst mismatch."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from autograd import Value, gradcheck
from autograd.engine import Op, apply
from autograd.ops import OPS

# A deliberately wrong op: forward x², "derivative" x (the factor 2 forgotten).
BAD_SQUARE = Op("bad_square", lambda a: a * a, (lambda g, ans, a: g * a,))


@pytest.fixture
def bad_square(monkeypatch: pytest.MonkeyPatch) -> Op:
    """Registered in the derivative table for one test only."""
    monkeypatch.setitem(OPS, BAD_SQUARE.name, BAD_SQUARE)
    return BAD_SQUARE


def _message(excinfo: pytest.ExceptionInfo[AssertionError]) -> str:
    return str(excinfo.value)


def _number(msg: str, word: str) -> float:
    """The number printed after `word` in gradcheck's message."""
    m = re.search(word + r"(?:\s*\([^)]*\))?[^0-9+-]*([-+]?[0-9.]+(?:e[-+]?[0-9]+)?)", msg)
    assert m, f"{word!r} not followed by a number in {msg!r}"
    return float(m.group(1))


def test_passes_a_correct_gradient() -> None:
    x = Value(np.array([[0.3, -1.2], [2.0, 0.7]]))
    assert gradcheck(lambda v: (v * v).tanh() * v.exp(), x) is True


def test_catches_a_wrong_op_and_names_input_element_and_values(bad_square: Op) -> None:
    x = Value(np.array([1.0, -2.0, 3.0, 0.5]), label="x")
    with pytest.raises(AssertionError) as excinfo:
        gradcheck(lambda v: apply(bad_square, v), x)
    msg = _message(excinfo)
    assert "input 0" in msg and "'x'" in msg
    assert "(2,)" in msg  # the worst element: x = 3, analytic 3 vs numeric 6
    assert _number(msg, "analytic gradient") == pytest.approx(3.0)
    assert _number(msg, "numeric") == pytest.approx(6.0, rel=1e-6)


def test_names_the_second_input_when_only_it_is_wrong(bad_square: Op) -> None:
    a = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    b = Value(np.array([[0.5, -1.5], [2.5, 1.0]]))
    with pytest.raises(AssertionError) as excinfo:
        gradcheck(lambda p, q: p * 2.0 + apply(bad_square, q), a, b)
    msg = _message(excinfo)
    assert "input 1" in msg and "input 0" not in msg
    assert "(1, 0)" in msg  # q = 2.5 is the largest: analytic 2.5 vs numeric 5
    assert _number(msg, "analytic gradient") == pytest.approx(2.5)
    assert _number(msg, "numeric") == pytest.approx(5.0, rel=1e-6)


def test_catches_a_function_that_hides_part_of_its_graph() -> None:
    """x · detach(x): the engine sees d/dx = x, the finite differences see 2x."""
    x = Value(-1.5)
    with pytest.raises(AssertionError) as excinfo:
        gradcheck(lambda v: v * Value(v.data), x)
    msg = _message(excinfo)
    assert "input 0" in msg and "only element" in msg
    assert _number(msg, "analytic gradient") == pytest.approx(-1.5)
    assert _number(msg, "numeric") == pytest.approx(-3.0, rel=1e-6)


def test_tolerances_decide() -> None:
    """A slope off by 1e-4 relative passes rtol=1e-3 and fails rtol=1e-6."""
    op = Op("scaled", lambda a: a * 1.0, (lambda g, ans, a: g * (1.0 + 1e-4),))
    OPS[op.name] = op
    try:
        x = Value(np.array([1.0, 2.0]))
        assert gradcheck(lambda v: apply(op, v), x, rtol=1e-3)
        with pytest.raises(AssertionError):
            gradcheck(lambda v: apply(op, v), x, rtol=1e-6, atol=1e-9)
    finally:
        del OPS[op.name]


def test_checks_in_float64_even_for_float32_inputs() -> None:
    """Central differences with eps=1e-6 would be noise in float32 (resolution ~1e-7)."""
    x = Value(np.array([0.1, 0.2, 0.3], dtype=np.float32))
    assert gradcheck(lambda v: (v * 3.0).tanh(), x)


def test_f_must_return_a_value() -> None:
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda v: 1.0, Value(2.0))


def test_needs_an_input() -> None:
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda: Value(1.0))


def test_infinities_of_opposite_sign_do_not_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """At x = eps the central difference of log is +inf (log 0 = -inf); an op claiming a
    slope of -inf there must fail, not pass because both are infinite."""
    bad_log = Op("bad_log", np.log, (lambda g, ans, a: g * np.full(np.shape(a), -np.inf),))
    monkeypatch.setitem(OPS, bad_log.name, bad_log)
    x = Value(np.array([1e-6]))
    with pytest.raises(AssertionError) as excinfo, np.errstate(divide="ignore"):
        gradcheck(lambda v: apply(bad_log, v), x, eps=1e-6)
    msg = _message(excinfo)
    assert "input 0" in msg and "-inf" in msg and "inf" in msg.replace("-inf", "")


def test_a_gradient_of_nan_fails_against_a_finite_slope() -> None:
    op = Op("nan_grad", lambda a: a * 2.0, (lambda g, ans, a: g * np.nan,))
    OPS[op.name] = op
    try:
        with pytest.raises(AssertionError, match="nan"):
            gradcheck(lambda v: apply(op, v), Value(np.array([1.0])))
    finally:
        del OPS[op.name]


def test_signature_and_defaults_are_the_documented_ones() -> None:
    params = inspect.signature(gradcheck).parameters
    assert [p.kind for p in params.values()][:2] == [inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                     inspect.Parameter.VAR_POSITIONAL]
    assert {k: params[k].default for k in ("eps", "atol", "rtol")} == {
        "eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}


def test_pytorch_s_form_a_sequence_of_inputs():
    """gradcheck(f, [x]) and gradcheck(f, (x, y)) as torch.autograd.gradcheck takes them."""
    x = Value(np.array([0.3, -1.2, 2.0]))
    y = Value(np.array([1.5, 0.5, -0.7]))
    assert gradcheck(lambda a: (a * a).tanh(), [x])
    assert gradcheck(lambda a, b: a * b.exp(), (x, y))
    assert gradcheck(lambda a, b: a * b, [np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    assert gradcheck(lambda a: a * a, [1.0, 2.0])  # a list of numbers: one tensor input
    with pytest.raises(AssertionError, match="input 1"):
        gradcheck(lambda a, b: a * Value(b.data), (x, y))  # b's gradient lost
