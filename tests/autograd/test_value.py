"""The Value object: construction, attributes, identity semantics, comparisons, and the
errors bad input gets (each naming what was given)."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Value

# ---- construction ------------------------------------------------------------------------


@pytest.mark.parametrize("data", [3, 2.5, True, np.float64(1.5)])
def test_a_python_number_gives_a_scalar(data: object) -> None:
    v = Value(data)
    assert type(v.data) is float and v.data == float(data)
    assert v.shape == () and v.ndim == 0 and v.size == 1 and v.dtype == np.float64
    assert v.is_scalar


@pytest.mark.parametrize("data", [[1, 2, 3], (1.0, 2.0), [[1, 2], [3, 4]], np.arange(6),
                                  np.ones((2, 3), dtype=np.float16)])
def test_lists_tuples_and_arrays_give_a_float64_tensor(data: object) -> None:
    v = Value(data)
    assert isinstance(v.data, np.ndarray) and v.dtype == np.float64
    np.testing.assert_array_equal(v.data, np.asarray(data, dtype=np.float64))
    assert v.shape == np.shape(data) and v.ndim == len(np.shape(data))
    assert v.size == np.size(data) and not v.is_scalar


def test_float32_is_kept_and_the_input_is_not_aliased() -> None:
    a = np.array([1.0, 2.0], dtype=np.float32)
    v = Value(a)
    assert v.dtype == np.float32
    a[0] = 99.0
    assert v.data[0] == 1.0


def test_value_of_a_value_is_an_equal_leaf() -> None:
    x = Value(np.array([1.0, 2.0]), label="x")
    y = x * 2.0
    z = Value(y)
    assert z is not y and z.op == "" and z.parents == ()
    np.testing.assert_array_equal(z.data, y.data)
    z.data[0] = 7.0  # its own copy
    assert y.data[0] == 2.0
    assert Value(x).label == "x" and Value(Value(2.0)).data == 2.0


def test_label_is_settable() -> None:
    v = Value(1.0, label="w1")
    assert v.label == "w1"
    v.label = "weight"
    assert v.label == "weight"
    assert Value(1.0).label == ""


def test_op_and_parents() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    assert a.op == "" and a.parents == ()
    assert c.op == "mul" and c.parents == (a, b)
    d = c + 1.0
    assert d.op == "add" and d.parents == (c,) and d.inputs == (c, 1.0)
    assert c.exp().op == "exp" and c.exp().parents == (c,)


def test_item_and_numpy() -> None:
    assert Value(2.5).item() == 2.5 and type(Value(2.5).item()) is float
    assert Value(np.array([[4.0]])).item() == 4.0
    t = Value(np.array([1.0, 2.0]))
    arr = t.numpy()
    arr[0] = 100.0  # a copy: the Value does not change
    assert t.data[0] == 1.0
    s = Value(3.0).numpy()
    assert isinstance(s, np.ndarray) and s.shape == () and s == 3.0
    with pytest.raises(ValueError, match=r"\(2,\)"):
        t.item()


# ---- identity semantics and comparisons -------------------------------------------------


def test_equality_and_hash_are_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    same = a
    assert (same == a) is True and (a == b) is False and (a != b) is True
    assert hash(a) == object.__hash__(a) and hash(b) == object.__hash__(b)  # by identity
    s = {a, b, a}
    assert len(s) == 2 and a in s and Value(1.0) not in s
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    t1, t2 = Value(np.ones(3)), Value(np.ones(3))
    assert (t1 == t2) is False and len({t1, t2}) == 2  # no elementwise ==, no error


def test_comparisons_return_plain_bools_and_arrays() -> None:
    a, b = Value(2.0), Value(3.0)
    for r, expected in ((a < b, True), (a <= b, True), (a > b, False), (a >= 2.0, True),
                        (3 > a, True), (a < 1, False)):
        assert type(r) is bool and r is expected
    t = Value(np.array([1.0, 2.0, 3.0]))
    r = t > 1.5
    assert type(r) is np.ndarray and r.dtype == bool
    np.testing.assert_array_equal(r, [False, True, True])
    np.testing.assert_array_equal(t <= Value(np.array([0.0, 2.0, 4.0])), [False, True, True])
    np.testing.assert_array_equal(np.array([2.0, 2.0, 2.0]) >= t, [True, True, False])


# ---- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("data, error, words", [
    ("abc", TypeError, ["string", "'abc'"]),
    (b"xyz", TypeError, ["string"]),
    ([[1, 2], [3]], ValueError, ["ragged", "list"]),
    (np.array([1, "a"], dtype=object), TypeError, ["object"]),
    (np.array(["1", "2"]), TypeError, ["<U1"]),
    ({"a": 1}, TypeError, ["dict"]),
    (None, TypeError, ["NoneType"]),
    (1 + 2j, TypeError, ["complex"]),
], ids=["str", "bytes", "ragged", "object-array", "string-array", "dict", "None", "complex"])
def test_bad_data_is_refused_naming_what_was_given(data: object, error: type,
                                                   words: list) -> None:
    with pytest.raises(error) as excinfo:
        Value(data)
    msg = str(excinfo.value)
    for word in words:
        assert word in msg, f"{word!r} not in {msg!r}"


@pytest.mark.parametrize("left, right", [((2, 3), (2, 3)), ((3,), (4,)), ((2, 3, 4), (5, 2)),
                                         ((4,), (3, 2))])
def test_matmul_shape_mismatch_names_both_shapes(left: tuple, right: tuple) -> None:
    with pytest.raises(ValueError) as excinfo:
        Value(np.ones(left)) @ Value(np.ones(right))
    msg = str(excinfo.value)
    assert str(left) in msg and str(right) in msg


def test_matmul_with_a_scalar_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\(\)"):
        Value(2.0) @ Value(np.ones(3))


def test_backward_on_a_tensor_without_gradient_names_the_shape() -> None:
    y = Value(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape() -> None:
    y = Value(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError) as excinfo:
        y.backward(np.ones((3, 2)))
    assert "(2, 3)" in str(excinfo.value) and "(3, 2)" in str(excinfo.value)


def test_setting_grad_of_the_wrong_shape() -> None:
    v = Value(np.ones(3))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        v.grad = np.ones(2)


def test_indexing_a_scalar_is_refused() -> None:
    with pytest.raises(TypeError, match="scalar"):
        Value(2.0)[0]


def test_indexing_with_floats_is_refused() -> None:
    with pytest.raises(IndexError, match="float"):
        Value(np.ones(3))[np.array([0.0, 1.0])]


def test_an_operand_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError):
        "a" * Value(np.ones(2))


def test_truth_value_of_a_tensor_is_ambiguous() -> None:
    assert bool(Value(1.0)) and not bool(Value(0.0))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        bool(Value(np.ones(2)))
