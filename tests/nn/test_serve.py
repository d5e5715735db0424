"""nn.serve over real HTTP on 127.0.0.1: good requests, bad requests, and the CLI."""

import contextlib
import fcntl
import http.client
import json
import logging
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import serve

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    model = nn.Sequential(nn.Layer(4, 8, "relu", seed=0), nn.Dropout(0.5),
                          nn.Layer(8, 3, "linear", seed=1))
    return model.save(tmp_path_factory.mktemp("serve") / "model.npz")


@pytest.fixture(scope="module")
def server(model_path):
    srv = serve.make_server(model_path, port=0, max_body=2000, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def _request(srv, method, path, body=None, headers=None, raw=False):
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        if isinstance(body, dict | list):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        headers = dict(headers or {})
        if method == "POST":
            headers.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        assert resp.getheader("Content-Type") == "application/json"
        return resp.status, (data if raw else json.loads(data))
    finally:
        conn.close()


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_listens_on_localhost_by_default(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.server_address[1] > 0  # port 0 picked a free port


def test_predict_returns_softmax_probabilities_and_classes(server, model_path):
    X = np.random.default_rng(0).normal(size=(5, 4))
    status, body = _request(server, "POST", "/predict", {"inputs": X.tolist()})
    assert status == 200
    model = nn.load(model_path).eval()
    expect = _softmax(model(X).data)
    np.testing.assert_allclose(body["probabilities"], expect, rtol=1e-12)
    assert body["classes"] == expect.argmax(axis=1).tolist()
    np.testing.assert_allclose(np.sum(body["probabilities"], axis=1), 1.0)


def test_eval_mode_makes_answers_repeatable(server):
    row = {"inputs": [[0.3, -1.0, 2.0, 0.5]]}
    a = _request(server, "POST", "/predict", row)[1]
    b = _request(server, "POST", "/predict", row)[1]
    assert a == b  # dropout is off in the served model


def test_integers_and_empty_batches(server):
    status, body = _request(server, "POST", "/predict", {"inputs": [[1, 2, 3, 4]]})
    assert status == 200 and len(body["probabilities"]) == 1
    assert _request(server, "POST", "/predict", {"inputs": []}) == (
        200, {"probabilities": [], "classes": []})


BAD = [
    ("{not json", "not valid JSON"),
    ('{"inputs": [[1, 2, 3, 4]]', "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"rows": [[1, 2, 3, 4]]}', "no \"inputs\" key"),
    ('{"inputs": "1,2,3,4"}', "list of rows"),
    ('{"inputs": [1, 2, 3, 4]}', "wrap a single sample"),
    ('{"inputs": [[1, 2, 3]]}', "expects 4"),
    ('{"inputs": [[1, 2, 3, 4], [1, 2, 3, 4, 5]]}', "row 1 has 5 values"),
    ('{"inputs": [[1, 2, "x", 4]]}', "row 0, column 2: expected a number"),
    ('{"inputs": [[1, 2, null, 4]]}', "expected a number"),
    ('{"inputs": [[1, true, 3, 4]]}', "expected a number"),
    ('{"inputs": [[1, [2], 3, 4]]}', "expected a number"),
    ('{"inputs": [[1, NaN, 3, 4]]}', "finite"),
    ('{"inputs": [[1, 1e400, 3, 4]]}', "finite"),
    ('{"inputs": [[1, ' + "9" * 400 + ', 3, 4]]}', "finite"),
    (b"\xff\xfe", "UTF-8"),
]


@pytest.mark.parametrize(("body", "message"), BAD)
def test_bad_bodies_get_400_with_a_json_error_and_the_server_goes_on(server, body, message):
    status, reply = _request(server, "POST", "/predict", body)
    assert status == 400, reply
    assert set(reply) == {"error"} and message in reply["error"]
    ok, _ = _request(server, "POST", "/predict", {"inputs": [[0, 0, 0, 0]]})
    assert ok == 200


def test_deep_nesting_within_the_limit(model_path):
    srv = serve.make_server(model_path, port=0, max_body=100_000, quiet=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        status, reply = _request(srv, "POST", "/predict", "[" * 20000 + "]" * 20000)
        assert status == 400 and "error" in reply
    finally:
        srv.shutdown()
        srv.server_close()


def test_oversized_body_is_413(server):
    rows = {"inputs": [[0.123456789] * 4] * 100}  # well over 2000 bytes
    status, reply = _request(server, "POST", "/predict", rows)
    assert status == 413 and "at most 2000" in reply["error"]
    assert _request(server, "POST", "/predict", {"inputs": [[0, 0, 0, 0]]})[0] == 200


def test_unknown_paths_and_methods(server):
    status, reply = _request(server, "POST", "/nope", {"inputs": [[0, 0, 0, 0]]})
    assert status == 404 and "/predict" in reply["error"]
    assert _request(server, "GET", "/nope")[0] == 404
    status, reply = _request(server, "GET", "/predict")
    assert status == 405 and "POST" in reply["error"]
    assert _request(server, "PUT", "/predict", "{}")[0] == 405
    assert _request(server, "DELETE", "/predict")[0] == 405


def test_missing_content_length_is_411(server):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.putrequest("POST", "/predict")
    conn.putheader("Content-Type", "application/json")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 411 and "Content-Length" in json.loads(resp.read())["error"]
    conn.close()


def _raw(server, payload):
    with socket.create_connection(server.server_address[:2], timeout=10) as s:
        s.sendall(payload)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data


def test_garbage_request_lines_get_a_json_4xx(server):
    data = _raw(server, b"FOO /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].startswith(b"HTTP/1.0 405 "), head
    assert "FOO" in json.loads(body)["error"]
    data = _raw(server, b"GET /predict HTTP/9.9\r\n\r\n")  # refused, with a JSON reason
    assert "HTTP version" in json.loads(data.split(b"\r\n\r\n")[-1])["error"]
    # one word is no request at all (HTTP/0.9 is "GET /path"): a 400 with a status line
    data = _raw(server, b"HELLO\r\n\r\n")
    assert data.startswith(b"HTTP/1.0 400 ") and "error" in json.loads(data.split(b"\r\n\r\n")[-1])
    assert _request(server, "POST", "/predict", {"inputs": [[0, 0, 0, 0]]})[0] == 200


def test_health(server):
    assert _request(server, "GET", "/health") == (
        200, {"status": "ok", "model": "Sequential", "input_shape": [4], "input_width": 4,
              "preprocessing": []})


def test_class_names(model_path):
    srv = serve.make_server(model_path, port=0, class_names=["a", "b", "c"], quiet=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        _, body = _request(srv, "POST", "/predict", {"inputs": [[0, 1, 2, 3]]})
        assert body["classes"][0] in ("a", "b", "c")
    finally:
        srv.shutdown()
        srv.server_close()
    with pytest.raises(ValueError, match="2 class names"):
        serve.make_server(model_path, port=0, class_names=["a", "b"])


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_command_line_serves_over_http(model_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "nn.serve", str(model_path), "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
        conn.request("POST", "/predict", body=json.dumps({"inputs": [[1, 2, 3, 4]]}), headers=JSON)
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        assert resp.status == 200 and len(body["probabilities"][0]) == 3
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_command_line_refuses_a_file_that_is_not_a_model(tmp_path):
    bad = tmp_path / "weights.npz"
    np.savez(bad, w=np.zeros(3))
    out = subprocess.run([sys.executable, "-m", "nn.serve", str(bad), "--port", "0"],
                         capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60,
                         check=False)
    assert out.returncode == 2 and "not a model" in out.stderr


# ---- issue 10: a server that never lies, never crashes loudly, never blocks on its log ----

@pytest.fixture(scope="module")
def roomy(model_path):
    """A server taking bodies up to 100 kB (the module's `server` takes 2000 bytes)."""
    srv = serve.make_server(model_path, port=0, max_body=100_000, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def _strict_json(data):
    def refuse(name):
        raise AssertionError(f"the answer holds {name}, which is not JSON")
    return json.loads(data, parse_constant=refuse)


def _serving(model):
    srv = serve.make_server(model, port=0, quiet=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def _stop(srv):
    srv.shutdown()
    srv.server_close()


def test_inputs_whose_logits_overflow_get_a_422_never_nan():
    srv = _serving(nn.MLP.from_weights([(np.ones((3, 4)), np.zeros(3))]))  # logits: row sums
    try:
        status, data = _request(srv, "POST", "/predict", {"inputs": [[1e308] * 4]}, raw=True)
        reply = _strict_json(data)
        assert status == 422 and "overflow" in reply["error"], reply
        assert _request(srv, "POST", "/predict", {"inputs": [[0, 0, 0, 0]]})[0] == 200
    finally:
        _stop(srv)


def test_huge_but_finite_logits_get_a_stable_softmax():
    srv = _serving(nn.MLP.from_weights([(np.eye(4)[:3], np.zeros(3))]))  # logits: 3 inputs
    try:
        status, data = _request(srv, "POST", "/predict",
                                {"inputs": [[1e308, -1e308, 1e307, 0]]}, raw=True)
        assert status == 200
        assert _strict_json(data)["probabilities"] == [[1.0, 0.0, 0.0]]
    finally:
        _stop(srv)


def test_a_5000_digit_integer_is_a_400(roomy):
    body = '{"inputs": [[1, ' + "7" * 5000 + ', 3, 4]]}'
    status, reply = _request(roomy, "POST", "/predict", body)
    assert status == 400 and "cannot be read" in reply["error"], reply
    assert _request(roomy, "POST", "/predict", {"inputs": [[0, 0, 0, 0]]})[0] == 200


def test_a_body_shorter_than_its_content_length_then_close_is_a_400(server):
    body = b'{"inputs": [[0, 0, 0, 0]]}'  # valid JSON: only the length says it is cut short
    with socket.create_connection(server.server_address[:2], timeout=10) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                  b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body) + 20, body))
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    head, _, reply = data.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"400", head
    assert f"after {len(body)} of the {len(body) + 20} bytes" in json.loads(reply)["error"]


def _records(caplog, text, timeout=5.0):
    """The nn.serve log records containing `text`, waiting (bounded) for the first."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in caplog.records if r.name == "nn.serve" and text in r.getMessage()]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def test_an_early_disconnect_is_one_log_line_not_a_traceback(model_path, caplog, capfd):
    srv = serve.make_server(model_path, port=0, quiet=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        s = socket.create_connection(srv.server_address[:2], timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # a reset before the request line: the client is gone
        found = _records(caplog, "disconnected")
        assert len(found) == 1 and "\n" not in found[0].getMessage(), found
        assert _request(srv, "POST", "/predict", {"inputs": [[0, 0, 0, 0]]})[0] == 200
    finally:
        srv.shutdown()
        srv.server_close()
    err = capfd.readouterr().err
    assert "Traceback" not in err, err


def test_no_log_line_or_numpy_warning_while_the_model_lock_is_held(model_path, caplog):
    srv = serve.make_server(model_path, port=0, quiet=False)
    held = []

    class Probe(logging.Handler):
        def emit(self, record):
            held.append(srv.lock.locked())

    probe = Probe()
    logging.getLogger("nn.serve").addHandler(probe)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        with caplog.at_level(logging.INFO, logger="nn.serve"), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for inputs in ([[0, 0, 0, 0]], [[1e308] * 4], [[1, 2]]):
                _request(srv, "POST", "/predict", {"inputs": inputs})
            assert len(_records(caplog, "POST /predict")) == 3
    finally:
        logging.getLogger("nn.serve").removeHandler(probe)
        srv.shutdown()
        srv.server_close()
    assert held and not any(held), held
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], \
        [str(w.message) for w in caught]


def test_a_full_stderr_pipe_nobody_reads_never_blocks_serving(model_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "nn.serve", str(model_path), "--port", "0"],  # logs each request
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    try:
        with contextlib.suppress(AttributeError, OSError):  # a small pipe fills sooner
            fcntl.fcntl(proc.stderr.fileno(), fcntl.F_SETPIPE_SZ, 4096)
        m = re.search(r"http://127\.0\.0\.1:(\d+)", proc.stdout.readline())
        assert m
        path = "/nope?" + "x" * 200  # each 404 logs one line of about 300 bytes
        for i in range(300):  # far more than the pipe holds; nobody reads it
            conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=5)
            try:
                conn.request("GET", path)
                assert conn.getresponse().status == 404, i
            finally:
                conn.close()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.parametrize("damage", ["truncated", "directory"])
def test_a_model_that_fails_to_load_refuses_to_start_with_a_clear_message(model_path, tmp_path,
                                                                         damage):
    bad = tmp_path / "model.npz"
    if damage == "truncated":
        bad.write_bytes(Path(model_path).read_bytes()[:300])
    else:
        bad.mkdir()
    out = subprocess.run([sys.executable, "-m", "nn.serve", str(bad), "--port", "0"],
                         capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60,
                         check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert str(bad) in out.stderr and "did not load" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


# ---- issue 15: the preprocessing travels inside the model file -----------------------------

def test_a_served_model_applies_its_saved_preprocessing_to_raw_rows(tmp_path):
    rng = np.random.default_rng(0)
    raw = rng.normal(50.0, 20.0, size=(40, 4))  # far from unit scale: unusable unscaled
    scaler = nn.data.Standardizer().fit(raw[:30])
    model = nn.Sequential(scaler, nn.Layer(4, 8, "tanh", seed=0), nn.Layer(8, 3, "linear",
                                                                            seed=1))
    srv = _serving(nn.load(model.save(tmp_path / "m.npz")))
    try:
        status, body = _request(srv, "POST", "/predict", {"inputs": raw[30:].tolist()})
        assert status == 200
        np.testing.assert_allclose(body["probabilities"], _softmax(nn.predict(model, raw[30:])),
                                   rtol=1e-12)
        unscaled = nn.Sequential(*model.layers[1:])
        assert not np.allclose(body["probabilities"],
                               _softmax(nn.predict(unscaled, raw[30:])), atol=1e-3)
        assert _request(srv, "GET", "/health")[1]["preprocessing"] == [
            {"module": "Standardizer", "features": 4, "fitted": True}]
    finally:
        _stop(srv)


def test_health_reports_pixel_scaling(tmp_path):
    model = nn.Sequential(nn.data.ScalePixels(16.0), nn.Layer(64, 10, "linear", seed=0))
    srv = _serving(nn.load(model.save(tmp_path / "m.npz")))
    try:
        health = _request(srv, "GET", "/health")[1]
        assert health["input_width"] == 64
        assert health["preprocessing"] == [{"module": "ScalePixels", "max_value": 16.0}]
    finally:
        _stop(srv)


def test_command_line_serves_an_onnx_file_through_onnxruntime(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    raw = np.random.default_rng(3).normal(10.0, 4.0, size=(6, 4))
    model = nn.Sequential(nn.data.Standardizer().fit(raw), nn.Layer(4, 8, "relu", seed=0),
                          nn.Dropout(0.5), nn.Layer(8, 3, "linear", seed=1)).eval()
    path = nn.export_onnx(model, tmp_path / "m.onnx", raw[:2])
    proc = subprocess.Popen(
        [sys.executable, "-m", "nn.serve", path, "--onnx", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
        conn.request("POST", "/predict", body=json.dumps({"inputs": raw.tolist()}), headers=JSON)
        body = json.loads(conn.getresponse().read())
        conn.request("POST", "/predict", body=json.dumps({"inputs": [[1, 2, 3]]}), headers=JSON)
        resp = conn.getresponse()
        assert resp.status == 400 and "expects 4" in json.loads(resp.read())["error"]
        conn.close()
        np.testing.assert_allclose(body["probabilities"], _softmax(nn.predict(model, raw)),
                                   rtol=1e-4, atol=1e-6)
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


# ---- ONNX client errors, and the model file changing under a running server (issue 22) ---
def test_onnx_inputs_the_graph_refuses_are_a_400_not_a_500(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3, seed=0), nn.ReLU(), nn.Flatten(),
                        nn.Linear(2 * 6 * 6, 3, seed=1))
    path = nn.export_onnx(cnn, tmp_path / "cnn.onnx", np.zeros((2, 1, 8, 8)))
    srv = serve.make_server(serve.OnnxModel(path), port=0, quiet=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        # (64 flat numbers are one 1×8×8 image: the server reads samples of the model's
        # own shape, and flat rows of that many numbers)
        for rows in ([[0.0] * 63], [[0.0] * 5, [1.0] * 5]):
            status, reply = _request(srv, "POST", "/predict", {"inputs": rows})
            assert status == 400 and "(1, 8, 8)" in reply["error"], reply
        assert _request(srv, "GET", "/health")[0] == 200
    finally:
        srv.shutdown()
        srv.server_close()


def test_the_model_file_swapped_truncated_or_deleted_under_a_running_server(tmp_path):
    """The server holds the model it loaded: what happens to the file afterwards changes
    no answer; a restart on the damaged file refuses to start with a clear message."""
    path = tmp_path / "m.npz"
    nn.Sequential(nn.Layer(4, 3, seed=0)).save(path)
    srv = serve.make_server(str(path), port=0, quiet=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        body = {"inputs": [[0.1, 0.2, 0.3, 0.4]]}
        first = _request(srv, "POST", "/predict", body)
        nn.Sequential(nn.Layer(4, 3, seed=9)).save(path)  # swapped
        assert _request(srv, "POST", "/predict", body) == first
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])  # truncated
        assert _request(srv, "POST", "/predict", body) == first
        path.unlink()  # deleted
        assert _request(srv, "POST", "/predict", body) == first
    finally:
        srv.shutdown()
        srv.server_close()
    path.write_bytes(raw[: len(raw) // 2])
    proc = subprocess.run([sys.executable, "-m", "nn.serve", str(path), "--port", "0"],
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60,
                          check=False)
    assert proc.returncode == 2 and "did not load as a model" in proc.stderr


# ---- issue 27: a registered CNN, served with its own input shape -------------------------

CNN_MODULE = """
import numpy as np
import autograd
import nn


@nn.register
class DigitCNN(nn.Module):
    def __init__(self, channels=4, seed=0):
        super().__init__()
        self.channels, self.seed = channels, seed
        self.conv = nn.Conv2d(1, channels, 3, padding=1, seed=seed)
        self.fc = nn.Linear(channels * 16, 10, seed=seed)

    def forward(self, x):
        h = autograd.max_pool2d(self.conv(x).relu(), 2)
        return self.fc(h.reshape(h.shape[0], -1))

    def config(self):
        return {"channels": self.channels, "seed": self.seed}
"""


def _serve_cli(args, cwd, env):
    proc = subprocess.Popen([sys.executable, "-m", "nn.serve", *map(str, args), "--port", "0",
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd)
    line = proc.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise AssertionError((line, proc.communicate(timeout=10)))
    return proc, int(m.group(1)), line


def _post(port, body, method="POST", path="/predict"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={} if body is None else {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def _stop_cli(proc):
    proc.terminate()
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()


@pytest.mark.parametrize("onnx", [False, True])
def test_a_registered_cnn_is_served_with_its_image_shape(tmp_path, onnx):
    """--import registers the class; /health reports (1, 8, 8); images and flat rows are
    both answered; anything else is a 400 (ONNX included), and serving goes on."""
    if onnx:
        pytest.importorskip("onnxruntime")
    (tmp_path / "mycnn.py").write_text(CNN_MODULE)
    sys.path.insert(0, str(tmp_path))
    try:
        import mycnn
    finally:
        sys.path.remove(str(tmp_path))
    model = mycnn.DigitCNN()
    images = np.random.default_rng(0).uniform(0, 1, size=(5, 1, 8, 8))
    if onnx:
        path = nn.export_onnx(model, tmp_path / "cnn.onnx", images[:2])
        args = [path, "--onnx"]
    else:
        path = model.save(tmp_path / "cnn.npz")
        args = [path, "--import", "mycnn"]
    env = dict(_env(), PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)]))
    proc, port, line = _serve_cli(args, tmp_path, env)
    try:
        assert "samples of shape (1, 8, 8)" in line
        status, health = _post(port, None, "GET", "/health")
        assert status == 200 and health["input_shape"] == [1, 8, 8]
        assert health["input_width"] == 64
        want = _softmax(nn.predict(model, images))
        tol = {"rtol": 1e-4, "atol": 1e-6} if onnx else {"rtol": 1e-12}
        status, body = _post(port, {"inputs": images.tolist()})
        assert status == 200, body
        np.testing.assert_allclose(body["probabilities"], want, **tol)
        status, body = _post(port, {"inputs": images.reshape(5, 64).tolist()})
        assert status == 200, body
        np.testing.assert_allclose(body["probabilities"], want, **tol)
        for bad, message in (({"inputs": images[:, :, :7].tolist()}, "shape (1, 8, 8)"),
                             ({"inputs": [[1, 2, 3]]}, "shape (1, 8, 8)"),
                             ({"inputs": [[[[1] * 8] * 8], [[[1] * 7] * 8]]}, "ragged"),
                             ({"inputs": [[[[True] * 8] * 8]]}, "expected a number")):
            status, body = _post(port, bad)
            assert status == 400 and message in body["error"], body
        status, body = _post(port, {"inputs": images[:1].tolist()})
        assert status == 200
    finally:
        _stop_cli(proc)


def test_input_shape_option_and_a_failing_import(tmp_path):
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3, seed=0))
    path = model.save(tmp_path / "m.npz")
    proc, port, _ = _serve_cli([path, "--input-shape", "3,4"], tmp_path, _env())
    try:
        status, health = _post(port, None, "GET", "/health")
        assert health["input_shape"] == [3, 4]
        x = np.arange(24.0).reshape(2, 3, 4) / 24
        status, body = _post(port, {"inputs": x.tolist()})
        assert status == 200
        np.testing.assert_allclose(body["probabilities"], _softmax(nn.predict(model, x)),
                                   rtol=1e-12)
    finally:
        _stop_cli(proc)
    out = subprocess.run([sys.executable, "-m", "nn.serve", str(path), "--import",
                          "no_such_module_here"], capture_output=True, text=True, env=_env(),
                         cwd=tmp_path, timeout=60, check=False)
    assert out.returncode == 2 and "--import failed" in out.stderr
    assert "no_such_module_here" in out.stderr
