"""The records every engine indexes and the text of each field, both from procsearch itself.

The records are what ``build_index`` reads (:func:`procsearch.index.build.collect_docs`), and a
field's text is what ``to_fields`` gives Whoosh, so FTS5 and Tantivy index exactly what procsearch
does, and a change to what procsearch indexes reaches every engine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from procsearch.ingest.record import ProcedureDoc

CODE_WEIGHT = 10.0
"""Weight of the code column in FTS5 and Tantivy; procsearch puts an exact code first anyway."""
SETTINGS_FILE = "bench-settings.json"
"""Written next to the FTS5 and Tantivy indexes: their fields and weights, so a cold search
process needs neither procsearch's build code nor the records."""


def read_records(sources: Sequence[str]) -> list[ProcedureDoc]:
    """The records ``build_index(bundled corpus, sources=sources)`` indexes, read the same way."""
    from procsearch.corpus import bundled_corpus
    from procsearch.index.build import collect_docs

    docs, _skipped, _counts, _batch = collect_docs(bundled_corpus(), sources)
    return docs


def field_names() -> tuple[str, ...]:
    """code, then procsearch's searched text fields: title, names, the sections, other, similar."""
    from procsearch.index.schema import TEXT_FIELDS

    return ("code", *TEXT_FIELDS)


def field_weights() -> dict[str, float]:
    """procsearch's default field weights, plus the code column's."""
    from procsearch.search.weights import DEFAULT_WEIGHTS

    return {"code": CODE_WEIGHT, **{name: float(w) for name, w in DEFAULT_WEIGHTS.items()}}


def snippet_fields() -> list[str]:
    """The fields procsearch takes snippets from, highest weight first (ties in display order)."""
    from procsearch.index.schema import SNIPPET_FIELDS

    weights = field_weights()
    return sorted(SNIPPET_FIELDS, key=lambda name: (-weights.get(name, 0.0), SNIPPET_FIELDS.index(name)))


def field_texts(doc: ProcedureDoc) -> dict[str, str]:
    """The text each field gets from a record: procsearch's ``to_fields``, every field named."""
    from procsearch.index.documents import to_fields

    fields = to_fields(doc)
    return {name: fields.get(name, "") for name in field_names()}


class TextsClock:
    """The records' field texts, one at a time, with the seconds spent making them
    (``to_fields`` also works out the spelling words, which FTS5 and Tantivy do not use)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def texts(self, docs: Iterable[ProcedureDoc]) -> Iterator[dict[str, str]]:
        for doc in docs:
            started = time.perf_counter()
            texts = field_texts(doc)
            self.seconds += time.perf_counter() - started
            yield texts


def build_from_records(
    write: Callable[[Path, Iterable[dict[str, str]]], dict[str, Any]], target: Path, sources: Sequence[str]
) -> dict[str, Any]:
    """Read the records, then ``write(target, field texts)`` them into another engine's index,
    timed as procsearch's build is: the whole build, and the indexing alone (after every record
    was read, less the time ``to_fields`` took, which procsearch's indexing needs but theirs not)."""
    from .memory import rss_mb

    started = time.perf_counter()
    docs = read_records(sources)
    read_done, rss_after_reading = time.perf_counter(), rss_mb()
    clock = TextsClock()
    result = write(target, clock.texts(docs))
    ended = time.perf_counter()
    result["seconds"] = ended - started
    result["indexing_seconds"] = ended - read_done - clock.seconds
    result["rss_after_reading_mb"] = rss_after_reading
    result["detail"].update(
        records_read=len(docs), texts_from="procsearch.index.documents.to_fields", field_texts_seconds=clock.seconds
    )
    return result


def write_settings(directory: Path) -> None:
    """Record the fields, weights and snippet length next to an FTS5 or Tantivy index."""
    from procsearch.search.snippets import SNIPPET_CHARS

    settings = {
        "fields": list(field_names()),
        "weights": field_weights(),
        "snippet_fields": snippet_fields(),
        "snippet_chars": SNIPPET_CHARS,
    }
    (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def read_settings(directory: Path) -> dict[str, Any]:
    """The fields, weights and snippet length an FTS5 or Tantivy index was built with."""
    settings: dict[str, Any] = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
    return settings
