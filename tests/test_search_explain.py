"""Explaining a ranking (SearchEngine.explain): the parts are the ranking's own and add up to its score."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from procsearch.search.engine import SearchEngine
from procsearch.search.errors import NotFoundError
from procsearch.search.explanation import CODE, NONE, RANKING, WHOOSH
from procsearch.search.origins import CORRECTION, EXPANSION, SECTION_PREFIX

QUERIES = Path(__file__).resolve().parent.parent / "bench" / "queries"


def _queries(name: str) -> list[tuple[str, str]]:
    with (QUERIES / name).open(encoding="utf-8") as handle:
        return [(row["query"], row["acceptable"].split(",")[0]) for row in csv.DictReader(handle, delimiter="\t")]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pages.tsv", "holdout.tsv"])
def test_contributions_add_up_to_the_score_on_every_development_query(engine: SearchEngine, name: str) -> None:
    broken_down = whoosh = 0
    for query, expected in _queries(name):
        results = engine.search(query)
        page, explanations = engine.explain_page(query)
        assert page.codes == results.codes, query  # tracing leaves the ranking as it is
        for hit, explanation in zip(results.hits, explanations, strict=True):
            assert explanation.code == hit.code and explanation.rank == hit.rank and explanation.on_page, query
            assert explanation.score is not None and math.isclose(explanation.score, hit.score, rel_tol=1e-9), query
            if explanation.broken_down:
                assert math.isclose(explanation.total, hit.score, rel_tol=1e-9), (query, hit.code)
                assert math.isclose(
                    sum(f.share for f in explanation.fields)
                    + (explanation.coordination + explanation.code_score) / hit.score,
                    1.0,
                    rel_tol=1e-9,
                ), query
                broken_down += 1
            else:
                assert explanation.path == WHOOSH and explanation.notes, query
                whoosh += 1
        single = engine.explain(query, expected)
        if single.on_page:
            assert single.rank == results.codes.index(expected) + 1, query
        if single.broken_down and single.score is not None:
            assert math.isclose(single.total, single.score, rel_tol=1e-9), query
    assert broken_down > 5 * whoosh


def test_each_term_names_its_bm25f_parts(engine: SearchEngine) -> None:
    explanation = engine.explain("spinal cord stimulator", "63685")
    assert explanation.path == RANKING and explanation.rank == 1
    for part in explanation.contributions:
        assert part.tf and part.tf >= 1 and part.idf and part.idf > 0 and part.field_length is not None
        assert part.weight <= part.field_weight  # the coordination shrink, never more than the field's weight
        assert math.isclose(part.value, part.weight * part.bm25)
    # grouped by field, biggest first: the title and common names carry a stimulator page
    assert [share.field for share in explanation.fields][:2] in (["names", "title"], ["title", "names"])
    assert explanation.fields[0].share > explanation.fields[-1].share


def test_parts_recompute_to_the_ranked_bm25(engine: SearchEngine) -> None:
    from procsearch.search.ranking.postings import TermParts

    explanation = engine.explain("knee replacement", "27447")
    for part in explanation.contributions:
        assert part.tf is not None and part.field_length is not None and part.average_length and part.idf
        weighting = engine._current().weighting
        b = weighting._field_B.get(part.field, weighting.B)
        recomputed = TermParts(part.tf, part.field_length, part.average_length, part.idf, weighting.K1, b).score
        assert math.isclose(recomputed, part.bm25, rel_tol=1e-9), part


def test_where_each_term_came_from(engine: SearchEngine) -> None:
    corrected = engine.explain("stimulatr", "63685")
    assert any(p.origin == CORRECTION and p.detail == "stimulatr -> stimulator" for p in corrected.contributions)
    expanded = engine.explain("tka", "27447")
    assert {p.origin for p in expanded.contributions} == {EXPANSION, "typed"}  # the page names TKA too
    assert {p.word for p in expanded.contributions if p.origin == "typed"} == {"tka"}
    assert any("abbreviation of 'tka'" in p.detail for p in expanded.contributions)
    scoped = engine.explain("risks:infection", "27447")
    assert {(p.origin, p.field) for p in scoped.contributions} == {(SECTION_PREFIX, "risks")}


def test_a_code_below_the_page_says_what_it_lacks_and_how_far_behind_it_is(engine: SearchEngine) -> None:
    explanation = engine.explain("spinal cord stimulator", "27447", limit=5)
    assert explanation.path == RANKING and not explanation.on_page
    assert explanation.rank is not None and explanation.rank > 5
    assert explanation.gap is not None and explanation.gap > 0
    last = engine.search("spinal cord stimulator", limit=5).hits[-1].score
    assert explanation.last_shown_score is not None and math.isclose(explanation.last_shown_score, last)
    assert "stimulator" in explanation.lacking and "spinal" not in explanation.lacking
    assert engine.search("spinal cord stimulator", limit=explanation.rank).codes[-1] == "27447"


def test_a_code_that_matches_nothing(engine: SearchEngine) -> None:
    explanation = engine.explain("knee", "63685")
    assert explanation.path == NONE and explanation.rank is None and explanation.score is None
    assert explanation.lacking == ("knee",)


def test_a_typed_code_is_explained_by_the_code_rule(engine: SearchEngine) -> None:
    explanation = engine.explain("63685 stimulator", "63685")
    results = engine.search("63685 stimulator")
    assert explanation.path == CODE and explanation.rank == 1
    best_word_match = engine.search("stimulator").hits[0].score  # the page itself, by its words
    assert explanation.score == results.hits[0].score
    assert math.isclose(explanation.score, best_word_match + 1.0)
    assert "one more than the best word match" in explanation.code_rule


def test_phrases_say_plainly_that_whoosh_scored_them(engine: SearchEngine) -> None:
    explanation = engine.explain('"spinal cord" stimulator', "63685")
    assert explanation.path == WHOOSH and not explanation.broken_down
    assert explanation.score == engine.search('"spinal cord" stimulator').hits[0].score
    assert any("not broken down" in note for note in explanation.notes)
    assert {p.word for p in explanation.contributions} >= {"stimulator"}


def test_filters_and_options_in_force_are_listed(engine: SearchEngine) -> None:
    explanation = engine.explain("knee", "27447", system="cpt", weights={"title": 8.0}, expand=False)
    assert explanation.options["system"] == "cpt" and explanation.options["weights"] == {"title": 8.0}
    assert explanation.options["expand"] is False
    title = next(p for p in explanation.contributions if p.field == "title")
    assert title.field_weight == 8.0
    outside = engine.explain("knee", "27447", system="hcpcs")
    assert outside.path == NONE and any("filters" in note for note in outside.notes)


def test_a_code_not_in_the_index(engine: SearchEngine) -> None:
    with pytest.raises(NotFoundError, match="No document with code"):
        engine.explain("knee", "99999")


def test_relaxation_is_reported(tmp_path: Path) -> None:
    from tests.support.titles import abbreviation, titles_index

    titles = {
        "0210093": "Bypass Coronary Artery, One Artery from Coronary Artery with Autologous Venous Tissue, Open Approach",
        "0DTJ0ZZ": "Resection of Appendix, Open Approach",
    }
    titles_index(tmp_path, titles)
    with SearchEngine(tmp_path, vocabulary=abbreviation("CABG", "coronary artery bypass graft")) as engine:
        explanation = engine.explain("CABG", "0210093")
    assert explanation.relaxed and explanation.broken_down and explanation.rank == 1
    assert explanation.score is not None and math.isclose(explanation.total, explanation.score, rel_tol=1e-9)


def test_a_code_left_out_by_not_names_the_not_term(engine: SearchEngine) -> None:
    for query, term in (
        ("stimulator NOT battery", "battery"),
        ("stimulator -battery", "battery"),
        ('stimulator NOT "pulse generator"', '"pulse generator"'),
    ):
        assert "63685" not in engine.search(query, limit=50).codes
        explanation = engine.explain(query, "63685")
        assert explanation.path == NONE and explanation.rank is None, query
        assert explanation.excluded_by == (term,), query
        assert f"NOT {term} leaves it out" in " ".join(explanation.notes), query
        assert not any("matches nothing" in note for note in explanation.notes), query
    both = engine.explain("stimulator NOT (battery OR lead)", "63685")
    assert both.excluded_by == ("battery", "lead") and "NOT battery and NOT lead leave it out" in both.notes[-1]


def test_a_code_that_matches_nothing_is_not_said_to_be_left_out_by_not(engine: SearchEngine) -> None:
    explanation = engine.explain("knee NOT battery", "63685")  # it holds battery, but not knee
    assert explanation.excluded_by == () and explanation.notes[-1] == "It matches nothing of the query."


def test_a_code_above_the_page_says_it_is_not_on_it(engine: SearchEngine) -> None:
    explanation = engine.explain("spinal cord stimulator", "63685", offset=5, limit=5)
    assert explanation.rank == 1 and not explanation.on_page and explanation.gap is None
    assert explanation.placement == "Ranks #1, above the page (ranks 6 to 10): not on this page."
    typed = engine.explain("63685 battery", "63685", offset=3)  # the exact-code rule puts it first
    assert typed.rank == 1 and not typed.on_page and "above the page (ranks 4 to 13)" in typed.placement
    below = engine.explain("spinal cord stimulator", "27447", limit=5)
    assert below.placement.startswith(f"Ranks #{below.rank}, below the page (ranks 1 to 5): ")
    assert "below the last hit shown" in below.placement
    assert engine.explain("spinal cord stimulator", "63685").placement == "On the page (ranks 1 to 10)."


def test_the_axes_switch_is_listed_with_the_options(engine: SearchEngine) -> None:
    assert engine.explain("knee", "27447").options["axes"] is True
    plain = engine.explain("knee", "27447", axes=False)
    assert plain.options["axes"] is False and plain.options_in_force == {"axes": False}
