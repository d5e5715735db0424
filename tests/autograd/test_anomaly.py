"""detect_anomaly(): the first NaN or infinity made in a forward or backward pass raises
AnomalyError naming the op, the inputs, the pass and the user's line; outside the block
the table's functions are the very ones that were there before."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograd import AnomalyError, Value, detect_anomaly, grad
from autograd.engine import OPS

HERE = __file__


def _raised(fn) -> AnomalyError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(AnomalyError) as info, detect_anomaly():
            fn()
    return info.value


def test_is_a_floating_point_error() -> None:
    assert issubclass(AnomalyError, FloatingPointError)


def test_log_of_zero() -> None:
    e = _raised(lambda: Value(np.array([1.0, 0.0])).log())
    assert e.op == "log" and e.phase == "forward"
    text = str(e)
    assert text.startswith("forward pass: log made inf")
    assert "input 0: shape (2,), range [0, 1]" in text
    assert e.site.startswith(HERE + ":")
    assert "out₂ = log(0) = -inf" in text  # explain's line for the node


def test_zero_over_zero_on_scalars() -> None:
    e = _raised(lambda: Value(0.0) / 0.0)
    assert e.op == "div" and "made NaN" in str(e) and e.site.startswith(HERE + ":")
    assert "out = 0 / 0 = nan" in str(e)


def test_sqrt_of_minus_one() -> None:
    e = _raised(lambda: Value(-1.0).sqrt())
    assert e.op == "sqrt" and "NaN" in str(e) and "a number -1" in str(e)


def test_overflow() -> None:
    e = _raised(lambda: (Value(np.array([1.0, 800.0])) * 2.0).exp())
    assert e.op == "exp" and "made inf" in str(e) and "range [2, 1600]" in str(e)


def test_nan_born_only_in_the_backward_pass() -> None:
    x = Value(np.array([0.0, 4.0]))

    def run() -> None:
        y = (x ** 0.5) * 0.0  # forward: all finite (0 and 0)
        grad(y.sum(), [x])  # backward: 0 × 0.5 × 0^(-0.5) = 0 × inf = NaN

    e = _raised(run)
    assert e.op == "pow" and e.phase == "backward"
    assert "the VJP of pow for its input 0 made NaN" in str(e)
    with open(HERE, encoding="utf-8") as f:
        lines = f.read().splitlines()
    line = int(e.site.rsplit(":", 1)[1])
    assert "x ** 0.5" in lines[line - 1]  # the line that made the node, not the backward's


def test_a_finite_run_passes_and_gives_the_same_numbers() -> None:
    x = Value(np.array([0.5, 1.5]))
    with detect_anomaly():
        g1 = grad((x.tanh() * x.exp()).sum(), [x])[0]
    g2 = grad((x.tanh() * x.exp()).sum(), [x])[0]
    np.testing.assert_array_equal(g1, g2)


def test_outside_the_block_the_table_is_as_before() -> None:
    before = {name: (op.forward, op.vjps) for name, op in OPS.items()}
    methods = {k: v for k, v in vars(Value).items() if getattr(v, "_op", None) is not None}
    with detect_anomaly(), detect_anomaly():  # nested: one block
        assert OPS["add"].forward is not before["add"][0]
    after = {name: (op.forward, op.vjps) for name, op in OPS.items()}
    assert all(after[n][0] is before[n][0] and after[n][1] is before[n][1] for n in before)
    for k, v in vars(Value).items():  # methods made again from the same rows
        if k in methods:
            assert v._op is methods[k]._op
            assert v.__code__.co_code == methods[k].__code__.co_code  # the same code
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert Value(np.array([0.0])).log().data[0] == -np.inf  # outside: nothing raises
