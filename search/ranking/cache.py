"""The posting cache: decoded posting lists kept across searches, least recently used dropped first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

CACHE_POSTINGS = 4_000_000
"""Decoded postings a :class:`PostingCache` keeps (12 bytes each: about 48 MB)."""


class PostingCache:
    """Decoded posting lists (and a word's lists summed over its fields), least recently used
    dropped first, at most ``size`` postings' worth in all.

    Keys name the index's segments (their ids never change: Whoosh writes new segments, never
    alters one), so one cache serves a long-lived engine across index generations; the scores
    depend on whole-index statistics, which change with any segment, so an entry is for one set
    of segments.
    """

    def __init__(self, size: int = CACHE_POSTINGS) -> None:
        self.size = size
        self.held = 0
        self._entries: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()  # one engine may serve searches from several threads

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: tuple[Any, ...], value: Any, *, cost: int | None = None) -> None:
        """Keep ``value``; ``cost`` is its size in postings (default: the length of a posting
        list's document numbers). Anything, even an empty list, costs at least one."""
        cost = (len(value[0]) if cost is None else cost) + 1
        if cost > self.size:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:  # two searches decoded the same list at once
                self.held -= previous[1]
            self._entries[key] = (value, cost)
            self.held += cost
            while self.held > self.size and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.held -= dropped
