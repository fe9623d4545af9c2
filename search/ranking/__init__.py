"""Ranking: Whoosh's BM25F scores, computed a whole posting list at a time (see ``tree``)."""

from __future__ import annotations

from .tree import (
    CACHE_POSTINGS,
    MAX_FILTERS,
    MAX_FREQUENCIES,
    PostingCache,
    Ranking,
    filter_docs,
    leaves,
    matching_docs,
    rank,
    reader_cache,
    supports,
)

__all__ = [
    "CACHE_POSTINGS",
    "MAX_FILTERS",
    "MAX_FREQUENCIES",
    "PostingCache",
    "Ranking",
    "filter_docs",
    "leaves",
    "matching_docs",
    "rank",
    "reader_cache",
    "supports",
]
