"""Search: section-weighted ranking over a procsearch index."""

from __future__ import annotations

from .engine import SearchEngine
from .errors import NotFoundError, QueryError, SearchError
from .explanation import Explanation, FieldShare, TermContribution
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
