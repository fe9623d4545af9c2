"""procsearch as the scale benchmark runs it: its own full build, and SearchEngine with its defaults."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .engines import LIMIT, directory_size
from .memory import rss_mb

CONSOLE_SCRIPT = Path(sys.executable).parent / "procsearch"


class ProcsearchSearcher:
    """procsearch's SearchEngine, defaults (vocabulary, typo correction, snippets) and all."""

    def __init__(self, index: Path) -> None:
        from procsearch.search.engine import SearchEngine

        self.engine = SearchEngine(index)
        self.partial = 0

    def search(self, text: str) -> list[tuple[str, str]]:
        results = self.engine.search(text, limit=LIMIT)
        self.partial += bool(results.partial)
        return [(hit.code, hit.snippet.text if hit.snippet else "") for hit in results.hits]


class ProcsearchAdapter:
    name = "procsearch"
    label = "procsearch"
    description = "the query as typed (its own parsing, vocabulary expansion and typo correction are measured)"

    def build(self, target: Path, sources: Sequence[str]) -> dict[str, Any]:
        """procsearch's own full build: build_index(bundled corpus, sources=sources)."""
        from procsearch.corpus import bundled_corpus
        from procsearch.index.build import build_index

        reading: dict[str, float] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase.startswith("reading"):  # the last reading event comes after the last record
                reading["done"] = time.perf_counter()
                reading["rss"] = rss_mb()

        started = time.perf_counter()
        report = build_index(bundled_corpus(), target, sources=tuple(sources), progress=progress)
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "indexing_seconds": seconds - (reading["done"] - started) if "done" in reading else None,
            "rss_after_reading_mb": reading.get("rss"),
            "documents": report.indexed,
            "detail": {"sources": report.sources, "skipped": len(report.skipped), "generation": report.generation},
        }

    def open(self, path: Path) -> ProcsearchSearcher:
        return ProcsearchSearcher(path)

    def size_bytes(self, path: Path) -> int:
        """The generation being served."""
        from procsearch.index.store import current_generation

        return directory_size(current_generation(path))

    def console_command(self, index: Path, query: str) -> list[str] | None:
        return [str(CONSOLE_SCRIPT), "--index", str(index), "search", query, "--limit", str(LIMIT)]
