"""Procedure codes (ingest/codes.py): which system a code belongs to, codes found in page text,
labelled codes, the section a code's number falls in; and codes typed in a query (search/query.py)."""

from __future__ import annotations

import pytest
from procsearch.ingest.codes import (
    CPT,
    HCPCS,
    ICD10PCS,
    LABELLED_CODE,
    find_codes,
    group_of,
    system_from_label,
    system_of,
)
from procsearch.search.engine import SearchEngine
from procsearch.search.query import split_query


@pytest.mark.parametrize(
    ("code", "system"),
    [
        ("63685", CPT),
        ("0001T", CPT),  # category III
        ("3008F", CPT),  # category II
        ("g0121", HCPCS),
        (" L8680 ", HCPCS),
        ("0DTJ4ZZ", ICD10PCS),
        ("0dtj4zz", ICD10PCS),
        ("0DTJ4ZI", ""),  # I and O are not ICD-10-PCS characters
        ("W1234", ""),  # HCPCS letters stop at V
        ("636850", ""),
        ("knee", ""),
    ],
)
def test_a_codes_shape_names_its_system(code: str, system: str) -> None:
    assert system_of(code) == system


def test_codes_are_found_in_running_text_but_words_and_longer_numbers_are_not() -> None:
    text = "Bill 63685 with g0121, or 0dtj4zz; the bladder, 636850 and 2024-05-01 are not codes (see 27447)."
    assert find_codes(text) == ["63685", "G0121", "0DTJ4ZZ", "27447"]


@pytest.mark.parametrize(
    ("text", "label", "code"),
    [
        ("CPT4 code 63685", CPT, "63685"),
        ("HCPCS Level II code: G0121", HCPCS, "G0121"),
        ("CPT® 27447", CPT, "27447"),
        ("ICD-10-PCS code 0DTJ4ZZ", ICD10PCS, "0DTJ4ZZ"),
    ],
)
def test_a_code_next_to_its_label_names_both(text: str, label: str, code: str) -> None:
    match = LABELLED_CODE.search(text)
    assert match is not None
    assert (system_from_label(match.group("label")), match.group("code")) == (label, code)


@pytest.mark.parametrize(
    ("code", "system", "group"),
    [
        ("63685", CPT, "Nervous system"),
        ("27447", CPT, "Musculoskeletal"),
        ("99213", CPT, "Evaluation and management"),
        ("0001T", CPT, "Category III (emerging technology)"),
        ("g0121", HCPCS, "HCPCS G: Procedures and professional services"),
        ("0DTJ4ZZ", ICD10PCS, ""),
    ],
)
def test_a_codes_number_places_it_in_its_section(code: str, system: str, group: str) -> None:
    assert group_of(code, system) == group


def test_a_typed_code_range_is_parsed_and_finds_the_codes_inside_it(engine: SearchEngine) -> None:
    parsed = split_query("63650-63688 battery")
    (part,) = parsed.codes
    assert (part.kind, part.value, part.high, part.label) == ("range", "63650", "63688", "63650-63688")
    assert parsed.text.strip() == "battery"
    assert engine.search("63650-63688").codes == ["63650", "63685", "63688"]


def test_prefixes_and_system_qualified_codes_are_parsed_as_typed() -> None:
    prefix, qualified = split_query("636* cpt:63685").codes
    assert (prefix.kind, prefix.value, prefix.label) == ("prefix", "636", "636*")
    assert (qualified.kind, qualified.value, qualified.system, qualified.label) == ("exact", "63685", CPT, "cpt:63685")
