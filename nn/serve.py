"""Serving a trained model over HTTP: the document's Phase 7 ("Creating an API that accepts
images and returns predictions").

    python -m nn.serve model.npz [--host 127.0.0.1] [--port 8000]
    python -m nn.serve model.npz --import mymodels     (a module that registers classes)
    python -m nn.serve model.onnx --onnx        (the exported graph, run by onnxruntime)

``POST /predict`` with ``{"inputs": [sample, ...]}`` answers
``{"probabilities": [[...], ...], "classes": [...]}``: the softmax of the model's logits
for each sample and the most probable class of each. A sample has the model's own input
shape: a row of numbers for an MLP, a ``(1, 8, 8)`` image for a CNN (a flat row of its 64
numbers is accepted too). The shape is learned from the model (its first layer; for a
convolution, the smallest image the model takes) or given with ``--input-shape 1,8,8``.
``GET /health`` tells whether the service is up, the sample shape and width it expects
and what preprocessing (a Standardizer or pixel scaling saved as the model's first module)
it applies to the raw samples it is sent. Any bad
request gets a 4xx status and a JSON body ``{"error": "..."}``, and the server carries on
serving. Only the standard
library's HTTP server is used; it listens on 127.0.0.1 unless told otherwise.

Every answer is valid JSON: logits that overflow (inputs like ``1e308``) are refused with a
422 rather than answered with NaN. Events are logged one line each through the standard
``logging`` module (logger ``nn.serve``), never while the model lock is held; the command
line writes them to stderr from a thread of their own, dropping lines rather than ever
blocking a request on a full stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import queue
import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value, no_grad
from autograd._files import remove_strays
from autograd._http import MAX_BODY, HttpError, JsonHandler, PolicyServer

from ._checks import extra_hint
from .module import Module, Sequential

MAX_LOG_LINE = 300  # characters of a request line written to the log

log = logging.getLogger("nn.serve")


RequestError = HttpError  # a bad request: its status and the message sent as {"error": ...}


def input_width(model: Module) -> int | None:
    """The number of features the model reads: the ``nin`` of its first module that has
    one (None when no module says)."""
    for m in model.modules():
        n = getattr(m, "nin", None)
        if isinstance(n, int):
            return n
    return None


def input_shape(model: Module | OnnxModel) -> tuple[int | None, ...] | None:
    """The shape of one sample the model reads (None entries: any size), or None when the
    model does not say. From its first layer: ``nin`` features, a Standardizer's fitted
    shape, a recurrent layer's (any length, input_size); for a convolution, the smallest
    image the whole model accepts (tried from 1 to 64 pixels a side), or any size when it
    takes larger ones too (no layer fixes the size)."""
    if isinstance(model, OnnxModel):
        return model.sample_shape
    from .data import Standardizer
    for m in model.modules():
        if isinstance(m, Standardizer) and m.mean is not None:
            return tuple(int(n) for n in m.mean.shape)
        nin = getattr(m, "nin", None)
        if isinstance(nin, int):
            return (nin,)
        if hasattr(m, "in_channels") and hasattr(m, "kernel_size"):
            d = len(m.w.shape) - 2
            return _probe_images(model, m.in_channels, d, m.dtype)
        if hasattr(m, "input_size") and hasattr(m, "hidden_size"):
            return (None, int(m.input_size))
    return None


def _probe_images(model: Module, channels: int, d: int, dtype: Any
                  ) -> tuple[int | None, ...] | None:
    def takes(size: int) -> bool:
        try:
            with no_grad(), np.errstate(all="ignore"):
                model(np.zeros((1, channels) + (size,) * d, dtype=dtype))
        except Exception:  # noqa: BLE001 (any refusal: this size does not fit)
            return False
        return True

    for size in range(1, 65):
        if takes(size):
            free = takes(size + 7)  # a fully convolutional model takes any larger size
            return (channels,) + ((None,) * d if free else (size,) * d)
    return None


def preprocessing(model: Module) -> list[dict[str, Any]]:
    """The preprocessing modules the model starts with (`nn.data.Standardizer`,
    `nn.data.ScalePixels`), each as ``{"module": name, ...its settings}``: what the server
    applies to the raw rows it is sent, before the first layer."""
    from .data import ScalePixels, Standardizer
    out: list[dict[str, Any]] = []
    for m in model.modules():
        if isinstance(m, Standardizer):
            out.append({"module": "Standardizer", "features": m.nin,
                        "fitted": m.mean is not None})
        elif isinstance(m, ScalePixels):
            out.append({"module": "ScalePixels", "max_value": m.max_value})
        elif m is not model and not isinstance(m, Sequential):
            break  # only what comes before the first other layer
    return out


def _last_activation(model: Module) -> str | None:
    act = None
    for m in model.modules():
        if hasattr(m, "activation") and hasattr(m, "nout"):
            act = m.activation
    return act


def _outputs(model: Module, X: np.ndarray) -> np.ndarray:
    """The model's raw outputs for the rows of X, as float64 rows (numpy's overflow
    warnings silenced: what overflowed is checked afterwards, by the caller)."""
    with no_grad(), np.errstate(all="ignore"):
        out = model(X)
    out = np.asarray(out.data if isinstance(out, Value) else out, dtype=np.float64)
    return out.reshape(len(X), -1)


def to_probabilities(out: np.ndarray, sigmoid_applied: bool = False) -> np.ndarray:
    """Class probabilities from output rows: the softmax of the logits, computed stably
    (the row's largest logit subtracted first), or [1 - p, p] for a single output (p its
    sigmoid, or the output itself when `sigmoid_applied`). Raises RequestError (422) for
    the rows whose outputs are not finite: no NaN is ever answered."""
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
    if len(bad):
        raise RequestError(422, f"the model's outputs overflow for row {int(bad[0])} "
                                f"({len(bad)} row(s) in all): the inputs are too large for "
                                f"this model; send values of the size it was trained on")
    with np.errstate(all="ignore"):
        if out.shape[1] == 1:
            x = out[:, 0]
            p = x if sigmoid_applied else 0.5 * (1.0 + np.tanh(0.5 * x))  # stable sigmoid
            return np.stack([1.0 - p, p], axis=1)
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def probabilities(model: Module, X: np.ndarray) -> np.ndarray:
    """Class probabilities for the rows of X: the softmax of the logits (a model with a
    single output gives [1 - p, p], p being the sigmoid of its output, or the output itself
    when the last layer already applies a sigmoid)."""
    return to_probabilities(_outputs(model, X), _last_activation(model) == "sigmoid")


def _check_numbers(item: Any, where: str) -> None:
    """Every leaf of nested lists a finite number (no bools, strings, nulls): walked with a
    stack, not recursion."""
    stack: list[tuple[Any, str]] = [(item, where)]
    while stack:
        v, at = stack.pop()
        if isinstance(v, list):
            stack.extend((x, f"{at}[{k}]") for k, x in enumerate(v))
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise RequestError(400, f"{at}: expected a number, got {json.dumps(v)[:40]}")
        try:
            finite = math.isfinite(float(v))
        except OverflowError:  # an integer too large for a float
            finite = False
        if not finite:
            raise RequestError(400, f"{at}: expected a finite number, got {str(v)[:40]}")


def _samples(rows: list[Any], shape: tuple[int | None, ...]) -> np.ndarray:
    """Samples of `shape` (None: any size, the same in every sample), or flat rows of its
    numbers when every size is known."""
    flat = math.prod(shape) if None not in shape else None
    for i, row in enumerate(rows):
        _check_numbers(row, f"sample {i}")
    try:
        X = np.array(rows, dtype=np.float64)
    except ValueError:
        raise RequestError(400, f"the samples are ragged (lists of different lengths); each "
                                f"must have shape {_fmt(shape)}") from None
    if flat is not None and X.ndim == 2 and X.shape[1] == flat and len(shape) > 1:
        return X.reshape((len(X),) + tuple(shape))  # flat rows of the sample's numbers
    got = X.shape[1:]
    if len(got) != len(shape) or any(w is not None and g != w for g, w in zip(got, shape)):
        also = f" (or flat rows of {flat} numbers)" if flat and len(shape) > 1 else ""
        raise RequestError(400, f"each sample must have shape {_fmt(shape)}{also}; got "
                                f"samples of shape {tuple(got)}")
    return X


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("any" if n is None else str(n) for n in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def parse_inputs(payload: Any, width: int | tuple[int | None, ...] | None) -> np.ndarray:
    """Check a decoded request body and return its samples as a float array, or raise a
    RequestError (400) saying what is wrong and what is expected. `width`: the number of
    values per row, or the shape of one sample (the model's own input shape), or None."""
    if not isinstance(payload, dict):
        raise RequestError(400, f"the body must be a JSON object {{\"inputs\": [[...], ...]}}, "
                                f"got a JSON {type(payload).__name__}")
    if "inputs" not in payload:
        raise RequestError(400, "the JSON object has no \"inputs\" key; send "
                                "{\"inputs\": [[...], ...]}, one row of numbers per sample")
    rows = payload["inputs"]
    if not isinstance(rows, list):
        raise RequestError(400, f"\"inputs\" must be a list of rows, got a JSON "
                                f"{type(rows).__name__}")
    if isinstance(width, tuple) and len(width) == 1:
        width = width[0]
    if isinstance(width, tuple):
        for i, row in enumerate(rows):
            if not isinstance(row, list):
                raise RequestError(400, f"\"inputs\" must be a list of samples, each of "
                                        f"shape {_fmt(width)}; item {i} is a JSON "
                                        f"{type(row).__name__}")
        return _samples(rows, width) if rows else np.zeros((0,) + tuple(
            n or 0 for n in width))
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise RequestError(400, f"\"inputs\" must be a list of rows (lists of numbers); "
                                    f"item {i} is a JSON {type(row).__name__}"
                                    + (" (wrap a single sample in brackets: [[...]])"
                                       if not isinstance(row, dict) else ""))
        if width is not None and len(row) != width:
            raise RequestError(400, f"row {i} has {len(row)} values; this model expects "
                                    f"{width} per row")
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise RequestError(400, f"row {i}, column {j}: expected a number, got "
                                        f"{json.dumps(v)[:40]}")
            try:
                finite = math.isfinite(float(v))
            except OverflowError:  # an integer too large for a float
                finite = False
            if not finite:
                raise RequestError(400, f"row {i}, column {j}: expected a finite number, "
                                        f"got {str(v)[:40]}")
    if width is None and len({len(r) for r in rows}) > 1:
        raise RequestError(400, "every row of \"inputs\" must have the same length")
    return np.array(rows, dtype=np.float64).reshape(len(rows), -1 if rows else (width or 0))


class OnnxModel:
    """An ONNX file (from `nn.export_onnx`, or any with one float input of rows) run by
    onnxruntime, so ``--onnx`` serves it like a model of this engine. Deliberately not a
    Module: `nn.load` can never be made to build one from a model file."""

    training = False

    def __init__(self, path: str) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise ImportError(f"--onnx needs onnxruntime: "
                              f"{extra_hint('interop')}") from None
        remove_strays(path, ".onnx")  # an export killed midway left its temporary file
        self._session = onnxruntime.InferenceSession(str(path),
                                                     providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0]
        shape = self._input.shape
        self.nin = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        self.sample_shape = tuple(n if isinstance(n, int) else None for n in shape[1:])
        self._ints = "int" in self._input.type

    def __call__(self, x: Any) -> np.ndarray:
        """The graph's outputs; what onnxruntime refuses about the inputs (a shape, a
        type) is a ValueError, which the server answers with a 400."""
        x = np.asarray(x)
        if self._ints:
            if not np.all(x == np.round(x)):
                raise ValueError("this model reads integer ids; got fractions")
            x = x.astype(np.int64)
        else:
            x = x.astype(np.float32)
        try:
            return self._session.run(None, {self._input.name: x})[0]
        except Exception as e:  # noqa: BLE001 (onnxruntime's own error classes)
            raise ValueError(f"onnxruntime refused the inputs: {str(e)[:300]}") from None

    def eval(self) -> OnnxModel:
        return self

    def modules(self) -> Any:
        yield self


class PredictionServer(PolicyServer):
    """A threading HTTP server holding one model (its forward passes run one at a time)."""

    def __init__(self, address: tuple[str, int], model: Module | OnnxModel,
                 max_body: int = MAX_BODY, class_names: Sequence[str] | None = None,
                 quiet: bool = False, sample_shape: Sequence[int | None] | None = None
                 ) -> None:
        if not isinstance(model, Module | OnnxModel):
            raise TypeError(f"the server needs an nn.Module, got {type(model).__name__}")
        self.model = model.eval()
        self.sample_shape = tuple(sample_shape) if sample_shape is not None else \
            input_shape(model)
        self.width = input_width(model)
        if self.sample_shape is not None and None not in self.sample_shape:
            self.width = math.prod(self.sample_shape)
        self.preprocessing = preprocessing(model)
        self.max_body = int(max_body)
        self.class_names = list(class_names) if class_names is not None else None
        self.quiet = quiet
        self.lock = threading.Lock()
        self.sigmoid_applied = _last_activation(model) == "sigmoid"
        if self.class_names is not None and self.width is not None:
            k = probabilities(self.model, np.zeros((1, *self.sample_shape)) if
                              self.sample_shape else np.zeros((1, self.width))).shape[1]
            if k != len(self.class_names):
                raise ValueError(f"{len(self.class_names)} class names given for a model "
                                 f"with {k} classes")
        super().__init__(address, PredictHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def predict(self, X: np.ndarray) -> dict[str, Any]:
        if len(X) == 0:
            return {"probabilities": [], "classes": []}
        with self.lock:  # one forward pass at a time; nothing is logged or warned in here
            try:
                out = _outputs(self.model, X)
            except (ValueError, TypeError) as e:
                out, error = None, f"the model cannot read these inputs: {e}"
        if out is None:
            raise RequestError(400, error)
        p = to_probabilities(out, self.sigmoid_applied)
        idx = p.argmax(axis=1)
        if self.class_names is not None:
            if p.shape[1] != len(self.class_names):
                raise RequestError(500, f"the server was given {len(self.class_names)} class "
                                        f"names for a model with {p.shape[1]} outputs")
            classes: list[Any] = [self.class_names[i] for i in idx]
        else:
            classes = [int(i) for i in idx]
        return {"probabilities": p.tolist(), "classes": classes}

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An exception that escaped a request: one log line (a client that went away
        early is an event, not a bug: no traceback)."""
        exc = sys.exc_info()[1]
        who = f"{client_address[0]}:{client_address[1]}" if isinstance(
            client_address, tuple) and len(client_address) >= 2 else str(client_address)
        if isinstance(exc, ConnectionError | TimeoutError):
            log.warning("%s disconnected before the exchange finished (%s)", who,
                        type(exc).__name__)
        else:
            log.error("%s: internal error %s: %s", who, type(exc).__name__, exc)


class PredictHandler(JsonHandler):
    """``POST /predict`` and ``GET /health``; everything else is a JSON 4xx (the shared
    policy of `autograd._http`: Host, Origin, JSON bodies, a deadline per request)."""

    server: PredictionServer
    server_version = "nn-serve/0.1"

    @property
    def max_body(self) -> int:  # type: ignore[override]
        return self.server.max_body

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def do_POST(self) -> None:
        if self._path() != "/predict":
            if self._path() == "/health":
                raise HttpError(405, "use GET for /health", {"Allow": "GET"})
            raise HttpError(404, f"no such path {self._path()[:80]!r}; POST to /predict")
        X = parse_inputs(self.read_json(), self.server.sample_shape or self.server.width)
        self.reply_json(200, self.server.predict(X))

    def do_GET(self) -> None:
        self.close_connection = True
        if self._path() == "/health":
            shape = self.server.sample_shape
            self.reply_json(200, {"status": "ok", "model": type(self.server.model).__name__,
                                  "input_shape": list(shape) if shape is not None else None,
                                  "input_width": self.server.width,
                                  "preprocessing": self.server.preprocessing})
        elif self._path() == "/predict":
            raise HttpError(405, "use POST for /predict, with a JSON body "
                                 "{\"inputs\": [[...], ...]}", {"Allow": "POST"})
        else:
            raise HttpError(404, f"no such path {self._path()[:80]!r}; POST to /predict")

    do_HEAD = do_GET

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.server.quiet:
            log.info("%s %s %s %s", self.address_string(),
                     self.requestline[:MAX_LOG_LINE], code, size)

    def log_message(self, format: str, *args: Any) -> None:
        log.warning("%s %s", self.address_string(), (format % args)[:MAX_LOG_LINE])


class BackgroundLogHandler(logging.Handler):
    """Log lines written to a stream by a thread of their own, through a bounded queue:
    a request never waits for the stream (stderr may be a pipe nobody reads). When the
    queue is full, lines are dropped and counted; the count is written with the next line
    that gets through."""

    def __init__(self, stream: Any = None, capacity: int = 1000) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self.lines: queue.Queue[str] = queue.Queue(capacity)
        self.dropped = 0
        threading.Thread(target=self._write, name="nn.serve log", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.put_nowait(self.format(record))
        except queue.Full:
            self.dropped += 1
        except Exception:  # noqa: BLE001 (a record that cannot be formatted)
            self.handleError(record)

    def _write(self) -> None:
        while True:
            line = self.lines.get()
            dropped, self.dropped = self.dropped, 0
            with contextlib.suppress(Exception):  # a closed stream: nothing to tell
                if dropped:
                    self.stream.write(f"({dropped} log lines dropped: the log was full)\n")
                self.stream.write(line + "\n")
                self.stream.flush()


def make_server(model: Module | OnnxModel | str, host: str = "127.0.0.1", port: int = 8000,
                max_body: int = MAX_BODY, class_names: Sequence[str] | None = None,
                quiet: bool = False, sample_shape: Sequence[int | None] | None = None
                ) -> PredictionServer:
    """A server for `model` (a Module, or the path of a saved one) bound to host:port
    (port 0 picks a free port: read it from ``server.server_address``). `sample_shape`:
    the shape of one sample, when the model's own is not the one to accept. Call
    ``serve_forever()`` on it, in a thread or not; ``shutdown()`` stops it."""
    if not isinstance(model, Module | OnnxModel):
        from .io import load
        model = load(model)
    return PredictionServer((host, port), model, max_body, class_names, quiet, sample_shape)


def import_models(names: Sequence[str]) -> None:
    """Import each module (a dotted name, or a .py file's path) so that the model classes
    it registers with `nn.register` can be loaded."""
    import importlib
    import importlib.util
    import os
    for name in names:
        if name.endswith(".py") or os.sep in name:
            stem = os.path.splitext(os.path.basename(name))[0]
            spec = importlib.util.spec_from_file_location(stem, name)
            if spec is None or spec.loader is None:
                raise ImportError(f"no Python file at {name!r}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[stem] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(name)


def _shape_arg(text: str) -> tuple[int | None, ...]:
    try:
        dims = tuple(None if p.strip() in ("", "*", "any") else int(p)
                     for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes separated by commas, e.g. 1,8,8 "
                                         f"(* for any size), got {text!r}") from None
    if any(d is not None and d < 1 for d in dims):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return dims


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nn.serve",
        description="Serve a saved nn model: POST /predict with {\"inputs\": [[...], ...]}.")
    parser.add_argument("model", help="the .npz file written by model.save(path)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument("--max-body", type=int, default=MAX_BODY,
                        help=f"largest request body in bytes (default {MAX_BODY})")
    parser.add_argument("--class-names", default=None,
                        help="comma-separated names answered in \"classes\" instead of indices")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument("--onnx", action="store_true",
                        help="MODEL is an ONNX file (nn.export_onnx), run by onnxruntime")
    parser.add_argument("--import", dest="imports", action="append", default=[],
                        metavar="MODULE",
                        help="import MODULE (a dotted name or a .py file) first, so the model "
                             "classes it registers (nn.register) load; repeatable")
    parser.add_argument("--input-shape", type=_shape_arg, default=None, metavar="SHAPE",
                        help="the shape of one sample, e.g. 1,8,8 (default: learned from "
                             "the model)")
    args = parser.parse_args(argv)
    handler = BackgroundLogHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    from .io import load
    try:
        import_models(args.imports)
    except Exception as e:  # noqa: BLE001 (an import that fails: say which, exit 2)
        print(f"nn.serve: --import failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    try:
        model = OnnxModel(args.model) if args.onnx else load(args.model)
    except Exception as e:  # noqa: BLE001 (whatever is wrong with the file: say it, exit 2)
        print(f"nn.serve: cannot serve {args.model!r}: it did not load as a model "
              f"({type(e).__name__}: {e})", file=sys.stderr)
        return 2
    try:
        names = args.class_names.split(",") if args.class_names else None
        server = make_server(model, args.host, args.port, args.max_body, names, args.quiet,
                             args.input_shape)
    except (OSError, ValueError) as e:
        print(f"nn.serve: {e}", file=sys.stderr)
        return 2
    width = f", samples of shape {_fmt(server.sample_shape)}" if server.sample_shape \
        else f", {server.width} inputs per row" if server.width is not None else ""
    if server.preprocessing:
        width += ", raw rows preprocessed by " + " then ".join(
            p["module"] for p in server.preprocessing)
    print(f"Serving {args.model} ({type(server.model).__name__}{width}) on {server.url} "
          f"- POST /predict; Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
