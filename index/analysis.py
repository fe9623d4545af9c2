"""Text analysis, defined once and used for indexing and for queries alike."""

from __future__ import annotations

from typing import Any

from whoosh.analysis import Analyzer, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.formats import Positions

from ..words import TOKEN_PATTERN

MIN_TOKEN = 1
MAX_TOKEN = 40


def text_analyzer() -> Analyzer:
    """Tokenise, lower-case, drop English stop words and over-long tokens, Porter-stem."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(minsize=MIN_TOKEN, maxsize=MAX_TOKEN)
        | StemFilter(cachesize=50000)
    )


ANALYZER_SETTINGS = {
    "tokenizer": TOKEN_PATTERN,
    "stop_words": "whoosh english",
    "stemmer": "porter",
    "max_token": MAX_TOKEN,
}
"""Recorded in every index, so an index built with other analysis is recognised as incompatible."""


def index_terms(
    field: Any, value: str, encoded: dict[Any, bytes] | None = None
) -> list[tuple[bytes, int, float, bytes]] | None:
    """What ``field.index(value)`` returns for a text field analysed by :func:`text_analyzer`,
    computed in one loop instead of a chain of token generators (the build's inner loop).

    The tokenizer pattern, stop list, size limits and stemmer are read from the field's own
    analyzer, so there is one definition of the analysis; None if the field is analysed or
    encoded any other way (the caller then uses ``field.index``). A test checks the two agree.
    ``encoded``, if given, keeps encoded position lists for reuse (most are one position).
    """
    parts = _chain(field)
    if parts is None:
        return None
    findall, stops, smallest, largest, stem, terms = parts
    if len(terms) > MAX_WORDS:
        terms.clear()
    positions: dict[str, list[int]] = {}
    position = -1
    for index, word in enumerate(findall(value)):
        term = terms.get(word)
        if term is None:  # a word seen for the first time: lower-case, drop or stem it
            lowered = word.lower()
            dropped = len(lowered) < smallest or len(lowered) > largest or lowered in stops
            term = terms[word] = "" if dropped else stem(lowered)
        if not term:
            continue
        # StopFilter renumbers: the first kept word keeps its place, the rest follow on.
        position = index if position < 0 else position + 1
        found = positions.get(term)
        if found is None:
            positions[term] = [position]
        else:
            found.append(position)
    encode = field.format.encode
    if encoded is None:
        return [
            (term.encode("utf-8"), len(found), float(len(found)), encode(found)) for term, found in positions.items()
        ]
    if len(encoded) > MAX_ENCODED:
        encoded.clear()
    rows = []
    for term, found in positions.items():
        key = found[0] if len(found) == 1 else tuple(found)
        value_bytes = encoded.get(key)
        if value_bytes is None:
            value_bytes = encoded[key] = encode(found)
        rows.append((term.encode("utf-8"), len(found), float(len(found)), value_bytes))
    return rows


MAX_WORDS = 200_000
"""Distinct words whose terms :func:`index_terms` remembers before it starts afresh."""
MAX_ENCODED = 100_000
"""Encoded position lists :func:`index_terms` keeps before it starts afresh."""


def _chain(field: Any) -> tuple[Any, frozenset[str], int, int, Any, dict[str, str]] | None:
    """The parts of a field's analysis, if it is exactly :func:`text_analyzer`'s chain over a
    Positions format with no field boost."""
    cached = _CHAINS.get(id(field))
    if cached is not None and cached[0] is field:
        return cached[1]
    chain: tuple[Any, frozenset[str], int, int, Any, dict[str, str]] | None = None
    items: Any = getattr(field.analyzer, "items", ())
    if (
        type(field.format) is Positions
        and field.format.field_boost == 1.0
        and [type(item) for item in items] == [RegexTokenizer, LowercaseFilter, StopFilter, StemFilter]
    ):
        tokenizer, _, stop, stemmer = items
        if (
            not tokenizer.gaps
            and not tokenizer.expression.groups
            and stop.renumber
            and not stemmer.ignore
            and stop.max is not None
        ):
            # The last part: each word as typed -> its term ("" when dropped), filled as words come.
            chain = (tokenizer.expression.findall, frozenset(stop.stops), stop.min, stop.max, stemmer._stem, {})
    _CHAINS[id(field)] = (field, chain)
    return chain


_CHAINS: dict[int, tuple[Any, Any]] = {}
"""Each field's analysis parts, worked out once (kept here: a schema must stay picklable)."""
