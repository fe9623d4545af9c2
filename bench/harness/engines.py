"""The engines the scale benchmark compares, one adapter each, and what an adapter provides.

An adapter builds its index from the benchmark's sources (inside a child process), opens it
once for searching, says how big it is on disk and, where the engine has one, names the command
line a user would run for one search (the others get a minimal Python process).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

LIMIT = 10
"""Every engine returns its top 10, with snippets."""


class Searcher(Protocol):
    """One engine, opened once: ``search`` returns the top LIMIT as (code, snippet) pairs."""

    def search(self, text: str) -> list[tuple[str, str]]: ...


class Adapter(Protocol):
    name: str
    label: str
    description: str
    """How the engine is set up and queried, for the report's notes."""

    def build(self, target: Path, sources: Sequence[str]) -> dict[str, Any]:
        """Build the index at ``target`` (in the build child): seconds, indexing_seconds,
        rss_after_reading_mb, documents, detail."""
        ...

    def open(self, path: Path) -> Searcher: ...

    def size_bytes(self, path: Path) -> int: ...

    def console_command(self, index: Path, query: str) -> list[str] | None:
        """The engine's own command for one search, or None (then a minimal Python process)."""
        ...


def adapters() -> dict[str, Adapter]:
    """Every engine's adapter by name, procsearch first."""
    from .fts5_adapter import Fts5Adapter
    from .procsearch_adapter import ProcsearchAdapter
    from .tantivy_adapter import TantivyAdapter

    found: list[Adapter] = [ProcsearchAdapter(), Fts5Adapter(), TantivyAdapter()]
    return {adapter.name: adapter for adapter in found}


class RecordsAdapter:
    """Base of the adapters of engines that index the benchmark's records into one folder (FTS5,
    Tantivy): a subclass writes the field texts and opens the index; reading the records and
    timing them is :func:`records.build_from_records`."""

    name: str
    label: str
    description: str

    def write(self, target: Path, records: Iterable[dict[str, str]]) -> dict[str, Any]:
        raise NotImplementedError

    def open(self, path: Path) -> Searcher:
        raise NotImplementedError

    def build(self, target: Path, sources: Sequence[str]) -> dict[str, Any]:
        from .records import build_from_records

        return build_from_records(self.write, target, sources)

    def size_bytes(self, path: Path) -> int:
        return directory_size(path)

    def console_command(self, index: Path, query: str) -> list[str] | None:
        return None


def directory_size(path: Path) -> int:
    """Bytes on disk (apparent file sizes) of every file under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
