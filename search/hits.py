"""Building a result: one :class:`SearchHit` from a stored record, its score and what it matched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ..index.schema import TEXT_FIELDS
from ..ingest.sections import section_label
from .results import SearchHit, Snippet
from .snippets import best_snippet, clip, words_by_field

MATCH_FIELDS = (*TEXT_FIELDS, "code")


def build_hit(
    stored: Mapping[str, Any],
    *,
    score: float,
    rank: int = 0,
    terms: Iterable[tuple[str, Any]] = (),
    words: Mapping[str, set[str]] | None = None,
    weights: Mapping[str, float] | None = None,
    schema: Any = None,
    exact: bool = False,
    by_code: bool = False,
) -> SearchHit:
    """A result: the stored record's summary parts and a snippet.

    A word match (``terms``: the (field, term) pairs it holds; ``words``: the query's words per
    field) gets the snippet where its matched terms are; a match by code (``by_code``: an exact
    code, or a code in a typed prefix or range) gets the summary's opening."""
    if by_code:
        summary = str(stored.get("summary", ""))
        snippet = Snippet("summary", section_label("summary"), clip(summary)) if summary else None
        matched_fields: tuple[str, ...] = ("code",)
    else:
        matched = Counter(name for name, _ in terms if name in MATCH_FIELDS)
        snippet = best_snippet(stored, words or {}, schema, weights or {}, matched)
        matched_fields = tuple(sorted(matched, key=MATCH_FIELDS.index))
    return SearchHit(
        code=str(stored["code"]),
        code_system=str(stored.get("code_system", "")),
        title=str(stored.get("title", "")),
        score=score,
        rank=rank,
        snippet=snippet,
        group=str(stored.get("group", "")),
        common_names=tuple(n for n in str(stored.get("names", "")).split("\n") if n),
        exact_code_match=exact,
        matched_fields=matched_fields,
    )


def whoosh_hit(hit: Any, *, rank: int, weights: Mapping[str, float]) -> SearchHit:
    """A result from a Whoosh hit (what its searcher matched, with its own score)."""
    words = words_by_field(hit.results.query_terms(expand=True)) if hit.results else {}
    return build_hit(
        hit.fields(),
        score=float(hit.score or 0.0),
        rank=rank,
        terms=hit.matched_terms(),
        words=words,
        weights=weights,
        schema=hit.searcher.schema,
    )
