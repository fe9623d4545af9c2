"""What one search may spend: costly queries are refused before they run, with how to narrow
them, and the time budget holds while Whoosh builds and walks its matchers."""

from __future__ import annotations

from pathlib import Path

import pytest
from procsearch.search import budget, codeset
from procsearch.search.engine import TIMED_OUT_NOTICE, SearchEngine
from procsearch.search.errors import QueryError


def test_code_prefixes_and_ranges_alone_are_listed_in_code_order(engine: SearchEngine) -> None:
    results = engine.search("63650-63688 0DT*", limit=50)
    assert results.codes == ["63650", "63685", "63688"] and results.total == 3
    assert [hit.rank for hit in results.hits] == [1, 2, 3]
    assert engine.search("cpt:636*", limit=50).codes == ["63650", "63685", "63688"]
    assert engine.search("hcpcs:636*", limit=50).codes == []


def test_codes_covering_more_than_a_search_may_list_are_refused(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codeset, "MAX_CODES", 20)
    with pytest.raises(
        QueryError, match=r"^00000-99999 covers \d+ codes, more than the 20 one search may list\. Narrow it"
    ):
        engine.search("00000-99999")
    with pytest.raises(QueryError, match=r"^The 4 code prefixes and ranges cover \d+ codes"):
        engine.search("10000-29999 30000-49999 50000-69999 70000-99999")
    assert engine.search("636*").total == 3  # under the limit: answered
    with pytest.raises(QueryError, match="covers"):
        engine.search("00000-99999 knee")  # with words too: the codes are read first


def test_phrases_that_would_read_too_many_postings_are_refused_before_they_run(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "MAX_POSTINGS", 200)
    query = '"spinal cord" "pain relief" "local anesthesia"'
    with pytest.raises(
        QueryError, match=r"read about .* million postings \(its phrases are of common words\).*Narrow it"
    ):
        engine.search(query)
    with pytest.raises(QueryError, match="Narrow it"):
        engine.search('knee NOT "spinal cord" NOT "pain relief" NOT "local anesthesia"')
    assert engine.search('"spinal tap"').codes  # a rare phrase is well within


def test_a_word_prefix_of_too_many_words_is_refused(engine: SearchEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "MAX_EXPANSION", 3)
    with pytest.raises(QueryError, match=r"^pro\* stands for more than 3 indexed words.*use a longer prefix"):
        engine.search("pro*")


@pytest.mark.parametrize(
    "query", ['"knee replacement"', 'knee NOT "total knee"', "arthro*", '"spinal cord" AND NOT stimulator']
)
def test_an_exhausted_budget_stops_whoosh_while_it_builds_and_walks_matchers(corpus_index: Path, query: str) -> None:
    with SearchEngine(corpus_index, time_budget=0.0) as hurried:
        results = hurried.search(query, limit=5, facets=True)
    assert results.partial and results.hits == ()
    assert results.notices == (TIMED_OUT_NOTICE,)
