"""Writing a whole index segment from memory: Whoosh's file format, without its per-posting pipeline.

Whoosh's ``SegmentWriter`` sends every posting through a sorting pool as a tuple, sorts them all
at commit, reads each posting's field length back from the length column it has just written, and
adds postings to the codec one call at a time; with analysis, that is about 10 microseconds a
posting, and a full build (pages and every ICD-10-PCS code) holds some 15 million. This writer
produces the same files:

- the analysis of text fields runs as one loop (:func:`index.analysis.index_terms`), and each
  distinct field value is analysed once (generated records repeat whole definitions);
- postings are grouped by field and term as documents arrive, so commit sorts only the terms;
- each term's posting list is handed to the codec a block at a time, with the lengths kept in
  memory.

Stored fields, field lengths and the table of contents are written by Whoosh's own code. A test
writes the same documents both ways and compares the files byte for byte.
"""

from __future__ import annotations

from array import array
from typing import Any

from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter, W3TermInfo
from whoosh.fields import TEXT
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from .analysis import index_terms

MEMO_VALUES = 4096
"""Distinct values per field whose analysis is kept for reuse (then the memo starts afresh)."""


def supported(schema: Any, codec: Any) -> bool:
    """Whether :class:`BulkSegmentWriter` can write this schema with this codec (Whoosh's W3
    codec; no sortable columns, term vectors or separate spelling fields)."""
    return type(codec) is W3Codec and all(
        not field.column_type and not field.vector and not field.separate_spelling() for _, field in schema.items()
    )


class BulkSegmentWriter(SegmentWriter):
    """A ``SegmentWriter`` that keeps its postings in memory, grouped by term, and writes each
    posting list whole. Only :meth:`add_document` and committing are supported (no updates,
    deletions or merges: it writes one new segment)."""

    def __init__(self, ix: Any, *, memo_values: int = MEMO_VALUES, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.memo_values = memo_values
        """Distinct values per field whose analysis is kept; 0: none, and no encoded positions are
        reused either (then every posting's encoded value is its own object, and the posting file
        is byte for byte Whoosh's; with reuse, a value repeated in a block is pickled once, which
        reads back the same)."""
        if not supported(self.schema, self.codec):
            raise TypeError("this schema or codec needs Whoosh's own SegmentWriter")
        self._terms: dict[str, dict[bytes, _Postings]] = {}
        self._lengths: dict[str, dict[int, int]] = {}
        self._memo: dict[str, dict[str, list[tuple[bytes, int, float, bytes]]]] = {}
        self._encoded: dict[Any, bytes] | None = {} if memo_values else None

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        if any(name.startswith("_") for name in fields):
            raise ValueError("BulkSegmentWriter takes no boosts or alternate stored values")
        schema = self.schema
        docnum = self.docnum
        perdoc = self.perdocwriter
        self._check_fields(schema, list(fields))
        perdoc.start_doc(docnum)
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                terms = self._terms.setdefault(fieldname, {})
                scorable = field.scorable
                for text, freq, weight, encoded in self._analyse(fieldname, field, value):
                    if scorable:
                        length += freq
                    postings = terms.get(text)
                    if postings is None:
                        postings = terms[text] = _Postings()
                    postings.ids.append(docnum)
                    postings.weights.append(weight)
                    postings.values.append(encoded)
                if length:  # as the length column gives it back: one byte's worth
                    self._lengths.setdefault(fieldname, {})[docnum] = byte_to_length(length_to_byte(length))
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader: Any) -> None:
        raise TypeError("BulkSegmentWriter writes one new segment; it cannot merge others into it")

    def commit(self, *args: Any, **kwargs: Any) -> None:
        """Write the segment and add it to the index, leaving the index's other segments as they are."""
        kwargs.setdefault("merge", False)
        super().commit(*args, **kwargs)

    def _analyse(self, fieldname: str, field: Any, value: Any) -> list[tuple[bytes, int, float, bytes]]:
        """The (term, frequency, weight, encoded value) rows of one field value, analysed once."""
        if not isinstance(value, str):
            return list(field.index(value))
        memo = self._memo.setdefault(fieldname, {})
        rows = memo.get(value)
        if rows is None:
            rows = index_terms(field, value, self._encoded) if type(field) is TEXT else None
            if rows is None:
                rows = list(field.index(value))
            if len(memo) >= self.memo_values:
                memo.clear()
            if self.memo_values:
                memo[value] = rows
        return rows

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        writer = self.fieldwriter
        for fieldname in sorted(name for name, terms in self._terms.items() if terms):
            field = self.schema[fieldname]
            writer.start_field(fieldname, field)
            lengths = self._lengths.get(fieldname, {})
            terms = self._terms[fieldname]
            for text in sorted(terms):
                writer.start_term(text)
                _write_postings(writer._postwriter, terms[text], lengths)
                writer.finish_term()
            writer.finish_field()
        writer.close()
        self._terms.clear()
        self._lengths.clear()
        self._memo.clear()
        self._encoded = None

    # --- the parallel build: segments written by worker processes, committed by the parent -----

    def finish_segment(self) -> Any:
        """Write this writer's segment and return it, for another writer to commit (a worker's part)."""
        return self._finalize_segment()


class _Postings:
    """One term's postings in a segment being written, held compactly (20 bytes a posting)."""

    __slots__ = ("ids", "weights", "values")

    def __init__(self) -> None:
        self.ids: array[int] = array("I")
        self.weights: array[float] = array("d")
        self.values: list[bytes] = []


def _write_postings(postwriter: W3PostingsWriter, postings: _Postings, lengths: dict[int, int]) -> None:
    """One term's posting list, a block at a time, as ``W3PostingsWriter.add_posting`` would
    buffer and write it (the last block is left buffered for ``finish_postings``)."""
    limit = postwriter._blocklimit
    assert isinstance(postwriter._terminfo, W3TermInfo)
    for start in range(0, len(postings.ids), limit):
        if start:
            postwriter._write_block()
        ids = postings.ids[start : start + limit]
        weights = postings.weights[start : start + limit]
        values = postings.values[start : start + limit]
        postwriter._ids = ids
        postwriter._weights = array("f", weights)
        postwriter._values = values if all(values) else [value for value in values if value]
        postwriter._maxweight = max(0, max(weights))
        present = [length for docnum in ids if (length := lengths.get(docnum, 0))]
        postwriter._minlength = min(present) if present else None
        postwriter._maxlength = max(present, default=0)


def commit_segments(writer: SegmentWriter, segments: list[Any]) -> None:
    """Commit ``segments`` (each written by :meth:`BulkSegmentWriter.finish_segment` in a worker)
    through ``writer`` as the index's whole table of contents; the writer's own, empty segment is
    closed and left for the clean-up."""
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()
