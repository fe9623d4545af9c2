"""Search: section-weighted ranking over a procsearch index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
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

# Imported on first use: the CLI reads the search limits and errors without loading the engine.
__getattr__ = lazy_attributes(
    __name__,
    {
        "DEFAULT_WEIGHTS": ".weights",
        "SearchEngine": ".engine",
        **dict.fromkeys(("NotFoundError", "QueryError", "SearchError"), ".errors"),
        **dict.fromkeys(("IndexStats", "SearchHit", "SearchResults", "Snippet"), ".results"),
    },
)
