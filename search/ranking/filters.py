"""Documents a query matches, unranked: filters (--system, --group) and the match sets Whoosh runs."""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.query import Query
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from .whoosh_internals import reader_cache

MAX_FILTERS = 64
"""Filters (a code system, a group, or both) an open index remembers the documents of."""


def matching_docs(searcher: Searcher, query: Query) -> Iterator[int]:
    """The documents ``query`` matches, lazily, one index segment at a time (Whoosh's matcher
    over several segments at once fails on some queries: a phrase's coordination counts its term
    matchers, which the multi-segment matcher cannot list once it has moved past a segment)."""
    for sub, offset in searcher.leaf_searchers():
        try:
            matcher = query.matcher(sub, sub.boolean_context())
        except TermNotFound:
            continue
        for docnum in matcher.all_ids():
            yield docnum + offset


def filter_docs(searcher: Searcher, query: Query) -> set[int]:
    """The documents a filter query (--system, --group) matches, remembered per open index."""
    cache = reader_cache(searcher.reader(), "_procsearch_filters")
    key = repr(query)
    if key not in cache:
        if len(cache) >= MAX_FILTERS:
            cache.clear()
        cache[key] = set(matching_docs(searcher, query))
    docs: set[int] = cache[key]
    return docs
