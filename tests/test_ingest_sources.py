"""The source registry: the builder, reindex and the CLI's --source choices all read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from procsearch.index.build import build_index
from procsearch.ingest.record import ProcedureDoc
from procsearch.ingest.sources import GENERATED_PREFIXES, SOURCE_NAMES, SOURCES, is_generated, source_of


def test_every_source_is_named_once_and_only_generated_ones_carry_a_prefix() -> None:
    assert SOURCE_NAMES == ("pages", "icd10pcs")
    assert len(set(SOURCE_NAMES)) == len(SOURCES)
    assert all(bool(source.prefix) == source.generated for source in SOURCES)
    assert GENERATED_PREFIXES == ("icd10pcs:",)
    assert is_generated("icd10pcs:0DTJ4ZZ") and not is_generated("icd10pcs.html")
    assert source_of("icd10pcs:0DTJ4ZZ").name == "icd10pcs" and source_of("a/b.html").name == "pages"


def test_the_cli_offers_the_registered_sources(run) -> None:  # type: ignore[no-untyped-def]
    result = run("index", "--help")
    assert result.exit_code == 0, result.output
    assert "[" + "|".join(SOURCE_NAMES) + "]" in result.output


def test_an_unknown_source_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown source 'bogus'; choose from pages, icd10pcs"):
        build_index(tmp_path, tmp_path / "ix", sources=("bogus",))


def test_build_index_takes_records_and_counts_them_by_source(tmp_path: Path) -> None:
    records = [
        ProcedureDoc(code="63685", code_system="CPT", title="Stimulator battery", source="a.html"),
        ProcedureDoc(
            code="0DTJ4ZZ", code_system="ICD-10-PCS", title="Resection of Appendix", source="icd10pcs:0DTJ4ZZ"
        ),
    ]
    report = build_index(None, tmp_path / "ix", records=records)
    assert (report.indexed, report.sources, report.skipped) == (2, {"pages": 1, "icd10pcs": 1}, ())
