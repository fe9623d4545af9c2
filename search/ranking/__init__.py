"""Ranking: Whoosh's BM25F scores, computed a whole posting list at a time.

Plain-word queries and their expansions (``Or``, ``And``, ``Term``) are scored here, with the
same scores as Whoosh's own matchers; any other query runs through Whoosh (:func:`rank` says
which by returning None). The parts:

- ``tree``: the query-tree evaluation (:func:`rank`, :class:`Ranking`, :func:`supports`).
- ``accumulator``: where one node's scores (and matched-term counts) are added, and, for an
  explanation, each term's :class:`Contribution` to a few documents.
- ``postings``: a term's posting list as one search reads it, with its BM25F scores.
- ``cache``: the posting cache kept across searches (:class:`PostingCache`).
- ``filters``: the documents a query matches, unranked (:func:`filter_docs`, :func:`matching_docs`).
- ``whoosh_internals``: the one module that reads Whoosh's private structures.
"""

from __future__ import annotations

from .accumulator import COORDINATION, Accumulator, Contribution
from .cache import CACHE_POSTINGS, PostingCache
from .filters import MAX_FILTERS, filter_docs, matching_docs
from .postings import MAX_FREQUENCIES, PostingReader
from .tree import Ranking, leaves, rank, supports
from .whoosh_internals import reader_cache

__all__ = [
    "CACHE_POSTINGS",
    "COORDINATION",
    "MAX_FILTERS",
    "MAX_FREQUENCIES",
    "Accumulator",
    "Contribution",
    "PostingCache",
    "PostingReader",
    "Ranking",
    "filter_docs",
    "leaves",
    "matching_docs",
    "rank",
    "reader_cache",
    "supports",
]
