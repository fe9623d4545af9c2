"""Crash safety: the writer (``python -m procsearch.cli``) is SIGKILLed at any moment and at each
named step of publishing (a real process kills itself when it reaches a chosen library
function); the index then serves the old or the new state, and the next run recovers."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from procsearch.index.store import generations
from support.reindex import (
    CLI_CWD,
    CLI_ENV,
    CLI_TIMEOUT,
    PROCSEARCH,
    KillCorpora,
    check_after_crash,
    expected_docs,
    next_run_recovers,
    run_cli,
    served_docs,
    write_synthetic,
)

from procsearch.cli import EXIT_OK, EXIT_SKIPPED

# --- 3. SIGKILL the writer at any moment ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("command", "kills"), [("reindex", 17), ("index", 8)])
def test_sigkill_at_any_moment_leaves_the_old_or_the_new_index(
    command: str, kills: int, kill_corpora: KillCorpora, kill_index: Path
) -> None:
    index = kill_index
    argv = [*PROCSEARCH, "--index", str(index), command, str(kill_corpora.new)]
    # Measure one full run (old -> new), then go back to the old state.
    started = time.monotonic()
    result = run_cli(*argv[len(PROCSEARCH) :])
    duration = time.monotonic() - started
    assert result.returncode == EXIT_SKIPPED, result.stderr
    assert served_docs(index) == kill_corpora.new_docs
    next_run_recovers(index, kill_corpora, "after the measured run")

    outcomes: list[tuple[float, str]] = []
    for attempt in range(kills):
        delay = 1.15 * duration * attempt / (kills - 1)
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=CLI_ENV, cwd=CLI_CWD)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=CLI_TIMEOUT)
        what = f"{command} SIGKILLed after {delay:.2f} s of a {duration:.2f} s run"
        served = check_after_crash(index, kill_corpora, what)
        outcomes.append((round(delay, 2), "new" if served == kill_corpora.new_docs else "old"))
        next_run_recovers(index, kill_corpora, what)
    print(f"{command}: run {duration:.2f} s; (delay, state after SIGKILL): {outcomes}")


KILL_HOOK = r"""
import importlib, os, signal, sys
command, index, corpus, module, attribute, when = sys.argv[1:7]
target = importlib.import_module(module)
original = getattr(target, attribute)

def hooked(*args, **kwargs):
    if when == "pointer" and os.path.basename(str(args[1])) != "CURRENT":
        return original(*args, **kwargs)
    if when == "after":
        original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

setattr(target, attribute, hooked)
from procsearch.cli import main
sys.argv = ["procsearch", "--index", index, command, corpus]
main()
"""
"""Run the real CLI, but SIGKILL the process when it reaches ``module.attribute`` (before or
after the call; "pointer": at the os.replace that swaps CURRENT)."""


def kill_at(command: str, index: Path, corpus: Path, module: str, attribute: str, when: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", KILL_HOOK, command, str(index), str(corpus), module, attribute, when],
        capture_output=True,
        text=True,
        env=CLI_ENV,
        cwd=CLI_CWD,
        timeout=CLI_TIMEOUT,
    )
    assert result.returncode == -signal.SIGKILL, f"{module}.{attribute} was never reached: {result.stderr}"


KILL_POINTS = [
    # command, module, attribute, when, state served after the kill
    ("reindex", "procsearch.index.update", "_link_copy", "after", "old"),
    ("reindex", "procsearch.index.update", "write_meta", "before", "old"),  # Whoosh commit done, no metadata
    ("reindex", "procsearch.index.generations", "fsync_tree", "before", "old"),
    ("reindex", "procsearch.index.generations", "point_current", "before", "old"),  # generation renamed, not pointed to
    ("reindex", "os", "replace", "pointer", "old"),  # CURRENT.tmp-* written, not swapped in
    ("reindex", "procsearch.index.update", "clean_leftovers", "before", "new"),
    ("index", "procsearch.index.build", "clean_leftovers", "before", "new"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "module", "attribute", "when", "state"),
    KILL_POINTS,
    ids=[f"{c}-{a}-{w}" for c, _m, a, w, _s in KILL_POINTS],
)
def test_sigkill_at_each_step_of_publishing(
    command: str, module: str, attribute: str, when: str, state: str, kill_corpora: KillCorpora, kill_index: Path
) -> None:
    kill_at(command, kill_index, kill_corpora.new, module, attribute, when)
    served = check_after_crash(kill_index, kill_corpora, f"killed at {attribute}")
    assert served == (kill_corpora.new_docs if state == "new" else kill_corpora.old_docs)
    next_run_recovers(kill_index, kill_corpora, f"after a kill at {attribute}")


@pytest.mark.slow
def test_rollback_never_serves_a_generation_that_was_never_published(
    kill_corpora: KillCorpora, kill_index: Path, tmp_path: Path
) -> None:
    index = kill_index
    third = tmp_path / "third"
    shutil.copytree(kill_corpora.old, third)
    write_synthetic(third, 300)
    third_docs = expected_docs(third)
    assert run_cli("--index", index, "reindex", third).returncode == EXIT_SKIPPED
    assert run_cli("--index", index, "reindex", kill_corpora.old).returncode == EXIT_SKIPPED
    served_before = {g.name for g in generations(index)}
    kill_at("reindex", index, kill_corpora.new, "procsearch.index.generations", "point_current", "before")
    next_run_recovers(index, kill_corpora, "after a kill between rename and pointer swap")
    assert {g.name for g in generations(index)} <= served_before, "an unpublished generation is kept"
    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == third_docs, "rollback must restore the previously served state"
