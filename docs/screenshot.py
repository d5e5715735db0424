"""Take README's screenshot of the step-through page with Debian's chromium (playwright).

    .venv/bin/python docs/screenshot.py        # writes docs/step-through.png
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograd import Value, save_html
from demos.document import DOG_B1, DOG_B2, DOG_W1, DOG_W2, DOG_X, DOG_Y

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    x = Value(DOG_X, label="x")
    h = (x @ Value(DOG_W1, label="W1").T + Value(DOG_B1, label="b1")).relu()
    h.label = "h"
    z = h @ Value(DOG_W2, label="W2").T + Value(DOG_B2, label="b2")
    z.label = "z"
    L = (z.log_softmax() * np.array(DOG_Y)).sum() * -1.0
    L.label = "L"
    L.backward()
    with tempfile.TemporaryDirectory() as tmp:
        page_path = save_html(L, Path(tmp) / "dogcat.html", title="Dog or cat, step by step")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1560, "height": 560})
            page.goto(page_path.as_uri())
            while "p₁ - y₁" not in page.inner_text("#step-lines"):  # dL/dz = p - y
                page.click("#next")
            page.screenshot(path=str(ROOT / "docs" / "step-through.png"))
            browser.close()


if __name__ == "__main__":
    main()
