"""explain(): the document's hand calculations, written from the graph."""

import itertools
import math
import re

import numpy as np
import pytest

from autograd import Value, explain, topological_order
from autograd.ops import OPS
from autograd.show.explain import FORMATS, fmt
from demos.document import (  # the document's inputs and weights
    DIGIT_B1,
    DIGIT_W1,
    DIGIT_X,
    DOG_B1,
    DOG_B2,
    DOG_W1,
    DOG_W2,
    DOG_X,
    DOG_Y,
    dog_cat_network,
)
from demos.document import single_neuron as neuron


def dogcat(loss="ce"):
    """The 4-3-2 network with engine Values: h = ReLU(x @ W1.T + b1), z = h @ W2.T + b2."""
    w1, b1 = Value(DOG_W1, label="W1"), Value(DOG_B1, label="b1")
    w2, b2 = Value(DOG_W2, label="W"), Value(DOG_B2, label="b")
    h = (np.array(DOG_X) @ w1.T + b1).relu()
    h.label = "h"
    z = h @ w2.T + b2
    z.label = "z"
    y = np.array(DOG_Y)                        # the true label: dog
    if loss == "ce":
        L = (z.log_softmax() * y).sum() * -1.0
    else:                                      # the document's (1/2) × Σ (p - y)²
        p = z.softmax()
        p.label = "p"
        L = ((p - y) ** 2).sum() * 0.5
    L.label = "L"
    return L, w2


def test_numbers_are_written_like_the_document():
    assert [fmt(v) for v in (0.71, 0.41000000000000003, -0.438, 1.0, 2.36553, 0.0035, -0.0)] \
        == ["0.71", "0.41", "-0.438", "1", "2.366", "0.0035", "0"]
    assert fmt(0.8031102945) == "0.803" and fmt(1e-20) == "0"


def test_single_neuron_forward():
    text = explain(neuron())
    # the products, their values, the total; the bias written "- 0.3", as the document does
    assert "  z = (0.5 × 0.8) + (0.7 × 0.3) + (0.2 × 0.5) - 0.3 = 0.4 + 0.21 + 0.1 - 0.3 = 0.41\n" \
        in text
    assert "  a = ReLU(0.41) = 0.41\n" in text
    assert "  w1 = 0.5\n" in text and "  x3 = 0.5\n" in text
    assert "Backward" not in text  # no gradients yet
    assert text.index("w1 = 0.5") < text.index("z = ") < text.index("a = ReLU")


def test_single_neuron_backward():
    a = neuron()
    a.backward()
    text = explain(a)
    assert "da/dz = ∂a/∂z = 1" in text
    for w, x in (("w1", "0.8"), ("w2", "0.3"), ("w3", "0.5")):
        assert f"da/d{w} = da/dz × dz/d{w} = 1 × {x} = {x}\n" in text
    assert "da/dx1 = da/dz × dz/dx1 = 1 × 0.5 = 0.5\n" in text


def test_dog_cat_forward_lines():
    L, _ = dogcat()
    text = explain(L)
    assert "h₁ = ReLU(0.71) = 0.71" in text
    for line in (("(0.6 × 0.9) + (0.4 × 0.2) + (0.5 × 0.8) + (0.3 × 0.3) - 0.4"
                 " = 0.54 + 0.08 + 0.4 + 0.09 - 0.4 = 0.71"),
                 ("(0.2 × 0.9) + (0.7 × 0.2) + (0.3 × 0.8) + (0.6 × 0.3) - 0.3"
                 " = 0.18 + 0.14 + 0.24 + 0.18 - 0.3 = 0.44"),
                 ("(0.3 × 0.9) + (0.5 × 0.2) + (0.2 × 0.8) + (0.8 × 0.3) - 0.5"
                 " = 0.27 + 0.1 + 0.16 + 0.24 - 0.5 = 0.27"),
                 ("z₁ = (0.8 × 0.71) + (0.6 × 0.44) + (0.3 × 0.27) - 0.2"
                 " = 0.568 + 0.264 + 0.081 - 0.2 = 0.713"),
                 ("z₂ = (0.3 × 0.71) + (0.7 × 0.44) + (0.9 × 0.27) - 0.3"
                 " = 0.213 + 0.308 + 0.243 - 0.3 = 0.464")):
        assert line in text
    # log(3.631) is 1.2895: the sum is written finer so the line checks at 3 decimals
    assert "log(e^0.713 + e^0.464) = log(2.0401 + 1.5904) = log(3.6305) = 1.289" in text


def test_dog_cat_gradient_is_the_documents_chain_rule():
    L, w2 = dogcat()
    L.backward()
    text = explain(L)
    assert "dL/dz₁ = p₁ - y₁ = 0.562 - 1 = -0.438\n" in text
    assert "dL/dz₂ = p₂ - y₂ = 0.438 - 0 = 0.438\n" in text
    assert "dL/dW₁,₁ = dL/dz₁ × dz₁/dW₁,₁ = -0.438 × 0.71 = -0.311\n" in text
    assert w2.grad[0, 0] == pytest.approx(-0.311029, abs=1e-6)
    # the hidden layer: two paths meet, dL/dh₁ = Σⱼ dL/dzⱼ × Wⱼ₁
    assert "dL/dh₁ = dL/dz₁ × dz₁/dh₁ + dL/dz₂ × dz₂/dh₁ = (-0.438 × 0.8) + (0.438 × 0.3)" \
        " = -0.35 + 0.131 = -0.219" in text
    # 0.044 × 0.2 would be 0.0088, not 0.00876: the factor gets the digit it needs
    assert "dL/dW1[2,2] = dL/dv1[2] × dv1[2]/dW1[2,2] = 0.0438 × 0.2 = 0.00876\n" in text


def test_a_tensor_root_starts_from_the_gradient_it_holds():
    w, h = Value(DOG_W2, label="W"), Value([0.71, 0.44, 0.27], label="h")
    z = h @ w.T + Value(DOG_B2, label="b")
    z.label = "z"
    (z.log_softmax() * np.array([-1.0, 0.0])).sum().backward()
    text = explain(z)
    assert "z₁ = (0.8 × 0.71) + (0.6 × 0.44) + (0.3 × 0.27) - 0.2 = 0.568 + 0.264 + 0.081" \
        " - 0.2 = 0.713" in text
    assert "from the gradient z holds, dL/dz = [-0.438, 0.438]:" in text
    assert "dL/dW₁,₁ = dL/dz₁ × dz₁/dW₁,₁ = -0.438 × 0.71 = -0.311\n" in text


def test_softmax_lines_and_the_mse_gradient():
    L, w2 = dogcat(loss="mse")
    L.backward()
    text = explain(L)
    for line in ("e^0.713 = 2.04", "e^0.464 = 1.59", "Sum = 2.0401 + 1.5904 = 3.631",
                 "p₁ = 2.04 / 3.631 = 0.562", "p₂ = 1.59 / 3.631 = 0.438"):
        assert line in text
    # with the half-sum squared error the logit gradient is not p - y but
    # Σⱼ (pⱼ - yⱼ) × dpⱼ/dz₁, and dL/dw₁ is -0.153, not -0.311
    # (-0.438 × 0.246) + (0.438 × (-0.246)) gives -0.2155: the factors get one digit more
    assert "dL/dz₁ = dL/dp₁ × dp₁/dz₁ + dL/dp₂ × dp₂/dz₁ = (-0.4381 × 0.2462) + " \
        "(0.4381 × (-0.2462)) = -0.108 - 0.108 = -0.216" in text
    assert "dL/dW₁,₁ = dL/dz₁ × dz₁/dW₁,₁ = -0.216 × 0.71 = -0.153" in text
    assert w2.grad[0, 0] == pytest.approx(-0.153129, abs=1e-6)


def test_nn_cross_entropy_graph_reads_as_p_minus_y():
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "cross_entropy"):
        pytest.skip("nn.cross_entropy not available yet")
    model = dog_cat_network()
    z = model(DOG_X)
    L = nn.cross_entropy(z, 0)
    L.backward()
    text = explain(L)
    assert "= 0.562 - 1 = -0.438" in text
    # parameters are named from their paths as the document names them, the path once
    assert "dL/dW₂[1,1] = " in text and "-0.438 × 0.71 = -0.311" in text
    assert "  W₂ = [[" in text and "   (layers.1.w)\n" in text and "layers.1.w₁" not in text


def test_sigmoid_is_written_out():
    s = Value(2.0, label="x").sigmoid()
    s.label = "s"
    assert "s = σ(2) = 1 / (1 + e^(-2)) = 1 / (1 + 0.135) = 1 / 1.135 = 0.881" in explain(s)


def test_unlabelled_values_get_short_names_in_forward_order():
    a = Value(3.0)
    b = a.exp()
    c = b.log() * 2.0
    text = explain(c)
    assert "  v1 = 3\n" in text and "  v2 = e^3 = 20.086\n" in text
    # an unlabelled root is not called L: nothing says it is a loss
    assert "  v3 = log(20.086) = 3\n" in text and "  out = 3 × 2 = 6\n" in text


def test_a_value_used_twice_sums_its_gradient():
    a = Value(3.0, label="a")
    b = a.exp()
    b.label = "b"
    c = b * a
    c.label = "L"
    c.backward()
    text = explain(c)
    assert "dL/da += dL/db × db/da = 3 × 20.0855 = 60.257" in text  # 3 × 20.086 = 60.258
    assert "dL/da = 20.0855 + 60.2566 = 80.342 (summed over its 2 uses)" in text
    assert float(re.search(r"dL/da = .* = ([\d.]+) \(summed", text).group(1)) == \
        pytest.approx(a.grad, abs=5e-4)


def test_every_written_gradient_matches_the_engine():
    rng = np.random.default_rng(3)
    w = Value(rng.normal(size=(3, 2)), label="w")
    x = Value(rng.normal(size=(2,)), label="x")
    out = (w @ x).tanh()
    out.label = "o"
    loss = (out * out).mean() + (w.sum() * 0.1).sigmoid()
    loss.label = "loss"
    loss.backward()
    text = explain(loss)
    sub = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
    checked = 0
    pattern = (r"dloss/d(w|x)([₀-₉,]+) = .* = (-?[\d.]+(?:e-?\d+)?)(?: \(summed over its 2 uses\))?\n")
    for m in re.finditer(pattern, text):
        idx = tuple(int(i) - 1 for i in m.group(2).translate(sub).split(","))
        grad = {"w": w, "x": x}[m.group(1)].grad[idx]
        assert m.group(3) == fmt(grad), m.group(0)
        checked += 1
    assert checked == 8  # 6 elements of w, 2 of x


def test_large_tensors_are_summarised_and_the_text_says_so():
    big = Value(np.arange(20.0), label="big")
    s = (big * 2.0).sum()
    s.label = "L"
    s.backward()
    text = explain(s)
    assert "big: shape (20,), 20 values (min 0, mean 9.5, max 19) — too large" in text
    assert "too large to write out (more than 16 elements)" in text
    assert "L = sum(big × 2) = 380 (too many terms to write out: a sum over more than 16 terms)" \
        in text
    long_dot = Value(np.ones(17), label="u") @ Value(np.ones(17), label="v")
    assert "sums of more than 16 products" in explain(long_dot)


def test_sixteen_products_are_still_written_out():
    """The document's digit network: z₁ is a sum of 16 products, written out in full."""
    w = Value(DIGIT_W1[:2], label="W")            # its first two hidden neurons
    z = np.array(DIGIT_X) @ w.T + Value(DIGIT_B1[:2], label="b")
    z.label = "z"
    text = explain(z)
    assert "W: shape (2, 16), 32 values" in text
    assert "z₁ = (0.5 × 0.1) + (0.8 × 0.7) + (0.1 × 0.2) + (0 × 0.1) + (0.3 × 0.2) + " \
        "(0.9 × 0.8) + (0.2 × 0.2) + (0 × 0.1) + (0.4 × 0.1) + (0.7 × 0.6) + (0.1 × 0.3) + " \
        "(0.1 × 0.2) + (0.2 × 0.1) + (0.8 × 0.7) + (0 × 0.1) + (0 × 0.1) - 0.5 = 0.05 + 0.56 + " \
        "0.02 + 0 + 0.06 + 0.72 + 0.04 + 0 + 0.04 + 0.42 + 0.03 + 0.02 + 0.02 + 0.56 + 0 + 0 " \
        "- 0.5 = 2.04\n" in text
    assert text.endswith("- 0.2 = 0.64\n")  # the document's "0.31 - 0.2 = 0.11" is wrong


def test_every_op_has_a_formatter():
    assert set(OPS) <= set(FORMATS)


def test_refuses_non_values():
    with pytest.raises(TypeError, match="needs a Value"):
        explain(0.41)


_rng = np.random.default_rng(0)
_A = _rng.uniform(0.5, 1.5, size=(2, 3))
_B = _rng.uniform(0.5, 1.5, size=(3,))
_M = _rng.normal(size=(2, 2, 2))
SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
CASES = {
    "add-sub": lambda a, b, c: (a + b - c * b).sum(),
    "div": lambda a, b, c: (a / b).sum() / c,
    "pow": lambda a, b, c: (a ** c).sum() + (b ** 2).sum(),
    "neg-abs": lambda a, b, c: (-(a - 1.0)).abs().sum(),
    "sqrt-log-exp": lambda a, b, c: (a.sqrt() + a.log() - b.exp()).mean(),
    "tanh-sigmoid-relu": lambda a, b, c: ((a - 1.0).tanh() + (b - c).sigmoid()
                                          + (a - c).relu()).sum(),
    "mean-max": lambda a, b, c: a.mean(axis=0).sum() + a.max(axis=1).sum() * c,
    "views": lambda a, b, c: (a.reshape(3, 2).T * b.broadcast_to((2, 3))).sum(),
    "getitem": lambda a, b, c: (a[0] * a[1, [0, 0, 2]]).sum() + b[1:].sum(),
    "softmax": lambda a, b, c: (a.softmax(axis=0) * np.arange(6.0).reshape(2, 3)).sum(),
    "log_softmax": lambda a, b, c: (a.log_softmax() * a).sum() * c,
    "matmul": lambda a, b, c: ((a @ b) * (b @ a.T)).sum(),
    "batched matmul": lambda a, b, c: (Value(_M, label="m") @ a[:, :2]).sum(),
    "scalar chain": lambda a, b, c: ((c * c + c.exp()) / (c + 1.0)).tanh(),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_written_result_and_gradients_match_the_engine(case):
    a, b, c = Value(_A, label="a"), Value(_B, label="b"), Value(1.3, label="c")
    out = CASES[case](a, b, c)
    out.label = "R"
    out.backward()
    text = explain(out)
    forward, backward = text.split("Backward pass")
    last = [ln for ln in forward.splitlines() if ln.startswith("  R = ")][-1]
    assert last.rsplit(" = ", 1)[1] == fmt(out.item())
    found = {}
    for m in re.finditer(r"^\s*dR/d([abc])([₀-₉,]*) = (?:.* = )?(\S+)"
                         r"(?: \(summed.*\)| — .*)?$", backward.replace(" — ", "\n — "),
                         re.MULTILINE):
        idx = tuple(int(i) - 1 for i in m.group(2).translate(SUB).split(",") if i)
        found[(m.group(1), idx)] = m.group(3)
    in_graph = set(topological_order(out))
    expected = {(n, idx): fmt(np.asarray(v.grad)[idx])
                for n, v in {"a": a, "b": b, "c": c}.items() if v in in_graph
                for idx in np.ndindex(v.shape)}
    assert found == expected


# ---- every line checks: each number recomputable from the others at the precision shown --
_PY = [("×", "*"), ("²", "**2"), ("³", "**3"), ("√", "math.sqrt"), ("σ", "sigmoid"),
       ("ReLU", "relu"), ("log(", "math.log("), ("tanh(", "math.tanh(")]
_NS = {"math": math, "sigmoid": lambda x: 1 / (1 + math.exp(-x)), "relu": lambda x: max(x, 0),
       "max": max, "abs": abs, "__builtins__": {}}


def _value(segment):
    """A written numeric segment's value (this test's own reading of the notation)."""
    t = re.sub(r"\|([^|]*)\|", r"abs(\1)", segment)
    t = re.sub(r"(?<![\w.])e\^(\([^)]*\)|[\d.]+)", r"math.exp(\1)", t)
    for a, b in _PY:
        t = t.replace(a, b)
    t = t.replace("^", "**")
    if re.search(r"[A-Za-zₐ-ₜ₀-₉]", re.sub(r"math\.\w+|sigmoid|relu|max|abs|e-?\d", "", t)):
        return None  # a symbolic segment (names), not numbers
    try:
        return float(eval(t, _NS))
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None


def _decimals(number):
    m = re.fullmatch(r"-?\d+(?:\.(\d+))?(?:e([-+]?\d+))?", number)
    return len(m.group(1) or "") - int(m.group(2) or 0)


def unrecomputable(text):
    """The lines on which some segment does not give the written result, or a sum's terms
    do not give the values written for them in the next segment."""
    bad = []
    for line in text.splitlines():
        body = re.split(r" — | \(summed| \(too many", line)[0]
        segs = [s.strip() for s in body.split(" = ")][1:]
        if len(segs) < 2 or not re.fullmatch(r"-?[\d.]+(e-?\d+)?", segs[-1]):
            continue
        r, tol = float(segs[-1]), 0.5 * 10.0 ** -_decimals(segs[-1]) * (1 + 1e-9)
        for a, b in itertools.pairwise(segs):
            terms_a = re.split(r" (?=[+-] \()|(?<=\)) (?=[+-] )", a)
            terms_b = re.split(r" (?=[+-] )", b)
            if len(terms_a) == len(terms_b) > 1 and all(_value(t) is not None for t in terms_b):
                for ta, tb in zip(terms_a, terms_b):
                    va, vb = _value(ta.lstrip("+ ")), float(tb.replace(" ", ""))
                    if va is not None and abs(va - vb) > 0.5 * 10.0 ** -_decimals(
                            tb.replace(" ", "").lstrip("+-")) * (1 + 1e-9):
                        bad.append(line)
        if any(v is not None and abs(v - r) > tol for v in map(_value, segs[:-1])):
            bad.append(line)
    return bad


def _explained_graphs():
    for case, f in sorted(CASES.items()):
        a, b, c = Value(_A, label="a"), Value(_B, label="b"), Value(1.3, label="c")
        out = f(a, b, c)
        out.label = "R"
        out.backward()
        yield case, explain(out)
    for loss in ("ce", "mse"):
        L, _ = dogcat(loss)
        L.backward()
        yield loss, explain(L)
    a = neuron()
    a.backward()
    yield "neuron", explain(a)
    rng = np.random.default_rng(7)
    w = Value(rng.normal(size=(3, 4)), label="W")
    h = (w @ (rng.normal(size=4) * 0.05)).relu()
    h.label = "h"
    L = (h * h).sum()
    L.backward()
    yield "small relu", explain(L)


def test_every_number_on_a_line_can_be_recomputed_at_the_precision_shown():
    checked = 0
    for name, text in _explained_graphs():
        assert unrecomputable(text) == [], name
        checked += text.count("\n")
    assert checked > 500
    # the checker itself catches the old slips
    assert unrecomputable("  d = a × b = 0.044 × 0.2 = 0.00876\n")
    assert unrecomputable("  L = log(3.631) = 1.289\n")
    assert unrecomputable("  z = (0.5 × 0.8) + (0.7 × 0.3) = 0.4 + 0.2 = 0.61\n")
    assert not unrecomputable("  z = (0.5 × 0.8) + (0.7 × 0.3) = 0.4 + 0.21 = 0.61\n")


def test_a_zero_gradient_says_why():
    w = Value([[0.5, -0.2], [0.3, 0.8]], label="W")
    h = (np.array([1.0, 1.5]) @ w.T + Value([-1.0, 0.1], label="b")).relu()
    h.label = "h"
    L = (h * Value([0.519, 0.3], label="v")).sum()
    L.label = "L"
    L.backward()
    text = explain(L)
    assert ("dL/dv1[1] = dL/dh₁ × dh₁/dv1[1] = 0.519 × 0 = 0 — the ReLU was off (h₁'s input is "
            "-0.8 ≤ 0), so no gradient passes\n") in text
    assert "dL/dW₁,₁ = dL/dv1[1] × dv1[1]/dW₁,₁ = 0 × 1 = 0 — dL/dv1[1] is 0, so nothing reaches" \
        " W₁,₁\n" in text
    assert w.grad[0, 0] == 0 and w.grad[1, 1] == pytest.approx(0.45)
    # a ReLU written inside one line with its weights: the step is still named
    w2 = Value([[0.5, -0.2], [0.3, 0.8]], label="W")
    h2 = (np.array([1.0, 1.5]) @ w2.T + np.array([-1.0, 0.1])).relu()
    h2.label = "h"
    (h2 * np.array([0.519, 0.3])).sum().backward()
    assert "0.519 × 0 = 0 — the ReLU was off (h₁'s input is -0.8 ≤ 0)" in explain(h2)


def test_the_first_backward_line_is_derived():
    a = neuron()
    a.backward()
    text = explain(a)
    # the root's own step is its local derivative, not the circular da/da × da/dz
    assert "  da/dz = ∂a/∂z = 1 — from a = ReLU(z): d/dz = ReLU'(0.41) = 1\n" \
        in text
    L, _ = dogcat(loss="mse")
    L.backward()
    assert ("dL/dp₁ = ∂L/∂p₁ = -0.438 — from L = (sum((p - [1, 0])²)) "
            "× 0.5: d/dp₁ = 1 × 2 × (-0.438) × 1 × 0.5 = 1 × (-0.876) × 1 × 0.5 = -0.438\n"
            ) in explain(L)


def test_a_batch_cross_entropy_reads_as_p_minus_y_over_the_batch():
    from autograd.ops.losses import cross_entropy

    z = Value([[0.713, 0.464], [0.2, 0.9]], label="z")
    for L in (cross_entropy(z, index=np.array([0, 1])),
              cross_entropy(z, np.array([[1.0, 0.0], [0.0, 1.0]]))):
        z.zero_grad()
        L.label = "L"
        L.backward()
        text = explain(L)
        assert "(softmax + cross-entropy over 2 rows: dL/dz = (p - y) / 2" in text
        assert "dL/dz₁,₁ = (p₁,₁ - y₁,₁) / 2 = (0.562 - 1) / 2 = -0.219\n" in text
        assert "dL/dz₂,₂ = (p₂,₂ - y₂,₂) / 2 = (0.668 - 1) / 2 = -0.166\n" in text
        assert z.grad[0, 0] == pytest.approx(-0.219, abs=5e-4)
        assert unrecomputable(text) == []


def test_a_max_says_which_inputs_it_passes_nothing():
    from autograd import max_pool1d

    x = Value(np.array([[[0.1, 0.5, -0.3, 0.8]]]), label="x")
    L = max_pool1d(x, 2).sum()
    L.label = "L"
    L.backward()
    text = explain(L)
    assert "  dL/dx₁,₁,₁ = 0 — x₁,₁,₁ is not the maximum of its window, so max_pool1d passes" \
        " it nothing\n" in text
    assert "dL/dx₁,₁,₂ = dL/dv1[1,1,1] × dv1[1,1,1]/dx₁,₁,₂ = 1 × 1 = 1\n" in text
    m = Value([0.3, 0.9, 0.1], label="m")
    M = m.max()
    M.label = "M"
    M.backward()
    assert "dM/dm₁ = ∂M/∂m₁ = 0 — m₁ is not the maximum of its values" \
        in explain(M)


def test_a_dot_product_root_derives_each_weight_gradient():
    w, x = Value([0.5, 0.7, 0.2], label="w"), Value([0.8, 0.3, 0.5], label="x")
    L = w @ x
    L.label = "L"
    L.backward()
    text = explain(L)
    assert "  dL/dw₂ = ∂L/∂w₂ = 0.3 — from L = w @ x: d/dw₂ = 0.3\n" in text
    assert "  dL/dx₁ = ∂L/∂x₁ = 0.5 — from L = w @ x: d/dx₁ = 0.5\n" in text


def test_a_gru_cell_is_written_as_its_gates():
    import nn

    gru = nn.GRU(1, 2, seed=0)
    _, h = gru(np.array([[[0.5], [0.1]]]))
    text = explain(h.sum())
    # the gates with their numbers, computed here the way torch.nn.GRU documents them
    w_ih, b_ih, b_hh = (p.data for p in (gru.w_ih, gru.b_ih, gru.b_hh))
    gi, gh = 0.5 * w_ih[:, 0] + b_ih, b_hh  # the first step: h₋₁ = 0
    r, z = 1 / (1 + np.exp(-(gi[:2] + gh[:2]))), 1 / (1 + np.exp(-(gi[2:4] + gh[2:4])))
    n = np.tanh(gi[4:] + r * gh[4:])
    assert f"    r = σ(x W_irᵀ + b_ir + h₋₁ W_hrᵀ + b_hr) = [{fmt(r[0])}, {fmt(r[1])}]" in text
    assert f"    z = σ(x W_izᵀ + b_iz + h₋₁ W_hzᵀ + b_hz) = [{fmt(z[0])}, {fmt(z[1])}]" in text
    assert f"r ⊙ (h₋₁ W_hnᵀ + b_hn)) = [{fmt(n[0])}, {fmt(n[1])}]" in text
    h1 = (1 - z) * n
    assert f"    h[t=1] = (1 - z) ⊙ n + z ⊙ h₋₁ = [{fmt(h1[0])}, {fmt(h1[1])}]" in text
    assert "GRU cell(0.1, h[t=1])" in text  # the second step reads the first one's state


def test_lstm_and_rnn_cells_are_written_as_their_gates():
    import nn

    _, (h, _) = nn.LSTM(1, 2, seed=0)(np.array([[[0.5]]]))
    text = explain(h.sum())
    for gate in ("i = σ(", "f = σ(", "g = tanh(", "o = σ(", "c = f ⊙ c₋₁ + i ⊙ g = [",
                 "h = o ⊙ tanh(c) = ["):
        assert "\n    " + gate in text
    _, h = nn.RNN(1, 2, seed=0)(np.array([[[0.5]]]))
    assert "= tanh(x W_ihᵀ + b_ih + h₋₁ W_hhᵀ + b_hh) = [" in explain(h.sum())
