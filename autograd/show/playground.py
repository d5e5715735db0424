"""The document's worked examples, live: edit any input or weight, the engine recomputes.

    python -m autograd.playground [neuron|dogcat|digit|moons] [--host 127.0.0.1] [--port 8001]

serves save_html's page on 127.0.0.1 (the standard library's HTTP server). Every example
has a stated loss L (the neuron: (a - t)² to an editable target t; dog/cat and the digit:
cross-entropy, -log p of the true class). Every input and weight is an editable number;
each edit is sent to the server, which rebuilds the graph with the engine, runs backward,
and answers with every data and gradient: the page never does the math itself. "Step"
applies one SGD update of L, ``new_w = old_w - lr × dL/dw``, to the weights (not the
inputs); "Play" repeats steps until "Pause", drawing the loss as it falls. (``moons``, a
classifier trained on the plane, is `moons.py`.) The API (JSON in, JSON out; errors are a
4xx with ``{"error": ...}``):

- ``GET /api/state`` → ``{"state": ...}``, the page's data;
- ``POST /api/eval`` with ``{"values": {"w1": 0.6, "W1": [[...], ...]}}`` → new state;
- ``POST /api/step`` with ``{"lr": 0.01, "steps": 1, "draw": true}`` → `steps` SGD updates
  and the loss after each (``"losses"``); with ``"draw": false`` only the new numbers
  (``"values"``, ``"loss"``, ``"shown"``), not the redrawn graph: Play's fast path;
- ``POST /api/reset`` → the document's numbers again.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from .._http import HttpError, JsonHandler, PolicyServer
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
    loss: str  # the loss Step lowers, as the page states it
    shown: Callable[[dict[str, Value]], list[tuple[str, float]]]  # headline numbers
    notes: Callable[[dict[str, Value], bool], list[str]] = lambda vs, original: []


def _neuron(d: ModuleType) -> Example:
    start = {f"x{i}": np.float64(v) for i, v in enumerate(d.NEURON_X, 1)}
    start |= {f"w{i}": np.float64(v) for i, v in enumerate(d.NEURON_W, 1)}
    start["b"] = np.float64(d.NEURON_B)
    start["t"] = np.float64(NEURON_TARGET)

    def build(v: dict[str, Value]) -> Value:
        z = v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["w3"] * v["x3"] + v["b"]
        z.label = "z"
        a = z.relu()
        a.label = "a"
        L = (a - v["t"]) ** 2
        L.label = "L"
        return L
    return Example("One neuron: a = ReLU(w₁x₁ + w₂x₂ + w₃x₃ + b), L = (a - t)²", start,
                   ("x1", "x2", "x3", "t"), build,
                   "L = (a - t)², the squared error of the output a to the target t",
                   lambda vs: [("a", float(vs["a"].data)), ("t", float(vs["t"].data))])


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
                   start, ("x",), build,
                   "L = -log p(dog), the cross-entropy of softmax(z) with the true label, dog",
                   lambda vs: [("p(dog)", float(np.exp(vs["log p"].data[0])))])


NEURON_TARGET = 1.0  # the document gives the neuron no target; Step needs one to aim at


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
                   start, ("x",), build,
                   'L = -log P("1"), the cross-entropy of softmax(z) with the true label, "1"',
                   lambda vs: [('P("1")', float(vs["p"].data[0]))], _digit_notes)


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
MAX_STEPS = 1000  # SGD steps one request may ask for


class BadRequest(HttpError):
    """A request the API refuses with a 4xx and this message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status, message)


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
        state["example"] = self.name
        state["loss"] = {"statement": self.example.loss, "value": float(root.data)}
        state["shown"] = self.example.shown(named)
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
                raise BadRequest(f"no input or weight named {str(k)[:40]!r}; this example has "
                                 f"{', '.join(self.values)}")
            new[k] = _numbers(k, v, self.values[k].shape)
        self._commit({**self.values, **new}, "with these numbers")

    def numbers(self) -> dict[str, Any]:
        """The current numbers without the drawing (Play's fast path): every input and
        weight (flat), the loss and the headline numbers, all from the engine."""
        root, _ = self.graph()
        named = {v.label: v for v in topological_order(root) if v.label}
        return {"values": {k: v.ravel().tolist() for k, v in self.values.items()},
                "loss": float(root.data), "shown": self.example.shown(named)}

    def steps(self, lr: Any, steps: Any) -> list[float]:
        """`steps` SGD updates; returns the loss after each (what Play's curve draws).
        If one would overflow, none is kept (422)."""
        if isinstance(steps, bool) or not isinstance(steps, int) or \
                not 1 <= steps <= MAX_STEPS:
            raise BadRequest(f'"steps" must be a whole number from 1 to {MAX_STEPS}, got '
                             f"{str(steps)[:40]}")
        before = self.values, self.lr
        try:
            return [self.step(lr) for _ in range(steps)]
        except BaseException:  # all the steps or none: a refused step undoes the others
            self.values, self.lr = before
            raise

    def step(self, lr: Any) -> float:
        """One SGD update of every weight, new_w = old_w - lr × dL/dw; returns the new L."""
        if lr is not None:
            if isinstance(lr, bool) or not isinstance(lr, int | float) or not _finite(lr) \
                    or lr <= 0:
                raise BadRequest(f'"lr" must be a positive number, got {str(lr)[:40]}')
            lr = float(lr)
        lr = self.lr if lr is None else lr
        _, leaves = self.graph()
        with np.errstate(all="ignore"):
            new = {k: (v if k in self.example.inputs else v - lr * np.asarray(leaves[k].grad))
                   for k, v in self.values.items()}
        root = self._commit(new, f"after a step with lr = {lr:g}")
        self.lr = lr
        return float(root.data)

    def _commit(self, values: dict[str, np.ndarray], how: str) -> Value:
        """Keep `values` only if every number the example computes from them is finite:
        a weight that overflows, or a result that does, is refused (422), never stored."""
        for k, v in values.items():
            if not np.all(np.isfinite(v)):
                raise BadRequest(f"{k} would not be a finite number {how}; nothing was "
                                 "changed (use a smaller learning rate or smaller numbers)", 422)
        old, self.values = self.values, values
        try:
            with np.errstate(all="ignore"):
                root, _ = self.graph()
            for v in topological_order(root):
                for what, a in (("value", v.data), ("gradient", v.grad)):
                    if not np.all(np.isfinite(a)):
                        name = v.label or v.op
                        raise BadRequest(f"the {what} of {name} overflows (it is not a "
                                         f"finite number) {how}; nothing was changed", 422)
        except BaseException:
            self.values = old
            raise
        return root

    def reset(self) -> None:
        self.values = {k: np.array(v, dtype=np.float64) for k, v in self.example.start.items()}


def _finite(x: float) -> bool:
    """Whether a JSON number is a finite float (a 400-digit integer is not)."""
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def _numbers(name: str, v: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A client's numbers for `name`, as an array of `shape` (a flat list is reshaped)."""
    size = int(np.prod(shape))
    try:
        arr = np.array(v, dtype=np.float64)
    except (TypeError, ValueError, OverflowError, RecursionError):
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


class Handler(JsonHandler):
    """The page at /, the JSON API under /api/ (the shared policy of `autograd._http`:
    only this server's own pages may call it, JSON bodies only, a deadline per request)."""

    playground: Playground
    server_version = "autograd-playground"
    max_body = MAX_BODY

    def log_message(self, format: str, *args: Any) -> None:  # quiet; errors still answer
        pass

    def _path(self) -> str:
        return self.path.split("?", 1)[0].split("#", 1)[0]

    def do_GET(self) -> None:
        pg, path = self.playground, self._path()
        if path in ("/", "/index.html"):
            with pg.lock:
                page = render_page(pg.state(), {"lr": pg.lr})
            self.reply(200, page.encode("utf-8"), "text/html; charset=utf-8")
        elif path == "/api/state":
            with pg.lock:
                self.reply_json(200, {"state": pg.state()})
        elif path.startswith("/api/"):
            raise HttpError(405, f"{path} takes POST, not GET", {"Allow": "POST"})
        else:
            raise HttpError(404, f"no page {path[:80]}; the playground is at /")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        pg, path = self.playground, self._path()
        if path == "/api/state":
            raise HttpError(405, "/api/state takes GET", {"Allow": "GET"})
        if path not in ("/api/eval", "/api/step", "/api/reset"):
            raise HttpError(404, f"no API {path[:80]}: use /api/eval, /api/step, "
                                 "/api/reset or GET /api/state")
        empty = self.headers.get("Content-Length") in (None, "0") \
            and "Transfer-Encoding" not in self.headers  # Reset needs no body
        body = {} if empty else self.read_json()
        if not isinstance(body, dict):
            raise HttpError(400, "the request body must be a JSON object")
        with pg.lock:
            if path == "/api/eval":
                pg.set_values(body.get("values"))
            elif path == "/api/step":
                draw = body.get("draw", True)
                if not isinstance(draw, bool):
                    raise BadRequest(f'"draw" must be true or false, got {str(draw)[:40]}')
                losses = pg.steps(body.get("lr"), body.get("steps", 1))
                if not draw:
                    self.reply_json(200, {**pg.numbers(), "losses": losses, "lr": pg.lr})
                    return
                self.reply_json(200, {"state": pg.state(), "lr": pg.lr, "losses": losses})
                return
            else:
                pg.reset()
            state, lr = pg.state(), pg.lr
        self.reply_json(200, {"state": state, "lr": lr})


def make_server(example: str = "neuron", host: str = "127.0.0.1",
                port: int = 8001) -> PolicyServer:
    """A server for one example (port 0: any free port; see ``server.server_address``)."""
    if example == "moons":
        from .moons_server import make_moons_server
        return make_moons_server(host, port)
    handler = type("PlaygroundHandler", (Handler,), {"playground": Playground(example)})
    return PolicyServer((host, port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograd.playground",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("example", nargs="?", default="neuron", choices=[*EXAMPLES, "moons"],
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
