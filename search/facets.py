"""Facets: documents counted per code system and group (for ``search --facets`` and ``stats``),
and the other whole-index reads: the index's statistics and every document's headings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from whoosh.searching import Searcher

from .results import IndexStats

NONE_LABEL = "(none)"
"""The bucket of documents with no code system or no group."""


def count_facets(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Counts per code system and group over ``records`` (stored fields), most common first."""
    systems: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    for stored in records:
        systems[stored.get("code_system") or NONE_LABEL] += 1
        groups[stored.get("group") or NONE_LABEL] += 1
    return {"code_system": dict(systems.most_common()), "group": dict(groups.most_common())}


def facets_of(reader: Any, docnums: Iterable[int]) -> dict[str, dict[str, int]]:
    """Facet counts over some documents of an open index."""
    return count_facets(reader.stored_fields(docnum) for docnum in docnums)


def index_stats(searcher: Searcher, index_path: Path, generation: Path, meta: Any) -> IndexStats:
    """``procsearch stats``: the counts by code system and group, and what the index says about itself."""
    counts = count_facets(searcher.reader().all_stored_fields())
    size = sum(p.stat().st_size for p in generation.iterdir() if p.is_file())
    return IndexStats(
        index_path=str(index_path),
        generation=generation.name,
        document_count=searcher.doc_count(),
        by_system=counts["code_system"],
        by_group=counts["group"],
        schema_version=meta.schema_version,
        package_version=meta.package_version,
        whoosh_version=meta.whoosh_version,
        built_at=meta.built_at,
        size_bytes=size,
        sources=dict(meta.sources),
        releases=dict(meta.releases),
    )


def headings_of(searcher: Searcher) -> list[tuple[str, str, str, tuple[str, ...], str]]:
    """Every document's code, code system, title, common names and source, in one pass."""
    return [
        (
            str(stored["code"]),
            str(stored.get("code_system", "")),
            str(stored.get("title", "")),
            tuple(n for n in str(stored.get("names", "")).split("\n") if n),
            str(stored.get("source", "")),
        )
        for stored in searcher.reader().all_stored_fields()
    ]
