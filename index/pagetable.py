"""The page table of a generation: what the set-wide page rules know of every indexed page.

A re-index reads only the pages that changed, yet site boilerplate and unique ids depend on all
of them (:mod:`..ingest.pageset`); the table, stored next to the index, holds the rest. It is
JSON (never pickled) and small: a few fingerprints per page.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from ..ingest.pageset import PageEntry

FILE = "pages.json"
VERSION = 1


def write_page_table(directory: Path, entries: Mapping[str, PageEntry], boilerplate: frozenset[str]) -> None:
    """Write the table into a generation being built (publishing flushes it to disk). The file
    is replaced, never rewritten: in a re-index it is a hard link to the previous generation's."""
    data = {
        "version": VERSION,
        "boilerplate": sorted(boilerplate),
        "pages": {source: entries[source].to_json() for source in sorted(entries)},
    }
    temporary = directory / f"{FILE}.tmp"
    temporary.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(temporary, directory / FILE)


def read_page_table(directory: Path) -> tuple[dict[str, PageEntry], frozenset[str]] | None:
    """The table of a published generation, or None when it has none (an index built before
    tables existed, or one whose table cannot be read: a re-index then rebuilds)."""
    try:
        data = json.loads((directory / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("pages"), dict):
        return None
    entries = {
        str(source): PageEntry.from_json(entry) for source, entry in data["pages"].items() if isinstance(entry, dict)
    }
    return entries, frozenset(str(p) for p in data.get("boilerplate") or [])
