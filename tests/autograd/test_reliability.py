"""The engine under threads, interrupts and odd input (issue 10): grad mode per thread,
concurrent backward over shared parameters, backward interrupted at every line, .grad
arrays that never share memory, and the smaller contracts (huge ints, labels, empty means,
NaN through relu/abs, NumPy 2 promotion)."""

from __future__ import annotations

import sys
import threading
import warnings

import numpy as np
import pytest

from autograd import Value, engine, grad, gradcheck, is_grad_enabled, no_grad
from autograd.engine import apply, defop

TIMEOUT = 10.0  # no wait below lasts this long unless something is broken


def _run(target, *args) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


# ---- grad mode is per thread ------------------------------------------------------------
def test_no_grad_in_another_thread_does_not_stop_recording_here() -> None:
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def evaluator() -> None:
        with no_grad():
            seen["there"] = (Value(2.0) * Value(3.0)).requires_grad
            inside.set()
            release.wait(TIMEOUT)

    t = _run(evaluator)
    try:
        assert inside.wait(TIMEOUT)
        assert is_grad_enabled()
        x = Value(np.array([1.0, 2.0]))
        y = (x * x).sum()
        assert y.op == "sum" and y.requires_grad
        y.backward()
        np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    finally:
        release.set()
        t.join(TIMEOUT)
    assert seen["there"] is False


def test_interleaved_no_grad_blocks_leave_recording_on() -> None:
    """A enters, B enters, A leaves, B leaves: with one process-wide flag B restored 'off'."""
    steps = [threading.Event() for _ in range(4)]

    def a() -> None:
        with no_grad():
            steps[0].set()
            steps[1].wait(TIMEOUT)
        steps[2].set()

    def b() -> None:
        steps[0].wait(TIMEOUT)
        with no_grad():
            steps[1].set()
            steps[2].wait(TIMEOUT)
        steps[3].set()

    ta, tb = _run(a), _run(b)
    ta.join(TIMEOUT)
    tb.join(TIMEOUT)
    assert steps[3].is_set()
    assert is_grad_enabled()
    assert Value(1.0).exp().op == "exp"
    result = {}
    t = _run(lambda: result.setdefault("on", is_grad_enabled()))
    t.join(TIMEOUT)
    assert result["on"] is True


@pytest.fixture
def pausing_op():
    """An identity op whose VJP signals `inside` and waits for `release`: a backward pass
    held open at a known point."""
    inside, release = threading.Event(), threading.Event()

    def vjp(g, ans, a):
        inside.set()
        assert release.wait(TIMEOUT)
        return g

    op = defop("test_pause", lambda a: a * 1.0, vjp)
    try:
        yield op, inside, release
    finally:
        release.set()
        del engine.OPS["test_pause"]


def test_backward_in_one_thread_does_not_stop_recording_in_another(pausing_op) -> None:
    op, inside, release = pausing_op
    x = Value(np.array([1.0, 2.0]))
    y = apply(op, x).sum()
    t = _run(y.backward)
    try:
        assert inside.wait(TIMEOUT)
        z = Value(3.0) * Value(4.0)  # recorded while the other thread is mid-backward
        assert z.op == "mul" and z.requires_grad
    finally:
        release.set()
        t.join(TIMEOUT)
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_concurrent_backward_over_shared_parameters_loses_nothing(pausing_op) -> None:
    op, inside, release = pausing_op
    w = Value(np.array([1.0, -2.0, 3.0]), label="w")
    ya = (apply(op, w) * 2.0).sum()          # d/dw = 2
    yb = (w * w).sum()                        # d/dw = 2w
    ta = _run(ya.backward)
    try:
        assert inside.wait(TIMEOUT)          # A holds its pass open...
        tb = _run(yb.backward)               # ...while B starts one over the same w
        tb.join(0.2)
    finally:
        release.set()
        ta.join(TIMEOUT)
    tb.join(TIMEOUT)
    assert not ta.is_alive() and not tb.is_alive()
    np.testing.assert_array_equal(w.grad, 2.0 + 2.0 * w.data)


def test_many_threads_training_on_shared_scalars_sum_every_gradient() -> None:
    w = [Value(0.5), Value(-1.5)]
    n_threads, steps = 4, 25

    def work() -> None:
        for _ in range(steps):
            loss = (w[0] * w[1] + w[0] * 2.0).relu() + w[1] * w[1]
            loss.backward()

    threads = [_run(work) for _ in range(n_threads)]
    for t in threads:
        t.join(TIMEOUT)
    total = n_threads * steps
    # relu is active at w: (0.5 × -1.5 + 1.0) = 0.25 > 0
    assert w[0].grad == pytest.approx(total * (w[1].data + 2.0))
    assert w[1].grad == pytest.approx(total * (w[0].data + 2.0 * w[1].data))


# ---- interrupted at every line ------------------------------------------------------------
ENGINE_FILES = {engine.__file__, "<autograd.engine: reverse pass>"}


def _interrupt_at(k: int):
    """A trace function raising KeyboardInterrupt at the k-th line the engine runs."""
    count = [0]

    def local(frame, event, arg):
        if event == "line":
            count[0] += 1
            if count[0] == k:
                raise KeyboardInterrupt
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename in ENGINE_FILES:
            return local
        return None

    return tracer


def _graphs():
    """(parameters, make_loss, expected gradients) for a scalar and a tensor graph."""
    a, b = Value(0.7, label="a"), Value(-1.3, label="b")

    def scalar():
        h = (a * b + a).tanh()
        return (h * h + b.relu() + (a * 3.0).relu()) * 0.5

    w = Value(np.array([[0.2, -0.4], [0.6, 0.1]]), label="w")
    x = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3]])

    def tensor():
        z = (Value(x) @ w.T).relu()
        return (z * z).sum() + w.abs().mean()

    return [([a, b], scalar), ([w], tensor)]


@pytest.mark.parametrize("which", ["scalar", "tensor"])
@pytest.mark.parametrize("how", ["backward", "grad"])
def test_backward_interrupted_at_every_line_leaves_nothing_broken(which, how) -> None:
    params, make = _graphs()[0 if which == "scalar" else 1]
    loss = make()
    expected = grad(loss, params)
    k, completed = 0, False
    while not completed:
        k += 1
        assert k < 5000, "the pass never completed"
        for p in params:
            p.zero_grad()
        sys.settrace(_interrupt_at(k))
        try:
            if how == "backward":
                loss.backward()
            else:
                grad(loss, params)
            completed = True
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        # whatever happened, the engine is whole: recording on, every later pass right
        assert is_grad_enabled()
        for p in params:
            p.zero_grad()
        loss.backward()
        for p, e in zip(params, expected):
            np.testing.assert_allclose(p.grad, e, rtol=1e-12)
        again = grad(make(), params)
        for g, e in zip(again, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12)
    assert k > 20  # the interrupts really landed inside the pass


def test_no_grad_interrupted_at_every_line_restores_recording() -> None:
    k, completed = 0, False
    while not completed:
        k += 1
        assert k < 200
        sys.settrace(_interrupt_at(k))
        try:
            with no_grad():
                sys.settrace(None)
                assert not is_grad_enabled()
                sys.settrace(_interrupt_at(k))
            completed = True
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        assert is_grad_enabled()
        assert (Value(1.0) * 2.0).op == "mul"


# ---- .grad arrays never share memory ------------------------------------------------------
def test_grad_of_a_view_and_its_base_are_separate_arrays() -> None:
    x = Value(np.ones((2, 3)))
    t = x.T
    (t + 0.0).sum().backward()
    x.grad[0, 0] = 42.0
    assert t.grad[0, 0] == 1.0


def test_no_two_grads_in_a_graph_share_memory() -> None:
    x = Value(np.arange(6.0).reshape(2, 3))
    a = x.T
    b = a.reshape(6)
    c = b[1:5]
    y = (x + x).sum() + (a * 1.0).sum() + (c + 0.0).sum() + b.sum()
    y.backward()
    nodes = [v for v in engine.topological_order(y) if not v.is_scalar]
    grads = [v.grad for v in nodes]
    for i in range(len(grads)):
        for j in range(i + 1, len(grads)):
            assert not np.shares_memory(grads[i], grads[j]), (nodes[i].op, nodes[j].op)


# ---- changing .data after the forward pass: a documented choice ---------------------------
def test_backward_differentiates_at_the_data_as_it_is_when_it_runs() -> None:
    """README: `backward()` reads each Value's data when it runs; an in-place change between
    forward and backward is used (as micrograd), so change .data only after backward (as an
    optimizer step does), then build the next graph."""
    x = Value(np.array([2.0]))
    y = (x * x).sum()
    x.data[...] = 10.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [20.0])


# ---- smaller contracts ----------------------------------------------------------------------
@pytest.mark.parametrize("n", [10**400, -(10**400), 10**5000], ids=["1e400", "-1e400", "1e5000"])
def test_an_int_too_large_for_a_float_is_a_value_error(n) -> None:
    with pytest.raises(ValueError, match="too large for a float64"):
        Value(n)
    with pytest.raises(ValueError, match="too large for a float64"):
        Value(2.0) * n
    with pytest.raises(ValueError, match="too large for a float64"):
        Value(np.ones(2)) + n


@pytest.mark.parametrize("bad", [5, None, 2.5, b"w", ["w"]])
def test_labels_are_validated_when_set(bad) -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match="label must be a string"):
        v.label = bad
    with pytest.raises(TypeError, match="label must be a string"):
        Value(1.0, label=bad)
    v.label = "w"
    assert v.label == "w"


@pytest.mark.parametrize("shape, axis", [((0, 3), 0), ((3, 0), 1), ((0,), None)])
def test_mean_over_an_empty_axis_backpropagates(shape, axis) -> None:
    x = Value(np.ones(shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy: mean of an empty slice
        m = x.mean(axis=axis)
    gradient = np.ones(np.shape(m.data))
    m.backward(gradient if m.shape else None)
    assert x.grad.shape == shape


def test_nan_through_relu_and_abs_as_torch() -> None:
    torch = pytest.importorskip("torch")
    data = np.array([np.nan, -1.0, 0.0, 2.0])
    for method in ("relu", "abs"):
        t = torch.tensor(data, requires_grad=True)
        getattr(t, method)().sum().backward()
        x = Value(data.copy())
        getattr(x, method)().sum().backward()
        np.testing.assert_array_equal(x.grad, t.grad.numpy(), err_msg=method)
        for i, d in enumerate(data):  # the scalar path too
            s = Value(float(d))
            getattr(s, method)().backward()
            assert s.grad == t.grad.numpy()[i] or (np.isnan(s.grad) and np.isnan(t.grad[i]))


@pytest.mark.parametrize("other", [2.0, 2, np.float64(2.0), np.float32(2.0), np.array(2.0),
                                   np.array([2.0, 2.0, 2.0]),
                                   np.array([2.0, 2.0, 2.0], dtype=np.float32)])
def test_promotion_follows_numpy_2(other) -> None:
    """README: NumPy 2's rules. Python numbers are weak (float32 stays float32); NumPy
    scalars and arrays are strong (np.float64(2) * float32 is float64)."""
    data = np.ones(3, dtype=np.float32)
    x = Value(data)
    for out, expected in ((x * other, data * other), (other * x, other * data),
                          (x + other, data + other)):
        assert out.dtype == np.asarray(expected).dtype, (type(other), out.dtype)
    (x * other).sum().backward()
    assert x.grad.dtype == np.float32  # a gradient has its Value's dtype


def test_a_scalar_value_with_a_numpy_float64_stays_a_scalar() -> None:
    y = Value(2.0) * np.float64(3.0)
    assert type(y.data) is float and y.data == 6.0
    z = Value(2.0) * np.float32(3.0)  # float32 data: a 0-d float32 tensor, as NumPy's result
    assert z.dtype == np.float32


# ---- gradcheck sees the path backward() takes ---------------------------------------------
def test_gradcheck_exercises_backward_itself(monkeypatch) -> None:
    """Break only the path backward() takes for scalars (the compiled reverse pass) and
    gradcheck must fail, naming backward()."""
    real = engine._compile_pass

    def broken():
        run = real()

        def run_pass(root, token, create_graph, sink):
            if sink is engine._accumulate:  # backward(): every gradient doubled
                root._g = root._g * 2.0  # (the seed)
            return run(root, token, create_graph, sink)
        return run_pass

    monkeypatch.setattr(engine, "_compile_pass", broken)
    monkeypatch.setattr(engine, "_pass_version", -1)
    with pytest.raises(AssertionError, match=r"by backward\(\)"):
        gradcheck(lambda v: v * v, Value(1.5))
    monkeypatch.undo()
    engine._pass_version = -1
    assert gradcheck(lambda v: v * v, Value(1.5))


# ---- detach and no_grad (issue 11) -----------------------------------------------------------
def test_detach_and_no_grad_results_do_not_require_grad() -> None:
    x = Value(np.array([1.0, 2.0]))
    d = x.detach()
    assert d.requires_grad is False and d.op == "" and d.data is x.data
    with no_grad():
        for y in (x * 2.0, Value(3.0) * Value(4.0), x.exp(), Value(1.0).tanh()):
            assert y.requires_grad is False and y.op == "" and y.parents == ()
    y = (d * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, d.data)
    assert isinstance(d.grad, np.ndarray) and not d.grad.any()


# ---- indexing with a tuple inside the index; promotion for every arithmetic op -------------
@pytest.mark.parametrize("index", [((0, 0), slice(None)), ((0, 0, 2),), ((1, 1), (2, 2)),
                                   (slice(None), (0, 0)), ((0, 0),)])
def test_a_tuple_inside_an_index_accumulates_repeats_as_torch(index) -> None:
    torch = pytest.importorskip("torch")
    data = np.arange(12.0).reshape(4, 3)
    x = Value(data)
    (x[index] * 1.5).sum().backward()
    t = torch.tensor(data, requires_grad=True)
    (t[index] * 1.5).sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
        "/": lambda a, b: a / b, "**": lambda a, b: a ** b}


@pytest.mark.parametrize("op", list(_OPS))
@pytest.mark.parametrize("mine", [np.ones(3, np.float32), np.array(1.5, np.float32),
                                  np.ones(3, np.float64)])  # a Value holds float32 or 64
@pytest.mark.parametrize("other", [2.0, 2, np.float64(2.0), np.float32(2.0), np.float16(2.0),
                                   np.array(2.0), np.array([2.0, 2.0, 2.0], np.float32),
                                   np.array([2.0, 2.0, 2.0])])
def test_every_arithmetic_op_promotes_as_numpy_2(op, mine, other) -> None:
    """The rule (README): a Value's result has the dtype NumPy 2 gives its data with the
    other operand, both ways round: Python numbers are weak, NumPy scalars and arrays
    strong (NEP 50). Checked against NumPy's own result for every op."""
    f = _OPS[op]
    with np.errstate(all="ignore"):
        for got, want in ((f(Value(mine), other), f(mine, other)),
                          (f(other, Value(mine)), f(other, mine))):
            assert got.dtype == np.asarray(want).dtype, (op, mine.dtype, type(other))
    x = Value(mine)
    f(x, other).sum().backward()
    assert x.grad.dtype == mine.dtype  # a gradient has its Value's dtype
