"""Readers during re-indexes: a reader process searching while generations are swapped sees only
complete generations."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from procsearch.index.build import build_index
from procsearch.index.store import current_generation
from support.reindex import (
    CLI_CWD,
    CLI_ENV,
    SMALL_FIXTURES,
    assert_no_leftovers,
    expected_docs,
    make_corpus,
    run_cli,
    served_docs,
    synthetic_code,
    write_synthetic,
)

from procsearch.cli import EXIT_OK

# --- 4. readers during re-indexes ----------------------------------------------------------------

READER = r"""
import json, sys, time, traceback
from pathlib import Path
from procsearch.search.engine import SearchEngine

index, stop, log = map(Path, sys.argv[1:4])
engine = SearchEngine(index)  # one long-lived engine, as in a server
with open(log, "a", encoding="utf-8", buffering=1) as out:
    while not stop.exists():
        try:
            stats = engine.stats()
            codes = engine.search("procedure OR surgery OR patients", limit=1000).codes
            record = {"generation": stats.generation, "count": stats.document_count, "hits": len(codes),
                      "duplicates": sorted({c for c in codes if codes.count(c) > 1})}
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
            record = {"error": f"{type(exc).__name__}: {exc} (at {where})"}
        out.write(json.dumps(record) + "\n")
        time.sleep(0.02)  # leave the writers some CPU on a small machine
engine.close()
"""
"""A reader process: searches in a loop with one SearchEngine and logs one JSON line per round."""


def _reader_records(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.endswith("}")]


def _wait_until_reader_sees(generation: str, log: Path, reader: subprocess.Popen[bytes]) -> None:
    """Wait until the reader has searched ``generation`` (or failed); bounded, so a hang fails."""
    deadline = time.monotonic() + 60
    while True:
        records = _reader_records(log)
        if any(r.get("generation") == generation or "error" in r for r in records):
            return
        assert reader.poll() is None, "the reader process died"
        assert time.monotonic() < deadline, f"the reader never reached {generation}"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_reader_sees_only_complete_generations_during_many_reindexes(tmp_path: Path) -> None:
    one = make_corpus(tmp_path / "one", fixtures=SMALL_FIXTURES, medlineplus=False, synthetic=range(30))
    two = tmp_path / "two"
    shutil.copytree(one, two)
    for number in range(3):
        write_synthetic(two, number, revision=1)
    for number in range(28, 30):
        (two / f"proc-{synthetic_code(number)}.html").unlink()
    for number in range(30, 35):
        write_synthetic(two, number)
    counts = {len(expected_docs(one)), len(expected_docs(two))}
    assert counts == {34, 37}
    index = tmp_path / "ix"
    build_index(one, index)
    stop, log = tmp_path / "stop", tmp_path / "reader.log"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(index), str(stop), str(log)],
        env=CLI_ENV,
        cwd=CLI_CWD,
        stderr=subprocess.PIPE,
    )
    published = []
    try:
        _wait_until_reader_sees(current_generation(index).name, log, reader)
        for run in range(20):
            # Each re-index is its own process, as when run from cron.
            result = run_cli("--index", index, "reindex", two if run % 2 == 0 else one)
            assert result.returncode == EXIT_OK, result.stderr
            published.append(current_generation(index).name)
            # The reader must search every published generation at least once.
            _wait_until_reader_sees(published[-1], log, reader)
    finally:
        stop.touch()
        _, stderr = reader.communicate(timeout=60)
    assert reader.returncode == 0, stderr.decode()
    records = _reader_records(log)
    errors = [r["error"] for r in records if "error" in r]
    assert errors == [], errors[:5]
    assert {r["count"] for r in records} == counts, "every observed count is one of the two states"
    assert [r for r in records if r["duplicates"]] == []
    assert set(published) <= {r["generation"] for r in records}
    assert served_docs(index) == expected_docs(one)
    assert_no_leftovers(index)
