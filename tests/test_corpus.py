"""The bundled sample corpus: every code of corpus-codes.tsv, fully parsed, nothing skipped."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from procsearch.corpus import bundled_corpus
from procsearch.index.build import IndexReport
from procsearch.search.engine import SearchEngine

CODES_FILE = Path(__file__).parent / "fixtures" / "corpus-codes.tsv"
# Tests, imaging, laboratory, visits, anesthesia and services need fewer sections than procedures.
SHORT_GROUPS = {"Radiology", "Laboratory", "Evaluation and management", "Anesthesia"}
SHORT_CODES = {
    "93000",
    "93306",
    "93015",
    "94010",
    "95810",
    "93880",
    "95907",  # tests in the Medicine section
    "31231",
    "31622",
    "43239",
    "45378",
    "93458",
    "36415",  # diagnostic endoscopies, catheterisation, blood draw
    "G0439",
    "A0427",
    "E0601",  # visit, transport, equipment
}


def corpus_codes() -> list[dict[str, str]]:
    with CODES_FILE.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.slow
def test_every_code_is_indexed_with_title_system_similar_codes_and_sections(
    corpus_build: tuple[Path, IndexReport], engine: SearchEngine
) -> None:
    _, report = corpus_build
    assert report.skipped == (), [s.to_dict() for s in report.skipped]
    rows = corpus_codes()
    assert len(rows) == 140
    assert report.indexed == len(rows)
    for row in rows:
        doc = engine.get(row["code"])
        assert doc.title, row["code"]
        assert doc.code_system == row["system"], row["code"]
        assert doc.similar_codes, row["code"]
        assert all(s.code != doc.code for s in doc.similar_codes)
        minimum = 5 if row["group"] in SHORT_GROUPS or row["code"] in SHORT_CODES else 10
        assert len(doc.sections) >= minimum, (row["code"], sorted(doc.sections))
        text = " ".join([doc.title, *doc.common_names, *doc.sections.values()])
        for mojibake in ("\u00c3", "\u00e2\u20ac", "\ufffd"):
            assert mojibake not in text, (row["code"], mojibake)


def test_corpus_mixes_encodings_and_templates() -> None:
    pages = sorted(bundled_corpus().glob("*.html"))
    raw = [page.read_bytes() for page in pages]
    assert sum(data.startswith(b"\xef\xbb\xbf") for data in raw) >= 1, "a page with a UTF-8 BOM"
    assert sum(b"windows-1252" in data[:2000].lower() for data in raw) >= 3, "Windows-1252 pages"
    assert sum(b"<h2" in data and b"<table" not in data and b"cookie" not in data for data in raw) >= 20
    assert sum(b"<dl" in data and b"<table" in data for data in raw) >= 20
    assert sum(b"<article" in data and b"cookie" in data for data in raw) >= 20


@pytest.mark.slow
def test_corpus_is_found_after_a_non_editable_install(tmp_path: Path) -> None:
    project = Path(__file__).resolve().parent.parent
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(project)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    script = "from procsearch.corpus import bundled_corpus; p = bundled_corpus(); print(p); print(len(list(p.glob('*.html'))))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        check=True,
    )
    location, count = result.stdout.split()
    assert Path(location).is_relative_to(target)
    assert int(count) == 140
