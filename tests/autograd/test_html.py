"""save_html: the step-through page, read in a real headless chromium (see conftest.py)."""

import json
import re

import numpy as np
import pytest

from autograd import Value, explain, save_html
from autograd.show.explain import explain_steps
from autograd.show.explain_numbers import fmt
from autograd.show.html import page_state
from demos.document import DOG_B1, DOG_B2, DOG_W1, DOG_W2, DOG_X, DOG_Y, single_neuron


def neuron():
    a = single_neuron()
    a.backward()
    return a


def dogcat():
    w1, b1 = Value(DOG_W1, label="W1"), Value(DOG_B1, label="b1")
    w2, b2 = Value(DOG_W2, label="W2"), Value(DOG_B2, label="b2")
    x = Value(DOG_X, label="x")
    h = (x @ w1.T + b1).relu()
    h.label = "h"
    z = h @ w2.T + b2
    z.label = "z"
    L = (z.log_softmax() * np.array(DOG_Y)).sum() * -1.0
    L.label = "L"
    L.backward()
    return L, {"x": x, "W1": w1, "b1": b1, "W2": w2, "b2": b2, "h": h, "z": z}


def open_page(page, tmp_path, root, title=None):
    path = save_html(root, tmp_path / "page.html", title=title)
    page.page.goto(path.as_uri())
    return path


def cells(page, selector):
    return [float(t) for t in page.page.locator(selector + " td").all_inner_texts()]


def node_id(root, v):
    from autograd import topological_order
    return f"v{topological_order(root).index(v)}"


def test_the_file_stands_alone(tmp_path):
    a = neuron()
    text = save_html(a, tmp_path / "n.html").read_text()
    assert "<svg" in text and "<script" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing fetched
    assert "@import" not in text and "url(http" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.html"]


def test_next_walks_forward_then_backward_with_explain_lines(page, tmp_path):
    a = neuron()
    open_page(page, tmp_path, a)
    state = page_state(a)
    forward, backward = explain_steps(a, inner=True)
    expected = [g for v, g in forward + backward if v is not None]
    assert len(state["steps"]) == len(expected) > 10
    phases = []
    for i, lines in enumerate(expected):
        page.page.click("#next")
        shown = page.page.inner_text("#step-lines")
        assert shown == "\n".join(line.strip() for line in lines), i
        step = state["steps"][i]
        current = page.page.locator("#graph g.current")
        assert current.count() == 1
        assert current.get_attribute("id") == state["drawn"].get(step["node"], step["node"])
        phases.append(page.page.inner_text("#position").split(":")[0])
    assert phases[0] == "Forward pass" and phases[-1] == "Backward pass"
    assert phases == sorted(phases, key=lambda p: p != "Forward pass")  # forward, then back
    # the document's neuron line is among them, and every explain() line is on the page
    assert "z = (0.5 × 0.8) + (0.7 × 0.3) + (0.2 × 0.5)" in page.page.inner_text("#all-lines")
    for line in explain(a).splitlines():
        if line.strip() and not line.endswith(":"):
            assert line.strip() in page.page.inner_text("#all-lines")
    assert page.page.is_disabled("#next")
    page.page.click("#prev")
    assert page.page.inner_text("#step-lines") == "\n".join(s.strip() for s in expected[-2])
    assert page.errors == [] and page.requests == [(tmp_path / "page.html").as_uri()]


def test_arrow_keys_step_too(page, tmp_path):
    a = neuron()
    open_page(page, tmp_path, a)
    first = page_state(a)["steps"]
    page.page.keyboard.press("ArrowRight")
    page.page.keyboard.press("ArrowRight")
    assert page.page.inner_text("#step-lines") == "\n".join(s.strip() for s in first[1]["lines"])
    page.page.keyboard.press("ArrowLeft")
    assert page.page.inner_text("#step-lines") == "\n".join(s.strip() for s in first[0]["lines"])
    assert page.errors == []


def test_clicking_a_node_shows_its_data_and_gradient(page, tmp_path):
    a = neuron()
    open_page(page, tmp_path, a)
    page.page.keyboard.press("End")  # the whole calculation: every number revealed
    for v in [a, *a.parents[0].parents]:  # a, then z's inputs
        page.page.click(f"#graph g#{node_id(a, v)}")
        assert cells(page, "#details table.data") == pytest.approx([v.data], rel=1e-5)
        assert cells(page, "#details table.grad") == pytest.approx([v.grad], rel=1e-5)
    assert page.errors == []


def test_a_tensor_graph_shows_tables_and_the_documents_numbers(page, tmp_path):
    L, vs = dogcat()
    open_page(page, tmp_path, L, title="Dog or cat")
    assert page.page.title() == "Dog or cat"
    page.page.keyboard.press("End")
    for name in ("W1", "W2", "x", "h", "z"):
        v = vs[name]
        page.page.click(f"#graph g#{node_id(L, v)}")
        assert page.page.inner_text("#details-title").startswith(name)
        assert cells(page, "#details table.data") == pytest.approx(np.ravel(v.data), rel=1e-5)
        assert cells(page, "#details table.grad") == pytest.approx(np.ravel(v.grad), rel=1e-5)
        rows = page.page.locator("#details table.data tr").count() - 1
        assert rows == (v.shape[0] if v.ndim == 2 else 1)
    svg = page.page.inner_text("#graph")
    assert "0.562" in svg  # P(dog) in the drawing, as the document and explain write it
    assert "ᵀ" in svg and "transpose" not in svg  # W.T folded into the edge
    while not page.page.is_disabled("#next"):
        page.page.click("#next")
    assert "-0.438 × 0.71 = -0.311" in page.page.inner_text("#all-lines")
    assert page.errors == [] and len(page.requests) == 1


def test_before_backward_the_page_says_so(page, tmp_path):
    a = single_neuron()
    open_page(page, tmp_path, a)
    assert "no gradients yet" in page.page.inner_text("#all-lines")
    assert all(s["phase"] == "forward" for s in page_state(a)["steps"])
    assert page.errors == []


def test_a_graph_too_big_to_draw_gets_a_summary(page, tmp_path):
    v = Value(0.0, label="start")
    for _ in range(1800):
        v = v + 1.0
    v.label = "end"
    open_page(page, tmp_path, v)
    text = page.page.inner_text("#summary")
    assert "Too big to draw" in text and "points" in text
    assert "1,801 Values" in text and "add × 1800" in text and "start" in text
    assert page.page.locator("#graph svg").count() == 0
    assert page.errors == []
    w = Value(np.ones(3))
    for _ in range(2500):
        w = w * 1.0
    state = page_state(w)
    assert state["svg"] is None and "2,501 Values" in state["summary"]["why"]


def test_non_finite_numbers_and_script_text_are_safe(tmp_path):
    v = Value([1.0, np.inf], label="</script><b>x")
    out = (v * 2.0).sum()
    out.label = "out"
    text = save_html(out, tmp_path / "p.html").read_text()
    data = text.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    state = json.loads(data)["state"]
    assert state["nodes"]["v0"]["data"]["values"] == [1.0, "inf"]


def test_refuses_non_values(tmp_path):
    with pytest.raises(TypeError, match="needs a Value"):
        save_html(3.0, tmp_path / "x.html")
    with pytest.raises(FileNotFoundError, match="no directory"):
        save_html(Value(1.0), tmp_path / "missing" / "x.html")


def test_jupyter_shows_a_value_as_its_graph_and_explain_as_lines(page):
    a = neuron()
    fragment = a._repr_html_()
    assert fragment.startswith("<div") and "<svg" in fragment
    page.page.set_content(f"<html><body>{fragment}{explain(a)._repr_html_()}</body></html>")
    texts = page.page.text_content("svg")
    assert "w1" in texts and "0.41" in texts            # the picture: labels and numbers
    shown = page.page.inner_text("pre")
    assert shown.strip() == explain(a).strip()          # explain's lines, one per line
    assert repr(explain(a)) == str(explain(a))          # the prompt shows lines, not '\n'
    v = Value(0.0)
    for _ in range(400):
        v = v + 1.0
    assert v._repr_html_() is None                      # too big: the plain repr instead
    assert page.errors == []


def _reveal_graph():
    """A small graph whose numbers are all different, so each can be looked for alone."""
    a, b = Value(1.5, label="a"), Value(-0.25, label="b")
    c = a * b
    c.label = "c"
    d = c.exp()
    d.label = "d"
    L = d * d
    L.label = "L"
    L.backward()
    return L, {"a": a, "b": b, "c": c, "d": d}


def test_stepping_reveals_each_number_when_its_step_computes_it(page, tmp_path):
    L, vs = _reveal_graph()
    state = page_state(L)
    steps = state["steps"]
    ids = {name: node_id(L, v) for name, v in vs.items()} | {"L": node_id(L, L)}
    data = {n: fmt(v.data) for n, v in (vs | {"L": L}).items()}
    grads = {n: fmt(vs[n].grad) for n in ("a", "b", "c", "d")}
    assert len(set(data.values()) | set(grads.values())) == 9  # no two alike
    first_fwd = {n: next(i for i, s in enumerate(steps) if s["node"] == ids[n]
                         and s["phase"] == "forward") for n in ids}
    last_bwd = {n: max(i for i, s in enumerate(steps) if s["node"] == ids[n]
                       and s["phase"] == "backward") for n in grads}
    open_page(page, tmp_path, L)
    for k in range(-1, len(steps)):
        if k >= 0:
            page.page.click("#next")
        shown = page.page.inner_text("#graph")
        for n in ("c", "d", "L"):  # computed: hidden until the forward pass reaches them
            assert (data[n] in shown) == (k >= first_fwd[n]), (k, n, "data")
        for n in ("a", "b"):  # given: shown from the start
            assert data[n] in shown
        for n, at in last_bwd.items():  # a gradient once the backward pass is done with it
            assert (grads[n] in shown) == (k >= at), (k, n, "grad")
        lines = page.page.inner_text("#all-lines")
        later = [ln for s in steps[k + 1:] for ln in s["lines"] if ln.strip()]
        assert not any(ln.strip() in lines for ln in later if ln.strip() not in
                       [x.strip() for s in steps[:k + 1] for x in s["lines"]])
    page.page.keyboard.press("Home")
    assert grads["a"] not in page.page.inner_text("#graph")
    page.page.click("#all")
    assert all(g in page.page.inner_text("#graph") for g in grads.values())
    assert page.errors == []


def test_clicking_a_node_before_its_step_does_not_give_the_answer(page, tmp_path):
    L, vs = _reveal_graph()
    open_page(page, tmp_path, L)
    page.page.click(f"#graph g#{node_id(L, vs['d'])}")
    details = page.page.inner_text("#details")
    assert "has not reached it yet" in details and fmt(vs["d"].data) not in details


def test_zoom_fits_with_readable_text_and_the_buttons_zoom(page, tmp_path):
    import nn
    from demos.document import dog_cat_network

    L = nn.cross_entropy(dog_cat_network()(DOG_X), 0)
    L.backward()
    open_page(page, tmp_path, L)
    size = page.page.evaluate("""() => {
        const t = document.querySelector('#graph svg text');
        return t.getBoundingClientRect().height; }""")
    assert size >= 10  # the fit keeps the drawing's text readable
    box = page.page.evaluate("document.getElementById('graph').clientWidth")
    svg = page.page.evaluate("document.querySelector('#graph svg').getBoundingClientRect().width")
    assert svg >= 0.95 * box - 10 or size >= 10 * 2.5 * 0.99  # it fills the box (or tops out)
    before = float(page.page.get_attribute("#graph", "data-zoom"))
    page.page.click("#zoom-in")
    assert float(page.page.get_attribute("#graph", "data-zoom")) == pytest.approx(before * 1.25)
    page.page.keyboard.press("0")
    assert float(page.page.get_attribute("#graph", "data-zoom")) == pytest.approx(before)
    assert page.page.title() == "Calculation of L"
    assert page.errors == []
