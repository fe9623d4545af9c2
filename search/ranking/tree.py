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
import time
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from whoosh.query import And, Or, Query, Term
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from .accumulator import COORDINATION, Accumulator, Contribution
from .cache import PostingCache
from .postings import PostingReader
from .whoosh_internals import NullQuery


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
    contributions: dict[int, list[Contribution]] = field(default_factory=dict)
    """For each traced document that matched: what each term added to its score (explanations)."""
    scores: dict[int, float] = field(default_factory=dict)
    """For each traced document that matched: its score."""
    positions: dict[int, int] = field(default_factory=dict)
    """For each traced document that matched: its place among every match (1 is the best)."""
    text_best: float = 0.0
    """When ICD-10-PCS codes were ordered by their axes: the best text score among them, which
    their text scores were taken relative to (0 otherwise)."""


def supports(query: Query) -> bool:
    """True if :func:`rank` can score ``query``: only Or, And, Term and empty nodes."""
    if isinstance(query, NullQuery) or type(query) is Term:
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
    trace: set[int] | None = None,
) -> Ranking | None:
    """Score ``query`` over every document; None if the query has nodes only Whoosh can run.

    ``allowed`` restricts the result to these documents (filters); ``deadline`` is a
    ``time.monotonic()`` value after which scoring stops and the ranking is marked partial;
    ``trace`` names documents whose score the ranking breaks down into contributions, as it adds
    them up (an explanation; words are then added a field at a time, not from the word cache).
    """
    if not supports(query) or not isinstance(searcher.weighting, BM25F):
        return None
    postings = PostingReader(searcher, cache if cache is not None else PostingCache(0))
    scorer = _Scorer(postings, deadline)
    scores: dict[int, float] = {}
    partial = False
    try:
        scorer.add(query, Accumulator(scores, restrict=allowed, trace={d: [] for d in trace} if trace else None))
    except _OutOfTime:
        partial = True
    for docnum in postings.deleted & scores.keys():
        del scores[docnum]
    top = _best(scores, limit)
    terms = postings.matched_terms([docnum for docnum, _ in top])
    ranking = Ranking(top=top, matching=set(scores), terms=terms, partial=partial)
    if trace:
        _traced(ranking, scores, trace, scorer.traced)
    return ranking


def _traced(
    ranking: Ranking, scores: dict[int, float], trace: set[int], contributions: dict[int, list[Contribution]]
) -> None:
    """Note each traced document's contributions, score and place among every match (ties to
    the lower document number, as :func:`_best` orders them)."""
    for docnum in trace:
        score = scores.get(docnum)
        if score is None:
            continue
        ranking.scores[docnum] = score
        ranking.contributions[docnum] = contributions.get(docnum, [])
        ranking.positions[docnum] = 1 + sum(
            1 for other, value in scores.items() if value > score or (value == score and other < docnum)
        )


def _best(scores: dict[int, float], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best (document, score) pairs, best first, ties to the lower document number
    (as Whoosh orders them)."""
    if not scores:
        return []
    threshold = heapq.nlargest(limit, scores.values())[-1]
    contenders = [item for item in scores.items() if item[1] >= threshold]
    contenders.sort(key=lambda item: (-item[1], item[0]))
    return contenders[:limit]


def leaves(query: Query) -> Iterator[Term]:
    """The Term nodes of a query tree."""
    if type(query) is Term:
        yield query
    for sub in getattr(query, "subqueries", ()):
        yield from leaves(sub)


class _Scorer:
    """Scores query trees over one open index the way Whoosh's matchers score them."""

    def __init__(self, postings: PostingReader, deadline: float | None) -> None:
        self.postings = postings
        self.deadline = deadline
        self.traced: dict[int, list[Contribution]] = {}
        """The contributions to the traced documents, once the root node is scored."""

    def add(self, query: Any, into: Accumulator) -> None:
        """Score the root node (and keep its trace)."""
        try:
            self._add(query, into)
        finally:  # out of time: what was traced so far is what was added
            if into.trace is not None:
                self.traced = into.trace

    def _add(self, query: Any, into: Accumulator) -> None:
        """Add the scores of ``query`` into ``into`` (and, if it counts them, how many of the
        query's terms each document holds)."""
        if isinstance(query, NullQuery):
            return
        if type(query) is Term:
            self._term(query, into)
            return
        subs = query.subqueries
        if not subs:
            return
        if len(subs) == 1:
            # Whoosh gives a one-child compound its child's matcher as it is: no boost, no coordination.
            self._add(subs[0], into)
            return
        if type(query) is And:
            self._and(query, into)
            return
        termcount = self._termcount(query) if query.scale else 0
        if termcount <= 1 or termcount == query.scale:
            boosted = into.scaled(query.boost)
            for run in _runs(subs):
                self._add_run(run, boosted)
            return
        # Whoosh's CoordMatcher: (score + (matching - 1) / (termcount - scale)^2) * (termcount - 1) / termcount
        own = Accumulator({}, {}, query.boost, into.restrict, into.fresh_trace())
        try:
            for run in _runs(subs):
                self._add_run(run, own)
        finally:  # out of time: what was scored so far still counts
            spread = (termcount - query.scale) ** 2
            shrink = (termcount - 1) / termcount
            factor, scores, counts = into.factor, into.scores, into.counts
            own_counts: dict[int, int] = own.counts  # type: ignore[assignment]
            get = scores.get
            for docnum, score in own.scores.items():
                matched = own_counts[docnum]
                scores[docnum] = get(docnum, 0.0) + factor * (score + (matched - 1) / spread) * shrink
                if counts is not None:
                    counts[docnum] = counts.get(docnum, 0) + matched
            if own.trace is not None and into.trace is not None:
                for docnum, parts in own.trace.items():
                    if docnum in own.scores:
                        into.trace[docnum].extend(part.scaled(factor * shrink) for part in parts)
                        bonus = (own_counts[docnum] - 1) / spread
                        into.trace[docnum].append(Contribution(None, factor * shrink, bonus, COORDINATION))

    def _add_run(self, run: list[Any], into: Accumulator) -> None:
        """Add the parts of an Or; a run of one word's terms in several fields is added as one
        list per document (its summed scores and how many of its terms each document holds),
        kept in the cache: common words recur across queries, and their field lists overlap."""
        if len(run) == 1 or into.restrict is not None or into.trace is not None:
            for sub in run:
                self._add(sub, into)
            return
        postings = self.postings
        key = (postings.name, "word", *((term.fieldname, term.text, term.boost) for term in run))
        group = postings.cache.get(key)
        out_of_time = False
        if group is None:
            summed = Accumulator({}, {})
            try:
                for term in run:
                    self._term(term, summed)
            except _OutOfTime:  # what was summed so far still counts, but is not kept
                out_of_time = True
            sums, held = summed.scores, summed.counts
            assert held is not None
            # Compact (14 bytes a document), in the dictionaries' own order.
            group = (array("I", sums), array("d", sums.values()), array("H", held.values()))
            if not out_of_time:
                postings.cache.put(key, group)
        else:
            for term in run:  # what the top documents matched is read from these lists
                text = postings.term_bytes(term)
                if text is not None:
                    postings.scores(term.fieldname, text)
        ids, scores, numbers = group
        factor, totals, counts = into.factor, into.scores, into.counts
        if not totals and factor == 1.0:
            totals.update(zip(ids, scores, strict=True))
        else:
            get = totals.get
            for docnum, score in zip(ids, scores, strict=True):
                totals[docnum] = get(docnum, 0.0) + factor * score
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

    def _and(self, query: And, into: Accumulator) -> None:
        # The rarest part first; each next part is only read where the parts before it matched.
        subs = sorted(query.subqueries, key=self._size)
        counting = into.counts is not None
        restrict = into.restrict
        total: dict[int, float] = {}
        total_counts: dict[int, int] = {}
        traces: list[dict[int, list[Contribution]]] = []
        for index, sub in enumerate(subs):
            part = Accumulator({}, {} if counting else None, 1.0, restrict, into.fresh_trace())
            self._add(sub, part)
            if part.trace is not None:
                traces.append(part.trace)
            part_scores, part_counts = part.scores, part.counts
            if index == 0:
                total, total_counts = part_scores, part_counts or {}
            else:
                total = {
                    docnum: score + part_scores[docnum] for docnum, score in total.items() if docnum in part_scores
                }
                if part_counts is not None:
                    total_counts = {docnum: total_counts[docnum] + part_counts[docnum] for docnum in total}
            if not total:
                return
            restrict = set(total)
        scale = into.factor * query.boost
        scores, counts = into.scores, into.counts
        for docnum, score in total.items():
            scores[docnum] = scores.get(docnum, 0.0) + scale * score
            if counts is not None:
                counts[docnum] = counts.get(docnum, 0) + total_counts[docnum]
        if into.trace is not None:
            for docnum in into.trace.keys() & total.keys():
                into.trace[docnum].extend(part.scaled(scale) for trace in traces for part in trace[docnum])

    def _size(self, query: Query) -> int:
        """Whoosh's ``estimate_size`` (a term's document frequency; the smallest part of an And,
        the sum of the parts of anything else, at most the document count)."""
        if type(query) is Term:
            text = self.postings.term_bytes(query)
            return 0 if text is None else self.postings.frequency(query.fieldname, text)
        sizes = [self._size(sub) for sub in getattr(query, "subqueries", ())]
        if not sizes:
            return 0
        return min(sizes) if type(query) is And else min(sum(sizes), self.postings.reader.doc_count())

    def _termcount(self, query: Query) -> int:
        """How many of the query's terms the index holds (what CoordMatcher counts)."""
        if type(query) is Term:
            text = self.postings.term_bytes(query)
            return int(text is not None and self.postings.holds(query.fieldname, text))
        return sum(self._termcount(sub) for sub in getattr(query, "subqueries", ()))

    def _term(self, query: Term, into: Accumulator) -> None:
        text = self.postings.term_bytes(query)
        if text is None:
            return
        ids, scores = self.postings.scores(query.fieldname, text)
        if not ids:
            return
        restrict = into.restrict
        pairs: Any = zip(ids, scores, strict=True) if restrict is None else _restricted(ids, scores, restrict)
        boost = into.factor * query.boost
        totals, counts = into.scores, into.counts
        get = totals.get
        if counts is None:
            for docnum, score in pairs:
                totals[docnum] = get(docnum, 0.0) + boost * score
        else:
            for docnum, score in pairs:
                totals[docnum] = get(docnum, 0.0) + boost * score
                counts[docnum] = counts.get(docnum, 0) + 1
        if into.trace is not None:
            self._record(query, ids, scores, boost, into)
        self._check_time()

    @staticmethod
    def _record(query: Term, ids: array[int], scores: array[float], boost: float, into: Accumulator) -> None:
        """Note what the term just added to each traced document (only asked for by an explanation)."""
        assert into.trace is not None
        for docnum, parts in into.trace.items():
            if into.restrict is not None and docnum not in into.restrict:
                continue
            index = bisect_left(ids, docnum)
            if index < len(ids) and ids[index] == docnum:
                parts.append(Contribution(query, boost, scores[index]))

    def _check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            # Checked after each term, so even an exhausted budget yields the first term's matches.
            raise _OutOfTime


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
