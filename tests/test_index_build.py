from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from procsearch.index.build import build_index
from procsearch.index.errors import IndexMissingError, IndexUnsafeError, IndexVersionError
from procsearch.index.store import CURRENT, META, current_generation
from procsearch.ingest.errors import StrictModeError
from procsearch.ingest.skips import SkipReason
from procsearch.search.engine import SearchEngine

from procsearch.errors import BUILD, REBUILD, Remedy


@pytest.fixture()
def small_corpus(tmp_path: Path, fixtures: Path) -> Path:
    corpus = tmp_path / "pages"
    corpus.mkdir()
    for name in ("seed-63685.html", "variants-47562.html", "missing-sections-99213.html", "no-code.html"):
        shutil.copy(fixtures / name, corpus / name)
    return corpus


def test_build_records_its_own_metadata(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    report = build_index(small_corpus, index)
    assert report.indexed == 4 and report.skipped == ()
    generation = current_generation(index)
    meta = json.loads((generation / META).read_text())
    assert meta["document_count"] == 4
    assert meta["schema_version"] >= 1 and meta["package_version"] and meta["built_at"]
    with SearchEngine(index) as engine:
        stats = engine.stats()
    assert stats.document_count == 4
    assert stats.by_system == {"CPT": 3, "(none)": 1}


def test_skips_are_reported_and_strict_leaves_the_index_unchanged(
    small_corpus: Path, tmp_path: Path, fixtures: Path
) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    before = current_generation(index)
    shutil.copy(fixtures / "no-title.html", small_corpus / "no-title.html")
    with pytest.raises(StrictModeError, match="no-title.html: no title"):
        build_index(small_corpus, index, strict=True)
    assert current_generation(index) == before
    report = build_index(small_corpus, index)
    assert report.indexed == 4
    assert report.skipped_by_reason() == {SkipReason.NO_TITLE_OR_CONTENT: 1}


def test_interrupted_build_leaves_the_previous_index_serving(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    engine = SearchEngine(index)
    (small_corpus / "no-code.html").unlink()

    def interrupt(phase: str, done: int, total: int) -> None:
        if phase == "indexing":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(small_corpus, index, progress=interrupt)
    assert engine.stats().document_count == 4
    assert not list(index.glob("tmp-*")), "the half-built generation is removed"
    build_index(small_corpus, index)
    # A long-lived engine notices the new generation and reopens on it.
    assert engine.stats().document_count == 3
    assert len(list(index.glob("gen-*"))) == 2, "the previous generation is kept"
    engine.close()


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match=r"No index at .*nothing-here") as caught:
        SearchEngine(tmp_path / "nothing-here")
    assert caught.value.remedies == (Remedy(BUILD, tmp_path / "nothing-here"),)
    assert "procsearch" not in str(caught.value), "the library names no command: the CLI does"


def test_index_from_another_schema_version_names_the_rebuild_command(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    meta_path = current_generation(index) / META
    meta = json.loads(meta_path.read_text())
    meta["schema_version"] = 999
    meta_path.write_text(json.dumps(meta))
    # As another version would have published it: with checksums of what it wrote.
    from procsearch.index.manifest import PUBLISHED, write_manifest

    (index / PUBLISHED).write_text(json.dumps({meta_path.parent.name: write_manifest(meta_path.parent)}))
    with pytest.raises(IndexVersionError, match=r"schema 999") as caught:
        SearchEngine(index)
    assert caught.value.remedies == (Remedy(REBUILD, index),)


def test_refuses_an_index_directory_others_can_write(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    index.chmod(0o777)
    with pytest.raises(IndexUnsafeError, match="writable by other users"):
        SearchEngine(index)
    index.chmod(0o755)
    SearchEngine(index).close()


def test_current_pointer_is_a_single_line_naming_a_generation(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    name = (index / CURRENT).read_text().strip()
    assert name.startswith("gen-") and (index / name).is_dir()


@pytest.mark.slow
def test_a_parallel_build_holds_the_same_documents_and_ranking_as_a_single_process_one(
    tmp_path: Path, corpus_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from procsearch.corpus import bundled_corpus
    from procsearch.index import writing
    from procsearch.ingest.pages import load_pages

    # Large builds fork one worker per core, each writing segments of at most CHUNK_CHARS
    # characters; make the sample corpus large enough for that: 4 segments, 2 workers at a time.
    monkeypatch.setattr(writing, "PARALLEL_THRESHOLD", 100)
    monkeypatch.setattr(
        writing, "CHUNK_CHARS", sum(writing._text_size(doc) for doc in load_pages(bundled_corpus()).docs) // 4 + 1
    )
    monkeypatch.setattr(writing, "MAX_WORKERS", 2)
    index = tmp_path / "parallel"
    report = build_index(bundled_corpus(), index)
    assert report.indexed == 140
    generation = current_generation(index)
    assert len(list(generation.glob("*.trm"))) == 4
    with SearchEngine(index) as parallel, SearchEngine(corpus_index) as single:
        assert parallel.stats().document_count == 140
        for query in ("spinal cord stimulator", "knee replacement", "colonscopy", "63685", "risks:infection"):
            assert parallel.search(query, limit=5).codes == single.search(query, limit=5).codes, query


def test_parallel_chunks_cover_every_document_once_with_about_equal_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from procsearch.index import writing

    monkeypatch.setattr(writing, "CHUNK_CHARS", 1000)
    sizes = [100] * 25 + [900] + [50] * 40
    ranges = writing._chunks(sizes, 2)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(sizes)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    texts = [sum(sizes[start:stop]) for start, stop in ranges]
    assert len(ranges) == 6 and max(texts) <= 1000 + 900 and sum(texts) == sum(sizes)
    assert writing._chunks([10] * 3, 8) == [(0, 1), (1, 2), (2, 3)]  # never more ranges than documents
    assert writing._chunks([1, 1, 1, 100], 2) == [(0, 4)]  # never an empty range
    monkeypatch.setattr(writing, "CHUNK_CHARS", 10**9)
    assert writing._chunks([10] * 10, 2) == [(0, 5), (5, 10)]  # small: one range a worker
