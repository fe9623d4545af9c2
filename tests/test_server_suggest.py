"""The completion table behind /api/suggest: codes by prefix, word prefixes, abbreviations, typos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from procsearch.search.engine import SearchEngine
from procsearch.server.suggest import CompletionTable, cache_path, load_table


def abbreviations(engine: SearchEngine) -> list[tuple[str, str]]:
    return [
        (" ".join(term), meaning)
        for term, entries in engine.vocabulary.phrases.items()
        for meaning, kind in entries
        if kind == "abbreviation"
    ]


@pytest.fixture(scope="module")
def table(engine: SearchEngine) -> CompletionTable:
    return CompletionTable.build(engine.headings()[1], abbreviations(engine))


def codes(table: CompletionTable, query: str, limit: int = 10) -> list[str]:
    return [s.code for s in table.suggest(query, limit=limit).suggestions]


def test_code_prefixes_complete_to_codes(table: CompletionTable) -> None:
    assert codes(table, "636") == ["63650", "63685", "63688"]
    assert codes(table, "636*") == ["63650", "63685", "63688"]
    first = table.suggest("g01").suggestions[0]
    assert (first.code, first.kind, first.code_system) == ("G0105", "code", "HCPCS") and "Colonoscopy" in first.title


def test_word_prefixes_complete_titles_and_common_names(table: CompletionTable) -> None:
    assert codes(table, "lap chol")[0] == "47562"
    assert {"63650", "63685", "63688"} <= set(codes(table, "spinal cord stim", limit=4))
    assert codes(table, "Spinal Cord")[:3] == codes(table, "spinal cord")[:3]
    assert "27447" in codes(table, "knee repl", limit=3)
    assert codes(table, "zzzz") == []
    assert codes(table, "   ") == []


def test_abbreviations_lead_to_what_they_stand_for(table: CompletionTable) -> None:
    scs = table.suggest("scs").suggestions
    assert scs[0].kind == "abbreviation" and scs[0].text == "spinal cord stimulator (SCS)"
    assert {"63650", "63685", "63688"} <= {s.code for s in scs}
    assert "27447" in codes(table, "tka")


def test_misspelled_prefixes_still_suggest(table: CompletionTable) -> None:
    for typed, wanted in (("lapro chol", "47562"), ("spinl cord", "63650"), ("colonscopy", "45378")):
        result = table.suggest(typed)
        assert result.corrected and wanted in [s.code for s in result.suggestions], typed
    assert not table.suggest("lap chol").corrected


def test_one_suggestion_per_code_and_limits(table: CompletionTable) -> None:
    found = codes(table, "a", limit=20)
    assert len(found) == 20 == len(set(found))
    assert len(codes(table, "a", limit=500)) == 20, "limit is capped"
    assert codes(table, "x" * 5000) == [], "long input is cut, not an error"


def test_pages_come_before_generated_records() -> None:
    headings = [
        (
            "0DTJ4ZZ",
            "ICD-10-PCS",
            "Resection of Appendix, Percutaneous Endoscopic Approach",
            ["Appendectomy"],
            "icd10pcs:0DTJ4ZZ",
        ),
        ("0DTJ0ZZ", "ICD-10-PCS", "Resection of Appendix, Open Approach", ["Appendectomy"], "icd10pcs:0DTJ0ZZ"),
        ("44970", "CPT", "Laparoscopic Appendectomy", ["lap appy", "keyhole appendix removal"], "cpt-44970.html"),
    ]
    table = CompletionTable.build(headings, [("lap appy", "laparoscopic appendectomy")])
    assert codes(table, "append") == ["44970", "0DTJ0ZZ", "0DTJ4ZZ"]
    assert codes(table, "resection of app") == ["0DTJ0ZZ", "0DTJ4ZZ"]
    assert codes(table, "0dtj") == ["0DTJ0ZZ", "0DTJ4ZZ"]
    assert codes(table, "keyhole app") == ["44970"]


def test_a_stored_table_answers_the_same(table: CompletionTable) -> None:
    again = CompletionTable.from_json(json.loads(json.dumps(table.to_json())))
    for typed in ("636", "lap chol", "scs", "spinl cord", "knee", "a"):
        assert again.suggest(typed) == table.suggest(typed), typed
    with pytest.raises(ValueError, match="format"):
        CompletionTable.from_json({**table.to_json(), "version": 999})


def test_the_table_is_cached_per_generation_next_to_the_index(tmp_path: Path, engine: SearchEngine) -> None:
    index = tmp_path / "ix"
    (index / "gen-1").mkdir(parents=True)
    calls: list[int] = []

    def read() -> list[tuple[str, str, str, tuple[str, ...], str]]:
        calls.append(1)
        return engine.headings()[1]

    first = load_table(index, "gen-1", read, abbreviations(engine))
    second = load_table(index, "gen-1", read, abbreviations(engine))
    assert len(calls) == 1 and cache_path(index, "gen-1").is_file()
    assert first.suggest("636") == second.suggest("636")
    load_table(index, "gen-1", read, [("scs", "spinal cord stimulator")])
    assert len(calls) == 2, "other abbreviations: rebuilt"
    cache_path(index, "gen-gone").write_text("{}")
    load_table(index, "gen-1", read, ())
    assert not cache_path(index, "gen-gone").exists(), "tables of removed generations are removed"


def test_an_unwritable_cache_keeps_the_table_in_memory(tmp_path: Path, engine: SearchEngine) -> None:
    index = tmp_path / "ix"
    (index / "gen-1").mkdir(parents=True)
    (index / "completions").write_text("not a folder")  # what a read-only index folder also causes
    table = load_table(index, "gen-1", lambda: engine.headings()[1])
    assert codes(table, "636") == ["63650", "63685", "63688"]
    assert (index / "completions").read_text() == "not a folder"


def test_every_document_whose_phrase_begins_as_typed_is_a_candidate(table: CompletionTable) -> None:
    # 63650, 63685 and 63688 have many names beginning "spinal cord stimulator"; L8680 has one too.
    assert {"63650", "63685", "63688", "L8680"} <= set(codes(table, "spinal cord st", limit=8))
