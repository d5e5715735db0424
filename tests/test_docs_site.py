"""The documentation site builds in strict mode: every guide's link, every `:::` reference
to a module, and every docstring the API reference reads must be sound.

`make docs` (and CI) build the same site; this test lets `pytest` catch a docstring or a
link that breaks it while you work. It needs the `docs` extra (`make docs` installs it).
"""

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_HREF = re.compile(r'href="([^"]*)"')
_ID = re.compile(r'\bid="([^"]*)"')


def broken_links(site: Path) -> list[str]:
    """Links between the built pages whose file or anchor (#heading, #autograd.engine.Value)
    does not exist. mkdocs checks the files; with the reference's plugins on it no longer
    checks anchors, so this does. 404.html links from the server's root and is left out."""
    pages = [p for p in site.rglob("*.html") if p.name != "404.html"]
    ids = {p.resolve(): set(map(html.unescape, _ID.findall(p.read_text(encoding="utf-8"))))
           for p in pages}
    broken = []
    for page in pages:
        for href in map(html.unescape, _HREF.findall(page.read_text(encoding="utf-8"))):
            if re.match(r"^[a-z]+:", href) or href.startswith("/"):
                continue  # another site, or the server's root
            path, _, anchor = href.partition("#")
            target = (page.parent / path).resolve() if path else page.resolve()
            where = f"{page.relative_to(site)}: {href}"
            if not target.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and target in ids and anchor not in ids[target]:
                broken.append(f"{where} (no such anchor)")
    return broken


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
    assert broken_links(site) == []
    for page in ("index", "engine", "see-the-math", "networks", "convolution-sequences-gpt",
                 "interop", "performance", "install"):
        assert (site / f"{page}.html").is_file(), f"the guide {page}.md was not built"


def test_the_link_check_finds_a_missing_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<h2 id="here">x</h2><a href="b.html#gone"></a>'
                                     '<a href="#here"></a><a href="c.html"></a>')
    (tmp_path / "b.html").write_text('<h2 id="there">y</h2><a href="a.html#here"></a>')
    assert broken_links(tmp_path) == ["a.html: b.html#gone (no such anchor)",
                                      "a.html: c.html (no such file)"]
