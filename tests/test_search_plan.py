"""The query plan: what a typed query becomes before anything is ranked (search/plan.py)."""

from __future__ import annotations

import pytest
from procsearch.search.engine import SearchEngine
from procsearch.search.errors import QueryError
from procsearch.search.ranking import leaves
from whoosh.query import Or, Term


def _terms(query) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(term.fieldname, term.text) for term in leaves(query)}


def test_plan_holds_the_typed_words_in_every_weighted_field(engine: SearchEngine) -> None:
    plan = engine.plan_query("stimulator", expand=False)
    assert plan.text == "stimulator"
    assert plan.corrections == () and plan.filters is None
    assert all(text.startswith("stimul") for _, text in _terms(plan.main))
    assert {field for field, _ in _terms(plan.main)} == set(plan.fields)


def test_plan_corrects_a_misspelt_word_and_can_leave_it(engine: SearchEngine) -> None:
    plan = engine.plan_query("stimulatr")
    assert plan.text == "stimulator"
    assert [c.word for c in plan.corrections] == ["stimulatr"]
    assert engine.plan_query("stimulatr", correct=False).corrections == ()


def test_plan_adds_expansions_below_the_typed_words(engine: SearchEngine) -> None:
    plan = engine.plan_query("tka")
    assert [e.term for e in plan.expansions] == ["tka"]
    assert isinstance(plan.main, Or) and len(plan.main.subqueries) == 2
    expansion = plan.main.subqueries[1]
    assert expansion.boost < 1.0  # counted below what was typed
    assert engine.plan_query("tka", expand=False).expansions == ()


def test_plan_under_a_section_searches_one_field_at_weight_one(engine: SearchEngine) -> None:
    plan = engine.plan_query("infection", section="risks")
    assert plan.fields == ("risks",) and dict(plan.weights) == {"risks": 1.0}
    assert {field for field, _ in _terms(plan.main)} == {"risks"}


def test_plan_filters_and_codes(engine: SearchEngine) -> None:
    plan = engine.plan_query("63685", system="cpt")
    assert [part.value for part in plan.parsed.exact_codes] == ["63685"]
    assert plan.filters == Term("code_system", "CPT")
    assert plan.text == ""
    ranged = engine.plan_query("636* stimulator")
    assert [part.kind for part in ranged.ranged] == ["prefix"]


def test_plan_refuses_an_empty_query_and_an_unknown_group(engine: SearchEngine) -> None:
    with pytest.raises(QueryError, match="empty"):
        engine.plan_query("   ")
    with pytest.raises(QueryError, match="Unknown group"):
        engine.plan_query("knee", group="no such group")


def test_the_plan_is_what_search_runs(engine: SearchEngine) -> None:
    plan = engine.plan_query("tubes tied")
    results = engine.search("tubes tied")
    assert results.expansions == plan.expansions and results.corrections == plan.corrections
