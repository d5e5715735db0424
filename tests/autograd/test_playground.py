"""python -m autograd.playground: real HTTP on 127.0.0.1, and the page in headless chromium."""

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from autograd import Value
from autograd.show.playground import Playground, make_server
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


def neuron_by_hand(x, w, b):
    """The engine, in this process: a = ReLU(w·x + b) and its gradients."""
    xs = [Value(v) for v in x]
    ws = [Value(v) for v in w]
    bv = Value(b)
    a = (ws[0] * xs[0] + ws[1] * xs[1] + ws[2] * xs[2] + bv).relu()
    a.backward()
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
    ("/api/eval", None, b"NaN-not-json{", 400, "not JSON"),
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
