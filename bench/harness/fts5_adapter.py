"""SQLite FTS5 on the same records: a column per field, porter stemming, bm25() with procsearch's weights."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .engines import LIMIT, RecordsAdapter
from .queries import query_words
from .records import field_names, read_settings, write_settings

SNIPPET_TOKENS = 32
"""FTS5 snippets are counted in tokens: 32 tokens is about 220 characters of this text."""
TOKENIZER = "porter unicode61"


def fts5_match(text: str) -> str:
    """``"w1" OR "w2" ...``: every word a quoted FTS5 string (a phrase of its tokens)."""
    return " OR ".join(f'"{word}"' for word in query_words(text, drop='"'))


def write_fts5(target: Path, records: Iterable[dict[str, str]]) -> dict[str, Any]:
    """One FTS5 table, a column per field; one transaction, then 'optimize'."""
    names = field_names()
    target.mkdir(parents=True)
    columns = ", ".join(f'"{name}"' for name in names)
    connection = sqlite3.connect(target / "index.db")
    try:
        connection.execute(f"CREATE VIRTUAL TABLE docs USING fts5({columns}, tokenize='{TOKENIZER}')")
        rows = ([fields[name] or None for name in names] for fields in records)
        with connection:
            connection.executemany(f"INSERT INTO docs ({columns}) VALUES ({', '.join('?' * len(names))})", rows)
        with connection:
            connection.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        count = connection.execute("SELECT count(*) FROM docs").fetchone()[0]
    finally:
        connection.close()
    write_settings(target)
    return {"documents": count, "detail": {"tokenizer": TOKENIZER, "optimize": True}}


class Fts5Searcher:
    """The FTS5 table: bm25() with the field weights, snippet() from the best-matching column."""

    def __init__(self, directory: Path) -> None:
        settings = read_settings(directory)
        path = (directory / "index.db").resolve()
        self.connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        weights = ", ".join(repr(float(settings["weights"][name])) for name in settings["fields"])
        self.sql = (
            f"SELECT code, snippet(docs, -1, '<b>', '</b>', '...', {SNIPPET_TOKENS}) FROM docs "
            f"WHERE docs MATCH ? ORDER BY bm25(docs, {weights}) LIMIT {LIMIT}"
        )

    def search(self, text: str) -> list[tuple[str, str]]:
        match = fts5_match(text)
        if not match:
            raise ValueError(f"no words in {text!r}")
        return self.connection.execute(self.sql, (match,)).fetchall()


class Fts5Adapter(RecordsAdapter):
    name = "fts5"
    label = "SQLite FTS5"
    description = (
        f"{TOKENIZER}, bm25() with procsearch's field weights, snippet() {SNIPPET_TOKENS} tokens; "
        "each query as an OR of its quoted words"
    )

    def write(self, target: Path, records: Iterable[dict[str, str]]) -> dict[str, Any]:
        return write_fts5(target, records)

    def open(self, path: Path) -> Fts5Searcher:
        return Fts5Searcher(path)
