"""The policy both local servers share: the playground and `nn.serve` (docs/security.md).

A server on 127.0.0.1 is still reachable from every web page the user opens: a page can
send requests to it (cross-site), and a domain it controls can be pointed at 127.0.0.1
(DNS rebinding). A client can also simply stop sending. So every request, before any
handler sees it, must:

- name one of this server's hosts in its ``Host`` header (the bound address; for a
  loopback bind also ``localhost``, ``127.0.0.1`` and ``[::1]``), else 400: a rebound
  domain names itself;
- carry no ``Origin`` but this server's own, else 403: another site's page is refused;
- send any POST body as ``application/json``, else 415: the body types a page may send
  cross-site without asking (text/plain, forms, multipart) are all refused;
- arrive whole within `DEADLINE` seconds (request line, headers and body together, and the
  wait before it on a kept-alive connection), else the connection is closed;

and at most `MAX_CONNECTIONS` connections are served at once (the next gets a 503). Every
answer, errors of the HTTP layer included (bad request lines, unknown methods, long URLs),
is JSON ``{"error": ...}`` with a 4xx when the client is at fault, and the server goes on.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEADLINE = 30.0         # seconds a client has to send one whole request
MAX_CONNECTIONS = 32    # connections served at once
MAX_BODY = 1 << 20      # bytes of JSON in one request
MAX_JSON_DEPTH = 64     # nesting of lists and objects in a request body
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class HttpError(Exception):
    """A request refused with this status and ``{"error": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _split_host(value: str) -> tuple[str, int | None] | None:
    """('name', port) from a Host header or an origin's authority; None if malformed."""
    if value.startswith("["):  # [::1]:8000
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ("" if not rest else None)
    else:
        name, _, port = value.partition(":")
    if port is None or (port and not port.isdigit()) or not name:
        return None
    return name.lower().rstrip("."), (int(port) if port else None)


def _is_wildcard(host: str) -> bool:
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_unspecified
    return False


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


class PolicyServer(ThreadingHTTPServer):
    """A threading HTTP server that applies the policy: the host names it answers to, and
    a bound on the connections it serves at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 max_connections: int = MAX_CONNECTIONS, deadline: float = DEADLINE) -> None:
        super().__init__(address, handler)
        self.deadline = float(deadline)
        self.slots = threading.BoundedSemaphore(max_connections)
        bound = str(address[0]).lower()
        names = {bound}
        if _is_loopback(bound):
            names.update(LOOPBACK_NAMES)
        elif _is_wildcard(bound):  # every address of this machine: its names and addresses
            names.update(LOOPBACK_NAMES)
            names.update(n.lower() for n in (socket.gethostname(), socket.getfqdn()))
            self.any_address = True
        self.host_names = names

    any_address = False

    def allowed_host(self, name: str) -> bool:
        """Whether a Host (or Origin) naming `name` is this server (an IP literal is, on a
        wildcard bind: a rebound domain is never an IP literal)."""
        if name in self.host_names:
            return True
        if self.any_address:
            with contextlib.suppress(ValueError):
                ipaddress.ip_address(name)
                return True
        return False

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve in a thread, unless MAX_CONNECTIONS are already being served: then a 503
        (written without waiting on the client) and close."""
        if not self.slots.acquire(blocking=False):
            body = json.dumps({"error": "the server is busy (too many open connections); "
                                       "try again"}).encode()
            with contextlib.suppress(OSError):
                request.setblocking(False)
                request.send(b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: "
                             b"application/json\r\nConnection: close\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _DeadlineReader(io.RawIOBase):
    """The socket as a raw stream whose every read waits at most until the handler's
    deadline: one byte a second cannot keep a request open (a per-read timeout would)."""

    def __init__(self, sock: socket.socket, handler: JsonHandler) -> None:
        self.sock = sock
        self.handler = handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.handler.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that applies the policy before any ``do_*`` method runs, answers
    every error as JSON, and turns an `HttpError` raised by a handler into its answer."""

    server: PolicyServer
    max_body = MAX_BODY
    protocol_version = "HTTP/1.0"
    deadline = 0.0
    _replied = False

    def setup(self) -> None:
        super().setup()
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self))

    def handle_one_request(self) -> None:
        """One request, with a fresh deadline; anything a handler raises is answered."""
        self.deadline = time.monotonic() + self.server.deadline
        self._replied = False
        try:
            super().handle_one_request()
        except HttpError as e:
            self.close_connection = True
            self.reply_error(e.status, e.message, e.headers)
        except TimeoutError:
            self.close_connection = True
            self.reply_error(408, "the request did not arrive in time")
        except ConnectionError:
            self.close_connection = True
            raise  # the client went away: nothing to answer (the server logs one line)
        except Exception as e:  # noqa: BLE001 (a bug must not stop the server: 500, go on)
            self.close_connection = True
            self.log_error("internal error %s: %s", type(e).__name__, e)
            self.reply_error(500, f"internal error: {type(e).__name__}: {e}")

    # ---- the policy: checked once the request line and headers are read ----------------
    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        try:
            self.check_policy()
        except HttpError as e:
            self.close_connection = True
            self.reply_error(e.status, e.message)
            return False
        return True

    def check_policy(self) -> None:
        """Host, Origin and Content-Type, as the module's docstring says."""
        port = self.server.server_address[1]
        host = self.headers.get("Host")
        if host is None:
            if self.request_version not in ("HTTP/0.9", "HTTP/1.0"):
                raise HttpError(400, "an HTTP/1.1 request needs a Host header")
        else:
            parts = _split_host(host.strip())
            if parts is None or not self.server.allowed_host(parts[0]) \
                    or parts[1] not in (None, port):
                raise HttpError(400, f"this server does not answer to the host {host[:80]!r} "
                                     f"(it answers to {self._own_origin()}): refused to "
                                     "guard against DNS rebinding")
        origin = self.headers.get("Origin")
        if origin is not None and not self._own(origin):
            raise HttpError(403, f"requests from the page at {origin[:80]!r} are refused: "
                                 f"only pages served by {self._own_origin()} may call it")
        if self.command == "POST":
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind != "application/json":
                raise HttpError(415, f"the body must be sent as Content-Type: application/json"
                                     f", not {kind or 'nothing'!r}")

    def _own(self, origin: str) -> bool:
        scheme, sep, authority = origin.strip().partition("://")
        parts = _split_host(authority) if sep and scheme.lower() == "http" else None
        return parts is not None and self.server.allowed_host(parts[0]) and \
            parts[1] == self.server.server_address[1]

    def _own_origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    # ---- answers ----------------------------------------------------------------------
    def reply(self, status: int, body: bytes, kind: str,
              headers: dict[str, str] | None = None) -> None:
        """Send one answer (its body left out for HEAD and HTTP/0.9 status-less replies)."""
        if self._replied:
            return
        self._replied = True
        with contextlib.suppress(OSError):
            self.connection.settimeout(self.server.deadline)  # a client that never reads
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    def reply_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self.reply(status, json.dumps(obj, allow_nan=False).encode("utf-8"),
                   "application/json", headers)

    def reply_error(self, status: int, message: str,
                    headers: dict[str, str] | None = None) -> None:
        self.reply_json(status, {"error": message}, headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None
                   ) -> None:
        """Errors found by http.server itself (a garbage request line, an unknown method,
        a long URL, too many headers), as JSON, with a 4xx when the client is at fault."""
        self.close_connection = True
        words = self.requestline.split()
        if self.request_version == "HTTP/0.9" and not (len(words) == 2 and words[0] == "GET"):
            self.request_version = "HTTP/1.0"  # not an HTTP/0.9 request: a status line too
        if code == 501:  # a method http.server does not know
            code, message = 405, f"method {self.command!r} is not supported"
        elif code == 505:  # an HTTP version it does not speak: the client's request
            code = 400
            message = f"unsupported HTTP version in {self.requestline[:80]!r}"
        self.reply_error(code, message or HTTPStatus(code).phrase)

    def not_allowed(self) -> None:
        raise HttpError(405, f"method {self.command} is not supported here")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = not_allowed

    # ---- the body ---------------------------------------------------------------------
    def read_json(self) -> Any:
        """The request body, decoded: Content-Length required (no chunked bodies), at most
        `max_body` bytes, UTF-8 JSON nested at most MAX_JSON_DEPTH deep."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise HttpError(411, "send the body with a Content-Length header (chunked "
                                 "bodies are not accepted)")
        length = self.headers.get("Content-Length")
        if length is None:
            raise HttpError(411, "a Content-Length header is required")
        if not length.strip().isdigit():
            raise HttpError(400, f"bad Content-Length {length[:40]!r}")
        n = int(length)
        if n > self.max_body:
            self._discard(n)
            raise HttpError(413, f"the body is {n} bytes, more than allowed: at most "
                                 f"{self.max_body} are accepted")
        try:
            body = self.rfile.read(n)
        except TimeoutError:
            raise HttpError(408, "the request body did not arrive in time") from None
        if len(body) != n:
            raise HttpError(400, f"the body ended after {len(body)} of the {n} bytes its "
                                 "Content-Length announced")
        return parse_json(body)

    def _discard(self, n: int) -> None:
        """Read away a refused body of up to 16 × max_body bytes (within the deadline), so
        the client, still sending, gets to read the 413; a larger one is not waited for
        (`finish` lingers briefly instead)."""
        if n > 16 * self.max_body:
            self._unread = True
            return
        with contextlib.suppress(OSError):
            while n > 0:
                chunk = self.rfile.read(min(1 << 16, n))
                if not chunk:
                    break
                n -= len(chunk)

    _unread = False

    def finish(self) -> None:
        """Close gently when a refused body was left unread: stop writing, then read away
        what is still arriving for a moment, so the client gets to read the answer (closing
        a socket with unread data would reset the connection and lose it)."""
        super().finish()
        if not self._unread:
            return
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            stop = time.monotonic() + 1.0
            self.connection.settimeout(0.25)
            while time.monotonic() < stop and self.connection.recv(1 << 16):
                pass

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} {(format % args)[:300]}", file=sys.stderr)


def parse_json(body: bytes) -> Any:
    """A request body as JSON, or an HttpError (400) saying why it cannot be read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "the body is not UTF-8 text") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise HttpError(400, "the JSON body is nested too deeply") from None
    except json.JSONDecodeError as e:
        raise HttpError(400, f"the body is not valid JSON: {e}") from None
    except ValueError as e:  # an integer beyond Python's digit limit
        raise HttpError(400, f"the body holds a number that cannot be read: "
                             f"{str(e)[:120]}") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise HttpError(400, f"the JSON body nests more than {MAX_JSON_DEPTH} levels deep")
    return value


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (an explicit stack, no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in (item.values() if isinstance(item, dict)
                                              else item))
    return deepest
