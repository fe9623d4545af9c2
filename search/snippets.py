"""Highlighted snippets that name the section they come from."""

from __future__ import annotations

from collections.abc import Mapping

from whoosh.highlight import ContextFragmenter, Formatter, highlight
from whoosh.searching import Hit

from ..index.schema import SIMILAR, SNIPPET_FIELDS
from ..ingest.sections import section_label
from .results import Snippet

_START, _END = "\x02", "\x03"  # control characters never survive into indexed text
SNIPPET_CHARS = 220


class _MarkFormatter(Formatter):
    """Marks matched words with control characters; :func:`_spans` turns them into offsets."""

    between = " ... "

    def format_token(self, text: str, token, replace: bool = False) -> str:  # type: ignore[no-untyped-def]
        return _START + self._text(text[token.startchar : token.endchar]) + _END


def best_snippet(hit: Hit, weights: Mapping[str, float], matched: Mapping[str, int]) -> Snippet | None:
    """A snippet from the section where the query matched best (most words, then highest weight)."""
    candidates = sorted(
        (name for name in SNIPPET_FIELDS if matched.get(name)),
        key=lambda name: (-matched[name] * weights.get(name, 0.0), SNIPPET_FIELDS.index(name)),
    )
    fields = hit.fields()
    for name in candidates:
        text = fields.get(name, "")
        if not text:
            continue
        terms = hit.results.query_terms(expand=True, fieldname=name) if hit.results else set()
        words = {term[1] if isinstance(term[1], str) else term[1].decode("utf-8") for term in terms if term[0] == name}
        analyzer = hit.searcher.schema[name].analyzer
        marked = highlight(
            text, words, analyzer, ContextFragmenter(maxchars=SNIPPET_CHARS, surround=70), _MarkFormatter(), top=1
        )
        if marked:
            plain, spans = _spans(marked)
            return Snippet(name, _label(name), *_ellipsis(plain, spans, " ".join(text.split())))
    summary = fields.get("summary", "")
    if summary:
        return Snippet("summary", _label("summary"), clip(summary), ())
    return None


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


def _label(name: str) -> str:
    return "Similar Codes" if name == SIMILAR else section_label(name)


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
