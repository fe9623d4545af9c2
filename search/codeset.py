"""Code prefixes (``0D*``) and ranges (``63650-63688``) as sets of documents.

Whoosh answers a prefix or range by opening one posting list per code it covers and merging them,
thousands of matchers for a wide range; a code names one document, so here the codes a part covers
are found by bisecting each segment's sorted list of codes, and each code's document is read from
its term record. How many codes a query covers is known before any is read, and bounded.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any

from whoosh.query import Term
from whoosh.searching import Searcher

from .errors import QueryError
from .query import CodePart
from .ranking import filter_docs, reader_cache

MAX_CODES = 20_000
"""Codes the prefixes and ranges of one query may cover in all."""
CODE = "code"


def _codes(reader: Any) -> list[bytes]:
    """The segment's codes, sorted (read once per open segment)."""
    cache = reader_cache(reader, "_procsearch_codes")
    if "codes" not in cache:
        cache["codes"] = list(reader.lexicon(CODE))
    codes: list[bytes] = cache["codes"]
    return codes


def _span(codes: list[bytes], part: CodePart) -> tuple[int, int]:
    if part.kind == "prefix":
        prefix = part.value.encode()
        return bisect_left(codes, prefix), bisect_left(codes, prefix + b"\xff")
    return bisect_left(codes, part.value.encode()), bisect_right(codes, part.high.encode())


def code_docs(searcher: Searcher, parts: Sequence[CodePart]) -> dict[int, str]:
    """The documents whose codes the prefixes and ranges ``parts`` cover (each part's ``system:``
    qualifier applied), each with its code; QueryError if they cover more than MAX_CODES codes."""
    leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
    spans = [[_span(_codes(reader), part) for part in parts] for reader, _ in leaves]
    covered = sum(hi - lo for per_leaf in spans for lo, hi in _merged(per_leaf))
    if covered > MAX_CODES:
        labels = (
            " ".join(part.label for part in parts) if len(parts) <= 3 else f"The {len(parts)} code prefixes and ranges"
        )
        raise QueryError(
            f"{labels} cover{'s' if len(parts) == 1 else ''} {covered:,} codes, more than the {MAX_CODES:,} one search may list. Narrow it: "
            "a longer prefix (0DT* rather than 0D*), a narrower range, or words to rank them by "
            "(0D* appendix)."
        )
    found: dict[int, str] = {}
    for (reader, offset), per_leaf in zip(leaves, spans, strict=True):
        codes = _codes(reader)
        for part, (lo, hi) in zip(parts, per_leaf, strict=True):
            system = filter_docs(searcher, Term("code_system", part.system)) if part.system else None
            for code in codes[lo:hi]:
                for docnum in _code_docs(reader, code):
                    if system is None or offset + docnum in system:
                        found[offset + docnum] = code.decode()
    return found


def _code_docs(reader: Any, code: bytes) -> list[int]:
    """The live documents of one code in one segment (a code names one document; an updated
    document leaves a deleted one behind in an older segment)."""
    info = reader.term_info(CODE, code)
    docnums = [info.min_id()] if info.doc_frequency() == 1 else list(reader.postings(CODE, code).all_ids())
    return [docnum for docnum in docnums if not reader.is_deleted(docnum)]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping (start, end) spans joined, so a code covered twice counts once."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        elif hi > lo:
            merged.append((lo, hi))
    return merged
