"""Queries Whoosh runs itself (phrases, prefixes, ranges, NOT) on an index of several segments,
as a re-index leaves it: the same answers as on the one-segment index of the same documents."""

from __future__ import annotations

import pytest
from procsearch.search.engine import SearchEngine

QUERIES = [
    '"knee replacement"',
    '"spinal tap"',
    '"lumbar puncture"',
    '"spinal cord stimulator"',
    '"spinal cord" battery',
    "arthro*",
    "stimulat* battery",
    "636*",
    "63650-63688",
    "63650-63688 battery",
    "knee AND NOT replacement",
    "spinal NOT cord",
    "knee -replacement",
    "risks:infection AND NOT knee",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("limit", [1, 10, 50])
def test_whoosh_run_queries_answer_alike_on_one_and_several_segments(
    engine: SearchEngine, multi_engine: SearchEngine, query: str, limit: int
) -> None:
    one = engine.search(query, limit=limit)
    several = multi_engine.search(query, limit=limit)
    assert several.total == one.total, query
    if limit == 50:
        assert set(several.codes) == set(one.codes), query
    assert len(several.hits) == len(one.hits)


@pytest.mark.parametrize("query", ['"knee replacement"', "arthro*", "63650-63688", "spinal AND NOT cord"])
def test_facets_and_filters_on_several_segments(engine: SearchEngine, multi_engine: SearchEngine, query: str) -> None:
    for options in ({"facets": True}, {"system": "CPT"}, {"facets": True, "system": "CPT"}):
        one = engine.search(query, limit=5, **options)  # type: ignore[arg-type]
        several = multi_engine.search(query, limit=5, **options)  # type: ignore[arg-type]
        assert several.total == one.total and several.facets == one.facets, (query, options)


def test_a_phrase_finds_the_rewritten_page_in_the_new_segment_once(multi_engine: SearchEngine) -> None:
    results = multi_engine.search('"total knee replacement"', limit=50)
    assert results.codes.count("27447") == 1 and results.codes[0] == "27447"
