"""Similar codes: a page's own Similar Codes list, then the documents that read most alike."""

from __future__ import annotations

from collections.abc import Mapping

from whoosh.query import Or, Query, Term
from whoosh.searching import Searcher

from ..ingest.record import ProcedureDoc
from .hits import whoosh_hit
from .results import SearchHit, SimilarEntry, SimilarResults

MORE_LIKE_TERMS = 6
"""Key terms taken from each field of a document to find its neighbours."""


def similar_codes(
    searcher: Searcher, doc: ProcedureDoc, *, weights: Mapping[str, float], limit: int = 10
) -> SimilarResults:
    """``doc``'s neighbours: its Similar Codes list (marking which are in the index), then
    documents whose weighted sections read most alike (more-like-this)."""
    listed = []
    for similar in doc.similar_codes:
        stored = searcher.document(code=similar.code)
        listed.append(
            SimilarEntry(
                similar.code, similar.label, stored is not None, str(stored.get("title", "")) if stored else ""
            )
        )
    docnum = searcher.document_number(code=doc.code)
    query = more_like_query(searcher, doc, weights)
    neighbours: list[SearchHit] = []
    if query is not None:
        results = searcher.search(query, limit=limit + 1, mask=Term("code", doc.code), terms=True)
        for hit in results:
            if hit.docnum != docnum and len(neighbours) < limit:
                neighbours.append(whoosh_hit(hit, rank=len(neighbours) + 1, weights=weights))
    return SimilarResults(code=doc.code, title=doc.title, listed=tuple(listed), neighbours=tuple(neighbours))


def more_like_query(searcher: Searcher, doc: ProcedureDoc, weights: Mapping[str, float]) -> Query | None:
    """The document's most telling terms per field, weighted like a search."""
    terms: list[Query] = []
    texts = {"title": doc.title, "names": "\n".join(doc.common_names), **doc.sections}
    for name, text in texts.items():
        weight = weights.get(name, 0.0)
        if not text or weight <= 0:
            continue
        for term, score in searcher.key_terms_from_text(name, text, numterms=MORE_LIKE_TERMS):
            terms.append(Term(name, term, boost=weight * score))
    return Or(terms) if terms else None
