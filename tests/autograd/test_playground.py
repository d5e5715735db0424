"""python -m autograd.playground: real HTTP on 127.0.0.1, and the page in headless chromium."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from autograd import Value
from autograd.show.playground import NEURON_TARGET, Playground, make_server
from demos.document import DOG_W2, NEURON_B, NEURON_W, NEURON_X


@pytest.fixture(scope="module")
def serve():
    servers = []

    def start(example):
        server = make_server(example, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"
    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def call(url, path, body=None, method=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url + path, data=data, method=method or
                                 ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def node(state, name):
    (n,) = [n for n in state["nodes"].values() if n["name"] == name]
    return n


def neuron_by_hand(x, w, b, t=NEURON_TARGET):
    """The engine, in this process: a = ReLU(w·x + b), L = (a - t)², and dL/dw, dL/db."""
    xs = [Value(v) for v in x]
    ws = [Value(v) for v in w]
    bv = Value(b)
    a = (ws[0] * xs[0] + ws[1] * xs[1] + ws[2] * xs[2] + bv).relu()
    L = (a - t) ** 2
    L.backward()
    return a, ws, bv


def test_digit_shows_the_true_probability_and_where_the_document_differs(serve):
    url = serve("digit")
    status, reply = call(url, "/api/state")
    assert status == 200
    state = reply["state"]
    p = node(state, "p")["data"]["values"]
    assert round(p[0], 3) == 0.674
    notes = " ".join(state["notes"])
    assert 'P("1") = 0.674' in notes and "0.657" in notes and "h1₂: document 0.11" in notes


def test_an_edit_is_recomputed_by_the_engine(serve):
    url = serve("neuron")
    status, reply = call(url, "/api/eval", {"values": {"w1": 0.6, "x3": -2.0}})
    assert status == 200
    x = [NEURON_X[0], NEURON_X[1], -2.0]
    a, ws, b = neuron_by_hand(x, [0.6, *NEURON_W[1:]], NEURON_B)
    state = reply["state"]
    assert node(state, "a")["data"]["values"] == [pytest.approx(a.data, abs=1e-12)]
    assert node(state, "w1")["grad"]["values"] == [pytest.approx(ws[0].grad, abs=1e-12)]
    assert node(state, "b")["grad"]["values"] == [pytest.approx(b.grad, abs=1e-12)]


def test_step_is_one_sgd_update_of_the_weights(serve):
    url = serve("dogcat")
    status, reply = call(url, "/api/step", {"lr": 0.01})
    assert status == 200 and reply["lr"] == 0.01
    w2 = np.reshape(node(reply["state"], "W2")["data"]["values"], (2, 3))
    assert w2[0, 0] == pytest.approx(0.80311, abs=5e-6)  # the document's w₁_new
    assert node(reply["state"], "x")["data"]["values"] == [0.9, 0.2, 0.8, 0.3]  # inputs stay
    pg = Playground("dogcat")
    _, leaves = pg.graph()
    expected = np.array(DOG_W2) - 0.01 * leaves["W2"].grad
    np.testing.assert_allclose(w2, expected, rtol=1e-12)
    status, reply = call(url, "/api/reset", {})
    assert node(reply["state"], "W2")["data"]["values"][0] == 0.8


@pytest.fixture(scope="module")
def bad_url(serve):
    return serve("dogcat")  # one server takes every bad request in turn


@pytest.mark.parametrize("path,body,raw,status,message", [
    ("/api/eval", {"values": {"W9": 1}}, None, 400, "no input or weight named 'W9'"),
    ("/api/eval", {"values": {"b1": [1, 2]}}, None, 400, "b1 needs 3 numbers"),
    ("/api/eval", {"values": {"b1": ["a", 1, 2]}}, None, 400, "b1 must be"),
    ("/api/eval", {"values": {"b1": [True, 1, 2]}}, None, 400, "b1 must be numbers"),
    ("/api/eval", {"values": []}, None, 400, '"values" must be an object'),
    ("/api/eval", None, b"NaN-not-json{", 400, "not valid JSON"),
    ("/api/eval", None, b'{"values": {"b2": [NaN, 1]}}', 400, "finite"),
    ("/api/eval", None, b"[1, 2]", 400, "JSON object"),
    ("/api/step", {"lr": -1}, None, 400, '"lr" must be a positive number'),
    ("/api/step", {"lr": "fast"}, None, 400, '"lr" must be a positive number'),
    ("/api/nothing", {}, None, 404, "no API /api/nothing"),
    ("/api/state", {}, None, 405, "takes GET"),
    ("/api/eval", None, b"x" * (2 << 20), 413, "more than"),
])
def test_bad_requests_get_json_4xx_and_it_keeps_serving(bad_url, path, body, raw, status,
                                                        message):
    url = bad_url
    got, reply = call(url, path, body, raw=raw)
    assert got == status and message in reply["error"]
    assert call(url, "/api/eval", method="GET")[0] == 405
    assert call(url, "/nowhere")[0] == 404
    ok, reply = call(url, "/api/state")
    assert ok == 200 and node(reply["state"], "b1")["data"]["values"] == [-0.4, -0.3, -0.5]


def test_the_page_recomputes_in_place_after_an_edit(serve, page):
    url = serve("neuron")
    page.page.goto(url + "/")
    assert page.page.locator("#graph svg").count() == 1
    inp = page.page.locator('#edit input[data-name="w1"]')
    inp.fill("0.6")
    inp.press("Tab")  # leaving the field is a change
    page.page.wait_for_selector("body[data-updates='1']")
    a, ws, _ = neuron_by_hand(NEURON_X, [0.6, *NEURON_W[1:]], NEURON_B)
    ids = {n["name"]: i for i, n in call(url, "/api/state")[1]["state"]["nodes"].items()}
    page.page.click(f"#graph g#{ids['a']}")
    assert float(page.page.inner_text("#details table.data td")) == pytest.approx(a.data,
                                                                                 rel=1e-5)
    assert "0.49" in page.page.inner_text("#graph")  # redrawn: a = 0.48 + 0.21 + 0.1 - 0.3
    page.page.fill("#lr", "0.5")
    page.page.click("#step")
    page.page.wait_for_selector("body[data-updates='2']")
    new_w1 = float(page.page.input_value('#edit input[data-name="w1"]'))
    assert new_w1 == pytest.approx(0.6 - 0.5 * ws[0].grad, rel=1e-12)
    new_x1 = float(page.page.input_value('#edit input[data-name="x1"]'))
    assert new_x1 == NEURON_X[0]
    page.page.keyboard.press("Home")  # the playground opens computed; start over
    assert "z = " not in page.page.inner_text("#all-lines")  # nothing computed is shown yet
    for _ in range(20):  # the inputs, weights and bias, the products, then z
        page.page.click("#next")
        if "\n  z = " in page.page.inner_text("#all-lines"):
            break
    assert "\n  z = " in page.page.inner_text("#all-lines")
    assert page.errors == []
    assert page.requests == [url + "/", url + "/api/eval", url + "/api/step"]


def test_a_bad_edit_is_reported_on_the_page(serve, page):
    url = serve("dogcat")
    page.page.goto(url + "/")
    inp = page.page.locator('#edit input[data-name="b2"]').first
    inp.fill("")
    inp.press("Tab")
    assert "must be a number" in page.page.inner_text("#error")
    assert page.errors == []


def test_the_command_line_serves_on_the_port_it_prints():
    proc = subprocess.Popen([sys.executable, "-m", "autograd.playground", "dogcat",
                             "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("Serving the dogcat playground on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].split("/ ", 1)[0]
        with urllib.request.urlopen(url + "/", timeout=30) as r:
            page = r.read().decode()
        assert r.status == 200 and "Dog or cat" in page and '"lr": 0.01' in page
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bad = subprocess.run([sys.executable, "-m", "autograd.playground", "cats"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


# ---- never a non-finite number, every bad request a JSON 4xx (issue 22) --------------------
def _finite_state(reply):
    for n in reply["state"]["nodes"].values():
        for part in ("data", "grad"):
            assert all(isinstance(v, float) for v in n[part]["values"]), n


@pytest.mark.parametrize("example,values,what", [
    ("digit", {"x": [1000.0] * 16}, "overflows"),
    ("neuron", {"w1": 1e200, "x1": 1e200}, "overflows"),
    ("neuron", {"w1": 1.5e308, "w2": 1.5e308, "x1": 1.0, "x2": 1.0}, "overflows"),
])
def test_numbers_that_overflow_are_refused_and_nothing_changes(serve, example, values, what):
    url = serve(example)
    _, before = call(url, "/api/state")
    status, reply = call(url, "/api/eval", {"values": values})
    assert status == 422 and what in reply["error"] and "nothing was changed" in reply["error"]
    status, after = call(url, "/api/state")
    assert status == 200 and after == before
    _finite_state(after)


def test_a_huge_learning_rate_never_stores_a_non_finite_weight(serve):
    url = serve("dogcat")
    _, before = call(url, "/api/state")
    for _ in range(2):  # the two steps that used to leave NaN weights
        status, reply = call(url, "/api/step", {"lr": 1e308})
        assert status == 422 and "finite number" in reply["error"] and "lr = 1e+308" in reply["error"]
    status, after = call(url, "/api/state")
    assert after == before
    _finite_state(after)
    status, reply = call(url, "/api/step", {"lr": 0.01})  # the last good lr is kept
    assert status == 200 and reply["lr"] == 0.01


@pytest.mark.parametrize("body", [
    b'{"lr": ' + b"9" * 400 + b"}",
    b'{"values": {"w1": ' + b"[" * 3000 + b"1" + b"]" * 3000 + b"}}",
    b'{"values": {"w1": ' + b"[" * 60 + b"1" + b"]" * 60 + b"}}",
])
def test_malformed_numbers_get_a_json_400_not_an_empty_reply(bad_url, body):
    path = "/api/step" if body.startswith(b'{"lr"') else "/api/eval"
    status, reply = call(bad_url, path, raw=body)
    assert status == 400 and reply["error"], reply
    assert call(bad_url, "/api/state")[0] == 200


def test_the_page_answers_with_a_query_string(serve):
    url = serve("neuron")
    with urllib.request.urlopen(url + "/?from=readme", timeout=30) as r:
        assert r.status == 200 and b"<!DOCTYPE html>" in r.read()


# ---- the playground trains (issue 26): a stated loss, Play/Pause, the address, the digit ----
def wait_until(ready, seconds):
    """Poll `ready()` from Python until it is true, at most `seconds` (the pages' CSP forbids
    the string evaluation playwright's wait_for_function uses)."""
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"not ready within {seconds} s"
        time.sleep(0.1)


def digit_p1_by_hand(x):
    """P("1") of the document's digit network for pixels `x`, by the engine in this process."""
    from demos.document import DIGIT_B1, DIGIT_B2, DIGIT_B3, DIGIT_W1, DIGIT_W2, DIGIT_W3
    h = Value(np.array(x))
    for k, (w, b) in enumerate(((DIGIT_W1, DIGIT_B1), (DIGIT_W2, DIGIT_B2),
                                (DIGIT_W3, DIGIT_B3))):
        h = h @ Value(np.array(w)).T + Value(np.array(b))
        h = h.relu() if k < 2 else h.softmax()
    return float(h.data[0])


def test_the_neuron_states_its_loss_and_step_lowers_it(serve):
    url = serve("neuron")
    _, reply = call(url, "/api/state")
    state = reply["state"]
    assert state["loss"]["statement"].startswith("L = (a - t)²")
    a, _, _ = neuron_by_hand(NEURON_X, NEURON_W, NEURON_B)
    assert state["loss"]["value"] == pytest.approx((a.data - NEURON_TARGET) ** 2, abs=1e-15)
    assert node(state, "t")["data"]["values"] == [NEURON_TARGET]
    status, reply = call(url, "/api/step", {"lr": 0.1, "steps": 30, "draw": False})
    assert status == 200 and "state" not in reply and len(reply["losses"]) == 30
    assert all(b < a for a, b in zip(reply["losses"], reply["losses"][1:]))  # falls every step
    assert reply["losses"][-1] < 0.01 * state["loss"]["value"]
    w = [reply["values"][f"w{i}"][0] for i in (1, 2, 3)]
    a, _, _ = neuron_by_hand(NEURON_X, w, reply["values"]["b"][0])
    assert reply["loss"] == pytest.approx((a.data - NEURON_TARGET) ** 2, abs=1e-15)
    assert reply["values"]["x1"] == [NEURON_X[0]] and reply["values"]["t"] == [NEURON_TARGET]
    assert dict(reply["shown"])["a"] == pytest.approx(a.data, abs=1e-15)


@pytest.mark.parametrize("example,statement", [
    ("dogcat", "L = -log p(dog)"), ("digit", 'L = -log P("1")')])
def test_the_networks_lower_their_cross_entropy_as_the_engine_does(serve, example, statement):
    url = serve(example)
    _, before = call(url, "/api/state")
    assert before["state"]["loss"]["statement"].startswith(statement)
    status, reply = call(url, "/api/step", {"lr": 0.05, "steps": 10})
    assert status == 200 and reply["losses"][-1] < before["state"]["loss"]["value"]
    pg = Playground(example)  # the same ten steps, here, with the engine
    expected = [pg.step(0.05) for _ in range(10)]
    np.testing.assert_allclose(reply["losses"], expected, rtol=0, atol=0)
    assert reply["state"]["loss"]["value"] == expected[-1]


@pytest.mark.parametrize("body,message", [
    ({"steps": 0}, '"steps" must be a whole number from 1 to 1000'),
    ({"steps": 1001}, '"steps" must be a whole number'),
    ({"steps": 2.5}, '"steps" must be a whole number'),
    ({"steps": True}, '"steps" must be a whole number'),
    ({"draw": "no"}, '"draw" must be true or false'),
])
def test_bad_step_requests_are_refused(bad_url, body, message):
    status, reply = call(bad_url, "/api/step", body)
    assert status == 400 and message in reply["error"]
    assert node(call(bad_url, "/api/state")[1]["state"], "b1")["data"]["values"] == \
        [-0.4, -0.3, -0.5]


def test_play_lowers_the_loss_and_draws_its_curve_until_pause(serve, page):
    url = serve("neuron")
    page.page.goto(url + "/")
    start = float(page.page.get_attribute("#loss-value", "data-value"))
    assert "L = (a - t)²" in page.page.inner_text("#loss-box")
    page.page.fill("#lr", "0.02")
    page.page.click("#play")
    wait_until(lambda: int(page.page.get_attribute("#curve", "data-points")) > 30, 30)
    page.page.click("#play")  # Pause
    page.page.wait_for_selector("body[data-paused='1']", timeout=30000)
    points = int(page.page.get_attribute("#curve", "data-points"))
    shown = float(page.page.get_attribute("#loss-value", "data-value"))
    assert points > 30 and shown < start
    _, reply = call(url, "/api/state")  # the page shows the server's numbers, in full
    assert shown == reply["state"]["loss"]["value"]
    w1 = node(reply["state"], "w1")["data"]["values"][0]
    inp = page.page.locator('#edit input[data-name="w1"]')
    assert float(inp.input_value()) == w1 and inp.input_value() == repr(w1)
    assert page.page.evaluate("e => e.scrollWidth <= e.clientWidth", inp.element_handle())
    polyline = page.page.get_attribute("#curve polyline", "points")
    assert len(polyline.split()) == points
    assert page.page.locator("#graph svg").count() == 1 and url + "/api/state" in page.requests
    assert page.errors == []


def test_a_copied_address_reopens_the_same_state(serve, page):
    first = serve("dogcat")
    page.page.goto(first + "/")
    inp = page.page.locator('#edit input[data-name="x"]').first
    inp.fill("0.123456789")
    inp.press("Tab")
    page.page.wait_for_selector("body[data-updates='1']")
    page.page.fill("#lr", "0.3")
    page.page.click("#step")
    page.page.wait_for_selector("body[data-updates='2']")
    link = page.page.url
    assert "#example=dogcat" in link and "lr=0.3" in link
    _, old = call(first, "/api/state")
    second = serve("dogcat")  # a fresh server: the document's numbers
    page.page.goto(link.replace(first, second))
    page.page.wait_for_selector("body[data-updates='1']")
    _, new = call(second, "/api/state")
    for name in ("x", "W1", "b1", "W2", "b2"):
        assert node(new["state"], name)["data"]["values"] == \
            node(old["state"], name)["data"]["values"], name
    assert new["state"]["loss"]["value"] == old["state"]["loss"]["value"]
    assert page.page.input_value("#lr") == "0.3"
    assert page.errors == []


@pytest.mark.parametrize("address,message", [
    ("#w1=abc", "the address's w1 must be numbers"),
    ("#lr=-1", "lr must be a positive number"),
    ("#example=digit", "this link is for the example \"digit\"; this server runs neuron"),
    ("#%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E=1", 'the address names "<img src=x onerror=alert(1)>"'),
    ("#w1=1,2", "w1 needs 1 number"),
])
def test_a_hostile_or_broken_address_gets_a_clear_message_and_runs_nothing(serve, page, address,
                                                                          message):
    url = serve("neuron")
    dialogs = []
    page.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.page.goto(url + "/" + address)
    wait_until(lambda: page.page.inner_text("#error"), 10)
    assert message in page.page.inner_text("#error")
    assert dialogs == [] and page.page.locator("#error img").count() == 0
    _, reply = call(url, "/api/state")
    assert node(reply["state"], "w1")["data"]["values"] == [NEURON_W[0]]  # nothing changed


def test_painting_a_pixel_changes_p1_as_the_engine_computes_it(serve, page):
    from demos.document import DIGIT_X
    url = serve("digit")
    page.page.goto(url + "/")
    assert page.page.locator("#pixels div").count() == 16
    before = page.page.inner_text('#shown div[data-name="P(\\"1\\")"]')
    assert float(before.split(" = ")[1]) == pytest.approx(digit_p1_by_hand(DIGIT_X), abs=1e-15)
    page.page.click("#pixels div[data-i='0']")  # 0.1: off, so painting turns it on
    page.page.wait_for_selector("body[data-updates='1']")
    # drag across the third row's first three pixels (0.1, 0.6, 0.3): the first is off, so on
    cells = [page.page.locator(f"#pixels div[data-i='{i}']").bounding_box() for i in (8, 9, 10)]
    page.page.mouse.move(cells[0]["x"] + 5, cells[0]["y"] + 5)
    page.page.mouse.down()
    for c in cells[1:]:
        page.page.mouse.move(c["x"] + 5, c["y"] + 5, steps=3)
    page.page.mouse.up()
    page.page.wait_for_selector("body[data-updates='2']")
    x = list(DIGIT_X)
    x[0] = x[8] = x[9] = x[10] = 1.0
    after = float(page.page.inner_text('#shown div[data-name="P(\\"1\\")"]').split(" = ")[1])
    assert after == pytest.approx(digit_p1_by_hand(x), abs=1e-15)
    assert after != float(before.split(" = ")[1])
    assert page.page.inner_text("#pixels div[data-i='9']") == "1"
    assert page.errors == []


# ---- moons: a classifier on the plane, trained live --------------------------------------------
def moons_accuracy_by_hand(state, which):
    """Accuracy of the state's weights on its points, recomputed with numpy."""
    w = {k: np.array(v) for k, v in state["weights"].items()}
    act = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
           "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[state["config"]["activation"]]
    x = np.array(state[which]["points"])
    width = state["config"]["width"]
    z = act(x @ w["W1"].reshape(width, 2).T + w["b1"]) @ w["W2"] + w["b2"]
    return np.mean((z > 0) == (np.array(state[which]["labels"]) == 1))


def test_moons_trains_to_95_percent_on_its_test_points_through_the_api(serve):
    url = serve("moons")
    _, reply = call(url, "/api/state")
    state = reply["state"]
    assert state["config"] == {"seed": 0, "noise": 0.1, "width": 8, "activation": "tanh",
                               "lr": 0.5}
    assert len(state["grid"]["hidden"]) == 8 and len(state["grid"]["p"]) == 32 * 32
    for _ in range(20):  # at most 20 × 100 steps
        status, reply = call(url, "/api/step", {"steps": 100})
        assert status == 200 and len(reply["losses"]) == 100
        if reply["state"]["accuracy"]["test"] >= 0.95:
            break
    state = reply["state"]
    assert state["accuracy"]["test"] >= 0.95 and state["steps_done"] <= 2000
    assert state["loss"] < state["losses"][0]
    # the accuracies reported are those of the weights sent, on the points sent (rounded to
    # 4 decimals for the page, so allow one borderline point)
    assert abs(moons_accuracy_by_hand(state, "test") - state["accuracy"]["test"]) <= 0.005
    x = np.array(state["test"]["points"])
    assert x.shape == (200, 2) and set(state["test"]["labels"]) == {0, 1}


def test_moons_settings_rebuild_data_and_weights_from_the_seed(serve):
    url = serve("moons")
    _, a = call(url, "/api/config", {"seed": 7, "width": 3, "activation": "relu", "noise": 0.2})
    _, b = call(url, "/api/config", {"seed": 7})
    assert a["state"]["weights"] == b["state"]["weights"]
    assert a["state"]["train"] == b["state"]["train"] and len(a["state"]["weights"]["b1"]) == 3
    given = {"W1": [0.5] * 6, "b1": [0.1, 0.2, 0.3], "W2": [1, -1, 2], "b2": [0.25]}
    _, c = call(url, "/api/config", {"weights": given})
    assert c["state"]["weights"] == {k: [float(x) for x in v] for k, v in given.items()}


@pytest.mark.parametrize("path,body,message", [
    ("/api/config", {"width": 0}, '"width" (hidden neurons) must be a whole number from 1 to 16'),
    ("/api/config", {"width": 17}, '"width"'),
    ("/api/config", {"activation": "<b>x</b>"}, '"activation" must be one of tanh, relu, sigmoid'),
    ("/api/config", {"seed": -1}, '"seed" must be a whole number'),
    ("/api/config", {"noise": 2}, '"noise" must be a number from 0 to 1'),
    ("/api/config", {"lr": 0}, '"lr" must be a positive number'),
    ("/api/config", {"speed": 1}, "no setting named 'speed'"),
    ("/api/config", {"weights": {"W1": [1]}}, '"weights" must be an object with W1, b1, W2'),
    ("/api/config", {"weights": {"W1": [1], "b1": [0] * 8, "W2": [0] * 8, "b2": [0]}},
     "W1 needs 16 finite numbers"),
    ("/api/step", {"steps": 501}, '"steps" must be a whole number from 1 to 500'),
    ("/api/step", {"lr": "fast"}, '"lr" must be a positive number'),
    ("/api/step", {"go": 1}, "/api/step takes lr and steps, not 'go'"),
    ("/api/step", {"lr": 1e300, "steps": 3}, '"lr" must be a positive number up to 100'),
    ("/api/nothing", {}, "no API /api/nothing"),
])
def test_moons_bad_requests_get_json_4xx_and_nothing_changes(serve, path, body, message):
    url = serve("moons")
    _, before = call(url, "/api/state")
    status, reply = call(url, path, body)
    assert 400 <= status < 500 and message in reply["error"], reply
    _, after = call(url, "/api/state")
    assert after == before


def test_moons_trains_in_the_page_and_its_address_reopens_it(serve, page):
    url = serve("moons")
    page.page.goto(url + "/")
    assert page.page.locator("#network canvas.hidden-unit").count() == 8
    assert page.page.locator("#edges line").count() == 8 * 3
    page.page.click("#play")
    wait_until(lambda: float(page.page.get_attribute("#test-acc", "data-value")) >= 0.95, 120)
    page.page.click("#play")  # Pause
    wait_until(lambda: page.page.inner_text("#play") == "Play", 30)
    link = page.page.url
    _, trained = call(url, "/api/state")
    assert trained["state"]["accuracy"]["test"] >= 0.95
    assert int(page.page.get_attribute("#curve", "data-points")) == \
        len(trained["state"]["losses"])
    w = trained["state"]["weights"]["W2"]  # edges coloured by the weight's sign
    colour = page.page.get_attribute("#edges line[data-weight='W2[1,1]']", "stroke")
    assert colour == ("#0877bd" if w[0] >= 0 else "#f59322")
    fresh = serve("moons")
    page.page.goto(link.replace(url, fresh))
    page.page.wait_for_selector("body[data-updates='2']")
    _, reopened = call(fresh, "/api/state")
    assert reopened["state"]["weights"] == trained["state"]["weights"]
    assert reopened["state"]["accuracy"] == trained["state"]["accuracy"]
    assert page.errors == []


def test_steps_are_kept_all_or_none(monkeypatch):
    from autograd.show.playground import BadRequest
    pg = Playground("neuron")
    before = {k: v.copy() for k, v in pg.values.items()}
    real, calls = pg.step, []

    def third_refused(lr):
        calls.append(lr)
        if len(calls) == 3:
            raise BadRequest("refused", 422)
        return real(lr)
    monkeypatch.setattr(pg, "step", third_refused)
    with pytest.raises(BadRequest):
        pg.steps(0.1, 5)
    assert len(calls) == 3 and pg.lr == 0.01
    assert all(np.array_equal(pg.values[k], v) for k, v in before.items())


def test_the_command_line_serves_moons():
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen([sys.executable, "-m", "autograd.playground", "moons", "--port", "0"],
                            stdout=subprocess.PIPE, text=True, cwd=root,
                            env={**os.environ, "PYTHONPATH": root})
    try:
        line = proc.stdout.readline()
        assert line.startswith("Serving the moons playground on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].split("/ ", 1)[0]
        with urllib.request.urlopen(url + "/", timeout=30) as r:
            page = r.read().decode()
        assert r.status == 200 and "Two moons" in page and "Content-Security-Policy" in page
    finally:
        proc.terminate()
        proc.wait(timeout=30)
