"""check_backward: a learner's hand-derived gradients (Karpathy's "backprop ninja") against
the engine's, and save_html(..., check=grads) marking the wrong nodes in a real browser."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Value, check_backward, save_html, topological_order

rng = np.random.default_rng(0)
X, Y = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
W0, B0 = rng.normal(size=(3, 5)), rng.normal(size=5)


def forward():
    """A small layer and a cross-entropy written step by step, as in the lecture."""
    x, w, b = Value(X, label="x"), Value(W0, label="W"), Value(B0, label="b")
    hpre = x @ w + b
    hpre.label = "hpre"
    h = hpre.tanh()
    h.label = "h"
    logprobs = h.log_softmax(axis=-1)
    logprobs.label = "logprobs"
    picked = logprobs[np.arange(4), Y]
    picked.label = "picked"
    loss = -picked.mean()
    loss.label = "loss"
    return loss, {"x": x, "W": w, "b": b, "hpre": hpre, "h": h, "logprobs": logprobs,
                  "picked": picked}


def by_hand(v, mistake=False):
    """The gradients derived by hand, as a learner writes them (numpy only)."""
    n = 4
    dpicked = -np.ones(n) / n
    dlogprobs = np.zeros((4, 5))
    dlogprobs[np.arange(n), Y] = dpicked
    probs = np.exp(v["logprobs"].data)
    dh = dlogprobs - probs * dlogprobs.sum(axis=1, keepdims=True)
    dhpre = dh * (1 - v["h"].data ** 2) if not mistake else dh * (1 - v["h"].data)  # the slip
    dW = X.T @ dhpre
    db = dhpre.sum(axis=0)
    return {v["picked"]: dpicked, v["logprobs"]: dlogprobs, v["h"]: dh, v["hpre"]: dhpre,
            v["W"]: dW, v["b"]: db}


def test_right_gradients_are_all_approximately_right() -> None:
    loss, v = forward()
    report = check_backward(loss, by_hand(v))
    assert report.ok and report.first_wrong is None
    assert [r.label for r in report.rows] == ["picked", "logprobs", "h", "hpre", "b", "W"]
    for r in report.rows:
        assert r.approximate and r.max_diff < 1e-12
    assert "exact" in str(report) and "wrong" not in str(report)
    assert v["W"]._grad is None  # no .grad touched


def test_a_mistake_is_found_where_it_starts() -> None:
    loss, v = forward()
    report = check_backward(loss, by_hand(v, mistake=True))
    assert not report.ok
    wrong = [r.label for r in report.rows if not r.approximate]
    assert set(wrong) == {"hpre", "W", "b"}
    assert report.first_wrong.label == "hpre"  # in backward order, the first wrong one
    text = str(report)
    assert "hpre" in text and "the mistake starts here" in text
    assert next(r for r in report.rows if r.label == "h").approximate  # dh is right


def test_exactness_and_max_diff() -> None:
    x = Value(np.array([1.0, 2.0]), label="x")
    y = (x * x).sum()
    exact = check_backward(y, {x: np.array([2.0, 4.0])}).rows[0]
    assert exact.exact and exact.approximate and exact.max_diff == 0.0
    near = check_backward(y, {x: np.array([2.0, 4.0 + 1e-9])}).rows[0]
    assert not near.exact and near.approximate and near.max_diff == pytest.approx(1e-9)
    shape = check_backward(y, {x: np.array([2.0])}).rows[0]
    assert not shape.approximate and "shape" in shape.note
    with pytest.raises(ValueError, match="not in the root's graph"):
        check_backward(y, {Value(1.0): 1.0})


def test_save_html_marks_the_wrong_nodes(page, tmp_path) -> None:
    loss, v = forward()
    loss.backward()
    path = save_html(loss, tmp_path / "check.html", check=by_hand(v, mistake=True))
    page.page.goto(path.as_uri())
    order = topological_order(loss)
    ids = {name: f"v{order.index(v[name])}" for name in ("hpre", "W", "b", "h")}
    wrong = set(page.page.eval_on_selector_all("#graph g.wrong", "gs => gs.map(g => g.id)"))
    assert {ids["hpre"], ids["W"], ids["b"]} <= wrong and ids["h"] not in wrong
    first = page.page.eval_on_selector_all("#graph g.first-wrong", "gs => gs.map(g => g.id)")
    assert first == [ids["hpre"]]
    assert "the mistake starts here" in page.page.inner_text("#check")
    assert page.page.is_visible("#check-box")
