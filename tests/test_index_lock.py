"""One writer at a time: a second writer gives up with exit 4, a killed writer's lock never blocks
the next run, and writers that wait run one after the other."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from procsearch.index.build import build_index
from procsearch.index.store import current_generation
from support.reindex import (
    CLI_CWD,
    CLI_ENV,
    CLI_TIMEOUT,
    PROCSEARCH,
    KillCorpora,
    assert_no_leftovers,
    expected_docs,
    run_cli,
    served_docs,
    write_synthetic,
)

from procsearch.cli import EXIT_LOCKED, EXIT_OK, EXIT_SKIPPED

# --- 5. one writer at a time ---------------------------------------------------------------------

LOCK_HOLDER = r"""
import sys
from pathlib import Path
from procsearch.index.lock import writer_lock

with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()  # hold the lock until the test closes stdin (or kills this process)
"""


@pytest.fixture()
def lock_holder(small_corpus: Path, tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(index)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=CLI_ENV,
        cwd=CLI_CWD,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield index, holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)
        for pipe in (holder.stdin, holder.stdout):
            if pipe is not None:
                pipe.close()


def test_a_second_writer_gives_up_with_exit_4_and_nothing_is_lost(
    lock_holder: tuple[Path, subprocess.Popen[str]], small_corpus: Path
) -> None:
    index, holder = lock_holder
    before = served_docs(index)
    generation = current_generation(index)
    write_synthetic(small_corpus, 70)
    write_synthetic(small_corpus, 1, revision=1)

    for args in (
        ["reindex", small_corpus, "--lock-timeout", "1"],
        ["index", small_corpus, "--lock-timeout", "0.2"],
        ["rollback", "--lock-timeout", "0"],
    ):
        result = run_cli("--index", index, *args, timeout=30)
        assert result.returncode == EXIT_LOCKED, (args, result.stderr)
        assert f"Another procsearch process is writing the index at {index}" in result.stderr
        assert "--lock-timeout" in result.stderr and result.stdout == ""
    assert current_generation(index) == generation and served_docs(index) == before
    assert not list(index.glob("tmp-*"))

    assert holder.stdin is not None
    holder.stdin.close()  # the first writer finishes
    holder.wait(timeout=30)
    result = run_cli("--index", index, "reindex", small_corpus)
    assert result.returncode == EXIT_OK, result.stderr
    assert "1 added, 1 updated, 0 deleted" in result.stdout
    assert served_docs(index) == expected_docs(small_corpus)


def test_a_lock_left_by_a_killed_process_never_blocks_the_next_run(
    lock_holder: tuple[Path, subprocess.Popen[str]], small_corpus: Path
) -> None:
    index, holder = lock_holder
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    write_synthetic(small_corpus, 71)
    result = run_cli("--index", index, "reindex", small_corpus)  # --lock-timeout 0
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == expected_docs(small_corpus)


@pytest.mark.slow
def test_writers_that_wait_for_the_lock_run_one_after_the_other(kill_corpora: KillCorpora, kill_index: Path) -> None:
    argv = [*PROCSEARCH, "--index", str(kill_index), "reindex", str(kill_corpora.new), "--lock-timeout", "60"]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CLI_ENV, cwd=CLI_CWD)
    second = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CLI_ENV, cwd=CLI_CWD)
    outputs = [first.communicate(timeout=CLI_TIMEOUT), second.communicate(timeout=CLI_TIMEOUT)]
    assert (first.returncode, second.returncode) == (EXIT_SKIPPED, EXIT_SKIPPED), outputs
    summaries = sorted(out for out, _err in outputs)
    assert "0 added, 0 updated, 0 deleted" in summaries[0], "the later writer found nothing left to do"
    assert "15 added, 30 updated, 10 deleted" in summaries[1]
    assert served_docs(kill_index) == kill_corpora.new_docs
    assert_no_leftovers(kill_index)
