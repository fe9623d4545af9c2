"""What a run may publish: guards against wiping the index, and every source rebuilt.

The index on disk is the real thing (built from real pages, opened the way a user opens it); the
CLI runs as a separate process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from procsearch.index.build import build_index
from procsearch.index.errors import DeletionLimitError
from procsearch.index.store import current_generation
from procsearch.index.update import reindex
from test_index_reindex import SMALL_FIXTURES, expected_docs, make_corpus, run_cli, served_docs, write_synthetic

from procsearch.cli import EXIT_ERROR, EXIT_OK


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """Four fixture pages and eight synthetic ones: twelve documents, all valid."""
    return make_corpus(tmp_path / "pages", fixtures=SMALL_FIXTURES, medlineplus=False, synthetic=range(8))


@pytest.fixture()
def built(small_corpus: Path, tmp_path: Path) -> Path:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    return index


# --- 1. an empty or wrong folder never wipes the index -------------------------------------------


@pytest.mark.parametrize("command", ["index", "reindex"])
def test_an_empty_folder_is_refused_and_the_index_keeps_serving(
    command: str, built: Path, small_corpus: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    before = current_generation(built)
    result = run_cli("--index", built, command, empty)
    assert result.returncode == EXIT_ERROR, result.stdout + result.stderr
    assert "every one of the 12 documents" in result.stderr and "--allow-empty" in result.stderr
    assert result.stdout == ""
    assert current_generation(built) == before
    assert served_docs(built) == expected_docs(small_corpus)

    result = run_cli("--index", built, command, empty, "--allow-empty")
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(built) == frozenset()


@pytest.mark.parametrize("command", ["index", "reindex"])
def test_a_run_that_drops_most_documents_names_the_numbers_and_the_flag(
    command: str, built: Path, small_corpus: Path
) -> None:
    for number in range(7):
        (small_corpus / f"proc-{21000 + number}.html").unlink()
    before = served_docs(built)
    result = run_cli("--index", built, command, small_corpus)
    assert result.returncode == EXIT_ERROR, result.stderr
    assert "remove 7 of the 12 documents" in result.stderr and "5 would remain" in result.stderr
    assert "at most 6 may be removed" in result.stderr and "--max-delete 7" in result.stderr
    assert served_docs(built) == before

    assert run_cli("--index", built, command, small_corpus, "--max-delete", "6").returncode == EXIT_ERROR
    result = run_cli("--index", built, command, small_corpus, "--max-delete", "7")
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(built) == expected_docs(small_corpus)


def test_a_wrong_folder_of_as_many_other_pages_is_refused(built: Path, tmp_path: Path) -> None:
    other = make_corpus(tmp_path / "other", fixtures=(), medlineplus=False, synthetic=range(100, 112))
    before = served_docs(built)
    result = run_cli("--index", built, "index", other)
    assert result.returncode == EXIT_ERROR, result.stderr
    assert "remove 12 of the 12 documents" in result.stderr and "12 would remain" in result.stderr
    assert served_docs(built) == before


def test_the_library_takes_the_same_limits(built: Path, small_corpus: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    before = current_generation(built)
    for run in (build_index, reindex):
        with pytest.raises(DeletionLimitError) as caught:
            run(empty, built)
        assert (caught.value.serving, caught.value.deleting, caught.value.remaining) == (12, 12, 0)
        assert current_generation(built) == before
    for number in range(3):  # a quarter of the documents: within the default limit
        (small_corpus / f"proc-{21000 + number}.html").unlink()
    write_synthetic(small_corpus, 30)
    with pytest.raises(DeletionLimitError):
        reindex(small_corpus, built, max_delete=2)
    assert reindex(small_corpus, built).deleted == 3
    assert build_index(empty, built, allow_empty=True).indexed == 0
