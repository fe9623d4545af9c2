"""Term-at-a-time ranking: Whoosh's BM25F scores, computed a whole posting list at a time.

Whoosh answers an OR query by walking a binary tree of union matchers one document at a time, in
pure Python, through every field of every word: over the 68,000 ICD-10-PCS codes a two-word query
("hip replacement") walks some 75,000 postings through a tree of 40 matchers and takes about a
second. This module evaluates the very same query tree (``Or`` with its boost and coordination
factor, ``And``, ``Term`` with its boost) by decoding each posting list once and adding every
posting's BM25F score into a dictionary. Decoded posting lists are kept in a bounded cache
(:class:`PostingCache`), since the words people search for recur.

The scores are Whoosh's own (a test compares the two on every development query), with one
difference by design: Whoosh's coordination factor (``OrGroup.factory``) counts the query's terms
anew each time its collector prunes an exhausted posting list, so the same document can score
slightly differently depending on where the walk is; here every document is scored with the full
term count, as Whoosh does when pruning is off (``TopCollector(replace=0)``).

Any other query node (phrases, word prefixes, NOT, code ranges) makes :func:`rank` return None,
and the caller runs the query through Whoosh.
"""

from __future__ import annotations

import heapq
import time
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.query import And, Or, Query, Term
from whoosh.query.qcore import _NullQuery
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

CACHE_POSTINGS = 4_000_000
"""Decoded postings a :class:`PostingCache` keeps (about 8 bytes each: 32 MB)."""


class _OutOfTime(Exception):
    """The time budget ran out while scoring: what was added so far is the (partial) answer."""


@dataclass
class Ranking:
    """The best documents for a query, with what a result page needs to know about them."""

    top: list[tuple[int, float]]
    """(document number, score), best first."""
    matching: set[int]
    """Every document the query matched (for the total and for facets)."""
    terms: dict[int, list[tuple[str, bytes]]] = field(default_factory=dict)
    """The (field, term) pairs each top document holds."""
    partial: bool = False


class PostingCache:
    """Decoded posting lists, least recently used dropped first, at most ``size`` postings in all.

    Keys name a segment (its id never changes: Whoosh writes new segments, never alters one), so
    one cache can serve a long-lived engine across index generations.
    """

    def __init__(self, size: int = CACHE_POSTINGS) -> None:
        self.size = size
        self.held = 0
        self._lists: OrderedDict[tuple[str, str, bytes], tuple[array[int], array[float]]] = OrderedDict()

    def get(self, key: tuple[str, str, bytes]) -> tuple[array[int], array[float]] | None:
        postings = self._lists.get(key)
        if postings is not None:
            self._lists.move_to_end(key)
        return postings

    def put(self, key: tuple[str, str, bytes], postings: tuple[array[int], array[float]]) -> None:
        if len(postings[0]) > self.size:
            return
        self._lists[key] = postings
        self.held += len(postings[0])
        while self.held > self.size:
            _, (ids, _) = self._lists.popitem(last=False)
            self.held -= len(ids)


def supports(query: Query) -> bool:
    """True if :func:`rank` can score ``query``: only Or, And, Term and empty nodes."""
    if isinstance(query, _NullQuery) or type(query) is Term:
        return True
    if type(query) is Or:
        return not query.minmatch and all(supports(sub) for sub in query.subqueries)
    if type(query) is And:
        return all(supports(sub) for sub in query.subqueries)
    return False


def rank(
    searcher: Searcher,
    query: Query,
    *,
    limit: int,
    allowed: Query | None = None,
    deadline: float | None = None,
    cache: PostingCache | None = None,
) -> Ranking | None:
    """Score ``query`` over every document; None if the query has nodes only Whoosh can run.

    ``allowed`` restricts the result to the documents it matches (a filter); ``deadline`` is a
    ``time.monotonic()`` value after which scoring stops and the ranking is marked partial.
    """
    if not supports(query) or not isinstance(searcher.weighting, BM25F):
        return None
    cache = cache if cache is not None else PostingCache(0)
    scores: dict[int, float] = {}
    segments: list[_Segment] = []
    partial = False
    for subsearcher, offset in searcher.leaf_searchers():
        segment = _Segment(searcher, subsearcher, offset, deadline, cache)
        segments.append(segment)
        if partial:
            continue
        local: dict[int, float] = {}
        restrict = segment.allowed(allowed) if allowed is not None else None
        try:
            segment.add(query, local, 1.0, None, restrict)
        except _OutOfTime:
            partial = True
        deleted = segment.reader.deleted_docs_set if segment.reader.has_deletions() else frozenset()
        for docnum, score in local.items():
            if docnum not in deleted:
                scores[docnum + offset] = score
    top = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))
    terms = _matched_terms(query, segments, [docnum for docnum, _ in top])
    return Ranking(top=top, matching=set(scores), terms=terms, partial=partial)


def leaves(query: Query) -> Iterator[Term]:
    """The Term nodes of a query tree."""
    if type(query) is Term:
        yield query
    for sub in getattr(query, "subqueries", ()):
        yield from leaves(sub)


class _Segment:
    """Scores one segment of the index (Whoosh runs every query one segment at a time, too)."""

    def __init__(
        self, top: Searcher, searcher: Searcher, offset: int, deadline: float | None, cache: PostingCache
    ) -> None:
        self.top = top
        self.searcher = searcher
        self.reader: Any = searcher.reader()
        self.offset = offset
        self.deadline = deadline
        self.cache = cache
        self.weighting: BM25F = top.weighting
        segment = self.reader.segment() if hasattr(self.reader, "segment") else None
        self.name: str = segment.segment_id() if segment is not None else str(id(self.reader))

    # --- the query tree ------------------------------------------------------------------------

    def add(
        self,
        query: Any,
        into: dict[int, float],
        factor: float,
        counts: dict[int, int] | None,
        restrict: set[int] | None,
    ) -> None:
        """Add ``factor`` times the scores of ``query`` into ``into`` (and, if asked, how many of its
        terms each document holds into ``counts``), the way Whoosh's matchers score it."""
        if isinstance(query, _NullQuery):
            return
        if type(query) is Term:
            self._term(query, into, factor, counts, restrict)
            return
        subs = query.subqueries
        if not subs:
            return
        if len(subs) == 1:
            # Whoosh gives a one-child compound its child's matcher as it is: no boost, no coordination.
            self.add(subs[0], into, factor, counts, restrict)
            return
        if type(query) is And:
            self._and(query, into, factor, counts, restrict)
            return
        termcount = self._termcount(query) if query.scale else 0
        if termcount <= 1 or termcount == query.scale:
            for sub in subs:
                self.add(sub, into, factor * query.boost, counts, restrict)
            return
        # Whoosh's CoordMatcher: (score + (matching - 1) / (termcount - scale)^2) * (termcount - 1) / termcount
        own: dict[int, float] = {}
        own_counts: dict[int, int] = {}
        try:
            for sub in subs:
                self.add(sub, own, query.boost, own_counts, restrict)
        finally:  # out of time: what was scored so far still counts
            spread = (termcount - query.scale) ** 2
            shrink = (termcount - 1) / termcount
            for docnum, score in own.items():
                matched = own_counts[docnum]
                into[docnum] = into.get(docnum, 0.0) + factor * (score + (matched - 1) / spread) * shrink
                if counts is not None:
                    counts[docnum] = counts.get(docnum, 0) + matched

    def _and(
        self,
        query: And,
        into: dict[int, float],
        factor: float,
        counts: dict[int, int] | None,
        restrict: set[int] | None,
    ) -> None:
        # The rarest part first; each next part is only read where the parts before it matched.
        subs = sorted(query.subqueries, key=lambda sub: sub.estimate_size(self.reader))
        total: dict[int, float] = {}
        total_counts: dict[int, int] = {}
        for index, sub in enumerate(subs):
            part: dict[int, float] = {}
            part_counts: dict[int, int] | None = {} if counts is not None else None
            self.add(sub, part, 1.0, part_counts, restrict)
            if index == 0:
                total, total_counts = part, part_counts or {}
            else:
                total = {docnum: score + part[docnum] for docnum, score in total.items() if docnum in part}
                if part_counts is not None:
                    total_counts = {docnum: total_counts[docnum] + part_counts[docnum] for docnum in total}
            if not total:
                return
            restrict = set(total)
        scale = factor * query.boost
        for docnum, score in total.items():
            into[docnum] = into.get(docnum, 0.0) + scale * score
            if counts is not None:
                counts[docnum] = counts.get(docnum, 0) + total_counts[docnum]

    def _termcount(self, query: Query) -> int:
        """How many of the query's terms this segment holds (what CoordMatcher counts)."""
        if type(query) is Term:
            return int(self._exists(query) is not None)
        return sum(self._termcount(sub) for sub in getattr(query, "subqueries", ()))

    def _exists(self, query: Term) -> bytes | None:
        """The term's bytes if this segment has postings for it."""
        fieldname = query.fieldname
        if fieldname not in self.reader.schema:
            return None
        try:
            text = self.reader.schema[fieldname].to_bytes(query.text)
        except ValueError:
            return None
        return text if (fieldname, text) in self.reader else None

    # --- postings ------------------------------------------------------------------------------

    def _term(
        self,
        query: Term,
        into: dict[int, float],
        factor: float,
        counts: dict[int, int] | None,
        restrict: set[int] | None,
    ) -> None:
        text = self._exists(query)
        if text is None:
            return
        try:
            self._score_term(query, text, into, factor, counts, restrict)
        finally:
            # Checked after the term, so even an exhausted budget yields the first term's matches.
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise _OutOfTime

    def _score_term(
        self,
        query: Term,
        text: bytes,
        into: dict[int, float],
        factor: float,
        counts: dict[int, int] | None,
        restrict: set[int] | None,
    ) -> None:
        fieldname = query.fieldname
        ids, weights = self._postings(fieldname, text)
        pairs: Any = zip(ids, weights, strict=True)
        if restrict is not None:
            pairs = _restricted(ids, weights, restrict)
        boost = factor * query.boost
        get = into.get
        if not self.reader.schema[fieldname].scorable:
            for docnum, weight in pairs:
                into[docnum] = get(docnum, 0.0) + boost * weight
                if counts is not None:
                    counts[docnum] = counts.get(docnum, 0) + 1
            return
        weighting = self.weighting
        k1 = weighting.K1
        b = weighting._field_B.get(fieldname, weighting.B)
        avgfl = self.top.avg_field_length(fieldname) or 1
        c = boost * self.top.idf(fieldname, text) * (k1 + 1)
        # bm25 = idf * tf * (k1 + 1) / (tf + k1 * ((1 - b) + b * length / avgfl)), with Whoosh's
        # one-byte field lengths: the length part of the denominator is one of 256 values.
        norm = [k1 * ((1 - b) + b * (byte_to_length(byte) or 0) / avgfl) for byte in range(256)]
        lengths = self._lengths(fieldname)
        if counts is None:
            for docnum, tf in pairs:
                into[docnum] = get(docnum, 0.0) + c * tf / (tf + norm[lengths[docnum]])
            return
        for docnum, tf in pairs:
            into[docnum] = get(docnum, 0.0) + c * tf / (tf + norm[lengths[docnum]])
            counts[docnum] = counts.get(docnum, 0) + 1

    def _postings(self, fieldname: str, text: bytes) -> tuple[array[int], array[float]]:
        """A term's document numbers and weights in this segment, decoded once and cached."""
        key = (self.name, fieldname, text)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        matcher = self.reader._terms.matcher(fieldname, text, self.reader.schema[fieldname].format)
        ids: array[int] = array("I")
        weights: array[float] = array("f")
        if isinstance(matcher, W3LeafMatcher):  # a block at a time
            while matcher.is_active():
                matcher._read_ids()
                matcher._read_weights()
                ids.extend(matcher._ids)
                weights.extend(matcher._weights)
                matcher._next_block()
        else:  # another codec: a posting at a time
            while matcher.is_active():
                ids.append(matcher.id())
                weights.append(matcher.weight())
                matcher.next()
        self.cache.put(key, (ids, weights))
        return ids, weights

    def _lengths(self, fieldname: str) -> bytes:
        """Every document's one-byte length of ``fieldname`` in this segment, read in one go."""
        cache = _reader_cache(self.reader, "_procsearch_lengths")
        if fieldname not in cache:
            doccount = self.reader.doc_count_all()
            column = self.reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
            raw = b"" if column is None else bytes(column._dbfile.get(column._basepos, column._count))
            cache[fieldname] = raw + bytes(max(0, doccount - len(raw)))
        return cache[fieldname]

    def allowed(self, allowed: Query) -> set[int]:
        """This segment's documents that the filter ``allowed`` matches (cached per reader)."""
        cache = _reader_cache(self.reader, "_procsearch_filters")
        key = repr(allowed)
        if key not in cache:
            cache[key] = set(allowed.docs(self.searcher))
        return cache[key]


def _restricted(ids: array[int], weights: array[float], restrict: set[int]) -> Iterator[tuple[int, float]]:
    """The postings of the documents in ``restrict``: looked up one by one when they are few."""
    if len(restrict) * 16 < len(ids):
        for docnum in sorted(restrict):
            index = bisect_left(ids, docnum)
            if index < len(ids) and ids[index] == docnum:
                yield docnum, weights[index]
        return
    for docnum, weight in zip(ids, weights, strict=True):
        if docnum in restrict:
            yield docnum, weight


def _matched_terms(query: Query, segments: list[_Segment], docnums: list[int]) -> dict[int, list[tuple[str, bytes]]]:
    """Which of the query's terms each of ``docnums`` holds (for snippets and matched fields)."""
    terms = sorted({(t.fieldname, t.text) for t in leaves(query)})
    found: dict[int, list[tuple[str, bytes]]] = {docnum: [] for docnum in docnums}
    for segment in segments:
        count = segment.reader.doc_count_all()
        local = sorted(d - segment.offset for d in docnums if 0 <= d - segment.offset < count)
        if not local:
            continue
        for fieldname, word in terms:
            text = segment._exists(Term(fieldname, word))
            if text is None:
                continue
            ids, _ = segment._postings(fieldname, text)
            for docnum in local:
                index = bisect_left(ids, docnum)
                if index < len(ids) and ids[index] == docnum:
                    found[docnum + segment.offset].append((fieldname, text))
    return found


def _reader_cache(reader: Any, name: str) -> dict[str, Any]:
    """A dict kept on a segment reader: its files never change, so neither does what it caches."""
    cache = getattr(reader, name, None)
    if cache is None:
        cache = {}
        setattr(reader, name, cache)
    return cache
