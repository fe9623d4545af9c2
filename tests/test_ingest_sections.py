from __future__ import annotations

import pytest
from procsearch.index.schema import TEXT_FIELDS, build_schema
from procsearch.ingest.sections import NAMES, OTHER, SECTION_NAMES, SECTIONS, SIMILAR, SKIP, match_heading
from procsearch.search.weights import DEFAULT_WEIGHTS


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Risks and Complications", "risks"),
        ("Complications", "risks"),
        ("RISKS:", "risks"),
        ("Are there any risks to the test?", "risks"),
        ("Aftercare", "recovery"),
        ("Why it's done", "purpose"),
        ("Why it\u2019s done", "purpose"),
        ("What is it used for?", "purpose"),
        ("How it's done", "procedure"),
        ("What happens during a laparoscopy?", "procedure"),
        ("Overview", "summary"),
        ("What is a laparoscopy?", "summary"),
        ("Why do I need a laparoscopy?", "indications"),
        ("Will I need to do anything to prepare for the test?", "preparation"),
        ("How long it takes", "duration"),
        ("Where it's done", "setting"),
        ("Who performs it", "personnel"),
        ("Other options", "alternatives"),
        ("What it feels like", "experience"),
        ("Name of the Procedure:", NAMES),
        ("Similar Codes", SIMILAR),
        ("Related codes", SIMILAR),
        # References are kept, ranked low; a list of related links is furniture.
        ("References", OTHER),
        ("Related health topics", SKIP),
        ("Why Get Tested?", "purpose"),
        ("When To Get Tested?", "indications"),
        ("Also known as", NAMES),
        ("AKA", NAMES),
        ("Synonyms", NAMES),
        ("What do the results mean?", "other"),
        ("Cost and insurance", "other"),
        # Sub-labels end in a colon and stay inside their section.
        ("How long the procedure typically takes:", None),
        ("Common and rare risks associated with the procedure:", None),
    ],
)
def test_headings_map_to_sections(heading: str, expected: str | None) -> None:
    assert match_heading(heading) == expected


def test_schema_and_weights_derive_from_the_one_section_table() -> None:
    schema_fields = set(build_schema().names())
    for name in SECTION_NAMES:
        assert name in schema_fields
        assert name in TEXT_FIELDS
        assert DEFAULT_WEIGHTS[name] == next(s.weight for s in SECTIONS if s.name == name)
    assert OTHER in schema_fields
    assert set(DEFAULT_WEIGHTS) == set(TEXT_FIELDS)


def test_title_and_names_outweigh_summary_which_outweighs_alternatives_risks_similar() -> None:
    w = DEFAULT_WEIGHTS
    assert w["title"] > 2 * w["summary"] and w["names"] > 2 * w["summary"]
    assert min(w["summary"], w["purpose"]) > max(w["alternatives"], w["risks"], w["similar"])
