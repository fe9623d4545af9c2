"""What the routes ask the engine, run on the engine's thread: a page of results, an explanation, listed similar codes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..ingest.record import ProcedureDoc
from ..search.engine import SearchEngine
from ..search.errors import NotFoundError
from ..search.explained import Explanation
from ..search.results import SearchResults, SimilarEntry
from .errors import BAD_PARAMETER, api_error

MAX_PAGE_SIZE = 100
PAGE_SIZE = 10
"""Results per web page."""
MAX_RESULTS = 1000
"""How deep paging goes (the engine ranks at most this many)."""
MAX_FACETED = 3000
"""The search page counts results per code system and group up to this many results."""


def search_window(engine: SearchEngine, query: str, *, offset: int, limit: int, **options: Any) -> SearchResults:
    """One page of results: the engine ranks ``offset + limit`` and the page is cut from them
    (the hits keep their ranks, so the page says where it starts)."""
    if offset + limit > MAX_RESULTS:
        raise api_error(400, BAD_PARAMETER, f"offset + limit must be at most {MAX_RESULTS}, not {offset + limit}.")
    results = engine.search(query, limit=offset + limit, **options)
    return replace(results, hits=results.hits[offset:])


def search_page_results(engine: SearchEngine, query: str, *, offset: int, **options: Any) -> SearchResults:
    """A page of results with facet counts when there are at most MAX_FACETED matches: counting
    reads every match's record (about 70 microseconds each), 15,000 for "knee replacement" over
    the full index."""
    results = search_window(engine, query, offset=offset, limit=PAGE_SIZE, **options)
    if results.total_capped or results.total > MAX_FACETED:
        return results
    return search_window(engine, query, offset=offset, limit=PAGE_SIZE, facets=True, **options)


def listed_similar(engine: SearchEngine, doc: ProcedureDoc) -> list[SimilarEntry]:
    """The page's own Similar Codes, each marked in the index or not (what ``similar`` lists
    first, without its content search, which costs up to a second on the full index)."""
    entries = []
    for similar in doc.similar_codes:
        try:
            title, in_index = engine.get(similar.code).title, True
        except NotFoundError:
            title, in_index = "", False
        entries.append(SimilarEntry(similar.code, similar.label, in_index, title))
    return entries


def explain_code(
    engine: SearchEngine, query: str, code: str, *, offset: int, limit: int, **options: Any
) -> Explanation:
    """Why ``code`` is where it is, against the page of ranks ``offset + 1`` to ``offset + limit``."""
    if offset + limit > MAX_RESULTS:
        raise api_error(400, BAD_PARAMETER, f"offset + limit must be at most {MAX_RESULTS}, not {offset + limit}.")
    return engine.explain(query, code, limit=limit, offset=offset, **options)
