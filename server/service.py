"""One worker's view of the index: the engine, on a thread of its own, the completion table and the stats."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ..index.store import current_generation
from ..search.engine import SearchEngine
from ..search.results import IndexStats
from .suggest import CompletionTable, Heading, Suggestions, load_table

T = TypeVar("T")

log = logging.getLogger("procsearch.server")

MAX_TABLE_TRIES = 3
"""Times a completion table is read again when a new generation is published meanwhile."""

log = logging.getLogger("procsearch.server")


class _GenerationMoved(Exception):
    """A new generation was published while the completion table was being read."""


class Service:
    """One worker's view of the index: the engine (opened on first use, so a server started
    before its index is built answers 503 until it is), the completion table and the stats of
    the generation served. The engine itself follows new generations; the table is rebuilt in
    the background when one appears, and the previous table answers meanwhile.

    Engine calls run one at a time anyway (see SearchEngine), so they run on one thread of
    their own: more threads would only contend for the interpreter lock with the event loop,
    which answers suggestions from the in-memory table without waiting for a search."""

    def __init__(self, index_path: Path) -> None:
        self.index_path = Path(index_path)
        self._engine: SearchEngine | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="procsearch-engine")
        self._lock = threading.Lock()
        self._table: tuple[str, CompletionTable] | None = None
        self._table_lock = threading.Lock()
        self._rebuilding = False
        self._stats: tuple[str, IndexStats] | None = None

    def engine(self) -> SearchEngine:
        with self._lock:
            if self._engine is None:
                self._engine = SearchEngine(self.index_path)
            return self._engine

    async def run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call(engine, *args, **kwargs)`` on the engine's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: call(self.engine(), *args, **kwargs))

    async def suggest(self, query: str, limit: int) -> Suggestions:
        """Completions from the table in memory; the first table is loaded on the engine's thread."""
        if self._table is None:
            await self.run(lambda engine: self.completions())
        return self.completions().suggest(query, limit=limit)

    def generation(self) -> str:
        return current_generation(self.index_path).name

    def completions(self) -> CompletionTable:
        if self._table is None:
            with self._table_lock:
                if self._table is None:
                    self._table = self._load_table()
            return self._table[1]
        if self._table[0] != self.generation() and not self._rebuilding:
            self._rebuilding = True
            threading.Thread(target=self._refresh, name="procsearch-completions", daemon=True).start()
        return self._table[1]

    def _refresh(self) -> None:
        try:
            with self._table_lock:
                self._table = self._load_table()
        except Exception:  # the old table keeps answering; the next request tries again
            log.exception("could not rebuild the completion table")
        finally:
            self._rebuilding = False

    def _load_table(self) -> tuple[str, CompletionTable]:
        """The current generation's table (cached on disk under its name). Should a writer
        publish another generation while it is read, it is read again for the new one."""
        engine = self.engine()
        abbreviations = [
            (" ".join(term), meaning)
            for term, entries in engine.vocabulary.phrases.items()
            for meaning, kind in entries
            if kind == "abbreviation"
        ]
        for _ in range(MAX_TABLE_TRIES):
            generation = self.generation()

            def read(generation: str = generation) -> list[Heading]:
                served, rows = engine.headings()
                if served != generation:
                    raise _GenerationMoved(served)
                return rows

            try:
                return generation, load_table(self.index_path, generation, read, abbreviations)
            except _GenerationMoved:
                continue
        served, rows = engine.headings()  # generations keep coming: build this one, uncached
        return served, CompletionTable.build(rows, abbreviations)

    def stats(self) -> IndexStats:
        generation = self.generation()
        if self._stats is None or self._stats[0] != generation:
            stats = self.engine().stats()
            self._stats = (stats.generation, stats)
        return self._stats[1]

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._engine is not None:
            self._engine.close()
