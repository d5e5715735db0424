"""Every Python block in README.md and in docs/ runs, so a snippet can never rot.

How the blocks are run (the convention, for anyone adding a section to README.md or to a
page under docs/):

- Each ```python block runs in a fresh namespace, with a temporary directory as the
  working directory (files it writes go there), in the order of its file.
- An HTML comment on the line just before the opening fence changes that. It reads
  ``<!-- readme: ... -->`` or ``<!-- docs: ... -->`` (the same thing; pages under docs/
  use the second), and its directives are separated by ``;``:

  ``<!-- docs: continue -->``
      run in the namespace the previous Python block of the file left (build on its names);
  ``<!-- docs: needs sklearn matplotlib -->``
      skip, visibly and with the reason, unless each of these modules imports
      (torch, onnx, onnxruntime, sklearn, matplotlib, mnist1d, playwright ...);
  ``<!-- docs: skip why not -->``
      never run it (a server that would block, a long training run); the reason shows;
  ``<!-- docs: output -->``  (before a plain ``` block)
      every line of that block, except ``...`` lines, must appear in what the Python
      blocks before it printed; times (a number followed by ``s``) are not compared.

  e.g. ``<!-- docs: continue; needs matplotlib -->``.
- One test per chain of blocks (a block and the ``continue`` blocks after it), named by
  the file and line it starts on. Shell (```sh) blocks are not run here.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*(?:readme|docs):\s*(.*?)\s*-->\s*$")
_TIME = re.compile(r"\d+(\.\d+)?s\b")


@dataclass
class Block:
    line: int                      # where the code starts in its file (1-based)
    lang: str
    code: str
    directives: dict[str, str] = field(default_factory=dict)
    where: str = ""                # the file, relative to the checkout


def _blocks(text: str, where: str = "") -> list[Block]:
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        directives = {}
        d = _DIRECTIVE.match(lines[i - 1]) if i else None
        if d:
            for part in d.group(1).split(";"):
                key, _, rest = part.strip().partition(" ")
                directives[key] = rest.strip()
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        out.append(Block(i + 2, m.group(1), "\n".join(lines[i + 1:j]), directives, where))
        i = j + 1
    return out


def _chains(blocks: list[Block]) -> list[list[Block]]:
    """Python blocks grouped with the `continue` blocks (and output blocks) after them."""
    chains: list[list[Block]] = []
    for b in blocks:
        if b.lang == "python":
            if "continue" in b.directives and chains:
                chains[-1].append(b)
            else:
                chains.append([b])
        elif "output" in b.directives and chains:
            chains[-1].append(b)
    return chains


def _all_chains() -> list[list[Block]]:
    chains = []
    for page in PAGES:
        where = page.relative_to(ROOT).as_posix()
        chains += _chains(_blocks(page.read_text(encoding="utf-8"), where))
    return chains


CHAINS = _all_chains()


def _normal(line: str) -> str:
    return _TIME.sub("<time>", line.strip())


@pytest.mark.parametrize("chain", CHAINS, ids=[f"{c[0].where}:{c[0].line}" for c in CHAINS])
def test_block_runs(chain, tmp_path, monkeypatch):
    for b in chain:
        at = f"{b.where}:{b.line}"
        if "skip" in b.directives:
            pytest.skip(f"{at}: {b.directives['skip'] or 'marked skip'}")
        for module in b.directives.get("needs", "").split():
            try:
                importlib.import_module(module)
            except ImportError:
                pytest.skip(f"{at} needs {module}, which is not installed "
                            "(make crosscheck interop demo-deps installs the optional parts)")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    printed = io.StringIO()
    for b in chain:
        at = f"{b.where}:{b.line}"
        if b.lang != "python":  # an output block: what was printed so far must show it
            seen = {_normal(line) for line in printed.getvalue().splitlines()}
            for line in b.code.splitlines():
                if line.strip() and line.strip() != "...":
                    assert _normal(line) in seen, f"{at}: not printed: {line!r}"
            continue
        code = compile(b.code, at, "exec")
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)  # noqa: S102  (the page's own code, run as a test)


def test_the_convention_reads_directives():
    text = ("<!-- readme: needs torch sklearn; continue -->\n```python\nx = 1\n```\n"
            "<!-- docs: output -->\n```\n1\n```\n```sh\nmake\n```\n")
    blocks = _blocks(text)
    assert [(b.lang, b.line, b.code) for b in blocks] == [("python", 3, "x = 1"), ("", 7, "1"),
                                                          ("sh", 10, "make")]
    assert blocks[0].directives == {"needs": "torch sklearn", "continue": ""}
    assert blocks[1].directives == {"output": ""}
    chains = _chains(blocks)
    assert len(chains) == 1 and [b.lang for b in chains[0]] == ["python", ""]


def test_every_page_is_read():
    """README.md and the guides have Python blocks, and the test finds them."""
    found = {c[0].where for c in CHAINS}
    assert "README.md" in found
    assert any(w.startswith("docs/") for w in found)
