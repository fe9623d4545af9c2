"""Highlighted snippets that name the section they come from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from whoosh.fields import Schema
from whoosh.highlight import ContextFragmenter, Formatter, highlight

from ..fields import label
from ..index.schema import SNIPPET_FIELDS
from .results import Snippet

_START, _END = "\x02", "\x03"  # control characters never survive into indexed text
SNIPPET_CHARS = 220
SURROUND = 70
"""Characters of context a snippet keeps before its first matched word (and the fragmenter around each)."""


class _MarkFormatter(Formatter):
    """Marks matched words with control characters; :func:`_spans` turns them into offsets."""

    between = " ... "

    def format_token(self, text: str, token, replace: bool = False) -> str:  # type: ignore[no-untyped-def]
        return _START + self._text(text[token.startchar : token.endchar]) + _END


def best_snippet(
    fields: Mapping[str, Any],
    words: Mapping[str, set[str]],
    schema: Schema,
    weights: Mapping[str, float],
    matched: Mapping[str, int],
) -> Snippet | None:
    """A snippet from the section where the query matched best (most words, then highest weight).

    ``fields`` are the document's stored fields, ``words`` the query's terms per field, and
    ``matched`` how many of them the document holds per field.
    """
    candidates = sorted(
        (name for name in SNIPPET_FIELDS if matched.get(name)),
        key=lambda name: (-matched[name] * weights.get(name, 0.0), SNIPPET_FIELDS.index(name)),
    )
    for name in candidates:
        text = fields.get(name, "")
        if not text:
            continue
        marked = highlight(
            text,
            words.get(name, set()),
            schema[name].analyzer,
            ContextFragmenter(maxchars=SNIPPET_CHARS, surround=SURROUND),
            _MarkFormatter(),
            top=1,
        )
        if marked:
            plain, spans = _fit(*_spans(marked))
            return Snippet(name, _label(name), *_ellipsis(plain, spans, " ".join(text.split())))
    summary = fields.get("summary", "")
    if summary:
        return Snippet("summary", _label("summary"), clip(summary), ())
    return None


def words_by_field(terms: Iterable[tuple[str, str | bytes]]) -> dict[str, set[str]]:
    """Group (field, term) pairs into the words to highlight in each field."""
    words: dict[str, set[str]] = {}
    for name, text in terms:
        words.setdefault(name, set()).add(text.decode("utf-8") if isinstance(text, bytes) else text)
    return words


def _ellipsis(plain: str, spans: tuple[tuple[int, int], ...], whole: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Mark with "..." where the fragment starts after, or ends before, the section's text."""
    stripped = plain.strip()
    shift = len(plain) - len(plain.lstrip())
    spans = tuple((start - shift, end - shift) for start, end in spans)
    flat = " ".join(stripped.split())
    if flat and not whole.startswith(flat[:40]):
        stripped, spans = "... " + stripped, tuple((start + 4, end + 4) for start, end in spans)
    if flat and not whole.endswith(flat[-40:]):
        stripped += " ..."
    return stripped, spans


def _fit(plain: str, spans: tuple[tuple[int, int], ...]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The fragment cut to :data:`SNIPPET_CHARS` around its first matched word, at word
    boundaries (Whoosh's fragmenter adds context past its ``maxchars``)."""
    if len(plain) <= SNIPPET_CHARS or not spans:
        return plain, spans
    start = max(0, min(spans[0][0] - SURROUND, len(plain) - SNIPPET_CHARS))
    if start:
        start = plain.find(" ", start) + 1 or start  # at a word's start
    end = start + SNIPPET_CHARS
    if end < len(plain):
        end = plain.rfind(" ", start, end) if " " in plain[start:end] else end
    kept = tuple((a - start, b - start) for a, b in spans if a >= start and b <= end)
    return plain[start:end], kept


def _label(name: str) -> str:
    return label(name)


def _spans(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    start = 0
    for char in marked.replace("\n", " "):
        if char == _START:
            start = length
        elif char == _END:
            spans.append((start, length))
        else:
            out.append(char)
            length += 1
    return "".join(out), tuple(spans)


def clip(text: str) -> str:
    """The start of a text, cut at a word boundary."""
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " ..."
