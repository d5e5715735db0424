"""Take the playground's screenshots for docs/see-the-math.md with Debian's chromium.

    .venv/bin/python docs/screenshot_playground.py
    # writes docs/playground-neuron.png, playground-digit.png, playground-moons.png

Each example is served on a free port of 127.0.0.1 in this process; the browser trains it
(Play, then Pause) or paints it as a learner would.
"""

import sys
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograd.show.playground import make_server

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def serve(example: str) -> str:
    server = make_server(example, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


def play(page, seconds: float) -> None:
    page.click("#play")
    time.sleep(seconds)
    page.click("#play")
    deadline = time.monotonic() + 30
    while page.inner_text("#play") != "Play" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 760})
        page.goto(serve("neuron"))
        page.fill("#lr", "0.01")
        play(page, 2.5)
        page.screenshot(path=str(ROOT / "docs" / "playground-neuron.png"))

        page.set_viewport_size({"width": 1400, "height": 900})
        page.goto(serve("digit"))
        page.click("#pixels div[data-i='0']")
        page.wait_for_selector("body[data-updates='1']")
        page.fill("#lr", "0.05")
        play(page, 1.5)
        page.screenshot(path=str(ROOT / "docs" / "playground-digit.png"))

        page.set_viewport_size({"width": 1360, "height": 640})
        page.goto(serve("moons"))
        play(page, 6)
        page.screenshot(path=str(ROOT / "docs" / "playground-moons.png"))
        browser.close()


if __name__ == "__main__":
    main()
