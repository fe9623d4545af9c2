"""Search: section-weighted ranking over a procsearch index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
    from .engine import SearchEngine
    from .errors import NotFoundError, QueryError, SearchError
    from .explained import Explanation, FieldShare, TermContribution
    from .plan import QueryPlan, plan_query
    from .results import IndexStats, SearchHit, SearchResults, Snippet
    from .weights import DEFAULT_WEIGHTS

__all__ = [
    "DEFAULT_WEIGHTS",
    "Explanation",
    "FieldShare",
    "IndexStats",
    "NotFoundError",
    "QueryError",
    "QueryPlan",
    "SearchEngine",
    "SearchError",
    "SearchHit",
    "SearchResults",
    "Snippet",
    "TermContribution",
    "plan_query",
]

# Imported on first use: the CLI reads the search limits and errors without loading the engine.
__getattr__ = lazy_attributes(
    __name__,
    {
        "DEFAULT_WEIGHTS": ".weights",
        "SearchEngine": ".engine",
        **dict.fromkeys(("QueryPlan", "plan_query"), ".plan"),
        **dict.fromkeys(("NotFoundError", "QueryError", "SearchError"), ".errors"),
        **dict.fromkeys(("Explanation", "FieldShare", "TermContribution"), ".explained"),
        **dict.fromkeys(("IndexStats", "SearchHit", "SearchResults", "Snippet"), ".results"),
    },
)
