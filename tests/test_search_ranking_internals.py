"""What the ranking reads from Whoosh's private structures (search/ranking/whoosh_internals.py)
agrees with Whoosh's public API: after a Whoosh upgrade, the failing test names the structure."""

from __future__ import annotations

from array import array

from procsearch.search.engine import SearchEngine
from procsearch.search.ranking.whoosh_internals import (
    NullQuery,
    decoded_postings,
    expanded_texts,
    field_b,
    field_lengths,
)
from whoosh.query import NullQuery as WhooshNullQuery
from whoosh.query import Prefix
from whoosh.scoring import BM25F

FIELD = "title"


def _segment_readers(engine: SearchEngine) -> list:  # type: ignore[type-arg]
    return [sub.reader() for sub, _ in engine._current().leaf_searchers()]


def test_the_term_table_and_w3_posting_blocks_decode_as_whoosh_matchers_read(engine: SearchEngine) -> None:
    checked = 0
    for reader in _segment_readers(engine):
        for text in list(reader.lexicon(FIELD))[:200]:
            public = reader.postings(FIELD, text)
            ids, weights = array("I"), array("f")
            while public.is_active():
                ids.append(public.id())
                weights.append(public.weight())
                public.next()
            assert decoded_postings(reader, FIELD, text) == (ids, weights), (
                "reader._terms.matcher / W3LeafMatcher._read_ids, _read_weights, _ids, _weights, _next_block",
                text,
            )
            checked += 1
    assert checked > 100


def test_the_lengths_column_holds_each_documents_field_length(engine: SearchEngine) -> None:
    from whoosh.util.numeric import byte_to_length, length_to_byte

    for reader in _segment_readers(engine):
        lengths = field_lengths(reader, FIELD)
        assert len(lengths) == reader.doc_count_all()
        for docnum in range(reader.doc_count_all()):
            expected = byte_to_length(length_to_byte(reader.doc_field_length(docnum, FIELD, 0)))
            assert byte_to_length(lengths[docnum]) == expected, (
                "reader._perdoc._cached_reader / column._dbfile",
                docnum,
            )


def test_bm25f_per_field_b_is_read_as_given() -> None:
    weighting = BM25F(B=0.75, title_B=0.3)
    assert field_b(weighting, "title") == 0.3, "BM25F._field_B"
    assert field_b(weighting, "summary") == 0.75, "BM25F._field_B"


def test_the_empty_query_class_and_prefix_expansion_are_whooshs(engine: SearchEngine) -> None:
    assert isinstance(WhooshNullQuery, NullQuery), "whoosh.query.qcore._NullQuery"
    reader = engine._current().reader()
    expected = {text.encode() if isinstance(text, str) else text for text in reader.expand_prefix(FIELD, "kne")}
    assert expected and set(expanded_texts(Prefix(FIELD, "kne"), reader)) == expected, "MultiTerm._btexts"
