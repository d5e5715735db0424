"""The HTTP policy both servers share (autograd/_http.py): real sockets on 127.0.0.1, every
loop bounded in count and time. Each test runs against the playground and nn.serve."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import nn
from autograd.show.playground import make_server as playground_server
from nn import serve

JSON = {"Content-Type": "application/json"}


class Server:
    """A running server, the request that changes its state, and how to read that state."""

    def __init__(self, kind: str, tmp_path_factory: pytest.TempPathFactory, **policy) -> None:
        self.kind = kind
        if kind == "playground":
            self.srv = playground_server("neuron", "127.0.0.1", 0)
            self.post_path, self.good = "/api/eval", {"values": {"w1": 0.25}}
        else:
            path = tmp_path_factory.mktemp("http") / "m.npz"
            nn.Sequential(nn.Layer(4, 3, "relu", seed=0), nn.Layer(3, 2, seed=1)).save(path)
            self.srv = serve.make_server(str(path), port=0, quiet=True)
            self.post_path, self.good = "/predict", {"inputs": [[0, 1, 2, 3]]}
        for k, v in policy.items():
            setattr(self.srv, k, v)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def w1(self) -> float | None:
        """The playground's weight w1 (None for nn.serve, which has no state to change)."""
        if self.kind != "playground":
            return None
        with self.srv.RequestHandlerClass.playground.lock:
            return float(self.srv.RequestHandlerClass.playground.values["w1"])

    def request(self, method: str, path: str, body: bytes | str | dict | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            if isinstance(body, dict):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            assert resp.getheader("Content-Type") == "application/json", (resp.status, data)
            return resp.status, (json.loads(data) if data else {}), dict(resp.getheaders())
        finally:
            conn.close()

    def raw(self, payload: bytes, timeout: float = 10) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(payload)
            data = b""
            with contextlib.suppress(ConnectionResetError):
                while chunk := s.recv(65536):
                    data += chunk
        return data

    def stop(self) -> None:
        self.srv.shutdown()
        self.srv.server_close()
        self.thread.join(5)


@pytest.fixture(params=["playground", "serve"])
def server(request, tmp_path_factory):
    s = Server(request.param, tmp_path_factory)
    yield s
    s.stop()


def _json_body(data: bytes) -> dict:
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head, head
    return json.loads(body)


def _status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


# ---- cross-site requests and DNS rebinding -------------------------------------------------
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1",
                                    "https://localhost", "http://localhost.evil.example"])
def test_a_foreign_origin_is_refused_and_changes_nothing(server, origin):
    before = server.w1()
    status, reply, _ = server.request("POST", server.post_path, server.good,
                                      {**JSON, "Origin": origin})
    assert status == 403 and "refused" in reply["error"], reply
    assert server.w1() == before


def test_the_servers_own_origin_is_served(server):
    for name in ("127.0.0.1", "localhost"):
        status, _, _ = server.request("POST", server.post_path, server.good,
                                      {**JSON, "Origin": f"http://{name}:{server.port}"})
        assert status == 200
    if server.kind == "playground":
        assert server.w1() == 0.25


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded",
                                  "multipart/form-data; boundary=x", None])
def test_a_body_that_is_not_json_is_a_415_and_changes_nothing(server, kind):
    before = server.w1()
    headers = {"Content-Type": kind} if kind else {}
    status, reply, _ = server.request("POST", server.post_path, json.dumps(server.good),
                                      headers)
    assert status == 415 and "application/json" in reply["error"], reply
    assert server.w1() == before
    status, _, _ = server.request("POST", server.post_path, server.good,
                                  {"Content-Type": "application/json; charset=utf-8"})
    assert status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil:{port}",
                                  "localhost:1", "[::1]:bad", ""])
def test_a_host_header_naming_another_host_is_refused(server, host):
    status, reply, _ = server.request("GET", "/health" if server.kind == "serve"
                                      else "/api/state",
                                      headers={"Host": host.format(port=server.port)})
    assert status == 400 and "host" in reply["error"].lower(), reply


def test_the_loopback_names_are_its_hosts(server):
    path = "/health" if server.kind == "serve" else "/api/state"
    for host in ("127.0.0.1", "localhost", "[::1]", "LOCALHOST"):
        for h in (host, f"{host}:{server.port}"):
            assert server.request("GET", path, headers={"Host": h})[0] == 200, h


def test_a_page_on_another_origin_cannot_change_a_weight(page, tmp_path, tmp_path_factory):
    """In chromium: a page served from another port (another origin) posts to the
    playground the way any site can (no-cors, text/plain) and with JSON; nothing changes."""
    pg = Server("playground", tmp_path_factory)
    (tmp_path / "evil.html").write_text("<!doctype html><title>evil</title>")
    import functools
    import http.server
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        before = pg.w1()
        page.page.goto(f"http://127.0.0.1:{evil.server_address[1]}/evil.html")
        url = f"http://127.0.0.1:{pg.port}/api/eval"
        results = page.page.evaluate("""async (url) => {
            const body = JSON.stringify({values: {w1: 42}});
            const out = [];
            for (const opts of [{mode: "no-cors", headers: {"Content-Type": "text/plain"}},
                                {mode: "no-cors"},
                                {headers: {"Content-Type": "application/json"}}]) {
                try { const r = await fetch(url, {method: "POST", body, ...opts});
                      out.push(r.type + " " + r.status); }
                catch (e) { out.push("refused"); }
            }
            return out;
        }""", url)
        assert len(results) == 3
        assert pg.w1() == before != 42
    finally:
        evil.shutdown()
        evil.server_close()
        pg.stop()


# ---- clients that stop sending, and too many of them --------------------------------------
def test_a_client_sending_one_byte_at_a_time_is_cut_off_at_the_deadline(tmp_path_factory):
    for kind in ("playground", "serve"):
        s = Server(kind, tmp_path_factory, deadline=1.0)
        try:
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            sock.settimeout(0.05)
            start = time.monotonic()
            closed = False
            line = b"GET /api/state HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200
            for byte in line:  # one byte every 0.05 s: each read is quick, the whole is not
                try:
                    sock.sendall(bytes([byte]))
                    closed = sock.recv(1024) == b""  # the server closed: no answer owed
                except TimeoutError:
                    pass
                except OSError:
                    closed = True
                if closed or time.monotonic() - start > 6:
                    break
            elapsed = time.monotonic() - start
            sock.close()
            assert closed and 0.9 < elapsed < 6, (kind, elapsed)
            assert s.request("GET", "/api/state" if kind == "playground" else "/health")[0] \
                == 200
        finally:
            s.stop()


def test_an_idle_connection_is_closed_at_the_deadline(tmp_path_factory):
    s = Server("serve", tmp_path_factory, deadline=0.5)
    try:
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
            start = time.monotonic()
            assert sock.recv(1024) == b""  # closed by the server, with nothing sent
            assert time.monotonic() - start < 4
    finally:
        s.stop()


def test_connections_beyond_the_bound_get_a_503_and_service_resumes(tmp_path_factory):
    for kind in ("playground", "serve"):
        s = Server(kind, tmp_path_factory, slots=threading.BoundedSemaphore(3))
        idle = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(3)]
        try:
            time.sleep(0.2)  # the three are being served (waiting for their request lines)
            data = s.raw(b"GET / HTTP/1.0\r\n\r\n")
            assert _status(data) == 503 and "busy" in _json_body(data)["error"]
        finally:
            for c in idle:
                c.close()
        try:
            deadline = time.monotonic() + 10
            while True:  # the slots come back as the idle connections' threads end
                status = _status(s.raw(b"GET /nothing HTTP/1.0\r\n\r\n"))
                if status != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert status == 404
        finally:
            s.stop()


# ---- every answer is JSON, a 4xx when the client is at fault ------------------------------
@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "DELETE", "PATCH", "TRACE"])
def test_other_methods_are_a_json_405(server, method):
    status, reply, _ = server.request(method, server.post_path, "{}", JSON)
    assert status == 405 and method in reply["error"], reply


def test_head_answers_like_get_without_a_body(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("HEAD", "/health" if server.kind == "serve" else "/api/state")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b""
    conn.close()


@pytest.mark.parametrize("payload,status", [
    (b"FOO /x HTTP/1.1\r\nHost: localhost\r\n\r\n", 405),
    (b"GET /x HTTP/9.9\r\nHost: localhost\r\n\r\n", 400),
    (b"GET /x HTTP/1.1 extra words\r\n\r\n", 400),
    (b"\x00\x01\x02 garbage\r\n\r\n", 400),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"X-A: b\r\n" * 150 + b"\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n", 431),
])
def test_protocol_errors_are_a_json_4xx_and_it_keeps_serving(server, payload, status):
    data = server.raw(payload)
    assert _status(data) == status, data[:200]
    assert "error" in _json_body(data)
    assert server.request("POST", server.post_path, server.good, JSON)[0] == 200


@pytest.mark.parametrize("raw,message", [
    (b"[" * 5000 + b"]" * 5000, "nested"),
    (b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}", "nests more than"),
    (b'{"values": {"w1": NaN}, "inputs": [[NaN, 0, 0, 0]]}', ""),
    (b'{"values": {"w1": Infinity}, "inputs": [[Infinity, 0, 0, 0]]}', ""),
    (b'{"values": {"w1": 1e400}, "inputs": [[1e400, 0, 0, 0]]}', ""),
    (b'{"values": {"w1": true}, "inputs": [[true, 0, 0, 0]]}', ""),
    (b'{"values": {"w1": null}, "inputs": [[null, 0, 0, 0]]}', ""),
    (b'{"values": {"w1": ' + b"7" * 5000 + b'}, "inputs": [[' + b"7" * 5000 + b"]]}",
     "cannot be read"),
    (b"\xff\xfe not utf-8", "UTF-8"),
])
def test_malformed_json_is_a_400_and_changes_nothing(server, raw, message):
    before = server.w1()
    status, reply, _ = server.request("POST", server.post_path, raw, JSON)
    assert status == 400 and message in reply["error"], reply
    assert server.w1() == before
    assert server.request("POST", server.post_path, server.good, JSON)[0] == 200


@pytest.mark.parametrize("path", [
    "/../../etc/passwd", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
    "/static/../../etc/passwd", "//etc/passwd", "/etc/passwd", "/./../etc/passwd",
    "/..\\..\\etc\\passwd", "/%252e%252e/etc/passwd", "/api/../../../etc/passwd",
    "/api/%2e%2e/state", "/....//....//etc/passwd", "/..;/etc/passwd", "/%c0%ae%c0%ae/etc",
    "/demos/document.py", "/autograd/_http.py", "/?file=../../etc/passwd#x"])
def test_paths_never_reach_the_file_system(server, path):
    """17 traversal variants: each is a JSON 404 (the page itself, for the playground's
    "/?..." which is its page), never a file's contents."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    assert b"root:x:" not in data and b"from __future__" not in data
    if server.kind == "playground" and path.startswith("/?"):
        assert resp.status == 200 and b"<!DOCTYPE html>" in data
    else:
        assert resp.status in (404, 405) and "error" in json.loads(data)


def test_a_3_mib_body_and_a_1_gb_announced_body_are_a_413(server):
    status, reply, _ = server.request("POST", server.post_path, b"x" * (3 << 20), JSON)
    assert status == 413 and "at most" in reply["error"]
    data = server.raw(b"POST " + server.post_path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
                      + b"[" * 1000)
    assert _status(data) == 413 and "at most" in _json_body(data)["error"]
    assert server.request("POST", server.post_path, server.good, JSON)[0] == 200


def test_8_threads_of_50_mixed_requests_are_all_answered(server):
    get = "/api/state" if server.kind == "playground" else "/health"
    mixed = [("POST", server.post_path, server.good, JSON, 200),
             ("GET", get, None, None, 200),
             ("POST", server.post_path, b"{not json", JSON, 400),
             ("POST", server.post_path, json.dumps(server.good), {"Content-Type": "text/plain"},
              415),
             ("GET", "/nothing", None, None, 404),
             ("DELETE", server.post_path, None, None, 405)]

    def worker(k: int) -> list[bool]:
        out = []
        for i in range(50):
            method, path, body, headers, want = mixed[(k + i) % len(mixed)]
            out.append(server.request(method, path, body, headers)[0] == want)
        return out

    with ThreadPoolExecutor(8) as pool:
        results = [ok for part in pool.map(worker, range(8)) for ok in part]
    assert len(results) == 400 and all(results)
