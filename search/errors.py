"""Errors about queries. Messages say what is wrong and how to fix it."""

from __future__ import annotations

from ..errors import ProcsearchError


class SearchError(ProcsearchError):
    """Base class for search errors."""


class QueryError(SearchError):
    """The query cannot be run as written; the message says how to fix it."""


class NotFoundError(SearchError):
    """A code asked for by name is not in the index."""
