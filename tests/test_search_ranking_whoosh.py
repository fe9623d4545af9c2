"""Term-at-a-time ranking (search/ranking/) must score exactly as Whoosh's own matchers do."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from procsearch.search.engine import SearchEngine
from procsearch.search.ranking import PostingCache, filter_docs, rank
from whoosh.collectors import TopCollector
from whoosh.query import Or, Prefix, Term

QUERIES = Path(__file__).resolve().parent.parent / "bench" / "queries"


def _main_query(engine: SearchEngine, text: str):  # type: ignore[no-untyped-def]
    return engine.plan_query(text, correct=False).main


def _whoosh_top(engine: SearchEngine, query, limit: int) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    # replace=0: Whoosh's collector otherwise recounts the coordination factor's terms as posting
    # lists run out, so a document's score depends on where the walk is (see search/ranking/).
    collector = TopCollector(limit=limit, replace=0)
    engine._current().search_with_collector(query, collector)
    return [(hit.docnum, hit.score) for hit in collector.results()]


@pytest.mark.slow
def test_scores_equal_whoosh_on_every_development_query(engine: SearchEngine) -> None:
    searcher = engine._current()
    with (QUERIES / "pages.tsv").open(encoding="utf-8") as handle:
        texts = [row["query"] for row in csv.DictReader(handle, delimiter="\t")]
    compared = 0
    shared = PostingCache()  # every query ranked twice more through one cache: from it, then from memory
    for text in texts:
        query = _main_query(engine, text)
        if query is None:
            continue
        ranking = rank(searcher, query, limit=10)
        if ranking is None:
            continue
        for _ in range(2):
            cached = rank(searcher, query, limit=10, cache=shared)
            assert cached is not None and cached.top == ranking.top and cached.matching == ranking.matching, text
            assert cached.terms == ranking.terms, text
        expected = _whoosh_top(engine, query, 10)
        assert [d for d, _ in ranking.top] == [d for d, _ in expected], text
        for (_, ours), (_, theirs) in zip(ranking.top, expected, strict=True):
            assert math.isclose(ours, theirs, rel_tol=1e-9), text
        assert ranking.matching == set(query.docs(searcher)), text
        compared += 1
    assert compared >= 150


def test_filters_and_cache_do_not_change_the_ranking(engine: SearchEngine) -> None:
    searcher = engine._current()
    query = _main_query(engine, "knee replacement")
    plain = rank(searcher, query, limit=5)
    cache = PostingCache()
    cached_twice = [rank(searcher, query, limit=5, cache=cache) for _ in range(2)]
    assert plain is not None and all(r is not None and r.top == plain.top for r in cached_twice)
    cpt = rank(searcher, query, limit=200, allowed=filter_docs(searcher, Term("code_system", "CPT")))
    assert cpt is not None and cpt.matching
    systems = {searcher.stored_fields(d)["code_system"] for d in cpt.matching}
    assert systems == {"CPT"}
    assert cpt.matching == plain.matching & set(Term("code_system", "CPT").docs(searcher))


def test_top_hits_know_which_terms_they_matched(engine: SearchEngine) -> None:
    searcher = engine._current()
    ranking = rank(searcher, _main_query(engine, "spinal cord stimulator"), limit=3)
    assert ranking is not None
    best = ranking.top[0][0]
    assert searcher.stored_fields(best)["code"] == "63685"
    fields = {name for name, _ in ranking.terms[best]}
    assert {"title", "summary"} <= fields


def test_queries_with_other_nodes_are_left_to_whoosh(engine: SearchEngine) -> None:
    searcher = engine._current()
    assert rank(searcher, Or([Term("title", "knee"), Prefix("title", "arthro")]), limit=5) is None
    # ... and the engine still answers them.
    assert engine.search('"spinal cord" arthro*').hits


def test_the_cache_holds_at_most_its_size() -> None:
    from array import array

    cache = PostingCache(size=10)
    for n in range(5):
        cache.put(("segment", "title", str(n).encode()), (array("I", range(4)), array("f", [1.0] * 4)))
    assert cache.held <= 10
    assert cache.get(("segment", "title", b"4")) is not None
    assert cache.get(("segment", "title", b"0")) is None


def test_one_engine_serves_many_threads_with_a_small_cache(corpus_index: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = ["knee replacement", "spinal cord stimulator", "colonoscopy", "cataract", "heart bypass", "TKA"]
    with SearchEngine(corpus_index) as engine:
        expected = {query: engine.search(query, limit=5).codes for query in queries}
        engine._postings = PostingCache(size=2000)  # small: lists are evicted while others read them
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda q: (q, engine.search(q, limit=5).codes), queries * 15))
        assert all(codes == expected[query] for query, codes in answers)
        assert 0 <= engine._postings.held <= 2000


def test_a_search_out_of_time_reads_no_more_posting_lists(engine: SearchEngine) -> None:
    searcher = engine._current()
    query = _main_query(engine, "pain surgery infection recovery anesthesia")
    ranking = rank(searcher, query, limit=5, deadline=0.0, cache=PostingCache(0))
    assert ranking is not None and ranking.partial and ranking.top
    read_terms = {term for terms in ranking.terms.values() for term in terms}
    assert len(read_terms) == 1  # the one term scored before the budget was found spent


def test_the_document_frequencies_an_index_remembers_are_bounded(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from procsearch.search.ranking import postings

    monkeypatch.setattr(postings, "MAX_FREQUENCIES", 3)
    searcher = engine._current()
    getattr(searcher.reader(), "_procsearch_frequencies", {}).clear()  # other tests filled it
    sizes = []
    for text in ("total knee arthroplasty", "spinal cord stimulator battery", "laparoscopic gallbladder removal"):
        assert rank(searcher, _main_query(engine, text), limit=3) is not None  # expansions: And parts
        sizes.append(len(searcher.reader()._procsearch_frequencies))
    assert 1 <= max(sizes) <= 3
