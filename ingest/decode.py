"""Stage 1 of parsing: the bytes of a scraped file become markup that BeautifulSoup can read.

A page saved as rendered text (the seed page, ``.txt`` and ``.md`` scrapes) has no markup: its
lines become headings, list items and paragraphs here, so every later stage sees HTML.
"""

from __future__ import annotations

import hashlib
import re
from html import escape

from .encoding import clean_text, decode_html
from .errors import PageSkipped
from .sections import match_heading
from .skips import SkipReason

MAX_TAGS = 200_000
"""A page with more tags than this is skipped as too complex: real procedure pages have a few
thousand, and building the tree of a pathological one would take minutes."""

_MARKUP = re.compile(r"<(html|body|head|p|div|h[1-6]|ul|ol|li|table|section|article|main|span|a|br|meta|title)\b", re.I)
_TAG = re.compile(r"<[A-Za-z]")
_BULLET = re.compile(r"^\s*(?:[\u2022\u25cf\u25aa*\u2013-]|\d{1,2}[.)])\s+")
_SEARCH_BOX = re.compile(r"(?i)^search (all )?(medical )?codes?\b")
_GLUED_HEADING = re.compile(r"^(Similar Codes|Related Codes)(?=[A-Z0-9])(.*)$")


def page_markup(html: str | bytes, *, source: str = "") -> tuple[str, str]:
    """The page as markup, and the SHA-256 of the bytes as given (the record's content hash).

    Raises :class:`PageSkipped` ("too complex") for a page with more than :data:`MAX_TAGS` tags.
    """
    raw = html if isinstance(html, bytes) else html.encode("utf-8", "surrogatepass")
    text = decode_html(html) if isinstance(html, bytes) else clean_text(html)
    if not _MARKUP.search(text[:65536]):
        text = text_to_html(text)
    tags = sum(1 for _ in _TAG.finditer(text))
    if tags > MAX_TAGS:
        raise PageSkipped(SkipReason.TOO_COMPLEX, source, f"{tags:,} tags; the limit is {MAX_TAGS:,}")
    return text, hashlib.sha256(raw).hexdigest()


_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*$")


def text_to_html(text: str) -> str:
    """Markup for a page saved as rendered text: the first line is the title, lines that name a
    section or are marked as headings ("## Risks") are headings, bulleted and numbered lines are
    list items, the rest paragraphs."""
    parts: list[str] = []
    titled = False
    for line in (line.strip() for line in text.splitlines()):
        if not line or _SEARCH_BOX.match(line):
            continue
        marked = _MARKDOWN_HEADING.match(line)
        if marked:  # "## Risks": a heading the text marks itself (Markdown, wiki text)
            level = 1 if not titled else max(2, len(marked.group(1)))
            parts.append(f"<h{level}>{escape(marked.group(2))}</h{level}>")
            titled = True
            continue
        for heading, rest in _split_glued_heading(line):
            body = escape(rest)
            if heading:
                parts.append(f"<h2>{escape(heading)}</h2>")
            elif not titled:
                parts.append(f"<h1>{body}</h1>")
                titled = True
            elif _BULLET.match(rest):
                parts.append(f"<li>{escape(_BULLET.sub('', rest))}</li>")
            elif body:
                parts.append(f"<p>{body}</p>")
    return "<html><body><main>" + "\n".join(parts) + "</main></body></html>"


def _split_glued_heading(line: str) -> list[tuple[str, str]]:
    """A short line naming a section is a heading; so is a heading glued to the next text
    ("Similar CodesReal pages ..."), which text scrapers produce."""
    if len(line) <= 60 and not line.endswith(".") and match_heading(line) is not None and not _BULLET.match(line):
        return [(line, "")]
    glued = _GLUED_HEADING.match(line)
    if glued:
        return [(glued.group(1), ""), ("", glued.group(2))]
    return [("", line)]
