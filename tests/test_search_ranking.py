"""Ranking on real queries over the bundled corpus: relative order, never raw scores."""

from __future__ import annotations

import pytest
from procsearch.search.engine import SearchEngine
from procsearch.search.errors import QueryError


def rank(engine: SearchEngine, query: str, code: str, **options: object) -> int:
    codes = engine.search(query, limit=50, **options).codes  # type: ignore[arg-type]
    return codes.index(code) + 1 if code in codes else 999


def test_physical_therapy_ranks_the_exercise_page_above_pages_that_offer_it_as_an_alternative(
    engine: SearchEngine,
) -> None:
    assert rank(engine, "physical therapy", "97110") < rank(engine, "physical therapy", "63685")
    assert rank(engine, "physical therapy", "97110") <= 3


def test_spinal_cord_stimulator_pages_outrank_passing_mentions(engine: SearchEngine) -> None:
    results = engine.search("spinal cord stimulator", limit=20)
    codes = results.codes
    core = [codes.index(code) for code in ("63685", "63650", "63688")]
    passing = [
        i for i, hit in enumerate(results.hits) if "stimulat" not in (hit.title + " ".join(hit.common_names)).lower()
    ]
    assert passing, "some pages mention the stimulator only in passing"
    assert max(core) < min(passing)


def test_an_exact_code_comes_first(engine: SearchEngine) -> None:
    for query in ("63685", "g0121", "cpt:63685", "knee 63685", "63685 battery"):
        first = engine.search(query, limit=5).hits[0]
        assert first.code in ("63685", "G0121") and first.exact_code_match, query


def test_each_hit_names_the_section_its_snippet_comes_from(engine: SearchEngine) -> None:
    results = engine.search("infection after surgery", limit=5)
    for hit in results.hits:
        assert hit.snippet is not None and hit.snippet.label
        assert all(0 <= start < end <= len(hit.snippet.text) for start, end in hit.snippet.highlights)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("battery for my back pain stimulator", {"63685", "63688"}),
        ("gallbladder removal", {"47562"}),
        ("tubes tied", {"58670"}),
        ("knee replacement", {"27447"}),
        ("TKA", {"27447"}),
        ("CABG", {"33533"}),
        ("EGD", {"43239"}),
        ("spinal tap", {"62270"}),
        ("colonscopy", {"45378", "45380", "45385", "G0121", "G0105"}),
        ("neurostimulater battery", {"63685", "63688"}),
        ("cholecystecomy", {"47562"}),
    ],
)
def test_lay_words_abbreviations_and_typos_find_the_right_code(
    engine: SearchEngine, query: str, expected: set[str]
) -> None:
    top3 = set(engine.search(query, limit=3).codes)
    assert top3 & expected, (query, top3)


def test_typed_words_count_more_than_expansions(engine: SearchEngine) -> None:
    results = engine.search("TKA", limit=3)
    assert any(e.term == "tka" and "total knee arthroplasty" in e.expansions for e in results.expansions)
    plain = engine.search("TKA", limit=3, expand=False)
    assert plain.expansions == ()


def test_misspelling_is_corrected_and_reported_and_can_be_turned_off(engine: SearchEngine) -> None:
    results = engine.search("neurostimulater", limit=3)
    assert results.corrected_query == "neurostimulator"
    assert results.codes
    assert engine.search("neurostimulater", limit=3, correct=False).corrected_query is None
    # Codes, numbers and short words are never corrected.
    assert engine.search("63686 knea", limit=3).corrected_query is None


def test_code_prefixes_and_ranges(engine: SearchEngine) -> None:
    assert set(engine.search("636*", limit=50).codes) == {"63650", "63685", "63688"}
    assert set(engine.search("63650-63688", limit=50).codes) == {"63650", "63685", "63688"}
    assert set(engine.search("63650-63688 battery", limit=50).codes) <= {"63650", "63685", "63688"}


def test_section_scoped_terms_and_section_option_match_only_that_section(engine: SearchEngine) -> None:
    for results in (
        engine.search("risks:hoarseness", limit=10),
        engine.search("hoarseness", section="risks", limit=10),
    ):
        assert results.hits
        assert all(hit.matched_fields == ("risks",) for hit in results.hits)
        assert "60240" in results.codes


def test_filters_and_facets(engine: SearchEngine) -> None:
    results = engine.search("colonoscopy", system="HCPCS", limit=10, facets=True)
    assert set(results.codes) <= {"G0121", "G0105", "G0439", "E0601", "A0427", "L8680"}
    assert {"G0121", "G0105"} <= set(results.codes)
    assert results.facets["code_system"] == {"HCPCS": results.total}
    everything = engine.search("colonoscopy", limit=10, facets=True)
    assert sum(everything.facets["code_system"].values()) == everything.total
    assert sum(everything.facets["group"].values()) == everything.total
    digestive = engine.search("colonoscopy", group="Digestive", limit=10)
    assert digestive.hits and all(hit.group == "Digestive" for hit in digestive.hits)


def test_weights_can_be_overridden_per_query_without_reindexing(engine: SearchEngine) -> None:
    default = engine.search("physical therapy", limit=50).codes
    assert "63685" in default
    no_alternatives = engine.search("physical therapy", limit=50, weights={"alternatives": 0}).codes
    assert rank(engine, "physical therapy", "63685", weights={"alternatives": 0}) >= default.index("63685") + 1
    assert no_alternatives != default


def test_similar_lists_the_page_codes_first_then_content_neighbours(engine: SearchEngine) -> None:
    similar = engine.similar("63685")
    listed = [entry.code for entry in similar.listed]
    assert listed[:2] and {"63688", "63650"} <= set(listed)
    assert all(entry.in_index == (entry.code in {"63688", "63650"}) or entry.in_index for entry in similar.listed)
    assert any(entry.in_index for entry in similar.listed) and any(not entry.in_index for entry in similar.listed)
    neighbours = [hit.code for hit in similar.neighbours]
    assert "63685" not in neighbours
    assert {"63688", "63650"} & set(neighbours[:3])


@pytest.mark.parametrize("query", ["*a*", "*", "st*", "(" * 100 + "x" + ")" * 100])
def test_costly_or_meaningless_queries_get_a_message(engine: SearchEngine, query: str) -> None:
    with pytest.raises(QueryError):
        engine.search(query)


@pytest.mark.parametrize(
    "query",
    [
        "NOT NOT knee",
        '"unbalanced',
        "((knee",
        "AND",
        "foo:bar knee",
        "\x00knee",
        "señal cardíaca 心脏",
        "what is a spinal tap?",
        "knee~5",
        "procedure:[a TO z]",
    ],
)
def test_odd_queries_give_results_or_nothing_but_never_fail(engine: SearchEngine, query: str) -> None:
    engine.search(query)


def test_long_query_is_cut_with_a_notice(engine: SearchEngine) -> None:
    results = engine.search("knee " * 2000)
    assert any("cut" in notice for notice in results.notices)
    assert "27447" in results.codes


def test_a_search_out_of_time_returns_partial_results(corpus_index) -> None:  # type: ignore[no-untyped-def]
    with SearchEngine(corpus_index, time_budget=0.0) as hurried:
        results = hurried.search("pain OR surgery OR infection OR recovery", limit=5)
    assert results.partial
    assert any("partial" in notice for notice in results.notices)
    assert 1 <= len(results.hits) <= 5 and results.total >= len(results.hits)


def test_when_no_document_holds_every_word_of_an_expansion_most_of_them_will_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from procsearch.search.engine import RELAXED_NOTICE

    from tests.support.titles import abbreviation, titles_index

    titles = {
        "0210093": "Bypass Coronary Artery, One Artery from Coronary Artery with Autologous Venous Tissue, Open Approach",
        "0DTJ0ZZ": "Resection of Appendix, Open Approach",
        "0SRC0J9": "Replacement of Right Knee Joint with Synthetic Substitute, Open Approach",
    }
    titles_index(tmp_path, titles)
    vocabulary = abbreviation("CABG", "coronary artery bypass graft")
    with SearchEngine(tmp_path, vocabulary=vocabulary) as engine:
        results = engine.search("CABG")
        assert results.codes[:1] == ["0210093"] and RELAXED_NOTICE in results.notices
        full = engine.search("coronary bypass")  # the typed words match: nothing relaxed
        assert full.codes[:1] == ["0210093"] and RELAXED_NOTICE not in full.notices
        assert engine.search("CABG", expand=False).codes == []
    # Out of time before anything matched: the answer is partial, and is not relaxed.
    with SearchEngine(tmp_path, vocabulary=vocabulary, time_budget=1e-9) as engine:
        hurried = engine.search("CABG")
        assert hurried.partial and RELAXED_NOTICE not in hurried.notices


def test_an_expansion_no_document_holds_whole_counts_by_its_words_beside_typed_words_that_match(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from procsearch.search.engine import RELAXED_NOTICE

    from tests.support.titles import abbreviation, titles_index

    titles = {
        "0Y6H0Z1": "Detachment at Right Lower Leg, knee amputation, High, Open Approach",
        "08RJ30Z": "Replacement of Right Lens with Intraocular Telescope, Percutaneous Approach",
        "0SRC0J9": "Replacement of Right Knee Joint with Synthetic Substitute, Open Approach",
    }
    titles_index(tmp_path, titles)
    vocabulary = abbreviation("BKA", "below knee amputation")
    with SearchEngine(tmp_path, vocabulary=vocabulary) as engine:
        # "right" matches every title; no title says "below": the expansion still counts by its words.
        results = engine.search("BKA right", axes=False)
        assert results.codes[0] == "0Y6H0Z1" and RELAXED_NOTICE in results.notices
        assert RELAXED_NOTICE not in engine.search("knee amputation right", axes=False).notices


def test_an_abbreviation_a_document_holds_as_typed_keeps_its_meanings_whole(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from procsearch.search.engine import RELAXED_NOTICE

    from tests.support.titles import abbreviation, titles_index

    titles = {
        "77373": "Stereotactic body radiation therapy (SBRT), per fraction",
        "97140": "Manual therapy techniques, body, one or more regions",
    }
    titles_index(tmp_path, titles)
    with SearchEngine(tmp_path, vocabulary=abbreviation("SBRT", "stereotactic body radiotherapy")) as engine:
        # "radiotherapy" is in no title, but "SBRT" is: nothing is loosened, no notice.
        results = engine.search("SBRT", axes=False)
        assert results.codes == ["77373"] and RELAXED_NOTICE not in results.notices


def test_a_meaning_held_whole_only_outside_the_filters_counts_by_its_words_within_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.titles import abbreviation, titles_index

    titles = {
        "0Y6H0Z1": "Detachment at Right Lower Leg, knee amputation, High, Open Approach",
        "08RJ30Z": "Replacement of Right Lens with Intraocular Telescope, Percutaneous Approach",
    }
    titles_index(tmp_path, titles, pages={"27880": "Below knee amputation, right or left"})
    with SearchEngine(tmp_path, vocabulary=abbreviation("BKA", "below knee amputation")) as engine:
        # The CPT page holds the words whole; among ICD-10-PCS codes none does.
        assert engine.search("BKA right", system="ICD-10-PCS", axes=False).codes[0] == "0Y6H0Z1"
        assert engine.search("BKA right", axes=False).codes[0] == "27880"


@pytest.mark.parametrize("excluding", ["knee NOT replacement", "knee -replacement", "knee AND NOT replacement"])
def test_not_and_minus_exclude_the_word(engine: SearchEngine, excluding: str) -> None:
    knee = set(engine.search("knee", limit=200).codes)
    replacement = set(engine.search("replacement", limit=200, expand=False, correct=False).codes)
    results = engine.search(excluding, limit=200)
    assert "27447" in knee & replacement
    assert set(results.codes) == knee - replacement, excluding


def test_expansions_do_not_bring_back_what_not_excludes(engine: SearchEngine) -> None:
    assert "27447" in engine.search("TKA", limit=50).codes
    assert "27447" not in engine.search("TKA NOT knee", limit=50).codes


def test_a_hyphen_inside_a_word_is_not_an_exclusion(engine: SearchEngine) -> None:
    assert "27447" in engine.search("knee-replacement", limit=5).codes


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1"])
def test_weights_must_be_finite_and_not_negative(engine: SearchEngine, value: str) -> None:
    with pytest.raises(ValueError, match="must be a finite number, zero or more"):
        engine.search("knee", weights={"title": float(value)})


@pytest.mark.parametrize("query", ["63685", "knee 63685", "63685 battery", "636*", '"spinal cord" 63685'])
def test_a_hits_score_does_not_depend_on_the_limit(engine: SearchEngine, query: str) -> None:
    first = engine.search(query, limit=1).hits[0]
    again = engine.search(query, limit=20)
    assert again.hits[0].code == first.code and again.hits[0].score == first.score, query
    scores = [hit.score for hit in again.hits]
    assert scores == sorted(scores, reverse=True), query


@pytest.mark.parametrize("query", ["knee", '"spinal cord"', "63685 battery", "636*", "arthro*"])
def test_pages_of_results_join_into_one_ranking(engine: SearchEngine, query: str) -> None:
    whole = engine.search(query, limit=30)
    pages = [engine.search(query, limit=4, offset=offset) for offset in range(0, 30, 4)]
    assert [hit.code for page in pages for hit in page.hits] == whole.codes, query
    assert [hit.rank for page in pages for hit in page.hits] == list(range(1, len(whole.codes) + 1))
    assert all(page.total == whole.total for page in pages)
    with pytest.raises(QueryError, match="offset must be zero or more"):
        engine.search(query, offset=-1)
