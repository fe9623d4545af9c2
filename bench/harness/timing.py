"""Timing searches: warm latency over a query mix (each query under a deadline), and cold processes."""

from __future__ import annotations

import os
import shlex
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .engines import Searcher
from .percentiles import percentile
from .queries import BenchQuery

QUERY_TIMEOUT = 30.0
"""Seconds after which a warm query is interrupted and counted as a failure."""
COLD_TIMEOUT = 120.0


@dataclass
class LatencyFigures:
    """Warm latency of one engine over the query mix."""

    engine: str
    queries: int
    samples: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    failures: int
    failure_examples: list[str]
    slowest: list[tuple[str, float]]
    """The slowest queries (text, ms), slowest first."""
    no_hits: int
    answered_in_top10: int
    with_answers: int
    partial: int = 0
    first_p50_ms: float = 0.0
    first_p95_ms: float = 0.0
    """The same percentiles for each query's first run (engine open, nothing of that query cached)."""


class QueryTimeout(Exception):
    """A query ran past QUERY_TIMEOUT seconds (and was interrupted)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise QueryTimeout in the block after ``seconds`` (SIGALRM; the main thread on POSIX), so
    one runaway query is counted as a failure instead of stalling the benchmark."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise QueryTimeout(f"still running after {seconds:g} s, interrupted")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def measure_latency(engine: str, searcher: Searcher, queries: Sequence[BenchQuery], repeat: int) -> LatencyFigures:
    """One untimed pass (counts failures, empty results and answers in the top 10), then
    ``repeat`` timed passes over the queries that did not fail; every timing is one sample."""
    failures: list[str] = []
    failed: set[str] = set()
    no_hits = answered = 0
    first: list[float] = []
    for query in queries:
        started = time.perf_counter()
        try:
            with deadline(QUERY_TIMEOUT):
                hits = searcher.search(query.text)
        except Exception as exc:  # any engine error on a query counts as a failure
            failures.append(f"{query.text!r}: {type(exc).__name__}: {exc}")
            failed.add(query.text)
            continue
        first.append(time.perf_counter() - started)
        no_hits += not hits
        answered += bool(query.acceptable) and any(query.accepts(code) for code, _ in hits)
    samples: list[float] = []
    slowest: dict[str, float] = {}
    for _ in range(repeat):
        for query in queries:
            if query.text in failed:
                continue
            started = time.perf_counter()
            try:
                with deadline(QUERY_TIMEOUT):
                    searcher.search(query.text)
            except Exception as exc:
                failures.append(f"{query.text!r} (timed pass): {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            samples.append(elapsed)
            slowest[query.text] = max(elapsed, slowest.get(query.text, 0.0))
    samples.sort()
    if not samples:
        raise RuntimeError(f"every query failed on {engine}: {failures[:3]}")
    return LatencyFigures(
        engine=engine,
        queries=len(queries),
        samples=len(samples),
        p50_ms=percentile(samples, 0.50) * 1000,
        p95_ms=percentile(samples, 0.95) * 1000,
        mean_ms=statistics.fmean(samples) * 1000,
        max_ms=samples[-1] * 1000,
        failures=len(failures),
        failure_examples=failures[:5],
        slowest=[(text, ms * 1000) for text, ms in sorted(slowest.items(), key=lambda item: -item[1])[:10]],
        no_hits=no_hits,
        answered_in_top10=answered,
        with_answers=sum(1 for q in queries if q.acceptable),
        partial=getattr(searcher, "partial", 0),
        first_p50_ms=percentile(sorted(first), 0.50) * 1000,
        first_p95_ms=percentile(sorted(first), 0.95) * 1000,
    )


def measure_cold(argv: Sequence[str], runs: int, pycache: Path) -> list[float]:
    """Wall seconds of ``runs`` search processes, after one untimed run which warms the OS file
    cache and the bytecode cache: 'cold' means a new process, not a cold disk or an install that
    never compiled its modules. Bytecode goes to ``pycache`` (PYTHONPYCACHEPREFIX), not into the
    source tree, and is written even where PYTHONDONTWRITEBYTECODE is set."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(
            list(argv),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env=env,
            timeout=COLD_TIMEOUT,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} exited with {done.returncode}: {done.stderr.strip()[-500:]}")
        if attempt:
            times.append(elapsed)
    return times
