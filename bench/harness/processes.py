"""The benchmark's child processes: each build runs in its own, measured from outside (peak
memory via os.wait4, the summed PSS of its process tree), and each cold search is a new process."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines import Adapter, adapters
from .memory import TreeMemorySampler, rss_mb

BENCH_DIR = Path(__file__).resolve().parent.parent


@dataclass
class BuildFigures:
    """What one build child reports, plus what the parent measured around it."""

    engine: str
    seconds: float
    """Whole build: reading the records, indexing, committing (inside the child)."""
    indexing_seconds: float | None
    """The part after every record had been read."""
    documents: int
    peak_rss_mb: float
    """ru_maxrss of the child process (its largest resident set), from os.wait4."""
    peak_tree_pss_mb: float | None
    """Peak of the summed PSS of the child and its worker processes, sampled every 0.2 s: unlike
    ru_maxrss it counts worker processes, and memory they share (fork) only once. None off Linux."""
    rss_after_reading_mb: float | None
    """The child's peak resident set once the records were read, before indexing."""
    process_seconds: float
    """Wall time of the child process, interpreter start and imports included."""
    size_bytes: int
    worker_processes_peak_rss_mb: float = 0.0
    """ru_maxrss of the child's own children, if the build used worker processes (not summed)."""
    detail: dict[str, Any] = field(default_factory=dict)


def child_argv(*args: str) -> list[str]:
    """A Python command that imports the harness and runs :func:`child_main` with ``args``."""
    boot = f"import sys; sys.path.insert(0, {str(BENCH_DIR)!r}); from harness.processes import child_main; child_main(sys.argv[1:])"
    return [sys.executable, "-c", boot, *args]


def child_main(argv: Sequence[str]) -> None:
    """Entry point of the child processes: ``build ENGINE TARGET RESULT SOURCES`` (sources
    comma-separated) or ``cold ENGINE INDEX QUERY``."""
    mode, engine, path, *rest = argv
    adapter = adapters()[engine]
    if mode == "build":
        result_file, sources = rest
        result = adapter.build(Path(path), sources.split(","))
        result["worker_processes_peak_rss_mb"] = rss_mb(children=True)
        Path(result_file).write_text(json.dumps(result), encoding="utf-8")
    elif mode == "cold":
        (query,) = rest
        for code, snippet in adapter.open(Path(path)).search(query):
            print(f"{code}  {snippet}")
    else:
        raise SystemExit(f"unknown child mode {mode!r}")


def measured_build(adapter: Adapter, target: Path, sources: Sequence[str], scratch: Path) -> BuildFigures:
    """Build one engine's index in a child process and measure it (peak memory via os.wait4)."""
    result_file = scratch / f"build-{adapter.name}.json"
    argv = child_argv("build", adapter.name, str(target), str(result_file), ",".join(sources))
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, dict(os.environ))
    sampler = TreeMemorySampler(pid)
    sampler.start()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    peak_tree = sampler.stop()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"building the {adapter.label} index failed (exit code {code}); see the messages above")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    return BuildFigures(
        engine=adapter.name,
        seconds=result["seconds"],
        indexing_seconds=result.get("indexing_seconds"),
        documents=result["documents"],
        peak_rss_mb=usage.ru_maxrss / 1024,
        peak_tree_pss_mb=peak_tree,
        rss_after_reading_mb=result.get("rss_after_reading_mb"),
        process_seconds=wall,
        size_bytes=adapter.size_bytes(target),
        worker_processes_peak_rss_mb=result.get("worker_processes_peak_rss_mb", 0.0),
        detail=result.get("detail", {}),
    )


def cold_argv(adapter: Adapter, index: Path, query: str) -> list[str]:
    """One search process: the engine's own command, or a minimal Python process for the others."""
    return adapter.console_command(index, query) or child_argv("cold", adapter.name, str(index), query)
