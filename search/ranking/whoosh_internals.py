"""The one module that reads Whoosh's private structures (as whoosh3 3.54 lays them out).

Scoring a whole posting list at a time needs what Whoosh keeps to itself: a segment's term table
and the W3 codec's posting blocks, the per-document field lengths column, BM25F's per-field ``B``,
the empty query's class and a word prefix's expansion. Every such read is here and nowhere else in
``search/``, so an upgrade that changes one of them shows up in this file. What the ranking
remembers about an open index is kept on its readers too (:func:`reader_cache`).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.query.qcore import _NullQuery
from whoosh.query.terms import MultiTerm
from whoosh.scoring import BM25F

NullQuery = _NullQuery
"""The class of Whoosh's empty query (what an analyzer leaves of "the and of")."""


def reader_cache(reader: Any, name: str) -> dict[Any, Any]:
    """A dict kept on an index reader: its files never change, so neither does what it caches."""
    cache = getattr(reader, name, None)
    if cache is None:
        cache = {}
        setattr(reader, name, cache)
    return cache


def field_b(weighting: BM25F, fieldname: str) -> float:
    """BM25F's length normalisation ``B`` for one field (its own, else the default)."""
    b: float = weighting._field_B.get(fieldname, weighting.B)
    return b


def decoded_postings(reader: Any, fieldname: str, text: bytes) -> tuple[Any, Any]:
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


def field_lengths(reader: Any, fieldname: str) -> bytes:
    """Every document's one-byte length of ``fieldname`` in one segment, read in one go."""
    cache = reader_cache(reader, "_procsearch_lengths")
    if fieldname not in cache:
        doccount = reader.doc_count_all()
        column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        raw = b"" if column is None else bytes(column._dbfile.get(column._basepos, column._count))
        cache[fieldname] = raw + bytes(max(0, doccount - len(raw)))
    return cache[fieldname]


def expanded_texts(node: MultiTerm, reader: Any) -> Iterable[bytes]:
    """The indexed words a word prefix (or another multi-term node) stands for, lazily."""
    texts: Iterable[bytes] = node._btexts(reader)
    return texts
