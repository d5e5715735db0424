"""The document's worked examples, live: edit any input or weight, the engine recomputes.

    python -m autograd.playground [neuron|dogcat|digit] [--host 127.0.0.1] [--port 8001]

serves save_html's page on 127.0.0.1 (the standard library's HTTP server). Every input and
weight is an editable number; each edit is sent to the server, which rebuilds the graph
with the engine, runs backward, and answers with every data and gradient: the page never
does the math itself. "Step" applies one SGD update, ``new_w = old_w - lr × gradient``, to
the weights (not the inputs), so the document's "repeat thousands of times" can be done by
hand. The API (JSON in, JSON out; errors are a 4xx with ``{"error": ...}``):

- ``GET /api/state`` → ``{"state": ...}``, the page's data;
- ``POST /api/eval`` with ``{"values": {"w1": 0.6, "W1": [[...], ...]}}`` → new state;
- ``POST /api/step`` with ``{"lr": 0.01}`` → the state after one SGD update;
- ``POST /api/reset`` → the document's numbers again.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import numpy as np

from ..engine import Value, topological_order
from .explain_numbers import fmt, sub
from .html import page_state, render_page

MAX_BODY = 1 << 20  # bytes of JSON a request may send


def document() -> ModuleType:
    """The module holding the document's inputs and weights (shipped with the package)."""
    from . import document_numbers
    return document_numbers


@dataclass
class Example:
    """A worked example: its starting numbers (name → array, in the order shown), which
    of them are inputs (not changed by Step), and how to build its graph from numbers."""

    title: str
    start: dict[str, np.ndarray]
    inputs: tuple[str, ...]
    build: Callable[[dict[str, Value]], Value]
    notes: Callable[[dict[str, Value], bool], list[str]] = lambda vs, original: []


def _neuron(d: ModuleType) -> Example:
    start = {f"x{i}": np.float64(v) for i, v in enumerate(d.NEURON_X, 1)}
    start |= {f"w{i}": np.float64(v) for i, v in enumerate(d.NEURON_W, 1)}
    start["b"] = np.float64(d.NEURON_B)

    def build(v: dict[str, Value]) -> Value:
        z = v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["w3"] * v["x3"] + v["b"]
        z.label = "z"
        a = z.relu()
        a.label = "a"
        return a
    return Example("One neuron: a = ReLU(w₁x₁ + w₂x₂ + w₃x₃ + b)", start,
                   ("x1", "x2", "x3"), build)


def _dogcat(d: ModuleType) -> Example:
    start = {"x": np.array(d.DOG_X), "W1": np.array(d.DOG_W1), "b1": np.array(d.DOG_B1),
             "W2": np.array(d.DOG_W2), "b2": np.array(d.DOG_B2)}
    y = np.array(d.DOG_Y)

    def build(v: dict[str, Value]) -> Value:
        h = (v["x"] @ v["W1"].T + v["b1"]).relu()
        h.label = "h"
        z = h @ v["W2"].T + v["b2"]
        z.label = "z"
        logp = z.log_softmax()
        logp.label = "log p"
        L = (logp * y).sum() * -1.0
        L.label = "L"
        return L
    return Example("Dog or cat: h = ReLU(W1 x + b1), z = W2 h + b2, L = -log p(dog)",
                   start, ("x",), build)


# What the document writes for the digit example (its arithmetic has slips; see notes).
DIGIT_SAYS = {"h1": (2.04, 0.11, 0.19, 0.26), "h2": (1.121, 0.517, 0.285),
              "z": (0.861, 0.210), "p": (0.657, 0.343)}


def _digit(d: ModuleType) -> Example:
    start = {"x": np.array(d.DIGIT_X)}
    for k in (1, 2, 3):
        start[f"W{k}"] = np.array(getattr(d, f"DIGIT_W{k}"))
        start[f"b{k}"] = np.array(getattr(d, f"DIGIT_B{k}"))
    y = np.array([1.0, 0.0])  # the true label: "1"

    def build(v: dict[str, Value]) -> Value:
        h1 = (v["x"] @ v["W1"].T + v["b1"]).relu()
        h2 = (h1 @ v["W2"].T + v["b2"]).relu()
        z = h2 @ v["W3"].T + v["b3"]
        p = z.softmax()
        L = (p.log() * y).sum() * -1.0
        for t, name in ((h1, "h1"), (h2, "h2"), (z, "z"), (p, "p"), (L, "L")):
            t.label = name
        return L
    return Example('The blurry digit: P("1") from 16 pixels through 4 and 3 hidden ReLUs',
                   start, ("x",), build, _digit_notes)


def _digit_notes(vs: dict[str, Value], original: bool) -> list[str]:
    """Where the document's numbers differ from what the engine computes."""
    if not original:
        return [("You changed the numbers; the document's comparison is for its own "
                "(press Reset).")]
    p = vs["p"].data
    notes = [(f'The true P("1") = {fmt(p[0])}; the document says {DIGIT_SAYS["p"][0]}: '
             f"its hidden value h1₂ = 0.11 comes from a slip (Σ input × weight is "
             f"{fmt(vs['h1'].data[1] + 0.2)}, not 0.31), carried through every later layer.")]
    for name, says in DIGIT_SAYS.items():
        got = np.asarray(vs[name].data)
        for i, s in enumerate(says):
            if fmt(got[i]) != fmt(s):
                notes.append(f"{name}{sub((i,), got.shape)}: document {s}, engine {fmt(got[i])}")
    return notes


EXAMPLES = {"neuron": _neuron, "dogcat": _dogcat, "digit": _digit}


class BadRequest(ValueError):
    """A request the API refuses with a 4xx and this message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Playground:
    """One example's current numbers, recomputed by the engine on every change."""

    def __init__(self, name: str) -> None:
        if name not in EXAMPLES:
            raise ValueError(f"unknown example {name!r}: choose one of {', '.join(EXAMPLES)}")
        self.name = name
        self.example = EXAMPLES[name](document())
        self.values = {k: np.array(v, dtype=np.float64) for k, v in self.example.start.items()}
        self.lr = 0.01
        self.lock = threading.Lock()

    def graph(self) -> tuple[Value, dict[str, Value]]:
        """Build the example from the current numbers and run backward."""
        leaves = {k: Value(float(a) if a.ndim == 0 else a.copy(), label=k)
                  for k, a in self.values.items()}
        root = self.example.build(leaves)
        root.backward()
        return root, leaves

    def state(self) -> dict[str, Any]:
        root, _leaves = self.graph()
        state = page_state(root, self.example.title)
        ids = {n["name"]: i for i, n in state["nodes"].items()}
        named = {v.label: v for v in topological_order(root) if v.label}
        original = all(np.array_equal(self.values[k], self.example.start[k])
                       for k in self.values)
        state["notes"] = self.example.notes(named, original)
        state["editable"] = [{"name": k, "node": ids[k],
                              "kind": "input" if k in self.example.inputs else "weight"}
                             for k in self.values if k in ids]
        return state


    def set_values(self, values: Any) -> None:
        if not isinstance(values, dict) or not values:
            raise BadRequest('"values" must be an object naming what to change, e.g. '
                             '{"values": {"w1": 0.6}}')
        new = {}
        for k, v in values.items():
            if k not in self.values:
                raise BadRequest(f"no input or weight named {k!r}; this example has "
                                 f"{', '.join(self.values)}")
            new[k] = _numbers(k, v, self.values[k].shape)
        self.values.update(new)

    def step(self, lr: Any) -> None:
        """One SGD update of every weight: new_w = old_w - lr × gradient."""
        if lr is not None:
            if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr) \
                    or lr <= 0:
                raise BadRequest(f'"lr" must be a positive number, got {lr!r}')
            self.lr = float(lr)
        _, leaves = self.graph()
        for k, v in leaves.items():
            if k not in self.example.inputs:
                self.values[k] = self.values[k] - self.lr * np.asarray(v.grad)

    def reset(self) -> None:
        self.values = {k: np.array(v, dtype=np.float64) for k, v in self.example.start.items()}


def _numbers(name: str, v: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A client's numbers for `name`, as an array of `shape` (a flat list is reshaped)."""
    size = int(np.prod(shape))
    try:
        arr = np.array(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a number or a list of numbers, got {v!r:.80}") from None
    if isinstance(v, bool) or arr.dtype != np.float64 or _has_bool(v):
        raise BadRequest(f"{name} must be numbers, got {v!r:.80}")
    if arr.size != size:
        raise BadRequest(f"{name} needs {size} number{'s' if size != 1 else ''} "
                         f"(shape {shape}), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise BadRequest(f"{name} must be finite numbers, got {v!r:.80}")
    return arr.reshape(shape)


def _has_bool(v: Any) -> bool:
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, bool):
            return True
        if isinstance(x, list):
            stack.extend(x)
    return False


class Handler(BaseHTTPRequestHandler):
    """The page at /, the JSON API under /api/."""

    playground: Playground
    server_version = "autograd-playground"

    def log_message(self, format: str, *args: Any) -> None:  # quiet; errors still answer
        pass

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, allow_nan=False).encode(), "application/json")

    def do_GET(self) -> None:
        pg = self.playground
        if self.path in ("/", "/index.html"):
            with pg.lock:
                page = render_page(pg.state(), {"lr": pg.lr})
            self._send(200, page.encode("utf-8"), "text/html; charset=utf-8")
        elif self.path == "/api/state":
            with pg.lock:
                self._json(200, {"state": pg.state()})
        elif self.path.startswith("/api/"):
            self._json(405, {"error": f"{self.path} takes POST, not GET"})
        else:
            self._json(404, {"error": f"no page {self.path}; the playground is at /"})

    def do_POST(self) -> None:
        pg = self.playground
        try:
            body = self._body()
            with pg.lock:
                if self.path == "/api/eval":
                    pg.set_values(body.get("values"))
                elif self.path == "/api/step":
                    pg.step(body.get("lr"))
                elif self.path == "/api/reset":
                    pg.reset()
                elif self.path == "/api/state":
                    raise BadRequest("/api/state takes GET", 405)
                else:
                    raise BadRequest(f"no API {self.path}: use /api/eval, /api/step, "
                                     "/api/reset or GET /api/state", 404)
                state = pg.state()
        except BadRequest as e:
            self._json(e.status, {"error": str(e)})
            return
        self._json(200, {"state": state, "lr": pg.lr})

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest("Content-Length must be a number") from None
        if length > MAX_BODY:
            if length <= 16 * MAX_BODY:  # read it away, so the client sees the answer
                while length > 0:
                    chunk = self.rfile.read(min(1 << 16, length))
                    if not chunk:
                        break
                    length -= len(chunk)
            else:
                self.close_connection = True
            raise BadRequest(f"the request body is more than {MAX_BODY} bytes", 413)
        raw = self.rfile.read(length) if length > 0 else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(f"the request body is not JSON: {e}") from None
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        return body


def make_server(example: str = "neuron", host: str = "127.0.0.1",
                port: int = 8001) -> ThreadingHTTPServer:
    """A server for one example (port 0: any free port; see ``server.server_address``)."""
    handler = type("PlaygroundHandler", (Handler,), {"playground": Playground(example)})
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograd.playground",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("example", nargs="?", default="neuron", choices=sorted(EXAMPLES),
                        help="which worked example (default neuron)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port (default 8001; 0: any)")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.example, args.host, args.port)
    except OSError as e:
        print(f"cannot serve on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    print(f"Serving the {args.example} playground on http://{host}:{port}/ (Ctrl-C to stop)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
