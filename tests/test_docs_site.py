"""The documentation site builds in strict mode: every guide's link, every `:::` reference
to a module, and every docstring the API reference reads must be sound.

`make docs` (and CI) build the same site; this test lets `pytest` catch a docstring or a
link that breaks it while you work. It needs the `docs` extra (`make docs` installs it).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (make docs)")
    pytest.importorskip("mkdocstrings", reason="the docs extra is not installed (make docs)")
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stderr[-4000:]}"
    reference = (site / "reference" / "engine.html").read_text(encoding="utf-8")
    assert "autograd.engine.Value" in reference  # the reference was read from the code
    for page in ("index", "engine", "see-the-math", "networks", "convolution-sequences-gpt",
                 "interop", "performance", "install"):
        assert (site / f"{page}.html").is_file(), f"the guide {page}.md was not built"
