"""Term-at-a-time ranking: Whoosh's BM25F scores, computed a whole posting list at a time.

Whoosh answers an OR query by walking a binary tree of union matchers one document at a time, in
pure Python, through every field of every word: over the 68,000 ICD-10-PCS codes a two-word query
("hip replacement") walks some 75,000 postings through a tree of 40 matchers and takes about a
second. This module evaluates the very same query tree (``Or`` with its boost and coordination
factor, ``And``, ``Term`` with its boost) over whole posting lists: each term's postings, from
every segment, are decoded once into document numbers and BM25F scores, and a query adds them
into a dictionary. Decoded lists are kept in a bounded cache (:class:`PostingCache`), since the
words people search for recur.

The scores are Whoosh's own (a test compares the two on every development query), with two
differences by design, both in Whoosh's coordination factor (``OrGroup.factory``), which counts
the query's terms: Whoosh counts them anew each time its collector prunes an exhausted posting
list, and separately in each index segment, so a document's score depends on where the walk is
and which segment it sits in; here every document is scored with the query's terms in the whole
index, as Whoosh does on a one-segment index with pruning off (``TopCollector(replace=0)``).

Any other query node (phrases, word prefixes, NOT, code ranges) makes :func:`rank` return None,
and the caller runs the query through Whoosh.
"""

from __future__ import annotations

import heapq
import threading
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
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

CACHE_POSTINGS = 4_000_000
"""Decoded postings a :class:`PostingCache` keeps (12 bytes each: about 48 MB)."""


MAX_FREQUENCIES = 100_000
"""Document frequencies an open index remembers for ordering And parts (then it starts afresh)."""


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
    allowed: set[int] | None = None,
    deadline: float | None = None,
    cache: PostingCache | None = None,
) -> Ranking | None:
    """Score ``query`` over every document; None if the query has nodes only Whoosh can run.

    ``allowed`` restricts the result to these documents (filters); ``deadline`` is a
    ``time.monotonic()`` value after which scoring stops and the ranking is marked partial.
    """
    if not supports(query) or not isinstance(searcher.weighting, BM25F):
        return None
    scorer = _Scorer(searcher, deadline, cache if cache is not None else PostingCache(0))
    scores: dict[int, float] = {}
    partial = False
    try:
        scorer.add(query, scores, 1.0, None, allowed)
    except _OutOfTime:
        partial = True
    for docnum in scorer.deleted & scores.keys():
        del scores[docnum]
    top = _best(scores, limit)
    terms = scorer.matched_terms([docnum for docnum, _ in top])
    return Ranking(top=top, matching=set(scores), terms=terms, partial=partial)


def _best(scores: dict[int, float], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best (document, score) pairs, best first, ties to the lower document number
    (as Whoosh orders them)."""
    if not scores:
        return []
    threshold = heapq.nlargest(limit, scores.values())[-1]
    contenders = [item for item in scores.items() if item[1] >= threshold]
    contenders.sort(key=lambda item: (-item[1], item[0]))
    return contenders[:limit]


def matching_docs(searcher: Searcher, query: Query) -> Iterator[int]:
    """The documents ``query`` matches, lazily, one index segment at a time (Whoosh's matcher
    over several segments at once fails on some queries: a phrase's coordination counts its term
    matchers, which the multi-segment matcher cannot list once it has moved past a segment)."""
    for sub, offset in searcher.leaf_searchers():
        try:
            matcher = query.matcher(sub, sub.boolean_context())
        except TermNotFound:
            continue
        for docnum in matcher.all_ids():
            yield docnum + offset


MAX_FILTERS = 64
"""Filters (a code system, a group, or both) an open index remembers the documents of."""


def filter_docs(searcher: Searcher, query: Query) -> set[int]:
    """The documents a filter query (--system, --group) matches, remembered per open index."""
    cache = reader_cache(searcher.reader(), "_procsearch_filters")
    key = repr(query)
    if key not in cache:
        if len(cache) >= MAX_FILTERS:
            cache.clear()
        cache[key] = set(matching_docs(searcher, query))
    docs: set[int] = cache[key]
    return docs


def leaves(query: Query) -> Iterator[Term]:
    """The Term nodes of a query tree."""
    if type(query) is Term:
        yield query
    for sub in getattr(query, "subqueries", ()):
        yield from leaves(sub)


class _Scorer:
    """Scores query trees over one open index, every segment at once (global document numbers)."""

    def __init__(self, searcher: Searcher, deadline: float | None, cache: PostingCache) -> None:
        self.searcher = searcher
        self.reader: Any = searcher.reader()
        self.schema: Any = searcher.schema
        self.deadline = deadline
        self.cache = cache
        self.weighting: BM25F = searcher.weighting
        self.read: dict[tuple[str, bytes], tuple[array[int], array[float]]] = {}
        """The posting lists this search has read (the only ones matched_terms looks at)."""
        # What an open index's segments are never changes: worked out once per reader.
        view = reader_cache(self.reader, "_procsearch_view")
        if not view:
            leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
            view["leaves"] = leaves
            view["name"] = "+".join(
                segment.segment_id() if (segment := getattr(reader, "segment", lambda: None)()) else str(id(reader))
                for reader, _ in leaves
            )
            view["deleted"] = {
                docnum + offset
                for reader, offset in leaves
                if reader.has_deletions()
                for docnum in reader.deleted_docs_set
            }
        self.leaves: list[tuple[Any, int]] = view["leaves"]
        self.name: str = view["name"]
        self.deleted: set[int] = view["deleted"]

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
            for run in _runs(subs):
                self._add_run(run, into, factor * query.boost, counts, restrict)
            return
        # Whoosh's CoordMatcher: (score + (matching - 1) / (termcount - scale)^2) * (termcount - 1) / termcount
        own: dict[int, float] = {}
        own_counts: dict[int, int] = {}
        try:
            for run in _runs(subs):
                self._add_run(run, own, query.boost, own_counts, restrict)
        finally:  # out of time: what was scored so far still counts
            spread = (termcount - query.scale) ** 2
            shrink = (termcount - 1) / termcount
            get = into.get
            for docnum, score in own.items():
                matched = own_counts[docnum]
                into[docnum] = get(docnum, 0.0) + factor * (score + (matched - 1) / spread) * shrink
                if counts is not None:
                    counts[docnum] = counts.get(docnum, 0) + matched

    def _add_run(
        self,
        run: list[Any],
        into: dict[int, float],
        factor: float,
        counts: dict[int, int] | None,
        restrict: set[int] | None,
    ) -> None:
        """Add the parts of an Or; a run of one word's terms in several fields is added as one
        list per document (its summed scores and how many of its terms each document holds),
        kept in the cache: common words recur across queries, and their field lists overlap."""
        if len(run) == 1 or restrict is not None:
            for sub in run:
                self.add(sub, into, factor, counts, restrict)
            return
        key = (self.name, "word", *((term.fieldname, term.text, term.boost) for term in run))
        group = self.cache.get(key)
        out_of_time = False
        if group is None:
            sums: dict[int, float] = {}
            held: dict[int, int] = {}
            try:
                for term in run:
                    self._term(term, sums, 1.0, held, None)
            except _OutOfTime:  # what was summed so far still counts, but is not kept
                out_of_time = True
            # Compact (14 bytes a document), in the dictionaries' own order.
            group = (array("I", sums), array("d", sums.values()), array("H", held.values()))
            if not out_of_time:
                self.cache.put(key, group)
        else:
            for term in run:  # what the top documents matched is read from these lists
                text = self._bytes(term)
                if text is not None:
                    self._postings(term.fieldname, text)
        ids, scores, numbers = group
        if not into and factor == 1.0:
            into.update(zip(ids, scores, strict=True))
        else:
            get = into.get
            for docnum, score in zip(ids, scores, strict=True):
                into[docnum] = get(docnum, 0.0) + factor * score
        if counts is not None:
            if not counts:
                counts.update(zip(ids, numbers, strict=True))
            else:
                have = counts.get
                for docnum, number in zip(ids, numbers, strict=True):
                    counts[docnum] = have(docnum, 0) + number
        if out_of_time:
            raise _OutOfTime
        self._check_time()

    def _and(
        self,
        query: And,
        into: dict[int, float],
        factor: float,
        counts: dict[int, int] | None,
        restrict: set[int] | None,
    ) -> None:
        # The rarest part first; each next part is only read where the parts before it matched.
        subs = sorted(query.subqueries, key=self._size)
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

    def _size(self, query: Query) -> int:
        """Whoosh's ``estimate_size`` (a term's document frequency; the smallest part of an And,
        the sum of the parts of anything else, at most the document count), each term looked up
        once per open index."""
        if type(query) is Term:
            text = self._bytes(query)
            if text is None:
                return 0
            frequencies = reader_cache(self.reader, "_procsearch_frequencies")
            key = (query.fieldname, text)
            if key not in frequencies:
                if len(frequencies) >= MAX_FREQUENCIES:
                    frequencies.clear()
                frequencies[key] = self.reader.doc_frequency(*key)
            return int(frequencies[key])
        sizes = [self._size(sub) for sub in getattr(query, "subqueries", ())]
        if not sizes:
            return 0
        return min(sizes) if type(query) is And else min(sum(sizes), self.reader.doc_count())

    def _termcount(self, query: Query) -> int:
        """How many of the query's terms the index holds (what CoordMatcher counts)."""
        if type(query) is Term:
            text = self._bytes(query)
            return int(text is not None and self._holds(query.fieldname, text))
        return sum(self._termcount(sub) for sub in getattr(query, "subqueries", ()))

    def _holds(self, fieldname: str, text: bytes) -> bool:
        """Whether the index has postings for the term, from the lists already decoded if it can."""
        known = self.read.get((fieldname, text)) or self.cache.get((self.name, fieldname, text))
        return len(known[0]) > 0 if known is not None else (fieldname, text) in self.reader

    def _bytes(self, query: Term) -> bytes | None:
        """The term as the index stores it; None if its field is unknown or cannot hold it."""
        fieldname = query.fieldname
        if fieldname not in self.schema:
            return None
        try:
            return self.schema[fieldname].to_bytes(query.text)
        except ValueError:
            return None

    # --- postings ------------------------------------------------------------------------------

    def _term(
        self,
        query: Term,
        into: dict[int, float],
        factor: float,
        counts: dict[int, int] | None,
        restrict: set[int] | None,
    ) -> None:
        text = self._bytes(query)
        if text is None:
            return
        ids, scores = self._postings(query.fieldname, text)
        if not ids:
            return
        pairs: Any = zip(ids, scores, strict=True) if restrict is None else _restricted(ids, scores, restrict)
        boost = factor * query.boost
        get = into.get
        if counts is None:
            for docnum, score in pairs:
                into[docnum] = get(docnum, 0.0) + boost * score
        else:
            for docnum, score in pairs:
                into[docnum] = get(docnum, 0.0) + boost * score
                counts[docnum] = counts.get(docnum, 0) + 1
        self._check_time()

    def _check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            # Checked after each term, so even an exhausted budget yields the first term's matches.
            raise _OutOfTime

    def _postings(self, fieldname: str, text: bytes) -> tuple[array[int], array[float]]:
        """A term's document numbers (whole index) and each one's BM25F score before boosts."""
        key = (self.name, fieldname, text)
        cached = self.read.get((fieldname, text)) or self.cache.get(key)
        if cached is not None:
            self.read[(fieldname, text)] = cached
            return cached
        ids: array[int] = array("I")
        scores: array[float] = array("d")
        holding = [(reader, offset) for reader, offset in self.leaves if (fieldname, text) in reader]
        scorable = self.schema[fieldname].scorable
        if scorable and holding:
            weighting = self.weighting
            k1 = weighting.K1
            b = weighting._field_B.get(fieldname, weighting.B)
            avgfl = self.searcher.avg_field_length(fieldname) or 1
            c = self.searcher.idf(fieldname, text) * (k1 + 1)
            # bm25 = idf * tf * (k1 + 1) / (tf + k1 * ((1 - b) + b * length / avgfl)), with Whoosh's
            # one-byte field lengths: the length part of the denominator is one of 256 values.
            norm = [k1 * ((1 - b) + b * (byte_to_length(byte) or 0) / avgfl) for byte in range(256)]
            once = [c * 1.0 / (1.0 + part) for part in norm]  # the score of a word that occurs once
        for reader, offset in holding:
            local, weights = _decoded(reader, fieldname, text)
            ids.extend(map(offset.__add__, local)) if offset else ids.extend(local)
            if scorable:
                lengths = _lengths(reader, fieldname)
                if weights.count(1.0) == len(weights):  # the usual case, looked up without a Python loop
                    scores.extend(map(once.__getitem__, map(lengths.__getitem__, local)))
                else:
                    scores.extend(
                        c * tf / (tf + norm[lengths[docnum]]) for docnum, tf in zip(local, weights, strict=True)
                    )
            else:
                scores.fromlist(weights.tolist())
        self.cache.put(key, (ids, scores))
        self.read[(fieldname, text)] = (ids, scores)
        return ids, scores

    def matched_terms(self, docnums: list[int]) -> dict[int, list[tuple[str, bytes]]]:
        """Which of the query's terms each of ``docnums`` holds (for snippets and matched fields),
        among the terms this search has read (a search cut short by its time budget reads no more)."""
        found: dict[int, list[tuple[str, bytes]]] = {docnum: [] for docnum in docnums}
        for (fieldname, text), (ids, _) in sorted(self.read.items()):
            for docnum in docnums:
                index = bisect_left(ids, docnum)
                if index < len(ids) and ids[index] == docnum:
                    found[docnum].append((fieldname, text))
        return found


def _runs(subs: list[Any]) -> Iterator[list[Any]]:
    """The parts of an Or in order, consecutive terms for the same word (in different fields) together."""
    run: list[Any] = []
    for sub in subs:
        if run and not (type(sub) is Term and sub.text == run[0].text):
            yield run
            run = []
        if type(sub) is Term:
            run.append(sub)
        else:
            yield [sub]
    if run:
        yield run


def _decoded(reader: Any, fieldname: str, text: bytes) -> tuple[Any, Any]:
    """A term's postings in one segment: (document numbers, weights), a block at a time."""
    matcher = reader._terms.matcher(fieldname, text, reader.schema[fieldname].format)
    ids: array[int] = array("I")
    weights: array[float] = array("f")
    if isinstance(matcher, W3LeafMatcher):
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
    return ids, weights


def _lengths(reader: Any, fieldname: str) -> bytes:
    """Every document's one-byte length of ``fieldname`` in one segment, read in one go."""
    cache = reader_cache(reader, "_procsearch_lengths")
    if fieldname not in cache:
        doccount = reader.doc_count_all()
        column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        raw = b"" if column is None else bytes(column._dbfile.get(column._basepos, column._count))
        cache[fieldname] = raw + bytes(max(0, doccount - len(raw)))
    return cache[fieldname]


def _restricted(ids: array[int], scores: array[float], restrict: set[int]) -> Iterator[tuple[int, float]]:
    """The postings of the documents in ``restrict``: looked up one by one when they are few."""
    if len(restrict) * 16 < len(ids):
        for docnum in sorted(restrict):
            index = bisect_left(ids, docnum)
            if index < len(ids) and ids[index] == docnum:
                yield docnum, scores[index]
        return
    for docnum, score in zip(ids, scores, strict=True):
        if docnum in restrict:
            yield docnum, score


def reader_cache(reader: Any, name: str) -> dict[Any, Any]:
    """A dict kept on an index reader: its files never change, so neither does what it caches."""
    cache = getattr(reader, name, None)
    if cache is None:
        cache = {}
        setattr(reader, name, cache)
    return cache
