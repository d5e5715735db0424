"""The moons playground's HTTP side: its page at / and its JSON API (see `moons.py`), under
the shared policy of `autograd._http` (own origin only, JSON bodies, a deadline)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from .._http import HttpError, JsonHandler, PolicyServer
from .moons import Moons
from .playground import MAX_BODY
from .template import fill

TITLE = "Two moons: a classifier trained live"


class MoonsHandler(JsonHandler):
    moons: Moons
    server_version = "autograd-playground"
    max_body = MAX_BODY

    def log_message(self, format: str, *args: Any) -> None:  # quiet; errors still answer
        pass

    def _path(self) -> str:
        return self.path.split("?", 1)[0].split("#", 1)[0]

    def do_GET(self) -> None:
        path, m = self._path(), self.moons
        if path in ("/", "/index.html"):
            template = resources.files("autograd.show").joinpath("moons.html").read_text("utf-8")
            with m.lock:
                page = fill(template, TITLE, {"state": m.state()})
            self.reply(200, page.encode("utf-8"), "text/html; charset=utf-8")
        elif path == "/api/state":
            with m.lock:
                self.reply_json(200, {"state": m.state()})
        elif path.startswith("/api/"):
            raise HttpError(405, f"{path} takes POST, not GET", {"Allow": "POST"})
        else:
            raise HttpError(404, f"no page {path[:80]}; the playground is at /")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        path, m = self._path(), self.moons
        if path == "/api/state":
            raise HttpError(405, "/api/state takes GET", {"Allow": "GET"})
        if path not in ("/api/config", "/api/step"):
            raise HttpError(404, f"no API {path[:80]}: use /api/config, /api/step or "
                                 "GET /api/state")
        body = self.read_json()
        if not isinstance(body, dict):
            raise HttpError(400, "the request body must be a JSON object")
        with m.lock:
            losses: list[float] = []
            if path == "/api/config":
                m.configure(body)
            else:
                extra = set(body) - {"lr", "steps"}
                if extra:
                    raise HttpError(400, f"/api/step takes lr and steps, not "
                                         f"{min(extra)[:40]!r}")
                losses = m.step(body.get("lr"), body.get("steps", 1))
            self.reply_json(200, {"state": m.state(), "losses": losses})


def make_moons_server(host: str = "127.0.0.1", port: int = 8001) -> PolicyServer:
    handler = type("MoonsPlaygroundHandler", (MoonsHandler,), {"moons": Moons()})
    return PolicyServer((host, port), handler)
