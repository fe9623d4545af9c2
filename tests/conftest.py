"""Shared fixtures: the fixture folder, and one index over the bundled corpus for the session."""

from __future__ import annotations

from pathlib import Path

import pytest
from procsearch.corpus import bundled_corpus
from procsearch.index.build import IndexReport, build_index
from procsearch.search.engine import SearchEngine

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
