"""A real headless browser for the page tests (save_html, the playground, the replay): Debian's chromium driven by playwright.

The tests skip, saying why, only when chromium or the `browser` extra is missing; CI
installs both (`.ci/run`). Nothing is downloaded: playwright launches /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]


@dataclass
class Watched:
    """A page plus everything it did that a test checks: JS errors and requests."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium); CI has it")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser extra is not installed (make browser)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1300, "height": 850})
    w = Watched(context.new_page())
    w.page.on("pageerror", lambda e: w.errors.append(str(e)))
    w.page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    w.page.on("request", lambda r: w.requests.append(r.url))
    yield w
    context.close()
