"""What one search may spend: its time budget, checked while Whoosh opens and walks posting lists,
and what a query would read, estimated before it runs.

Whoosh's own time limit looks at the clock only when a document is collected, so a query whose
matchers take long to build (a word prefix of many words), or that skips many candidates before
it collects one (a phrase of common words, ``NOT "a b"``), runs past it. Here every posting list
Whoosh opens for the search checks the clock when it is opened and at every step; and a query that
would read far more postings than any budget allows is refused before it starts, with a message
saying how to narrow it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from whoosh.collectors import TimeLimit
from whoosh.matching.wrappers import WrappingMatcher
from whoosh.query import Phrase, Query, Term
from whoosh.query.terms import MultiTerm
from whoosh.searching import Searcher

from .errors import QueryError
from .ranking.whoosh_internals import expanded_texts

MAX_POSTINGS = 3_000_000
"""Postings (documents of a term, phrase words included) a query run by Whoosh may read: several
times what it can read within the default time budget, so only what could never finish is refused."""
MAX_EXPANSION = 2_000
"""Index terms one word prefix may stand for, summed over the fields it is searched in."""


class Deadline:
    """A point in time (``time.monotonic()``) after which the search stops."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        """Raise Whoosh's ``TimeLimit`` once the deadline has passed."""
        if time.monotonic() > self.end:
            raise TimeLimit


class _TimedMatcher(WrappingMatcher):
    """A posting list that checks the deadline at every step (where Whoosh's work is done)."""

    def __init__(self, child: Any, deadline: Deadline, boost: float = 1.0) -> None:
        super().__init__(child, boost)
        self.deadline = deadline

    def copy(self) -> _TimedMatcher:
        return _TimedMatcher(self.child.copy(), self.deadline, self.boost)

    def _replacement(self, newchild: Any) -> _TimedMatcher:
        return _TimedMatcher(newchild, self.deadline, self.boost)

    def next(self) -> Any:
        self.deadline.check()
        return self.child.next()

    def skip_to(self, id: int) -> Any:  # noqa: A002 - Whoosh's parameter name
        self.deadline.check()
        return self.child.skip_to(id)

    def skip_to_quality(self, minquality: float) -> Any:
        self.deadline.check()
        return self.child.skip_to_quality(minquality / self.boost)


def _timed_postings(postings: Callable[..., Any], deadline: Deadline, *args: Any, **kwargs: Any) -> Any:
    deadline.check()
    return _TimedMatcher(postings(*args, **kwargs), deadline)


@contextmanager
def timed(searcher: Searcher, deadline: Deadline) -> Iterator[None]:
    """While active, every posting list Whoosh opens on ``searcher``'s segments checks ``deadline``
    (raising ``TimeLimit``), when it is opened and at every step. One search at a time: the engine
    runs its calls one at a time."""
    leaves = [sub for sub, _ in searcher.leaf_searchers()]
    for sub in leaves:
        original = sub.postings
        sub.postings = lambda *args, _original=original, **kwargs: _timed_postings(_original, deadline, *args, **kwargs)
    try:
        yield
    finally:
        for sub in leaves:
            sub.__dict__.pop("postings", None)


def check_cost(query: Query, searcher: Searcher) -> None:
    """Refuse, with how to narrow it, a query Whoosh would run that reads too much of the index."""
    reader = searcher.reader()
    postings = 0
    phrases = prefixes = 0
    for node in _nodes(query):
        if isinstance(node, Phrase):
            phrases += 1
            postings += sum(_frequency(reader, node.fieldname, word) for word in node.words)
        elif isinstance(node, MultiTerm) and not isinstance(node, Term):
            prefixes += 1
            texts = list(islice(expanded_texts(node, reader), MAX_EXPANSION + 1))
            if len(texts) > MAX_EXPANSION:
                raise QueryError(
                    f"{getattr(node, 'text', '')}* stands for more than {MAX_EXPANSION:,} indexed words, too many to search "
                    "at once: use a longer prefix."
                )
            fieldname = getattr(node, "fieldname", "")
            postings += sum(int(reader.doc_frequency(fieldname, text)) for text in texts)
        elif type(node) is Term:
            postings += _frequency(reader, node.fieldname, node.text)
    if postings > MAX_POSTINGS:
        what = " and ".join(part for part, count in (("phrases", phrases), ("word prefixes", prefixes)) if count)
        raise QueryError(
            f"This query would read about {postings / 1e6:.1f} million postings"
            + (f" (its {what} are of common words)" if what else "")
            + f", more than a search may ({MAX_POSTINGS / 1e6:.1f} million). Narrow it: fewer or rarer "
            "phrases and NOT terms, longer prefixes, --section, or --system / --group."
        )


def _frequency(reader: Any, fieldname: str, text: Any) -> int:
    if fieldname not in reader.schema:
        return 0
    try:
        btext = reader.schema[fieldname].to_bytes(text)
    except ValueError:
        return 0
    return int(reader.doc_frequency(fieldname, btext))


def _nodes(query: Query) -> Iterator[Query]:
    yield query
    for sub in query.children():
        yield from _nodes(sub)
