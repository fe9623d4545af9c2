"""Facets: documents counted per code system and group (for ``search --facets`` and ``stats``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

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
