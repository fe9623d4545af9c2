"""Search: section-weighted ranking over a procsearch index."""

from __future__ import annotations

from .engine import SearchEngine
from .errors import NotFoundError, QueryError, SearchError
from .results import IndexStats, SearchHit, SearchResults, Snippet
from .weights import DEFAULT_WEIGHTS

__all__ = [
    "DEFAULT_WEIGHTS",
    "IndexStats",
    "NotFoundError",
    "QueryError",
    "SearchEngine",
    "SearchError",
    "SearchHit",
    "SearchResults",
    "Snippet",
]
