"""Filling a page template (save_html's page, the playground's, nn.Replay's) so that no
user string can become markup or script, whatever it contains.

A template has two markers: ``__TITLE__`` (in ``<title>`` and the heading) and
``__DATA__`` (inside ``<script type="application/json">``). Three rules make every label,
title and number reach the page as inert text:

- the markers are replaced in one pass over the template, so a title that contains
  ``__DATA__`` is never filled a second time;
- the title is HTML-escaped, with control characters and lone surrogates made visible
  (``\\x07``, ``\\ud800``) rather than left for the parser;
- the data is JSON with every ``<``, ``>`` and ``&`` written as a ``\\u`` escape, so nothing
  in it can end the script element or open a comment (``</script>``, ``<!--``) there;
  ``JSON.parse`` turns the escapes back into the same characters.

As a second wall, the page carries a Content-Security-Policy that lets only its own
scripts run (by their SHA-256), so even markup that slipped through could run nothing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import unicodedata
from typing import Any

_MARKERS = re.compile(r"__TITLE__|__DATA__")
_SCRIPTS = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_JSON_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def printable(text: str) -> str:
    """`text` with control characters and lone surrogates written as escapes (``\\x1b``,
    ``\\udc80``): what Graphviz and an HTML page can show, unlike the raw characters.
    Newlines and tabs are kept."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        kind = unicodedata.category(ch)
        if ch in "\n\t" or kind not in ("Cc", "Cs"):
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return "".join(out)


def script_json(data: Any) -> str:
    """`data` as JSON that is inert inside a ``<script>`` element (no ``<``, ``>``, ``&``;
    NaN refused: the page's data is always valid JSON)."""
    text = json.dumps(data, allow_nan=False)
    return re.sub(r"[<>&]", lambda m: _JSON_UNSAFE[m.group()], text)


def policy(template: str) -> str:
    """The Content-Security-Policy of a page from `template`: its own inline scripts only
    (each by its hash), inline styles, data: images, requests to its own origin."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"
        for s in _SCRIPTS.findall(template))
    return (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
            "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'")


def fill(template: str, title: str, data: Any) -> str:
    """The page: `template` with its title and data filled in as inert text, and its
    Content-Security-Policy as a ``<meta>`` element at the top of ``<head>``."""
    values = {"__TITLE__": html.escape(printable(str(title))), "__DATA__": script_json(data)}
    page = _MARKERS.sub(lambda m: values[m.group()], template)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy(template)}">'
    anchor = '<meta charset="utf-8">' if '<meta charset="utf-8">' in page else "<head>"
    return page.replace(anchor, anchor + "\n" + meta, 1)
