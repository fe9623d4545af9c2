"""Damaged index files (truncated or zeroed on disk): reported as damage with the command that
repairs it, and rollback restores service when an earlier generation reads cleanly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from procsearch.index.build import build_index
from procsearch.index.store import META, current_generation, generations, is_rolled_back
from procsearch.index.update import reindex
from support.reindex import (
    DocSet,
    assert_no_leftovers,
    expected_docs,
    newest_segment,
    open_damaged,
    run_cli,
    served_docs,
    write_synthetic,
)

from procsearch.cli import EXIT_INDEX, EXIT_OK
from procsearch.errors import REBUILD, ROLLBACK, Remedy

# --- 6. damaged index files ----------------------------------------------------------------------


def _truncate_newest_segment(generation: Path) -> None:
    segment = newest_segment(generation.parent)
    with open(segment, "r+b") as handle:
        handle.truncate(segment.stat().st_size // 2)


def _zero_toc(generation: Path) -> None:
    (toc,) = generation.glob("_MAIN_*.toc")
    size = toc.stat().st_size
    with open(toc, "r+b") as handle:
        handle.write(bytes(size))


def _empty_toc(generation: Path) -> None:
    (toc,) = generation.glob("_MAIN_*.toc")
    with open(toc, "r+b") as handle:
        handle.truncate(0)


def _zero_metadata(generation: Path) -> None:
    meta = generation / META
    size = meta.stat().st_size
    with open(meta, "r+b") as handle:
        handle.write(bytes(size))


DAMAGE = [
    pytest.param(_truncate_newest_segment, id="truncated-newest-segment"),
    pytest.param(_zero_toc, id="zeroed-toc"),
    pytest.param(_empty_toc, id="empty-toc"),
    pytest.param(_zero_metadata, id="zeroed-procsearch.json"),
]


@pytest.fixture()
def two_generations(small_corpus: Path, tmp_path: Path) -> tuple[Path, Path, DocSet, DocSet]:
    """An index whose current generation came from a re-index of the folder's previous state."""
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    old_docs = expected_docs(small_corpus)
    for number in range(3):
        write_synthetic(small_corpus, number, revision=1)
    write_synthetic(small_corpus, 80)
    reindex(small_corpus, index)
    new_docs = expected_docs(small_corpus)
    assert served_docs(index) == new_docs
    return index, small_corpus, old_docs, new_docs


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_newest_generation_is_reported_and_rollback_restores_service(
    damage, two_generations: tuple[Path, Path, DocSet, DocSet]
) -> None:  # type: ignore[no-untyped-def]
    index, corpus, old_docs, new_docs = two_generations
    damaged = current_generation(index)
    previous = next(g for g in generations(index) if g != damaged)
    damage(damaged)

    error = open_damaged(index)
    assert set(error.remedies) == {Remedy(ROLLBACK, index), Remedy(REBUILD, index)}

    result = run_cli("--index", index, "verify")
    assert result.returncode == EXIT_INDEX, result.stderr
    assert "damaged:" in result.stderr and f"procsearch --index {index} rollback" in result.stderr
    for args in (["search", "procedure"], ["reindex", corpus]):
        result = run_cli("--index", index, *args)
        assert result.returncode == EXIT_INDEX, (args, result.stderr)
        assert result.stderr.startswith("Error: ") and "rollback" in result.stderr, (args, result.stderr)

    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.strip() == f"{index} now serves {previous.name}."
    assert served_docs(index) == old_docs
    assert run_cli("--index", index, "verify").returncode == EXIT_OK

    # The damaged generation is kept, marked as rolled back (rollback --to could serve it again);
    # the next re-index removes it and serves the folder again.
    assert is_rolled_back(damaged)
    result = run_cli("--index", index, "reindex", corpus)
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == new_docs
    assert_no_leftovers(index)


def test_damage_to_a_segment_shared_by_both_generations_needs_a_rebuild(
    two_generations: tuple[Path, Path, DocSet, DocSet],
) -> None:
    """Generations share unchanged segments by hard link, so damage to one reaches both: rollback
    refuses with a clear message and the rebuild it names fixes the index."""
    index, corpus, _old_docs, new_docs = two_generations
    shared = max(
        (p for p in current_generation(index).glob("*.pst") if p.stat().st_nlink > 1), key=lambda p: p.stat().st_size
    )
    with open(shared, "r+b") as handle:
        handle.truncate(shared.stat().st_size // 2)

    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_INDEX, result.stderr
    assert f"No earlier generation of {index} reads cleanly" in result.stderr
    assert f"procsearch --index {index} index --rebuild" in result.stderr
    result = run_cli("--index", index, "index", "--rebuild", corpus)
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == new_docs
    assert run_cli("--index", index, "verify").returncode == EXIT_OK


def test_damage_found_while_searching_is_reported_as_a_damaged_index(
    two_generations: tuple[Path, Path, DocSet, DocSet],
) -> None:
    index, _corpus, _old_docs, _new_docs = two_generations
    pristine = index.with_name("pristine")
    shutil.copytree(index, pristine)
    problems = []
    # A zeroed block inside the newest segment: the segment still opens, and the damage shows up
    # only when a search reads the postings there (where depends on the layout, so try two places).
    for start, end in ((0.05, 0.2), (0.4, 0.6)):
        shutil.rmtree(index)
        shutil.copytree(pristine, index)
        segment = newest_segment(index)
        size = segment.stat().st_size
        with open(segment, "r+b") as handle:
            handle.seek(int(size * start))
            handle.write(bytes(int(size * end) - int(size * start)))
        assert run_cli("--index", index, "verify").returncode == EXIT_INDEX
        for args in (["search", "surgery"], ["search", "procedure"]):
            result = run_cli("--index", index, *args)
            if result.returncode not in (EXIT_OK, EXIT_INDEX) or "unexpected" in result.stderr:
                problems.append((start, args, result.returncode, result.stderr.strip()))
    assert problems == []
