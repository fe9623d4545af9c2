"""The field table is the one definition of the fields: the schema, the default weights, the
labels and the roles all derive from it, and the heading rules cover exactly its sections."""

from __future__ import annotations

from procsearch.index.schema import SNIPPET_FIELDS, TEXT_FIELDS, build_schema
from procsearch.ingest.sections import SECTION_NAMES, SECTIONS, section_label
from procsearch.search.snippets import _label
from procsearch.search.spelling import POPULARITY_FIELDS
from procsearch.search.weights import DEFAULT_WEIGHTS, EXPANSION_FIELDS
from whoosh.fields import ID, KEYWORD, STORED, TEXT

from procsearch import fields


def test_the_schema_has_exactly_the_fields_of_the_table_each_of_its_kind() -> None:
    schema = build_schema()
    assert sorted(schema.names()) == sorted(f.name for f in fields.FIELDS)
    kinds = {fields.TEXT: TEXT, fields.ID: ID, fields.STORED: STORED, fields.WORDS: KEYWORD}
    for field in fields.FIELDS:
        assert type(schema[field.name]) is kinds[field.kind], field.name
    assert schema["code"].unique and not schema["source"].unique


def test_weights_labels_and_roles_come_from_the_table() -> None:
    assert {f.name: f.weight for f in fields.FIELDS if f.kind == fields.TEXT} == DEFAULT_WEIGHTS
    assert list(DEFAULT_WEIGHTS) == list(TEXT_FIELDS) == ["title", "names", *SECTION_NAMES, "other", "similar"]
    assert (*SECTION_NAMES, "other", "similar") == SNIPPET_FIELDS
    assert EXPANSION_FIELDS == POPULARITY_FIELDS == ("title", "names", "summary")
    assert fields.FACET_FIELDS == ("code_system", "group")
    assert section_label("risks") == _label("risks") == "Risks and Complications"
    assert _label("similar") == "Similar Codes" and section_label("other") == "Other"


def test_the_heading_rules_cover_exactly_the_sections_of_the_table() -> None:
    assert tuple(section.name for section in SECTIONS) == SECTION_NAMES
    assert tuple(f.name for f in fields.FIELDS if f.section) == SECTION_NAMES
    for section in SECTIONS:
        assert section.label == fields.label(section.name) and section.weight == DEFAULT_WEIGHTS[section.name]
        assert section.aliases, section.name
