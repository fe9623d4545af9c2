"""Posting lists as one search reads them: document numbers and BM25F scores, whole index at once."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from whoosh.query import Term
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from .cache import PostingCache
from .whoosh_internals import decoded_postings, field_b, field_lengths, reader_cache

MAX_FREQUENCIES = 100_000
"""Document frequencies an open index remembers for ordering And parts (then it starts afresh)."""


@dataclass(frozen=True)
class TermParts:
    """The parts of one term's BM25F score in one document: ``idf * tf * (k1 + 1) / (tf + k1 *
    ((1 - b) + b * length / average_length))``, the field length as Whoosh stores it (one byte)."""

    tf: float
    length: float
    average_length: float
    idf: float
    k1: float
    b: float

    @property
    def score(self) -> float:
        norm = self.k1 * ((1 - self.b) + self.b * self.length / self.average_length)
        return self.idf * self.tf * (self.k1 + 1) / (self.tf + norm)


class PostingReader:
    """The posting lists of one search over one open index, every segment at once (global document
    numbers): each term's postings are decoded once into document numbers and BM25F scores before
    boosts, through the shared :class:`PostingCache`."""

    def __init__(self, searcher: Searcher, cache: PostingCache) -> None:
        self.searcher = searcher
        self.reader: Any = searcher.reader()
        self.schema: Any = searcher.schema
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
        """The index's segments, naming this index's entries in the cache."""
        self.deleted: set[int] = view["deleted"]

    def term_bytes(self, query: Term) -> bytes | None:
        """The term as the index stores it; None if its field is unknown or cannot hold it."""
        fieldname = query.fieldname
        if fieldname not in self.schema:
            return None
        try:
            return self.schema[fieldname].to_bytes(query.text)
        except ValueError:
            return None

    def holds(self, fieldname: str, text: bytes) -> bool:
        """Whether the index has postings for the term, from the lists already decoded if it can."""
        known = self.read.get((fieldname, text)) or self.cache.get((self.name, fieldname, text))
        return len(known[0]) > 0 if known is not None else (fieldname, text) in self.reader

    def frequency(self, fieldname: str, text: bytes) -> int:
        """The term's document frequency, looked up once per open index."""
        frequencies = reader_cache(self.reader, "_procsearch_frequencies")
        key = (fieldname, text)
        if key not in frequencies:
            if len(frequencies) >= MAX_FREQUENCIES:
                frequencies.clear()
            frequencies[key] = self.reader.doc_frequency(*key)
        return int(frequencies[key])

    def scores(self, fieldname: str, text: bytes) -> tuple[array[int], array[float]]:
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
            b = field_b(weighting, fieldname)
            avgfl = self.searcher.avg_field_length(fieldname) or 1
            c = self.searcher.idf(fieldname, text) * (k1 + 1)
            # bm25 = idf * tf * (k1 + 1) / (tf + k1 * ((1 - b) + b * length / avgfl)), with Whoosh's
            # one-byte field lengths: the length part of the denominator is one of 256 values.
            norm = [k1 * ((1 - b) + b * (byte_to_length(byte) or 0) / avgfl) for byte in range(256)]
            once = [c * 1.0 / (1.0 + part) for part in norm]  # the score of a word that occurs once
        for reader, offset in holding:
            local, weights = decoded_postings(reader, fieldname, text)
            ids.extend(map(offset.__add__, local)) if offset else ids.extend(local)
            if scorable:
                lengths = field_lengths(reader, fieldname)
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

    def term_parts(self, fieldname: str, text: bytes, docnum: int) -> TermParts | None:
        """What a term's BM25F score in one document is made of (for an explanation); None if the
        document does not hold the term."""
        segments = [(reader, offset) for reader, offset in self.leaves if offset <= docnum]
        if not segments:
            return None
        reader, offset = segments[-1]
        local = docnum - offset
        if (fieldname, text) not in reader:
            return None
        ids, weights = decoded_postings(reader, fieldname, text)
        index = bisect_left(ids, local)
        if index >= len(ids) or ids[index] != local:
            return None
        weighting = self.weighting
        return TermParts(
            tf=float(weights[index]),
            length=float(byte_to_length(field_lengths(reader, fieldname)[local]) or 0),
            average_length=float(self.searcher.avg_field_length(fieldname) or 1),
            idf=float(self.searcher.idf(fieldname, text)),
            k1=float(weighting.K1),
            b=float(field_b(weighting, fieldname)),
        )

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
