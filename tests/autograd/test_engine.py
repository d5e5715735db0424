"""The reverse pass: accumulation, repeated backward, no_grad, detach, grad() and higher
derivatives, the order nodes are met in, the 1,000,000-node chain, dtypes, and numerically
delicate inputs."""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import CASES, Case

from autograd import Value, grad, gradcheck, is_grad_enabled, no_grad, topological_order
from autograd.engine import input_grads

# ---- accumulation ------------------------------------------------------------------------


def test_a_value_used_twice_gets_both_contributions() -> None:
    a = Value(3.0)
    b = a * a + a  # db/da = 2a + 1
    b.backward()
    assert a.grad == 7.0


def test_diamond_graph_runs_each_rule_once() -> None:
    x = Value(2.0)
    u, w = x * 3.0, x.exp()
    y = u * w  # dy/dx = 3e^x + 3x e^x
    y.backward()
    assert x.grad == pytest.approx(3 * math.exp(2) + 6 * math.exp(2), rel=1e-14)
    assert u.grad == pytest.approx(math.exp(2)) and w.grad == pytest.approx(6.0)


def test_each_rule_runs_once_not_once_per_path() -> None:
    """y ← y + y, 60 times: 2⁶⁰ paths from y to x; the gradient is summed per node."""
    x = Value(1.0)
    y = x
    for _ in range(60):
        y = y + y
    y.backward()
    assert x.grad == 2.0 ** 60 and y.data == 2.0 ** 60


def test_repeated_backward_accumulates_like_pytorch() -> None:
    x = Value(np.array([1.0, 2.0]))
    y = (x * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])  # leaf gradients double


def test_repeated_indices_accumulate() -> None:
    x = Value(np.array([10.0, 20.0, 30.0]))
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    m = Value(np.zeros((2, 2)))
    m[np.array([1, 1]), np.array([0, 0])].sum().backward()
    np.testing.assert_array_equal(m.grad, [[0.0, 0.0], [2.0, 0.0]])


def test_max_ties_share_the_gradient_equally() -> None:
    x = Value(np.array([1.0, 3.0, 3.0, 2.0]))
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5, 0.0])
    m = Value(np.array([[1.0, 1.0, 1.0], [2.0, 0.0, 2.0]]))
    m.max(axis=1).backward(np.array([3.0, 1.0]))
    np.testing.assert_allclose(m.grad, [[1.0, 1.0, 1.0], [0.5, 0.0, 0.5]], rtol=1e-15)


def test_zero_grad_resets_to_zero() -> None:
    x = Value(np.array([1.0, 2.0]))
    s = Value(1.5)
    (x * s).sum().backward()
    x.zero_grad()
    s.zero_grad()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    assert s.grad == 0.0
    (x * s).sum().backward()  # and accumulation starts again from zero
    np.testing.assert_array_equal(x.grad, [1.5, 1.5])
    assert s.grad == 3.0


def test_requires_grad_false_gets_no_gradient() -> None:
    w = Value(np.array([1.0, 2.0]), requires_grad=False)
    x = Value(np.array([3.0, 4.0]))
    (w * x).sum().backward()
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


def test_grad_reads_zero_before_backward_and_has_the_data_shape() -> None:
    s, t = Value(2.0), Value(np.ones((2, 3)))
    assert type(s.grad) is float and s.grad == 0.0
    assert isinstance(t.grad, np.ndarray) and t.grad.shape == (2, 3) and not t.grad.any()
    (s * t).sum().backward()
    assert type(s.grad) is float and s.grad == 6.0
    assert isinstance(t.grad, np.ndarray) and t.grad.shape == (2, 3)
    np.testing.assert_array_equal(t.grad, np.full((2, 3), 2.0))


def test_grad_arrays_are_writable_and_share_no_memory() -> None:
    """Each .grad is its own array (an optimizer may update it in place), and the
    `gradient` passed to backward() is not kept as one."""
    a, b = Value(np.ones(3)), Value(np.ones(3))
    c = a + b  # add hands the same gradient to both inputs
    seed = np.array([1.0, 2.0, 3.0])
    c.backward(seed)
    a.grad[0] = 100.0
    a.grad *= 2.0
    np.testing.assert_array_equal(b.grad, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(c.grad, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(seed, [1.0, 2.0, 3.0])
    x = Value(np.ones((2, 2)))
    x.sum().backward()  # sum's gradient is a broadcast (read-only) view of one number
    x.grad[0, 0] += 1.0
    np.testing.assert_array_equal(x.grad, [[2.0, 1.0], [1.0, 1.0]])


def test_intermediate_values_get_their_gradient_too() -> None:
    x = Value(np.array([1.0, -2.0]))
    h = x * 3.0
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)


def test_a_size_one_tensor_seeds_one() -> None:
    x = Value(np.array([[2.0]]))
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[4.0]])


def test_backward_with_a_given_gradient() -> None:
    x = Value(np.array([1.0, 2.0, 3.0]))
    (x * x).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])


# ---- no_grad and detach ------------------------------------------------------------------


def test_no_grad_records_no_history() -> None:
    x = Value(np.array([1.0, 2.0]))
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2.0).exp().sum()
    assert is_grad_enabled()
    assert y.op == "" and y.parents == () and y.inputs == ()
    np.testing.assert_allclose(y.data, np.exp(2.0) + np.exp(4.0))
    y.backward()
    assert not x.grad.any()  # nothing connects y to x


UNARY = ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sum", "mean", "max",
         "softmax", "log_softmax", "__neg__"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("scalar", [True, False], ids=["scalar", "tensor"])
def test_no_grad_covers_every_op(name: str, scalar: bool) -> None:
    x = Value(0.7) if scalar else Value(np.array([0.7, 1.2]))
    with no_grad():
        outs = [getattr(x, name)(), x * x, x + 1.0, 2.0 - x, x / 3.0, x ** 2, 2.0 ** x]
    for out in outs:
        assert out.op == "" and out.parents == () and out.inputs == ()
    live = getattr(x, name)()  # and outside the block, history again
    assert live.op == name.strip("_") and live.parents == (x,)


@pytest.mark.parametrize("name", UNARY)
def test_requires_grad_false_propagates(name: str) -> None:
    frozen = Value(0.7, requires_grad=False)
    assert getattr(frozen, name)().requires_grad is False
    assert (frozen * Value(2.0)).requires_grad is True


def test_no_grad_restores_the_mode_after_an_exception() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()
    assert (Value(1.0) * 2.0).op == "mul"


def test_detach_keeps_data_and_drops_history() -> None:
    x = Value(np.array([1.0, 2.0]), label="x")
    y = x * 3.0
    d = y.detach()
    np.testing.assert_array_equal(d.data, y.data)
    assert d.op == "" and d.parents == ()
    (d * x).sum().backward()  # the gradient stops at d
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])
    assert not y.grad.any()


# ---- grad() and higher derivatives --------------------------------------------------------


def test_grad_leaves_every_dot_grad_untouched() -> None:
    x = Value(np.array([1.0, 2.0]))
    s = Value(3.0)
    x.grad = np.array([10.0, 20.0])
    h = x * s
    out = (h * h).sum()
    gx, gs = grad(out, [x, s])
    np.testing.assert_allclose(gx, 2 * 9.0 * x.data)
    assert type(gs) is float and gs == pytest.approx(2 * 3.0 * 5.0)
    np.testing.assert_array_equal(x.grad, [10.0, 20.0])
    assert s.grad == 0.0 and not h.grad.any() and out.grad == 0.0


def test_grad_of_a_single_value_and_of_an_unused_input() -> None:
    x, unused = Value(2.0), Value(np.ones(3))
    gx, gu = grad(x ** 3, [x, unused])
    assert gx == 12.0
    assert isinstance(gu, np.ndarray) and gu.shape == (3,) and not gu.any()
    assert grad(x ** 3, x) == (12.0,)


def test_grad_with_a_gradient_for_a_tensor_output() -> None:
    x = Value(np.array([1.0, 2.0]))
    (gx,) = grad(x * x, x, gradient=np.array([1.0, -1.0]))
    np.testing.assert_array_equal(gx, [2.0, -4.0])


def _second(f, x0: float) -> float:
    x = Value(x0)
    (g,) = grad(f(x), x, create_graph=True)
    assert isinstance(g, Value)
    (h,) = grad(g, x)
    return h


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# f, x0, f''(x0) written out by hand
SECOND = [
    ("exp",      lambda x: x.exp(),     0.7,  math.exp(0.7)),
    ("log",      lambda x: x.log(),     1.3,  -1 / 1.3 ** 2),
    ("sqrt",     lambda x: x.sqrt(),    1.7,  -0.25 * 1.7 ** -1.5),
    ("tanh",     lambda x: x.tanh(),    0.4,  -2 * math.tanh(0.4) * (1 - math.tanh(0.4) ** 2)),
    ("sigmoid",  lambda x: x.sigmoid(), -0.6, _sig(-0.6) * (1 - _sig(-0.6)) * (1 - 2 * _sig(-0.6))),
    ("relu",     lambda x: x.relu(),    0.8,  0.0),
    ("abs",      lambda x: x.abs(),     -0.8, 0.0),
    ("neg",      lambda x: -x,          0.8,  0.0),
    ("pow",      lambda x: x ** 3,      -1.2, 6 * -1.2),
    ("pow-frac", lambda x: x ** 2.5,    1.2,  2.5 * 1.5 * 1.2 ** 0.5),
    ("rpow",     lambda x: 2.0 ** x,    0.9,  math.log(2) ** 2 * 2 ** 0.9),
    ("square",   lambda x: x * x,       0.9,  2.0),
    ("recip",    lambda x: 1.0 / x,     0.9,  2 / 0.9 ** 3),
    ("add-sub",  lambda x: (x + 2.0) - x * 0.5, 0.9, 0.0),
]


@pytest.mark.parametrize("f, x0, expected", [s[1:] for s in SECOND], ids=[s[0] for s in SECOND])
def test_second_derivative_of_elementwise_ops(f, x0: float, expected: float) -> None:
    assert _second(f, x0) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def _hessian(f, *x0: float) -> np.ndarray:
    xs = [Value(x) for x in x0]
    gs = grad(f(*xs), xs, create_graph=True)
    return np.array([grad(g, xs) for g in gs])


# f(a, b), (a0, b0), the Hessian [[f_aa, f_ab], [f_ba, f_bb]] written out by hand
A, B = 1.4, 0.6
HESSIANS = [
    ("add", lambda a, b: a + b, [[0, 0], [0, 0]]),
    ("sub", lambda a, b: a - b, [[0, 0], [0, 0]]),
    ("mul", lambda a, b: a * b, [[0, 1], [1, 0]]),
    ("div", lambda a, b: a / b, [[0, -1 / B ** 2], [-1 / B ** 2, 2 * A / B ** 3]]),
    ("pow", lambda a, b: a ** b,
     [[B * (B - 1) * A ** (B - 2), A ** (B - 1) * (1 + B * math.log(A))],
      [A ** (B - 1) * (1 + B * math.log(A)), A ** B * math.log(A) ** 2]]),
]


@pytest.mark.parametrize("f, expected", [h[1:] for h in HESSIANS], ids=[h[0] for h in HESSIANS])
def test_hessian_of_binary_ops(f, expected: list) -> None:
    np.testing.assert_allclose(_hessian(f, A, B), expected, rtol=1e-12, atol=1e-15)


def test_third_derivatives() -> None:
    x = Value(0.7)
    (g1,) = grad(x ** 4, x, create_graph=True)
    (g2,) = grad(g1, x, create_graph=True)
    (g3,) = grad(g2, x)
    assert (g1.item(), g2.item(), g3) == pytest.approx((4 * 0.7 ** 3, 12 * 0.7 ** 2, 24 * 0.7))

    t = math.tanh(0.3)
    y = Value(0.3)
    (d1,) = grad(y.tanh(), y, create_graph=True)
    (d2,) = grad(d1, y, create_graph=True)
    (d3,) = grad(d2, y)
    assert d3 == pytest.approx(-2 * (1 - t * t) * (1 - 3 * t * t), rel=1e-12)


def test_second_derivative_of_a_tensor_function_matches_finite_differences() -> None:
    x = Value(np.array([0.3, -0.8, 1.1]))
    assert gradcheck(lambda v: grad((v.tanh() * v).sum(), v, create_graph=True)[0], x)


def _mlp_loss(params: list[Value], X: np.ndarray, y: np.ndarray) -> Value:
    W1, b1, W2, b2 = params
    h = (X @ W1 + b1).tanh()
    pred = h @ W2 + b2
    return ((pred - y) ** 2).mean()


def test_hessian_vector_product_of_an_mlp_loss() -> None:
    """H·v from differentiating <∇L, v> equals (∇L(p + εv) - ∇L(p - εv)) / 2ε."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    p0 = [rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=4), 0.3]
    v = [rng.normal(size=np.shape(p)) if np.shape(p) else 0.7 for p in p0]

    params = [Value(p) for p in p0]
    gs = grad(_mlp_loss(params, X, y), params, create_graph=True)
    dot = sum(((g * vi).sum() for g, vi in zip(gs, v)), Value(0.0))
    hv = grad(dot, params)

    eps = 1e-5

    def gradient_at(sign: float) -> tuple:
        ps = [Value(p + sign * eps * vi) for p, vi in zip(p0, v)]
        return grad(_mlp_loss(ps, X, y), ps)

    plus, minus = gradient_at(1.0), gradient_at(-1.0)
    for h, gp, gm in zip(hv, plus, minus):
        np.testing.assert_allclose(h, (np.asarray(gp) - gm) / (2 * eps), rtol=1e-6, atol=1e-8)


# ---- the order nodes are met in ----------------------------------------------------------


def reference_gradients(root: Value) -> dict[Value, object]:
    """The chain rule the plain way: every node of a topological order, last first."""
    total: dict[Value, object] = {root: 1.0 if root.is_scalar else np.ones_like(root.data)}
    for node in reversed(topological_order(root)):
        if node in total:
            for x, gx in input_grads(node, total[node]):
                total[x] = total[x] + gx if x in total else gx
    return total


STEPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b,
         "*": lambda a, b: (a * b).tanh(), "tanh": lambda a, b: a.tanh()}


@settings(max_examples=60, deadline=None)
@given(program=st.lists(st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 99),
                                  st.integers(0, 99), st.sampled_from([0, 1, 40, 2000])),
                        min_size=1, max_size=30),
       tensor=st.booleans(), seed=st.integers(0, 2**16))
def test_every_node_hears_from_all_its_users_first(program, tensor: bool, seed: int) -> None:
    """Random graphs whose nodes are made with other Values made between them (none, a few,
    thousands), and whose late nodes use early ones, so the pass meets nodes close to, far
    below and long before the root: every gradient, leaves' and intermediate, is the one
    the plain reverse topological order gives."""
    rng = np.random.default_rng(seed)
    nodes = [Value(rng.uniform(-1, 1, 3) if tensor else rng.uniform(-1, 1)) for _ in range(3)]
    for name, i, j, between in program:
        for _ in range(between):  # Values made, and dropped, between the graph's own
            Value(0.5) * 2.0
        nodes.append(STEPS[name](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    loss = nodes[-1] + nodes[len(nodes) // 2]
    if tensor:
        loss = loss.sum()
    loss.backward()
    expected = reference_gradients(loss)
    for v in nodes:
        want = expected.get(v, 0.0 if not tensor else np.zeros(3))
        np.testing.assert_allclose(v.grad, want, rtol=1e-12, atol=1e-12)


def test_a_node_far_below_the_root_waits_for_a_user_made_much_later() -> None:
    """y is used by f, made just after it, and by a long chain made thousands of Values
    later; the root reaches f first, far below it, and y again at the chain's end."""
    x = Value(0.3)
    y = x * x
    f = y.tanh()
    for _ in range(3000):
        Value(0.5) * 2.0
    z = y * 1.0
    for _ in range(3000):
        z = z * 1.0 + 0.0
    (f + z).backward()
    assert y.grad == pytest.approx(1 - math.tanh(0.09) ** 2 + 1, rel=1e-12)
    assert x.grad == pytest.approx(2 * 0.3 * y.grad, rel=1e-12)


COPIES = {"copy": copy.copy, "deepcopy": copy.deepcopy,
          "pickle": lambda v: pickle.loads(pickle.dumps(v))}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_a_copy_has_a_place_of_its_own_in_the_pass(name: str) -> None:
    """A copied or unpickled Value (a leaf, and a node with its inputs) used beside its
    original: each gets its own gradient, as if made afresh."""
    copier = COPIES[name]
    a = Value(0.5)
    b = copier(a)
    h = (a * a).tanh()
    h2 = copy.deepcopy(h) if name != "pickle" else copier(h)
    y = a * 2.0 + b * 3.0 + h * 5.0 + h2 * 7.0
    for _ in range(10):
        y = y * 1.0
    y.backward()
    assert b.grad == 3.0
    assert h.grad == 5.0 and h2.grad == 7.0
    assert a.grad == pytest.approx(2.0 + 5.0 * (1 - math.tanh(0.25) ** 2) * 2 * 0.5, rel=1e-12)
    assert h2.parents[0].parents[0].grad == pytest.approx(7.0 * (1 - math.tanh(0.25) ** 2),
                                                          rel=1e-12)


# ---- a deep graph -------------------------------------------------------------------------


def test_a_chain_of_a_million_steps() -> None:
    """y ← 1.0001·y + 0.0001, a million times (two million nodes), then backward: no
    RecursionError, and the closed form y = (x + 1)·aⁿ - 1, dy/dx = aⁿ."""
    a, n, x0 = 1.0001, 1_000_000, 0.25
    x = Value(x0)
    y = x
    for _ in range(n):
        y = y * a + 0.0001
    y.backward()
    assert y.data == pytest.approx((x0 + 1) * a ** n - 1, rel=1e-9)
    assert x.grad == pytest.approx(a ** n, rel=1e-9)


def test_topological_order_puts_parents_first() -> None:
    x = Value(1.0)
    y = x
    for _ in range(5000):  # deeper than the recursion limit
        y = y + x
    order = topological_order(y)
    assert len(order) == 5001 and order[0] is x and order[-1] is y
    position = {id(v): i for i, v in enumerate(order)}
    assert all(position[id(p)] < position[id(v)] for v in order for p in v.parents)


# ---- dtypes and delicate numbers ----------------------------------------------------------

TENSOR_CASES = [c for c in CASES if all(s != () for s in c.shapes)]


@pytest.mark.parametrize("case", TENSOR_CASES, ids=[c.name for c in TENSOR_CASES])
def test_float32_stays_float32(case: Case) -> None:
    rng = np.random.default_rng(1)
    values = [Value(d.astype(np.float32)) for d in case.inputs(rng)]
    assert all(v.dtype == np.float32 for v in values)
    out = case.f(*values)
    if case.op == "to_scalar":  # a scalar Value holds a Python float; its inputs keep float32
        assert type(out.data) is float
    else:
        assert out.dtype == np.float32 and out.data.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for v in values:
        assert v.grad.dtype == np.float32
        assert v.data.dtype == np.float32
    # differentiable gradients, and their gradients, stay float32 too
    gs = grad((out * out).sum(), values, create_graph=True)
    assert [g.dtype for g in gs] == [np.float32] * len(values)
    hs = grad(sum((g.sum() for g in gs), Value(0.0)), values)
    assert [h.dtype for h in hs] == [np.float32] * len(values)


def test_log_of_zero_is_minus_infinity_with_a_warning() -> None:
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        s = Value(0.0).log()
    assert s.data == -math.inf and type(s.data) is float
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        t = Value(np.array([0.0, 1.0])).log()
    np.testing.assert_array_equal(t.data, [-np.inf, 0.0])


@pytest.mark.parametrize("values", [[1000.0, 0.0], [-1000.0, 0.0], [1000.0, 1000.0]])
def test_softmax_and_log_softmax_of_large_logits(values: list) -> None:
    x = Value(np.array(values))
    z = np.array(values) - max(values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid value
        p = x.softmax()
        lp = x.log_softmax()
        (lp * np.array([1.0, 0.0])).sum().backward()
    np.testing.assert_allclose(p.data, np.exp(z) / np.exp(z).sum(), rtol=1e-14)
    np.testing.assert_allclose(lp.data, z - np.log(np.exp(z).sum()), rtol=1e-14)
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad, np.array([1.0, 0.0]) - p.data, atol=1e-15)


def test_sigmoid_of_large_inputs_does_not_overflow() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Value(np.array([-1000.0, 0.0, 1000.0])).sigmoid()
        assert Value(-1000.0).sigmoid().data == 0.0
    np.testing.assert_array_equal(s.data, [0.0, 0.5, 1.0])


def test_pow_with_a_zero_base_has_the_limits_pytorch_uses() -> None:
    """d(xᵇ)/dx = 0 where b = 0 (not 0·0⁻¹ = nan); d(xᵇ)/db = 0 where x = 0 ≤ b (not
    0·log 0 = nan), so one zero in x does not poison the exponent's gradient."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no division by zero on the way
        x, e = Value(np.array([0.0, 2.0])), Value(2.0)
        (x ** e).sum().backward()
        np.testing.assert_array_equal(x.grad, [0.0, 4.0])
        assert e.grad == pytest.approx(4 * math.log(2), rel=1e-14)

        z = Value(np.array([0.0, 3.0]))
        (z ** 0).sum().backward()
        np.testing.assert_array_equal(z.grad, [0.0, 0.0])

        a, b = Value(0.0), Value(0.0)
        (a ** b).backward()
        assert (a.grad, b.grad) == (0.0, 0.0)


POLES = [
    ("log", lambda x: x.log(), math.inf),
    ("sqrt", lambda x: x.sqrt(), math.inf),
    ("reciprocal", lambda x: 1.0 / x, -math.inf),
    ("divide-by-zero", lambda x: (x + 1.0) / (x * 0.0), math.nan),
    ("divisor", lambda x: 2.0 / (x * 1.0), -math.inf),
]


@pytest.mark.parametrize("f, expected", [p[1:] for p in POLES], ids=[p[0] for p in POLES])
@pytest.mark.parametrize("scalar", [True, False], ids=["scalar", "tensor"])
def test_gradient_at_a_pole_is_infinite_not_a_crash(f, expected: float, scalar: bool) -> None:
    """At x = 0 a scalar (Python float) and a tensor give the same inf/nan gradient (as
    PyTorch), never a ZeroDivisionError."""
    x = Value(0.0) if scalar else Value(np.array([0.0]))
    with np.errstate(all="ignore"):  # numpy's warnings are not the point here
        y = f(x)
        (y if scalar else y.sum()).backward()  # scalars: Python floats all the way
    np.testing.assert_array_equal(x.grad, expected if scalar else [expected])
    assert type(x.grad) is (float if scalar else np.ndarray)
